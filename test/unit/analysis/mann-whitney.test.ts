import { describe, expect, it } from 'vitest';
import {
  type Alternative,
  cliffsDelta,
  compareSamples,
  erfc,
  mannWhitneyU,
  normalSf,
} from '../../../src/deploy/analysis/mann-whitney.js';

/*
 * Expected values computed independently with SciPy 1.17.1 (Python 3, in a throwaway venv):
 *   from scipy.stats import mannwhitneyu
 *   mannwhitneyu(x, y, alternative=alt, method=m)   # m in 'exact', 'asymptotic'
 * and Cliff's delta as ((x[:,None] > y).sum() - (x[:,None] < y).sum()) / (len(x) * len(y)) with numpy.
 * SciPy's 'auto' picks 'exact' when one sample has at most 8 values and there are no ties, as ours does.
 * "hollander-wolfe" is the depression-scale example of Hollander & Wolfe (1973), also R's ?wilcox.test.
 */
const samples = {
  'hollander-wolfe': {
    x: [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3],
    y: [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29],
  },
  'small, no ties': { x: [3, 5, 7, 9, 11], y: [1, 2, 4, 6, 8] },
  'separated 5 v 5': { x: [10, 11, 12, 13, 14], y: [1, 2, 3, 4, 5] },
  'ties 20 v 20': {
    x: [3, 4, 4, 5, 5, 5, 6, 6, 7, 7, 8, 8, 8, 9, 9, 10, 10, 11, 12, 13],
    y: [1, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 6, 6, 6, 7, 7, 8, 9, 9, 10],
  },
  'no ties 12 v 10': {
    x: [0.051, 0.043, 0.062, 0.048, 0.071, 0.055, 0.049, 0.066, 0.058, 0.044, 0.069, 0.052],
    y: [0.041, 0.039, 0.046, 0.035, 0.05, 0.042, 0.038, 0.047, 0.036, 0.04],
  },
  'unequal 3 v 8': { x: [5.5, 6.5, 7.5], y: [1, 2, 3, 4, 5, 6, 7, 8] },
} as const;
type Case = keyof typeof samples;

const scipy: [Case, Alternative, 'exact' | 'asymptotic', number, number][] = [
  ['hollander-wolfe', 'two-sided', 'asymptotic', 58, 0.13291945818531892],
  ['hollander-wolfe', 'greater', 'asymptotic', 58, 0.06645972909265946],
  ['hollander-wolfe', 'less', 'asymptotic', 58, 0.9442044002897128],
  ['small, no ties', 'two-sided', 'exact', 19, 0.2222222222222222],
  ['small, no ties', 'greater', 'exact', 19, 0.1111111111111111],
  ['small, no ties', 'less', 'exact', 19, 0.9246031746031745],
  ['small, no ties', 'two-sided', 'asymptotic', 19, 0.2100750407866585],
  ['small, no ties', 'greater', 'asymptotic', 19, 0.10503752039332925],
  ['small, no ties', 'less', 'asymptotic', 19, 0.9281639590965198],
  ['separated 5 v 5', 'two-sided', 'exact', 25, 0.007936507936507936],
  ['separated 5 v 5', 'greater', 'exact', 25, 0.003968253968253968],
  ['separated 5 v 5', 'less', 'exact', 25, 1.0],
  ['separated 5 v 5', 'greater', 'asymptotic', 25, 0.006092890177672406],
  ['ties 20 v 20', 'two-sided', 'asymptotic', 289, 0.016136623546815512],
  ['ties 20 v 20', 'greater', 'asymptotic', 289, 0.008068311773407756],
  ['ties 20 v 20', 'less', 'asymptotic', 289, 0.9925127463275066],
  ['no ties 12 v 10', 'two-sided', 'exact', 112, 0.0002072231174398357],
  ['no ties 12 v 10', 'greater', 'exact', 112, 0.00010361155871991785],
  ['no ties 12 v 10', 'two-sided', 'asymptotic', 112, 0.0006842598049474444],
  ['no ties 12 v 10', 'greater', 'asymptotic', 112, 0.0003421299024737222],
  ['no ties 12 v 10', 'less', 'asymptotic', 112, 0.9997316597819477],
  ['unequal 3 v 8', 'two-sided', 'exact', 18, 0.2787878787878788],
  ['unequal 3 v 8', 'greater', 'exact', 18, 0.1393939393939394],
  ['unequal 3 v 8', 'less', 'exact', 18, 0.9030303030303031],
  ['unequal 3 v 8', 'greater', 'asymptotic', 18, 0.13078611800697465],
];

describe('mannWhitneyU against SciPy', () => {
  it.each(scipy)('%s, %s, %s: U=%d, p=%f', (name, alternative, method, u, p) => {
    const { x, y } = samples[name];
    const result = mannWhitneyU(x, y, { alternative, method });
    expect(result.u).toBe(u);
    expect(result.method).toBe(method);
    expect(result.pValue).toBeCloseTo(p, 12);
    expect(Math.abs(result.pValue - p) / p).toBeLessThan(1e-9);
  });

  it.each([
    ['hollander-wolfe', 'asymptotic'], // ties
    ['small, no ties', 'exact'],
    ['unequal 3 v 8', 'exact'],
    ['no ties 12 v 10', 'asymptotic'], // both samples above 8
    ['ties 20 v 20', 'asymptotic'],
  ] as const)('auto picks the method SciPy picks: %s → %s', (name, method) => {
    const { x, y } = samples[name];
    expect(mannWhitneyU(x, y).method).toBe(method);
  });

  it('answers p = 1 when every value is tied, and refuses exact with ties or empty samples', () => {
    expect(mannWhitneyU([1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1]).pValue).toBe(1);
    expect(() => mannWhitneyU([1, 2, 2], [3, 4], { method: 'exact' })).toThrow(/ties/);
    expect(() => mannWhitneyU([], [1])).toThrow(/at least one value/);
  });

  it('swapping the samples mirrors the one-sided p-values', () => {
    const { x, y } = samples['unequal 3 v 8'];
    expect(mannWhitneyU(y, x, { alternative: 'less' }).pValue).toBeCloseTo(
      mannWhitneyU(x, y, { alternative: 'greater' }).pValue,
      14,
    );
  });
});

