import { InfraError, InputError, messageOf } from '../../util/errors.js';
import { sleep as sleepUntilAborted } from '../../util/sleep.js';
import type { AnalysisSpec, Check, MetricSpec, SequentialLatencySpec } from '../types.js';
import { formatNumber } from './format.js';
import {
  type AnalysisCheck,
  type AnalysisRun,
  type Decision,
  inconclusiveMessage,
  judgeValue,
} from './judge.js';
import { compareSamples, median } from './mann-whitney.js';
import { type MetricsProvider, MultipleValuesError, NoDataError } from './provider.js';
import { SequentialRatioTest } from './sequential.js';
import { SequentialLatencyTest } from './sequential-latency.js';
import { formatPromDuration, type QueryVars, renderQuery } from './template.js';

/**
 * The analysis loop the strategies call for each step, and the checks they run before the first one.
 *
 * Timing: the first measurement is taken one interval after the step starts, not at its start: the new
 * weights need time to show up in the metrics (a `rate()` window, a scrape), and a measurement at t=0 would
 * judge the previous step's traffic. Measurements follow at fixed times (start + k·interval, no drift from
 * query latency) until the step's end; a step shorter than one interval gets one measurement at its end.
 * The promise settles at the step's end, or at once when the run decides to abort or `signal` fires.
 */

/**
 * What the queries are rendered with; `track`, `interval` and `step` are filled in by the loop.
 * `canary` and `stable` are the values of the track label (`gantry.dev/track`, `track` in the metrics) of the
 * new and the old version: `{{track}}` is `canary` when the new version is measured and `stable` when the
 * baseline is, and `{{canary}}`/`{{stable}}` let one query name both (a ratio of the two tracks).
 * `{{run}}` follows `{{track}}`: `run` when the new version is measured, empty for the baseline.
 */
export interface AnalysisVars {
  namespace: string;
  /** The app: the stable Deployment's name. */
  name: string;
  /** Track of the new version: `canary`, `preview` for blue-green, `stable` for a rolling update. */
  canary: string;
  /** Track of the baseline: `stable`. */
  stable: string;
  /** The run label (`gantry.dev/run-id`) of the new version's pods; empty when not known (`{{run}}` then selects unlabelled series). */
  run?: string;
}

