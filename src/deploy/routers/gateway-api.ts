import type { RouteContext, Router } from './types.js';
import { ensureCanaryService, mergePatch, readRequired } from './weighted.js';

interface BackendRef {
  name: string;
  port?: number;
  weight?: number;
  [key: string]: unknown;
}
interface HttpRouteSpec {
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
    const rules = ((route.spec as HttpRouteSpec | undefined)?.rules ?? []).map((rule) => {
      const refs = rule.backendRefs ?? [];
      const stable = refs.find((r) => r.name === context.name);
      if (!stable) return rule;
      const others = refs.filter((r) => r.name !== context.name && r.name !== context.canaryService);
      const canaryRef: BackendRef = { ...stable, name: context.canaryService, weight };
      return {
        ...rule,
        backendRefs: [...others, { ...stable, weight: 100 - weight }, ...(weight > 0 ? [canaryRef] : [])],
      };
    });
    if (!rules.some((rule) => rule.backendRefs?.some((r) => r.name === context.name))) {
      throw new Error(`HTTPRoute ${context.name} has no rule with a backendRef to Service ${context.name}`);
    }
    await mergePatch(context, route, { spec: { ...(route.spec ?? {}), rules } });
  }

  async getRoutes(context: RouteContext): Promise<{ stable: number; canary: number }> {
    const route = await readRequired(context, API, 'HTTPRoute', context.name, 'the gateway-api router');
    const refs = (route.spec as HttpRouteSpec | undefined)?.rules?.flatMap((r) => r.backendRefs ?? []) ?? [];
    const weightOf = (name: string) =>
      refs.filter((r) => r.name === name).reduce((sum, r) => sum + (r.weight ?? 1), 0);
    const stable = weightOf(context.name);
    const canary = weightOf(context.canaryService);
    const total = stable + canary || 1;
    return { stable: Math.round((stable / total) * 100), canary: Math.round((canary / total) * 100) };
  }

  async finalize(context: RouteContext): Promise<void> {
    await this.setRoutes(context, 0);
    await context.kube.delete('v1', 'Service', context.namespace, context.canaryService);
  }
}