describe('cliffsDelta against numpy', () => {
  it.each([
    ['hollander-wolfe', 0.43209876543209874],
    ['small, no ties', 0.52],
    ['separated 5 v 5', 1.0],
    ['ties 20 v 20', 0.445],
    ['no ties 12 v 10', 0.8666666666666667],
    ['unequal 3 v 8', 0.5],
  ] as const)('%s → %f', (name, delta) => {
    const { x, y } = samples[name];
    expect(cliffsDelta(x, y)).toBeCloseTo(delta, 12);
    expect(cliffsDelta(y, x)).toBeCloseTo(-delta, 12);
  });
});

describe('erfc and the normal tail', () => {
  // Reference values: Python's math.erfc (C library, correctly rounded to ~1 ulp).
  it.each([
    [0, 1],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [1.5, 0.033894853524689274],
    [2.5, 0.0004069520174449589],
    [2.9, 4.109787809945886e-5],
    [3.1, 1.1648657367199589e-5],
    [5, 1.5374597944280351e-12],
    [-1, 1.842700792949715],
  ])('erfc(%f) = %f', (x, expected) => {
    expect(Math.abs(erfc(x) - expected) / expected).toBeLessThan(1e-12);
  });

  it('normalSf(1.959963984540054) is 0.025', () => {
    expect(normalSf(1.959963984540054)).toBeCloseTo(0.025, 14);
  });
});

describe('compareSamples', () => {
  const options = { worse: 'increase' as const, alpha: 0.05, minEffectSize: 0.3, minSamples: 5 };

  it('is inconclusive with fewer than minSamples on either side', () => {
    const result = compareSamples([1, 2, 3, 4], [1, 2, 3, 4, 5], options);
    expect(result).toMatchObject({ result: 'inconclusive', pValue: null, effectSize: null });
    expect(result.message).toBe('4 canary and 5 stable samples, needs 5 each (inconclusive)');
  });

  it('takes values equal but for floating-point noise as ties (p95 of the same latency on two tracks, as Prometheus computed it)', () => {
    // Sampled on the sandbox: histogram_quantile over rate() of identical histograms on each track.
    const canary = [0.045000000000000005, 0.045000000000000005, 0.045, 0.045000000000000005, 0.045, 0.045];
    const stable = [
      0.04499999999999998, 0.044999999999999984, 0.04499999999999997, 0.045, 0.04499999999999996,
    ];
    const result = compareSamples(canary, stable, options);
    expect(result.result).toBe('pass');
    expect(result.effectSize).toBe(0);
    // A real difference, however small next to the value, still counts.
    expect(
      compareSamples([0.0451, 0.0452, 0.0453, 0.0454, 0.0455], [0.045, 0.045, 0.045, 0.045, 0.045], options)
        .result,
    ).toBe('fail');
  });

  it('fails a canary significantly worse with a large effect', () => {
    const { x, y } = samples['no ties 12 v 10'];
    const result = compareSamples(x, y, options);
    expect(result.result).toBe('fail');
    // one-sided, worse = increase → SciPy's 'greater', auto method (asymptotic here).
    expect(result.pValue).toBeCloseTo(0.0003421299024737222, 12);
    expect(result.effectSize).toBeCloseTo(0.8666666666666667, 12);
    expect(result.message).toBe(
      "canary significantly worse (increase): median 0.0535 vs stable 0.0405, p=0.00034 < 0.05, Cliff's delta 0.8667 ≥ 0.3",
    );
  });

  it('passes the same samples when a decrease is what would be worse', () => {
    const { x, y } = samples['no ties 12 v 10'];
    const result = compareSamples(x, y, { ...options, worse: 'decrease' });
    expect(result.result).toBe('pass');
    expect(result.pValue).toBeCloseTo(0.9997316597819477, 12);
    expect(result.message).toMatch(/^no significant decrease:/);
  });

  it('passes a significant difference smaller than the effect-size floor', () => {
    const { x, y } = samples['ties 20 v 20']; // p 0.008, delta 0.445
    const result = compareSamples(x, y, { ...options, minEffectSize: 0.5 });
    expect(result.result).toBe('pass');
    expect(result.message).toMatch(/^Cliff's delta 0.445 below 0.5: difference too small to matter/);
  });

  it('passes when the difference is not significant', () => {
    const { x, y } = samples['hollander-wolfe']; // one-sided p 0.066
    expect(compareSamples(x, y, options).result).toBe('pass');
  });

  it('ignores non-finite values when counting samples', () => {
    const result = compareSamples(
      [1, 2, Number.NaN, 3, 4, Number.POSITIVE_INFINITY],
      [1, 2, 3, 4, 5],
      options,
    );
    expect(result.result).toBe('inconclusive');
  });
});
