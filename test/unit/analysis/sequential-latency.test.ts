import { describe, expect, it } from 'vitest';
import {
  type HistogramCounts,
  type LatencyOptions,
  SequentialLatencyTest,
} from '../../../src/deploy/analysis/sequential-latency.js';

/** A seeded generator (mulberry32): the same draws every run, so these statistical checks are exact. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The buckets of the sandbox's simulator (seconds). */
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const options: LatencyOptions = {
  bounds: BOUNDS,
  quantile: 0.95,
  minShiftMs: 50,
  alpha: 0.05,
  beta: 0.05,
  minRequests: 50,
};

/** A latency in seconds: `baseMs` plus an exponential tail of mean `tailMs` (spread over many buckets). */
const latency = (rand: () => number, baseMs: number, tailMs = 15) =>
  (baseMs + -Math.log(1 - rand()) * tailMs) / 1000;

function observe(histogram: HistogramCounts, seconds: number): void {
  histogram.count++;
  BOUNDS.forEach((bound, j) => {
    if (seconds <= bound) histogram.buckets[j]!++;
  });
}

const empty = (): HistogramCounts => ({ buckets: BOUNDS.map(() => 0), count: 0 });
const copy = (h: HistogramCounts): HistogramCounts => ({ buckets: [...h.buckets], count: h.count });

/**
 * One canary against one stable: each look, about `rps` requests per track (±20 %), each with a latency of
 * its track's base plus a random tail; histograms are cumulative, as Prometheus returns them. Returns the look
 * at which the test decided, and what.
 */
function simulate(
  rand: () => number,
  baseMs: { canary: number; stable: number },
  looks: number,
  opts: LatencyOptions = options,
  rps = { canary: 20, stable: 80 },
): { state: string; look: number; test: SequentialLatencyTest } {
  const test = new SequentialLatencyTest(opts);
  const histograms = { canary: empty(), stable: empty() };
  test.update(copy(histograms.canary), copy(histograms.stable));
  for (let look = 1; look <= looks; look++) {
    for (const track of ['canary', 'stable'] as const) {
      const n = Math.round(rps[track] * (0.8 + 0.4 * rand()));
      for (let i = 0; i < n; i++) observe(histograms[track], latency(rand, baseMs[track]));
    }
    test.update(copy(histograms.canary), copy(histograms.stable));
    const { state } = test.verdict();
    if (state === 'regression' || state === 'no-regression') return { state, look, test };
  }
  return { state: test.verdict().state, look: looks, test };
}

// The false-rollback bound is the e-value's alone: with any shift counting as a regression, nothing else
// stands between a healthy canary and a rollback.
const anyShift: LatencyOptions = { ...options, minShiftMs: Number.NEGATIVE_INFINITY };

