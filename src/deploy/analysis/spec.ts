import { z } from 'zod';
import { parseDuration } from '../../util/duration.js';
import { InputError } from '../../util/errors.js';
import { readYamlFile } from '../../util/yaml-file.js';
import type {
  AnalysisSpec,
  MetricSpec,
  ProviderSpec,
  SequentialCountsSpec,
  SequentialLatencySpec,
} from '../types.js';

export { parseDuration };

/**
 * The analysis file (`--analysis analysis.yml`) and the `analysis:` section of gantry.yml share this schema:
 *
 * ```yaml
 * interval: 30s            # duration (500ms, 5s, 1m, 1m30s) or a number of seconds; default 30s
 * failureLimit: 0          # failed measurements tolerated per metric; default 0 (the first breach aborts)
 * inconclusiveLimit: 1     # no-data measurements tolerated per metric; default 1
 * metrics:
 *   - name: error-rate
 *     query: sum(rate(http_requests_total{namespace="{{namespace}}",track="{{track}}",run="{{run}}",code=~"5.."}[{{interval}}]))
 *            / sum(rate(http_requests_total{namespace="{{namespace}}",track="{{track}}",run="{{run}}"}[{{interval}}]))
 *     max: 0.05            # numbers only: a ratio, not "5%"
 *   - name: latency-p99
 *     query: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{track="{{track}}",run="{{run}}"}[1m])))
 *     compare: { worse: increase }   # alpha 0.05, minEffectSize 0.3, minSamples 5 by default
 * ```
 *
 * Defaults, and why they differ from Argo Rollouts (failureLimit 0, inconclusiveLimit 0): the failure limit is
 * the same, a real breach aborts at once. In Argo an inconclusive result pauses the rollout for a person;
 * here it aborts, and the first measurement after a canary starts often has no samples yet in its `rate()`
 * window. A limit of 0 would roll back healthy releases for that alone, so one inconclusive measurement per
 * metric is tolerated by default. No data is still never a pass: a step passes only with a real measurement
 * of every metric.
 */

export const DEFAULT_INTERVAL = '30s';
export const DEFAULT_FAILURE_LIMIT = 0;
export const DEFAULT_INCONCLUSIVE_LIMIT = 1;
export const COMPARE_DEFAULTS = { alpha: 0.05, minEffectSize: 0.3, minSamples: 5 } as const;

const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 3_600_000;

const intervalSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a duration like 30s, 500ms or 1m, or a number of seconds',
      input: value,
    });
    return z.NEVER;
  }
  if (ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) {
    ctx.addIssue({ code: 'custom', message: 'expected an interval between 100ms and 1h', input: value });
    return z.NEVER;
  }
  return Math.round(ms);
});

const number = () => z.number({ error: 'expected a number' });

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');
// Header names are RFC 9110 tokens; Authorization is set by basicAuth or bearerToken*, never by hand.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headerMap = <T extends z.ZodType<string>>(value: T) =>
  z.record(z.string(), value).superRefine((headers, ctx) => {
    for (const name of Object.keys(headers)) {
      if (!HEADER_NAME.test(name))
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'expected an HTTP header name',
          input: undefined,
        });
      else if (name.toLowerCase() === 'authorization')
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'set Authorization with basicAuth or bearerTokenEnv/File',
          input: undefined,
        });
    }
  });

