/**
 * The sequential judge of latency (pure logic): is the canary's latency distribution worse than the stable's,
 * decided as soon as the evidence allows, however often it is looked at.
 *
 * The data are both tracks' latency histograms (cumulative counts at each bucket bound `le`, and the count of
 * all requests), read at every look. Between two looks, for each bound b, some requests of each track were
 * slower than b. If the canary's latency has the same distribution as the stable's (or a faster one), then
 * among the requests slower than b, each is the canary's with probability at most p₀ = n_c / (n_c + n_s)
 * (the canary's share of the requests of that look). The test of each bound is the counts judge's
 * (sequential.ts) with "slower than b" for "an error": the product over looks of the likelihood ratio of a
 * canary ρ times as likely to be slower than b, against ρ = 1. Given how many requests of the look were slower
 * than b, the canary's number of them is hypergeometric when both tracks share a distribution, which
 * the binomial of the likelihood ratio dominates in convex order (Hoeffding, 1963): each product is a test
 * supermartingale. The average over every bound and over a geometric grid of ρ from 1.5 to 100 is one too, so by
 * Ville's inequality the chance that it ever reaches 1/α while the canary is no slower than the stable (at every
 * bound: stochastically no larger, at the histogram's resolution) is at most α: a false rollback with
 * probability at most α, however often it looks (a sequential test of stochastic order, in the spirit of
 * Lindon, Sanden & Shirikian, KDD 2022, on the buckets Prometheus keeps instead of single observations).
 *
 * The smallest regression that matters is a shift of a quantile (`+50 ms at p95`): a regression is declared
 * when the evidence is conclusive **and** the canary's quantile, estimated from its buckets as
 * `histogram_quantile` does, is at least `minShiftMs` above the stable's. The condition only removes rollbacks,
 * so the bound α stands; it keeps a canary that is measurably but negligibly slower in the rollout.
 *
 * An early pass (opt-in, `endEarly`) rules out a shift of `minShiftMs`: in each step, once the stable served
 * `minRequests`, a bound t is fixed: the largest bucket bound not above the lower bound of the bucket that
 * holds the stable's quantile plus the shift. A canary whose quantile is that much worse than the stable's has
 * at least a share 1 − q of its requests slower than t; the likelihood ratio of smaller shares (a grid)
 * against 1 − q, over the canary's requests of the following looks, is a test supermartingale for such a
 * canary, and reaching 1/β rules it out with error probability at most β. When the bucket holding the stable's
 * quantile is wider than the shift, no bound can tell, and the step runs its full length (the verdict says so).
 */

export interface LatencyOptions {
  /** The histogram's finite bucket bounds, in seconds, increasing (the `le` values). */
  bounds: number[];
  /** The quantile the regression is measured at (0.95: p95). */
  quantile: number;
  /** The smallest regression that matters: the canary's quantile this much above the stable's (ms). */
  minShiftMs: number;
  /** The false-rollback probability. */
  alpha: number;
  /** The chance of passing early a canary that is minShiftMs worse (only when steps may end early). */
  beta: number;
  /** Requests each track must have served before any verdict. */
  minRequests: number;
}

/** One track's histogram as read now: cumulative counts at each bound (same order), and all requests. */
export interface HistogramCounts {
  buckets: number[];
  count: number;
}

export type LatencyState = 'collecting' | 'undecided' | 'regression' | 'no-regression';

export interface LatencyVerdict {
  state: LatencyState;
  /** The canary's and the stable's quantile (ms) over the requests counted so far (null before any). */
  canaryMs: number | null;
  stableMs: number | null;
  canaryRequests: number;
  stableRequests: number;
  /** The evidence of a regression (the e-value): the rollback comes at 1/alpha. */
  evidence: number;
  /** A line a person reads. */
  message: string;
}

const RATIO_POINTS = 8;
const MIN_RATIO = 1.5;
const MAX_RATIO = 100;
/** The early pass's alternatives: the canary's share slower than t, as fractions of 1 − q. */
const PASS_FRACTIONS = [0.9, 0.7, 0.5, 0.3, 0.1, 0.01];

interface Totals {
  buckets: number[];
  count: number;
}

export class SequentialLatencyTest {
  readonly #options: LatencyOptions;
  readonly #ratios: number[];
  /** log likelihood ratio of each bound (rows) and grid ratio (columns) against 1. */
  readonly #logLr: number[][];
  #last: { canary: HistogramCounts; stable: HistogramCounts } | undefined;
  readonly #canary: Totals;
  readonly #stable: Totals;
  #regression = false;
  #step: number | undefined;
  #stepRequests = { canary: 0, stable: 0 };
  /** This step's early-pass test: the bound it watches, and the log likelihood ratio of each alternative. */
  #pass: { index: number; logLr: number[] } | { why: string } | undefined;

  /** The histogram's finite bounds (seconds). */
  get bounds(): readonly number[] {
    return this.#options.bounds;
  }