describe('the sequential judge of latency distributions', () => {
  it('rolls back a healthy canary (same distribution as stable) at most alpha of the time, however long it looks', () => {
    const rand = random(11);
    let falseRollbacks = 0;
    for (let i = 0; i < 400; i++)
      if (simulate(rand, { canary: 20, stable: 20 }, 300, anyShift).state === 'regression') falseRollbacks++;
    // alpha 0.05 over 400 trials: at most 20 as a bound; the mixture is conservative.
    expect(falseRollbacks).toBeLessThanOrEqual(20);
  });

  it('also when the canary is faster than the stable', () => {
    const rand = random(12);
    let falseRollbacks = 0;
    for (let i = 0; i < 200; i++)
      if (simulate(rand, { canary: 10, stable: 30 }, 300, anyShift).state === 'regression') falseRollbacks++;
    expect(falseRollbacks).toBeLessThanOrEqual(10);
  });

  it('catches +100 ms within a few looks', () => {
    const rand = random(13);
    const runs = Array.from({ length: 50 }, () => simulate(rand, { canary: 120, stable: 20 }, 100));
    expect(runs.every((r) => r.state === 'regression')).toBe(true);
    // As soon as both tracks served the minimum of requests (50 canary requests: 3 looks at about 20).
    expect(Math.max(...runs.map((r) => r.look))).toBeLessThanOrEqual(4);
  });

  it('catches +60 ms with the smallest regression that matters at +50 ms p95', () => {
    const rand = random(14);
    const runs = Array.from({ length: 50 }, () => simulate(rand, { canary: 80, stable: 20 }, 300));
    expect(runs.filter((r) => r.state === 'regression').length).toBeGreaterThanOrEqual(48);
  });

  it('keeps a canary slower by less than the smallest regression that matters (+10 ms against +50 ms)', () => {
    const rand = random(15);
    const runs = Array.from({ length: 30 }, () => simulate(rand, { canary: 30, stable: 20 }, 300));
    expect(runs.filter((r) => r.state === 'regression')).toEqual([]);
    // Not worse by +50 ms either: most steps pass early.
    expect(runs.filter((r) => r.state === 'no-regression').length).toBeGreaterThanOrEqual(25);
  });

  it('rules a +50 ms regression out for a healthy canary, given enough requests (an early pass)', () => {
    const rand = random(16);
    const runs = Array.from({ length: 50 }, () => simulate(rand, { canary: 20, stable: 20 }, 600));
    expect(runs.filter((r) => r.state === 'no-regression').length).toBeGreaterThanOrEqual(45);
  });

  it('passes early a canary exactly +50 ms slower at most beta of the time', () => {
    const rand = random(17);
    const runs = Array.from({ length: 200 }, () => simulate(rand, { canary: 70, stable: 20 }, 300));
    // beta 0.05 over 200 runs: at most 10.
    expect(runs.filter((r) => r.state === 'no-regression').length).toBeLessThanOrEqual(10);
  });
});

describe('the latency judge, look by look', () => {
  const at = (buckets: number[], count: number): HistogramCounts => ({ buckets, count });
  const small: LatencyOptions = { ...options, bounds: [0.05, 0.1, 0.25, 0.5], minRequests: 100, alpha: 0.01 };

  it('decides nothing before each track served minRequests, then says why in one line', () => {
    const test = new SequentialLatencyTest(small);
    test.update(at([0, 0, 0, 0], 0), at([0, 0, 0, 0], 0));
    test.update(at([0, 10, 40, 40], 40), at([400, 400, 400, 400], 400));
    expect(test.verdict().state).toBe('collecting');
    expect(test.verdict().message).toBe(
      'latency p95 240 ms vs 48 ms on stable; collecting evidence: 40 canary and 400 stable requests, 100 of each needed first',
    );
    test.update(at([0, 25, 100, 100], 100), at([1000, 1000, 1000, 1000], 1000));
    expect(test.verdict()).toMatchObject({ state: 'regression', canaryRequests: 100, stableRequests: 1000 });
    expect(test.verdict().message).toBe(
      'latency p95 240 ms vs 48 ms on stable: a regression, conclusive after 100 canary and 1000 stable requests (false-rollback risk < 1%)',
    );
  });

  it('estimates the quantile like histogram_quantile, and shows one above the last bound as such', () => {
    const test = new SequentialLatencyTest({ ...small, minRequests: 1 });
    test.update(at([0, 0, 0, 0], 0), at([0, 0, 0, 0], 0));
    // Stable: 50 % ≤ 50 ms, 100 % ≤ 100 ms → p95 = 50 + 50·0.9 = 95 ms. Canary: everything above 500 ms.
    test.update(at([0, 0, 0, 0], 10), at([50, 100, 100, 100], 100));
    const verdict = test.verdict();
    expect(verdict.stableMs).toBeCloseTo(95, 6);
    expect(verdict.canaryMs).toBe(500);
    expect(verdict.message).toMatch(/^latency p95 > 500 ms vs 95 ms on stable/);
  });

  it('counts from the first look on, and takes a histogram whose count went down as restarted', () => {
    const test = new SequentialLatencyTest(small);
    test.update(at([0, 0, 0, 0], 0), at([9000, 9000, 9000, 10_000], 10_000));
    test.update(at([10, 10, 10, 10], 10), at([9300, 9300, 9300, 10_400], 10_400));
    expect(test.verdict()).toMatchObject({ canaryRequests: 10, stableRequests: 400 });
    test.update(at([5, 5, 5, 5], 5), at([9400, 9400, 9400, 10_500], 10_500));
    expect(test.verdict()).toMatchObject({ canaryRequests: 15, stableRequests: 500 });
  });

  it('still catches a regression that starts after an earlier step ruled one out', () => {
    const rand = random(18);
    const test = new SequentialLatencyTest(options);
    const histograms = { canary: empty(), stable: empty() };
    const look = (step: number, canaryMs: number) => {
      for (let i = 0; i < 20; i++) observe(histograms.canary, latency(rand, canaryMs));
      for (let i = 0; i < 80; i++) observe(histograms.stable, latency(rand, 20));
      test.update(copy(histograms.canary), copy(histograms.stable), step);
      return test.verdict().state;
    };
    let state = look(0, 20);
    for (let i = 0; i < 600 && state !== 'no-regression'; i++) state = look(0, 20);
    expect(state).toBe('no-regression');
    // The next step starts without the earlier step's evidence of no regression…
    expect(look(1, 20)).toBe('undecided');
    // …and a regression in it is caught.
    for (let i = 0; i < 50 && state !== 'regression'; i++) state = look(1, 200);
    expect(state).toBe('regression');
  });

  it('says when the buckets are too coarse to rule the shift out', () => {
    const test = new SequentialLatencyTest({ ...small, minRequests: 10, minShiftMs: 50 });
    test.update(at([0, 0, 0, 0], 0), at([0, 0, 0, 0], 0));
    // The stable's p95 lies in (100 ms, 250 ms]: no bound ≤ 100 + 50 ms has fewer than 5 % of it above.
    for (let k = 1; k <= 3; k++)
      test.update(at([0, 50 * k, 100 * k, 100 * k], 100 * k), at([0, 50 * k, 100 * k, 100 * k], 100 * k));
    expect(test.verdict().message).toMatch(/the buckets are too coarse to rule out \+50 ms early$/);
  });
});

