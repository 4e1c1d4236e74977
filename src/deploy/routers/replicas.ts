import type { V1Deployment } from '@kubernetes/client-node';
import { PatchStrategy } from '@kubernetes/client-node';
import { InfraError, InputError } from '../../util/errors.js';
import { deploymentsPath } from '../labels.js';
import { RolloutStalled } from '../workload.js';
import type { RouteContext, Router, StepMatch } from './types.js';

/**
 * No mesh: the main Service selects every pod of the app, so traffic follows ready pods. A weight becomes a
 * number of canary replicas beside the untouched stable ones: c / (stable + c) ≈ weight.
 */
export class ReplicasRouter implements Router {
  readonly name = 'replicas' as const;
  readonly pinsStableSelector = false;

  async reconcile(): Promise<void> {}

  /** Canary replicas for a weight: at least one for any weight above 0. */
  static replicasFor(weight: number, stableReplicas: number): number {
    if (weight <= 0) return 0;
    if (weight >= 100) return Math.max(1, stableReplicas);
    return Math.max(1, Math.round((stableReplicas * weight) / (100 - weight)));
  }

  async setRoutes(context: RouteContext, weight: number, match?: StepMatch): Promise<void> {
    // The configuration refuses this before anything runs; a request cannot be routed by pod count.
    if (match) throw new InputError('--router', 'the replicas router cannot route by header or cookie');
    const replicas = ReplicasRouter.replicasFor(weight, context.stableReplicas);
    context.kube.count('patch');
    await context.kube.objects.patch(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: context.canaryDeployment, namespace: context.namespace },
        spec: { replicas },
      } as V1Deployment,
      undefined,
      undefined,
      undefined,
      undefined,
      PatchStrategy.MergePatch,
    );
    // In effect when exactly that many canary pods are ready (and, at 0, none is left serving).
    await waitReady(context, replicas);
  }

  async getRoutes(context: RouteContext): Promise<{ stable: number; canary: number }> {
    const read = (name: string) =>
      context.kube.read<V1Deployment>('apps/v1', 'Deployment', context.namespace, name);
    const [stable, canary] = await Promise.all([read(context.name), read(context.canaryDeployment)]);
    const s = stable?.status?.readyReplicas ?? 0;
    const c = canary?.status?.readyReplicas ?? 0;
    const canaryWeight = s + c === 0 ? 0 : Math.round((c / (s + c)) * 100);
    return { stable: 100 - canaryWeight, canary: canaryWeight };
  }

  async finalize(): Promise<void> {}
}

/**
 * Waits until exactly `replicas` canary pods are ready. Pods of the new version that do not become ready in
 * the wait's bound (the ready timeout while traffic moves to them) mean a bad version, as in
 * `waitRolledOut`: the rollout is rolled back (exit 1), not failed as an infrastructure error.
 */
async function waitReady(context: RouteContext, replicas: number): Promise<void> {
  const { kube, namespace, canaryDeployment: name } = context;
  try {
    await kube.waitFor<V1Deployment>(
      `${name} to have ${replicas} ready replica(s)`,
      { path: deploymentsPath(namespace), apiVersion: 'apps/v1', kind: 'Deployment', namespace, name },
      (d) =>
        d === undefined
          ? replicas === 0
          : (d.status?.readyReplicas ?? 0) === replicas &&
            (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0),
      { timeoutMs: context.timeoutMs, signal: context.signal },
    );
  } catch (error) {
    const timedOut = error instanceof InfraError && /timed out/.test(error.message);
    if (!timedOut || replicas === 0 || context.signal?.aborted) throw error;
    const d = await kube.read<V1Deployment>('apps/v1', 'Deployment', namespace, name);
    throw new RolloutStalled(
      `Deployment ${name}: ${d?.status?.readyReplicas ?? 0}/${replicas} pods ready after ${Math.round(context.timeoutMs / 1000)}s (pods never became ready)`,
    );
  }
}