/** The metrics server and how to reach it (README, "Where the metrics come from"). */
const providerSchema = z
  .strictObject({
    type: z
      .enum(['prometheus', 'influxdb', 'datadog', 'newrelic', 'graphite', 'web', 'cloudwatch'])
      .default('prometheus'),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'expected an AWS region like eu-west-1')
      .optional(),
    accessKeyIdEnv: envName.optional(),
    secretAccessKeyEnv: envName.optional(),
    sessionTokenEnv: envName.optional(),
    database: z.string().min(1).optional(),
    accountId: z.number().int().positive().optional(),
    window: intervalSchema.optional(),
    url: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }).optional(),
    basicAuth: z
      .strictObject({
        username: z.string().min(1),
        passwordEnv: envName.optional(),
        passwordFile: z.string().min(1).optional(),
      })
      .refine((auth) => (auth.passwordEnv === undefined) !== (auth.passwordFile === undefined), {
        message: 'needs exactly one of passwordEnv or passwordFile',
      })
      .optional(),
    bearerTokenEnv: envName.optional(),
    bearerTokenFile: z.string().min(1).optional(),
    headers: headerMap(z.string()).optional(),
    headersFromEnv: headerMap(envName).optional(),
    caFile: z.string().min(1).optional(),
    timeout: intervalSchema.optional(),
  })
  .superRefine((provider, ctx) => {
    const ways = [provider.basicAuth, provider.bearerTokenEnv, provider.bearerTokenFile].filter(
      Boolean,
    ).length;
    if (provider.type === 'influxdb' && !provider.url)
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'required with type influxdb',
        input: undefined,
      });
    if (provider.type === 'influxdb' && !provider.database)
      ctx.addIssue({
        code: 'custom',
        path: ['database'],
        message: 'required with type influxdb',
        input: undefined,
      });
    if (provider.type === 'influxdb' && provider.caFile)
      ctx.addIssue({
        code: 'custom',
        path: ['caFile'],
        message: 'not supported with type influxdb yet',
        input: undefined,
      });
    if (provider.type === 'newrelic' && provider.accountId === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['accountId'],
        message: 'required with type newrelic',
        input: undefined,
      });
    if (provider.type !== 'newrelic' && provider.accountId !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['accountId'],
        message: 'only with type newrelic',
        input: undefined,
      });
    if (
      provider.type !== 'datadog' &&
      provider.type !== 'graphite' &&
      provider.type !== 'cloudwatch' &&
      provider.window !== undefined
    )
      ctx.addIssue({
        code: 'custom',
        path: ['window'],
        message: 'only with type datadog, graphite or cloudwatch',
        input: undefined,
      });
    if ((provider.type === 'graphite' || provider.type === 'web') && !provider.url)
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: `required with type ${provider.type}`,
        input: undefined,
      });
    for (const field of ['region', 'accessKeyIdEnv', 'secretAccessKeyEnv', 'sessionTokenEnv'] as const)
      if (provider.type !== 'cloudwatch' && provider[field] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: 'only with type cloudwatch',
          input: undefined,
        });
    if (provider.type === 'cloudwatch') {
      if ((provider.accessKeyIdEnv === undefined) !== (provider.secretAccessKeyEnv === undefined))
        ctx.addIssue({
          code: 'custom',
          path: [provider.accessKeyIdEnv === undefined ? 'accessKeyIdEnv' : 'secretAccessKeyEnv'],
          message:
            'name both accessKeyIdEnv and secretAccessKeyEnv, or neither (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)',
          input: undefined,
        });
      if (provider.sessionTokenEnv !== undefined && provider.accessKeyIdEnv === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['sessionTokenEnv'],
          message: 'only with accessKeyIdEnv and secretAccessKeyEnv',
          input: undefined,
        });
      const foreign = (
        ['basicAuth', 'bearerTokenEnv', 'bearerTokenFile', 'headers', 'headersFromEnv', 'caFile'] as const
      ).find((field) => provider[field] !== undefined);
      if (foreign)
        ctx.addIssue({
          code: 'custom',
          path: [foreign],
          message:
            'not with type cloudwatch: its requests are signed with an AWS access key (accessKeyIdEnv and secretAccessKeyEnv, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)',
          input: undefined,
        });
    }
    if (
      (provider.type === 'datadog' || provider.type === 'newrelic') &&
      (provider.caFile || provider.basicAuth || provider.bearerTokenEnv || provider.bearerTokenFile)
    )
      ctx.addIssue({
        code: 'custom',
        message: `${provider.type} takes its keys as headers: use headersFromEnv (docs: README, "Where the metrics come from")`,
        input: undefined,
      });
    if (provider.type !== 'influxdb' && provider.database)
      ctx.addIssue({
        code: 'custom',
        path: ['database'],
        message: 'only with type influxdb',
        input: undefined,
      });
    if (ways > 1)
      ctx.addIssue({
        code: 'custom',
        message: 'use one of basicAuth, bearerTokenEnv or bearerTokenFile',
        input: undefined,
      });
  })
  .transform((provider): ProviderSpec => {
    const { timeout, window, ...rest } = provider;
    return {
      ...rest,
      ...(timeout !== undefined && { timeoutMs: timeout as number }),
      ...(window !== undefined && { windowMs: window as number }),
    };
  });
const limit = (fallback: number) =>
  z.int({ error: 'expected a whole number' }).min(0, 'expected 0 or more').default(fallback);

export const compareSchema = z.strictObject({
  worse: z.enum(['increase', 'decrease'], { error: 'expected increase or decrease' }),
  alpha: number()
    .gt(0, 'expected a level above 0')
    .max(0.5, 'expected a level of at most 0.5')
    .default(COMPARE_DEFAULTS.alpha),
  minEffectSize: number()
    .min(0, 'expected 0 to 1')
    .max(1, 'expected 0 to 1')
    .default(COMPARE_DEFAULTS.minEffectSize),
  // Below 3 samples per side no difference can reach p < 0.05 at all.
  minSamples: z
    .int({ error: 'expected a whole number' })
    .min(3, 'expected at least 3')
    .max(10_000, 'expected at most 10000')
    .default(COMPARE_DEFAULTS.minSamples),
});

