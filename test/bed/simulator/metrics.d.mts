// Types of metrics.mjs (the simulator's counters, histogram and text exposition), for the TypeScript tests.
import type { AppSplit } from './split.mjs';

export const BUCKETS: readonly number[];
export const LATENCY_SPREAD: number;
export const DEFAULT_RETAIN_SECONDS: number;

export interface Histogram {
  /** Cumulative counts per bound of BUCKETS (the +Inf bucket is `count`). */
  buckets: number[];
  sum: number;
  count: number;
}

export class TrafficMetrics {
  constructor(options?: { retainSeconds?: number });
  /**
   * Accounts `dtSeconds` of traffic at the rates of `splits`; `now` (seconds) only expires vanished apps and
   * runs.
   */
  advance(
    splits: readonly (Pick<AppSplit, 'namespace' | 'app' | 'tracks' | 'shares'> & { noise?: string })[],
    dtSeconds: number,
    now?: number,
  ): void;
  /** Prometheus text exposition (format 0.0.4). */
  expose(): string;
}

export function observe(histogram: Histogram, count: number, meanSeconds: number): void;
/** A seeded generator of uniform numbers in [0, 1) (mulberry32 over a hash of the seed). */
export function seededRandom(seed: string): () => number;
/** A Poisson-distributed count of mean `mean`. */
export function poisson(random: () => number, mean: number): number;
export function escapeLabel(value: string): string;
export function formatNumber(value: number): string;
