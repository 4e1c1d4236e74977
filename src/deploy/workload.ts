import type { V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import { InfraError } from '../util/errors.js';
import { FIELD_MANAGER, type Kube } from './kube.js';
import { deploymentsPath, MANAGED_BY, ROLLOUT_LABEL, RUN_LABEL, TRACK_LABEL, type Track } from './labels.js';
import type { Manifest } from './manifests.js';

interface DeploymentSpec {
  replicas?: number;
  selector?: { matchLabels?: Record<string, string> };
  template?: V1PodTemplateSpec;
}

/** The target Deployment with its pod template labelled for a track (selector untouched). */
export function withTrack(target: Manifest, track: Track): Manifest {
  const copy = structuredClone(target);
  const spec = (copy.spec ?? {}) as DeploymentSpec;
  spec.template ??= {};
  spec.template.metadata ??= {};
  spec.template.metadata.labels = { ...spec.template.metadata.labels, [TRACK_LABEL]: track };
  copy.spec = spec as Record<string, unknown>;
  return copy;
}

/**
 * The new version's own Deployment beside the stable one (`<name>-canary`, `<name>-preview`): same pod
 * template, its selector narrowed by the track label so the two never claim each other's pods. Its pods also
 * carry the run label (`runLabel`), in the template only: the metrics of this rollout's canary are then told
 * apart from those of the canary before it (analysis `{{run}}`); the selector stays as it was.
 */
export function trackDeployment(
  target: Manifest,
  name: string,
  track: Track,
  replicas: number,
  runLabel: string,
): Manifest {
  const base = withTrack(target, track);
  const spec = base.spec as DeploymentSpec;
  spec.template!.metadata!.labels = { ...spec.template!.metadata!.labels, [RUN_LABEL]: runLabel };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: target.metadata.namespace,
      labels: {
        ...target.metadata.labels,
        ...MANAGED_BY,
        [ROLLOUT_LABEL]: target.metadata.name,
        [TRACK_LABEL]: track,
      },
      annotations: { 'gantry.dev/of': target.metadata.name },
    },
    spec: {
      ...spec,
      replicas,
      selector: { matchLabels: { ...(spec.selector?.matchLabels ?? {}), [TRACK_LABEL]: track } },
    },
  };
}

export function replicasOf(deployment: { spec?: unknown } | undefined, fallback = 1): number {
  return (deployment?.spec as DeploymentSpec | undefined)?.replicas ?? fallback;
}

/** First container image of a Deployment (what the report shows as previous/new image). */
export function imageOf(deployment: { spec?: unknown } | undefined): string | null {
  return (deployment?.spec as DeploymentSpec | undefined)?.template?.spec?.containers?.[0]?.image ?? null;
}

/** Fully rolled out: controller caught up, every replica updated and available, no old pods left. */
export function isRolledOut(d: V1Deployment | undefined): boolean {
  if (!d) return false;
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    (s.updatedReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want &&
    (s.readyReplicas ?? 0) === want
  );
}

function progressFailed(d: V1Deployment | undefined): string | undefined {
  const condition = d?.status?.conditions?.find((c) => c.type === 'Progressing');
  return condition?.status === 'False'
    ? (condition.message ?? condition.reason ?? 'progress deadline exceeded')
    : undefined;
}

/**
 * Waits until a Deployment is fully rolled out. Pods that do not become ready within `readyTimeoutMs` fail
 * the wait (fail fast, rather than Kubernetes' 10-minute progress deadline).
 */
export async function waitRolledOut(
  kube: Kube,
  namespace: string,
  name: string,
  options: { readyTimeoutMs: number; signal?: AbortSignal },
): Promise<V1Deployment> {
  let failure: string | undefined;
  try {
    const done = await kube.waitFor<V1Deployment>(
      `Deployment ${name} to roll out`,
      { path: deploymentsPath(namespace), apiVersion: 'apps/v1', kind: 'Deployment', namespace, name },
      (d) => {
        failure = progressFailed(d);
        return isRolledOut(d) || failure !== undefined;
      },
      { timeoutMs: options.readyTimeoutMs, signal: options.signal },
    );
    if (failure) throw new RolloutStalled(`Deployment ${name}: ${failure}`);
    return done!;
  } catch (error) {
    if (error instanceof RolloutStalled) throw error;
    if (options.signal?.aborted) throw error;
    if (error instanceof InfraError && /timed out/.test(error.message)) {
      const d = await kube.read<V1Deployment>('apps/v1', 'Deployment', namespace, name);
      const want = d?.spec?.replicas ?? 1;
      throw new RolloutStalled(
        `Deployment ${name}: ${d?.status?.readyReplicas ?? 0}/${want} pods ready after ${Math.round(options.readyTimeoutMs / 1000)}s (pods never became ready)`,
      );
    }
    throw error;
  }
}

/** A Deployment that does not become available: the new version is bad, not the infrastructure. */
export class RolloutStalled extends Error {}

/** Deletes a Deployment (and its pods) and waits until it is gone. */
export async function deleteDeployment(
  kube: Kube,
  namespace: string,
  name: string,
  timeoutMs: number,
): Promise<void> {
  await kube.delete('apps/v1', 'Deployment', namespace, name);
  await kube.waitFor<V1Deployment>(
    `Deployment ${name} to be deleted`,
    { path: deploymentsPath(namespace), apiVersion: 'apps/v1', kind: 'Deployment', namespace, name },
    (d) => d === undefined,
    { timeoutMs },
  );
}

/**
 * Puts a previous pod template back on a Deployment (what `kubectl rollout undo` does): read, replace the
 * template, write with the read resourceVersion (retrying on conflict). Replicas and everything else stay.
 */
export async function restoreTemplate(
  kube: Kube,
  namespace: string,
  name: string,
  previous: V1PodTemplateSpec,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    kube.count('get');
    const current = (await kube.objects.read({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace },
    })) as V1Deployment;
    const template = structuredClone(previous);
    if (template.metadata?.labels) delete template.metadata.labels['pod-template-hash'];
    current.spec!.template = template;
    try {
      kube.count('update');
      await kube.objects.replace(current, undefined, undefined, FIELD_MANAGER);
      return;
    } catch (error) {
      if ((error as { code?: number }).code !== 409 || attempt >= 4) throw error;
    }
  }
}
