import { canaryName } from '../labels.js';
import type { Manifest } from '../manifests.js';
import { awaitRouteAccepted, managedParents, type ParentRef, RouteRejected } from './route-status.js';
import {
  cookieRegex,
  percentages,
  type RouteContext,
  type RouteNames,
  type RouteWeights,
  type StepMatch,
} from './types.js';
import { RouteObjectRouter } from './weighted.js';

interface BackendRef {
  name: string;
  port?: number;
  weight?: number;
  [key: string]: unknown;
}
interface HeaderMatch {
  type?: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}
interface RouteMatch {
  headers?: HeaderMatch[];
  [key: string]: unknown;
}
interface HttpRouteRule {
  matches?: RouteMatch[];
  backendRefs?: BackendRef[];
  name?: string;
  [key: string]: unknown;
}
export interface HttpRouteSpec {
  rules?: HttpRouteRule[];
}

const API = 'gateway.networking.k8s.io/v1';

/**
 * Gateway API: the HTTPRoute `<name>` (from the manifests) sends traffic to the main Service; Gantry rewrites
 * every rule that does so into two weighted backendRefs, stable and canary. After each write it waits until
 * every gateway that manages the route has judged the new spec (`status.parents[]`: Accepted, ResolvedRefs):
 * a weight is in effect only then, and a route a gateway refuses fails the rollout (route-status.ts).
 */
export class GatewayApiRouter extends RouteObjectRouter<HttpRouteSpec> {
  constructor() {
    // The parents with a controller, looked up once per rollout (at the first write).
    let parents: Promise<ParentRef[]> | undefined;
    super({
      name: 'gateway-api',
      apiVersion: API,
      kind: 'HTTPRoute',
      rewrite: weightHttpRoute,
      weights: httpRouteWeights,
      confirm: async (context: RouteContext, written: Manifest, strict: boolean) => {
        parents ??= managedParents(context, written);
        const managed = await parents;
        if (managed.length === 0) return;
        try {
          await awaitRouteAccepted(context, written, managed);
        } catch (error) {
          if (strict || !(error instanceof RouteRejected)) throw error;
          context.note?.(`warning: ${error.message}`);
        }
      },
    });
  }
}

/**
 * The HTTPRoute spec with every rule that sends traffic to the main Service split into two weighted
 * backendRefs: stable `100 - weight`, canary `weight` (no canary ref at 0). Other backends are kept.
 * With `match`, each such rule also gets a match rule after it: the same matches, each also requiring the
 * header (or the cookie, by a regular expression on the Cookie header), sending to the canary Service only.
 * Gateway API prefers the rule with more header matches whatever the order, so matched requests go to the
 * canary and the rest follow the weights. Match rules written before (a rule whose only backend is the
 * canary Service) are removed first, so without `match` none is left.
 * @throws Error when no rule has a backendRef to the main Service
 */
export function weightHttpRoute(
  spec: HttpRouteSpec,
  names: RouteNames,
  weight: number,
  match?: StepMatch,
): HttpRouteSpec {
  const rules = (spec.rules ?? [])
    .filter((rule) => !isMatchRule(rule, names))
    .flatMap((rule): HttpRouteRule[] => {
      const refs = rule.backendRefs ?? [];
      const stable = refs.find((r) => r.name === names.name);
      if (!stable) return [rule];
      const others = refs.filter((r) => r.name !== names.name && r.name !== names.canaryService);
      const canaryRef: BackendRef = { ...stable, name: names.canaryService, weight };
      const weighted = {
        ...rule,
        backendRefs: [...others, { ...stable, weight: 100 - weight }, ...(weight > 0 ? [canaryRef] : [])],
      };
      if (!match) return [weighted];
      const { name: _name, ...copy } = rule;
      const { weight: _weight, ...target } = stable;
      const matchRule: HttpRouteRule = {
        ...copy,
        matches: (rule.matches ?? [{}]).map((m) => ({
          ...m,
          headers: [...(m.headers ?? []), headerMatch(match)],
        })),
        backendRefs: [{ ...target, name: names.canaryService }],
      };
      return [weighted, matchRule];
    });
  if (!rules.some((rule) => rule.backendRefs?.some((r) => r.name === names.name))) {
    throw new Error(`HTTPRoute ${names.name} has no rule with a backendRef to Service ${names.name}`);
  }
  return { ...spec, rules };
}

/**
 * A rule Gantry added for a match step: it has matches and its only backends are `<name>-canary`, the Service
 * Gantry owns for canaries (a blue-green preview's rules are never taken for one).
 */
function isMatchRule(rule: HttpRouteRule, names: RouteNames): boolean {
  const refs = rule.backendRefs ?? [];
  return (
    names.canaryService === canaryName(names.name) &&
    refs.length > 0 &&
    refs.every((r) => r.name === names.canaryService) &&
    (rule.matches?.length ?? 0) > 0
  );
}

function headerMatch(match: StepMatch): HeaderMatch {
  return match.kind === 'header'
    ? { type: 'Exact', name: match.name, value: match.value }
    : { type: 'RegularExpression', name: 'cookie', value: cookieRegex(match.name) };
}

/**
 * The weights an HTTPRoute spec gives the stable and canary Services (a ref without weight counts 1); match
 * rules do not count.
 */
export function httpRouteWeights(spec: HttpRouteSpec, names: RouteNames): RouteWeights {
  const refs = spec.rules?.filter((r) => !isMatchRule(r, names)).flatMap((r) => r.backendRefs ?? []) ?? [];
  const weightOf = (name: string) =>
    refs.filter((r) => r.name === name).reduce((sum, r) => sum + (r.weight ?? 1), 0);
  return percentages(weightOf(names.name), weightOf(names.canaryService));
}
