import type { AnalysisSpec, Check, CheckResult, MetricSpec } from '../types.js';
import { formatNumber } from './format.js';
import type { SequentialRatioTest } from './sequential.js';
import type { SequentialLatencyTest } from './sequential-latency.js';

/**
 * The judgement of the analysis, pure logic: one value against its bounds, and the per-rollout tally of
 * failures and inconclusive measurements that decides, after every check, whether the rollout goes on.
 */

/**
 * What a check measured. `threshold`: a metric's value against min/max. `sample`: one interval's canary
 * (and stable) value of a metric with `compare`, judged by its bounds if it has any. `compare`: the
 * Mann-Whitney judgement of the canary's samples against the stable's.
 */
export type CheckKind = 'threshold' | 'sample' | 'compare' | 'sequential';

/** A {@link Check} with what the analysis knows beyond the shared contract (all optional, all JSON). */
export interface AnalysisCheck extends Check {
  kind?: CheckKind;
  /** The stable track's value (sample checks) or median (compare checks). */
  baseline?: number | null;
  /** One-sided p-value of the comparison (compare checks). */
  pValue?: number;
  /** Cliff's delta of canary against stable (compare checks). */
  effectSize?: number;
}

const INCONCLUSIVE_SUFFIX = ' (inconclusive)';

/**
 * Judges one value against a metric's bounds (inclusive: a value equal to max passes).
 * `null` or a non-finite value is no data: inconclusive, never a pass.
 */
export function judgeValue(
  metric: Pick<MetricSpec, 'min' | 'max'>,
  value: number | null,
): { result: CheckResult; message: string } {
  if (value === null) return { result: 'inconclusive', message: `no data${INCONCLUSIVE_SUFFIX}` };
  if (!Number.isFinite(value)) {
    return { result: 'inconclusive', message: `no data: the value is ${value}${INCONCLUSIVE_SUFFIX}` };
  }
  const shown = formatNumber(value);
  const { min, max } = metric;
  if (max !== undefined && value > max) return { result: 'fail', message: `${shown} > max ${max}` };
  if (min !== undefined && value < min) return { result: 'fail', message: `${shown} < min ${min}` };
  if (min !== undefined && max !== undefined)
    return { result: 'pass', message: `${shown} within [${min}, ${max}]` };
  if (max !== undefined) return { result: 'pass', message: `${shown} ≤ max ${max}` };
  if (min !== undefined) return { result: 'pass', message: `${shown} ≥ min ${min}` };
  return { result: 'pass', message: `${shown} (no bounds)` };
}

/** The check message for a measurement that could not be taken (provider error, unusable result). */
export function inconclusiveMessage(cause: string): string {
  return cause.endsWith(INCONCLUSIVE_SUFFIX) ? cause : `${cause}${INCONCLUSIVE_SUFFIX}`;
}

export type Decision =
  | { action: 'continue' }
  | {
      action: 'abort';
      /** One sentence for a person: `error-rate 0.43 above max 0.05 (2 failures > limit 1)`. */
      reason: string;
      metric: string;
      /**
       * `failures`: the metric breached its bounds or the comparison (a gate: exit 1).
       * `inconclusive`: it could not be measured (no data, metrics server down: exit 3 when the cause is the
       * server). Callers pick the exit code; the analysis only says why.
       */
      cause: 'failures' | 'inconclusive';
      /** The check that tipped the balance. */
      check: AnalysisCheck;
    };

export type StepVerdict = { verdict: 'passed' } | { verdict: 'failed' | 'inconclusive'; reason: string };

export interface MetricTally {
  passes: number;
  failures: number;
  inconclusives: number;
}

/**
 * The analysis state of one rollout: every check so far and per-metric counters. Counters span the whole
 * rollout (like an Argo AnalysisRun), not one step. The first time a metric's failures exceed `failureLimit`
 * or its inconclusive measurements exceed `inconclusiveLimit`, the run decides to abort, and stays so: fail
 * fast, at that check, not at the end of the step.
 */
