/**
 * The sequential judge of counts (pure logic): is the canary's error rate worse than the stable's, decided as
 * soon as the evidence allows, however often it is looked at.
 *
 * The data are request and error counters of both tracks, read at every look. Between two looks, given how
 * many requests each track served, each error lands on the canary with probability p = ρ·n_c / (ρ·n_c + n_s),
 * where ρ is the ratio of the canary's error rate to the stable's (Poisson errors, conditioned on their total).
 * The product over looks of the likelihood ratio of ρ against ρ = 1 is a test martingale when the canary is
 * no worse than the stable (ρ ≤ 1); an average of such martingales over several ρ is one too. By Ville's
 * inequality, the chance that the average ever reaches 1/α when the canary is not worse is at most α, at any
 * number of looks: a rollback decided that way is a false rollback with probability at most α (anytime-valid,
 * as in Lindon, Sanden & Shirikian, "Rapid Regression Detection in Software Deployments through Sequential
 * Testing", KDD 2022). The average runs over a geometric grid of ratios from `minRatio` (the smallest
 * regression that matters) to ×100, so that a gross regression is caught after a few errors and a small one
 * still is, later.
 *
 * The same argument the other way (the likelihood ratio of ρ = 1 against ρ = minRatio, a test martingale when
 * the canary is at least `minRatio` worse) ends a step early with a pass: once it reaches 1/β, a regression of
 * `minRatio` or worse is ruled out with error probability at most β.
 */

export interface SequentialOptions {
  /** The smallest regression that matters: the canary's error rate over the stable's (e.g. 1.5). */
  minRatio: number;
  /** The false-rollback probability (the chance of rolling back a canary that is no worse than the stable). */
  alpha: number;
  /** The chance of passing early a canary that is `minRatio` worse (only when steps may end early). */
  beta: number;
  /** Requests each track must have served before any verdict. */
  minRequests: number;
}

export interface TrackCounts {
  /** Cumulative counters as read now (they may reset when pods restart). */
  errors: number;
  requests: number;
}

export type SequentialState = 'collecting' | 'undecided' | 'regression' | 'no-regression';

export interface SequentialVerdict {
  state: SequentialState;
  /** The canary's and the stable's error rates over the requests counted so far (null before any). */
  canaryRate: number | null;
  stableRate: number | null;
  canaryRequests: number;
  stableRequests: number;
  /** The evidence of a regression (the e-value): the rollback comes at 1/alpha. */
  evidence: number;
  /** A line a person reads. */
  message: string;
}

const GRID_POINTS = 8;
const MAX_RATIO = 100;

export class SequentialRatioTest {
  readonly #options: SequentialOptions;
  readonly #ratios: number[];
  /** log likelihood ratio of each grid ratio against 1. */
  readonly #logLr: number[];
  /** log likelihood ratio of 1 against minRatio within the current step (evidence of no regression). */
  #logNoRegression = 0;
  #step: number | undefined;
  #stepRequests = { canary: 0, stable: 0 };
  #last: { canary: TrackCounts; stable: TrackCounts } | undefined;
  readonly #totals = { canaryErrors: 0, canaryRequests: 0, stableErrors: 0, stableRequests: 0 };
  #regression = false;

