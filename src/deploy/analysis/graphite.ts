import { z } from 'zod';
import { InfraError, InputError } from '../../util/errors.js';
import { Endpoint } from './http-json.js';
import { type MetricsProvider, MultipleValuesError, NoDataError, type QueryOptions } from './provider.js';

export interface GraphiteOptions {
  /** Base address of graphite-web (or another server with its render API), e.g. `http://graphite:8080`. */
  url: string;
  /** How far back a query looks (`from=-<window>`, default 5 min); its value is the series' newest point. */
  windowMs?: number;
  timeoutMs?: number;
  username?: string;
  password?: string;
  bearerToken?: string;
  headers?: Record<string, string>;
  /** PEM CA bundle that signs the server's certificate. */
  ca?: string;
}

/** `/render?format=json`'s answer: one entry per series, points as `[value|null, unix seconds]`. */
const answerSchema = z.array(
  z.object({
    target: z.string(),
    datapoints: z.array(z.tuple([z.number().nullable(), z.number()])),
  }),
);
type Series = z.infer<typeof answerSchema>;

/**
 * A {@link MetricsProvider} over Graphite's render API (`GET /render?target=…&from=-300s&format=json`): the
 * target's one series, its newest non-null point within the window (`divideSeries(sumSeries(web.{{namespace}}
 * .errors), sumSeries(web.{{namespace}}.requests))`).
 */
export class GraphiteProvider implements MetricsProvider {
  readonly name = 'graphite';
  readonly address: string;
  readonly #endpoint: Endpoint;
  readonly #windowMs: number;
  readonly #timeoutMs: number;

  constructor(options: GraphiteOptions) {
    this.#endpoint = new Endpoint(options, { search: false });
    this.address = this.#endpoint.address;
    this.#windowMs = options.windowMs ?? 300_000;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async query(query: string, options: QueryOptions = {}): Promise<number> {
    const series = await this.#render(query, undefined, options.signal);
    if (series.length === 0) throw new NoDataError('no data: the target selected no series');
    if (series.length > 1) {
      const error = new MultipleValuesError(series.length);
      error.message = `the target returned ${series.length} series, expected one (aggregate them with sumSeries, averageSeries or maxSeries)`;
      throw error;
    }
    let newest: [number, number] | undefined;
    for (const [value, at] of series[0]!.datapoints)
      if (value !== null && Number.isFinite(value) && (!newest || at >= newest[1])) newest = [value, at];
    if (!newest) throw new NoDataError('no data: no point in the window');
    return newest[0];
  }

  async validate(query: string, metricName?: string): Promise<void> {
    // Graphite has no parse-only endpoint: the target is rendered; an unknown function is a 400.
    await this.#render(query, metricName);
  }

  async isOnline(): Promise<boolean> {
    try {
      const answer = await this.#get('constantLine(1)', '-1min');
      return answer.status === 200 && answerSchema.safeParse(answer.body).success;
    } catch {
      return false;
    }
  }

  async #render(target: string, metricName: string | undefined, signal?: AbortSignal): Promise<Series> {
    const answer = await this.#get(target, `-${Math.max(1, Math.ceil(this.#windowMs / 1000))}s`, signal);
    const metric = metricName ? `metric "${metricName}": ` : '';
    if (answer.status === 200) {
      const series = answerSchema.safeParse(answer.body);
      if (series.success) return series.data;
      throw new InfraError(
        `graphite at ${this.address} answered 200 with something that is not a render answer`,
      );
    }
    if (answer.status === 400)
      throw new InputError('--analysis', `${metric}graphite refuses the target: ${refusal(answer.text)}`);
    if (answer.status === 401 || answer.status === 403)
      throw new InfraError(
        `graphite at ${this.address} refused the request (${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}): check the credentials`,
      );
    // graphite-web answers a target whose function fails (a missing or mistyped argument) with a 500 and the
    // traceback; one that ends in its render functions is the target's fault, anything else the server's.
    const fault = answer.status === 500 ? targetFault(answer.text) : undefined;
    if (fault) throw new InputError('--analysis', `${metric}graphite cannot evaluate the target: ${fault}`);
    if (answer.status === 404)
      throw new InfraError(`graphite at ${this.address} has no render API (404): check the address`);
    throw new InfraError(
      `graphite at ${this.address} answered ${answer.status} ${answer.statusText}`.trimEnd(),
    );
  }

  async #get(target: string, from: string, signal?: AbortSignal) {
    const url = new URL(this.#endpoint.base);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/render`;
    url.searchParams.set('target', target);
    url.searchParams.set('from', from);
    url.searchParams.set('until', 'now');
    url.searchParams.set('format', 'json');
    // graphite-web may cache a rendered answer for a minute; a rollout needs the newest points.
    url.searchParams.set('noCache', 'true');
    return this.#endpoint.get('graphite', url, this.#timeoutMs, signal);
  }
}

const ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', '#x27': "'", '#39': "'" };
const fromHtml = (text: string) => text.replace(/&(quot|amp|lt|gt|#x27|#39);/g, (_, name) => ENTITIES[name]!);
const clip = (text: string) => (text.length > 300 ? `${text.slice(0, 297)}...` : text);

/** graphite-web's 400: `Invalid parameters (Received request for unknown function: x); targets: "x(…)"`. */
function refusal(text: string): string {
  const plain = fromHtml(text).trim();
  const inner = /^Invalid parameters \((.*)\)(?:; targets: .*)?$/s.exec(plain)?.[1];
  return clip((inner ?? plain.split('\n')[0] ?? '').trim() || 'HTTP 400');
}

/** The exception of a 500's traceback when its last frame is in graphite's render functions. */
function targetFault(text: string): string | undefined {
  const plain = fromHtml(text);
  const frames = [...plain.matchAll(/File "([^"]+)", line \d+/g)];
  const last = frames.at(-1)?.[1];
  if (!last || !/graphite\/(render\/(functions|evaluator)|functions\/)/.test(last)) return undefined;
  const exception = [...plain.matchAll(/^(\w+(?:Error|Exception)): (.+)$/gm)].at(-1);
  return exception ? clip(`${exception[1]}: ${exception[2]!.trim()}`) : undefined;
}
