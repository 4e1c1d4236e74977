import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphiteProvider } from '../../../src/deploy/analysis/graphite.js';
import { MultipleValuesError, NoDataError } from '../../../src/deploy/analysis/provider.js';
import { createProvider } from '../../../src/deploy/analysis/providers.js';
import { parseWebQuery, WebProvider } from '../../../src/deploy/analysis/web.js';
import { InfraError, InputError } from '../../../src/util/errors.js';
import { redact } from '../../../src/util/secrets.js';

/**
 * Graphite's render API (graphite.readthedocs.io, "The Render URL API": `format=json` answers
 * `[{"target": …, "datapoints": [[value|null, ts], …]}]`) and a generic JSON endpoint (`web`) against a loopback
 * server that records each request. The real graphite-web is exercised by
 * test/integration/graphite-web-providers.test.ts.
 */
interface Seen {
  url: URL;
  headers: IncomingMessage['headers'];
}
let server: Server;
let base: string;
/** An address where nothing listens. */
let closed: string;
const seen: Seen[] = [];
let answer: (request: Seen) => { status: number; body: unknown; type?: string };

beforeAll(async () => {
  server = createServer((request, response) => {
    const entry: Seen = { url: new URL(request.url ?? '/', 'http://localhost'), headers: request.headers };
    seen.push(entry);
    const { status, body, type } = answer(entry);
    response.writeHead(status, { 'content-type': type ?? 'application/json' });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const gone = createServer();
  await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
  closed = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
  await new Promise((resolve) => gone.close(resolve));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const errorOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );

describe('Graphite', () => {
  const graphite = (options: Partial<ConstructorParameters<typeof GraphiteProvider>[0]> = {}) =>
    new GraphiteProvider({ url: `${base}/graphite/`, windowMs: 120_000, ...options });
  const series = (...lists: [number | null, number][][]) => ({
    status: 200,
    body: lists.map((datapoints, i) => ({ target: `s${i}`, tags: { name: `s${i}` }, datapoints })),
  });

  it('renders the target over the window as JSON, uncached, and takes the newest non-null point', async () => {
    seen.length = 0;
    answer = () =>
      series([
        [0.2, 1_700_000_000],
        [0.03, 1_700_000_060],
        [0.5, 1_700_000_030],
        [null, 1_700_000_090],
      ]);
    const target = 'divideSeries(sumSeries(web.shop.errors),sumSeries(web.shop.requests))';
    await expect(graphite().query(target)).resolves.toBe(0.03);
    const [request] = seen;
    expect(request!.url.pathname).toBe('/graphite/render');
    expect(Object.fromEntries(request!.url.searchParams)).toEqual({
      target,
      from: '-120s',
      until: 'now',
      format: 'json',
      noCache: 'true',
    });
    expect(request!.headers.authorization).toBeUndefined();
  });

  it('looks back 5 minutes by default', async () => {
    seen.length = 0;
    answer = () => series([[1, 1]]);
    await new GraphiteProvider({ url: base }).query('a.b');
    expect(seen[0]!.url.searchParams.get('from')).toBe('-300s');
  });

  it('no series or no point is no data; several series need an aggregation', async () => {
    answer = () => series();
    await expect(graphite().query('a.b')).rejects.toThrow(
      new NoDataError('no data: the target selected no series'),
    );
    answer = () =>
      series([
        [null, 1],
        [null, 2],
      ]);
    await expect(graphite().query('a.b')).rejects.toThrow(new NoDataError('no data: no point in the window'));
    answer = () => series([[1, 1]], [[2, 1]]);
    const several = await errorOf(graphite().query('a.*'));
    expect(several).toBeInstanceOf(MultipleValuesError);
    expect(several.message).toBe(
      'the target returned 2 series, expected one (aggregate them with sumSeries, averageSeries or maxSeries)',
    );
  });

  it('sends basic auth or a token and headers; credentials in the address become basic auth, never shown', async () => {
    seen.length = 0;
    answer = () => series([[1, 1]]);
    await graphite({ username: 'gantry', password: 'graphite-pw-42', headers: { 'X-Org': 'shop' } }).query(
      'a',
    );
    expect(seen[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('gantry:graphite-pw-42').toString('base64')}`,
    );
    expect(seen[0]!.headers['x-org']).toBe('shop');
    await graphite({ bearerToken: 'graphite-token-77' }).query('a');
    expect(seen[1]!.headers.authorization).toBe('Bearer graphite-token-77');
    const inAddress = new GraphiteProvider({ url: base.replace('://', '://reader:addr-pw-99@') });
    await inAddress.query('a');
    expect(seen[2]!.headers.authorization).toBe(
      `Basic ${Buffer.from('reader:addr-pw-99').toString('base64')}`,
    );
    expect(inAddress.address).toBe(base);
    expect(redact('graphite-pw-42 graphite-token-77')).toBe('*** ***');
  });

  it('a target graphite-web refuses (400) is bad input naming the metric, with its reason', async () => {
    answer = () => ({
      status: 400,
      type: 'text/html; charset=utf-8',
      body: 'Invalid parameters (Received request for unknown function: noSuchFunction); targets: &quot;noSuchFunction(a.b)&quot;',
    });
    const error = await errorOf(graphite().validate('noSuchFunction(a.b)', 'errors'));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      '--analysis: metric "errors": graphite refuses the target: Received request for unknown function: noSuchFunction',
    );
  });

  it('a 500 whose traceback ends in a render function is the target at fault; any other 500 is the server', async () => {
    const traceback = (file: string, exception: string) =>
      [
        '<pre>',
        'Traceback (most recent call last):',
        '  File &quot;/usr/lib/python3/dist-packages/graphite/render/views.py&quot;, line 129, in renderView',
        '    data.extend(evaluateTarget(requestContext, targets))',
        `  File &quot;${file}&quot;, line 128, in evaluateTokens`,
        '    return func(requestContext, *args, **kwargs)',
        exception,
        '</pre>',
      ].join('\n');
    answer = () => ({
      status: 500,
      type: 'text/html',
      body: traceback(
        '/usr/lib/python3/dist-packages/graphite/render/evaluator.py',
        'TypeError: divideSeries() missing 1 required positional argument: &#x27;divisorSeries&#x27;',
      ),
    });
    const error = await errorOf(graphite().validate('divideSeries(a.b)', 'ratio'));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      `--analysis: metric "ratio": graphite cannot evaluate the target: TypeError: divideSeries() missing 1 required positional argument: 'divisorSeries'`,
    );
    answer = () => ({
      status: 500,
      type: 'text/html',
      body: traceback('/usr/lib/python3/dist-packages/whisper.py', 'OSError: [Errno 5] Input/output error'),
    });
    const disk = await errorOf(graphite().query('a.b'));
    expect(disk).toBeInstanceOf(InfraError);
    expect(disk.message).toBe(`graphite at ${base}/graphite answered 500 Internal Server Error`);
  });

  it('refused credentials, a missing API and an answer that is not a render answer are infrastructure errors', async () => {
    answer = () => ({ status: 401, body: 'Unauthorized', type: 'text/plain' });
    await expect(graphite().query('a')).rejects.toThrow(
      new InfraError(
        `graphite at ${base}/graphite refused the request (401 Unauthorized): check the credentials`,
      ),
    );
    answer = () => ({ status: 404, body: 'Not Found', type: 'text/plain' });
    await expect(graphite().query('a')).rejects.toThrow(/has no render API \(404\): check the address/);
    answer = () => ({ status: 200, body: { status: 'success' } });
    await expect(graphite().query('a')).rejects.toThrow(
      /answered 200 with something that is not a render answer/,
    );
  });

  it('is online when it renders a constant', async () => {
    seen.length = 0;
    answer = (r) =>
      r.url.pathname === '/graphite/render' && r.url.searchParams.get('target') === 'constantLine(1)'
        ? series([[1, 1]])
        : { status: 404, body: 'no' };
    expect(await graphite().isOnline()).toBe(true);
    answer = () => ({ status: 503, body: 'down' });
    expect(await graphite().isOnline()).toBe(false);
    expect(await new GraphiteProvider({ url: closed }).isOnline()).toBe(false);
  });

  it('is made by createProvider', () => {
    expect(createProvider('graphite', { url: base }).name).toBe('graphite');
  });
});

describe('web: any JSON endpoint, a path and a JSONPath', () => {
  const web = (options: Partial<ConstructorParameters<typeof WebProvider>[0]> = {}) =>
    new WebProvider({ url: `${base}/api/?key=fixed`, ...options });
  const json = (body: unknown) => ({ status: 200, body });

  it('appends the path to the url, adds its query parameters, and reads the one value the JSONPath selects', async () => {
    seen.length = 0;
    answer = () =>
      json({
        data: {
          apps: [
            { name: 'web', errors: { ratio: 0.012 } },
            { name: 'db', errors: { ratio: 0.5 } },
          ],
        },
      });
    await expect(
      web().query('/stats/errors?namespace=shop&app=web $.data.apps[?(@.name=="web")].errors.ratio'),
    ).resolves.toBe(0.012);
    const [request] = seen;
    expect(request!.url.pathname).toBe('/api/stats/errors');
    expect(Object.fromEntries(request!.url.searchParams)).toEqual({
      key: 'fixed',
      namespace: 'shop',
      app: 'web',
    });
    expect(request!.headers.accept).toBe('application/json');
  });

  it('reads the url itself when the query is only a JSONPath', async () => {
    seen.length = 0;
    answer = () => json({ ratio: 0.25 });
    await expect(web().query('$.ratio')).resolves.toBe(0.25);
    expect(seen[0]!.url.pathname).toBe('/api/');
  });

  it('takes a numeric string; null, nothing, NaN are no data; several values are refused', async () => {
    answer = () => json({ a: ' 2.5 ', n: null, nan: 'NaN', list: [1, 2, 3] });
    await expect(web().query('$.a')).resolves.toBe(2.5);
    await expect(web().query('$.n')).rejects.toThrow(new NoDataError('no data: the value is null'));
    await expect(web().query('$.missing')).rejects.toThrow(
      new NoDataError('no data: the JSONPath selected nothing'),
    );
    await expect(web().query('$.nan')).rejects.toBeInstanceOf(NoDataError);
    answer = () => json(null);
    await expect(web().query('$.a')).rejects.toThrow(
      new NoDataError('no data: the JSONPath selected nothing'),
    );
    answer = () => json(0.5);
    await expect(web().query('$')).resolves.toBe(0.5);
    answer = () => json({ list: [1, 2, 3] });
    const several = await errorOf(web().query('$.list[*]'));
    expect(several).toBeInstanceOf(MultipleValuesError);
    expect(several.message).toBe('the JSONPath selected 3 values, expected one');
  });

  it('a value that is not a number is refused, saying what it is', async () => {
    answer = () => json({ ok: true, name: 'web', obj: { a: 1 } });
    await expect(web().query('$.ok')).rejects.toThrow(
      new InputError('--analysis', 'the JSONPath selects true, expected a number'),
    );
    await expect(web().query('$.name')).rejects.toThrow(/selects "web", expected a number/);
    await expect(web().query('$.obj')).rejects.toThrow(/selects an object, expected a number/);
  });

  it('sends headers and basic auth or a token; the secrets are masked', async () => {
    seen.length = 0;
    answer = () => json({ v: 1 });
    await web({ bearerToken: 'web-token-31', headers: { 'X-Tenant': 'shop' } }).query('$.v');
    expect(seen[0]!.headers.authorization).toBe('Bearer web-token-31');
    expect(seen[0]!.headers['x-tenant']).toBe('shop');
    await web({ username: 'u', password: 'web-pw-8642' }).query('$.v');
    expect(seen[1]!.headers.authorization).toBe(`Basic ${Buffer.from('u:web-pw-8642').toString('base64')}`);
    expect(redact('web-token-31 web-pw-8642')).toBe('*** ***');
  });

  it('a query not in the form, a wrong path, a non-JSON answer or a failing JSONPath is bad input naming the metric', async () => {
    const syntax =
      '--analysis: metric "m": expected "[/path?query] $.json.path", e.g. "/stats?app={{name}} $.errors.ratio"';
    await expect(web().validate('data.ratio', 'm')).rejects.toThrow(
      new InputError('--analysis', syntax.slice(12)),
    );
    await expect(web().validate('/stats', 'm')).rejects.toThrow(`${syntax} (the JSONPath is missing)`);
    await expect(web().validate('stats $.a', 'm')).rejects.toThrow(syntax);
    answer = () => ({ status: 404, body: 'Not Found', type: 'text/plain' });
    await expect(web().validate('/nope $.a', 'm')).rejects.toThrow(
      new InputError('--analysis', `metric "m": ${base}/api/nope answered 404 Not Found: check the path`),
    );
    answer = () => ({ status: 200, body: '<html>hello</html>', type: 'text/html' });
    await expect(web().validate('/page $.a', 'm')).rejects.toThrow(
      new InputError('--analysis', `metric "m": ${base}/api/page does not answer JSON`),
    );
    answer = () => json([{ a: 1 }]);
    const failing = await errorOf(web().validate('$[?(@.constructor)]', 'm'));
    expect(failing).toBeInstanceOf(InputError);
    expect(failing.message).toMatch(
      /^--analysis: metric "m": the JSONPath \$\[\?\(@\.constructor\)\] fails: /,
    );
  });

  it('validates without judging: no value yet is fine', async () => {
    answer = () => json({ data: {} });
    await expect(web().validate('/s $.data.ratio', 'm')).resolves.toBeUndefined();
  });

  it('refused credentials and server failures are infrastructure errors', async () => {
    answer = () => ({ status: 403, body: { error: 'forbidden' } });
    await expect(web().query('/s $.a')).rejects.toThrow(
      new InfraError(`web endpoint ${base}/api/s refused the request (403 Forbidden): check the credentials`),
    );
    answer = () => ({ status: 503, body: 'busy', type: 'text/plain' });
    await expect(web().query('/s $.a')).rejects.toThrow(
      new InfraError(`web endpoint ${base}/api/s answered 503 Service Unavailable`),
    );
    const offline = await errorOf(new WebProvider({ url: `${closed}/x` }).query('$.a'));
    expect(offline).toBeInstanceOf(InfraError);
    expect(offline.message).toBe(`web endpoint at ${closed}/x is unreachable (ECONNREFUSED)`);
  });

  it('is online when the server answers below 500 without refusing the credentials', async () => {
    answer = () => ({ status: 404, body: 'no' });
    expect(await web().isOnline()).toBe(true);
    answer = () => ({ status: 401, body: 'who?' });
    expect(await web().isOnline()).toBe(false);
    answer = () => ({ status: 502, body: 'bad gateway' });
    expect(await web().isOnline()).toBe(false);
    expect(await new WebProvider({ url: closed }).isOnline()).toBe(false);
  });

  it('splits a query into the path and the JSONPath', () => {
    expect(parseWebQuery('  /a/b?c=d&e=f   $.x[?(@.y == "z w")].v ')).toEqual({
      path: '/a/b?c=d&e=f',
      jsonPath: '$.x[?(@.y == "z w")].v',
    });
    expect(parseWebQuery('$..ratio')).toEqual({ path: '', jsonPath: '$..ratio' });
  });

  it('is made by createProvider', () => {
    expect(createProvider('web', { url: base }).name).toBe('web');
  });
});
