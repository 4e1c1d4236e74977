import { parseImageReference } from '../context/reference.js';
import { InputError } from '../util/errors.js';
import {
  type Descriptor,
  digestTag,
  EMPTY_JSON,
  type Index,
  type Manifest,
  OCI_INDEX,
  referrerDescriptor,
  withReferrer,
} from './bundle.js';
import { RegistryClient } from './registry-client.js';

/**
 * Where an image's signatures and attestations live in a registry, read and written the way cosign v3 does:
 * referrers (the OCI 1.1 API, or the `sha256-<hex>` tag index on registries without it) and the legacy
 * `sha256-<hex>.sig` / `.att` tags.
 */
export interface ImageTarget {
  client: RegistryClient;
  host: string;
  /** The repository path in the registry. */
  repository: string;
  /** `host/repository`, as references and messages name it. */
  name: string;
  digest: string;
  /** The image's manifest descriptor (media type, size): the referrers' subject. */
  descriptor: Descriptor;
  /** The tag the user gave, when the digest was resolved from it. */
  resolvedFrom?: string;
}

/** Splits `[host/]repo` into host and repository path, as the registry client wants them. */
export function repositoryOf(name: string, input: string): { host: string; repository: string } {
  const ref = parseImageReference(name, input);
  if (ref.tag || ref.digest) throw new InputError(input, `"${name}" is a repository: no tag or digest`);
  const host = ref.registry ?? 'docker.io';
  return { host, repository: RegistryClient.repositoryPath(host, ref.repository) };
}

/**
 * Resolves an image reference to its digest in the registry (a tag is resolved once, here, and the digest is
 * what everything after works on).
 * @throws InputError naming `input` when the reference is malformed or names no image
 */
export async function resolveTarget(
  image: string,
  insecureRegistries: readonly string[],
  input = '--image',
): Promise<ImageTarget> {
  const ref = parseImageReference(image, input);
  const host = ref.registry ?? 'docker.io';
  const repository = RegistryClient.repositoryPath(host, ref.repository);
  const client = new RegistryClient(host, insecureRegistries);
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const head = await client.headManifest(repository, reference);
  if (!head)
    throw new InputError(input, `${JSON.stringify(image)} does not exist in the registry (manifest unknown)`);
  if (ref.digest && head.digest !== ref.digest)
    throw new InputError(input, `registry served ${head.digest} for ${ref.digest}`);
  return {
    client,
    host,
    repository,
    name: `${host}/${ref.repository}`,
    digest: head.digest,
    descriptor: { mediaType: head.mediaType, digest: head.digest, size: head.size },
    ...(ref.digest ? {} : { resolvedFrom: reference }),
  };
}

/** The referrers of `digest`: through the referrers API when the registry has it, else the tag index. */
export async function listReferrers(
  client: RegistryClient,
  repository: string,
  digest: string,
): Promise<{ via: 'api' | 'tag'; manifests: Descriptor[] }> {
  // Only well-formed sha256 descriptors: a digest goes into a request path.
  const wellFormed = (manifests: Descriptor[] | undefined) =>
    (manifests ?? []).filter((m) => typeof m?.digest === 'string' && /^sha256:[a-f0-9]{64}$/.test(m.digest));
  const api = await client.referrersApi(repository, digest);
  if (api) return { via: 'api', manifests: wellFormed(parseIndex(api)?.manifests) };
  const tagged = await client.getManifest(repository, digestTag(digest), OCI_INDEX);
  return { via: 'tag', manifests: wellFormed(tagged && parseIndex(tagged.bytes)?.manifests) };
}

function parseIndex(bytes: Uint8Array): Index | undefined {
  try {
    const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as Index;
    return Array.isArray(value.manifests) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function parseManifest(bytes: Uint8Array): Manifest | undefined {
  try {
    const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as Manifest;
    return value && Array.isArray(value.layers) && typeof value.config === 'object' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stores a referrer: its blobs, the manifest by digest, and, when the registry does not index referrers
 * itself (no `OCI-Subject` answer and no referrers API), the manifest's descriptor in the `sha256-<hex>`
 * tag index — what go-containerregistry (so cosign) does. Returns the manifest's digest.
 */
export async function putReferrer(
  client: RegistryClient,
  repository: string,
  manifest: Manifest,
  blobs: Uint8Array[],
): Promise<{ digest: string; via: 'api' | 'tag' }> {
  if (!manifest.subject) throw new Error('a referrer manifest needs a subject');
  for (const blob of blobs) await client.putBlob(repository, blob);
  const bytes = Buffer.from(JSON.stringify(manifest));
  const descriptor = referrerDescriptor(bytes, manifest);
  const put = await client.putManifest(repository, descriptor.digest, bytes, descriptor.mediaType);
  if (put.subjectTaken) return { digest: descriptor.digest, via: 'api' };
  if (await client.referrersApi(repository, manifest.subject.digest))
    return { digest: descriptor.digest, via: 'api' };
  await addToTagIndex(client, repository, manifest.subject.digest, descriptor);
  return { digest: descriptor.digest, via: 'tag' };
}

/** Adds a descriptor to the referrers tag index of `subject` (creating it). */
export async function addToTagIndex(
  client: RegistryClient,
  repository: string,
  subject: string,
  descriptor: Descriptor,
): Promise<void> {
  const tag = digestTag(subject);
  const current = await client.getManifest(repository, tag, OCI_INDEX);
  const index = withReferrer(current ? parseIndex(current.bytes) : undefined, descriptor);
  if (current && index.manifests.length === (parseIndex(current.bytes)?.manifests.length ?? -1)) return;
  await client.putManifest(repository, tag, Buffer.from(JSON.stringify(index)), OCI_INDEX);
}

/** The empty config blob every referrer manifest points at. */
export const emptyConfig = () => EMPTY_JSON;
