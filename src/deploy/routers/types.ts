import type { Kube } from '../kube.js';
import type { Manifest } from '../manifests.js';

/** What a router needs to know about the rollout it routes. */
export interface RouteContext {
  kube: Kube;
  namespace: string;
  /** The app: stable Deployment and main Service name. */
  name: string;
  /** The Service in front of the new version (`<name>-canary`, or `<name>-preview` for blue-green). */
  canaryService: string;
  /** The main Service's manifest (ports, selector) as applied. */
  service: Manifest;
  /** Stable replicas, for the replica-ratio router. */
  stableReplicas: number;
  /** The new version's Deployment name. */
  canaryDeployment: string;
  signal?: AbortSignal;
  timeoutMs: number;
  /** Progress lines (a gateway's refusal noted while traffic goes back to stable, which it does not stop). */
  note?: (line: string) => void;
}

/** The names a router writes weights between (what its pure object rewrites need). */
export type RouteNames = Pick<RouteContext, 'name' | 'canaryService' | 'namespace'>;

/** Weights as the cluster says, in percent of the traffic that reaches the app. */
export interface RouteWeights {
  stable: number;
  canary: number;
}

/** Stable and canary shares in percent of their sum (both 0 when nothing reaches either). */
export function percentages(stable: number, canary: number): RouteWeights {
  const total = stable + canary || 1;
  return { stable: Math.round((stable / total) * 100), canary: Math.round((canary / total) * 100) };
}

/**
 * What a match step sends to the new version: requests with the header `name: value`, or with the cookie
 * `name=always` (NGINX's canary-by-cookie convention, which every router follows). Header names lower case.
 */
export type StepMatch = { kind: 'header'; name: string; value: string } | { kind: 'cookie'; name: string };

/** The value a match cookie must have. */
export const MATCH_COOKIE_VALUE = 'always';

/**
 * The regular expression (RE2, matched against the whole `Cookie` header, as Envoy-based proxies do) that a
 * request carrying the cookie `name=always` satisfies.
 */
export function cookieRegex(name: string): string {
  const escaped = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return `(.*;\\s*)?${escaped}=${MATCH_COOKIE_VALUE}(\\s*;.*)?`;
}

/** A match in words, for progress lines and events: `header x-canary: always`, `cookie canary=always`. */
export function describeMatch(match: StepMatch): string {
  return match.kind === 'header'
    ? `header ${match.name}: ${match.value}`
    : `cookie ${match.name}=${MATCH_COOKIE_VALUE}`;
}

/**
 * A router moves traffic between the stable version and the new one. Four methods, as in Flagger:
 * set up what routing needs, write a weight, read the weight back, and tear canary routing down.
 */
export interface Router {
  readonly name: 'replicas' | 'gateway-api' | 'istio' | 'nginx';
  /** Creates or updates the routing objects (weights at 0 for the new version). */
  reconcile(context: RouteContext): Promise<void>;
  /**
   * Sends `weight` percent of traffic to the new version; resolves once it is in effect. With `match` (weight
   * 0), the requests that match go to the new version and no others; without, any match rule is removed.
   */
  setRoutes(context: RouteContext, weight: number, match?: StepMatch): Promise<void>;
  /** The weight currently in effect, as the cluster says. */
  getRoutes(context: RouteContext): Promise<{ stable: number; canary: number }>;
  /** All traffic to stable (match rules removed); removes the routing objects that existed only for the rollout. */
  finalize(context: RouteContext): Promise<void>;
  /** Whether the main Service must select the stable track only (true for every router but replicas). */
  readonly pinsStableSelector: boolean;
}
