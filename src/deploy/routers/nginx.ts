import { MANAGED_BY, ROLLOUT_LABEL } from '../labels.js';
import type { Manifest } from '../manifests.js';
import type { RouteContext, RouteNames, Router, RouteWeights, StepMatch } from './types.js';
import { ensureCanaryService, readRequired } from './weighted.js';

const CANARY = 'nginx.ingress.kubernetes.io/canary';
const CANARY_WEIGHT = 'nginx.ingress.kubernetes.io/canary-weight';
const CANARY_BY_HEADER = 'nginx.ingress.kubernetes.io/canary-by-header';
const CANARY_BY_HEADER_VALUE = 'nginx.ingress.kubernetes.io/canary-by-header-value';
const CANARY_BY_COOKIE = 'nginx.ingress.kubernetes.io/canary-by-cookie';

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

  async reconcile(context: RouteContext): Promise<void> {
    await ensureCanaryService(context);
    await this.setRoutes(context, 0);
  }

  async setRoutes(context: RouteContext, weight: number, match?: StepMatch): Promise<void> {
    const main = await readRequired(
      context,
      'networking.k8s.io/v1',
      'Ingress',
      context.name,
      'the nginx router',
    );
    await context.kube.apply(canaryIngress(main, context, weight, match));
  }

  async getRoutes(context: RouteContext): Promise<RouteWeights> {
    const canary = await context.kube.read<Manifest>(
      'networking.k8s.io/v1',
      'Ingress',
      context.namespace,
      context.canaryService,
    );
    return canaryIngressWeights(canary);
  }

  async finalize(context: RouteContext): Promise<void> {
    await context.kube.delete('networking.k8s.io/v1', 'Ingress', context.namespace, context.canaryService);
    await context.kube.delete('v1', 'Service', context.namespace, context.canaryService);
  }
}

/**
 * The canary Ingress for the main one: the same hosts and paths, the main Service's backends pointed at the
 * canary Service, marked canary with `weight` percent by NGINX's annotations; with `match`, also
 * canary-by-header (and its value) or canary-by-cookie, which NGINX honours before the weight. The Ingress is
 * applied whole, so a match annotation not written again is gone.
 */
export function canaryIngress(
  main: Manifest,
  names: RouteNames,
  weight: number,
  match?: StepMatch,
): Manifest {
  const spec = structuredClone((main.spec ?? {}) as IngressSpec);
  for (const rule of spec.rules ?? []) {
    for (const path of rule.http?.paths ?? []) {
      if (path.backend?.service?.name === names.name) path.backend.service.name = names.canaryService;
    }
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: names.canaryService,
      namespace: names.namespace,
      labels: { ...MANAGED_BY, [ROLLOUT_LABEL]: names.name },
      annotations: { [CANARY]: 'true', [CANARY_WEIGHT]: String(weight), ...matchAnnotations(match) },
    },
    spec: spec as Record<string, unknown>,
  };
}

function matchAnnotations(match: StepMatch | undefined): Record<string, string> {
  if (!match) return {};
  if (match.kind === 'cookie') return { [CANARY_BY_COOKIE]: match.name };
  return { [CANARY_BY_HEADER]: match.name, [CANARY_BY_HEADER_VALUE]: match.value };
}

/** The weights a canary Ingress (or none: all to stable) gives. */
export function canaryIngressWeights(canary: Manifest | undefined): RouteWeights {
  const weight = Number(canary?.metadata.annotations?.[CANARY_WEIGHT] ?? 0);
  return { stable: 100 - weight, canary: weight };
}
