import { describe, expect, it } from 'vitest';
import {
  type AnalysisStepOptions,
  runAnalysisStep,
  validateQueries,
} from '../../../src/deploy/analysis/analysis.js';
import { type AnalysisCheck, AnalysisRun } from '../../../src/deploy/analysis/judge.js';
import {
  type MetricsProvider,
  MultipleValuesError,
  NoDataError,
  type QueryOptions,
} from '../../../src/deploy/analysis/provider.js';
import type { AnalysisSpec, Check, MetricSpec } from '../../../src/deploy/types.js';
import { InfraError, InputError } from '../../../src/util/errors.js';

/**
 * The loop is pure logic around a provider, so a fake provider and an injected clock make these tests
 * instant; the real Prometheus is exercised in test/integration/analysis.test.ts.
 */
type Answer = number | Error | Promise<number>;

class FakeProvider implements MetricsProvider {
  readonly name = 'fake';
  readonly queries: string[] = [];
  online = true;
  validated: { query: string; metric?: string }[] = [];

  constructor(private readonly answer: (query: string, call: number) => Answer) {}

  async query(query: string, _options?: QueryOptions): Promise<number> {
    this.queries.push(query);
    const answer = this.answer(query, this.queries.length);
    if (answer instanceof Error) throw answer;
    return answer;
  }

  async isOnline(): Promise<boolean> {
    return this.online;
  }

  async validate(query: string, metric?: string): Promise<void> {
    this.validated.push({ query, ...(metric !== undefined && { metric }) });
    if (query.includes('broken'))
      throw new InputError('--analysis', `metric "${metric}": query does not parse: oops`);
    if (!this.online) throw new InfraError('fake at http://x is unreachable (ECONNREFUSED)');
  }
}

/** A clock that only moves when the loop sleeps. */
function fakeClock(start = Date.parse('2026-01-01T00:00:00.000Z')) {
  let time = start;
  return {
    now: () => new Date(time),
    sleep: async (ms: number) => {
      time += ms;
    },
    elapsed: () => time - start,
  };
}

const errorRate: MetricSpec = {
  name: 'error-rate',
  query: 'sum(rate(errors{namespace="{{namespace}}",app="{{name}}",track="{{track}}"}[{{interval}}]))',
  max: 0.05,
};
const latency: MetricSpec = {
  name: 'latency',
  query: 'p99{track="{{track}}"}',
  compare: { worse: 'increase', alpha: 0.05, minEffectSize: 0.3, minSamples: 5 },
};

function spec(overrides: Partial<AnalysisSpec> = {}): AnalysisSpec {
  return { intervalMs: 1000, failureLimit: 0, inconclusiveLimit: 0, metrics: [errorRate], ...overrides };
}

function setup(analysis: AnalysisSpec, provider: MetricsProvider, extra: Partial<AnalysisStepOptions> = {}) {
  const clock = fakeClock();
  const seen: Check[] = [];
  const options: AnalysisStepOptions = {
    spec: analysis,
    provider,
    vars: { namespace: 'shop', name: 'checkout', canary: 'canary', stable: 'stable' },
    step: 0,
    durationMs: 10_000,
    run: new AnalysisRun(analysis),
    signal: new AbortController().signal,
    onCheck: (check) => seen.push(check),
    now: clock.now,
    sleep: clock.sleep,
    ...extra,
  };
  return { options, clock, seen };
}

/** Deterministic jitter so that samples have no ties. */
const jitter = (call: number) => ((call * 7919) % 97) / 10_000;