export const SEQUENTIAL_DEFAULTS = { minRatio: 1.5, alpha: 0.01, beta: 0.05, minRequests: 20 } as const;

const query = () =>
  z.string({ error: 'expected a query' }).trim().min(1, 'expected a query, got an empty value');

export const SEQUENTIAL_LATENCY_DEFAULTS = { quantile: 0.95 } as const;

/**
 * The sequential judge: of counts (src/deploy/analysis/sequential.ts), the canary's errors against the stable's
 * (`errors`, `requests`, `minRatio`); or of latency (src/deploy/analysis/sequential-latency.ts), the canary's
 * histogram against the stable's (`latency`, `quantile`, `minShift`).
 */
export const sequentialSchema = z
  .strictObject({
    /** Cumulative error count of the track `{{track}}` (a counter's current value, summed). */
    errors: query().optional(),
    /** Cumulative request count of the track `{{track}}`. */
    requests: query().optional(),
    /** The smallest regression that matters: canary error rate over the stable's. */
    minRatio: number().gt(1, 'expected a ratio above 1, e.g. 1.5').max(50).optional(),
    /** The cumulative histogram buckets of the track `{{track}}`, by `le` (a Prometheus-compatible provider). */
    latency: query().optional(),
    /** The quantile the smallest regression is measured at. */
    quantile: number()
      .gt(0.5, 'expected a quantile above 0.5, e.g. 0.95')
      .lt(1, 'expected a quantile below 1')
      .optional(),
    /** The smallest regression that matters at that quantile: a duration (50ms). */
    minShift: z
      .string({ error: 'expected a duration with its unit, e.g. 50ms' })
      .transform((value, ctx) => {
        const ms =
          /^\s*\d/.test(value) && !/^\s*\d+(?:\.\d+)?\s*$/.test(value) ? parseDuration(value) : undefined;
        if (ms === undefined || ms <= 0 || ms > 3_600_000) {
          ctx.addIssue({
            code: 'custom',
            message: 'expected a duration with its unit between 1ms and 1h, e.g. 50ms',
            input: value,
          });
          return z.NEVER;
        }
        return ms;
      })
      .optional(),
    /** The false-rollback probability. */
    alpha: number().gt(0).max(0.2, 'expected at most 0.2').default(SEQUENTIAL_DEFAULTS.alpha),
    /** The chance of an early pass of a canary that is minRatio (minShift) worse (with endEarly). */
    beta: number().gt(0).max(0.5).default(SEQUENTIAL_DEFAULTS.beta),
    /** Requests each track must serve before any verdict. */
    minRequests: z.number().int().min(1).default(SEQUENTIAL_DEFAULTS.minRequests),
    /** A timed step ends with a pass as soon as a regression is ruled out (the pause is a maximum). */
    endEarly: z.boolean().default(false),
  })
  .superRefine((sequential, ctx) => {
    const issue = (path: string | undefined, message: string) =>
      ctx.addIssue({ code: 'custom', ...(path && { path: [path] }), message, input: undefined });
    const counts = sequential.errors !== undefined || sequential.requests !== undefined;
    const latency = sequential.latency !== undefined;
    if (counts && latency) return issue(undefined, 'either errors and requests, or latency, not both');
    if (!counts && !latency)
      return issue(
        undefined,
        'needs errors and requests (error counts) or latency (a latency histogram by le)',
      );
    if (counts) {
      if (sequential.errors === undefined) issue('errors', 'required');
      if (sequential.requests === undefined) issue('requests', 'required');
      for (const field of ['quantile', 'minShift'] as const)
        if (sequential[field] !== undefined) issue(field, 'only with latency');
      return;
    }
    if (sequential.minShift === undefined)
      issue('minShift', 'required with latency: the smallest regression that matters, e.g. 50ms');
    if (sequential.minRatio !== undefined) issue('minRatio', 'only with errors and requests');
  })
  .transform((sequential): SequentialCountsSpec | SequentialLatencySpec => {
    const common = {
      alpha: sequential.alpha,
      beta: sequential.beta,
      minRequests: sequential.minRequests,
      endEarly: sequential.endEarly,
    };
    if (sequential.latency !== undefined)
      return {
        latency: sequential.latency,
        quantile: sequential.quantile ?? SEQUENTIAL_LATENCY_DEFAULTS.quantile,
        minShiftMs: sequential.minShift!,
        ...common,
      };
    return {
      errors: sequential.errors!,
      requests: sequential.requests!,
      minRatio: sequential.minRatio ?? SEQUENTIAL_DEFAULTS.minRatio,
      ...common,
    };
  });