  constructor(options: LatencyOptions) {
    this.#options = options;
    this.#ratios = Array.from(
      { length: RATIO_POINTS },
      (_, j) => MIN_RATIO * (MAX_RATIO / MIN_RATIO) ** (j / (RATIO_POINTS - 1)),
    );
    this.#logLr = options.bounds.map(() => this.#ratios.map(() => 0));
    this.#canary = { buckets: options.bounds.map(() => 0), count: 0 };
    this.#stable = { buckets: options.bounds.map(() => 0), count: 0 };
  }

  /**
   * One look: both tracks' cumulative histograms as read now. The first look only sets the starting point;
   * each later one adds what happened since. A histogram whose count went down (pods restarted) restarts from
   * its new value.
   */
  update(canary: HistogramCounts, stable: HistogramCounts, step = 0): void {
    if (step !== this.#step) {
      this.#step = step;
      this.#pass = undefined;
      this.#stepRequests = { canary: 0, stable: 0 };
    }
    const last = this.#last;
    this.#last = { canary, stable };
    if (!last || this.#regression) return;
    const c = delta(canary, last.canary);
    const s = delta(stable, last.stable);
    add(this.#canary, c);
    add(this.#stable, s);
    this.#stepRequests.canary += c.count;
    this.#stepRequests.stable += s.count;

    if (c.count > 0 && s.count > 0) {
      const p0 = c.count / (c.count + s.count);
      this.#options.bounds.forEach((_, j) => {
        const slowCanary = c.count - c.buckets[j]!;
        const slowStable = s.count - s.buckets[j]!;
        if (slowCanary + slowStable <= 0) return;
        this.#ratios.forEach((ratio, g) => {
          const p1 = (ratio * c.count) / (ratio * c.count + s.count);
          this.#logLr[j]![g]! += slowCanary * Math.log(p1 / p0) + slowStable * Math.log((1 - p1) / (1 - p0));
        });
      });
    }
    // The early pass: a bound chosen before the look it judges (so that the choice is not evidence).
    if (this.#pass && 'logLr' in this.#pass && c.count > 0) {
      const pass = this.#pass;
      const slow = c.count - c.buckets[pass.index]!;
      const p0 = 1 - this.#options.quantile;
      PASS_FRACTIONS.forEach((fraction, a) => {
        const p1 = fraction * p0;
        pass.logLr[a]! += slow * Math.log(p1 / p0) + (c.count - slow) * Math.log((1 - p1) / (1 - p0));
      });
    }
    if (!this.#pass && this.#stepRequests.stable >= this.#options.minRequests) this.#pass = this.#passBound();

    if (
      this.#enoughRequests() &&
      this.evidence() >= 1 / this.#options.alpha &&
      this.#shiftMs() >= this.#options.minShiftMs
    )
      this.#regression = true;
  }

  /** The mixture's e-value: the average over bounds and ratios of each likelihood ratio. */
  evidence(): number {
    return meanExp(this.#logLr.flat());
  }

  verdict(): LatencyVerdict {
    const { alpha, beta, minRequests, quantile, minShiftMs } = this.#options;
    const canaryMs = this.#quantileMs(this.#canary);
    const stableMs = this.#quantileMs(this.#stable);
    const evidence = this.evidence();
    const name = `p${Number((quantile * 100).toPrecision(4))}`;
    const values = `latency ${name} ${this.#shown(canaryMs, this.#canary)} vs ${this.#shown(stableMs, this.#stable)} on stable`;
    const after = `${Math.round(this.#canary.count)} canary and ${Math.round(this.#stable.count)} stable requests`;
    const shift = `+${formatMs(minShiftMs)} at ${name}`;
    const base = {
      canaryMs,
      stableMs,
      canaryRequests: this.#canary.count,
      stableRequests: this.#stable.count,
      evidence,
    };
    if (this.#regression)
      return {
        ...base,
        state: 'regression',
        message: `${values}: a regression, conclusive after ${after} (false-rollback risk < ${percent(alpha)})`,
      };
    if (this.#ruledOut())
      return {
        ...base,
        state: 'no-regression',
        message: `${values}: no regression of ${shift} or worse in this step, conclusive after ${after} (risk < ${percent(beta)})`,
      };
    if (!this.#enoughRequests())
      return {
        ...base,
        state: 'collecting',
        message: `${values}; collecting evidence: ${after}, ${minRequests} of each needed first`,
      };
    const why =
      evidence >= 1 / alpha
        ? `slower, but by less than ${shift}`
        : `evidence of a regression ${round(evidence)} of ${round(1 / alpha)} needed`;
    const coarse = this.#pass && 'why' in this.#pass ? `; ${this.#pass.why}` : '';
    return {
      ...base,
      state: 'undecided',
      message: `${values} after ${after}; ${why}${coarse}`,
    };
  }

  /**
   * The early pass's bound for this step: the largest bucket bound t ≤ b + the shift, b being the lower bound
   * of the bucket that holds the stable's quantile (the stable's quantile is above b whatever the
   * interpolation says, so a canary worse by the shift has its quantile above t). Only a bound above which
   * the stable has fewer than 1 − q of its requests can tell a healthy canary from that.
   */
  #passBound(): { index: number; logLr: number[] } | { why: string } {
    const { bounds, quantile, minShiftMs } = this.#options;
    const coarse = {
      why: `the buckets are too coarse to rule out +${formatMs(minShiftMs)} early`,
    };
    const stable = this.#stable;
    if (stable.count <= 0) return coarse;
    const holding = bounds.findIndex((_, j) => stable.buckets[j]! >= quantile * stable.count);
    if (holding < 0) return coarse;
    const lower = holding === 0 ? 0 : bounds[holding - 1]!;
    const limit = lower + minShiftMs / 1000;
    let index = -1;
    bounds.forEach((bound, j) => {
      if (bound <= limit + 1e-12) index = j;
    });
    if (index < 0 || stable.count - stable.buckets[index]! >= (1 - quantile) * stable.count) return coarse;
    return { index, logLr: PASS_FRACTIONS.map(() => 0) };
  }

  /** This step's evidence rules a shift of minShiftMs out (each track served minRequests in it). */
  #ruledOut(): boolean {
    const { minRequests, beta } = this.#options;
    return (
      this.#stepRequests.canary >= minRequests &&
      this.#stepRequests.stable >= minRequests &&
      this.#pass !== undefined &&
      'logLr' in this.#pass &&
      meanExp(this.#pass.logLr) >= 1 / beta
    );
  }

  #enoughRequests(): boolean {
    return this.#canary.count >= this.#options.minRequests && this.#stable.count >= this.#options.minRequests;
  }

  /** The canary's quantile minus the stable's (ms; a canary above the last bound counts at that bound). */
  #shiftMs(): number {
    const canary = this.#quantileMs(this.#canary);
    const stable = this.#quantileMs(this.#stable);
    if (canary === null || stable === null) return Number.NEGATIVE_INFINITY;
    return canary - stable;
  }

  /**
   * A quantile (ms) from cumulative bucket counts as `histogram_quantile` estimates it: linear within the
   * bucket that holds it, from 0 for the first; the last finite bound when it lies above every bound.
   */
  #quantileMs(totals: Totals): number | null {
    if (totals.count <= 0) return null;
    const { bounds, quantile } = this.#options;
    const rank = quantile * totals.count;
    for (let j = 0; j < bounds.length; j++) {
      const below = totals.buckets[j]!;
      if (below >= rank) {
        const lower = j === 0 ? 0 : bounds[j - 1]!;
        const before = j === 0 ? 0 : totals.buckets[j - 1]!;
        const within = below - before;
        const fraction = within > 0 ? (rank - before) / within : 1;
        return (lower + (bounds[j]! - lower) * fraction) * 1000;
      }
    }
    return bounds.at(-1)! * 1000;
  }

  /** `412 ms`, or `> 2.5 s` when the quantile lies above the last bound. */
  #shown(ms: number | null, totals: Totals): string {
    if (ms === null) return '–';
    const last = this.#options.bounds.length - 1;
    if (totals.buckets[last]! < this.#options.quantile * totals.count) return `> ${formatMs(ms)}`;
    return formatMs(ms);
  }
}