describe('runAnalysisStep', () => {
  it('passes a healthy step after measuring every interval until the step ends', async () => {
    const provider = new FakeProvider(() => 0.01);
    const { options, clock, seen } = setup(spec(), provider);
    const result = await runAnalysisStep(options);
    expect(result).toMatchObject({ outcome: 'passed' });
    expect(result.reason).toBeUndefined();
    expect(result.checks).toHaveLength(10);
    expect(seen).toEqual(result.checks);
    expect(clock.elapsed()).toBe(10_000);
    // The first measurement comes one interval after the step starts, then one per interval.
    expect(result.checks.map((check) => check.at.slice(17, 19))).toEqual([
      '01',
      '02',
      '03',
      '04',
      '05',
      '06',
      '07',
      '08',
      '09',
      '10',
    ]);
    expect(result.checks[0]).toMatchObject({
      metric: 'error-rate',
      step: 0,
      value: 0.01,
      max: 0.05,
      result: 'pass',
      message: '0.01 ≤ max 0.05',
      kind: 'threshold',
    });
    expect(provider.queries[0]).toBe('sum(rate(errors{namespace="shop",app="checkout",track="canary"}[1s]))');
  });

  it('aborts at the first failure beyond the limit without waiting for the step to end', async () => {
    const provider = new FakeProvider((_query, call) => (call >= 3 ? 0.43 : 0.01));
    const { options, clock } = setup(spec({ failureLimit: 1 }), provider, { durationMs: 60_000 });
    const result = await runAnalysisStep(options);
    expect(result.outcome).toBe('aborted');
    expect(result.reason).toBe('error-rate 0.43 above max 0.05 (2 failures > limit 1)');
    expect(result.checks.map((check) => check.result)).toEqual(['pass', 'pass', 'fail', 'fail']);
    expect(clock.elapsed()).toBe(4000);
    expect(result.decidedAt?.toISOString()).toBe('2026-01-01T00:00:04.000Z');
    expect(provider.queries).toHaveLength(4);
  });

  it('counts no data as inconclusive and aborts after inconclusiveLimit', async () => {
    const provider = new FakeProvider(() => new NoDataError('no data: the query selected no series'));
    const { options, clock } = setup(spec({ inconclusiveLimit: 2 }), provider);
    const result = await runAnalysisStep(options);
    expect(result.outcome).toBe('aborted');
    expect(result.reason).toBe(
      'error-rate: no data: the query selected no series (3 inconclusive measurements > limit 2)',
    );
    expect(result.checks).toHaveLength(3);
    expect(result.checks[0]).toMatchObject({
      value: null,
      result: 'inconclusive',
      message: 'no data: the query selected no series (inconclusive)',
    });
    expect(clock.elapsed()).toBe(3000);
  });

  it('counts a provider error as inconclusive, with its message, and does not crash', async () => {
    const provider = new FakeProvider((_query, call) =>
      call === 2 ? new InfraError('prometheus at http://p:9090 is unreachable (ECONNREFUSED)') : 0.01,
    );
    const { options } = setup(spec({ inconclusiveLimit: 1 }), provider);
    const result = await runAnalysisStep(options);
    expect(result.outcome).toBe('passed');
    expect(result.checks[1]).toMatchObject({
      result: 'inconclusive',
      value: null,
      message: 'query failed: prometheus at http://p:9090 is unreachable (ECONNREFUSED) (inconclusive)',
    });
  });

  it('aborts when the provider keeps failing', async () => {
    const provider = new FakeProvider(
      () => new InfraError('prometheus at http://p:9090 answered 503 Service Unavailable'),
    );
    const { options } = setup(spec({ inconclusiveLimit: 1 }), provider);
    const result = await runAnalysisStep(options);
    expect(result).toMatchObject({
      outcome: 'aborted',
      reason:
        'error-rate: query failed: prometheus at http://p:9090 answered 503 Service Unavailable (2 inconclusive measurements > limit 1)',
      // The metrics server failed, not the new version: the strategies turn this into exit 3.
      infrastructure: true,
    });
  });

  it('says the abort was not the infrastructure when the query found no data', async () => {
    const provider = new FakeProvider(() => new NoDataError('no data: the query selected no series'));
    const { options } = setup(spec({ inconclusiveLimit: 1 }), provider);
    const result = await runAnalysisStep(options);
    expect(result.outcome).toBe('aborted');
    expect(result.infrastructure).toBeUndefined();
  });

  it('goes by the measurement that tipped the limit: provider down after no data is infrastructure', async () => {
    const provider = new FakeProvider((_query, call) =>
      call === 1
        ? new NoDataError('no data: the query selected no series')
        : new InfraError('prometheus at http://p:9090 is unreachable (ECONNREFUSED)'),
    );
    const { options } = setup(spec({ inconclusiveLimit: 1 }), provider);
    const result = await runAnalysisStep(options);
    expect(result.checks.map((c) => c.result)).toEqual(['inconclusive', 'inconclusive']);
    expect(result.infrastructure).toBe(true);
  });

  it('a query the provider cannot evaluate (bad input) is not counted as infrastructure', async () => {
    const provider = new FakeProvider(
      () => new InputError('--analysis', 'metric "error-rate": query cannot be evaluated: boom'),
    );
    const { options } = setup(spec({ inconclusiveLimit: 0 }), provider);
    const result = await runAnalysisStep(options);
    expect(result.outcome).toBe('aborted');
    expect(result.infrastructure).toBeUndefined();
  });

  it('marks a comparison whose stable track the provider failed to measure as infrastructure', async () => {
    const provider = new FakeProvider((query) =>
      query.includes('stable')
        ? new InfraError('prometheus at http://p:9090 did not answer within 10s')
        : 0.2,
    );
    const { options } = setup(spec({ inconclusiveLimit: 1, metrics: [latency] }), provider);
    const result = await runAnalysisStep(options);
    expect(result.outcome).toBe('aborted');
    expect(result.infrastructure).toBe(true);
  });

  it('reports several series as inconclusive', async () => {
    const provider = new FakeProvider(() => new MultipleValuesError(3));
    const { options } = setup(spec(), provider);
    const result = await runAnalysisStep(options);
    expect(result.reason).toBe(
      'error-rate: query returned 3 series, expected one (aggregate it with sum, avg or max) (1 inconclusive measurement > limit 0)',
    );
  });

  it('never passes a step whose measurements were all inconclusive', async () => {
    const provider = new FakeProvider(() => new NoDataError());
    const { options, clock } = setup(spec({ inconclusiveLimit: 100 }), provider);
    const result = await runAnalysisStep(options);
    expect(result.outcome).toBe('aborted');
    expect(result.reason).toBe(
      'no conclusive measurement of error-rate during step 1 (last: no data (inconclusive))',
    );
    expect(clock.elapsed()).toBe(10_000);
  });

  it('measures once at the end of a step shorter than the interval', async () => {
    const provider = new FakeProvider(() => 0.01);
    const { options, clock } = setup(spec({ intervalMs: 30_000 }), provider, { durationMs: 5000 });
    const result = await runAnalysisStep(options);
    expect(result.outcome).toBe('passed');
    expect(result.checks).toHaveLength(1);
    expect(clock.elapsed()).toBe(5000);
  });

  it('waits out the rest of the step after the last whole interval', async () => {
    const provider = new FakeProvider(() => 0.01);
    const { options, clock } = setup(spec({ intervalMs: 3000 }), provider, { durationMs: 10_000 });
    const result = await runAnalysisStep(options);
    expect(result.checks).toHaveLength(3);
    expect(clock.elapsed()).toBe(10_000);
  });

  it('does not drift when queries are slow', async () => {
    const clock = fakeClock();
    const provider = new FakeProvider(() => {
      void clock.sleep(300); // each query takes 300 ms of the step
      return 0.01;
    });
    const { options } = setup(spec(), provider, { now: clock.now, sleep: clock.sleep });
    const result = await runAnalysisStep(options);
    expect(result.checks).toHaveLength(10);
    expect(result.checks.map((check) => check.at.slice(17, 23))).toContain('10.000');
    expect(clock.elapsed()).toBe(10_300);
  });

  it('returns at once when the run has already aborted', async () => {
    const provider = new FakeProvider(() => 0.5);
    const { options } = setup(spec(), provider);
    await runAnalysisStep(options);
    const queries = provider.queries.length;
    const again = await runAnalysisStep({ ...options, step: 1 });
    expect(again.outcome).toBe('aborted');
    expect(again.checks).toEqual([]);
    expect(provider.queries).toHaveLength(queries);
  });

  describe('compare', () => {
    const analysis = spec({ metrics: [latency] });

    it('fails a canary significantly worse than stable', async () => {
      const provider = new FakeProvider((query, call) =>
        query.includes('track="canary"') ? 0.5 + jitter(call) : 0.1 + jitter(call),
      );
      const { options, clock } = setup(analysis, provider);
      const result = await runAnalysisStep(options);
      expect(result.outcome).toBe('aborted');
      // Five samples per track: exact one-sided p = 1/252 ≈ 0.004, below alpha / 6 looks ≈ 0.0083.
      expect(result.reason).toMatch(
        /^latency: canary significantly worse \(increase\): median 0\.5\d* vs stable 0\.1\d*, p=0\.004 < 0\.008333, Cliff's delta 1 ≥ 0\.3 \(1 failure > limit 0\)$/,
      );
      expect(clock.elapsed()).toBe(5000);
      const compare = result.checks.find(
        (check) => (check as AnalysisCheck).kind === 'compare',
      ) as AnalysisCheck;
      expect(compare).toMatchObject({ metric: 'latency', result: 'fail', effectSize: 1 });
      expect(compare.pValue).toBeCloseTo(1 / 252, 12);
      // Both tracks were queried each interval.
      expect(provider.queries.filter((q) => q.includes('track="stable"'))).toHaveLength(5);
    });

    it('passes a canary that looks like stable', async () => {
      const provider = new FakeProvider((_query, call) => 0.1 + jitter(call));
      const { options } = setup(analysis, provider);
      const result = await runAnalysisStep(options);
      expect(result.outcome).toBe('passed');
      const compares = result.checks.filter((check) => (check as AnalysisCheck).kind === 'compare');
      expect(compares).toHaveLength(6); // one look per measurement from the fifth on
      expect(compares.every((check) => check.result === 'pass')).toBe(true);
      const sample = result.checks[0] as AnalysisCheck;
      expect(sample).toMatchObject({ kind: 'sample', result: 'pass' });
      expect(sample.baseline).toBeTypeOf('number');
    });

    it('leaves the step inconclusive when the stable track never has data', async () => {
      const provider = new FakeProvider((query) =>
        query.includes('track="stable"') ? new NoDataError() : 0.1,
      );
      const { options } = setup({ ...analysis, inconclusiveLimit: 100 }, provider);
      const result = await runAnalysisStep(options);
      expect(result.outcome).toBe('aborted');
      expect(result.reason).toBe(
        'no conclusive comparison of latency with stable during step 1 (last: 10 canary and 0 stable samples, needs 5 each (inconclusive))',
      );
      expect(result.checks[0]).toMatchObject({
        result: 'inconclusive',
        message: 'stable track: no data (inconclusive)',
      });
    });
  });

  describe('cancellation', () => {
    it('returns promptly when the signal fires during a query that hangs', async () => {
      const controller = new AbortController();
      const provider = new FakeProvider(() => new Promise<number>(() => {}));
      const { options } = setup(spec(), provider, { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('job cancelled')), 5);
      const result = await runAnalysisStep(options);
      expect(result).toMatchObject({
        outcome: 'aborted',
        cancelled: true,
        reason: 'analysis cancelled: job cancelled',
      });
    });

    it('returns promptly when the signal fires while sleeping (real sleep)', async () => {
      const controller = new AbortController();
      const provider = new FakeProvider(() => 0.01);
      const started = Date.now();
      const result = await runAnalysisStep({
        spec: spec({ intervalMs: 60_000 }),
        provider,
        vars: { namespace: 'shop', name: 'checkout', canary: 'canary', stable: 'stable' },
        step: 0,
        durationMs: 600_000,
        run: new AnalysisRun(spec()),
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(20)]),
      });
      expect(result).toMatchObject({ outcome: 'aborted', cancelled: true });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(provider.queries).toHaveLength(0);
    });
  });
});

