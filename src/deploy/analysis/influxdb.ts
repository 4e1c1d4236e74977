import { z } from 'zod';
import { InfraError, InputError, messageOf } from '../../util/errors.js';
import { registerSecret } from '../../util/secrets.js';
import { type MetricsProvider, MultipleValuesError, NoDataError, type QueryOptions } from './provider.js';

export interface InfluxDbOptions {
  /** Base address of the HTTP API, e.g. `http://influxdb.monitoring:8086`. */
  url: string;
  /** The database the queries read (`db=`). */
  database: string;
  /** Time allowed for one request (default 10 s). */
  timeoutMs?: number;
  /** Basic authentication (InfluxDB 1.x users). */
  username?: string;
  password?: string;
  /** Bearer token (`Authorization: Token …`, InfluxDB 1.8+ and 2.x's 1.x-compatible API). */
  bearerToken?: string;
  headers?: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** `/query`'s answer (https://docs.influxdata.com/influxdb/v1/tools/api/#query-http-endpoint). */
const answerSchema = z.object({
  results: z
    .array(
      z.object({
        error: z.string().optional(),
        series: z
          .array(
            z.object({
              name: z.string().optional(),
              columns: z.array(z.string()),
              values: z.array(z.array(z.unknown())).optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
  error: z.string().optional(),
});
type Answer = z.infer<typeof answerSchema>;

/**
 * A {@link MetricsProvider} over InfluxDB 1.x's HTTP API (`GET /query` with an InfluxQL `SELECT`): a query's
 * value is the last column of its one row (`SELECT mean("errors") / mean("requests") FROM … WHERE time > now() -
 * 30s`), as Flagger's InfluxDB provider reads it.
 */
export class InfluxDbProvider implements MetricsProvider {
  readonly name = 'influxdb';
  readonly address: string;
  readonly #base: URL;
  readonly #database: string;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;

  constructor(options: InfluxDbOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new InputError(
        '--analysis',
        `provider.url: expected an http(s) address, got ${JSON.stringify(options.url)}`,
      );
    }
    url.search = '';
    url.hash = '';
    this.#base = url;
    this.address = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    this.#database = options.database;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#headers = { ...options.headers, accept: 'application/json' };
    if (options.bearerToken) {
      registerSecret(options.bearerToken);
      this.#headers.authorization = `Token ${options.bearerToken}`;
    } else if (options.username || options.password) {
      registerSecret(options.password);
      const basic = Buffer.from(`${options.username ?? ''}:${options.password ?? ''}`).toString('base64');
      registerSecret(basic);
      this.#headers.authorization = `Basic ${basic}`;
    }
  }

  async query(query: string, options: QueryOptions = {}): Promise<number> {
    const answer = await this.#run(query, undefined, options.signal);
    const series = answer.results?.[0]?.series ?? [];
    if (series.length === 0) throw new NoDataError('no data: the query selected no series');
    if (series.length > 1) throw new MultipleValuesError(series.length);
    const rows = series[0]!.values ?? [];
    if (rows.length === 0) throw new NoDataError('no data: the query returned no rows');
    if (rows.length > 1) throw new MultipleValuesError(rows.length);
    const value = rows[0]!.at(-1);
    if (value === null || value === undefined) throw new NoDataError('no data: the value is null');
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new InputError('--analysis', `query returns ${JSON.stringify(value)}, expected one number`);
    return value;
  }

  async validate(query: string, metricName?: string): Promise<void> {
    // InfluxDB 1.x has no parse-only endpoint: the query runs; a parse error is a 400 (or a statement error).
    await this.#run(query, metricName);
  }

  async isOnline(): Promise<boolean> {
    try {
      const response = await this.#get('/ping', {});
      return response.status === 204 || response.status === 200;
    } catch {
      return false;
    }
  }

  async #run(query: string, metricName: string | undefined, signal?: AbortSignal): Promise<Answer> {
    if (!/^\s*select\b/i.test(query)) {
      const metric = metricName ? `metric "${metricName}": ` : '';
      throw new InputError('--analysis', `${metric}expected an InfluxQL SELECT statement`);
    }
    const response = await this.#get('/query', { db: this.#database, q: query, epoch: 'ms' }, signal);
    const text = await response.text().catch(() => '');
    let answer: Answer | undefined;
    try {
      const parsed = answerSchema.safeParse(JSON.parse(text));
      answer = parsed.success ? parsed.data : undefined;
    } catch {
      answer = undefined;
    }
    const metric = metricName ? `metric "${metricName}": ` : '';
    const error = answer?.error ?? answer?.results?.find((r) => r.error)?.error;
    if (response.status === 400 || (response.status === 200 && error)) {
      if (/database not found/.test(error ?? ''))
        throw new InputError('--analysis', `provider.database: ${error}`);
      throw new InputError(
        '--analysis',
        `${metric}query does not parse: ${error ?? `HTTP ${response.status}`}`,
      );
    }
    if (response.status === 401 || response.status === 403)
      throw new InfraError(
        `influxdb at ${this.address} refused the request (${response.status} ${response.statusText}): check the credentials`,
      );
    if (response.status !== 200 || !answer)
      throw new InfraError(
        `influxdb at ${this.address} answered ${response.status}${error ? `: ${error}` : answer ? '' : ' (not an InfluxDB answer)'}`,
      );
    return answer;
  }

  async #get(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    const url = new URL(this.#base);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    try {
      return await fetch(url, {
        headers: this.#headers,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      if (signal?.aborted) throw new InfraError('influxdb query cancelled', { cause: error });
      if (timeout.aborted)
        throw new InfraError(`influxdb at ${this.address} did not answer within ${this.#timeoutMs / 1000}s`);
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new InfraError(
        `influxdb at ${this.address} is unreachable (${cause?.code ?? cause?.message ?? messageOf(error)})`,
        {
          cause: error,
        },
      );
    }
  }
}
