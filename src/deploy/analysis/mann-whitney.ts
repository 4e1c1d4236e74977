import type { CheckResult, MetricSpec } from '../types.js';
import { formatNumber, formatP } from './format.js';

/**
 * The Mann-Whitney U test (Wilcoxon rank-sum) and Cliff's delta: the baseline-vs-canary judgement of the
 * analysis. Rank-based, so it makes no assumption about the shape of latency or error-rate distributions
 * (Kayenta's judge uses the same test for the same reason).
 *
 * Conventions follow scipy.stats.mannwhitneyu, against which the unit tests are checked: U is the statistic
 * of the first sample (the number of pairs where it is larger, ties counting one half); `greater` means the
 * first sample tends to be larger. `auto` uses the exact null distribution when there are no ties and one
 * sample has at most 8 values, else the normal approximation with tie and continuity corrections.
 */

export type Alternative = 'two-sided' | 'greater' | 'less';
export type MannWhitneyMethod = 'auto' | 'exact' | 'asymptotic';

export interface MannWhitneyResult {
  /** U of the first sample: pairs (x, y) with x > y, plus half the ties. */
  u: number;
  pValue: number;
  method: 'exact' | 'asymptotic';
}

/** The largest smaller sample for which `auto` uses the exact distribution. */
const EXACT_MAX_SMALLER = 8;
/** Beyond this the exact table is slow to build; the normal approximation is excellent there anyway. */
const EXACT_MAX_LARGER = 2000;

/**
 * Two-sample Mann-Whitney U test.
 * @throws Error when a sample is empty, or `exact` is asked for with ties (the exact table assumes none).
 */
export function mannWhitneyU(
  x: readonly number[],
  y: readonly number[],
  options: { alternative?: Alternative; method?: MannWhitneyMethod } = {},
): MannWhitneyResult {
  const alternative = options.alternative ?? 'two-sided';
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new Error('mannWhitneyU: both samples need at least one value');
  const { rankSumX, tieTerm } = rankSum(x, y);
  const u1 = rankSumX - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const hasTies = tieTerm > 0;
  const method =
    options.method === 'exact' || options.method === 'asymptotic'
      ? options.method
      : !hasTies && Math.min(n1, n2) <= EXACT_MAX_SMALLER && Math.max(n1, n2) <= EXACT_MAX_LARGER
        ? 'exact'
        : 'asymptotic';
  if (method === 'exact' && hasTies) throw new Error('mannWhitneyU: the exact method does not handle ties');

  let pValue: number;
  if (method === 'exact') {
    const distribution = exactDistribution(n1, n2);
    // P(U >= u) and P(U <= u) from the table; U is an integer when there are no ties.
    const upper = (u: number) => distribution.slice(Math.round(u)).reduce((sum, p) => sum + p, 0);
    const greater = upper(u1);
    const less = upper(u2); // the null distribution is symmetric: P(U1 <= u1) = P(U2 >= u2)
    pValue =
      alternative === 'greater' ? greater : alternative === 'less' ? less : 2 * Math.min(greater, less);
  } else {
    const n = n1 + n2;
    const mean = (n1 * n2) / 2;
    const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
    if (variance <= 0) {
      pValue = 1; // every value tied: no evidence of any difference
    } else {
      const sd = Math.sqrt(variance);
      const u = alternative === 'greater' ? u1 : alternative === 'less' ? u2 : Math.max(u1, u2);
      // Continuity correction: U moves in steps of one half or one, so the tail starts half a step inside.
      const z = (u - mean - 0.5) / sd;
      pValue = alternative === 'two-sided' ? 2 * normalSf(z) : normalSf(z);
    }
  }
  return { u: u1, pValue: Math.min(1, Math.max(0, pValue)), method };
}

/**
 * Cliff's delta: P(x > y) − P(x < y) over all pairs, from −1 (every x below every y) to 1 (every x above).
 * |δ| ≈ 0.15 is small, 0.33 medium, 0.47 large (Romano et al., 2006).
 */
export function cliffsDelta(x: readonly number[], y: readonly number[]): number {
  if (x.length === 0 || y.length === 0) throw new Error('cliffsDelta: both samples need at least one value');
  const u1 = rankSum(x, y).rankSumX - (x.length * (x.length + 1)) / 2;
  return (2 * u1) / (x.length * y.length) - 1;
}

export type CompareOptions = NonNullable<MetricSpec['compare']>;

export interface CompareResult {
  result: CheckResult;
  /** One-sided p-value in the `worse` direction; null when there were too few samples. */
  pValue: number | null;
  /** Cliff's delta of canary against baseline (positive: the canary is larger); null with too few samples. */
  effectSize: number | null;
  message: string;
}

/**
 * Judges the canary's samples against the baseline's: `fail` when the canary is significantly worse
 * (one-sided U test in the `worse` direction, p < alpha) and the effect is at least `minEffectSize` in that
 * direction; `inconclusive` with fewer than `minSamples` on either side; `pass` otherwise. The effect-size
 * floor keeps large samples from failing a release over a difference nobody would notice.
 */
