// grype is a tool, not a server: this component only points it at the sandbox's own vulnerability database
// (built by test/bed/install-grype.sh from test/bed/trivydb/advisories.yaml) and keeps it offline.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../lib.mjs';

export const name = 'grype';

export async function start() {
  const cacheDir = join(cacheRoot, 'grype-cache');
  if (!existsSync(join(cacheDir, '6', 'vulnerability.db'))) {
    throw new Error(`no grype database in ${cacheDir}; run \`npm run setup\``);
  }
  return {
    pids: [],
    env: {
      GRYPE_DB_CACHE_DIR: cacheDir,
      GRYPE_DB_AUTO_UPDATE: 'false',
      GRYPE_DB_VALIDATE_AGE: 'false',
      GRYPE_CHECK_FOR_APP_UPDATE: 'false',
    },
  };
}
