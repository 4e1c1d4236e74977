import { formatDuration } from '../../util/duration.js';
import { sleep } from '../../util/sleep.js';
import type { HookAnswer } from '../hooks/call.js';
import { type Hook, type HookMoment, resultOf } from '../hooks/index.js';
import { abortReason, RollbackReason, type RolloutContext } from './types.js';

export type ConfirmType = 'confirm-rollout' | 'confirm-promotion';

/**
 * The gate ids of the confirm-* hooks (`promote@<id>` releases them), apart from every step index. */
export const CONFIRM_GATE: Record<ConfirmType, number> = {
  'confirm-rollout': 9998,
  'confirm-promotion': 9999,
};

/**
 * A confirm-* gate: the rollout waits while its hooks answer "not yet" (asked every `interval`), until each
 * has said yes once. `gantry promote` confirms for them (so a person, or Jenkins' approval input, can decide),
 * `gantry abort` rolls back; after the gate timeout `onGateTimeout` decides, as at a step's gate. Does
 * nothing when the rollout has no hook of this type.
 * @throws RollbackReason when the gate ends without a confirmation (timeout with on-gate-timeout rollback)
 *   or the rollout was aborted meanwhile.
 */
export async function confirmGate(
  context: RolloutContext,
  type: ConfirmType,
  moment: HookMoment,
): Promise<void> {
  const hooks = context.hooks;
  const asked = hooks?.of(type) ?? [];
  if (!hooks || asked.length === 0) return;
  const { recorder, events, lease, name, namespace } = context;
  const since = Date.now();
  const timeoutAt = since + context.gateTimeoutMs;
  const waitFor = formatDuration(context.gateTimeoutMs);
  const then = context.onGateTimeout === 'promote' ? 'it goes on as if confirmed' : 'it rolls back';
  const names = asked.map((hook) => hook.name).join(', ');
  const gate = context.openGate?.(CONFIRM_GATE[type]);
  void lease.record({
    phase: 'waiting',
    gate: {
      since: new Date(since).toISOString(),
      timeoutAt: new Date(timeoutAt).toISOString(),
      onTimeout: context.onGateTimeout,
      id: CONFIRM_GATE[type],
      hook: type,
    },
  });
  const target = `--name ${name} --namespace ${namespace}`;
  recorder.progress(
    `${type}: waiting for ${names} to confirm; \`gantry promote ${target}\` confirms for them, ` +
      `\`gantry abort ${target}\` rolls back; without either within ${waitFor} ${then}`,
  );
  void events.emit(
    'WaitingForConfirmation',
    `${type}: waiting for ${names}; without it within ${waitFor} ${then}`,
  );

  const released = AbortSignal.any(
    [context.signal, gate?.released, context.promoted].filter((s): s is AbortSignal => s !== undefined),
  );
  const pending = new Map<Hook, { answer?: HookAnswer; asks: number }>(
    asked.map((hook) => [hook, { asks: 0 }]),
  );
  const confirmed: { hook: Hook; answer: HookAnswer; asks: number }[] = [];
  const interval = Math.min(...asked.map((hook) => hook.interval));
  try {
    while (pending.size > 0 && !released.aborted && Date.now() < timeoutAt) {
      await Promise.all(
        [...pending].map(async ([hook, state]) => {
          const answer = await hooks.call(hook, { ...moment, phase: 'waiting' }, released);
          if (released.aborted && !answer.ok) return;
          state.asks++;
          state.answer = answer;
          if (!answer.ok) return;
          pending.delete(hook);
          confirmed.push({ hook, answer, asks: state.asks });
        }),
      );
      if (pending.size > 0) await sleep(Math.max(0, Math.min(interval, timeoutAt - Date.now())), released);
    }
  } finally {
    gate?.close();
  }
  void lease.record({ phase: 'progressing', gate: undefined });
  const waited = formatDuration(Date.now() - since);
  const byPerson = pending.size > 0 && released.aborted && !context.signal.aborted;
  for (const { hook, answer, asks } of confirmed)
    hooks.record({ ...resultOf(hook, answer), attempts: asks, durationMs: Date.now() - since });
  for (const [hook, state] of pending) {
    const last = state.answer?.message ?? 'not asked';
    hooks.record({
      hook: hook.name,
      type,
      at: new Date().toISOString(),
      result: byPerson ? 'pass' : 'fail',
      attempts: state.asks,
      durationMs: Date.now() - since,
      message: byPerson
        ? `confirmed by \`gantry promote\` (last answer: ${last})`
        : `not confirmed (last answer: ${last})`,
    });
  }
  if (context.signal.aborted) throw abortReason(context.signal);
  if (pending.size === 0) {
    recorder.progress(`${type}: confirmed by ${names} after ${waited}`);
    void events.emit('Confirmed', `${type}: confirmed by ${names} after ${waited}`);
    return;
  }
  if (byPerson) {
    recorder.progress(`${type}: confirmed by \`gantry promote\` after ${waited}`);
    void events.emit('Confirmed', `${type}: confirmed by \`gantry promote\` after ${waited}`);
    return;
  }
  const missing = [...pending.keys()].map((hook) => hook.name).join(', ');
  if (context.onGateTimeout === 'promote') {
    recorder.progress(`${type}: ${missing} did not confirm within ${waitFor}; going on (on-gate-timeout)`);
    void events.emit(
      'GateTimedOut',
      `${type}: ${missing} did not confirm within ${waitFor}; going on`,
      'Warning',
    );
    return;
  }
  const last = [...pending.values()].at(-1)?.answer?.message;
  throw new RollbackReason(
    `${type}: ${missing} did not confirm within the gate timeout (${waitFor})${last ? `; last answer: ${last}` : ''}`,
  );
}

/**
 * The pre-rollout hooks, the new version up but without traffic: the first that does not say yes stops the
 * rollout.
 * @throws RollbackReason naming the hook and its answer.
 */
export async function preRollout(context: RolloutContext, moment: HookMoment): Promise<void> {
  const hooks = context.hooks;
  if (!hooks?.has('pre-rollout')) return;
  context.recorder.progress(
    `pre-rollout: ${hooks
      .of('pre-rollout')
      .map((hook) => hook.name)
      .join(', ')}`,
  );
  const failed = await hooks.runAll('pre-rollout', moment, context.signal);
  if (context.signal.aborted) throw abortReason(context.signal);
  if (failed) throw new RollbackReason(`pre-rollout hook ${failed.hook} failed: ${failed.message}`);
}
