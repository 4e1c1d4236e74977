import { percentages, type RouteContext, type RouteNames, type Router, type RouteWeights } from './types.js';
import { ensureCanaryService, hostIsService, mergePatch, readRequired } from './weighted.js';

interface Destination {
  destination: { host: string; port?: unknown; subset?: string };
  weight?: number;
  [key: string]: unknown;
}
export interface VirtualServiceSpec {
  http?: { route?: Destination[]; [key: string]: unknown }[];
}

const API = 'networking.istio.io/v1';

/** Istio: the VirtualService `<name>` routes to the main Service; Gantry splits each such route by weight. */
export class IstioRouter implements Router {
  readonly name = 'istio' as const;
  readonly pinsStableSelector = true;

  async reconcile(context: RouteContext): Promise<void> {
    await ensureCanaryService(context);
    await this.setRoutes(context, 0);
  }

  async setRoutes(context: RouteContext, weight: number): Promise<void> {
    const service = await readRequired(context, API, 'VirtualService', context.name, 'the istio router');
    const spec = weightVirtualService((service.spec ?? {}) as VirtualServiceSpec, context, weight);
    await mergePatch(context, service, { spec });
  }

  async getRoutes(context: RouteContext): Promise<RouteWeights> {
    const service = await readRequired(context, API, 'VirtualService', context.name, 'the istio router');
    return virtualServiceWeights((service.spec ?? {}) as VirtualServiceSpec, context);
  }

  async finalize(context: RouteContext): Promise<void> {
    await this.setRoutes(context, 0);
    await context.kube.delete('v1', 'Service', context.namespace, context.canaryService);
  }
}

/**
 * The VirtualService spec with every HTTP route to the main Service's host split by weight between it and the
 * canary Service (no canary destination at 0). Other destinations are kept.
 * @throws Error when no route goes to the main Service
 */
export function weightVirtualService(
  spec: VirtualServiceSpec,
  names: RouteNames,
  weight: number,
): VirtualServiceSpec {
  const isStable = (d: Destination) => hostIsService(d.destination.host, names.name, names.namespace);
  const isCanary = (d: Destination) =>
    hostIsService(d.destination.host, names.canaryService, names.namespace);
  let matched = false;
  const http = (spec.http ?? []).map((route) => {
    const destinations = route.route ?? [];
    const stable = destinations.find(isStable);
    if (!stable) return route;
    matched = true;
    const others = destinations.filter((d) => !isStable(d) && !isCanary(d));
    const canary: Destination = {
      ...stable,
      destination: { ...stable.destination, host: names.canaryService },
      weight,
    };
    return {
      ...route,
      route: [...others, { ...stable, weight: 100 - weight }, ...(weight > 0 ? [canary] : [])],
    };
  });
  if (!matched) throw new Error(`VirtualService ${names.name} has no route to host ${names.name}`);
  return { ...spec, http };
}

/** The weights a VirtualService spec gives the stable and canary hosts (a destination without weight: 100). */
export function virtualServiceWeights(spec: VirtualServiceSpec, names: RouteNames): RouteWeights {
  const destinations = spec.http?.flatMap((h) => h.route ?? []) ?? [];
  const weightOf = (name: string) =>
    destinations
      .filter((d) => hostIsService(d.destination.host, name, names.namespace))
      .reduce((s, d) => s + (d.weight ?? 100), 0);
  return percentages(weightOf(names.name), weightOf(names.canaryService));
}
