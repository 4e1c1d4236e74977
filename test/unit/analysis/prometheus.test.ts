import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusProvider } from '../../../src/deploy/analysis/prometheus.js';
import { MultipleValuesError, NoDataError } from '../../../src/deploy/analysis/provider.js';
import { createProvider } from '../../../src/deploy/analysis/providers.js';
import { InfraError, InputError } from '../../../src/util/errors.js';
import { redact } from '../../../src/util/secrets.js';

/**
 * The mapping of Prometheus HTTP API answers to values and errors, against a local HTTP server that answers
 * what the real one answers (bodies as documented at prometheus.io/docs/prometheus/latest/querying/api/ and
 * as Prometheus 2.42 answered them here). test/integration/analysis.test.ts runs the same against a real one.
 */
type Handler = (request: IncomingMessage, url: URL) => { status: number; body: unknown } | 'hang';

let server: Server;
let base: string;
/** An address where nothing listens (a port that was free a moment ago). */
let nowhere: string;
let handler: Handler;
const requests: { url: URL; authorization?: string; tenant?: string }[] = [];

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    requests.push({
      url,
      ...(request.headers.authorization && { authorization: request.headers.authorization }),
      ...(request.headers['x-scope-orgid'] && { tenant: String(request.headers['x-scope-orgid']) }),
    });
    const answer = handler(request, url);
    if (answer === 'hang') return;
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  nowhere = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise((resolve) => closed.close(resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const vector = (...values: string[]) => ({
  status: 200,
  body: {
    status: 'success',
    data: {
      resultType: 'vector',
      result: values.map((v, i) => ({ metric: { i: String(i) }, value: [1700000000.1, v] })),
    },
  },
});
const scalar = (value: string) => ({
  status: 200,
  body: { status: 'success', data: { resultType: 'scalar', result: [1700000000.1, value] } },
});
const apiError = (status: number, errorType: string, error: string) => ({
  status,
  body: { status: 'error', errorType, error },
});

describe('PrometheusProvider.query', () => {
  it('returns the value of a one-series vector, sending the query and a timeout', async () => {
    handler = () => vector('0.25');
    requests.length = 0;
    await expect(new PrometheusProvider({ url: base, timeoutMs: 2500 }).query('sum(up)')).resolves.toBe(0.25);
    expect(requests[0]?.url.pathname).toBe('/api/v1/query');
    expect(requests[0]?.url.searchParams.get('query')).toBe('sum(up)');
    expect(requests[0]?.url.searchParams.get('timeout')).toBe('3s');
  });

  it('returns a scalar', async () => {
    handler = () => scalar('42');
    await expect(new PrometheusProvider({ url: base }).query('42')).resolves.toBe(42);
  });

  it.each([
    ['an empty vector', vector(), 'no data: the query selected no series'],
    ['NaN', scalar('NaN'), 'no data: the value is NaN'],
    ['+Inf', vector('+Inf'), 'no data: the value is +Inf'],
    ['-Inf', scalar('-Inf'), 'no data: the value is -Inf'],
  ])('throws NoDataError for %s', async (_what, answer, message) => {
    handler = () => answer;
    const error = await new PrometheusProvider({ url: base }).query('q').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoDataError);
    expect((error as Error).message).toBe(message);
  });

  it('throws MultipleValuesError for several series', async () => {
    handler = () => vector('1', '2', '3');
    const error = await new PrometheusProvider({ url: base }).query('up').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MultipleValuesError);
    expect((error as MultipleValuesError).count).toBe(3);
  });

  it.each([
    [
      'a parse error',
      apiError(400, 'bad_data', 'invalid parameter "query": 1:16: parse error: unclosed left parenthesis'),
      InputError,
      '--analysis: query does not parse: 1:16: parse error: unclosed left parenthesis',
    ],
    [
      'an execution error',
      apiError(422, 'execution', 'found duplicate series for the match group'),
      InputError,
      '--analysis: query cannot be evaluated: found duplicate series for the match group',
    ],
    [
      'a range vector',
      { status: 200, body: { status: 'success', data: { resultType: 'matrix', result: [] } } },
      InputError,
      '--analysis: query returns a range vector, expected one number (wrap it in rate(), avg_over_time(), …)',
    ],
    [
      'a 503',
      apiError(503, 'timeout', 'query timed out in expression evaluation'),
      InfraError,
      / answered 503 Service Unavailable: query timed out in expression evaluation$/,
    ],
    [
      'a 401',
      { status: 401, body: 'Unauthorized' },
      InfraError,
      / refused the request \(401 Unauthorized\): check the credentials$/,
    ],
    [
      'a 404',
      { status: 404, body: '404 page not found' },
      InfraError,
      / has no query API \(404 Not Found\): check the address$/,
    ],
    [
      'a 502 from a proxy',
      { status: 502, body: '<html>bad gateway</html>' },
      InfraError,
      / answered 502 Bad Gateway \(not a Prometheus API answer\)$/,
    ],
    [
      'an unexpected success body',
      { status: 200, body: { status: 'success', data: { resultType: 'weird' } } },
      InfraError,
      /answered with an unexpected query result/,
    ],
  ])('maps %s', async (_what, answer, type, message) => {
    handler = () => answer;
    const error = await new PrometheusProvider({ url: base }).query('q').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    if (typeof message === 'string') expect((error as Error).message).toBe(message);
    else expect((error as Error).message).toMatch(message);
  });

  it('gives up after its timeout with an InfraError', async () => {
    handler = () => 'hang';
    const error = await new PrometheusProvider({ url: base, timeoutMs: 100 })
      .query('q')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfraError);
    expect((error as Error).message).toBe(`prometheus at ${base} did not answer within 0.1s`);
  });

  it('stops at once when the caller cancels', async () => {
    handler = () => 'hang';
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const error = await new PrometheusProvider({ url: base })
      .query('q', { signal: controller.signal })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('prometheus query cancelled');
  });

  it('throws InfraError when nothing listens', async () => {
    const error = await new PrometheusProvider({ url: nowhere }).query('q').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfraError);
    expect((error as Error).message).toBe(`prometheus at ${nowhere} is unreachable (ECONNREFUSED)`);
  });
});

