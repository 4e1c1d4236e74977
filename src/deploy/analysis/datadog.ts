import { z } from 'zod';
import { InfraError, InputError } from '../../util/errors.js';
import { displayAddress, requestJson } from './http-json.js';
import { type MetricsProvider, MultipleValuesError, NoDataError, type QueryOptions } from './provider.js';

export interface DatadogOptions {
  /** The site's API address (default `https://api.datadoghq.com`; `https://api.datadoghq.eu`, …). */
  url?: string;
  /** `DD-API-KEY` and `DD-APPLICATION-KEY`, from the provider's headersFromEnv. */
  headers?: Record<string, string>;
  /** How far back a query looks (default 5 min); its value is the series' newest point. */
  windowMs?: number;
  timeoutMs?: number;
}

const answerSchema = z.object({
  status: z.string().optional(),
  error: z.string().optional(),
  errors: z.array(z.string()).optional(),
  series: z
    .array(z.object({ pointlist: z.array(z.tuple([z.number(), z.number().nullable()])).optional() }))
    .optional(),
});

/**
 * A {@link MetricsProvider} over Datadog's `GET /api/v1/query` ("Query timeseries points"): the query's one
 * series, its newest non-null point within the window, as Flagger's Datadog provider reads it. Keys go in the
 * documented `DD-API-KEY` / `DD-APPLICATION-KEY` headers (named in the analysis file's headersFromEnv).
 */
export class DatadogProvider implements MetricsProvider {
  readonly name = 'datadog';
  readonly address: string;
  readonly #base: URL;
  readonly #headers: Record<string, string>;
  readonly #windowMs: number;
  readonly #timeoutMs: number;

  constructor(options: DatadogOptions) {
    this.#base = new URL(options.url ?? 'https://api.datadoghq.com');
    this.address = displayAddress(this.#base);
    this.#headers = { ...options.headers };
    this.#windowMs = options.windowMs ?? 300_000;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async query(query: string, options: QueryOptions = {}): Promise<number> {
    const series = await this.#series(query, undefined, options.signal);
    if (series.length === 0) throw new NoDataError('no data: the query selected no series');
    if (series.length > 1) throw new MultipleValuesError(series.length);
    const points = (series[0]!.pointlist ?? []).filter(
      (point) => point[1] !== null && Number.isFinite(point[1]),
    );
    if (points.length === 0) throw new NoDataError('no data: no point in the window');
    return points.reduce((newest, point) => (point[0] >= newest[0] ? point : newest))[1]!;
  }

  async validate(query: string, metricName?: string): Promise<void> {
    await this.#series(query, metricName);
  }

  async isOnline(): Promise<boolean> {
    try {
      const answer = await requestJson('datadog', this.address, this.#url('/api/v1/validate'), {
        headers: this.#headers,
        timeoutMs: this.#timeoutMs,
      });
      return answer.status === 200;
    } catch {
      return false;
    }
  }

  async #series(query: string, metricName: string | undefined, signal?: AbortSignal) {
    const to = Math.floor(Date.now() / 1000);
    const url = this.#url('/api/v1/query');
    url.searchParams.set('from', String(to - Math.ceil(this.#windowMs / 1000)));
    url.searchParams.set('to', String(to));
    url.searchParams.set('query', query);
    const answer = await requestJson('datadog', this.address, url, {
      headers: this.#headers,
      timeoutMs: this.#timeoutMs,
      signal,
    });
    const body = answerSchema.safeParse(answer.body);
    const said = body.success ? (body.data.errors?.join('; ') ?? body.data.error) : undefined;
    const metric = metricName ? `metric "${metricName}": ` : '';
    if (answer.status === 400 || (answer.status === 200 && body.success && body.data.status === 'error'))
      throw new InputError('--analysis', `${metric}query does not parse: ${said ?? `HTTP ${answer.status}`}`);
    if (answer.status === 401 || answer.status === 403)
      throw new InfraError(
        `datadog at ${this.address} refused the request (${answer.status}${said ? `: ${said}` : ''}): check DD-API-KEY and DD-APPLICATION-KEY`,
      );
    if (answer.status !== 200 || !body.success)
      throw new InfraError(
        `datadog at ${this.address} answered ${answer.status}${said ? `: ${said}` : body.success ? '' : ' (not a Datadog answer)'}`,
      );
    return body.data.series ?? [];
  }

  #url(path: string): URL {
    const url = new URL(this.#base);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    return url;
  }
}
