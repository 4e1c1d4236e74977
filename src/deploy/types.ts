/**
 * Shapes shared by the rollout engine, the analysis and the run report. The JSON result of
 * `gantry deploy --json` is a {@link RolloutReport}.
 */

export type StrategyName = 'rolling' | 'canary' | 'blue-green';
export type RouterName = 'replicas' | 'gateway-api' | 'istio' | 'nginx';
export type Verdict = 'promoted' | 'rolled-back' | 'failed';

/** One metric of the analysis: a provider query checked against bounds every interval. */
export interface MetricSpec {
  name: string;
  /** PromQL with placeholders: {{namespace}}, {{name}}, {{track}}, {{canary}}, {{stable}}, {{interval}}, {{step}}, {{run}}. */
  query: string;
  /** The measurement fails when below min or above max (inclusive bounds pass). */
  min?: number;
  max?: number;
  /** Optional baseline judgement: the canary's samples against the stable track's (Mann-Whitney U). */
  compare?: {
    /** Which direction is worse: `increase` (errors, latency) or `decrease` (throughput, success rate). */
    worse: 'increase' | 'decrease';
    /** Significance level for the U test (default 0.05). */
    alpha: number;
    /** Minimum effect size (|Cliff's delta|, 0–1) before a significant difference counts (default 0.3). */
    minEffectSize: number;
    /** Samples needed on each side before judging (default 5). */
    minSamples: number;
  };
  /**
   * The sequential judge, decided as soon as the evidence allows, with a bounded false-rollback probability
   * however often it looks: the canary's error counts against the stable's (src/deploy/analysis/sequential.ts),
   * or its latency histogram against the stable's (src/deploy/analysis/sequential-latency.ts).
   */
  sequential?: SequentialCountsSpec | SequentialLatencySpec;
}

interface SequentialCommon {
  alpha: number;
  beta: number;
  minRequests: number;
  endEarly: boolean;
}

export interface SequentialCountsSpec extends SequentialCommon {
  /** Cumulative error and request counts of the track `{{track}}`. */
  errors: string;
  requests: string;
  minRatio: number;
}

export interface SequentialLatencySpec extends SequentialCommon {
  /** The cumulative histogram buckets of the track `{{track}}`, one series per `le` (`sum by (le) (…_bucket{…})`). */
  latency: string;
  /** The quantile the smallest regression is measured at (0.95). */
  quantile: number;
  /** The smallest regression that matters: the canary's quantile this much above the stable's (ms). */
  minShiftMs: number;
}

export interface AnalysisSpec {
  /** Milliseconds between measurements. */
  intervalMs: number;
  /** Failed measurements tolerated per metric before the rollout aborts (0: the first failure aborts). */
  failureLimit: number;
  /** Inconclusive measurements (no data) tolerated per metric before the rollout aborts. */
  inconclusiveLimit: number;
  metrics: MetricSpec[];
  /** Where the metrics come from, and how to authenticate (the file's `provider:`); absent: --prometheus-url. */
  provider?: ProviderSpec;
}

/**
 * The analysis file's `provider:` as written: the server and how to reach it. Credentials are named (an
 * environment variable or a file), never written in the file; they are read when the rollout starts.
 */
export interface ProviderSpec {
  /**
   * `prometheus`: any server with the Prometheus HTTP API (Prometheus, Thanos, Mimir, Cortex, VictoriaMetrics);
   * `influxdb`: InfluxDB 1.x's HTTP API, InfluxQL queries.
   * `graphite`: Graphite's render API, target expressions; `web`: any JSON endpoint, a path and a JSONPath.
   * `cloudwatch`: Amazon CloudWatch's GetMetricData.
   */
  type: 'prometheus' | 'influxdb' | 'datadog' | 'newrelic' | 'graphite' | 'web' | 'cloudwatch';
  /** cloudwatch: the AWS region (else $AWS_REGION, else $AWS_DEFAULT_REGION). */
  region?: string;
  /** cloudwatch: the variables holding the access key (else AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). */
  accessKeyIdEnv?: string;
  secretAccessKeyEnv?: string;
  sessionTokenEnv?: string;
  /** influxdb: the database the queries read. */
  database?: string;
  /** newrelic: the account the NRQL runs in. */
  accountId?: number;
  /** datadog, graphite, cloudwatch: how far back a query looks (ms; default 5 min). */
  windowMs?: number;
  /** Base address; wins over --prometheus-url and $PROMETHEUS_URL. */
  url?: string;
  /** Basic authentication: the user name, and where the password is. */
  basicAuth?: { username: string; passwordEnv?: string; passwordFile?: string };
  /** Bearer token (`Authorization: Bearer …`): the variable or file holding it. */
  bearerTokenEnv?: string;
  bearerTokenFile?: string;
  /** Extra request headers with literal values (`X-Scope-OrgID: tenant-a` for Mimir/Cortex/Thanos tenants). */
  headers?: Record<string, string>;
  /** Extra request headers whose values are secrets: header name → environment variable. */
  headersFromEnv?: Record<string, string>;
  /** PEM file of the CA(s) that sign the server's certificate (https with a private CA). */
  caFile?: string;
  /** One request's bound (default 10 s). */
  timeoutMs?: number;
}