describe('PrometheusProvider.queryByLabel', () => {
  const byLe = (...series: [string | undefined, string][]) => ({
    status: 200,
    body: {
      status: 'success',
      data: {
        resultType: 'vector',
        result: series.map(([le, v]) => ({
          metric: le === undefined ? {} : { le },
          value: [1700000000.1, v],
        })),
      },
    },
  });

  it('returns the value of each series by the label, from one query', async () => {
    handler = () => byLe(['0.1', '3'], ['1.0', '7'], ['+Inf', '9']);
    requests.length = 0;
    const values = await new PrometheusProvider({ url: base }).queryByLabel('sum by (le) (b)', 'le');
    expect([...values]).toEqual([
      ['0.1', 3],
      ['1.0', 7],
      ['+Inf', 9],
    ]);
    expect(requests).toHaveLength(1);
  });

  it.each([
    ['nothing', byLe(), NoDataError, 'no data: the query selected no series'],
    [
      'a series without the label',
      byLe([undefined, '1']),
      InputError,
      'without the label le (sum by (le) keeps it)',
    ],
    ['two series with one le', byLe(['0.1', '1'], ['0.1', '2']), InputError, 'several series with le="0.1"'],
  ])('refuses %s', async (_what, answer, type, message) => {
    handler = () => answer;
    const error = await new PrometheusProvider({ url: base })
      .queryByLabel('q', 'le')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toContain(message);
  });
});

describe('PrometheusProvider.validate', () => {
  it('accepts a query that parses, whatever its value', async () => {
    handler = () => vector();
    await expect(
      new PrometheusProvider({ url: base }).validate('up{job="none"}', 'm'),
    ).resolves.toBeUndefined();
    handler = () => vector('1', '2');
    await expect(new PrometheusProvider({ url: base }).validate('up', 'm')).resolves.toBeUndefined();
  });

  it('names the metric when the query does not parse', async () => {
    handler = () =>
      apiError(400, 'bad_data', 'invalid parameter "query": 1:16: parse error: unclosed left parenthesis');
    const error = await new PrometheusProvider({ url: base })
      .validate('sum(rate(x[5s])', 'error-rate')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).exitCode).toBe(2);
    expect((error as Error).message).toBe(
      '--analysis: metric "error-rate": query does not parse: 1:16: parse error: unclosed left parenthesis',
    );
  });

  it('rejects a query that returns a range vector', async () => {
    handler = () => ({
      status: 200,
      body: { status: 'success', data: { resultType: 'matrix', result: [] } },
    });
    await expect(new PrometheusProvider({ url: base }).validate('up[1m]', 'm')).rejects.toThrow(
      /^--analysis: metric "m": query returns a range vector, expected one number/,
    );
  });
});

