// buildah is a tool, not a server: this component gives the sandbox its own image store (vfs driver, which
// works everywhere without privileges or fuse), so tests never touch or depend on the machine's storage.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const name = 'buildah';

export async function start({ stateDir }) {
  const root = join(stateDir, 'containers');
  mkdirSync(join(root, 'storage'), { recursive: true });
  mkdirSync(join(root, 'run'), { recursive: true });
  const conf = join(root, 'storage.conf');
  writeFileSync(
    conf,
    [
      '[storage]',
      'driver = "vfs"',
      `graphroot = "${join(root, 'storage')}"`,
      `runroot = "${join(root, 'run')}"`,
      '',
    ].join('\n'),
  );
  return { pids: [], env: { CONTAINERS_STORAGE_CONF: conf, BUILDAH_ISOLATION: 'chroot' } };
}
