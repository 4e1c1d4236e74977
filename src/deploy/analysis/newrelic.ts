import { z } from 'zod';
import { InfraError, InputError } from '../../util/errors.js';
import { displayAddress, requestJson } from './http-json.js';
import { type MetricsProvider, MultipleValuesError, NoDataError, type QueryOptions } from './provider.js';

export interface NewRelicOptions {
  /** NerdGraph's address (default `https://api.newrelic.com/graphql`; EU: `https://api.eu.newrelic.com/graphql`). */
  url?: string;
  /** The account the NRQL runs in. */
  accountId: number;
  /** `API-Key` (a user key), from the provider's headersFromEnv. */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

// The NRQL travels as a GraphQL variable: nothing in a query can change the GraphQL document.
const DOCUMENT =
  'query Gantry($account: Int!, $nrql: Nrql!) { actor { account(id: $account) { nrql(query: $nrql) { results } } } }';

const answerSchema = z.object({
  data: z
    .object({
      actor: z
        .object({
          account: z
            .object({ nrql: z.object({ results: z.array(z.record(z.string(), z.unknown())) }).nullable() })
            .nullable(),
        })
        .nullable(),
    })
    .nullable()
    .optional(),
  errors: z.array(z.object({ message: z.string() })).optional(),
});

/**
 * A {@link MetricsProvider} over New Relic's NerdGraph API (`POST /graphql`, `actor.account.nrql`): the NRQL
 * query's one result row with one numeric field (`SELECT percentage(count(*), WHERE httpResponseCode >= '500')
 * FROM Transaction WHERE appName = '{{name}}' SINCE 1 minute ago`).
 */
export class NewRelicProvider implements MetricsProvider {
  readonly name = 'newrelic';
  readonly address: string;
  readonly #url: URL;
  readonly #accountId: number;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(options: NewRelicOptions) {
    this.#url = new URL(options.url ?? 'https://api.newrelic.com/graphql');
    this.address = displayAddress(this.#url);
    this.#accountId = options.accountId;
    this.#headers = { ...options.headers, 'content-type': 'application/json' };
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async query(query: string, options: QueryOptions = {}): Promise<number> {
    const rows = await this.#run(query, undefined, options.signal);
    if (rows.length === 0) throw new NoDataError('no data: the query returned no rows');
    if (rows.length > 1) throw new MultipleValuesError(rows.length);
    const values = Object.entries(rows[0]!).filter(
      ([key]) => key !== 'beginTimeSeconds' && key !== 'endTimeSeconds',
    );
    if (values.length !== 1)
      throw new InputError(
        '--analysis',
        `query returns ${values.length} fields (${values.map(([k]) => k).join(', ')}), expected one number`,
      );
    const value = values[0]![1];
    if (value === null) throw new NoDataError('no data: the value is null');
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new InputError('--analysis', `query returns ${JSON.stringify(value)}, expected one number`);
    return value;
  }

  async validate(query: string, metricName?: string): Promise<void> {
    await this.#run(query, metricName);
  }

  async isOnline(): Promise<boolean> {
    try {
      await this.#run('SELECT count(*) FROM Transaction SINCE 1 minute ago');
      return true;
    } catch {
      return false;
    }
  }

  async #run(nrql: string, metricName?: string, signal?: AbortSignal): Promise<Record<string, unknown>[]> {
    const answer = await requestJson('newrelic', this.address, this.#url, {
      method: 'POST',
      headers: this.#headers,
      body: JSON.stringify({ query: DOCUMENT, variables: { account: this.#accountId, nrql } }),
      timeoutMs: this.#timeoutMs,
      signal,
    });
    const body = answerSchema.safeParse(answer.body);
    const said = body.success ? body.data.errors?.map((e) => e.message).join('; ') : undefined;
    const metric = metricName ? `metric "${metricName}": ` : '';
    if (answer.status === 401 || answer.status === 403)
      throw new InfraError(
        `newrelic at ${this.address} refused the request (${answer.status}): check the API-Key`,
      );
    if (answer.status !== 200 || !body.success)
      throw new InfraError(
        `newrelic at ${this.address} answered ${answer.status}${said ? `: ${said}` : body.success ? '' : ' (not a NerdGraph answer)'}`,
      );
    const results = body.data.data?.actor?.account?.nrql?.results;
    if (said && /nrql/i.test(said))
      throw new InputError('--analysis', `${metric}query does not parse: ${said}`);
    if (said || !results)
      throw new InfraError(`newrelic at ${this.address}: ${said ?? 'no results in the answer'}`);
    return results;
  }
}
