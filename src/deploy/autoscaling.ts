/**
 * Deployments scaled by a HorizontalPodAutoscaler. Gantry never fights the autoscaler: the stable Deployment is
 * applied without `spec.replicas`, so the count the HPA chose stays, and the canary (or preview) starts from the
 * stable's replicas as they are when the rollout starts. Where traffic is split by weight (a router, or
 * blue-green's switch), the new version gets an autoscaler of its own for as long as it runs: the stable's HPA
 * with its bounds scaled by the share of traffic it can get, owned by the new Deployment so that it goes with it.
 * Promotion and rollback leave the stable's HPA in charge.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { apiMessage, type Kube } from './kube.js';
import { MANAGED_BY } from './labels.js';
import type { Manifest } from './manifests.js';

/** The HPA that scales a Deployment, and its bounds. */
export interface Autoscaler {
  name: string;
  minReplicas: number;
  maxReplicas: number;
  /** Where it was found: the release's manifests win over what the cluster has. */
  source: 'manifests' | 'cluster';
  /** Its spec (metrics, behavior), for the new version's own autoscaler. */
  spec: Record<string, unknown>;
}

interface HpaSpec {
  scaleTargetRef?: { apiVersion?: string; kind?: string; name?: string };
  minReplicas?: number;
  maxReplicas?: number;
}

/** Whether an object is an HPA (any autoscaling version) that scales the Deployment `name`. */
export function scalesDeployment(object: { kind?: string; spec?: unknown }, name: string): boolean {
  if (object.kind !== 'HorizontalPodAutoscaler') return false;
  const target = (object.spec as HpaSpec | undefined)?.scaleTargetRef;
  return target?.kind === 'Deployment' && target.name === name;
}

function toAutoscaler(object: Manifest, source: Autoscaler['source']): Autoscaler {
  const spec = (object.spec ?? {}) as HpaSpec;
  return {
    name: object.metadata.name,
    minReplicas: spec.minReplicas ?? 1,
    maxReplicas: spec.maxReplicas ?? spec.minReplicas ?? 1,
    source,
    spec: structuredClone((object.spec ?? {}) as Record<string, unknown>),
  };
}

/** The HPA in the manifests that scales `name`, if any (pure: for pre-flight and tests). */
export function autoscalerInManifests(manifests: Manifest[], name: string): Autoscaler | undefined {
  const hpa = manifests.find((m) => scalesDeployment(m, name));
  return hpa && toAutoscaler(hpa, 'manifests');
}

/**
 * The HPA that scales the Deployment: one in the manifests, else one already in the namespace. An HPA the run
 * may not list (RBAC) counts as none, with a warning through `warn`.
 */
export async function findAutoscaler(
  kube: Kube,
  namespace: string,
  name: string,
  manifests: Manifest[],
  warn: (message: string) => void,
): Promise<Autoscaler | undefined> {
  const declared = autoscalerInManifests(manifests, name);
  if (declared) return declared;
  try {
    const hpas = await kube.list<Manifest>('autoscaling/v2', 'HorizontalPodAutoscaler', namespace);
    const hpa = hpas.find((m) => scalesDeployment({ ...m, kind: 'HorizontalPodAutoscaler' }, name));
    return hpa && toAutoscaler(hpa, 'cluster');
  } catch (error) {
    warn(`could not list HorizontalPodAutoscalers in ${namespace} (${apiMessage(error)}); assuming none`);
    return undefined;
  }
}

/** The field manager that holds `spec.replicas` once Gantry lets go of it (see {@link yieldReplicas}). */
export const REPLICAS_HANDOVER_MANAGER = 'gantry-replicas-handover';

/**
 * The Deployment to apply when an HPA scales it: without `spec.replicas`. Server-side apply would reset a field
 * Gantry owned and no longer sends (to 1), so first the current count is handed to a field manager of its own
 * (the Kubernetes documentation's way of moving replicas to an autoscaler); the HPA then changes it as it likes.
 */
export async function yieldReplicas(kube: Kube, target: Manifest, current: V1Deployment): Promise<Manifest> {
  const replicas = current.spec?.replicas;
  if (replicas !== undefined) {
    await kube.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: target.metadata.name, namespace: target.metadata.namespace },
        spec: { replicas },
      },
      { fieldManager: REPLICAS_HANDOVER_MANAGER },
    );
  }
  const { replicas: _dropped, ...spec } = (target.spec ?? {}) as { replicas?: number };
  return { ...target, spec };
}

/**
 * The new version's own HPA while it runs (`<name>-canary`, `<name>-preview`): the stable's spec aimed at the new
 * Deployment, its bounds scaled by `share` (the largest share of traffic it gets, 0–1), at least one replica.
 * Owned by that Deployment: deleting it (promotion, rollback) takes the HPA along.
 */
export function trackAutoscaler(
  hpa: Autoscaler,
  deployment: { name: string; namespace: string; uid: string },
  share: number,
): Manifest {
  const minReplicas = Math.max(1, Math.ceil(hpa.minReplicas * share));
  const maxReplicas = Math.max(minReplicas, Math.ceil(hpa.maxReplicas * share));
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: deployment.name,
      namespace: deployment.namespace,
      labels: { ...MANAGED_BY },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.name, uid: deployment.uid },
      ],
    } as Manifest['metadata'],
    spec: {
      ...hpa.spec,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.name },
      minReplicas,
      maxReplicas,
    },
  };
}

/** Gives the new version's Deployment its own autoscaler (see {@link trackAutoscaler}); a no-op without an HPA. */
export async function autoscaleTrack(
  kube: Kube,
  hpa: Autoscaler | undefined,
  applied: { metadata?: { name?: string; namespace?: string; uid?: string } },
  share: number,
): Promise<void> {
  const { name, namespace, uid } = applied.metadata ?? {};
  if (!hpa || !name || !namespace || !uid) return;
  await kube.apply(trackAutoscaler(hpa, { name, namespace, uid }, share));
}
