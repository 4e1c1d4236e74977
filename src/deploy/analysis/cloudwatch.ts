import type { CloudWatchClient, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { formatDuration } from '../../util/duration.js';
import { InfraError, InputError, messageOf } from '../../util/errors.js';
import { type CloudWatchQuery, parseCloudWatchQuery } from './cloudwatch-query.js';
import { displayAddress } from './http-json.js';
import { type MetricsProvider, NoDataError, type QueryOptions } from './provider.js';

export interface CloudWatchOptions {
  /** The AWS region (`eu-west-1`): where the metrics are, and part of every request's signature. */
  region: string;
  /** Another endpoint than the region's (an emulator, a VPC endpoint); default the SDK's for the region. */
  url?: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** How far back a query looks (default 5 min); its value is the newest datapoint in it. */
  windowMs?: number;
  timeoutMs?: number;
}

/** What isOnline asks: any metric works, an answer with no data is still an answer. */
const PROBE = 'Gantry/Probe Online Sum 60s';

/**
 * A {@link MetricsProvider} over Amazon CloudWatch's `GetMetricData`: each query is one metric and statistic
 * (cloudwatch-query.ts), its value the newest datapoint within the window. Requests are signed (SigV4) and sent
 * by the AWS SDK for JavaScript v3, loaded on first use so that nothing else pays for parsing it. Credentials
 * are passed to the client as given (from the analysis file's variables, or AWS_ACCESS_KEY_ID/…): the SDK's
 * own credential chain (profiles, instance roles) is not consulted.
 */
export class CloudWatchProvider implements MetricsProvider {
  readonly name = 'cloudwatch';
  readonly address: string;
  readonly #options: CloudWatchOptions;
  readonly #windowMs: number;
  readonly #timeoutMs: number;
  #client: Promise<CloudWatchClient> | undefined;

  constructor(options: CloudWatchOptions) {
    this.#options = options;
    this.address = options.url
      ? displayAddress(new URL(options.url))
      : `https://monitoring.${options.region}.amazonaws.com`;
    this.#windowMs = options.windowMs ?? 300_000;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async query(query: string, options: QueryOptions = {}): Promise<number> {
    const parsed = this.#parse(query);
    return newestValue(await this.#results(parsed, undefined, options.signal), parsed, this.#windowMs);
  }

  async validate(query: string, metricName?: string): Promise<void> {
    await this.#results(this.#parse(query, metricName), metricName);
  }

  async isOnline(): Promise<boolean> {
    try {
      await this.#results(parseCloudWatchQuery(PROBE));
      return true;
    } catch {
      return false;
    }
  }

  #parse(query: string, metricName?: string): CloudWatchQuery {
    const parsed = parseCloudWatchQuery(query, metricName);
    if (parsed.period * 1000 > this.#windowMs)
      throw new InputError(
        '--analysis',
        `${metricName ? `metric "${metricName}": ` : ''}period ${parsed.period}s is longer than provider.window ${formatDuration(this.#windowMs)}: no period would fit in it`,
      );
    return parsed;
  }

  async #results(
    query: CloudWatchQuery,
    metricName?: string,
    signal?: AbortSignal,
  ): Promise<MetricDataResult[]> {
    const sdk = await loadSdk();
    this.#client ??= Promise.resolve(
      new sdk.CloudWatchClient({
        region: this.#options.region,
        ...(this.#options.url && { endpoint: this.#options.url }),
        credentials: {
          accessKeyId: this.#options.accessKeyId,
          secretAccessKey: this.#options.secretAccessKey,
          ...(this.#options.sessionToken && { sessionToken: this.#options.sessionToken }),
        },
        // One retry for throttling or a dropped connection; the analysis measures again next interval anyway.
        maxAttempts: 2,
      }),
    );
    const client = await this.#client;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const end = new Date();
    try {
      const answer = await client.send(
        new sdk.GetMetricDataCommand({
          StartTime: new Date(end.getTime() - this.#windowMs),
          EndTime: end,
          ScanBy: 'TimestampDescending',
          MetricDataQueries: [
            {
              Id: 'gantry',
              ReturnData: true,
              MetricStat: {
                Metric: {
                  Namespace: query.namespace,
                  MetricName: query.metricName,
                  Dimensions: query.dimensions.map((d) => ({ Name: d.name, Value: d.value })),
                },
                Stat: query.stat,
                Period: query.period,
              },
            },
          ],
        }),
        { abortSignal: signal ? AbortSignal.any([signal, timeout]) : timeout },
      );
      return answer.MetricDataResults ?? [];
    } catch (error) {
      throw describeFailure(error, {
        address: this.address,
        metricName,
        cancelled: signal?.aborted ?? false,
        timedOut: timeout.aborted,
        timeoutMs: this.#timeoutMs,
      });
    }
  }
}

type Sdk = typeof import('@aws-sdk/client-cloudwatch');

/**
 * The SDK, imported on first use. It is CommonJS: Node's loader gives its exports by name, the bundle (dist/)
 * as the module's `default`.
 */
async function loadSdk(): Promise<Sdk> {
  const loaded = (await import('@aws-sdk/client-cloudwatch')) as Sdk & { default?: Sdk };
  return loaded.CloudWatchClient ? loaded : loaded.default!;
}

/**
 * The value of a GetMetricData answer for one MetricStat: its newest finite datapoint.
 * @throws NoDataError when no datapoint (or only non-finite ones) is in the window.
 * @throws InfraError when CloudWatch says the result is forbidden or failed.
 */
export function newestValue(
  results: Pick<MetricDataResult, 'StatusCode' | 'Timestamps' | 'Values' | 'Messages'>[],
  query: CloudWatchQuery,
  windowMs: number,
): number {
  const result = results[0];
  if (!result) throw new NoDataError('no data: CloudWatch returned no result for the query');
  if (result.StatusCode === 'Forbidden' || result.StatusCode === 'InternalError') {
    const said = result.Messages?.map((m) => [m.Code, m.Value].filter(Boolean).join(': ')).join('; ');
    throw new InfraError(`cloudwatch answered ${result.StatusCode}${said ? ` (${said})` : ''}`);
  }
  const values = result.Values ?? [];
  const timestamps = result.Timestamps ?? [];
  let newest: { at: number; value: number } | undefined;
  values.forEach((value, index) => {
    const at = timestamps[index] ? new Date(timestamps[index]).getTime() : Number.NaN;
    if (typeof value !== 'number' || !Number.isFinite(value) || Number.isNaN(at)) return;
    if (!newest || at > newest.at) newest = { at, value };
  });
  if (!newest)
    throw new NoDataError(
      `no data: no datapoint of ${query.namespace} ${query.metricName} ${query.stat} in the last ${formatDuration(windowMs)}`,
    );
  return newest.value;
}

/** AWS error codes that mean the credentials, their signature or their rights were refused. */
const REFUSED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'ExpiredToken',
  'ExpiredTokenException',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'MissingAuthenticationToken',
  'NotAuthorized',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
]);
const THROTTLED = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'LimitExceeded']);

