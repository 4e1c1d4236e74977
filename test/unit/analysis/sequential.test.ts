import { describe, expect, it } from 'vitest';
import { type SequentialOptions, SequentialRatioTest } from '../../../src/deploy/analysis/sequential.js';

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

const options: SequentialOptions = { minRatio: 1.5, alpha: 0.05, beta: 0.05, minRequests: 50 };

/**
 * Runs one canary against one stable: each look, `canaryRps` and `stableRps` requests (±20 % noise), each an
 * error with the track's rate; counters are cumulative, as Prometheus returns them. Returns the look at which
 * the test decided, and what.
 */
function simulate(
  rand: () => number,
  rates: { canary: number; stable: number },
  looks: number,
  opts: SequentialOptions = options,
  rps = { canary: 20, stable: 80 },
): { state: string; look: number } {
  const test = new SequentialRatioTest(opts);
  const counts = { canary: { errors: 0, requests: 0 }, stable: { errors: 0, requests: 0 } };
  test.update({ ...counts.canary }, { ...counts.stable });
  for (let look = 1; look <= looks; look++) {
    for (const track of ['canary', 'stable'] as const) {
      const n = Math.round(rps[track] * (0.8 + 0.4 * rand()));
      counts[track].requests += n;
      for (let i = 0; i < n; i++) if (rand() < rates[track]) counts[track].errors++;
    }
    test.update({ ...counts.canary }, { ...counts.stable });
    const { state } = test.verdict();
    if (state === 'regression' || state === 'no-regression') return { state, look };
  }
  return { state: test.verdict().state, look: looks };
}

describe('the sequential judge of error counts', () => {
  it('rolls back a healthy canary (same rate as stable) at most alpha of the time, however long it looks', () => {
    const rand = random(1);
    const trials = 400;
    let falseRollbacks = 0;
    for (let i = 0; i < trials; i++) {
      if (simulate(rand, { canary: 0.005, stable: 0.005 }, 300).state === 'regression') falseRollbacks++;
    }
    // alpha 0.05 over 400 trials: at most 20 expected as a bound; the mixture is conservative.
    expect(falseRollbacks).toBeLessThanOrEqual(20);
  });

  it('also when the canary is better than the stable', () => {
    const rand = random(2);
    let falseRollbacks = 0;
    for (let i = 0; i < 200; i++) {
      if (simulate(rand, { canary: 0.002, stable: 0.01 }, 300).state === 'regression') falseRollbacks++;
    }
    expect(falseRollbacks).toBeLessThanOrEqual(10);
  });

  it('catches a gross regression (30 % against 0.5 %) within a few looks', () => {
    const rand = random(3);
    const looks = Array.from({ length: 50 }, () => simulate(rand, { canary: 0.3, stable: 0.005 }, 100));
    expect(looks.every((r) => r.state === 'regression')).toBe(true);
    // Decided as soon as both tracks have served the minimum of requests (50 canary requests: 3 looks at 20/s).
    expect(Math.max(...looks.map((r) => r.look))).toBeLessThanOrEqual(5);
  });

  it('catches a small one (2 % against 0.5 %), later', () => {
    const rand = random(4);
    const runs = Array.from({ length: 50 }, () => simulate(rand, { canary: 0.02, stable: 0.005 }, 600));
    expect(runs.filter((r) => r.state === 'regression').length).toBeGreaterThanOrEqual(48);
  });

  it('rules a regression of minRatio out for a healthy canary, given enough requests (an early pass)', () => {
    const rand = random(5);
    const runs = Array.from({ length: 50 }, () => simulate(rand, { canary: 0.05, stable: 0.05 }, 600));
    expect(runs.filter((r) => r.state === 'no-regression').length).toBeGreaterThanOrEqual(45);
  });

  it('decides nothing before each track served minRequests', () => {
    const test = new SequentialRatioTest({ ...options, minRequests: 100 });
    test.update({ errors: 0, requests: 0 }, { errors: 0, requests: 0 });
    test.update({ errors: 40, requests: 40 }, { errors: 0, requests: 400 });
    expect(test.verdict().state).toBe('collecting');
    expect(test.verdict().message).toBe(
      'errors 100% vs 0% on stable; collecting evidence: 40 canary and 400 stable requests, 100 of each needed first',
    );
    test.update({ errors: 100, requests: 100 }, { errors: 0, requests: 1000 });
    expect(test.verdict().state).toBe('regression');
    expect(test.verdict().message).toBe(
      'errors 100% vs 0% on stable: a regression, conclusive after 100 canary and 1000 stable requests (false-rollback risk < 5%)',
    );
  });

  it('counts from the first look on: what the counters held before (a long-running stable) is not evidence', () => {
    const test = new SequentialRatioTest(options);
    test.update({ errors: 0, requests: 0 }, { errors: 5000, requests: 10_000 });
    test.update({ errors: 1, requests: 100 }, { errors: 5001, requests: 10_400 });
    expect(test.verdict()).toMatchObject({
      canaryRate: 0.01,
      stableRate: 1 / 400,
      canaryRequests: 100,
      stableRequests: 400,
    });
  });

  it('takes a counter that went down (pods restarted) as restarted from zero', () => {
    const test = new SequentialRatioTest(options);
    test.update({ errors: 10, requests: 1000 }, { errors: 10, requests: 1000 });
    test.update({ errors: 1, requests: 60 }, { errors: 12, requests: 1100 });
    expect(test.verdict()).toMatchObject({
      canaryRequests: 60,
      stableRequests: 100,
      canaryRate: 1 / 60,
      stableRate: 0.02,
    });
  });
});

