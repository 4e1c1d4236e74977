import { canaryName } from '../labels.js';
import { cookieRegex, percentages, type RouteNames, type RouteWeights, type StepMatch } from './types.js';
import { hostIsService, RouteObjectRouter } from './weighted.js';

interface Destination {
  destination: { host: string; port?: unknown; subset?: string };
  weight?: number;
  [key: string]: unknown;
}
type StringMatch = { exact: string } | { prefix: string } | { regex: string };
interface HttpMatch {
  headers?: Record<string, StringMatch>;
  [key: string]: unknown;
}
interface HttpRoute {
  match?: HttpMatch[];
  route?: Destination[];
  name?: string;
  [key: string]: unknown;
}
export interface VirtualServiceSpec {
  http?: HttpRoute[];
}

const API = 'networking.istio.io/v1';

/** Istio: the VirtualService `<name>` routes to the main Service; Gantry splits each such route by weight. */
export class IstioRouter extends RouteObjectRouter<VirtualServiceSpec> {
  constructor() {
    super({
      name: 'istio',
      apiVersion: API,
      kind: 'VirtualService',
      rewrite: weightVirtualService,
      weights: virtualServiceWeights,
    });
  }
}

/**
 * The VirtualService spec with every HTTP route to the main Service's host split by weight between it and the
 * canary Service (no canary destination at 0). Other destinations are kept.
 * With `match`, each such route gets a match route just before it (Istio takes the first route that
 * matches): the same matches, each also requiring the header (or the cookie, by a regex on the Cookie
 * header), to the canary host only. Match routes written before (a route whose only destinations are the
 * canary host) are removed first, so without `match` none is left.
 * @throws Error when no route goes to the main Service
 */
export function weightVirtualService(
  spec: VirtualServiceSpec,
  names: RouteNames,
  weight: number,
  match?: StepMatch,
): VirtualServiceSpec {
  const isStable = (d: Destination) => hostIsService(d.destination.host, names.name, names.namespace);
  const isCanary = (d: Destination) =>
    hostIsService(d.destination.host, names.canaryService, names.namespace);
  let matched = false;
  const http = (spec.http ?? [])
    .filter((route) => !isMatchRoute(route, names, isCanary))
    .flatMap((route): HttpRoute[] => {
      const destinations = route.route ?? [];
      const stable = destinations.find(isStable);
      if (!stable) return [route];
      matched = true;
      const others = destinations.filter((d) => !isStable(d) && !isCanary(d));
      const canary: Destination = {
        ...stable,
        destination: { ...stable.destination, host: names.canaryService },
        weight,
      };
      const weighted = {
        ...route,
        route: [...others, { ...stable, weight: 100 - weight }, ...(weight > 0 ? [canary] : [])],
      };
      if (!match) return [weighted];
      const { name: _name, ...copy } = route;
      const { weight: _weight, ...target } = stable;
      const matchRoute: HttpRoute = {
        ...copy,
        match: (route.match ?? [{}]).map((m) => ({ ...m, headers: { ...m.headers, ...headerMatch(match) } })),
        route: [{ ...target, destination: { ...stable.destination, host: names.canaryService } }],
      };
      return [matchRoute, weighted];
    });
  if (!matched) throw new Error(`VirtualService ${names.name} has no route to host ${names.name}`);
  return { ...spec, http };
}

/**
 * A route Gantry added for a match step: it has matches and its only destinations are the host of
 * `<name>-canary`, the Service Gantry owns for canaries (a blue-green preview's routes are never taken for one).
 */
function isMatchRoute(route: HttpRoute, names: RouteNames, isCanary: (d: Destination) => boolean): boolean {
  const destinations = route.route ?? [];
  return (
    names.canaryService === canaryName(names.name) &&
    destinations.length > 0 &&
    destinations.every(isCanary) &&
    (route.match?.length ?? 0) > 0
  );
}

function headerMatch(match: StepMatch): Record<string, StringMatch> {
  return match.kind === 'header'
    ? { [match.name]: { exact: match.value } }
    : { cookie: { regex: cookieRegex(match.name) } };
}

/**
 * The weights a VirtualService spec gives the stable and canary hosts (a destination without weight: 100);
 * match routes do not count.
 */
export function virtualServiceWeights(spec: VirtualServiceSpec, names: RouteNames): RouteWeights {
  const isCanary = (d: Destination) =>
    hostIsService(d.destination.host, names.canaryService, names.namespace);
  const destinations =
    spec.http?.filter((h) => !isMatchRoute(h, names, isCanary)).flatMap((h) => h.route ?? []) ?? [];
  const weightOf = (name: string) =>
    destinations
      .filter((d) => hostIsService(d.destination.host, name, names.namespace))
      .reduce((s, d) => s + (d.weight ?? 100), 0);
  return percentages(weightOf(names.name), weightOf(names.canaryService));
}
