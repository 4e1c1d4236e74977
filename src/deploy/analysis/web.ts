import { InfraError, InputError, messageOf } from '../../util/errors.js';
import { displayAddress, Endpoint } from './http-json.js';
import { type MetricsProvider, MultipleValuesError, NoDataError, type QueryOptions } from './provider.js';

export interface WebOptions {
  /** The endpoint, or the base its metrics' paths are appended to (`https://stats.internal/api`). */
  url: string;
  timeoutMs?: number;
  username?: string;
  password?: string;
  bearerToken?: string;
  headers?: Record<string, string>;
  /** PEM CA bundle that signs the server's certificate. */
  ca?: string;
}

/** How a metric's query is written, for errors. */
const SYNTAX = 'expected "[/path?query] $.json.path", e.g. "/stats?app={{name}} $.errors.ratio"';

/**
 * A {@link MetricsProvider} over any HTTP endpoint that answers JSON, as Argo Rollouts' `web` metric: a
 * metric's query is an optional path (with its query string) appended to the provider's `url`, then a JSONPath
 * to the value (`/api/stats?namespace={{namespace}} $.errors.ratio`, or only `$.ratio` to read `url` itself).
 * The JSONPath must select one number or numeric string.
 */
export class WebProvider implements MetricsProvider {
  readonly name = 'web';
  readonly address: string;
  readonly #endpoint: Endpoint;
  readonly #timeoutMs: number;

  constructor(options: WebOptions) {
    this.#endpoint = new Endpoint(options, { search: true });
    this.address = this.#endpoint.address;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async query(query: string, options: QueryOptions = {}): Promise<number> {
    const { values } = await this.#read(query, undefined, options.signal);
    if (values.length === 0) throw new NoDataError('no data: the JSONPath selected nothing');
    if (values.length > 1) {
      const error = new MultipleValuesError(values.length);
      error.message = `the JSONPath selected ${values.length} values, expected one`;
      throw error;
    }
    const value = values[0];
    if (value === null) throw new NoDataError('no data: the value is null');
    const number = typeof value === 'number' ? value : typeof value === 'string' ? numeric(value) : undefined;
    if (number === undefined)
      throw new InputError('--analysis', `the JSONPath selects ${describe(value)}, expected a number`);
    if (!Number.isFinite(number)) throw new NoDataError(`no data: the value is ${String(value)}`);
    return number;
  }

  async validate(query: string, metricName?: string): Promise<void> {
    // The endpoint is read and the JSONPath run; what it selects does not matter yet (no traffic so far).
    await this.#read(query, metricName);
  }

  async isOnline(): Promise<boolean> {
    // Any HTTP answer below 500 but a refusal means the server is there; the metrics' paths are validate's.
    try {
      const answer = await this.#get(this.#endpoint.base);
      return answer.status < 500 && answer.status !== 401 && answer.status !== 403;
    } catch {
      return false;
    }
  }

  async #read(query: string, metricName: string | undefined, signal?: AbortSignal) {
    const metric = metricName ? `metric "${metricName}": ` : '';
    const { path, jsonPath } = parseWebQuery(query, metric);
    const url = this.#urlFor(path);
    const answer = await this.#get(url, signal);
    const where = displayAddress(url);
    if (answer.status === 401 || answer.status === 403)
      throw new InfraError(
        `web endpoint ${where} refused the request (${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}): check the credentials`,
      );
    if ([400, 404, 405, 410, 422].includes(answer.status))
      throw new InputError(
        '--analysis',
        `${metric}${where} answered ${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}: check the path`,
      );
    if (answer.status < 200 || answer.status > 299)
      throw new InfraError(`web endpoint ${where} answered ${answer.status} ${answer.statusText}`.trimEnd());
    if (answer.body === undefined)
      throw new InputError('--analysis', `${metric}${where} does not answer JSON`);
    const { JSONPath } = await import('jsonpath-plus');
    let values: unknown[];
    try {
      // eval "safe": filter expressions run in jsonpath-plus's own interpreter, never as JavaScript. A JSON
      // `null` answer selects nothing (jsonpath-plus returns undefined for it).
      values = (JSONPath({
        path: jsonPath,
        json: answer.body as object,
        wrap: true,
        eval: 'safe',
      }) ?? []) as unknown[];
    } catch (error) {
      throw new InputError('--analysis', `${metric}the JSONPath ${jsonPath} fails: ${messageOf(error)}`);
    }
    return { values };
  }

  /** The provider's URL with the metric's path appended to its path and its query parameters added. */
  #urlFor(path: string): URL {
    const url = new URL(this.#endpoint.base);
    if (!path) return url;
    const relative = new URL(path, 'http://relative.invalid');
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${relative.pathname}`;
    for (const [key, value] of relative.searchParams) url.searchParams.append(key, value);
    return url;
  }

  async #get(url: URL, signal?: AbortSignal) {
    return this.#endpoint.get('web endpoint', url, this.#timeoutMs, signal);
  }
}

/**
 * Splits a web metric's query into the path (empty: the provider's url itself) and the JSONPath.
 * @param metric the `metric "x": ` prefix of errors.
 * @throws InputError showing the expected form.
 */
export function parseWebQuery(query: string, metric = ''): { path: string; jsonPath: string } {
  const text = query.trim();
  const [, path = '', jsonPath = ''] = /^(?:(\/\S*)\s+)?(\$.*)$/s.exec(text) ?? [];
  if (!jsonPath) {
    const got = text.startsWith('/') && !/\s/.test(text) ? ' (the JSONPath is missing)' : '';
    throw new InputError('--analysis', `${metric}${SYNTAX}${got}`);
  }
  return { path, jsonPath: jsonPath.trim() };
}

/** A numeric string's value (`"0.02"`, `" 3 "`, `"NaN"`), or undefined for any other text. */
function numeric(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^[+-]?(inf|infinity|nan)$/i.test(trimmed)) return Number.NaN;
  if (trimmed === '' || !Number.isFinite(Number(trimmed))) return undefined;
  return Number(trimmed);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