export type CheckResult = 'pass' | 'fail' | 'inconclusive';

/** One measurement of one metric. */
export interface Check {
  metric: string;
  /** Index of the rollout step (0-based) during which it was taken. */
  step: number;
  at: string;
  /** null when the provider returned no data. */
  value: number | null;
  min?: number;
  max?: number;
  result: CheckResult;
  /** A sentence a person can read: "0.43 > max 0.05". */
  message: string;
}

export interface StepRecord {
  index: number;
  /** Percentage of traffic to the new version during the step. */
  weight: number;
  startedAt: string;
  endedAt?: string;
  result: 'passed' | 'failed' | 'aborted' | 'running';
}

export interface RolloutTimings {
  startedAt: string;
  finishedAt?: string;
  canaryTrafficStartedAt: string | null;
  abortDecidedAt: string | null;
  trafficRestoredAt: string | null;
  canaryRemovedAt: string | null;
  promotedAt: string | null;
}

/** A ConfigMap or Secret the new version reads, released as a versioned copy: names and hashes, never content. */
export interface ConfigVersion {
  kind: 'ConfigMap' | 'Secret';
  /** The name in the manifests. */
  name: string;
  /** The copy this release reads: `<name>-<hash>`. */
  version: string;
  /** The copy the stable version read before this run (`null`: none, or not a Gantry copy). */
  previous: string | null;
}

/** The points of a rollout where a hook runs (src/deploy/hooks/spec.ts, docs/hooks.md). */
export type HookType =
  | 'confirm-rollout'
  | 'pre-rollout'
  | 'rollout'
  | 'confirm-promotion'
  | 'post-rollout'
  | 'rollback';

/** One hook's outcome at one point of the rollout, as the report shows it. */
export interface HookResult {
  hook: string;
  type: HookType;
  /** When the (last) answer came. */
  at: string;
  /**
   * pass: it said yes (2xx, exit 0); fail: it said no, or never answered. For confirm-* hooks: pass when it
   * confirmed, fail when the gate ended without its confirmation. For rollback hooks (recorded only when they
   * ask): pass means "rollback requested".
   */
  result: 'pass' | 'fail';
  /** Calls made (confirm-*: times asked; others: attempts, retries included). */
  attempts: number;
  durationMs: number;
  /** What it answered, in a line: `HTTP 200`, `exit 1: smoke test failed`, `unreachable: …`. */
  message: string;
}

export interface RolloutReport {
  verdict: Verdict;
  name: string;
  namespace: string;
  strategy: StrategyName;
  router: RouterName;
  runId: string;
  /** The Deployment's revision after the run. */
  revision: string | null;
  previousImage: string | null;
  image: string;
  /**
   * The ConfigMaps and Secrets released as versioned copies (names and hashes only); absent when the
   * Deployment reads none from the manifests.
   */
  config?: ConfigVersion[];
  /** Why the rollout ended as it did, in one sentence. */
  reason: string;
  steps: StepRecord[];
  checks: Check[];
  /**
   * The hooks' answers (`--hooks`): pre-rollout, confirm-*, post-rollout, and a rollback hook that asked;
   * rollout hooks are checks (`hook <name>`). Absent without a hooks file.
   */
  hooks?: HookResult[];
  timings: RolloutTimings;
}
