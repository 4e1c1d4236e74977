import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runAnalysisStep, validateQueries } from '../../src/deploy/analysis/analysis.js';
import { AnalysisRun } from '../../src/deploy/analysis/judge.js';
import { MultipleValuesError, NoDataError } from '../../src/deploy/analysis/provider.js';
import { createProvider } from '../../src/deploy/analysis/providers.js';
import { parseAnalysis } from '../../src/deploy/analysis/spec.js';
import { InfraError, InputError } from '../../src/util/errors.js';

// The Prometheus provider and the analysis loop against the sandbox's real Prometheus. Only series that
// every Prometheus has whatever it scrapes are used (`up` of its targets; synthetic `vector()`), so the
// test does not depend on the traffic simulator's data.

const prometheusUrl = () => {
  const value = process.env.PROMETHEUS_URL;
  if (!value)
    throw new Error('PROMETHEUS_URL is not set: the sandbox did not start (see test/global-setup.ts)');
  return value;
};

const provider = () => createProvider('prometheus', { url: prometheusUrl(), timeoutMs: 5000 });

/** A loopback address where nothing listens: a port that was free a moment ago. */
async function unreachableUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** `count(up)` once Prometheus has scraped at least once (at once in the sandbox, which waits for that). */
async function targets(): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await provider().query('count(up)');
    } catch (error) {
      if (!(error instanceof NoDataError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

const errorOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('Prometheus provider against the sandbox', () => {
  it('is online', async () => {
    await expect(provider().isOnline()).resolves.toBe(true);
  });

  it('returns one number for a query on up', async () => {
    const count = await targets();
    expect(count).toBeGreaterThanOrEqual(1);
    await expect(provider().query('sum(up) >= 0')).resolves.toBeTypeOf('number');
    await expect(provider().query('scalar(vector(0.25))')).resolves.toBe(0.25);
  });

  it('throws NoDataError for a query that selects nothing, and for NaN', async () => {
    await targets();
    const empty = await errorOf(provider().query('up{job="gantry-it-no-such-job"}'));
    expect(empty).toBeInstanceOf(NoDataError);
    expect((empty as Error).message).toBe('no data: the query selected no series');
    const nan = await errorOf(provider().query('0 / 0'));
    expect(nan).toBeInstanceOf(NoDataError);
    expect((nan as Error).message).toBe('no data: the value is NaN');
  });

  it('throws MultipleValuesError for a query returning several series', async () => {
    const count = await targets();
    const error = await errorOf(provider().query('up or label_replace(up, "gantry_copy", "yes", "", "")'));
    expect(error).toBeInstanceOf(MultipleValuesError);
    expect((error as MultipleValuesError).count).toBe(2 * count);
  });

  it('rejects a query that does not parse with an InputError (exit 2) naming the metric', async () => {
    const error = await errorOf(provider().validate('sum(rate(x[5s])', 'error-rate'));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(
      /^--analysis: metric "error-rate": query does not parse: .*unclosed left parenthesis$/,
    );
  });

  it('accepts a valid query with no data yet, and rejects a range vector', async () => {
    await expect(
      provider().validate('sum(rate(http_requests_total{track="canary"}[5s]))', 'm'),
    ).resolves.toBeUndefined();
    await expect(provider().validate('up[1m]', 'm')).rejects.toThrow(
      /^--analysis: metric "m": query returns a range vector/,
    );
  });

  it('is offline at an unreachable address, where a query throws InfraError (exit 3)', async () => {
    const unreachable = createProvider('prometheus', { url: await unreachableUrl(), timeoutMs: 2000 });
    await expect(unreachable.isOnline()).resolves.toBe(false);
    const error = await errorOf(unreachable.query('up'));
    expect(error).toBeInstanceOf(InfraError);
    expect((error as InfraError).exitCode).toBe(3);
    expect((error as Error).message).toMatch(
      /^prometheus at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\)$/,
    );
  });
});

describe('the analysis loop against the sandbox Prometheus', () => {
  const vars = { namespace: 'gantry-it', name: 'app', canary: 'canary', stable: 'stable' };

  it('validates every query of an analysis before a rollout', async () => {
    const spec = parseAnalysis({
      interval: '500ms',
      metrics: [
        { name: 'targets', query: 'count(up{job!="{{namespace}}-{{track}}"})', min: 1 },
        { name: 'broken', query: 'sum(rate(x{track="{{track}}"}[5s])', max: 1 },
      ],
    });
    const error = await errorOf(validateQueries(spec, provider(), vars));
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/^--analysis: metric "broken": query does not parse: /);
  });

  it('passes a healthy step, measuring in real time', async () => {
    await targets();
    const spec = parseAnalysis({
      interval: '500ms',
      metrics: [{ name: 'targets', query: 'count(up{job!="{{namespace}}-{{track}}"})', min: 1 }],
    });
    const started = Date.now();
    const result = await runAnalysisStep({
      spec,
      provider: provider(),
      vars,
      step: 0,
      durationMs: 1500,
      run: new AnalysisRun(spec),
      signal: AbortSignal.timeout(30_000),
    });
    expect(result.outcome, result.reason).toBe('passed');
    expect(result.checks).toHaveLength(3);
    expect(result.checks.every((check) => check.result === 'pass')).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });

  it('aborts at the first breach, long before the step ends', async () => {
    await targets();
    const spec = parseAnalysis({
      interval: '500ms',
      metrics: [{ name: 'targets', query: 'count(up)', max: 0 }],
    });
    const started = Date.now();
    const result = await runAnalysisStep({
      spec,
      provider: provider(),
      vars,
      step: 0,
      durationMs: 60_000,
      run: new AnalysisRun(spec),
      signal: AbortSignal.timeout(30_000),
    });
    expect(result.outcome).toBe('aborted');
    expect(result.reason).toMatch(/^targets \d+ above max 0 \(1 failure > limit 0\)$/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('aborts on no data once inconclusiveLimit is exceeded', async () => {
    const spec = parseAnalysis({
      interval: '300ms',
      inconclusiveLimit: 1,
      metrics: [{ name: 'missing', query: 'sum(up{job="gantry-it-{{track}}"})', max: 1 }],
    });
    const result = await runAnalysisStep({
      spec,
      provider: provider(),
      vars,
      step: 0,
      durationMs: 30_000,
      run: new AnalysisRun(spec),
      signal: AbortSignal.timeout(30_000),
    });
    expect(result.outcome).toBe('aborted');
    expect(result.reason).toBe(
      'missing: no data: the query selected no series (2 inconclusive measurements > limit 1)',
    );
  });
});
