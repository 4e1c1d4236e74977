import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfraError } from '../util/errors.js';
import { run } from '../util/exec.js';

/** How an image is laid out on disk. */
export type ArchiveFormat = 'docker-archive' | 'oci-archive' | 'oci-dir';

/** An archive made readable by a scanner, and how to tidy up after it. */
export interface PreparedArchive {
  /** A docker-archive tarball or an OCI layout directory. */
  path: string;
  format: Exclude<ArchiveFormat, 'oci-archive'>;
  cleanup(): Promise<void>;
}

/**
 * Tells a docker-archive (`docker save`, has `manifest.json`) from an oci-archive (a tarred OCI layout, has
 * `index.json`) or an OCI layout directory, by listing the tarball rather than trusting its name.
 */
export async function detectArchiveFormat(path: string): Promise<ArchiveFormat> {
  const info = await stat(path).catch((error: Error) => {
    throw new InfraError(`cannot read the image archive ${path}: ${error.message}`);
  });
  if (info.isDirectory()) return 'oci-dir';
  const { stdout } = await run('tar', ['-tf', path], { timeoutMs: 120_000 });
  const entries = new Set(stdout.split('\n').map((line) => line.trim().replace(/^\.\//, '')));
  if (entries.has('manifest.json')) return 'docker-archive';
  if (entries.has('index.json')) return 'oci-archive';
  throw new InfraError(
    `${path} is not an image archive: expected manifest.json (docker-archive) or index.json (oci-archive) in it`,
  );
}

/**
 * Makes an image archive readable by trivy, whose `--input` takes a docker-archive or an OCI layout
 * directory but not an oci-archive tarball (it fails with "file manifest.json not found in tar"). An
 * oci-archive is unpacked into a temporary OCI layout directory, removed by `cleanup()`.
 */
export async function prepareArchive(path: string): Promise<PreparedArchive> {
  const format = await detectArchiveFormat(path);
  if (format !== 'oci-archive') return { path, format, cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'gantry-oci-'));
  try {
    await run('tar', ['-xf', path, '-C', dir], { timeoutMs: 300_000 });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { path: dir, format: 'oci-dir', cleanup: () => rm(dir, { recursive: true, force: true }) };
}
