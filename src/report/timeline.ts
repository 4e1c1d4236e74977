/**
 * The data behind both timeline charts (SVG and Mermaid): which metric to draw, its checks as points in
 * seconds since the rollout started, the step boundaries, the rollback markers, and a readable value scale.
 */
import type { Check, CheckResult, RolloutReport, StepRecord } from '../deploy/types.js';
import { type Bounds, parseTime } from './format.js';

/** One check of the charted metric. */
export interface TimelinePoint {
  /** Seconds since the rollout started. */
  seconds: number;
  value: number | null;
  result: CheckResult;
  step: number;
}

export interface TimelineStep {
  index: number;
  weight: number;
  startSeconds: number;
  /** Undefined while the step runs (or when the report lacks it): the step reaches the end of the chart. */
  endSeconds: number | undefined;
  result: StepRecord['result'];
}

export type MarkerKind = 'abort' | 'traffic-restored' | 'promoted';

export interface TimelineMarker {
  kind: MarkerKind;
  label: string;
  seconds: number;
}

export interface Timeline {
  metric: string;
  points: TimelinePoint[];
  /** The metric's bounds, from its latest check that has any. */
  bounds: Bounds;
  steps: TimelineStep[];
  markers: TimelineMarker[];
  /** Seconds since start of the last thing worth drawing (finish, last check, last marker). */
  endSeconds: number;
}

/** The metrics of the report's checks, in the order they first appear. */
export function metricNames(report: RolloutReport): string[] {
  return [...new Set(report.checks.map((check) => check.metric))];
}

/**
 * The metric a chart should show when the caller names none: the first that failed, else the first that
 * had no data (an inconclusive abort), else the first measured. Undefined when there are no checks.
 */
/** The metric name of a rollout hook's checks: `hook <name>`. */
export const HOOK_CHECK_PREFIX = 'hook ';

export function chartMetric(report: RolloutReport): string | undefined {
  // A rollout hook's checks (`hook <name>`) have no values to draw.
  const measured = report.checks.filter((check) => !check.metric.startsWith(HOOK_CHECK_PREFIX));
  return (
    measured.find((check) => check.result === 'fail')?.metric ??
    measured.find((check) => check.result === 'inconclusive')?.metric ??
    measured[0]?.metric
  );
}

/**
 * When the rollout started, in epoch milliseconds: `timings.startedAt`, or, should it be unreadable, the
 * earliest time the report records.
 */
export function rolloutOrigin(report: RolloutReport): number {
  const started = parseTime(report.timings.startedAt);
  if (Number.isFinite(started)) return started;
  const times = [
    ...report.steps.map((step) => parseTime(step.startedAt)),
    ...report.checks.map((c) => parseTime(c.at)),
  ];
  const finite = times.filter(Number.isFinite);
  return finite.length > 0 ? Math.min(...finite) : 0;
}

/** The latest bounds any of these checks carries (a metric's bounds do not change during a run). */
export function boundsOf(checks: readonly Check[]): Bounds {
  for (let i = checks.length - 1; i >= 0; i--) {
    const check = checks[i]!;
    if (check.min !== undefined || check.max !== undefined) return { min: check.min, max: check.max };
  }
  return {};
}