export interface AnalysisStepOptions {
  spec: AnalysisSpec;
  provider: MetricsProvider;
  vars: AnalysisVars;
  /** 0-based index of the rollout step. */
  step: number;
  /** How long the step lasts; the analysis measures every interval during it. */
  durationMs: number;
  run: AnalysisRun;
  /** Cancels the step (a cancelled CI job): the loop returns promptly with `cancelled: true`. */
  signal: AbortSignal;
  /** Called with each check as it is recorded (live progress, Kubernetes Events). */
  onCheck?: (check: Check) => void;
  /**
   * The step may end before `durationMs` with a pass when every metric is sequential with `endEarly` and each
   * has ruled a regression out (a timed step; never a gate, whose length is a person's to decide).
   */
  mayEndEarly?: boolean;
  /** Injected clock and sleep, so that tests run instantly. */
  now?: () => Date;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface AnalysisStepOutcome {
  outcome: 'passed' | 'aborted';
  /** Why the step did not pass, one sentence (absent when it passed). */
  reason?: string;
  /** The checks recorded during this step, in order. */
  checks: Check[];
  /** True when the step ended because `signal` fired, not because of a measurement. */
  cancelled?: boolean;
  /** True when it passed before its end: every sequential metric ruled a regression out. */
  endedEarly?: boolean;
  /** When the abort was decided: the deciding measurement's time (absent when the step passed). */
  decidedAt?: Date;
  /**
   * True when the abort came from measurements the metrics provider failed to answer (down, timing out,
   * erroring): an infrastructure failure (exit 3), not a verdict on the new version (exit 1).
   */
  infrastructure?: boolean;
}

/** Checks that are inconclusive because the provider failed (not because the query found no data). */
const providerFailures = new WeakSet<Check>();

/**
 * Runs the analysis of one step: every `spec.intervalMs` during `durationMs`, query every metric for the
 * canary track (and for the stable track when the metric has `compare`, collecting each track's samples
 * over the step), record the checks in `run`, and return as soon as the run decides to abort.
 *
 * Provider errors (metrics server down mid-analysis, a query that fails) are inconclusive measurements with
 * the error's message — never a pass, never a crash; too many of them abort through `inconclusiveLimit`.
 *
 * Comparisons (metrics with `compare`) are judged at every measurement once both tracks have `minSamples`,
 * so that a clearly worse canary aborts early; to keep repeated looks from inflating false alarms, each look
 * uses alpha divided by the number of looks the step allows (Bonferroni). A comparison that never had enough
 * samples leaves the step inconclusive, so the step does not pass.
 */
export async function runAnalysisStep(options: AnalysisStepOptions): Promise<AnalysisStepOutcome> {
  const { spec, provider, vars, step, durationMs, run, signal } = options;
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? sleepUntilAborted;
  const checks: Check[] = [];
  const cancelled = (): AnalysisStepOutcome => ({
    outcome: 'aborted',
    reason: `analysis cancelled${signal.reason instanceof Error ? `: ${messageOf(signal.reason)}` : ''}`,
    checks,
    cancelled: true,
    decidedAt: now(),
  });
  const aborted = (decision: Decision & { action: 'abort' }): AnalysisStepOutcome => ({
    outcome: 'aborted',
    reason: decision.reason,
    checks,
    decidedAt: new Date(decision.check.at),
    ...(decision.cause === 'inconclusive' &&
      providerFailures.has(decision.check) && { infrastructure: true }),
  });
  const record = (check: AnalysisCheck) => {
    run.record(check);
    checks.push(check);
    options.onCheck?.(check);
  };

  const before = run.decision();
  if (before.action === 'abort') return aborted(before);

  const measurements = measurementCount(durationMs, spec.intervalMs);
  const samples = new Map<string, { canary: number[]; stable: number[] }>();
  for (const metric of spec.metrics) if (metric.compare) samples.set(metric.name, { canary: [], stable: [] });
  const started = now().getTime();

  for (let k = 1; k <= measurements; k++) {
    if (signal.aborted) return cancelled();
    const wait = started + Math.min(k * spec.intervalMs, durationMs) - now().getTime();
    if (wait > 0) await sleep(wait, signal);
    if (signal.aborted) return cancelled();
    const at = now().toISOString();
    const measured = await untilAborted(
      Promise.all(
        spec.metrics.map((metric) =>
          measureMetric({ metric, provider, vars, spec, step, at, signal, samples, measurements, run }),
        ),
      ),
      signal,
    );
    if (!measured) return cancelled();
    for (const check of measured.flat()) record(check);
    const decision = run.decision();
    if (decision.action === 'abort') return aborted(decision);
    if (options.mayEndEarly && ruledOut(spec, run)) return { outcome: 'passed', checks, endedEarly: true };
  }

  const rest = started + durationMs - now().getTime();
  if (rest > 0) await sleep(rest, signal);
  if (signal.aborted) return cancelled();

  // A comparison that never got enough samples is an inconclusive measurement, with the counts that say why.
  for (const check of unjudgedComparisons(spec, samples, checks, step, now())) record(check);
  const decision = run.decision();
  if (decision.action === 'abort') return aborted(decision);
  const verdict = run.stepVerdict(step);
  if (verdict.verdict === 'passed') return { outcome: 'passed', checks };
  return { outcome: 'aborted', reason: verdict.reason, checks, decidedAt: now() };
}

/** An inconclusive check for every comparison the step never judged (too few samples), saying why. */
function unjudgedComparisons(
  spec: AnalysisSpec,
  samples: Map<string, { canary: number[]; stable: number[] }>,
  checks: Check[],
  step: number,
  at: Date,
): AnalysisCheck[] {
  const judged = (name: string) =>
    checks.some((check) => check.metric === name && (check as AnalysisCheck).kind === 'compare');
  return spec.metrics
    .filter((metric) => metric.compare && samples.get(metric.name) && !judged(metric.name))
    .map((metric) => {
      const { canary, stable } = samples.get(metric.name)!;
      return {
        metric: metric.name,
        kind: 'compare',
        step,
        at: at.toISOString(),
        value: null,
        result: 'inconclusive',
        message: compareSamples(canary, stable, metric.compare!).message,
      };
    });
}

/**
 * What a strategy checks before moving any traffic, so that a broken analysis fails with exit 2 or 3 and
 * nothing changed: the provider answers; every query renders (placeholders, safe values) and parses; and each
 * step is long enough for every comparison to collect `minSamples`.
 * @throws InfraError when the provider is unreachable; InputError naming the metric otherwise.
 */
export async function validateQueries(
  spec: AnalysisSpec,
  provider: MetricsProvider,
  given: Pick<AnalysisVars, 'namespace' | 'name'> & Partial<AnalysisVars>,
  options: {
    /** Durations of the steps that will be analysed, to check that comparisons can get their samples. */
    stepDurationsMs?: number[];
  } = {},
): Promise<void> {
  const vars: AnalysisVars = { canary: 'canary', stable: 'stable', ...given };
  const queries = spec.metrics.flatMap((metric) => {
    const tracks = metric.compare || metric.sequential ? [vars.canary, vars.stable] : [vars.canary];
    const sequential = metric.sequential;
    const texts = !sequential
      ? [metric.query]
      : 'errors' in sequential
        ? [sequential.errors, sequential.requests]
        : [sequential.latency];
    return tracks.flatMap((track) =>
      texts.map((text) => ({
        metric,
        query: renderQuery(text, queryVars(vars, track, spec, 0), metric.name),
      })),
    );
  });
  const latency = spec.metrics.find((metric) => metric.sequential && 'latency' in metric.sequential);
  if (latency && !provider.queryByLabel)
    throw new InputError(
      '--analysis',
      `metric "${latency.name}": a sequential latency metric reads a histogram's buckets by le, which only a Prometheus-compatible provider returns (provider: ${provider.name})`,
    );
  if (!(await provider.isOnline())) {
    // The provider's own error says why (refused, timed out, credentials); isOnline only says that.
    try {
      await provider.validate(queries[0]!.query, queries[0]!.metric.name);
    } catch (error) {
      if (error instanceof InfraError)
        throw new InfraError(`${error.message}; nothing was changed`, { cause: error });
    }
    throw new InfraError(`metrics provider ${provider.name} is not online; nothing was changed`);
  }
  for (const { metric, query } of queries) await provider.validate(query, metric.name);
  for (const metric of spec.metrics) {
    if (!metric.compare) continue;
    options.stepDurationsMs?.forEach((durationMs, index) => {
      const available = measurementCount(durationMs, spec.intervalMs);
      if (available < metric.compare!.minSamples) {
        throw new InputError(
          '--analysis',
          `metric "${metric.name}": compare needs ${metric.compare!.minSamples} samples per track, but step ${index + 1} ` +
            `(${formatPromDuration(durationMs)} at interval ${formatPromDuration(spec.intervalMs)}) allows only ${available}; ` +
            'lengthen the step, shorten the interval or lower minSamples',
        );
      }
    });
  }
}

/** Measurements in a step: one per whole interval, at least one (at the step's end). */
export function measurementCount(durationMs: number, intervalMs: number): number {
  return Math.max(1, Math.floor(durationMs / intervalMs));
}

/** Resolves after `ms`, or as soon as `signal` fires (it never rejects: callers check `signal.aborted`). */
// --- internals ---

function queryVars(vars: AnalysisVars, track: string, spec: AnalysisSpec, step: number): QueryVars {
  const run = track === vars.canary ? (vars.run ?? '') : '';
  return { ...vars, track, run, interval: formatPromDuration(spec.intervalMs), step };
}

type Reading = { value: number } | { error: string; providerFailed?: boolean; noData?: boolean };

/** One query, with every failure turned into the reason the measurement is inconclusive. */
async function read(
  provider: MetricsProvider,
  metric: MetricSpec,
  vars: QueryVars,
  signal: AbortSignal,
): Promise<Reading> {
  try {
    const query = renderQuery(metric.query, vars, metric.name);
    return { value: await provider.query(query, { signal }) };
  } catch (error) {
    if (error instanceof NoDataError) return { error: error.message, noData: true };
    if (error instanceof MultipleValuesError) return { error: error.message };
    return { error: `query failed: ${messageOf(error)}`, providerFailed: error instanceof InfraError };
  }
}

async function measureMetric(context: {
  metric: MetricSpec;
  provider: MetricsProvider;
  vars: AnalysisVars;
  spec: AnalysisSpec;
  step: number;
  at: string;
  signal: AbortSignal;
  samples: Map<string, { canary: number[]; stable: number[] }>;
  measurements: number;
  run: AnalysisRun;
}): Promise<AnalysisCheck[]> {
  const { metric, provider, vars, spec, step, at, signal } = context;
  const base: CheckBase = {
    metric: metric.name,
    step,
    at,
    ...(metric.min !== undefined && { min: metric.min }),
    ...(metric.max !== undefined && { max: metric.max }),
  };
  const canaryVars = queryVars(vars, vars.canary, spec, step);
  if (metric.sequential)
    return [await sequentialCheck(context, base, canaryVars, queryVars(vars, vars.stable, spec, step))];
  if (!metric.compare)
    return [thresholdCheck(base, metric, await read(provider, metric, canaryVars, signal))];

  const [canary, stable] = await Promise.all([
    read(provider, metric, canaryVars, signal),
    read(provider, metric, queryVars(vars, vars.stable, spec, step), signal),
  ]);
  const samples = context.samples.get(metric.name)!;
  if ('value' in canary) samples.canary.push(canary.value);
  if ('value' in stable) samples.stable.push(stable.value);
  const comparison = compareCheck(metric, samples, context.measurements, step, at);
  return [sampleCheck(base, metric, canary, stable), ...(comparison ? [comparison] : [])];
}

type CheckBase = Pick<AnalysisCheck, 'metric' | 'step' | 'at' | 'min' | 'max'>;

/**
 * A sequential metric's look: both tracks' error and request counters, added to the rollout's test of the
 * ratio (src/deploy/analysis/sequential.ts). It fails once a regression is conclusive; until then it passes,
 * saying how far the evidence is. An error counter with no series yet counts as 0 errors.
 */
async function sequentialCheck(
  context: { metric: MetricSpec; provider: MetricsProvider; run: AnalysisRun; signal: AbortSignal },
  base: CheckBase,
  canaryVars: QueryVars,
  stableVars: QueryVars,
): Promise<AnalysisCheck> {
  const { metric, provider, run, signal } = context;
  const sequential = metric.sequential!;
  if ('latency' in sequential) return latencyCheck(context, base, canaryVars, stableVars);
  const counts = async (vars: QueryVars) => {
    const [errors, requests] = await Promise.all([
      read(provider, { ...metric, query: sequential.errors }, vars, signal),
      read(provider, { ...metric, query: sequential.requests }, vars, signal),
    ]);
    if ('error' in requests) return requests;
    if ('error' in errors && !errors.noData) return errors;
    return { errors: 'value' in errors ? errors.value : 0, requests: requests.value };
  };
  const [canary, stable] = await Promise.all([counts(canaryVars), counts(stableVars)]);
  if ('error' in canary || 'error' in stable) return sequentialFailure(base, canary, stable);
  let test = run.sequential.get(metric.name);
  if (!(test instanceof SequentialRatioTest)) {
    test = new SequentialRatioTest(sequential);
    run.sequential.set(metric.name, test);
  }
  test.update(canary, stable, base.step);
  const verdict = test.verdict();
  return {
    ...base,
    kind: 'sequential',
    value: verdict.canaryRate,
    baseline: verdict.stableRate,
    result: verdict.state === 'regression' ? 'fail' : 'pass',
    message: verdict.message,
  };
}

/** An inconclusive sequential check: a track's reading failed (the canary's named first). */
function sequentialFailure(base: CheckBase, canary: object, stable: object): AnalysisCheck {
  const failed = ('error' in canary ? canary : stable) as Extract<Reading, { error: string }>;
  const which = 'error' in canary ? '' : 'stable track: ';
  const check: AnalysisCheck = {
    ...base,
    kind: 'sequential',
    value: null,
    result: 'inconclusive',
    message: inconclusiveMessage(`${which}${failed.error}`),
  };
  if (failed.providerFailed) providerFailures.add(check);
  return check;
}

/**
 * A sequential latency metric's look: both tracks' histograms (one query per track returning a series per
 * `le`, evaluated at once so that the buckets are consistent with each other), added to the rollout's test of
 * the distributions (sequential-latency.ts). Its value and baseline are the tracks' quantiles in seconds. The
 * bounds are fixed by the first reading; a later reading without one of them is inconclusive, naming it.
 */
async function latencyCheck(
  context: { metric: MetricSpec; provider: MetricsProvider; run: AnalysisRun; signal: AbortSignal },
  base: CheckBase,
  canaryVars: QueryVars,
  stableVars: QueryVars,
): Promise<AnalysisCheck> {
  const { metric, provider, run, signal } = context;
  const sequential = metric.sequential as SequentialLatencySpec;
  const histogram = async (vars: QueryVars) => {
    try {
      const query = renderQuery(sequential.latency, vars, metric.name);
      return { buckets: await provider.queryByLabel!(query, 'le', { signal }) };
    } catch (error) {
      if (error instanceof NoDataError) return { error: error.message, noData: true };
      return { error: `query failed: ${messageOf(error)}`, providerFailed: error instanceof InfraError };
    }
  };
  const [canary, stable] = await Promise.all([histogram(canaryVars), histogram(stableVars)]);
  if ('error' in canary || 'error' in stable) return sequentialFailure(base, canary, stable);
  let test = run.sequential.get(metric.name);
  if (!(test instanceof SequentialLatencyTest)) {
    // The bounds are the histogram's, as the first reading has them (both tracks' union).
    const bounds = [...new Set([...canary.buckets.keys(), ...stable.buckets.keys()])]
      .map(leValue)
      .filter((bound) => Number.isFinite(bound) && bound > 0)
      .sort((a, b) => a - b);
    if (bounds.length === 0)
      return sequentialFailure(base, { error: 'no finite le bucket in the histogram' }, {});
    test = new SequentialLatencyTest({ ...sequential, bounds });
    run.sequential.set(metric.name, test);
  }
  const bounds = test.bounds;
  const counts = (buckets: Map<string, number>) => {
    const byBound = new Map([...buckets].map(([le, value]) => [leValue(le), value]));
    const missing = bounds.find((bound) => !byBound.has(bound));
    if (missing !== undefined) return { error: `no le="${missing}" bucket in the histogram` };
    if (!byBound.has(Number.POSITIVE_INFINITY)) return { error: 'no le="+Inf" bucket in the histogram' };
    return {
      buckets: bounds.map((bound) => byBound.get(bound)!),
      count: byBound.get(Number.POSITIVE_INFINITY)!,
    };
  };
  const canaryCounts = counts(canary.buckets);
  const stableCounts = counts(stable.buckets);
  if ('error' in canaryCounts || 'error' in stableCounts)
    return sequentialFailure(base, canaryCounts, stableCounts);
  test.update(canaryCounts, stableCounts, base.step);
  const verdict = test.verdict();
  const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);
  return {
    ...base,
    kind: 'sequential',
    value: seconds(verdict.canaryMs),
    baseline: seconds(verdict.stableMs),
    result: verdict.state === 'regression' ? 'fail' : 'pass',
    message: verdict.message,
  };
}