/**
 * What an SDK failure means for the analysis: refused credentials, an unreachable or failing service (exit 3),
 * or a query CloudWatch rejects (bad input naming the metric, exit 2). Exported for its unit tests.
 */
export function describeFailure(
  error: unknown,
  context: {
    address: string;
    metricName?: string;
    cancelled: boolean;
    timedOut: boolean;
    timeoutMs: number;
  },
): Error {
  const service = `cloudwatch at ${context.address}`;
  if (context.cancelled) return new InfraError('cloudwatch query cancelled', { cause: error });
  if (context.timedOut)
    return new InfraError(`${service} did not answer within ${context.timeoutMs / 1000}s`, { cause: error });
  const e = error as {
    name?: string;
    message?: string;
    code?: string;
    cause?: { code?: string };
    $metadata?: { httpStatusCode?: number };
    $response?: unknown;
  };
  const status = e.$metadata?.httpStatusCode;
  // An error body the SDK could not read (a proxy's or an emulator's page) leaves only the status.
  const unreadable = e.name === 'SyntaxError' || e.name === 'Error' || !e.name;
  const code = unreadable ? undefined : e.name;
  const said = code
    ? `${code}${e.message && e.message !== code ? `: ${messageOf(e.message)}` : ''}`
    : undefined;
  if (status === undefined) {
    const why = e.code ?? e.cause?.code ?? messageOf(error);
    return new InfraError(`${service} is unreachable (${why})`, { cause: error });
  }
  if (status === 401 || status === 403 || (code && REFUSED.has(code)))
    return new InfraError(
      `${service} refused the request (${status}${code ? ` ${code}` : ''}): check the AWS credentials and that they allow cloudwatch:GetMetricData`,
      { cause: error },
    );
  if (status === 400 && !(code && THROTTLED.has(code))) {
    const metric = context.metricName ? `metric "${context.metricName}": ` : '';
    return new InputError(
      '--analysis',
      `${metric}CloudWatch refused the query: ${said ?? `HTTP ${status}`}`,
      {
        cause: error,
      },
    );
  }
  return new InfraError(`${service} answered ${status}${said ? ` (${said})` : ''}`, { cause: error });
}
