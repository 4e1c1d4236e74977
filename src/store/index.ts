/**
 * Where a locally built image lives before it is pushed, and how the scan and push stages read it from there:
 * buildah's storage (buildah builds), the Docker daemon (buildx with the docker driver, `--load`), or Gantry's
 * OCI layout store (buildx builders with no local store, multi-platform buildah builds). Each stage asks
 * `locateLocalImage()`; an image found nowhere is taken to be a registry reference.
 */
import { join } from 'node:path';
import { run } from '../util/exec.js';
import { describeLayout, findLayout, type PlatformManifest } from './oci-layout.js';

export type { PlatformManifest } from './oci-layout.js';

export type LocalImage =
  /** In buildah's storage; `list` for a manifest list (a multi-platform build). */
  | { store: 'buildah'; ref: string; list: boolean }
  /** In the Docker daemon that DOCKER_HOST (or the default socket) names. */
  | { store: 'docker'; ref: string }
  /** An OCI layout directory in Gantry's image store. */
  | { store: 'oci-layout'; ref: string; layout: string };

/** An image as a scanner reads it without a registry. */
export interface ScanInput {
  /** A docker-archive tarball or an OCI layout directory. */
  path: string;
  /** The platforms of a multi-platform image (empty for a single image). */
  platforms: PlatformManifest[];
}

/** Finds `ref` among the local stores: Gantry's OCI layouts, then buildah's storage, then the Docker daemon. */
export async function locateLocalImage(
  ref: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocalImage | undefined> {
  const layout = findLayout(ref, env);
  if (layout) return { store: 'oci-layout', ref, layout };
  const buildah = await run('buildah', ['inspect', '--type', 'image', '--format', '{{.FromImageID}}', ref], {
    allowFailure: true,
  }).catch(() => undefined);
  if (buildah?.exitCode === 0) {
    const list = await run('buildah', ['manifest', 'inspect', ref], { allowFailure: true }).catch(
      () => undefined,
    );
    return { store: 'buildah', ref, list: list?.exitCode === 0 };
  }
  const docker = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', ref], {
    allowFailure: true,
    timeoutMs: 15_000,
  }).catch(() => undefined);
  if (docker?.exitCode === 0) return { store: 'docker', ref };
  return undefined;
}

/**
 * Makes a local image readable by a scanner, in `dir` (a temporary directory the caller removes): an OCI
 * layout for buildah images (a manifest list with every platform), a `docker save` archive for the Docker
 * daemon, and the stored layout itself for the OCI store (read, never written).
 */
export async function exportForScan(image: LocalImage, dir: string): Promise<ScanInput> {
  switch (image.store) {
    case 'oci-layout':
      return { path: image.layout, platforms: (await describeLayout(image.layout)).platforms };
    case 'buildah': {
      const path = join(dir, 'oci');
      const args = image.list
        ? ['manifest', 'push', '--all', '--quiet', image.ref, `oci:${path}`]
        : ['push', '--quiet', image.ref, `oci:${path}`];
      await run('buildah', args, { timeoutMs: 30 * 60_000 });
      return { path, platforms: (await describeLayout(path)).platforms };
    }
    case 'docker': {
      const path = join(dir, 'image.tar');
      await run('docker', ['image', 'save', '--output', path, image.ref], { timeoutMs: 30 * 60_000 });
      return { path, platforms: [] };
    }
  }
}

/**
 * One platform of a multi-platform OCI layout, copied into a single-image OCI layout at `dest` (blobs as they
 * are): trivy reads only the first platform of an index given with `--input`, whatever `--platform` says.
 */
export async function exportPlatform(layout: string, platform: string, dest: string): Promise<string> {
  const [os, arch, variant] = platform.split('/');
  await run(
    'skopeo',
    [
      'copy',
      '--quiet',
      '--override-os',
      os!,
      '--override-arch',
      arch!,
      ...(variant ? ['--override-variant', variant] : []),
      `oci:${layout}`,
      `oci:${dest}`,
    ],
    { timeoutMs: 30 * 60_000 },
  );
  return dest;
}
