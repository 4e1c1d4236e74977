import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageName, parseImageReference } from '../context/reference.js';
import { type LocalImage, locateLocalImage } from '../store/index.js';
import { copySignatures } from '../supply/copy.js';
import { InfraError, messageOf } from '../util/errors.js';
import { run } from '../util/exec.js';
import { log } from '../util/log.js';
import { prepareAuthFile } from './auth.js';
import { hostOf, isInsecure } from './hosts.js';
import { imageNotFoundAsInput } from './not-found.js';
import { assertReachable } from './reachability.js';
import { type RetryPolicy, withRetries } from './retry.js';

export interface PushRequest {
  /** A local image name (buildah, the Docker daemon, Gantry's OCI store) or a registry reference. */
  source: string;
  /** Destination references; each receives the same manifest, byte for byte. */
  destinations: string[];
  insecureRegistries: string[];
  retry: RetryPolicy;
}

export interface PushResult {
  digest: string;
  /** Every destination, as pushed (`repo:tag`). */
  refs: string[];
  /** Where the image came from: local storage, or a registry (copied by digest). */
  sourceKind: 'local' | 'registry';
  /** For a local image, which store it was read from. */
  store?: LocalImage['store'];
  /** A registry image's signatures and attestations copied with it, per destination repository. */
  signatures?: { repository: string; referrers: number; legacyTags: number }[];
}

/**
 * Copies the source's signatures and attestations (cosign's referrers and legacy tags) to every destination
 * repository other than the source's own. The image itself is already there; a failure here fails the push
 * (exit 3), saying the image was copied and its evidence was not.
 */
async function copyEvidence(
  source: string,
  request: PushRequest,
): Promise<NonNullable<PushResult['signatures']>> {
  const from = imageName(parseImageReference(source, '--image'));
  const repositories = [
    ...new Set(request.destinations.map((d) => imageName(parseImageReference(d, '--to')))),
  ].filter((repository) => repository !== from);
  const copied: NonNullable<PushResult['signatures']> = [];
  for (const repository of repositories) {
    try {
      const result = await copySignatures(source, repository, request.insecureRegistries);
      if (result.referrers.length + result.legacyTags.length === 0) continue;
      log.info(
        `copied ${result.referrers.length} signature/attestation referrer(s) and ${result.legacyTags.length} legacy tag(s) to ${repository}`,
      );
      copied.push({
        repository,
        referrers: result.referrers.length,
        legacyTags: result.legacyTags.length,
      });
    } catch (error) {
      throw new InfraError(
        `the image was copied to ${repository}, but its signatures and attestations were not: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }
  return copied;
}

/**
 * Pushes a local image (buildah's storage, the Docker daemon or Gantry's OCI layout store: see src/store/), or
 * copies a registry image by digest, to every destination. All destinations must end with the same digest; a
 * failure on any destination fails the push (exit 3) and says which destinations were already written, so a
 * partial push is never reported as success. A multi-platform image (manifest list / OCI index) is pushed
 * whole, every platform and the index, and its digest is the index's.
 */
export async function pushImage(request: PushRequest): Promise<PushResult> {
  const hosts = new Set(request.destinations.map(hostOf));
  for (const host of hosts) await assertReachable(host, request.insecureRegistries);
  const auth = await prepareAuthFile();
  const work = await mkdtemp(join(tmpdir(), 'gantry-push-'));
  try {
    const local = await locateLocalImage(request.source);
    let registrySource = local ? undefined : await pinnedSource(request, auth.path);
    const digests = new Map<string, string>();
    for (const destination of request.destinations) {
      const digestFile = join(work, `digest-${digests.size}`);
      const command = registrySource
        ? {
            tool: 'skopeo' as const,
            args: skopeoCopyArgs(
              registrySource,
              destination,
              digestFile,
              auth.path,
              request.insecureRegistries,
            ),
          }
        : localPushCommand(local!, destination, digestFile, auth.path, request.insecureRegistries);
      log.info(`pushing ${destination}`);
      try {
        await withRetries(`push to ${destination}`, request.retry, () =>
          run(command.tool, command.args, { timeoutMs: 30 * 60_000 }),
        );
      } catch (error) {
        const done = [...digests.keys()];
        throw new InfraError(
          `push to ${destination} failed: ${messageOf(error)}${done.length ? ` (already pushed: ${done.join(', ')})` : ' (nothing was pushed)'}`,
          { cause: error },
        );
      }
      const digest = (await readFile(digestFile, 'utf8')).trim();
      digests.set(destination, digest);
      // The Docker daemon holds layers uncompressed: compress them once, then copy what the first registry
      // serves, byte for byte, to the others.
      if (local?.store === 'docker') {
        registrySource = `${imageName(parseImageReference(destination, '--to'))}@${digest}`;
      }
    }
    const distinct = new Set(digests.values());
    if (distinct.size !== 1) {
      throw new InfraError(`destinations ended with different digests: ${[...distinct].join(', ')}`);
    }
    const digest = [...distinct][0]!;
    // A registry image copied by digest keeps its evidence: its signatures and attestations go with it.
    const signatures = registrySource && !local ? await copyEvidence(registrySource, request) : [];
    return {
      digest,
      refs: request.destinations,
      sourceKind: local ? 'local' : 'registry',
      ...(local ? { store: local.store } : {}),
      ...(signatures.length > 0 ? { signatures } : {}),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
    await auth.dispose();
  }
}

/** The command that pushes a local image to one destination, writing the pushed digest to `digestFile`. */
export function localPushCommand(
  image: LocalImage,
  destination: string,
  digestFile: string,
  authfile: string,
  insecureRegistries: string[],
  env: NodeJS.ProcessEnv = process.env,
): { tool: 'buildah' | 'skopeo'; args: string[] } {
  const destInsecure = isInsecure(hostOf(destination), insecureRegistries);
  switch (image.store) {
    case 'buildah':
      if (!image.list) {
        return {
          tool: 'buildah',
          args: buildahPushArgs(image.ref, destination, digestFile, authfile, insecureRegistries),
        };
      }
      return {
        tool: 'buildah',
        args: [
          'manifest',
          'push',
          '--all',
          '--authfile',
          authfile,
          ...(destInsecure ? ['--tls-verify=false'] : []),
          '--digestfile',
          digestFile,
          image.ref,
          `docker://${destination}`,
        ],
      };
    case 'docker': {
      // The daemon's layers are uncompressed: they are compressed on the way, so digests cannot be kept.
      const daemon = env.DOCKER_HOST ? ['--src-daemon-host', env.DOCKER_HOST] : [];
      const source = `docker-daemon:${image.ref}`;
      const args = copyArgs(source, daemon, destination, digestFile, authfile, destInsecure);
      return { tool: 'skopeo', args: args.filter((arg) => arg !== '--preserve-digests') };
    }
    case 'oci-layout': {
      const source = `oci:${image.layout}`;
      return { tool: 'skopeo', args: copyArgs(source, [], destination, digestFile, authfile, destInsecure) };
    }
  }
}

