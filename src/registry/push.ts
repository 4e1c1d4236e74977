import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfraError, messageOf } from '../util/errors.js';
import { run } from '../util/exec.js';
import { log } from '../util/log.js';
import { prepareAuthFile } from './auth.js';
import { hostOf, isInsecure } from './hosts.js';
import { imageNotFoundAsInput } from './not-found.js';
import { assertReachable } from './reachability.js';
import { type RetryPolicy, withRetries } from './retry.js';

export interface PushRequest {
  /** A local (buildah storage) image name or a registry reference. */
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
}

/**
 * Pushes a local image, or copies a registry image by digest, to every destination. All destinations
 * must end with the same digest; a failure on any destination fails the push (exit 3) and says which
 * destinations were already written, so a partial push is never reported as success.
 */
export async function pushImage(request: PushRequest): Promise<PushResult> {
  const hosts = new Set(request.destinations.map(hostOf));
  for (const host of hosts) await assertReachable(host, request.insecureRegistries);
  const auth = await prepareAuthFile();
  const work = await mkdtemp(join(tmpdir(), 'gantry-push-'));
  try {
    const local = await isLocalImage(request.source);
    const source = local ? request.source : await pinnedSource(request, auth.path);
    const digests = new Map<string, string>();
    for (const destination of request.destinations) {
      const digestFile = join(work, `digest-${digests.size}`);
      const args = local
        ? buildahPushArgs(source, destination, digestFile, auth.path, request.insecureRegistries)
        : skopeoCopyArgs(source, destination, digestFile, auth.path, request.insecureRegistries);
      log.info(`pushing ${destination}`);
      try {
        await withRetries(`push to ${destination}`, request.retry, () =>
          run(local ? 'buildah' : 'skopeo', args, { timeoutMs: 30 * 60_000 }),
        );
      } catch (error) {
        const done = [...digests.keys()];
        throw new InfraError(
          `push to ${destination} failed: ${messageOf(error)}${done.length ? ` (already pushed: ${done.join(', ')})` : ' (nothing was pushed)'}`,
          { cause: error },
        );
      }
      digests.set(destination, (await readFile(digestFile, 'utf8')).trim());
    }
    const distinct = new Set(digests.values());
    if (distinct.size !== 1) {
      throw new InfraError(`destinations ended with different digests: ${[...distinct].join(', ')}`);
    }
    return {
      digest: [...distinct][0]!,
      refs: request.destinations,
      sourceKind: local ? 'local' : 'registry',
    };
  } finally {
    await rm(work, { recursive: true, force: true });
    await auth.dispose();
  }
}

/** Whether `name` is an image in local buildah storage (a built image not pushed yet). */
export async function isLocalImage(name: string): Promise<boolean> {
  const result = await run('buildah', ['inspect', '--type', 'image', '--format', '{{.FromImageID}}', name], {
    allowFailure: true,
  }).catch(() => undefined);
  return result?.exitCode === 0;
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
  const destTls = isInsecure(hostOf(destination), insecureRegistries) ? ['--dest-tls-verify=false'] : [];
  return [
    'copy',
    '--retry-times',
    '0',
    '--preserve-digests',
    '--all',
    '--quiet',
    '--authfile',
    authfile,
    ...srcTls,
    ...destTls,
    '--digestfile',
    digestFile,
    `docker://${source}`,
    `docker://${destination}`,
  ];
}
