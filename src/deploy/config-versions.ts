import { createHash, createHmac } from 'node:crypto';
import type { V1PodSpec, V1PodTemplateSpec } from '@kubernetes/client-node';
import { InputError } from '../util/errors.js';
import { MANAGED_BY } from './labels.js';
import type { Manifest } from './manifests.js';
import type { ConfigVersion } from './types.js';

/**
 * Config changes are part of the release: the ConfigMaps and Secrets of the manifests that the rolled-out
 * Deployment's pod template reads are applied as copies named `<name>-<content hash>`, and the new version's
 * template is rewritten to read the copies. The object under its original name is never written, so the stable
 * pods keep reading what they read until promotion moves them to the new copies. Pure logic here (which objects,
 * their names, the rewritten template, which old copies to remove); `config-store.ts` talks to the cluster.
 */

export type { ConfigVersion };
export type ConfigKind = ConfigVersion['kind'];
export const CONFIG_KINDS: readonly ConfigKind[] = ['ConfigMap', 'Secret'];

/** On every copy: the app (stable Deployment) whose release it belongs to. */
export const CONFIG_OF_LABEL = 'gantry.dev/config-of';
/** On every copy: the name of the object in the manifests it is a version of. */
export const CONFIG_NAME_ANNOTATION = 'gantry.dev/config-name';
/** On every copy: when a run last released it (ISO time); the newest copies are the ones kept. */
export const RELEASED_AT_ANNOTATION = 'gantry.dev/released-at';
/** On a ConfigMap or Secret of the manifests: `"false"` opts it out (applied under its own name, shared). */
export const VERSIONED_ANNOTATION = 'gantry.dev/versioned';
/** Versions of each ConfigMap or Secret kept beside the ones in use (the newest released first). */
export const KEEP_CONFIG_VERSIONS = 3;
/** Hex characters of the content hash in a copy's name. */
export const HASH_LENGTH = 10;
/** ConfigMap and Secret names are DNS subdomains. */
const MAX_NAME_LENGTH = 253;

export type ConfigNames = Record<ConfigKind, Set<string>>;
type Renames = Record<ConfigKind, Map<string, string>>;

// ---------------------------------------------------------------------------------------------------------
// Which objects a pod reads

type Container = NonNullable<V1PodSpec['containers']>[number];

/** The pod spec of a workload manifest (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod). */
export function podSpecOf(manifest: Manifest): V1PodSpec | undefined {
  const spec = manifest.spec as Record<string, unknown> | undefined;
  if (!spec) return undefined;
  if (manifest.kind === 'Pod') return spec as unknown as V1PodSpec;
  if (manifest.kind === 'CronJob') {
    const job = spec.jobTemplate as { spec?: { template?: V1PodTemplateSpec } } | undefined;
    return job?.spec?.template?.spec;
  }
  return (spec.template as V1PodTemplateSpec | undefined)?.spec;
}

/**
 * Every ConfigMap and Secret a pod spec reads: volumes (`configMap`, `secret`, projected sources) and, in
 * containers and init containers, `envFrom` and `env[].valueFrom` key references. Image pull secrets are not
 * configuration and are not listed.
 */
export function configReferences(pod: V1PodSpec | undefined): ConfigNames {
  const found: ConfigNames = { ConfigMap: new Set(), Secret: new Set() };
  visitReferences(pod, (kind, name) => {
    found[kind].add(name);
    return name;
  });
  return found;
}

/** A copy of a pod spec whose references to the renamed ConfigMaps and Secrets name their copies. */
export function rewriteConfigReferences(pod: V1PodSpec, renames: Renames): V1PodSpec {
  const copy = structuredClone(pod);
  visitReferences(copy, (kind, name) => renames[kind].get(name) ?? name);
  return copy;
}