/** Resolves a registry source to `repo@sha256:…` so that every destination receives exactly that manifest. */
async function pinnedSource(request: PushRequest, authfile: string): Promise<string> {
  // A digest source is looked up too, so that one naming no image is reported as such before any copy.
  const digest = await resolveDigest(
    request.source,
    authfile,
    request.insecureRegistries,
    request.retry,
  ).catch((error) => {
    throw imageNotFoundAsInput(error, request.source, '--image');
  });
  if (request.source.includes('@sha256:')) return request.source;
  const repo = request.source.replace(/:[^:/]+$/, '');
  return `${repo}@${digest}`;
}

/** The manifest digest a registry serves for `ref`. */
export async function resolveDigest(
  ref: string,
  authfile: string,
  insecureRegistries: string[],
  retry: RetryPolicy,
): Promise<string> {
  const tls = isInsecure(hostOf(ref), insecureRegistries) ? ['--tls-verify=false'] : [];
  const result = await withRetries(`inspect ${ref}`, retry, () =>
    run('skopeo', [
      'inspect',
      '--retry-times',
      '0',
      '--authfile',
      authfile,
      ...tls,
      '--format',
      '{{.Digest}}',
      `docker://${ref}`,
    ]),
  );
  return result.stdout.trim();
}

export function buildahPushArgs(
  source: string,
  destination: string,
  digestFile: string,
  authfile: string,
  insecureRegistries: string[],
): string[] {
  const tls = isInsecure(hostOf(destination), insecureRegistries) ? ['--tls-verify=false'] : [];
  // Retries are Gantry's (exponential backoff, logged); buildah's own fixed-delay retries are off.
  return [
    'push',
    '--retry',
    '0',
    '--quiet',
    '--authfile',
    authfile,
    ...tls,
    '--digestfile',
    digestFile,
    source,
    `docker://${destination}`,
  ];
}

export function skopeoCopyArgs(
  source: string,
  destination: string,
  digestFile: string,
  authfile: string,
  insecureRegistries: string[],
): string[] {
  const srcTls = isInsecure(hostOf(source), insecureRegistries) ? ['--src-tls-verify=false'] : [];
  const destInsecure = isInsecure(hostOf(destination), insecureRegistries);
  return copyArgs(`docker://${source}`, srcTls, destination, digestFile, authfile, destInsecure);
}

/**
 * `skopeo copy` of every platform (`--all`) with blobs and manifests unchanged (`--preserve-digests`), so each
 * destination serves the source's digest. Retries are Gantry's (exponential backoff, logged).
 */
function copyArgs(
  source: string,
  sourceOptions: string[],
  destination: string,
  digestFile: string,
  authfile: string,
  destInsecure: boolean,
): string[] {
  return [
    'copy',
    '--retry-times',
    '0',
    '--preserve-digests',
    '--all',
    '--quiet',
    '--authfile',
    authfile,
    ...sourceOptions,
    ...(destInsecure ? ['--dest-tls-verify=false'] : []),
    '--digestfile',
    digestFile,
    source,
    `docker://${destination}`,
  ];
}