describe('runAnalysisStep: {{run}}', () => {
  it("measures the canary with this rollout's run label and the stable track with none", async () => {
    const provider = new FakeProvider((_query, call) => 0.01 + jitter(call));
    const perRun: MetricSpec = {
      ...latency,
      query: 'p99{track="{{track}}",run="{{run}}"}',
    };
    const { options } = setup(spec({ metrics: [perRun] }), provider, {
      vars: { namespace: 'shop', name: 'checkout', canary: 'canary', stable: 'stable', run: 'r-1' },
      durationMs: 1000,
    });
    await runAnalysisStep(options);
    expect(provider.queries).toEqual(['p99{track="canary",run="r-1"}', 'p99{track="stable",run=""}']);
  });
});

describe('validateQueries', () => {
  const vars = { namespace: 'shop', name: 'checkout' };

  it('renders and validates every query, both tracks for compare metrics', async () => {
    const provider = new FakeProvider(() => 0);
    await validateQueries(spec({ metrics: [errorRate, latency] }), provider, vars);
    expect(provider.validated).toEqual([
      {
        query: 'sum(rate(errors{namespace="shop",app="checkout",track="canary"}[1s]))',
        metric: 'error-rate',
      },
      { query: 'p99{track="canary"}', metric: 'latency' },
      { query: 'p99{track="stable"}', metric: 'latency' },
    ]);
  });

  it("renders {{track}} with the new version's track (preview for blue-green)", async () => {
    const provider = new FakeProvider(() => 0);
    await validateQueries(spec({ metrics: [latency] }), provider, { ...vars, canary: 'preview' });
    expect(provider.validated.map((v) => v.query)).toEqual(['p99{track="preview"}', 'p99{track="stable"}']);
  });

  it('renders {{run}} with the run label for the new version and empty for the stable track', async () => {
    const provider = new FakeProvider(() => 0);
    const perRun = { ...latency, query: 'p99{track="{{track}}",run="{{run}}"}' };
    await validateQueries(spec({ metrics: [perRun] }), provider, { ...vars, run: '42-0a1b2c3d' });
    expect(provider.validated.map((v) => v.query)).toEqual([
      'p99{track="canary",run="42-0a1b2c3d"}',
      'p99{track="stable",run=""}',
    ]);
  });

  it("passes on the provider's InputError naming the metric", async () => {
    const provider = new FakeProvider(() => 0);
    const broken = { ...errorRate, name: 'broken-one', query: 'broken(' };
    await expect(validateQueries(spec({ metrics: [broken] }), provider, vars)).rejects.toThrow(
      '--analysis: metric "broken-one": query does not parse: oops',
    );
  });

  it('rejects an unknown placeholder before asking the provider', async () => {
    const provider = new FakeProvider(() => 0);
    const bad = { ...errorRate, query: 'up{pod="{{pod}}"}' };
    await expect(validateQueries(spec({ metrics: [bad] }), provider, vars)).rejects.toThrow(
      /unknown placeholder \{\{pod\}\}/,
    );
    expect(provider.validated).toEqual([]);
  });

  it('fails with an InfraError, and the reason, when the provider is offline', async () => {
    const provider = new FakeProvider(() => 0);
    provider.online = false;
    const error = await validateQueries(spec(), provider, vars).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfraError);
    expect((error as InfraError).exitCode).toBe(3);
    expect((error as Error).message).toBe(
      'fake at http://x is unreachable (ECONNREFUSED); nothing was changed',
    );
  });

  it('rejects steps too short for a comparison to collect its samples', async () => {
    const provider = new FakeProvider(() => 0);
    await expect(
      validateQueries(spec({ metrics: [latency], intervalMs: 10_000 }), provider, vars, {
        stepDurationsMs: [60_000, 30_000],
      }),
    ).rejects.toThrow(
      '--analysis: metric "latency": compare needs 5 samples per track, but step 2 (30s at interval 10s) allows only 3; lengthen the step, shorten the interval or lower minSamples',
    );
  });
});

