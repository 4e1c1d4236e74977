import { randomBytes } from 'node:crypto';
import {
  type KubernetesObject,
  PatchStrategy,
  type V1Deployment,
  type V1OwnerReference,
  type V1Secret,
} from '@kubernetes/client-node';
import {
  CONFIG_KINDS,
  CONFIG_OF_LABEL,
  type ConfigKind,
  type ConfigNames,
  configReferences,
  copiesToDelete,
  type StoredCopy,
} from './config-versions.js';
import { isConflict, type Kube } from './kube.js';
import { canaryName, MANAGED_BY, previewName } from './labels.js';
import type { Manifest } from './manifests.js';

/**
 * The cluster side of versioned config (`config-versions.ts` decides): the app's hashing key, applying the
 * copies owned by the stable Deployment, and collecting old copies.
 */

/** On the key Secret: the app whose Secret copies it names. */
export const CONFIG_KEY_LABEL = 'gantry.dev/config-key-of';

export const configKeyName = (app: string) => `gantry-${app}-config-key`;

/**
 * The key that names the app's Secret copies (see `contentHash`): read from the Secret
 * `gantry-<app>-config-key`, created with 32 random bytes on first use. Whoever may read it may read the
 * Secrets themselves.
 */
export async function configKey(kube: Kube, namespace: string, app: string): Promise<Buffer> {
  const name = configKeyName(app);
  const read = async () => {
    const secret = await kube.read<V1Secret>('v1', 'Secret', namespace, name);
    const key = secret?.data?.key;
    return key ? Buffer.from(key, 'base64') : undefined;
  };
  const existing = await read();
  if (existing) return existing;
  const key = randomBytes(32);
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { ...MANAGED_BY, [CONFIG_KEY_LABEL]: app } },
    type: 'Opaque',
    data: { key: key.toString('base64') },
  };
  try {
    kube.count('create');
    await kube.objects.create(secret);
    return key;
  } catch (error) {
    // Created meanwhile (another run of the app, before it held the lease): use that one.
    if (!isConflict(error)) throw error;
    const created = await read();
    if (!created) throw error;
    return created;
  }
}

function ownerReference(owner: V1Deployment): V1OwnerReference {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: owner.metadata!.name!,
    uid: owner.metadata!.uid!,
  };
}

/**
 * Applies a release's copies, owned by the stable Deployment when it exists (on a first deploy it does not
 * yet: {@link collectConfigVersions} gives them their owner once it does).
 */
export async function applyCopies(
  kube: Kube,
  copies: Manifest[],
  owner: V1Deployment | undefined,
): Promise<void> {
  for (const copy of copies) {
    const ownerReferences = owner?.metadata?.uid ? [ownerReference(owner)] : undefined;
    await kube.apply({ ...copy, metadata: { ...copy.metadata, ownerReferences } });
  }
}

type Stored = KubernetesObject & { kind: ConfigKind };

/**
 * After a run, with the lease still held: gives every copy of the app (and its key) the stable Deployment as
 * owner, so that deleting the Deployment deletes them, and deletes all but the newest few copies of each object
 * (never one a Deployment of the app reads). Returns the names removed.
 */
export async function collectConfigVersions(
  kube: Kube,
  namespace: string,
  app: string,
  stable: V1Deployment | undefined,
): Promise<string[]> {
  // No Deployment yet (its creation failed): nothing to own the copies; the next run collects them.
  if (!stable?.metadata?.uid) return [];
  const inUse: ConfigNames = { ConfigMap: new Set(), Secret: new Set() };
  const readers = [
    stable,
    await kube.read<V1Deployment>('apps/v1', 'Deployment', namespace, canaryName(app)),
    await kube.read<V1Deployment>('apps/v1', 'Deployment', namespace, previewName(app)),
  ];
  for (const reader of readers) {
    const reads = configReferences(reader?.spec?.template?.spec);
    for (const kind of CONFIG_KINDS) for (const name of reads[kind]) inUse[kind].add(name);
  }
  const copies: Stored[] = [];
  for (const kind of CONFIG_KINDS) {
    kube.count('list');
    const list = await kube.objects.list<KubernetesObject>(
      'v1',
      kind,
      namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      `${CONFIG_OF_LABEL}=${app}`,
    );
    // Only the metadata is kept: a Secret's values never leave this function.
    for (const item of list.items) copies.push({ kind, metadata: item.metadata });
  }
  const doomed = copiesToDelete(copies as StoredCopy[], inUse);
  const removed = new Set(doomed.map((c) => `${c.kind}/${c.metadata.name}`));
  const key = await kube.read<V1Secret>('v1', 'Secret', namespace, configKeyName(app));
  const keep = [
    ...copies.filter((c) => !removed.has(`${c.kind}/${c.metadata!.name}`)),
    ...(key ? [{ kind: 'Secret' as const, metadata: key.metadata }] : []),
  ];
  for (const object of keep) await adopt(kube, namespace, object, stable);
  for (const copy of doomed) await kube.delete('v1', copy.kind, namespace, copy.metadata.name);
  return doomed.map((c) => `${c.kind} ${c.metadata.name}`);
}

/** Adds the stable Deployment to an object's owners (a merge patch: the object's content is not rewritten). */
async function adopt(kube: Kube, namespace: string, object: Stored, owner: V1Deployment): Promise<void> {
  const owners = object.metadata?.ownerReferences ?? [];
  if (owners.some((o) => o.uid === owner.metadata!.uid)) return;
  kube.count('patch');
  await kube.objects.patch(
    {
      apiVersion: 'v1',
      kind: object.kind,
      metadata: {
        name: object.metadata!.name,
        namespace,
        ownerReferences: [...owners, ownerReference(owner)],
      },
    },
    undefined,
    undefined,
    undefined,
    undefined,
    PatchStrategy.MergePatch,
  );
}