export function compareSamples(
  canary: readonly number[],
  baseline: readonly number[],
  options: CompareOptions,
): CompareResult {
  // Values equal but for floating-point noise are ties: a query's arithmetic (histogram_quantile over rates)
  // gives 0.045000000000000005 on one track and 0.04499999999999998 on the other for the same latency, and
  // ranked as they are, a healthy canary would look consistently "worse" (seen on the sandbox).
  const canaryValues = canary.filter(Number.isFinite).map(withoutNoise);
  const baselineValues = baseline.filter(Number.isFinite).map(withoutNoise);
  if (canaryValues.length < options.minSamples || baselineValues.length < options.minSamples) {
    return {
      result: 'inconclusive',
      pValue: null,
      effectSize: null,
      message: `${canaryValues.length} canary and ${baselineValues.length} stable samples, needs ${options.minSamples} each (inconclusive)`,
    };
  }
  const alternative = options.worse === 'increase' ? 'greater' : 'less';
  const { pValue } = mannWhitneyU(canaryValues, baselineValues, { alternative });
  const effectSize = cliffsDelta(canaryValues, baselineValues);
  const worseEffect = options.worse === 'increase' ? effectSize : -effectSize;
  const medians = `median ${formatNumber(median(canaryValues))} vs stable ${formatNumber(median(baselineValues))}`;
  const significant = pValue < options.alpha;
  const p = `p=${formatP(pValue)} ${significant ? '<' : '≥'} ${formatNumber(options.alpha)}`;
  const delta = `Cliff's delta ${formatNumber(effectSize)}`;
  if (significant && worseEffect >= options.minEffectSize) {
    return {
      result: 'fail',
      pValue,
      effectSize,
      message: `canary significantly worse (${options.worse}): ${medians}, ${p}, ${delta} ≥ ${options.minEffectSize}`,
    };
  }
  const verdict = significant
    ? `${delta} below ${options.minEffectSize}: difference too small to matter`
    : `no significant ${options.worse}`;
  return { result: 'pass', pValue, effectSize, message: `${verdict}: ${medians}, ${p}, ${delta}` };
}

// --- internals ---

/** A value to 12 significant digits: floating-point noise (1e-17 on 0.045) gone, real differences kept. */
function withoutNoise(value: number): number {
  return Number(value.toPrecision(12));
}

/** Rank sum of x in the pooled sample (ties get their mean rank) and Σ(t³ − t) over tie groups. */
function rankSum(x: readonly number[], y: readonly number[]): { rankSumX: number; tieTerm: number } {
  const pooled = [
    ...x.map((value) => ({ value, fromX: true })),
    ...y.map((value) => ({ value, fromX: false })),
  ];
  pooled.sort((a, b) => a.value - b.value);
  let rankSumX = 0;
  let tieTerm = 0;
  for (let start = 0; start < pooled.length; ) {
    let end = start;
    while (end + 1 < pooled.length && pooled[end + 1]!.value === pooled[start]!.value) end++;
    const size = end - start + 1;
    const meanRank = (start + end) / 2 + 1;
    for (let i = start; i <= end; i++) if (pooled[i]!.fromX) rankSumX += meanRank;
    tieTerm += size ** 3 - size;
    start = end + 1;
  }
  return { rankSumX, tieTerm };
}

/**
 * P(U = u) for u = 0 … n1·n2 under the null hypothesis, with no ties. Built by conditioning on which sample
 * holds the largest value: with probability m/(m+n) it is an x, which beats all n y's (U grows by n);
 * otherwise it is a y, which beats nothing. Every term is a probability, so nothing cancels numerically.
 */
function exactDistribution(n1: number, n2: number): number[] {
  // The null distribution of U is the same for (n1, n2) and (n2, n1); the table is cheaper with m small.
  const m = Math.min(n1, n2);
  const n = Math.max(n1, n2);
  // row[j] = distribution for (i, j) samples, for the current i.
  let row: number[][] = Array.from({ length: n + 1 }, () => [1]);
  for (let i = 1; i <= m; i++) {
    const next: number[][] = [[1]];
    for (let j = 1; j <= n; j++) {
      const size = i * j + 1;
      const dist = new Array<number>(size).fill(0);
      const fromX = row[j]!; // (i − 1, j): shift by j
      const fromY = next[j - 1]!; // (i, j − 1)
      const px = i / (i + j);
      const py = j / (i + j);
      for (let u = 0; u < fromX.length; u++) dist[u + j]! += px * fromX[u]!;
      for (let u = 0; u < fromY.length; u++) dist[u]! += py * fromY[u]!;
      next.push(dist);
    }
    row = next;
  }
  return row[n]!;
}

/** Upper tail of the standard normal distribution, P(Z > z). */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * Complementary error function to near double precision: a positive-term series for erf below 1.5, where
 * 1 − erf loses nothing; a continued fraction (modified Lentz) above, where 1 − erf would lose digits and the
 * fraction converges in under a hundred terms. Relative error about 1e-15 everywhere.
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 1.5) return 1 - erfSeries(x);
  return erfcContinuedFraction(x);
}

/** erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)). */
function erfSeries(x: number): number {
  const twoXSquared = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 500; n++) {
    term *= twoXSquared / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

/** erfc(x) = e^(−x²)/√π · 1 / (x + (1/2) / (x + (2/2) / (x + (3/2) / (x + …)))), for x > 0. */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let i = 1; i < 500; i++) {
    const a = i / 2;
    d = x + a * d;
    d = d === 0 ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