describe('runAnalysisStep with a sequential metric', () => {
  const sequentialMetric = (endEarly = false): MetricSpec => ({
    name: 'errors',
    query: 'errors{track="{{track}}"}',
    sequential: {
      errors: 'errors{track="{{track}}"}',
      requests: 'requests{track="{{track}}"}',
      minRatio: 1.5,
      alpha: 0.01,
      beta: 0.05,
      minRequests: 50,
      endEarly,
    },
  });
  /** Cumulative counters growing by `rps` requests a second on each track, a share of them errors. */
  const counters = (rate: { canary: number; stable: number }, rps = { canary: 20, stable: 80 }) => {
    const looks = new Map<string, number>();
    return new FakeProvider((query) => {
      const track = query.includes('"canary"') ? 'canary' : 'stable';
      const key = `${track}:${query.startsWith('errors') ? 'e' : 'r'}`;
      const look = (looks.get(key) ?? 0) + 1;
      looks.set(key, look);
      const requests = rps[track] * look;
      return query.startsWith('errors') ? Math.round(requests * rate[track]) : requests;
    });
  };

  it('fails at the first look where a regression is conclusive, saying so in one line', async () => {
    const analysis = spec({ metrics: [sequentialMetric()] });
    const { options, clock } = setup(analysis, counters({ canary: 0.3, stable: 0.005 }), {
      durationMs: 60_000,
    });
    const result = await runAnalysisStep(options);
    expect(result.outcome).toBe('aborted');
    expect(result.reason).toMatch(
      /^errors: errors 30% vs 0(\.\d+)?% on stable: a regression, conclusive after \d+ canary and \d+ stable requests \(false-rollback risk < 1%\) \(1 failure > limit 0\)$/,
    );
    expect(clock.elapsed()).toBeLessThanOrEqual(5000);
    const last = result.checks.at(-1) as AnalysisCheck;
    expect(last).toMatchObject({ kind: 'sequential', result: 'fail', value: 0.3 });
  });

  it('with endEarly, ends a timed step with a pass once a regression is ruled out; never without mayEndEarly', async () => {
    const analysis = spec({ metrics: [sequentialMetric(true)] });
    const early = setup(analysis, counters({ canary: 0.05, stable: 0.05 }, { canary: 200, stable: 800 }), {
      durationMs: 600_000,
      mayEndEarly: true,
    });
    const passed = await runAnalysisStep(early.options);
    expect(passed).toMatchObject({ outcome: 'passed', endedEarly: true });
    expect(early.clock.elapsed()).toBeLessThan(600_000);
    expect((passed.checks.at(-1) as AnalysisCheck).message).toMatch(
      /no regression of ×1\.5 or worse in this step, conclusive after/,
    );

    const gate = setup(analysis, counters({ canary: 0.05, stable: 0.05 }, { canary: 200, stable: 800 }), {
      durationMs: 60_000,
    });
    const held = await runAnalysisStep(gate.options);
    expect(held.outcome).toBe('passed');
    expect(held.endedEarly).toBeUndefined();
    expect(gate.clock.elapsed()).toBe(60_000);
  });

  it('validates both queries for both tracks', async () => {
    const provider = counters({ canary: 0, stable: 0 });
    await validateQueries(spec({ metrics: [sequentialMetric()] }), provider, {
      namespace: 'shop',
      name: 'web',
    });
    expect(provider.validated.map((v) => v.query)).toEqual([
      'errors{track="canary"}',
      'requests{track="canary"}',
      'errors{track="stable"}',
      'requests{track="stable"}',
    ]);
  });
});

