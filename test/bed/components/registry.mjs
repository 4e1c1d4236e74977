// A real OCI registry (Debian's docker-registry, i.e. distribution v2) on 127.0.0.1, filesystem storage.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, httpOk, spawnDaemon, waitFor } from '../lib.mjs';

export const name = 'registry';

export async function start({ stateDir }) {
  const port = Number(process.env.GANTRY_TESTBED_REGISTRY_PORT ?? (await freePort()));
  const root = join(stateDir, 'registry-data');
  mkdirSync(root, { recursive: true });
  const config = join(stateDir, 'registry.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${root}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const pid = spawnDaemon(stateDir, 'registry', 'docker-registry', ['serve', config]);
  await waitFor(`registry on 127.0.0.1:${port}`, () => httpOk(`http://127.0.0.1:${port}/v2/`), 20000);
  return { pids: [pid], env: { REGISTRY: `127.0.0.1:${port}` } };
}
