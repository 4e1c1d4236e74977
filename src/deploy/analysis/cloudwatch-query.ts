import { parseDuration } from '../../util/duration.js';
import { InputError } from '../../util/errors.js';

/**
 * A CloudWatch metric as an analysis query, one line:
 *
 * ```text
 * <namespace> <metric name>{<dimension>="<value>", …} <statistic> [<period>]
 * Gantry/Shop ErrorRatio{Namespace="{{namespace}}", Track="{{track}}"} Average 60s
 * AWS/ApplicationELB TargetResponseTime{LoadBalancer="app/web/50dc6c495c0c9188"} p99 1m
 * ```
 *
 * It becomes one `MetricStat` of a `GetMetricData` call. The namespace and the metric name are separated by
 * white space (namespaces hold slashes: `AWS/ELB`); either may be written in double quotes (JSON string syntax)
 * when it holds white space or one of `{}",=`. The dimensions are optional (`{}` or nothing: the metric without
 * dimensions); a value is a quoted string or a bare word. The statistic is CloudWatch's, case as CloudWatch
 * spells it: SampleCount, Average, Sum, Minimum, Maximum, or an extended statistic (p99, p99.9, tm90, TM(10%:90%),
 * IQM, …). The period is a duration (`1s`, `1m`, `300`: seconds) of 1, 5, 10, 20, 30 s or a multiple of 60 s;
 * 60 s when left out.
 */
export interface CloudWatchQuery {
  namespace: string;
  metricName: string;
  dimensions: { name: string; value: string }[];
  stat: string;
  /** Seconds. */
  period: number;
}

export const DEFAULT_PERIOD_S = 60;
const BASIC_STATS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'];
const PERCENT = String.raw`\d{1,2}(?:\.\d+)?|100`;
const BOUND = String.raw`(?:\d+(?:\.\d+)?%?)?`;
const EXTENDED_STAT = new RegExp(
  `^(?:p(?:${PERCENT})|(?:tm|wm|tc|ts)(?:${PERCENT})|(?:TM|WM|TC|TS|PR)\\(${BOUND}:${BOUND}\\)|IQM)$`,
);
/** CloudWatch's limits: namespace and metric name at most 255 characters, dimension names and values 1024 (30 of them). */
const MAX_NAME = 255;
const MAX_DIMENSIONS = 30;

/**
 * Parses a query (its placeholders already filled in).
 * @param metric the analysis metric's name, for the error.
 * @throws InputError `--analysis: metric "x": CloudWatch query …: <what is wrong>` on one line.
 */