export const metricSchema = z
  .strictObject({
    name: z
      .string({ error: 'expected a name' })
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'expected letters, digits, ".", "_" or "-" (at most 63)'),
    query: query().optional(),
    min: number().optional(),
    max: number().optional(),
    compare: compareSchema.optional(),
    sequential: sequentialSchema.optional(),
  })
  .superRefine((metric, ctx) => {
    if (metric.sequential) {
      const extra = (['query', 'min', 'max', 'compare'] as const).filter((key) => metric[key] !== undefined);
      if (extra.length > 0)
        ctx.addIssue({
          code: 'custom',
          message: `a sequential metric has its own queries (errors and requests, or latency); remove ${extra.join(', ')}`,
          input: undefined,
        });
      return;
    }
    if (metric.query === undefined)
      ctx.addIssue({ code: 'custom', path: ['query'], message: 'required', input: undefined });
    if (metric.min === undefined && metric.max === undefined && metric.compare === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'needs at least one of min, max, compare or sequential',
        input: undefined,
      });
    }
    if (metric.min !== undefined && metric.max !== undefined && metric.min > metric.max) {
      ctx.addIssue({
        code: 'custom',
        path: ['min'],
        message: `min ${metric.min} is above max ${metric.max}`,
        input: undefined,
      });
    }
  });

/**
 * The analysis as written by the user; its output is an {@link AnalysisSpec}. Exported so that the config
 * schema can embed it as the `analysis:` section of gantry.yml.
 */
export const analysisSchema = z
  .strictObject({
    // prefault: the default is the written form, parsed like any other value.
    interval: intervalSchema.prefault(DEFAULT_INTERVAL),
    failureLimit: limit(DEFAULT_FAILURE_LIMIT),
    inconclusiveLimit: limit(DEFAULT_INCONCLUSIVE_LIMIT),
    metrics: z
      .array(metricSchema, { error: 'expected a list of metrics' })
      .min(1, 'expected at least one metric'),
    provider: providerSchema.optional(),
  })
  .superRefine((analysis, ctx) => {
    const seen = new Set<string>();
    analysis.metrics.forEach((metric, index) => {
      if (seen.has(metric.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['metrics', index, 'name'],
          message: `duplicate metric name "${metric.name}"`,
          input: undefined,
        });
      }
      seen.add(metric.name);
    });
  })
  .transform(
    (analysis): AnalysisSpec => ({
      ...(analysis.provider && { provider: analysis.provider }),
      intervalMs: analysis.interval as number,
      failureLimit: analysis.failureLimit,
      inconclusiveLimit: analysis.inconclusiveLimit,
      metrics: analysis.metrics.map((metric) => {
        // A sequential metric's query is its errors (or latency) query, named in messages; it reads others too.
        const sequential = metric.sequential;
        const own = sequential && ('errors' in sequential ? sequential.errors : sequential.latency);
        const spec: MetricSpec = { name: metric.name, query: metric.query ?? own! };
        if (metric.sequential) spec.sequential = metric.sequential;
        if (metric.min !== undefined) spec.min = metric.min;
        if (metric.max !== undefined) spec.max = metric.max;
        if (metric.compare) spec.compare = metric.compare;
        return spec;
      }),
    }),
  );

/**
 * Validates an analysis already loaded (the file's content, or gantry.yml's `analysis:` section).
 * @param input the input named in errors: `--analysis`, or `gantry.yml: analysis`.
 * @throws InputError with one line naming the field: `--analysis: metrics[0].max: expected a number, got "5%"`.
 */
export function parseAnalysis(data: unknown, input = '--analysis'): AnalysisSpec {
  const parsed = analysisSchema.safeParse(data, { reportInput: true });
  if (parsed.success) return parsed.data;
  throw new InputError(input, describeAnalysisIssue(parsed.error.issues[0]!));
}

/**
 * Reads and validates an analysis file (YAML or JSON).
 * @throws InputError naming `--analysis` when the file cannot be read, is not YAML, or is invalid.
 */
export function loadAnalysisFile(path: string): AnalysisSpec {
  const data = readYamlFile(path, '--analysis');
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new InputError(
      '--analysis',
      `"${path}" must be a YAML mapping with interval, failureLimit and metrics`,
    );
  }
  return parseAnalysis(data);
}

/** `metrics[0].max: expected a number, got "5%"`: where, what was expected, what was found. */
export function describeAnalysisIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path);
  const prefix = where ? `${where}: ` : '';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => `"${key}"`).join(', ');
    return `${prefix}unknown field${issue.keys.length > 1 ? 's' : ''} ${keys}`;
  }
  const input = 'input' in issue ? issue.input : undefined;
  if (issue.code === 'invalid_type' && input === undefined) return `${prefix}required`;
  const shown = input !== undefined && typeof input !== 'object' && !issue.message.includes(', got ');
  const got = shown ? `, got ${JSON.stringify(input)}` : '';
  return `${prefix}${issue.message}${got}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out;
}
