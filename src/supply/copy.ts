import { InfraError } from '../util/errors.js';
import { log } from '../util/log.js';
import { addToTagIndex, listReferrers, parseManifest, repositoryOf, resolveTarget } from './attachments.js';
import { digestTag, OCI_MANIFEST, referrerDescriptor } from './bundle.js';
import { RegistryClient } from './registry-client.js';

export interface CopySignaturesResult {
  /** The image whose evidence was copied, `host/repo@sha256:…`. */
  from: string;
  /** `host/repo@sha256:…` in the destination. */
  to: string;
  /** Referrer manifests copied (signatures, attestations, anything else referring to the image). */
  referrers: string[];
  /** Legacy cosign tags copied (`sha256-<hex>.sig`, `.att`). */
  legacyTags: string[];
}

/**
 * Copies an image's signatures and attestations to another repository (any registry), after the image itself
 * was copied there by digest (push keeps digests): every referrer manifest byte for byte with its blobs
 * (registered in the destination's referrers tag index when it has no referrers API), and cosign's legacy
 * `.sig` / `.att` tags. Signatures stay valid: they are over the digest, which does not change.
 * @throws InfraError when the destination does not have the image (copy it first) or a registry fails
 */
export async function copySignatures(
  fromImage: string,
  toRepository: string,
  insecureRegistries: string[],
): Promise<CopySignaturesResult> {
  const source = await resolveTarget(fromImage, insecureRegistries, '--image');
  const { host, repository } = repositoryOf(toRepository, '--to');
  const destination = new RegistryClient(host, insecureRegistries);
  const toName = `${toRepository.replace(/\/$/, '')}@${source.digest}`;
  if (!(await destination.headManifest(repository, source.digest)))
    throw new InfraError(`cannot copy signatures to ${toName}: the image is not there (copy it first)`);

  const copyManifest = async (reference: string, tag?: string) => {
    const fetched = tag
      ? await source.client.getManifest(source.repository, tag)
      : await source.client.getManifest(source.repository, reference, OCI_MANIFEST);
    const manifest = fetched && parseManifest(fetched.bytes);
    if (!fetched || !manifest) return undefined;
    for (const descriptor of [manifest.config, ...manifest.layers]) {
      if (await destination.hasBlob(repository, descriptor.digest)) continue;
      await destination.putBlob(
        repository,
        await source.client.getBlob(source.repository, descriptor.digest),
      );
    }
    const put = await destination.putManifest(
      repository,
      tag ?? fetched.digest,
      fetched.bytes,
      fetched.mediaType || OCI_MANIFEST,
    );
    return { fetched, manifest, subjectTaken: put.subjectTaken };
  };

  const referrers: string[] = [];
  const { manifests } = await listReferrers(source.client, source.repository, source.digest);
  let destinationHasApi: boolean | undefined;
  for (const descriptor of manifests) {
    if (descriptor.mediaType !== OCI_MANIFEST) {
      log.warn(`not copying referrer ${descriptor.digest} of ${source.name}: a ${descriptor.mediaType}`);
      continue;
    }
    const copied = await copyManifest(descriptor.digest);
    if (!copied) continue;
    if (!copied.subjectTaken) {
      destinationHasApi ??= (await destination.referrersApi(repository, source.digest)) !== undefined;
      if (!destinationHasApi)
        await addToTagIndex(
          destination,
          repository,
          source.digest,
          referrerDescriptor(copied.fetched.bytes, copied.manifest),
        );
    }
    referrers.push(copied.fetched.digest);
  }

  const legacyTags: string[] = [];
  for (const suffix of ['.sig', '.att'] as const) {
    const tag = digestTag(source.digest, suffix);
    if (await copyManifest(tag, tag)) legacyTags.push(tag);
  }
  log.info(
    `copied ${referrers.length} referrer(s)${legacyTags.length ? ` and ${legacyTags.join(', ')}` : ''} of ${source.name}@${source.digest} to ${toRepository}`,
  );
  return { from: `${source.name}@${source.digest}`, to: toName, referrers, legacyTags };
}