  constructor(options: SequentialOptions) {
    this.#options = options;
    const { minRatio } = options;
    const span = Math.max(MAX_RATIO, minRatio * 2);
    this.#ratios = Array.from(
      { length: GRID_POINTS },
      (_, j) => minRatio * (span / minRatio) ** (j / (GRID_POINTS - 1)),
    );
    this.#logLr = this.#ratios.map(() => 0);
  }

  /**
   * One look: both tracks' cumulative counters as read now. The first look only sets the starting point; each
   * later one adds what happened since. A counter that went down (pods restarted) restarts from its new value.
   */
  update(canary: TrackCounts, stable: TrackCounts, step = 0): void {
    // Each step judges "no regression" on its own evidence (its traffic share is new); a regression's evidence
    // spans the rollout.
    if (step !== this.#step) {
      this.#step = step;
      this.#logNoRegression = 0;
      this.#stepRequests = { canary: 0, stable: 0 };
    }
    const last = this.#last;
    this.#last = { canary, stable };
    if (!last || this.#regression) return;
    const delta = (now: number, before: number) => (now >= before ? now - before : now);
    const nc = delta(canary.requests, last.canary.requests);
    const ns = delta(stable.requests, last.stable.requests);
    const ec = Math.min(delta(canary.errors, last.canary.errors), nc);
    const es = Math.min(delta(stable.errors, last.stable.errors), ns);
    this.#totals.canaryErrors += ec;
    this.#totals.canaryRequests += nc;
    this.#totals.stableErrors += es;
    this.#totals.stableRequests += ns;
    this.#stepRequests.canary += nc;
    this.#stepRequests.stable += ns;
    // Without requests on both sides the errors say nothing about the ratio.
    if (nc > 0 && ns > 0 && ec + es > 0) {
      const p0 = nc / (nc + ns);
      const logLrOf = (ratio: number) => {
        const p1 = (ratio * nc) / (ratio * nc + ns);
        return ec * Math.log(p1 / p0) + es * Math.log((1 - p1) / (1 - p0));
      };
      this.#ratios.forEach((ratio, j) => {
        this.#logLr[j]! += logLrOf(ratio);
      });
      this.#logNoRegression -= logLrOf(this.#options.minRatio);
    }
    if (this.#enoughRequests() && this.evidence() >= 1 / this.#options.alpha) this.#regression = true;
  }

  /** The mixture's e-value: the average over the grid of each ratio's likelihood ratio. */
  evidence(): number {
    const top = Math.max(...this.#logLr);
    const sum = this.#logLr.reduce((acc, l) => acc + Math.exp(l - top), 0);
    return Math.exp(top) * (sum / this.#logLr.length);
  }

  verdict(): SequentialVerdict {
    const t = this.#totals;
    const canaryRate = t.canaryRequests > 0 ? t.canaryErrors / t.canaryRequests : null;
    const stableRate = t.stableRequests > 0 ? t.stableErrors / t.stableRequests : null;
    const { alpha, beta, minRatio, minRequests } = this.#options;
    const evidence = this.evidence();
    const rates = `errors ${percent(canaryRate)} vs ${percent(stableRate)} on stable`;
    const after = `${Math.round(t.canaryRequests)} canary and ${Math.round(t.stableRequests)} stable requests`;
    const base = {
      canaryRate,
      stableRate,
      canaryRequests: t.canaryRequests,
      stableRequests: t.stableRequests,
      evidence,
    };
    if (this.#regression)
      return {
        ...base,
        state: 'regression',
        message: `${rates}: a regression, conclusive after ${after} (false-rollback risk < ${percent(alpha)})`,
      };
    if (this.#ruledOut())
      return {
        ...base,
        state: 'no-regression',
        message: `${rates}: no regression of ×${minRatio} or worse in this step, conclusive after ${after} (risk < ${percent(beta)})`,
      };
    if (!this.#enoughRequests())
      return {
        ...base,
        state: 'collecting',
        message: `${rates}; collecting evidence: ${after}, ${minRequests} of each needed first`,
      };
    return {
      ...base,
      state: 'undecided',
      message: `${rates} after ${after}; evidence of a regression ${round(evidence)} of ${round(1 / alpha)} needed`,
    };
  }

  /** This step's evidence rules a regression of minRatio out (each track served minRequests in it). */
  #ruledOut(): boolean {
    const { minRequests, beta } = this.#options;
    return (
      this.#stepRequests.canary >= minRequests &&
      this.#stepRequests.stable >= minRequests &&
      this.#logNoRegression >= Math.log(1 / beta)
    );
  }

  #enoughRequests(): boolean {
    return (
      this.#totals.canaryRequests >= this.#options.minRequests &&
      this.#totals.stableRequests >= this.#options.minRequests
    );
  }
}

function percent(rate: number | null): string {
  if (rate === null) return '–';
  const value = rate * 100;
  // 31.2%, 5%, 0.42%: three significant digits at most, no trailing zeros.
  const shown = value >= 10 ? value.toFixed(1) : value.toPrecision(2);
  return `${Number(shown)}%`;
}

function round(value: number): string {
  return value >= 100 ? value.toExponential(1) : value.toFixed(1);
}
