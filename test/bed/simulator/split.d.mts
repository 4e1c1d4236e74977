// Types of split.mjs (the simulator's pure split logic), for the TypeScript tests that import it.

/** The subset of a Kubernetes object the simulator reads; the real objects carry much more. */
export interface KubeObject {
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string | Date;
  };
  // biome-ignore lint/suspicious/noExplicitAny: spec and status differ per kind; split.mjs reads them defensively
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: see spec
  status?: any;
}

export interface ClusterSnapshot {
  pods?: readonly KubeObject[];
  services?: readonly KubeObject[];
  ingresses?: readonly KubeObject[];
  httpRoutes?: readonly KubeObject[];
  virtualServices?: readonly KubeObject[];
  /** ConfigMaps, read for the pods' TESTBED_ERROR_RATE / TESTBED_LATENCY_MS environment. */
  configMaps?: readonly KubeObject[];
}

export interface TrackStats {
  /** Requests/s served by the track's ready pods (user traffic plus preview traffic). */
  rps: number;
  /** Requests/s sent to a backend of this track that had no ready pod: answered 503. */
  unavailableRps: number;
  /** Ready pods that received this traffic. */
  readyPods: number;
  /** Mean of their `testbed.gantry.dev/error-rate` (0–1), else of their TESTBED_ERROR_RATE environment. */
  errorRate: number;
  /** Mean of their `testbed.gantry.dev/latency-ms`. */
  latencyMs: number;
  /**
   * The same, per run label of the pods (`gantry.dev/run-id`; '' for pods without one). Optional for the
   * metrics: a track without it is one unlabelled series.
   */
  runs?: Record<string, RunStats>;
}

export interface RunStats {
  rps: number;
  readyPods: number;
  errorRate: number;
  latencyMs: number;
}

export interface Backend {
  service: string;
  /** Fraction (0–1) of the app's user traffic sent to this Service. */
  weight: number;
  /** Ready pods per track the Service selects. */
  readyPods: Record<string, number>;
}

export interface AppSplit {
  namespace: string;
  app: string;
  /** User traffic of the app, requests/s (annotation testbed.gantry.dev/rps on the main Service, or default). */
  rps: number;
  /** The seed of the app's random variation (annotation testbed.gantry.dev/noise on the main Service); absent: exact. */
  noise?: string;
  /** What decides the split: a route object, the main Service, or null (preview traffic only). */
  source: { kind: 'HTTPRoute' | 'VirtualService' | 'Ingress' | 'Service'; name: string } | null;
  backends: Backend[];
  /** Share (0–1) of the user traffic per track; sums to 1 when any backend has weight. */
  shares: Record<string, number>;
  /** The synthetic test traffic of `<app>-preview`, if that Service exists. */
  preview: { service: string; rps: number; readyPods: Record<string, number> } | null;
  /** Per track: what the metrics are made of. */
  tracks: Record<string, TrackStats>;
  /**
   * Only for an app some of whose requests carry a header or cookie (testbed.gantry.dev/header-share,
   * …/cookie-share on the main Service) and that a route claims: each kind of request, routed on its own.
   */
  requests?: RequestKindSplit[];
}

export interface RequestKindSplit {
  kind: 'header' | 'cookie' | 'plain';
  /** `x-canary: always` (header), `canary=always` (cookie), null (plain). */
  match: string | null;
  /** Fraction (0–1) of the app's user requests that are of this kind. */
  share: number;
  /** Fractions of this kind's requests per backend Service. */
  backends: { service: string; weight: number }[];
  /** Fractions of this kind's requests per track (sum 1). */
  shares: Record<string, number>;
}

export const TRACK_LABEL: 'gantry.dev/track';
export const RUN_LABEL: 'gantry.dev/run-id';
export const RPS_ANNOTATION: 'testbed.gantry.dev/rps';
export const NOISE_ANNOTATION: 'testbed.gantry.dev/noise';
export const ERROR_RATE_ANNOTATION: 'testbed.gantry.dev/error-rate';
export const LATENCY_ANNOTATION: 'testbed.gantry.dev/latency-ms';
export const ERROR_RATE_ENV: 'TESTBED_ERROR_RATE';
export const LATENCY_ENV: 'TESTBED_LATENCY_MS';
export const NGINX_CANARY: 'nginx.ingress.kubernetes.io/canary';
export const NGINX_CANARY_WEIGHT: 'nginx.ingress.kubernetes.io/canary-weight';
export const NGINX_CANARY_WEIGHT_TOTAL: 'nginx.ingress.kubernetes.io/canary-weight-total';
export const NGINX_CANARY_BY_HEADER: 'nginx.ingress.kubernetes.io/canary-by-header';
export const NGINX_CANARY_BY_HEADER_VALUE: 'nginx.ingress.kubernetes.io/canary-by-header-value';
export const NGINX_CANARY_BY_COOKIE: 'nginx.ingress.kubernetes.io/canary-by-cookie';
export const HEADER_SHARE_ANNOTATION: 'testbed.gantry.dev/header-share';
export const HEADER_ANNOTATION: 'testbed.gantry.dev/header';
export const COOKIE_SHARE_ANNOTATION: 'testbed.gantry.dev/cookie-share';
export const COOKIE_ANNOTATION: 'testbed.gantry.dev/cookie';
export const DEFAULT_HEADER: { name: string; value: string };
export const DEFAULT_COOKIE: { name: string; value: string };
export const DEFAULT_RPS: number;
export const DEFAULT_LATENCY_MS: number;
export const PREVIEW_RPS_FRACTION: number;

export function computeSplits(snapshot: ClusterSnapshot, options?: { defaultRps?: number }): AppSplit[];
export function isReady(pod: KubeObject): boolean;
export function podEnv(
  pod: KubeObject,
  name: string,
  configMaps: Map<string, Map<string, KubeObject & { data?: Record<string, string> }>>,
): string | undefined;
export function trackOf(pod: KubeObject): string;
export function runOf(pod: KubeObject): string;
/** namespace → name → object, as podEnv and podSettings take ConfigMaps. */
export function byNamespace<T extends KubeObject>(objects: readonly T[]): Map<string, Map<string, T>>;
/** A pod's error rate (0–1) and latency (ms): its annotations, else its first container's environment. */
export function podSettings(
  pod: KubeObject,
  configMaps: Map<string, Map<string, KubeObject & { data?: Record<string, string> }>>,
): { errorRate: number; latencyMs: number };