/** Everything a chart of `metric` needs, times in seconds since the rollout started. */
export function buildTimeline(report: RolloutReport, metric: string): Timeline {
  const origin = rolloutOrigin(report);
  const seconds = (iso: string | null | undefined): number => (parseTime(iso) - origin) / 1000;

  const checks = report.checks.filter((check) => check.metric === metric);
  const points = checks
    .map((check, order) => ({ check, order, at: seconds(check.at) }))
    .filter((entry) => Number.isFinite(entry.at))
    // Stable: checks taken at the same instant keep the report's order.
    .sort((a, b) => a.at - b.at || a.order - b.order)
    .map(({ check, at }) => ({
      seconds: at,
      value: typeof check.value === 'number' && Number.isFinite(check.value) ? check.value : null,
      result: check.result,
      step: check.step,
    }));

  const steps = report.steps
    .map((step) => {
      const end = seconds(step.endedAt);
      return {
        index: step.index,
        weight: step.weight,
        startSeconds: seconds(step.startedAt),
        endSeconds: Number.isFinite(end) ? end : undefined,
        result: step.result,
      };
    })
    .filter((step) => Number.isFinite(step.startSeconds))
    .sort((a, b) => a.startSeconds - b.startSeconds || a.index - b.index);

  const markers: TimelineMarker[] = [];
  const addMarker = (kind: MarkerKind, label: string, iso: string | null | undefined) => {
    const at = seconds(iso);
    if (Number.isFinite(at)) markers.push({ kind, label, seconds: at });
  };
  addMarker('abort', 'abort', report.timings.abortDecidedAt);
  addMarker('traffic-restored', 'traffic restored', report.timings.trafficRestoredAt);
  addMarker('promoted', 'promoted', report.timings.promotedAt);

  const ends = [
    seconds(report.timings.finishedAt),
    ...points.map((point) => point.seconds),
    ...steps.flatMap((step) => [step.startSeconds, step.endSeconds ?? Number.NaN]),
    ...markers.map((marker) => marker.seconds),
  ].filter(Number.isFinite);
  const endSeconds = Math.max(1, ...ends);

  return { metric, points, bounds: boundsOf(checks), steps, markers, endSeconds };
}

// ---------------------------------------------------------------------------------------------------------
// Scales

export interface NiceScale {
  min: number;
  max: number;
  step: number;
  ticks: number[];
}

/**
 * A linear scale covering [low, high] whose ends and ticks are round numbers (1, 2, 2.5 or 5 × 10ⁿ), with
 * about `targetTicks` intervals.
 */
export function niceScale(low: number, high: number, targetTicks = 4): NiceScale {
  let lo = Math.min(low, high);
  let hi = Math.max(low, high);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (hi === lo) {
    // A flat series: give it room around its value.
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.5;
    lo -= pad;
    hi += pad;
    if (low >= 0 && lo < 0) lo = 0;
  }
  const rough = (hi - lo) / Math.max(1, targetTicks);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s >= rough) ??
    10 * magnitude) as number;
  const min = Math.floor(lo / step + 1e-9) * step;
  const max = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; min + i * step <= max + step * 1e-9; i++) ticks.push(roundTo(min + i * step, step));
  return { min: roundTo(min, step), max: roundTo(max, step), step, ticks };
}

/** Removes binary noise (0.30000000000000004) relative to the step. */
function roundTo(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 2);
  return Number(value.toFixed(Math.min(20, decimals)));
}

/**
 * The value range a chart should show so that the threshold and the bulk of the values stay readable: the
 * thresholds and the 10th–90th percentile of the values, widened to take in every value that lies within
 * 1.5 times that span. Values further out (a single 0.43 against a 0.05 limit) are left outside; the chart
 * pins them to its edge and labels them instead of crushing everything else against the axis. The range
 * starts at zero when all values are non-negative and zero is near.
 */
export function valueRange(values: readonly number[], bounds: Bounds): { low: number; high: number } {
  const thresholds = [bounds.min, bounds.max].filter((b): b is number => b !== undefined);
  const sorted = [...values].sort((a, b) => a - b);
  const quantile = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
  const coreValues = [...thresholds];
  if (sorted.length > 0) coreValues.push(quantile(0.1)!, quantile(0.9)!);
  if (coreValues.length === 0) return { low: 0, high: 1 };

  const coreLow = Math.min(...coreValues);
  const coreHigh = Math.max(...coreValues);
  const span = coreHigh - coreLow || Math.abs(coreHigh) || 1;
  const inliers = sorted.filter((v) => v >= coreLow - 1.5 * span && v <= coreHigh + 1.5 * span);
  let low = Math.min(coreLow, ...inliers);
  let high = Math.max(coreHigh, ...inliers);
  const allNonNegative = [...sorted, ...thresholds].every((v) => v >= 0);
  if (allNonNegative && low <= Math.max(high - low, span) * 1.5) low = 0;
  // Headroom so the highest value or the threshold does not sit on the frame.
  const headroom = (high - low || Math.abs(high) || 1) * 0.1;
  high += headroom;
  if (low !== 0) low -= headroom;
  return { low, high };
}
