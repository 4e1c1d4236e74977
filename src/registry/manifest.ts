import { type Descriptor, indexPlatforms, isIndexType } from '../store/oci-layout.js';
import { run } from '../util/exec.js';
import { prepareAuthFile } from './auth.js';
import { hostOf, isInsecure } from './hosts.js';
import { imageNotFoundAsInput } from './not-found.js';

/**
 * The platforms (`linux/amd64`, `linux/arm64/v8`, …) of a registry image that is a manifest list or an OCI
 * index, read from its raw manifest; empty for a single-platform image. Attestation entries
 * (`unknown/unknown`) are not platforms.
 * @throws InputError naming `input` when the registry has no such image
 */
export async function remotePlatforms(
  ref: string,
  insecureRegistries: string[],
  input = '--image',
): Promise<string[]> {
  const auth = await prepareAuthFile();
  try {
    const tls = isInsecure(hostOf(ref), insecureRegistries) ? ['--tls-verify=false'] : [];
    const { stdout } = await run('skopeo', [
      'inspect',
      '--raw',
      '--retry-times',
      '2',
      '--authfile',
      auth.path,
      ...tls,
      `docker://${ref}`,
    ]).catch((error) => {
      throw imageNotFoundAsInput(error, ref, input);
    });
    return platformsOf(JSON.parse(stdout));
  } finally {
    await auth.dispose();
  }
}

/** The platforms listed by an index or manifest list (none for a plain manifest). */
export function platformsOf(manifest: { mediaType?: string; manifests?: Descriptor[] }): string[] {
  if (manifest.mediaType && !isIndexType(manifest.mediaType)) return [];
  return indexPlatforms(manifest).map((entry) => entry.platform);
}
