import { z } from 'zod';
import { InfraError, InputError, messageOf } from '../../util/errors.js';
import { registerSecret } from '../../util/secrets.js';
import { fetcherFor } from './http-json.js';
import { type MetricsProvider, MultipleValuesError, NoDataError, type QueryOptions } from './provider.js';

export interface PrometheusOptions {
  /**
   * Base address of the HTTP API, e.g. `http://prometheus.monitoring:9090`. A path prefix
   * (`https://mimir.example.com/prometheus`) is kept; credentials in the address (`http://user:pass@host`)
   * are moved to basic authentication and never shown.
   */
  url: string;
  /** Time allowed for one request, and given to Prometheus as the query timeout (default 10 s). */
  timeoutMs?: number;
  /** Basic authentication. */
  username?: string;
  password?: string;
  /** Bearer token (`Authorization: Bearer …`); wins over basic authentication when both are given. */
  bearerToken?: string;
  /** Extra headers on every request (`X-Scope-OrgID` for a Mimir/Cortex/Thanos tenant). */
  headers?: Record<string, string>;
  /** PEM CA bundle that signs the server's certificate (a private CA); the system's CAs otherwise. */
  ca?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** The envelope of every Prometheus HTTP API answer (https://prometheus.io/docs/prometheus/latest/querying/api/). */
const envelopeSchema = z.object({
  status: z.enum(['success', 'error']),
  data: z.unknown().optional(),
  errorType: z.string().optional(),
  error: z.string().optional(),
});

const sampleSchema = z.tuple([z.number(), z.string()]);

const queryDataSchema = z.discriminatedUnion('resultType', [
  z.object({
    resultType: z.literal('vector'),
    result: z.array(
      z.object({
        metric: z.record(z.string(), z.string()).optional(),
        value: sampleSchema.optional(),
        histogram: z.unknown().optional(),
      }),
    ),
  }),
  z.object({ resultType: z.literal('scalar'), result: sampleSchema }),
  z.object({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
  z.object({ resultType: z.literal('string'), result: sampleSchema }),
]);
type QueryData = z.infer<typeof queryDataSchema>;

/**
 * A {@link MetricsProvider} over the Prometheus HTTP API (`GET /api/v1/query`, an instant query evaluated
 * now). Works with anything that speaks that API (Thanos, Mimir, VictoriaMetrics) given the right base address.
 */
export class PrometheusProvider implements MetricsProvider {
  readonly name = 'prometheus';
  /** The address as shown in messages: without credentials, query or trailing slash. */
  readonly address: string;
  readonly #base: URL;
  /** The path prefix of the API, without a trailing slash ('' at the root). */
  readonly #basePath: string;
  readonly #timeoutMs: number;
  readonly #authorization: string | undefined;
  readonly #headers: Record<string, string>;
  readonly #ca: string | undefined;
  #fetch: Promise<typeof fetch> | undefined;

  constructor(options: PrometheusOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new InputError(
        '--prometheus-url',
        `expected an http(s) address, got ${JSON.stringify(options.url)}`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InputError(
        '--prometheus-url',
        `expected an http(s) address, got ${JSON.stringify(url.protocol)}`,
      );
    }
    // fetch refuses URLs with credentials; they become an Authorization header instead.
    const username = options.username ?? decodeURIComponent(url.username);
    const password = options.password ?? decodeURIComponent(url.password);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#base = url;
    this.address = `${url.origin}${this.#basePath}`;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#headers = { ...options.headers };
    this.#ca = options.ca;
    if (options.bearerToken) {
      registerSecret(options.bearerToken);
      this.#authorization = `Bearer ${options.bearerToken}`;
    } else if (username || password) {
      registerSecret(password);
      this.#authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      registerSecret(this.#authorization.slice('Basic '.length));
    }
  }

  async query(query: string, options: QueryOptions = {}): Promise<number> {
    const data = await this.#evaluate(query, undefined, options.signal);
    switch (data.resultType) {
      case 'scalar':
        return toNumber(data.result[1]);
      case 'vector': {
        if (data.result.length === 0) throw new NoDataError('no data: the query selected no series');
        if (data.result.length > 1) throw new MultipleValuesError(data.result.length);
        const value = data.result[0]!.value;
        if (!value) throw new InputError('--analysis', notANumber('a native histogram', undefined));
        return toNumber(value[1]);
      }
      default:
        throw new InputError('--analysis', notANumber(describeType(data.resultType), undefined));
    }
  }

  async queryByLabel(query: string, label: string, options: QueryOptions = {}): Promise<Map<string, number>> {
    const data = await this.#evaluate(query, undefined, options.signal);
    if (data.resultType !== 'vector')
      throw new InputError(
        '--analysis',
        `query returns ${describeType(data.resultType)}, expected series by ${label}`,
      );
    if (data.result.length === 0) throw new NoDataError('no data: the query selected no series');
    const values = new Map<string, number>();
    for (const series of data.result) {
      const key = series.metric?.[label];
      if (key === undefined)
        throw new InputError(
          '--analysis',
          `query returns a series without the label ${label} (sum by (${label}) keeps it)`,
        );
      if (values.has(key))
        throw new InputError(
          '--analysis',
          `query returns several series with ${label}="${key}" (aggregate them with sum by (${label}))`,
        );
      if (!series.value) throw new InputError('--analysis', notANumber('a native histogram', undefined));
      values.set(key, toNumber(series.value[1]));
    }
    return values;
  }

  async validate(query: string, metricName?: string): Promise<void> {
    // Prometheus 2.x has no stable parse-only endpoint, so the query is evaluated: the server parses it
    // first and answers 400 bad_data when it does not parse. Its value does not matter here.
    const data = await this.#evaluate(query, metricName);
    if (data.resultType === 'matrix' || data.resultType === 'string') {
      throw new InputError('--analysis', notANumber(describeType(data.resultType), metricName));
    }
  }

  async isOnline(): Promise<boolean> {
    try {
      const response = await this.#get('/api/v1/status/buildinfo', {});
      if (response.status === 200) return parseEnvelope(await response.text())?.status === 'success';
      // Prometheus-compatible servers (Mimir, VictoriaMetrics, …) may lack buildinfo: a trivial query decides.
      if (response.status === 404) return (await this.query('vector(1)')) === 1;
      return false;
    } catch {
      return false;
    }
  }

  async #evaluate(query: string, metricName: string | undefined, signal?: AbortSignal): Promise<QueryData> {
    const timeout = `${Math.max(1, Math.ceil(this.#timeoutMs / 1000))}s`;
    const response = await this.#get('/api/v1/query', { query, timeout }, signal);
    const text = await response.text().catch(() => '');
    const body = parseEnvelope(text);
    if (response.status === 200 && body?.status === 'success') {
      const data = queryDataSchema.safeParse(body.data);
      if (data.success) return data.data;
      throw new InfraError(
        `${this.address} answered with an unexpected query result: ${data.error.issues[0]?.message}`,
      );
    }
    throw this.#failure(response, body, metricName);
  }

  /** Maps an error answer to the error the user can act on: a query mistake (exit 2) or the server (exit 3). */
  #failure(response: Response, body: z.infer<typeof envelopeSchema> | undefined, metricName?: string): Error {
    const detail = (body?.error ?? '').replace(/^invalid parameter "query":\s*/, '');
    const metric = metricName ? `metric "${metricName}": ` : '';
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (response.status === 400 && body?.errorType === 'bad_data') {
      return new InputError('--analysis', `${metric}query does not parse: ${detail}`);
    }
    if (response.status === 422 && body?.errorType === 'execution') {
      return new InputError('--analysis', `${metric}query cannot be evaluated: ${detail}`);
    }
    if (response.status === 401 || response.status === 403) {
      return new InfraError(
        `prometheus at ${this.address} refused the request (${status}): check the credentials`,
      );
    }
    if (response.status === 404) {
      return new InfraError(`prometheus at ${this.address} has no query API (${status}): check the address`);
    }
    const why = detail ? `: ${detail}` : body ? '' : ' (not a Prometheus API answer)';
    return new InfraError(`prometheus at ${this.address} answered ${status}${why}`);
  }

  #fetcher(): Promise<typeof fetch> {
    this.#fetch ??= fetcherFor(this.#ca);
    return this.#fetch;
  }

  async #get(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    const url = new URL(this.#base);
    url.pathname = `${this.#basePath}${path}`;
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    const headers: Record<string, string> = { ...this.#headers, accept: 'application/json' };
    if (this.#authorization) headers.authorization = this.#authorization;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const get = await this.#fetcher();
    try {
      return await get(url, { headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (error) {
      if (signal?.aborted) throw new InfraError(`prometheus query cancelled`, { cause: error });
      if (timeout.aborted) {
        throw new InfraError(
          `prometheus at ${this.address} did not answer within ${this.#timeoutMs / 1000}s`,
        );
      }
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? messageOf(error);
      throw new InfraError(`prometheus at ${this.address} is unreachable (${why})`, { cause: error });
    }
  }
}

function parseEnvelope(text: string): z.infer<typeof envelopeSchema> | undefined {
  try {
    const parsed = envelopeSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Prometheus writes sample values as strings, including `NaN`, `+Inf` and `-Inf`. */
function toNumber(text: string): number {
  const value = Number(text);
  // Number('+Inf') is NaN, so every non-finite spelling ends up here.
  if (text.trim() === '' || !Number.isFinite(value)) throw new NoDataError(`no data: the value is ${text}`);
  return value;
}

function describeType(resultType: string): string {
  return resultType === 'matrix' ? 'a range vector' : `a ${resultType}`;
}

function notANumber(what: string, metricName: string | undefined): string {
  const metric = metricName ? `metric "${metricName}": ` : '';
  const hint = what === 'a range vector' ? ' (wrap it in rate(), avg_over_time(), …)' : '';
  return `${metric}query returns ${what}, expected one number${hint}`;
}
