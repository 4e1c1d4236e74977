import type { V1Deployment } from '@kubernetes/client-node';
import { log } from '../util/log.js';
import type { Kube } from './kube.js';
import { canaryName, previewName, TRACK_LABEL } from './labels.js';
import type { RolloutState } from './lease.js';
import type { Manifest } from './manifests.js';
import { createRouter } from './routers/index.js';
import type { RouteContext } from './routers/types.js';
import type { RouterName } from './types.js';
import { deleteDeployment, waitRolledOut } from './workload.js';

/**
 * Cleans up after a run that died mid-rollout (its lease went stale): traffic back to stable first, then
 * the canary/preview Deployments and their routing objects removed. A run that died while promoting had
 * passed every step and was updating the stable Deployment: that update is left to finish, then the canary
 * is removed. Idempotent: safe to run on what is already clean.
 */
export async function cleanupOrphan(
  kube: Kube,
  namespace: string,
  name: string,
  state: RolloutState,
  timeoutMs: number,
): Promise<void> {
  const stable = await kube.read<V1Deployment>('apps/v1', 'Deployment', namespace, name);
  if (state.phase === 'promoting' && stable) {
    log.info(`the orphan was promoting: letting ${name}'s update finish`);
    await waitRolledOut(kube, namespace, name, { readyTimeoutMs: timeoutMs });
  }
  const service = await kube.read<Manifest>('v1', 'Service', namespace, name);
  const router = createRouter((state.router as RouterName) ?? 'replicas');
  for (const [deployment, track] of [
    [canaryName(name), 'canary'],
    [previewName(name), 'preview'],
  ] as const) {
    const exists = await kube.read<V1Deployment>('apps/v1', 'Deployment', namespace, deployment);
    const selector = (service?.spec as { selector?: Record<string, string> } | undefined)?.selector;
    if (service && selector?.[TRACK_LABEL] === track) {
      // Blue-green orphan switched traffic to the preview: switch it back before removing anything.
      await kube.apply({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace },
        spec: { ...(service.spec ?? {}), selector: { ...selector, [TRACK_LABEL]: 'stable' } },
      } as Manifest);
    }
    if (service && router.name !== 'replicas') {
      const context: RouteContext = {
        kube,
        namespace,
        name,
        canaryService: deployment,
        service,
        stableReplicas: stable?.spec?.replicas ?? 1,
        canaryDeployment: deployment,
        timeoutMs,
      };
      await router.setRoutes(context, 0).catch(() => {});
      await router.finalize(context).catch(() => {});
    }
    if (exists) {
      log.info(`removing orphaned ${deployment}`);
      await deleteDeployment(kube, namespace, deployment, timeoutMs);
    }
    await kube.delete('v1', 'Service', namespace, deployment);
  }
}
