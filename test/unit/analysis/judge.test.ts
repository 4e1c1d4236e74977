import { describe, expect, it } from 'vitest';
import { type AnalysisCheck, AnalysisRun, judgeValue } from '../../../src/deploy/analysis/judge.js';
import type { AnalysisSpec, MetricSpec } from '../../../src/deploy/types.js';

const errorRate: MetricSpec = { name: 'error-rate', query: 'q', max: 0.05 };
const throughput: MetricSpec = { name: 'throughput', query: 'q', min: 50 };
const latency: MetricSpec = {
  name: 'latency',
  query: 'q',
  compare: { worse: 'increase', alpha: 0.05, minEffectSize: 0.3, minSamples: 5 },
};

function spec(overrides: Partial<AnalysisSpec> = {}): AnalysisSpec {
  return {
    intervalMs: 1000,
    failureLimit: 0,
    inconclusiveLimit: 0,
    metrics: [errorRate, throughput],
    ...overrides,
  };
}

function check(metric: MetricSpec, value: number | null, step = 0): AnalysisCheck {
  return {
    metric: metric.name,
    step,
    at: '2026-01-01T00:00:00.000Z',
    value,
    ...(metric.min !== undefined && { min: metric.min }),
    ...(metric.max !== undefined && { max: metric.max }),
    ...judgeValue(metric, value),
  };
}

describe('judgeValue', () => {
  it.each([
    [{ max: 0.05 }, 0.43, 'fail', '0.43 > max 0.05'],
    [{ max: 0.05 }, 0.05, 'pass', '0.05 ≤ max 0.05'],
    [{ max: 0.05 }, 0.0123456, 'pass', '0.01235 ≤ max 0.05'],
    [{ min: 50 }, 12, 'fail', '12 < min 50'],
    [{ min: 50 }, 50, 'pass', '50 ≥ min 50'],
    [{ min: 0, max: 1 }, 0.5, 'pass', '0.5 within [0, 1]'],
    [{ min: 0, max: 1 }, -0.5, 'fail', '-0.5 < min 0'],
    [{}, 3, 'pass', '3 (no bounds)'],
    [{ max: 0.05 }, null, 'inconclusive', 'no data (inconclusive)'],
    [{ max: 0.05 }, Number.NaN, 'inconclusive', 'no data: the value is NaN (inconclusive)'],
    [{ min: 1 }, Number.POSITIVE_INFINITY, 'inconclusive', 'no data: the value is Infinity (inconclusive)'],
  ] as const)('%j with %s → %s "%s"', (bounds, value, result, message) => {
    expect(judgeValue(bounds, value)).toEqual({ result, message });
  });
});

describe('AnalysisRun', () => {
  it('continues while every metric is within its limits, and counts per metric', () => {
    const run = new AnalysisRun(spec({ failureLimit: 1 }));
    expect(run.record(check(errorRate, 0.01)).action).toBe('continue');
    expect(run.record(check(errorRate, 0.43)).action).toBe('continue');
    expect(run.record(check(throughput, 10)).action).toBe('continue');
    expect(run.tally('error-rate')).toEqual({ passes: 1, failures: 1, inconclusives: 0 });
    expect(run.tally('throughput')).toEqual({ passes: 0, failures: 1, inconclusives: 0 });
  });

  it('aborts at the first failure beyond the limit, with a reason a person can read', () => {
    const run = new AnalysisRun(spec({ failureLimit: 1 }));
    run.record(check(errorRate, 0.2));
    const decision = run.record(check(errorRate, 0.43));
    expect(decision).toMatchObject({
      action: 'abort',
      reason: 'error-rate 0.43 above max 0.05 (2 failures > limit 1)',
      metric: 'error-rate',
      cause: 'failures',
    });
    expect(run.decision()).toBe(decision);
  });

  it('says "below min" and uses the singular', () => {
    const run = new AnalysisRun(spec());
    expect(run.record(check(throughput, 12))).toMatchObject({
      reason: 'throughput 12 below min 50 (1 failure > limit 0)',
    });
  });

  it('aborts when inconclusive measurements exceed their limit', () => {
    const run = new AnalysisRun(spec({ inconclusiveLimit: 1 }));
    expect(run.record(check(errorRate, null)).action).toBe('continue');
    expect(run.record(check(errorRate, null))).toMatchObject({
      action: 'abort',
      reason: 'error-rate: no data (2 inconclusive measurements > limit 1)',
      cause: 'inconclusive',
    });
  });

  it('keeps the first abort reason', () => {
    const run = new AnalysisRun(spec());
    run.record(check(errorRate, 0.5));
    run.record(check(throughput, 1));
    expect(run.decision()).toMatchObject({ metric: 'error-rate' });
  });

  it('counts limits per metric, not across metrics', () => {
    const run = new AnalysisRun(spec({ failureLimit: 1 }));
    run.record(check(errorRate, 0.5));
    expect(run.record(check(throughput, 1)).action).toBe('continue');
  });

  describe('stepVerdict', () => {
    it('passes a step with a conclusive measurement of every metric', () => {
      const run = new AnalysisRun(spec({ failureLimit: 1 }));
      run.record(check(errorRate, 0.5, 0)); // a failure within the limit does not fail the step
      run.record(check(errorRate, 0.01, 0));
      run.record(check(throughput, 60, 0));
      expect(run.stepVerdict(0)).toEqual({ verdict: 'passed' });
    });

    it('never passes a step that only saw no data', () => {
      const run = new AnalysisRun(spec({ inconclusiveLimit: 5 }));
      run.record(check(errorRate, null, 1));
      run.record(check(throughput, 60, 1));
      expect(run.stepVerdict(1)).toEqual({
        verdict: 'inconclusive',
        reason: 'no conclusive measurement of error-rate during step 2 (last: no data (inconclusive))',
      });
    });

    it('does not pass a step without any measurement', () => {
      const run = new AnalysisRun(spec());
      run.record(check(errorRate, 0.01, 0));
      run.record(check(throughput, 60, 0));
      expect(run.stepVerdict(1)).toMatchObject({ verdict: 'inconclusive' });
    });

    it('needs a conclusive comparison for a metric with compare', () => {
      const run = new AnalysisRun(spec({ metrics: [latency], inconclusiveLimit: 9 }));
      run.record({ ...check(latency, 0.2), kind: 'sample' });
      expect(run.stepVerdict(0)).toEqual({
        verdict: 'inconclusive',
        reason: 'no conclusive comparison of latency with stable during step 1',
      });
      run.record({ ...check(latency, 0.2), kind: 'compare', message: 'no significant increase: …' });
      expect(run.stepVerdict(0)).toEqual({ verdict: 'passed' });
    });

    it('fails every step once the run aborted', () => {
      const run = new AnalysisRun(spec());
      run.record(check(errorRate, 0.9, 0));
      expect(run.stepVerdict(0)).toEqual({
        verdict: 'failed',
        reason: 'error-rate 0.9 above max 0.05 (1 failure > limit 0)',
      });
    });
  });
});
