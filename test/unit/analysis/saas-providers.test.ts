import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatadogProvider } from '../../../src/deploy/analysis/datadog.js';
import { NewRelicProvider } from '../../../src/deploy/analysis/newrelic.js';
import { MultipleValuesError, NoDataError } from '../../../src/deploy/analysis/provider.js';
import { InfraError, InputError } from '../../../src/util/errors.js';

/**
 * Datadog (`GET /api/v1/query`, docs.datadoghq.com/api/latest/metrics/query-timeseries-points) and New Relic
 * (NerdGraph `POST /graphql`, `actor.account.nrql`) against a loopback server that checks each request as the
 * documentation describes it and answers in the documented format. No real account is reachable here.
 */
interface Seen {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: unknown;
}
let server: Server;
let base: string;
const seen: Seen[] = [];
let answer: (request: Seen) => { status: number; body: unknown };

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const entry: Seen = {
        method: request.method ?? '',
        url: new URL(request.url ?? '/', 'http://localhost'),
        headers: request.headers,
        body: text ? JSON.parse(text) : undefined,
      };
      seen.push(entry);
      const { status, body } = answer(entry);
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const keys = { 'DD-API-KEY': 'dd-api-key-1', 'DD-APPLICATION-KEY': 'dd-app-key-2' };
const series = (...points: [number, number | null][][]) => ({
  status: 200,
  body: {
    status: 'ok',
    res_type: 'time_series',
    series: points.map((pointlist) => ({ pointlist, aggr: 'avg' })),
  },
});

describe('Datadog', () => {
  const datadog = () => new DatadogProvider({ url: base, headers: keys, windowMs: 120_000 });

  it('asks /api/v1/query for the window with both keys, and takes the newest point of the series', async () => {
    seen.length = 0;
    answer = () =>
      series([
        [1_700_000_000_000, 0.2],
        [1_700_000_060_000, 0.03],
        [1_700_000_030_000, 0.5],
        [1_700_000_090_000, null],
      ]);
    const before = Math.floor(Date.now() / 1000);
    await expect(datadog().query('avg:trace.http.request.errors{service:web}')).resolves.toBe(0.03);
    const [request] = seen;
    expect(request!.method).toBe('GET');
    expect(request!.url.pathname).toBe('/api/v1/query');
    expect(request!.url.searchParams.get('query')).toBe('avg:trace.http.request.errors{service:web}');
    const from = Number(request!.url.searchParams.get('from'));
    const to = Number(request!.url.searchParams.get('to'));
    expect(to - from).toBe(120);
    expect(to).toBeGreaterThanOrEqual(before);
    expect(request!.headers['dd-api-key']).toBe('dd-api-key-1');
    expect(request!.headers['dd-application-key']).toBe('dd-app-key-2');
  });

  it('no series or no point is no data; several series need an aggregation', async () => {
    answer = () => series();
    await expect(datadog().query('q')).rejects.toBeInstanceOf(NoDataError);
    answer = () => series([[1, null]]);
    await expect(datadog().query('q')).rejects.toBeInstanceOf(NoDataError);
    answer = () => series([[1, 1]], [[1, 2]]);
    await expect(datadog().query('q')).rejects.toBeInstanceOf(MultipleValuesError);
  });

  it('a query Datadog refuses is bad input naming the metric; refused keys are an infrastructure error', async () => {
    answer = () => ({
      status: 400,
      body: { errors: ["Error parsing query: unable to parse avg:web{: Rule 'scope_expr' didn't match"] },
    });
    const error = await datadog()
      .validate('avg:web{', 'errors')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(
      /^--analysis: metric "errors": query does not parse: Error parsing query/,
    );
    answer = () => ({ status: 403, body: { errors: ['Forbidden'] } });
    const denied = await datadog()
      .query('q')
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(InfraError);
    expect((denied as Error).message).toMatch(
      /refused the request \(403: Forbidden\): check DD-API-KEY and DD-APPLICATION-KEY/,
    );
  });

  it('is online when /api/v1/validate accepts the keys', async () => {
    seen.length = 0;
    answer = (r) =>
      r.url.pathname === '/api/v1/validate'
        ? { status: 200, body: { valid: true } }
        : { status: 404, body: {} };
    expect(await datadog().isOnline()).toBe(true);
    expect(seen[0]!.headers['dd-api-key']).toBe('dd-api-key-1');
    answer = () => ({ status: 403, body: { errors: ['Forbidden'] } });
    expect(await datadog().isOnline()).toBe(false);
  });
});

describe('New Relic', () => {
  const newrelic = () =>
    new NewRelicProvider({ url: `${base}/graphql`, accountId: 1234567, headers: { 'API-Key': 'NRAK-test' } });
  const rows = (...results: Record<string, unknown>[]) => ({
    status: 200,
    body: { data: { actor: { account: { nrql: { results } } } } },
  });

  it('posts the NRQL as a GraphQL variable with the account and the API-Key, and reads the one field', async () => {
    seen.length = 0;
    answer = () => rows({ 'percentage.count': 1.25 });
    const nrql =
      "SELECT percentage(count(*), WHERE httpResponseCode >= '500') FROM Transaction WHERE appName = 'web' SINCE 1 minute ago";
    await expect(newrelic().query(nrql)).resolves.toBe(1.25);
    const [request] = seen;
    expect(request!.method).toBe('POST');
    expect(request!.url.pathname).toBe('/graphql');
    expect(request!.headers['api-key']).toBe('NRAK-test');
    expect(request!.headers['content-type']).toBe('application/json');
    const body = request!.body as { query: string; variables: { account: number; nrql: string } };
    expect(body.variables).toEqual({ account: 1234567, nrql });
    expect(body.query).toMatch(
      /actor \{ account\(id: \$account\) \{ nrql\(query: \$nrql\) \{ results \} \} \}/,
    );
    expect(body.query).not.toContain('Transaction');
  });

  it('ignores the time bounds of a TIMESERIES row; no row is no data; several fields or rows are refused', async () => {
    answer = () => rows({ beginTimeSeconds: 1, endTimeSeconds: 2, average: 0.5 });
    await expect(newrelic().query('q')).resolves.toBe(0.5);
    answer = () => rows();
    await expect(newrelic().query('q')).rejects.toBeInstanceOf(NoDataError);
    answer = () => rows({ average: null });
    await expect(newrelic().query('q')).rejects.toBeInstanceOf(NoDataError);
    answer = () => rows({ a: 1 }, { a: 2 });
    await expect(newrelic().query('q')).rejects.toBeInstanceOf(MultipleValuesError);
    answer = () => rows({ a: 1, b: 2 });
    await expect(newrelic().query('q')).rejects.toThrow(/returns 2 fields \(a, b\), expected one number/);
  });

  it('an NRQL error is bad input naming the metric; a refused key is an infrastructure error', async () => {
    answer = () => ({
      status: 200,
      body: {
        data: { actor: { account: { nrql: null } } },
        errors: [{ message: 'NRQL Syntax Error: Error at line 1 position 8' }],
      },
    });
    const error = await newrelic()
      .validate('SELECT FROM', 'errors')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(
      '--analysis: metric "errors": query does not parse: NRQL Syntax Error: Error at line 1 position 8',
    );
    answer = () => ({ status: 401, body: { errors: [{ message: 'Invalid API key' }] } });
    await expect(newrelic().query('q')).rejects.toThrow(/refused the request \(401\): check the API-Key/);
  });
});
