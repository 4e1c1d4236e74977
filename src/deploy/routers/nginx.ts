import { MANAGED_BY, ROLLOUT_LABEL } from '../labels.js';
import type { Manifest } from '../manifests.js';
import type { RouteContext, Router } from './types.js';
import { ensureCanaryService, readRequired } from './weighted.js';

const CANARY = 'nginx.ingress.kubernetes.io/canary';
const CANARY_WEIGHT = 'nginx.ingress.kubernetes.io/canary-weight';

interface IngressSpec {
  ingressClassName?: string;
  rules?: {
    host?: string;
    http?: { paths?: { backend?: { service?: { name: string; port?: unknown } } }[] };
  }[];
}

/**
 * NGINX Ingress: the Ingress `<name>` sends traffic to the main Service; Gantry adds a canary Ingress
 * `<canaryService>` with the same hosts and paths pointing at the canary Service, weighted by annotation.
 */
export class NginxRouter implements Router {
  readonly name = 'nginx' as const;
  readonly pinsStableSelector = true;

  private canaryIngress(context: RouteContext, main: Manifest, weight: number): Manifest {
    const spec = structuredClone((main.spec ?? {}) as IngressSpec);
    for (const rule of spec.rules ?? []) {
      for (const path of rule.http?.paths ?? []) {
        if (path.backend?.service?.name === context.name) path.backend.service.name = context.canaryService;
      }
    }
    return {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name: context.canaryService,
        namespace: context.namespace,
        labels: { ...MANAGED_BY, [ROLLOUT_LABEL]: context.name },
        annotations: { [CANARY]: 'true', [CANARY_WEIGHT]: String(weight) },
      },
      spec: spec as Record<string, unknown>,
    };
  }

  async reconcile(context: RouteContext): Promise<void> {
    await ensureCanaryService(context);
    await this.setRoutes(context, 0);
  }

  async setRoutes(context: RouteContext, weight: number): Promise<void> {
    const main = await readRequired(
      context,
      'networking.k8s.io/v1',
      'Ingress',
      context.name,
      'the nginx router',
    );
    await context.kube.apply(this.canaryIngress(context, main, weight));
  }

  async getRoutes(context: RouteContext): Promise<{ stable: number; canary: number }> {
    const canary = await context.kube.read<Manifest>(
      'networking.k8s.io/v1',
      'Ingress',
      context.namespace,
      context.canaryService,
    );
    const weight = Number(canary?.metadata.annotations?.[CANARY_WEIGHT] ?? 0);
    return { stable: 100 - weight, canary: weight };
  }

  async finalize(context: RouteContext): Promise<void> {
    await context.kube.delete('networking.k8s.io/v1', 'Ingress', context.namespace, context.canaryService);
    await context.kube.delete('v1', 'Service', context.namespace, context.canaryService);
  }
}
