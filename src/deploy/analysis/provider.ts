/**
 * A source of metric values for the analysis (DESIGN.md, "Analysis"). Like Flagger's metric provider it is
 * deliberately small: run a query that yields one number, and say whether the server answers at all.
 * `validate` lets a rollout reject a broken query before any traffic moves.
 */
export interface MetricsProvider {
  /** The provider's kind, for messages (`prometheus`). */
  readonly name: string;
  /**
   * Runs `query` and returns its single value.
   * @throws NoDataError when the query selects nothing or yields NaN/±Inf: inconclusive, never a pass.
   * @throws MultipleValuesError when it yields several series instead of one number.
   * @throws InputError when the server rejects the query itself; InfraError when the server is unreachable
   *   or fails.
   */
  query(query: string, options?: QueryOptions): Promise<number>;
  /** True when the server answers its API; never throws. */
  isOnline(): Promise<boolean>;
  /**
   * Checks that a query is one the server can run, without judging its value (no data is fine here: the
   * new version has no traffic yet).
   * @param metricName named in the error, so that the user knows which metric of the analysis is broken.
   * @throws InputError (`--analysis: metric "x": query does not parse: …`); InfraError when unreachable.
   */
  validate(query: string, metricName?: string): Promise<void>;
  /**
   * Runs `query` and returns the value of each of its series by the value of one label (`le` of a histogram's
   * buckets), all from one evaluation, so that they are consistent with each other. Only providers whose
   * queries return labelled series have it (prometheus); the sequential latency judge needs it.
   * @throws NoDataError when the query selects nothing; InputError when a series lacks the label or two share
   *   a value of it; InfraError as `query`.
   */
  queryByLabel?(query: string, label: string, options?: QueryOptions): Promise<Map<string, number>>;
}

export interface QueryOptions {
  /** Cancels the request (a cancelled rollout must not wait for a slow metrics server). */
  signal?: AbortSignal;
}

/**
 * The query selected nothing, or its value is NaN or ±Infinity (for example a ratio of two rates while no
 * request arrived). The analysis counts it as inconclusive: no data is never a pass.
 */
export class NoDataError extends Error {
  constructor(message = 'no data') {
    super(message);
    this.name = 'NoDataError';
  }
}

/** The query returned several series where the analysis needs one number; it lacks an aggregation. */
export class MultipleValuesError extends Error {
  constructor(readonly count: number) {
    super(`query returned ${count} series, expected one (aggregate it with sum, avg or max)`);
    this.name = 'MultipleValuesError';
  }
}
