import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from '../../src/util/exec.js';

// Tiny test images built with buildah from local files only (no base image can be pulled in the sandbox).
// The vfs driver and chroot isolation work without privileges or a daemon; inside the sandbox,
// CONTAINERS_STORAGE_CONF points buildah at the sandbox's own image store.
const buildah = (args: string[]) =>
  run('buildah', ['--storage-driver', 'vfs', ...args], { timeoutMs: 300_000 });

/**
 * Writes a build context: each file under `rootfs/` (path → content) and a Containerfile
 * `FROM scratch` + `COPY rootfs/ /` + `instructions`. The Containerfile itself stays out of the image,
 * so a scan sees only the files given. Returns the context directory.
 */
export function writeImageContext(files: Record<string, string>, instructions: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-image-'));
  for (const [path, content] of Object.entries(files)) {
    const file = join(dir, 'rootfs', path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  mkdirSync(join(dir, 'rootfs'), { recursive: true });
  writeFileSync(
    join(dir, 'Containerfile'),
    ['FROM scratch', 'COPY rootfs/ /', ...instructions, ''].join('\n'),
  );
  return dir;
}

/** Builds the context in `dir` (with its Containerfile or Dockerfile) into the local image `tag`. */
export async function buildTestImage(dir: string, tag: string): Promise<void> {
  await buildah(['bud', '--isolation', 'chroot', '--quiet', '--tag', tag, dir]);
}

/** Exports the local image `tag` as an oci-archive tarball at `path` (what `gantry scan` does). */
export async function exportArchive(tag: string, path: string): Promise<void> {
  await buildah(['push', '--quiet', tag, `oci-archive:${path}`]);
}

/** Pushes the local image `tag` to `ref` on a plain-HTTP registry (the sandbox's). */
export async function pushTestImage(tag: string, ref: string): Promise<void> {
  await buildah(['push', '--quiet', '--tls-verify=false', tag, `docker://${ref}`]);
}

/** Removes the local image `tag`; a missing image is not an error. */
export async function removeTestImage(tag: string): Promise<void> {
  await run('buildah', ['--storage-driver', 'vfs', 'rmi', '--force', tag], { allowFailure: true });
}