/** What happened between two reads; a count that went down restarts from the new value. */
function delta(now: HistogramCounts, before: HistogramCounts): Totals {
  const restarted = now.count < before.count;
  const count = restarted ? now.count : now.count - before.count;
  const buckets = now.buckets.map((value, j) => (restarted ? value : value - (before.buckets[j] ?? 0)));
  // Cumulative counts never decrease with the bound and never exceed the count (reads are not atomic).
  let ceiling = count;
  for (let j = buckets.length - 1; j >= 0; j--) {
    buckets[j] = Math.min(Math.max(0, buckets[j]!), ceiling);
    ceiling = buckets[j]!;
  }
  return { buckets, count: Math.max(0, count) };
}

function add(totals: Totals, more: Totals): void {
  totals.count += more.count;
  more.buckets.forEach((value, j) => {
    totals.buckets[j]! += value;
  });
}

function meanExp(logs: number[]): number {
  const top = Math.max(...logs);
  if (top === Number.NEGATIVE_INFINITY) return 0;
  return Math.exp(top) * (logs.reduce((acc, l) => acc + Math.exp(l - top), 0) / logs.length);
}

/** `45 ms`, `1.2 s`, `0.8 ms`. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${Number((ms / 1000).toPrecision(3))} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${Number(ms.toPrecision(2))} ms`;
}

function percent(rate: number): string {
  const value = rate * 100;
  return `${Number(value >= 10 ? value.toFixed(1) : value.toPrecision(2))}%`;
}

function round(value: number): string {
  return value >= 100 ? value.toExponential(1) : value.toFixed(1);
}
