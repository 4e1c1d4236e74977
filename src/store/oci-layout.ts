import { createHash } from 'node:crypto';
import { existsSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/**
 * Gantry's store of OCI image layouts, for images built where there is no local image store to keep them: a
 * buildx builder with the `remote`, `docker-container` or `kubernetes` driver exports its result as an OCI
 * layout here, and `scan` and `push` read it from here — so a scan can gate the push, as with buildah or the
 * docker driver. The store is a directory of layouts (`build-*`), one per build, and a link per image
 * reference (named by the reference's hash) to the layout that holds it.
 *
 * Where: GANTRY_IMAGE_STORE, else RUNNER_TEMP/gantry-images on GitHub Actions (one directory for the whole job,
 * emptied after it), else <tmpdir>/gantry-images.
 */
export function imageStoreRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GANTRY_IMAGE_STORE) return env.GANTRY_IMAGE_STORE;
  return join(env.RUNNER_TEMP ?? tmpdir(), 'gantry-images');
}

const linkName = (ref: string) => `ref-${createHash('sha256').update(ref).digest('hex').slice(0, 32)}`;

/** A fresh, empty directory in the store for a build to export its OCI layout into. */
export async function newLayoutDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const root = imageStoreRoot(env);
  await mkdir(root, { recursive: true, mode: 0o700 });
  return mkdtemp(join(root, 'build-'));
}

/**
 * Adds an image to the store: `write` exports it as an OCI layout into a fresh directory, which then holds
 * every reference in `refs`. Returns the image's digest (its index's, for several platforms); a failed
 * export leaves nothing behind.
 */
export async function addToStore(
  refs: readonly string[],
  write: (dest: string) => Promise<unknown>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const dest = await newLayoutDir(env);
  try {
    await write(dest);
    const { digest } = await describeLayout(dest);
    await recordLayout(dest, refs, env);
    return digest;
  } catch (error) {
    await rm(dest, { recursive: true, force: true });
    throw error;
  }
}

/** Points each reference at `layout` (replacing what it pointed at before). */
export async function recordLayout(
  layout: string,
  refs: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const root = imageStoreRoot(env);
  for (const ref of refs) {
    const temp = join(root, `.${linkName(ref)}.${process.pid}`);
    await rm(temp, { force: true });
    await symlink(basename(layout), temp);
    await rename(temp, join(root, linkName(ref)));
  }
}

/** Drops the references from the store (a later build of the same name went to another store). */
export async function forgetRefs(
  refs: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const root = imageStoreRoot(env);
  if (!existsSync(root)) return;
  for (const ref of refs) await rm(join(root, linkName(ref)), { force: true });
}

/** The OCI layout directory holding `ref`, when the store has it. */
export function findLayout(ref: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const link = join(imageStoreRoot(env), linkName(ref));
  try {
    const target = join(imageStoreRoot(env), readlinkSync(link));
    return existsSync(join(target, 'index.json')) ? target : undefined;
  } catch {
    return undefined;
  }
}

/** One entry of an image index: a platform's manifest. */
export interface PlatformManifest {
  digest: string;
  mediaType: string;
  /** `os/arch[/variant]`. */
  platform: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

/** Whether a media type is a multi-platform image: an OCI index or a Docker manifest list. */
export const isIndexType = (mediaType: string | undefined): boolean => INDEX_TYPES.has(mediaType ?? '');

/**
 * The platforms of an index or manifest list, in its order. Attestation manifests (platform
 * unknown/unknown, as buildx writes for provenance) are not platforms.
 */
export function indexPlatforms(index: { manifests?: Descriptor[] }): PlatformManifest[] {
  return (index.manifests ?? [])
    .filter((m) => m.platform && m.platform.os !== 'unknown')
    .map((m) => ({
      digest: m.digest,
      mediaType: m.mediaType,
      platform: [m.platform!.os, m.platform!.architecture, m.platform!.variant].filter(Boolean).join('/'),
    }));
}

async function readBlob(layout: string, digest: string): Promise<Buffer> {
  const [algorithm, hex] = digest.split(':');
  return readFile(join(layout, 'blobs', algorithm!, hex!));
}

/**
 * The image a layout holds: its top descriptor's digest (a manifest, or an index for a multi-platform
 * image) and, for an index, each platform's manifest.
 */
export async function describeLayout(
  layout: string,
): Promise<{ digest: string; mediaType: string; platforms: PlatformManifest[] }> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  if (index.manifests.length !== 1) {
    throw new Error(`${layout}: expected one image in the OCI layout, found ${index.manifests.length}`);
  }
  const top = index.manifests[0]!;
  if (!isIndexType(top.mediaType)) return { digest: top.digest, mediaType: top.mediaType, platforms: [] };
  const inner = JSON.parse((await readBlob(layout, top.digest)).toString('utf8')) as {
    manifests: Descriptor[];
  };
  return { digest: top.digest, mediaType: top.mediaType, platforms: indexPlatforms(inner) };
}