export class AnalysisRun {
  readonly checks: AnalysisCheck[] = [];
  /** The sequential metrics' tests, by metric: their evidence spans the whole rollout, step after step. */
  readonly sequential = new Map<string, SequentialRatioTest | SequentialLatencyTest>();
  readonly #spec: Pick<AnalysisSpec, 'failureLimit' | 'inconclusiveLimit' | 'metrics'>;
  readonly #tallies = new Map<string, MetricTally>();
  #decision: Decision = { action: 'continue' };

  constructor(spec: Pick<AnalysisSpec, 'failureLimit' | 'inconclusiveLimit' | 'metrics'>) {
    this.#spec = spec;
  }

  /** Adds a check to the tally; returns the decision after it. */
  record(check: AnalysisCheck): Decision {
    this.checks.push(check);
    const tally = this.tally(check.metric);
    if (check.result === 'pass') tally.passes++;
    else if (check.result === 'fail') tally.failures++;
    else tally.inconclusives++;
    if (this.#decision.action === 'continue') {
      if (check.result === 'fail' && tally.failures > this.#spec.failureLimit) {
        const count = `${plural(tally.failures, 'failure')} > limit ${this.#spec.failureLimit}`;
        this.#decision = {
          action: 'abort',
          reason: `${describeFailure(check)} (${count})`,
          metric: check.metric,
          cause: 'failures',
          check,
        };
      } else if (check.result === 'inconclusive' && tally.inconclusives > this.#spec.inconclusiveLimit) {
        const count = `${plural(tally.inconclusives, 'inconclusive measurement')} > limit ${this.#spec.inconclusiveLimit}`;
        const what = check.message.endsWith(INCONCLUSIVE_SUFFIX)
          ? check.message.slice(0, -INCONCLUSIVE_SUFFIX.length)
          : check.message;
        this.#decision = {
          action: 'abort',
          reason: `${check.metric}: ${what} (${count})`,
          metric: check.metric,
          cause: 'inconclusive',
          check,
        };
      }
    }
    return this.#decision;
  }

  /** Continue, or abort with the reason of the first limit exceeded. */
  decision(): Decision {
    return this.#decision;
  }

  /** The counters of one metric (zeros before its first check). */
  tally(metric: string): MetricTally {
    let tally = this.#tallies.get(metric);
    if (!tally) {
      tally = { passes: 0, failures: 0, inconclusives: 0 };
      this.#tallies.set(metric, tally);
    }
    return tally;
  }

  /**
   * Whether a step passed: only when the run did not abort and every metric was really measured during it —
   * a conclusive value against its bounds, and a conclusive comparison for metrics with `compare`. A step
   * that only saw no-data is inconclusive, never passed. Failures within the limit do not fail the step.
   */
  stepVerdict(step: number): StepVerdict {
    if (this.#decision.action === 'abort') return { verdict: 'failed', reason: this.#decision.reason };
    const inStep = this.checks.filter((check) => check.step === step);
    for (const metric of this.#spec.metrics) {
      const mine = inStep.filter((check) => check.metric === metric.name);
      const conclusive = (kinds: CheckKind[]) =>
        mine.some((check) => kinds.includes(check.kind ?? 'threshold') && check.result !== 'inconclusive');
      const hasBounds = metric.min !== undefined || metric.max !== undefined;
      const missing =
        hasBounds && !conclusive(['threshold', 'sample'])
          ? `no conclusive measurement of ${metric.name} during step ${step + 1}`
          : metric.compare && !conclusive(['compare'])
            ? `no conclusive comparison of ${metric.name} with stable during step ${step + 1}`
            : undefined;
      if (missing) {
        const last = mine.findLast((check) => check.result === 'inconclusive');
        return { verdict: 'inconclusive', reason: last ? `${missing} (last: ${last.message})` : missing };
      }
    }
    return { verdict: 'passed' };
  }
}

/** `error-rate 0.43 above max 0.05`, `throughput 12 below min 50`, or the comparison's own sentence. */
function describeFailure(check: AnalysisCheck): string {
  if (check.kind === 'compare' || check.value === null) return `${check.metric}: ${check.message}`;
  const value = formatNumber(check.value);
  if (check.max !== undefined && check.value > check.max)
    return `${check.metric} ${value} above max ${check.max}`;
  if (check.min !== undefined && check.value < check.min)
    return `${check.metric} ${value} below min ${check.min}`;
  return `${check.metric}: ${check.message}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
