import { log } from '../util/log.js';
import { formatNumber } from './analysis/format.js';
import type { Check, RolloutTimings, StepRecord } from './types.js';

type TimingName = Exclude<keyof RolloutTimings, 'startedAt' | 'finishedAt'>;

/**
 * Collects what the run report needs (steps, checks, timings) while printing live progress: one line per
 * phase change and per check, prefixed with the seconds since the rollout started.
 */
export class Recorder {
  readonly steps: StepRecord[] = [];
  readonly checks: Check[] = [];
  readonly timings: RolloutTimings;
  private readonly started = Date.now();

  constructor(private readonly label: string) {
    this.timings = {
      startedAt: new Date(this.started).toISOString(),
      canaryTrafficStartedAt: null,
      abortDecidedAt: null,
      trafficRestoredAt: null,
      canaryRemovedAt: null,
      promotedAt: null,
    };
  }

  progress(line: string): void {
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1).padStart(6);
    log.info(`[${seconds}s] ${this.label}: ${line}`);
  }

  /** Records the moment of a timing, once (the first time wins). */
  mark(name: TimingName, at: Date = new Date()): string {
    this.timings[name] ??= at.toISOString();
    return this.timings[name]!;
  }

  stepStarted(index: number, weight: number, what = `${weight}% of traffic to the new version`): void {
    this.steps.push({ index, weight, startedAt: new Date().toISOString(), result: 'running' });
    this.progress(`step ${index + 1}: ${what}`);
  }

  stepEnded(result: StepRecord['result']): void {
    const step = this.steps.at(-1);
    if (step?.result !== 'running') return;
    step.result = result;
    step.endedAt = new Date().toISOString();
  }

  check(check: Check): void {
    this.checks.push(check);
    const value = check.value === null ? 'no data' : formatNumber(check.value);
    this.progress(
      `  ${check.result === 'pass' ? 'ok  ' : check.result === 'fail' ? 'FAIL' : 'n/a '} ${check.metric} = ${value} (${check.message})`,
    );
  }

  finish(): void {
    this.stepEnded('aborted');
    this.timings.finishedAt = new Date().toISOString();
  }
}
