import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registryCredentials } from '../registry/auth.js';
import { hostOf, isInsecure } from '../registry/hosts.js';
import { remotePlatforms } from '../registry/manifest.js';
import { exportForScan, exportPlatform, locateLocalImage } from '../store/index.js';
import { InputError } from '../util/errors.js';
import { log } from '../util/log.js';
import { scanImage } from './index.js';
import type { ScanOptions, ScanResult, ScanTarget } from './types.js';

/** What {@link scanImageRef} is asked: a reference, local or in a registry, and the scan's options. */
export interface ImageScanRequest extends Omit<ScanOptions, 'target' | 'platforms'> {
  ref: string;
  insecureRegistries: string[];
  /** Scan only these platforms of a multi-platform image; default every platform it has. */
  platforms?: string[];
}

/**
 * Scans an image wherever it is. A locally built image (buildah's storage, the Docker daemon, Gantry's OCI
 * layout store) is exported and scanned on disk, never pushed anywhere first, so the scan can gate the push;
 * anything else is read from its registry, with the credentials Gantry has for it. A multi-platform image is
 * scanned once per platform (or the platforms asked for) and reported per platform.
 */
export async function scanImageRef(request: ImageScanRequest): Promise<ScanResult> {
  const { ref, insecureRegistries, platforms: wanted = [], ...options } = request;
  const work = await mkdtemp(join(tmpdir(), 'gantry-scan-'));
  try {
    const local = await locateLocalImage(ref);
    if (local) {
      log.info(`exporting local image ${ref} (${local.store}) for scanning`);
      const input = await exportForScan(local, work);
      const chosen = choosePlatforms(
        ref,
        input.platforms.map((entry) => entry.platform),
        wanted,
      );
      const platforms = [];
      for (const [n, platform] of (chosen ?? []).entries()) {
        const archive = await exportPlatform(input.path, platform, join(work, `platform-${n}`));
        platforms.push({ platform, target: { ref, archive } });
      }
      return await scanImage({ ...options, target: { ref, archive: input.path }, platforms });
    }
    const host = hostOf(ref);
    const target: ScanTarget = {
      ref,
      insecure: isInsecure(host, insecureRegistries),
      credentials: await registryCredentials(host),
    };
    const chosen = choosePlatforms(ref, await remotePlatforms(ref, insecureRegistries), wanted);
    const platforms = (chosen ?? []).map((platform) => ({ platform, target: { ...target, platform } }));
    return await scanImage({ ...options, target, platforms });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The platforms to scan: every platform of a multi-platform image, or those asked for (each must be one of
 * them); none for a single-platform image, which is scanned as it is.
 * @throws InputError naming `--platform` for a platform the image does not have
 */
export function choosePlatforms(ref: string, available: string[], wanted: string[]): string[] | undefined {
  if (available.length === 0) return undefined;
  if (wanted.length === 0) return available;
  const missing = wanted.filter((platform) => !available.includes(platform));
  if (missing.length > 0) {
    throw new InputError('--platform', `${ref} has no ${missing.join(', ')}; it has ${available.join(', ')}`);
  }
  return wanted;
}