describe('runAnalysisStep with a sequential latency metric', () => {
  const latencyMetric = (endEarly = false): MetricSpec => ({
    name: 'latency',
    query: 'sum by (le) (b{track="{{track}}"})',
    sequential: {
      latency: 'sum by (le) (b{track="{{track}}"})',
      quantile: 0.95,
      minShiftMs: 50,
      alpha: 0.01,
      beta: 0.05,
      minRequests: 50,
      endEarly,
    },
  });
  const BOUNDS = ['0.025', '0.05', '0.1', '0.25', '+Inf'];

  /** A provider answering histograms by le (as Prometheus does); `single` answers `query`, unused here. */
  class HistogramProvider extends FakeProvider {
    constructor(readonly byLabel: (query: string) => Map<string, number> | Error) {
      super(() => new Error('query is not used by the latency judge'));
    }
    async queryByLabel(query: string, label: string): Promise<Map<string, number>> {
      expect(label).toBe('le');
      this.queries.push(query);
      const answer = this.byLabel(query);
      if (answer instanceof Error) throw answer;
      return answer;
    }
  }

  /**
   * Cumulative histograms growing by `rps` requests a second per track, each request's latency uniform over
   * [L/2, 3L/2] like the sandbox's simulator (so each bucket gets its exact share).
   */
  const histograms = (latencyMs: { canary: number; stable: number }, rps = { canary: 20, stable: 80 }) => {
    const looks = { canary: 0, stable: 0 };
    return new HistogramProvider((query) => {
      const track = query.includes('"canary"') ? 'canary' : 'stable';
      const look = ++looks[track];
      const low = latencyMs[track] / 2000;
      const high = (3 * latencyMs[track]) / 2000;
      return new Map(
        BOUNDS.map((le) => {
          const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
          const share = bound >= high ? 1 : bound < low ? 0 : (bound - low) / (high - low);
          return [le, rps[track] * look * share];
        }),
      );
    });
  };

  it('fails at the first look where +100 ms is conclusive, saying so in one line, the quantiles in seconds', async () => {
    const analysis = spec({ metrics: [latencyMetric()] });
    const { options, clock } = setup(analysis, histograms({ canary: 120, stable: 20 }), {
      durationMs: 60_000,
    });
    const result = await runAnalysisStep(options);
    expect(result.outcome).toBe('aborted');
    expect(result.reason).toMatch(
      /^latency: latency p95 \d+ ms vs \d+ ms on stable: a regression, conclusive after \d+ canary and \d+ stable requests \(false-rollback risk < 1%\) \(1 failure > limit 0\)$/,
    );
    expect(clock.elapsed()).toBeLessThanOrEqual(5000);
    const last = result.checks.at(-1) as AnalysisCheck;
    expect(last).toMatchObject({ kind: 'sequential', result: 'fail' });
    expect(last.value).toBeGreaterThan(0.1);
    expect(last.baseline).toBeLessThan(0.05);
  });

  it('with endEarly, passes a healthy canary early; a bound missing later is inconclusive, named', async () => {
    const analysis = spec({ metrics: [latencyMetric(true)] });
    const early = setup(analysis, histograms({ canary: 20, stable: 20 }), {
      durationMs: 600_000,
      mayEndEarly: true,
    });
    const passed = await runAnalysisStep(early.options);
    expect(passed).toMatchObject({ outcome: 'passed', endedEarly: true });
    expect((passed.checks.at(-1) as AnalysisCheck).message).toMatch(
      /no regression of \+50 ms at p95 or worse in this step, conclusive after/,
    );

    let calls = 0;
    const shrinking = new HistogramProvider(() => {
      calls++;
      const all = new Map(BOUNDS.map((le) => [le, 10 * calls]));
      if (calls > 2) all.delete('0.1');
      return all;
    });
    const result = await runAnalysisStep(setup(analysis, shrinking, { durationMs: 3000 }).options);
    expect(result.checks.map((c) => c.message)).toContain(
      'no le="0.1" bucket in the histogram (inconclusive)',
    );
  });

  it('validates the latency query for both tracks; refuses a provider that cannot return buckets by le', async () => {
    const provider = histograms({ canary: 20, stable: 20 });
    await validateQueries(spec({ metrics: [latencyMetric()] }), provider, { namespace: 'shop', name: 'web' });
    expect(provider.validated.map((v) => v.query)).toEqual([
      'sum by (le) (b{track="canary"})',
      'sum by (le) (b{track="stable"})',
    ]);
    await expect(
      validateQueries(spec({ metrics: [latencyMetric()] }), new FakeProvider(() => 1), {
        namespace: 'shop',
        name: 'web',
      }),
    ).rejects.toThrow(
      '--analysis: metric "latency": a sequential latency metric reads a histogram\'s buckets by le, which only a Prometheus-compatible provider returns (provider: fake)',
    );
  });
});