describe('a sequential latency metric in the analysis file', () => {
  const latency = 'sum by (le) (b{track="{{track}}"})';

  it('takes its defaults: p95, alpha 0.01, beta 0.05, 20 requests, no early end', async () => {
    const { parseAnalysis } = await import('../../../src/deploy/analysis/spec.js');
    const spec = parseAnalysis({ metrics: [{ name: 'latency', sequential: { latency, minShift: '50ms' } }] });
    expect(spec.metrics[0]).toEqual({
      name: 'latency',
      query: latency,
      sequential: {
        latency,
        quantile: 0.95,
        minShiftMs: 50,
        alpha: 0.01,
        beta: 0.05,
        minRequests: 20,
        endEarly: false,
      },
    });
  });

  it.each([
    [{ latency }, /sequential\.minShift: required with latency/],
    [{ latency, minShift: 50 }, /minShift: expected a duration with its unit/],
    [{ latency, minShift: '50' }, /minShift: expected a duration with its unit/],
    [{ latency, minShift: '50ms', minRatio: 2 }, /minRatio: only with errors and requests/],
    [{ latency, minShift: '50ms', quantile: 1 }, /quantile: expected a quantile below 1/],
    [{ latency, errors: 'e', requests: 'r' }, /either errors and requests, or latency, not both/],
    [{ errors: 'e', requests: 'r', minShift: '50ms' }, /minShift: only with latency/],
    [{ alpha: 0.01 }, /needs errors and requests \(error counts\) or latency \(a latency histogram by le\)/],
  ])('refuses %j naming the field', async (sequential, message) => {
    const { parseAnalysis } = await import('../../../src/deploy/analysis/spec.js');
    expect(() => parseAnalysis({ metrics: [{ name: 'latency', sequential }] })).toThrow(message);
  });
});