describe('a sequential metric in the analysis file', () => {
  it('takes its defaults: ×1.5, alpha 0.01, beta 0.05, 20 requests, no early end', async () => {
    const { parseAnalysis } = await import('../../../src/deploy/analysis/spec.js');
    const spec = parseAnalysis({ metrics: [{ name: 'errors', sequential: { errors: 'e', requests: 'r' } }] });
    expect(spec.metrics[0]).toEqual({
      name: 'errors',
      query: 'e',
      sequential: {
        errors: 'e',
        requests: 'r',
        minRatio: 1.5,
        alpha: 0.01,
        beta: 0.05,
        minRequests: 20,
        endEarly: false,
      },
    });
  });

  it.each([
    [{ errors: 'e', requests: 'r', minRatio: 1 }, /minRatio: expected a ratio above 1/],
    [{ errors: 'e' }, /sequential\.requests: /],
    [{ errors: 'e', requests: 'r', alpha: 0.5 }, /alpha: expected at most 0\.2/],
  ])('refuses %j naming the field', async (sequential, message) => {
    const { parseAnalysis } = await import('../../../src/deploy/analysis/spec.js');
    expect(() => parseAnalysis({ metrics: [{ name: 'errors', sequential }] })).toThrow(message);
  });

  it('refuses a query or bounds beside it', async () => {
    const { parseAnalysis } = await import('../../../src/deploy/analysis/spec.js');
    expect(() =>
      parseAnalysis({
        metrics: [{ name: 'errors', query: 'q', max: 1, sequential: { errors: 'e', requests: 'r' } }],
      }),
    ).toThrow(
      /a sequential metric has its own queries \(errors and requests, or latency\); remove query, max/,
    );
  });
});

describe('the sequential judge across steps', () => {
  it('still catches a regression that starts after an earlier step ruled one out', () => {
    const test = new SequentialRatioTest(options);
    const counts = { canary: { errors: 0, requests: 0 }, stable: { errors: 0, requests: 0 } };
    const look = (step: number, canaryRate: number) => {
      counts.canary.requests += 200;
      counts.canary.errors += 200 * canaryRate;
      counts.stable.requests += 800;
      counts.stable.errors += 800 * 0.05;
      test.update({ ...counts.canary }, { ...counts.stable }, step);
      return test.verdict().state;
    };
    look(0, 0.05);
    let state = 'undecided';
    for (let i = 0; i < 200 && state !== 'no-regression'; i++) state = look(0, 0.05);
    expect(state).toBe('no-regression');
    // The next step starts without the earlier step's evidence of no regression…
    expect(look(1, 0.05)).toBe('undecided');
    // …and a regression in it is caught.
    for (let i = 0; i < 50 && state !== 'regression'; i++) state = look(1, 0.5);
    expect(state).toBe('regression');
  });
});
