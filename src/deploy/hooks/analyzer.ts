import { log } from '../../util/log.js';
import type { Analyzer } from '../analysis/setup.js';
import { type HookMoment, Hooks, resultOf } from './index.js';

type Outcome = Awaited<ReturnType<Analyzer>>;

/**
 * The rollout and rollback hooks as a step analyzer: each is asked every `interval` for the step's length
 * (at least once). A rollout hook's answer is a check like a metric's (`hook <name>`), its failures counted
 * against its failureLimit; a rollback hook that says yes ends the step at once with a rollback. Undefined
 * when there are neither.
 */
export function hookAnalyzer(hooks: Hooks, moment: (step: number) => HookMoment): Analyzer | undefined {
  const probes = [...hooks.of('rollout'), ...hooks.of('rollback')];
  if (probes.length === 0) return undefined;
  return async ({ step, durationMs, signal, onCheck }): Promise<Outcome> => {
    const decided = new AbortController();
    const both = AbortSignal.any([signal, decided.signal]);
    let decision: { reason: string; decidedAt: Date } | undefined;
    const decide = (reason: string, decidedAt: Date) => {
      if (decision) return;
      decision = { reason, decidedAt };
      decided.abort();
    };
    const started = Date.now();
    await Promise.all(
      probes.map(async (hook) => {
        const asks = Math.max(1, Math.floor(durationMs / hook.interval));
        for (let k = 1; k <= asks; k++) {
          await Hooks.until(started + Math.min(k * hook.interval, durationMs), both);
          if (both.aborted) return;
          const answer = await hooks.call(hook, moment(step), both);
          // An answer cut short by the end of the step (or another hook's decision) says nothing.
          if (both.aborted) return;
          const at = new Date();
          if (hook.type === 'rollout') {
            onCheck({
              metric: `hook ${hook.name}`,
              step,
              at: at.toISOString(),
              value: null,
              result: answer.ok ? 'pass' : 'fail',
              message: answer.message,
            });
            if (!answer.ok && hooks.countFailure(hook))
              decide(`rollout hook ${hook.name} failed: ${answer.message}`, at);
          } else if (answer.ok) {
            hooks.record(resultOf(hook, answer, at));
            decide(`rollback requested by hook ${hook.name} (${answer.message})`, at);
          } else if (answer.unreachable) {
            log.warn(`rollback hook ${hook.name}: ${answer.message}`);
          }
        }
      }),
    );
    if (decision) return { outcome: 'aborted', reason: decision.reason, decidedAt: decision.decidedAt };
    await Hooks.until(started + durationMs, signal);
    if (signal.aborted) return { outcome: 'aborted', reason: 'hooks cancelled', cancelled: true };
    return { outcome: 'passed' };
  };
}

/**
 * Two analyzers judging the same step side by side (the metrics and the hooks): the first to abort decides
 * and stops the other; the step passes when both pass.
 */
export function combineAnalyzers(a?: Analyzer, b?: Analyzer): Analyzer | undefined {
  if (!a || !b) return a ?? b;
  return async (options) => {
    const first = new AbortController();
    const signal = AbortSignal.any([options.signal, first.signal]);
    let decided: Outcome | undefined;
    const judge = async (analyzer: Analyzer): Promise<Outcome> => {
      const outcome = await analyzer({ ...options, signal });
      if (outcome.outcome === 'aborted' && !outcome.cancelled && !decided) {
        decided = outcome;
        first.abort();
      }
      return outcome;
    };
    const outcomes = await Promise.all([judge(a), judge(b)]);
    if (decided) return decided;
    return outcomes.find((outcome) => outcome.outcome === 'aborted') ?? { outcome: 'passed' };
  };
}