/** Calls `visit` for every reference in the pod spec and writes back the name it returns. */
function visitReferences(
  pod: V1PodSpec | undefined,
  visit: (kind: ConfigKind, name: string) => string,
): void {
  if (!pod) return;
  const ref = (kind: ConfigKind, holder: { name?: string } | undefined) => {
    if (holder?.name) holder.name = visit(kind, holder.name);
  };
  for (const volume of pod.volumes ?? []) {
    ref('ConfigMap', volume.configMap);
    if (volume.secret?.secretName) volume.secret.secretName = visit('Secret', volume.secret.secretName);
    for (const source of volume.projected?.sources ?? []) {
      ref('ConfigMap', source.configMap);
      ref('Secret', source.secret);
    }
  }
  const containers: Container[] = [...(pod.containers ?? []), ...(pod.initContainers ?? [])];
  for (const container of containers) {
    for (const from of container.envFrom ?? []) {
      ref('ConfigMap', from.configMapRef);
      ref('Secret', from.secretRef);
    }
    for (const variable of container.env ?? []) {
      ref('ConfigMap', variable.valueFrom?.configMapKeyRef);
      ref('Secret', variable.valueFrom?.secretKeyRef);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Which objects of the manifests are versioned

export interface ConfigPlan {
  /** The ConfigMaps and Secrets of the manifests that become versioned copies. */
  versioned: Manifest[];
  /** Why each referenced object of the manifests that is not versioned stays as it is, one line each. */
  notes: string[];
}

const isConfig = (m: Manifest): m is Manifest & { kind: ConfigKind } =>
  m.apiVersion === 'v1' && (m.kind === 'ConfigMap' || m.kind === 'Secret');

/**
 * The ConfigMaps and Secrets of the manifests the target's pod template reads, unless one opts out
 * (`gantry.dev/versioned: "false"`) or another workload of the manifests reads it too (that workload is applied
 * at once, not rolled out, so it keeps reading the object under its own name). Bad input: an opt-out annotation
 * that is not "true" or "false", or a name too long for its copy.
 */
export function planConfigVersions(manifests: Manifest[], target: Manifest): ConfigPlan {
  const reads = configReferences(podSpecOf(target));
  const others = manifests
    .filter((m) => m !== target)
    .map((m) => ({ workload: m, reads: configReferences(podSpecOf(m)) }));
  const plan: ConfigPlan = { versioned: [], notes: [] };
  for (const manifest of manifests.filter(isConfig)) {
    const { kind } = manifest;
    const { name } = manifest.metadata;
    if (!reads[kind].has(name)) continue;
    const where = `${kind} "${name}"${manifest.source ? ` (${manifest.source})` : ''}`;
    const optOut = manifest.metadata.annotations?.[VERSIONED_ANNOTATION];
    if (optOut !== undefined && optOut !== 'true' && optOut !== 'false') {
      throw new InputError(
        '--manifests',
        `${where}: annotation ${VERSIONED_ANNOTATION} must be "true" or "false", got ${JSON.stringify(optOut)}`,
      );
    }
    if (optOut === 'false') {
      plan.notes.push(`${kind} ${name} is not versioned (${VERSIONED_ANNOTATION}: "false"): applied as is`);
      continue;
    }
    const sharer = others.find((o) => o.reads[kind].has(name));
    if (sharer) {
      plan.notes.push(
        `${kind} ${name} is also read by ${sharer.workload.kind} ${sharer.workload.metadata.name}: applied as is, not versioned`,
      );
      continue;
    }
    if (name.length + 1 + HASH_LENGTH > MAX_NAME_LENGTH) {
      throw new InputError(
        '--manifests',
        `${where}: the name is too long for a versioned copy (<name>-<${HASH_LENGTH}-character hash> must fit in ${MAX_NAME_LENGTH}); shorten it or annotate ${VERSIONED_ANNOTATION}: "false"`,
      );
    }
    plan.versioned.push(manifest);
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------------------
// Content hashes and copies

/**
 * The content hash of a ConfigMap or Secret, `HASH_LENGTH` hex characters. A ConfigMap: SHA-256 of its
 * `data` and `binaryData` (sorted by key). A Secret: HMAC-SHA256 of its type and content (`data` with
 * `stringData` over it, as the API server stores it) keyed with `secretKey`, a random key kept in the cluster:
 * a plain hash of a short password could be reversed by trying candidates, and a copy's name shows in pod
 * specs, logs and reports; without the key, which only those who can read Secrets can read, it cannot.
 */
export function contentHash(manifest: Manifest, secretKey?: Buffer): string {
  const object = manifest as Manifest & Record<string, unknown>;
  if (manifest.kind === 'Secret') {
    if (!secretKey) throw new Error('a Secret is hashed with the namespace key');
    const content: Record<string, string> = {};
    for (const [key, value] of Object.entries((object.data as Record<string, string>) ?? {}))
      content[key] = Buffer.from(String(value), 'base64').toString('base64');
    for (const [key, value] of Object.entries((object.stringData as Record<string, string>) ?? {}))
      content[key] = Buffer.from(String(value), 'utf8').toString('base64');
    const canonical = JSON.stringify(['Secret', object.type ?? 'Opaque', sortedEntries(content)]);
    return createHmac('sha256', secretKey).update(canonical).digest('hex').slice(0, HASH_LENGTH);
  }
  const canonical = JSON.stringify([
    'ConfigMap',
    sortedEntries((object.data as Record<string, string>) ?? {}),
    sortedEntries((object.binaryData as Record<string, string>) ?? {}),
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, HASH_LENGTH);
}

function sortedEntries(record: Record<string, unknown>): [string, string][] {
  return Object.keys(record)
    .sort()
    .map((key) => [key, String(record[key])]);
}

/** The copy of a ConfigMap or Secret that a release reads: same content, named `<name>-<hash>`, labelled. */
export function configCopy(original: Manifest, app: string, hash: string, releasedAt: Date): Manifest {
  const { source: _source, ...object } = structuredClone(original);
  const { [VERSIONED_ANNOTATION]: _optIn, ...annotations } = object.metadata.annotations ?? {};
  return {
    ...object,
    metadata: {
      ...object.metadata,
      name: `${original.metadata.name}-${hash}`,
      labels: { ...object.metadata.labels, ...MANAGED_BY, [CONFIG_OF_LABEL]: app },
      annotations: {
        ...annotations,
        [CONFIG_NAME_ANNOTATION]: original.metadata.name,
        [RELEASED_AT_ANNOTATION]: releasedAt.toISOString(),
      },
    },
  };
}

/** A release's config: the copies to apply, the target reading them, what the report and the lease show. */
export interface ConfigRelease {
  copies: Manifest[];
  target: Manifest;
  versions: ConfigVersion[];
  /** The copies' names, sorted and joined: two runs roll out the same config when these are equal. */
  fingerprint: string;
}

/** The copies of the versioned objects, in the plan's order. */
export function configCopies(
  plan: ConfigPlan,
  app: string,
  options: { secretKey?: Buffer; releasedAt: Date },
): Manifest[] {
  return plan.versioned.map((original) =>
    configCopy(original, app, contentHash(original, options.secretKey), options.releasedAt),
  );
}

/** The copies of the versioned objects and the target rewritten to read them. */
export function releaseConfig(
  plan: ConfigPlan,
  target: Manifest,
  app: string,
  options: { secretKey?: Buffer; releasedAt: Date },
): ConfigRelease {
  const copies = configCopies(plan, app, options);
  const renames: Renames = { ConfigMap: new Map(), Secret: new Map() };
  const versions = copies.map((copy, index) => {
    const kind = copy.kind as ConfigKind;
    const name = plan.versioned[index]!.metadata.name;
    renames[kind].set(name, copy.metadata.name);
    return { kind, name, version: copy.metadata.name, previous: null };
  });
  const rewritten = structuredClone(target);
  const template = (rewritten.spec as { template?: V1PodTemplateSpec } | undefined)?.template;
  if (template?.spec && copies.length > 0) template.spec = rewriteConfigReferences(template.spec, renames);
  const fingerprint = versions
    .map((v) => `${v.kind}/${v.version}`)
    .sort()
    .join(',');
  return { copies, target: rewritten, versions, fingerprint };
}

/**
 * Which copy of `name` a pod template read: a reference to `<name>-<hash>` (a Gantry copy), else null (it
 * read the original, or nothing of it).
 */
export function previousVersion(
  template: V1PodTemplateSpec | undefined,
  kind: ConfigKind,
  name: string,
): string | null {
  const pattern = new RegExp(`^${escapeRegExp(name)}-[0-9a-f]{${HASH_LENGTH}}$`);
  return [...configReferences(template?.spec)[kind]].find((n) => pattern.test(n)) ?? null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------------------
// Garbage collection

/** What collection needs of a copy in the cluster: its metadata. */
export interface StoredCopy {
  kind: ConfigKind;
  metadata: { name: string; annotations?: Record<string, string>; creationTimestamp?: Date | string };
}

/**
 * The copies to delete: per original object, all but the `keep` most recently released, never one that a
 * Deployment of the app still reads (`inUse`, by kind).
 */
export function copiesToDelete(
  copies: StoredCopy[],
  inUse: ConfigNames,
  keep = KEEP_CONFIG_VERSIONS,
): StoredCopy[] {
  const groups = new Map<string, StoredCopy[]>();
  for (const copy of copies) {
    const original = copy.metadata.annotations?.[CONFIG_NAME_ANNOTATION];
    if (!original) continue; // not a copy Gantry made: never touched
    const key = `${copy.kind}/${original}`;
    groups.set(key, [...(groups.get(key) ?? []), copy]);
  }
  const doomed: StoredCopy[] = [];
  for (const group of groups.values()) {
    const newestFirst = [...group].sort(
      (a, b) => releasedAt(b).localeCompare(releasedAt(a)) || b.metadata.name.localeCompare(a.metadata.name),
    );
    for (const copy of newestFirst.slice(keep))
      if (!inUse[copy.kind].has(copy.metadata.name)) doomed.push(copy);
  }
  return doomed;
}

function releasedAt(copy: StoredCopy): string {
  const at = copy.metadata.annotations?.[RELEASED_AT_ANNOTATION] ?? copy.metadata.creationTimestamp ?? '';
  return at instanceof Date ? at.toISOString() : String(at);
}
