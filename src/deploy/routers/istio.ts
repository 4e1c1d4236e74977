import type { RouteContext, Router } from './types.js';
import { ensureCanaryService, hostIsService, mergePatch, readRequired } from './weighted.js';

interface Destination {
  destination: { host: string; port?: unknown; subset?: string };
  weight?: number;
  [key: string]: unknown;
}
interface VirtualServiceSpec {
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
    const isStable = (d: Destination) => hostIsService(d.destination.host, context.name, context.namespace);
    const isCanary = (d: Destination) =>
      hostIsService(d.destination.host, context.canaryService, context.namespace);
    let matched = false;
    const http = ((service.spec as VirtualServiceSpec | undefined)?.http ?? []).map((route) => {
      const destinations = route.route ?? [];
      const stable = destinations.find(isStable);
      if (!stable) return route;
      matched = true;
      const others = destinations.filter((d) => !isStable(d) && !isCanary(d));
      const canary: Destination = {
        ...stable,
        destination: { ...stable.destination, host: context.canaryService },
        weight,
      };
      return {
        ...route,
        route: [...others, { ...stable, weight: 100 - weight }, ...(weight > 0 ? [canary] : [])],
      };
    });
    if (!matched) throw new Error(`VirtualService ${context.name} has no route to host ${context.name}`);
    await mergePatch(context, service, { spec: { ...(service.spec ?? {}), http } });
  }

  async getRoutes(context: RouteContext): Promise<{ stable: number; canary: number }> {
    const service = await readRequired(context, API, 'VirtualService', context.name, 'the istio router');
    const destinations =
      (service.spec as VirtualServiceSpec | undefined)?.http?.flatMap((h) => h.route ?? []) ?? [];
    const weightOf = (name: string) =>
      destinations
        .filter((d) => hostIsService(d.destination.host, name, context.namespace))
        .reduce((s, d) => s + (d.weight ?? 100), 0);
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
