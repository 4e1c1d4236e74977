import { log } from '../../util/log.js';
import { sleep } from '../../util/sleep.js';
import type { HookResult, RolloutReport } from '../types.js';
import { callHook, type HookAnswer } from './call.js';
import type { Hook, HookType } from './spec.js';

export type { HookResult } from '../types.js';

export { HOOK_TYPES, type Hook, type HookType, loadHooksFile, parseHooks } from './spec.js';

/** Where the rollout is when a hook is called: the payload's moving parts. */
export interface HookMoment {
  /** confirm-rollout, pre-rollout, progressing, waiting, promoting, done. */
  phase: string;
  /** 0-based step, null before the first. */
  step: number | null;
  /** Percent of traffic on the new version now. */
  weight: number;
  verdict?: string | null;
  reason?: string | null;
}

/**
 * The payload every hook receives (HTTP body, or the command's stdin), documented in docs/hooks.md: which
 * rollout (service, namespace, run, strategy, images, revision), where it is (phase, step, weight) and, for
 * post-rollout, how it ended (verdict, reason).
 */
export interface HookPayload {
  hook: { name: string; type: HookType };
  service: string;
  namespace: string;
  runId: string;
  strategy: string;
  image: string;
  previousImage: string | null;
  revision: string | null;
  phase: string;
  step: number | null;
  steps: number;
  weight: number;
  verdict: string | null;
  reason: string | null;
  metadata: Record<string, string>;
  sentAt: string;
}

/**
 * The rollout's hooks (`--hooks`): calls them at their points, keeps their results for the report, and counts
 * the rollout hooks' failures against their limits.
 */
export class Hooks {
  readonly results: HookResult[] = [];
  private readonly failures = new Map<string, number>();

  constructor(
    readonly hooks: readonly Hook[],
    /** The run report so far: who the rollout is (read at each call, so the previous image is current). */
    private readonly report: () => RolloutReport,
    private readonly steps: number,
    private readonly options: { baseBackoffMs?: number } = {},
  ) {}

  of(type: HookType): Hook[] {
    return this.hooks.filter((hook) => hook.type === type);
  }

  has(type: HookType): boolean {
    return this.hooks.some((hook) => hook.type === type);
  }

  payload(hook: Hook, moment: HookMoment): HookPayload {
    const report = this.report();
    return {
      hook: { name: hook.name, type: hook.type },
      service: report.name,
      namespace: report.namespace,
      runId: report.runId,
      strategy: report.strategy,
      image: report.image,
      previousImage: report.previousImage,
      revision: report.revision,
      phase: moment.phase,
      step: moment.step,
      steps: this.steps,
      weight: moment.weight,
      verdict: moment.verdict ?? null,
      reason: moment.reason ?? null,
      metadata: hook.metadata ?? {},
      sentAt: new Date().toISOString(),
    };
  }

  /** Asks one hook once (its retries included). */
  call(hook: Hook, moment: HookMoment, signal?: AbortSignal): Promise<HookAnswer> {
    return callHook(hook, this.payload(hook, moment), { signal, baseBackoffMs: this.options.baseBackoffMs });
  }

  record(result: HookResult): void {
    this.results.push(result);
  }

  /**
   * Calls every hook of `type` at once and records each answer. Returns the first that did not say yes.
   */
  async runAll(type: HookType, moment: HookMoment, signal?: AbortSignal): Promise<HookResult | undefined> {
    const results = await Promise.all(
      this.of(type).map(async (hook) => {
        const answer = await this.call(hook, moment, signal);
        const result = resultOf(hook, answer);
        this.record(result);
        log.info(`hook ${hook.name} (${type}): ${answer.ok ? 'passed' : 'failed'}: ${answer.message}`);
        return result;
      }),
    );
    return results.find((result) => result.result === 'fail');
  }

  /** A rollout hook's failure counted; true once it is beyond the hook's failure limit. */
  countFailure(hook: Hook): boolean {
    const failures = (this.failures.get(hook.name) ?? 0) + 1;
    this.failures.set(hook.name, failures);
    return failures > hook.failureLimit;
  }

  /** Sleeps until `at` (epoch ms), waking when `signal` fires. */
  static async until(at: number, signal: AbortSignal): Promise<void> {
    const wait = at - Date.now();
    if (wait > 0) await sleep(wait, signal);
  }
}

export function resultOf(hook: Hook, answer: HookAnswer, at = new Date()): HookResult {
  return {
    hook: hook.name,
    type: hook.type,
    at: at.toISOString(),
    result: answer.ok ? 'pass' : 'fail',
    attempts: answer.attempts,
    durationMs: answer.durationMs,
    message: answer.message,
  };
}