/** A bucket's bound from its `le` label: `0.25`, `1.0`, `+Inf`. */
function leValue(le: string): number {
  const text = le.trim();
  return text === '+Inf' || text === 'Inf' ? Number.POSITIVE_INFINITY : Number(text);
}

/** Every metric is sequential with endEarly, and each has ruled a regression out. */
function ruledOut(spec: AnalysisSpec, run: AnalysisRun): boolean {
  return spec.metrics.every(
    (metric) =>
      metric.sequential?.endEarly && run.sequential.get(metric.name)?.verdict().state === 'no-regression',
  );
}

/** A threshold metric's measurement: the canary's value against min/max, or inconclusive. */
function thresholdCheck(base: CheckBase, metric: MetricSpec, canary: Reading): AnalysisCheck {
  if ('value' in canary)
    return { ...base, kind: 'threshold', value: canary.value, ...judgeValue(metric, canary.value) };
  const check: AnalysisCheck = {
    ...base,
    kind: 'threshold',
    value: null,
    result: 'inconclusive',
    message: inconclusiveMessage(canary.error),
  };
  if (canary.providerFailed) providerFailures.add(check);
  return check;
}

/** A compared metric's sample: the canary against min/max, with the stable track's value beside it. */
function sampleCheck(base: CheckBase, metric: MetricSpec, canary: Reading, stable: Reading): AnalysisCheck {
  const baseline = 'value' in stable ? stable.value : null;
  const sample = { ...base, kind: 'sample' as const, baseline };
  let check: AnalysisCheck;
  if ('error' in canary) {
    check = { ...sample, value: null, result: 'inconclusive', message: inconclusiveMessage(canary.error) };
  } else if ('error' in stable) {
    const message = inconclusiveMessage(`stable track: ${stable.error}`);
    check = { ...sample, value: canary.value, result: 'inconclusive', message };
  } else {
    const judged = judgeValue(metric, canary.value);
    const message = `${judged.message}; stable ${formatNumber(stable.value)}`;
    check = { ...sample, value: canary.value, result: judged.result, message };
  }
  if (('error' in canary && canary.providerFailed) || ('error' in stable && stable.providerFailed))
    providerFailures.add(check);
  return check;
}

/** Canary against stable once both have `minSamples`; undefined before that. */
function compareCheck(
  metric: MetricSpec,
  samples: { canary: number[]; stable: number[] },
  measurements: number,
  step: number,
  at: string,
): AnalysisCheck | undefined {
  const { minSamples, alpha } = metric.compare!;
  if (samples.canary.length < minSamples || samples.stable.length < minSamples) return undefined;
  // Bonferroni over the looks this step allows: the step's false-alarm rate stays at most alpha.
  const looks = Math.max(1, measurements - minSamples + 1);
  const comparison = compareSamples(samples.canary, samples.stable, {
    ...metric.compare!,
    alpha: alpha / looks,
  });
  return {
    metric: metric.name,
    kind: 'compare',
    step,
    at,
    value: median(samples.canary),
    baseline: median(samples.stable),
    result: comparison.result,
    message: comparison.message,
    ...(comparison.pValue !== null && { pValue: comparison.pValue }),
    ...(comparison.effectSize !== null && { effectSize: comparison.effectSize }),
  };
}

/** The promise's value, or undefined as soon as `signal` fires (a slow provider must not delay a cancel). */
async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
