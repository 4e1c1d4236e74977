import { percentages, type RouteContext, type RouteNames, type Router, type RouteWeights } from './types.js';
import { ensureCanaryService, mergePatch, readRequired } from './weighted.js';

interface BackendRef {
  name: string;
  port?: number;
  weight?: number;
  [key: string]: unknown;
}
export interface HttpRouteSpec {
  rules?: { backendRefs?: BackendRef[]; [key: string]: unknown }[];
}

const API = 'gateway.networking.k8s.io/v1';

/**
 * Gateway API: the HTTPRoute `<name>` (from the manifests) sends traffic to the main Service; Gantry rewrites
 * every rule that does so into two weighted backendRefs, stable and canary.
 */
export class GatewayApiRouter implements Router {
  readonly name = 'gateway-api' as const;
  readonly pinsStableSelector = true;

  async reconcile(context: RouteContext): Promise<void> {
    await ensureCanaryService(context);
    await this.setRoutes(context, 0);
  }

  async setRoutes(context: RouteContext, weight: number): Promise<void> {
    const route = await readRequired(context, API, 'HTTPRoute', context.name, 'the gateway-api router');
    const spec = weightHttpRoute((route.spec ?? {}) as HttpRouteSpec, context, weight);
    await mergePatch(context, route, { spec });
  }

  async getRoutes(context: RouteContext): Promise<RouteWeights> {
    const route = await readRequired(context, API, 'HTTPRoute', context.name, 'the gateway-api router');
    return httpRouteWeights((route.spec ?? {}) as HttpRouteSpec, context);
  }

  async finalize(context: RouteContext): Promise<void> {
    await this.setRoutes(context, 0);
    await context.kube.delete('v1', 'Service', context.namespace, context.canaryService);
  }
}

/**
 * The HTTPRoute spec with every rule that sends traffic to the main Service split into two weighted
 * backendRefs: stable `100 - weight`, canary `weight` (no canary ref at 0). Other backends are kept.
 * @throws Error when no rule has a backendRef to the main Service
 */
export function weightHttpRoute(spec: HttpRouteSpec, names: RouteNames, weight: number): HttpRouteSpec {
  const rules = (spec.rules ?? []).map((rule) => {
    const refs = rule.backendRefs ?? [];
    const stable = refs.find((r) => r.name === names.name);
    if (!stable) return rule;
    const others = refs.filter((r) => r.name !== names.name && r.name !== names.canaryService);
    const canaryRef: BackendRef = { ...stable, name: names.canaryService, weight };
    return {
      ...rule,
      backendRefs: [...others, { ...stable, weight: 100 - weight }, ...(weight > 0 ? [canaryRef] : [])],
    };
  });
  if (!rules.some((rule) => rule.backendRefs?.some((r) => r.name === names.name))) {
    throw new Error(`HTTPRoute ${names.name} has no rule with a backendRef to Service ${names.name}`);
  }
  return { ...spec, rules };
}

/** The weights an HTTPRoute spec gives the stable and canary Services (a ref without weight counts 1). */
export function httpRouteWeights(spec: HttpRouteSpec, names: RouteNames): RouteWeights {
  const refs = spec.rules?.flatMap((r) => r.backendRefs ?? []) ?? [];
  const weightOf = (name: string) =>
    refs.filter((r) => r.name === name).reduce((sum, r) => sum + (r.weight ?? 1), 0);
  return percentages(weightOf(names.name), weightOf(names.canaryService));
}
