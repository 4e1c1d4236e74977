// trivy is a tool, not a server: this component only points it at the sandbox's own vulnerability database
// (built by test/bed/trivydb from test/bed/trivydb/advisories.yaml) and keeps it offline.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../lib.mjs';

export const name = 'trivy';

export async function start() {
  const cacheDir = join(cacheRoot, 'trivy-cache');
  if (!existsSync(join(cacheDir, 'db', 'trivy.db'))) {
    throw new Error(`no trivy database in ${cacheDir}; run \`npm run setup\``);
  }
  return {
    pids: [],
    env: {
      TRIVY_CACHE_DIR: cacheDir,
      TRIVY_SKIP_DB_UPDATE: 'true',
      TRIVY_SKIP_JAVA_DB_UPDATE: 'true',
      TRIVY_SKIP_CHECK_UPDATE: 'true',
      TRIVY_OFFLINE_SCAN: 'true',
      TRIVY_NO_PROGRESS: 'true',
      TRIVY_DISABLE_VEX_NOTICE: 'true',
    },
  };
}