describe('PrometheusProvider.isOnline', () => {
  it('is true when buildinfo answers', async () => {
    handler = (_request, url) =>
      url.pathname === '/api/v1/status/buildinfo'
        ? { status: 200, body: { status: 'success', data: { version: '2.42.0' } } }
        : { status: 500, body: '' };
    await expect(new PrometheusProvider({ url: base }).isOnline()).resolves.toBe(true);
  });

  it('falls back to a trivial query on servers without buildinfo', async () => {
    handler = (_request, url) =>
      url.pathname === '/api/v1/query' ? scalar('1') : { status: 404, body: 'not found' };
    await expect(new PrometheusProvider({ url: base }).isOnline()).resolves.toBe(true);
  });

  it('is false on a server error, and on a refused connection', async () => {
    handler = () => ({ status: 503, body: 'Service Unavailable' });
    await expect(new PrometheusProvider({ url: base }).isOnline()).resolves.toBe(false);
    await expect(new PrometheusProvider({ url: nowhere }).isOnline()).resolves.toBe(false);
  });
});

describe('addresses and credentials', () => {
  it('keeps a path prefix', async () => {
    handler = () => scalar('1');
    requests.length = 0;
    await new PrometheusProvider({ url: `${base}/prometheus/` }).query('1');
    expect(requests[0]?.url.pathname).toBe('/prometheus/api/v1/query');
  });

  it('sends a bearer token, registered as a secret', async () => {
    handler = () => scalar('1');
    requests.length = 0;
    await new PrometheusProvider({ url: base, bearerToken: 'tok-123456' }).query('1');
    expect(requests[0]?.authorization).toBe('Bearer tok-123456');
    expect(redact('token tok-123456')).toBe('token ***');
  });

  it('moves credentials out of the address into basic auth, and never shows them', async () => {
    handler = () => ({ status: 401, body: 'Unauthorized' });
    requests.length = 0;
    const url = new URL(base);
    const provider = new PrometheusProvider({ url: `http://alice:s3cret-pw@${url.host}/` });
    expect(provider.address).toBe(base);
    const error = await provider.query('1').catch((e: unknown) => e);
    expect(requests[0]?.authorization).toBe(`Basic ${Buffer.from('alice:s3cret-pw').toString('base64')}`);
    expect((error as Error).message).not.toContain('s3cret');
    expect(JSON.stringify(provider)).not.toContain('s3cret');
    expect(redact('pw s3cret-pw')).toBe('pw ***');
  });

  it('sends extra headers (a Mimir/Cortex/Thanos tenant) on every request', async () => {
    handler = () => scalar('1');
    requests.length = 0;
    const provider = new PrometheusProvider({ url: base, headers: { 'X-Scope-OrgID': 'tenant-a' } });
    await provider.query('1');
    await provider.validate('1');
    expect(requests.map((r) => r.tenant)).toEqual(['tenant-a', 'tenant-a']);
  });

  it.each(['not a url', 'ftp://host/'])('rejects the address %j naming --prometheus-url', (url) => {
    expect(() => new PrometheusProvider({ url })).toThrow(/^--prometheus-url: expected an http\(s\) address/);
  });
});

describe('createProvider', () => {
  it('makes a Prometheus provider', () => {
    expect(createProvider('prometheus', { url: base }).name).toBe('prometheus');
  });

  it('rejects an unknown provider', () => {
    expect(() => createProvider('opentsdb', { url: base })).toThrow(
      'metrics provider: unknown provider "opentsdb"; expected one of prometheus, influxdb, datadog, newrelic, graphite, web',
    );
  });
});