export function parseCloudWatchQuery(query: string, metric?: string): CloudWatchQuery {
  // Typed explicitly so that `reader.fail(…)` (never) narrows what follows.
  const reader: Reader = new Reader(query, metric);
  reader.space();
  const namespace = reader.word('the namespace');
  if (!reader.space()) reader.fail('expected white space between the namespace and the metric name');
  const metricName = reader.word('the metric name');
  if (namespace.length > MAX_NAME) reader.fail(`the namespace is longer than ${MAX_NAME} characters`);
  if (metricName.length > MAX_NAME) reader.fail(`the metric name is longer than ${MAX_NAME} characters`);
  if (namespace.startsWith(':')) reader.fail('a namespace cannot start with ":"');
  const dimensions: CloudWatchQuery['dimensions'] = [];
  reader.space();
  if (reader.take('{')) {
    reader.space();
    if (!reader.take('}')) {
      for (;;) {
        const name = reader.word('a dimension name');
        reader.space();
        if (!reader.take('=')) reader.fail(`expected "=" after dimension "${name}"`);
        reader.space();
        const value = reader.word(`the value of dimension "${name}"`);
        if (dimensions.some((d) => d.name === name)) reader.fail(`dimension "${name}" is given twice`);
        dimensions.push({ name, value });
        reader.space();
        if (reader.take('}')) break;
        if (!reader.take(',')) reader.fail('expected "," or "}" after a dimension');
        reader.space();
      }
    }
    if (dimensions.length > MAX_DIMENSIONS) reader.fail(`at most ${MAX_DIMENSIONS} dimensions`);
    if (!reader.space() && !reader.done()) reader.fail('expected white space after "}"');
  }
  if (reader.done()) reader.fail('expected a statistic (Average, Sum, Maximum, p99, …) after the metric');
  const stat = reader.word('the statistic');
  if (!BASIC_STATS.includes(stat) && !EXTENDED_STAT.test(stat)) {
    const spelled = BASIC_STATS.find((s) => s.toLowerCase() === stat.toLowerCase());
    reader.fail(
      spelled
        ? `statistic "${stat}" is spelled "${spelled}"`
        : `unknown statistic "${stat}"; expected SampleCount, Average, Sum, Minimum, Maximum or an extended statistic (p99, tm90, …)`,
    );
  }
  let period = DEFAULT_PERIOD_S;
  let last = 'the statistic';
  if (reader.space() && !reader.done()) {
    last = 'the period';
    const written = reader.word('the period');
    const ms = parseDuration(written);
    if (ms === undefined) reader.fail(`period "${written}" is not a duration (60s, 1m, 300)`);
    if (ms % 1000 !== 0 || ms <= 0) reader.fail(`period "${written}" is not a whole number of seconds`);
    period = ms / 1000;
    if (![1, 5, 10, 20, 30].includes(period) && period % 60 !== 0)
      reader.fail(`period "${written}" must be 1, 5, 10, 20 or 30 seconds, or a multiple of 60 seconds`);
    reader.space();
  }
  if (!reader.done()) reader.fail(`unexpected "${reader.rest()}" after ${last}`);
  return { namespace, metricName, dimensions, stat, period };
}

/** A query as written back (for messages and tests): the canonical form of what was parsed. */
export function formatCloudWatchQuery(query: CloudWatchQuery): string {
  const word = (text: string) => (/^[^\s{}",=]+$/.test(text) ? text : JSON.stringify(text));
  const dims = query.dimensions.map((d) => `${word(d.name)}=${JSON.stringify(d.value)}`).join(', ');
  return `${word(query.namespace)} ${word(query.metricName)}{${dims}} ${query.stat} ${query.period}s`;
}

class Reader {
  #at = 0;
  constructor(
    readonly text: string,
    readonly metric: string | undefined,
  ) {}

  fail(message: string): never {
    const metric = this.metric ? `metric "${this.metric}": ` : '';
    throw new InputError('--analysis', `${metric}CloudWatch query does not parse: ${message}`);
  }

  done(): boolean {
    return this.#at >= this.text.length;
  }

  rest(): string {
    return this.text.slice(this.#at);
  }

  /** Skips white space; true when there was some. */
  space(): boolean {
    const start = this.#at;
    while (this.#at < this.text.length && /\s/.test(this.text[this.#at]!)) this.#at++;
    return this.#at > start;
  }

  take(char: string): boolean {
    if (this.text[this.#at] !== char) return false;
    this.#at++;
    return true;
  }

  /** A bare word (no white space, `{}",=`) or a double-quoted JSON string; never empty. */
  word(what: string): string {
    if (this.done()) this.fail(`expected ${what}, found the end of the query`);
    if (this.text[this.#at] === '"') {
      const match = /^"(?:[^"\\]|\\.)*"/.exec(this.rest());
      if (!match) this.fail(`${what}: the quoted string has no closing "`);
      this.#at += match[0].length;
      let value: string;
      try {
        value = JSON.parse(match[0]) as string;
      } catch {
        this.fail(`${what}: ${match[0]} is not a valid quoted string (JSON syntax)`);
      }
      if (!value.trim()) this.fail(`${what} is empty`);
      return value;
    }
    const match = /^[^\s{}",=]+/.exec(this.rest());
    if (!match) this.fail(`expected ${what}, found "${this.text[this.#at]}"`);
    this.#at += match[0].length;
    return match[0];
  }
}
