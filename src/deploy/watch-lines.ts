import type { RolloutState } from './lease.js';

/**
 * `gantry status --watch`, the pure part: what a rollout's Lease said at two moments becomes the lines a person
 * (or, as JSON, a program) reads: a run started, a step began, a gate opened, checks came in, the run ended.
 */

/** The Lease of a rollout as the watcher sees it at one moment. */
export interface Observed {
  /** A run holds the lease (it renews it). */
  held: boolean;
  /** The holder stopped renewing: its run died and the rollout is orphaned. */
  stale: boolean;
  /** The run holding (or that last held) the lease. */
  holder: string | null;
  state: RolloutState | undefined;
}

/** One line of the watch: what changed, when it was seen, and the rollout's position then. */
export interface WatchLine {
  at: string;
  /**
   * current: the state when the watch began; started: a run took the lease; step: a step began; phase: the phase
   * changed (waiting at a gate, promoting, rolling back, going on after a gate); checks: analysis results came in;
   * event: a Kubernetes Event of the rollout; orphaned: the run stopped renewing its lease; done: the run ended.
   */
  kind: 'current' | 'started' | 'step' | 'phase' | 'checks' | 'event' | 'orphaned' | 'done';
  namespace: string;
  name: string;
  runId: string | null;
  phase: 'idle' | 'orphaned' | RolloutState['phase'];
  /** 1-based, as `gantry status` prints it; null when no run holds the lease. */
  step: number | null;
  steps: number | null;
  weight: number | null;
  message: string;
  /** kind checks: the current step's tally. */
  checks?: NonNullable<RolloutState['checks']>;
  /** kind event: the Event's reason and type. */
  reason?: string;
  type?: string;
  /** kind done: how the run ended, and its exit code. */
  verdict?: string | null;
  exitCode?: number;
}

/** What a change is, before it is stamped with a time and the rollout's name. */
export type Change = Pick<WatchLine, 'kind' | 'message'> &
  Partial<Pick<WatchLine, 'checks' | 'reason' | 'type' | 'verdict' | 'exitCode'>>;

/** A finished run's exit code: the one it recorded, else (a lease an older Gantry wrote) its verdict's. */
export function exitCodeOf(state: RolloutState | undefined): 0 | 1 | 3 | 4 {
  if (state?.exitCode !== undefined) return state.exitCode;
  if (state?.verdict === 'promoted') return 0;
  if (state?.verdict === 'rolled-back') return 1;
  return 3;
}

/** The rollout is at work: a live run holds its lease. */
export function inProgress(observed: Observed): boolean {
  return observed.held && !observed.stale;
}

/** The run ended: the lease is free and its state says done. */
export function finished(observed: Observed): boolean {
  return !observed.held && observed.state?.phase === 'done';
}

/** The changes from `before` (undefined: the watch just began) to `after`, in the order they happened. */
export function changesBetween(before: Observed | undefined, after: Observed): Change[] {
  const state = after.state;
  if (!before) return [{ kind: 'current', message: describe(after) }];
  if (after.stale && !before.stale && after.held) {
    return [
      {
        kind: 'orphaned',
        message: `run ${after.holder} stopped renewing its lease: the rollout is orphaned (gantry abort rolls it back)`,
      },
    ];
  }
  if (!inProgress(after)) {
    if (inProgress(before) && finished(after)) return [doneChange(state)];
    return [];
  }
  const was = inProgress(before) && before.holder === after.holder ? before.state : undefined;
  const changes: Change[] = [];
  if (!was) changes.push({ kind: 'started', message: startedMessage(after) });
  if (!state) return changes;
  if (was && (was.step !== state.step || was.weight !== state.weight)) {
    changes.push({ kind: 'step', message: stepMessage(state) });
  }
  if (was && was.phase !== state.phase) changes.push({ kind: 'phase', message: phaseMessage(was, state) });
  if (state.checks && !sameChecks(was?.checks, state.checks)) {
    changes.push({ kind: 'checks', checks: state.checks, message: checksMessage(state.checks) });
  }
  return changes;
}

/** The line for a Kubernetes Event of the rollout. */
export function eventChange(event: { reason?: string; type?: string; message?: string }): Change {
  const warning = event.type === 'Warning' ? 'warning: ' : '';
  return {
    kind: 'event',
    reason: event.reason ?? '',
    type: event.type ?? 'Normal',
    message: `${warning}${event.reason ?? 'Event'}: ${event.message ?? ''}`,
  };
}

/** A change stamped: the time it was seen and where the rollout stood. */
export function lineOf(
  change: Change,
  observed: Observed,
  target: { namespace: string; name: string },
  at: Date,
): WatchLine {
  const state = observed.state;
  const live = observed.held && state !== undefined;
  return {
    at: at.toISOString(),
    ...target,
    runId: observed.holder,
    phase: phaseOf(observed),
    step: live ? state.step + 1 : null,
    steps: live ? (state.steps ?? null) : null,
    weight: live ? state.weight : null,
    ...change,
  };
}

/** `2026-12-07T11:50:01.123Z shop/web: step 2/3: 25% of traffic to the new version`. */
export function formatLine(line: WatchLine): string {
  return `${line.at} ${line.namespace}/${line.name}: ${line.message}`;
}

function phaseOf(observed: Observed): WatchLine['phase'] {
  if (!observed.held) return 'idle';
  if (observed.stale) return 'orphaned';
  return observed.state?.phase ?? 'progressing';
}

function doneChange(state: RolloutState | undefined): Change {
  const exitCode = exitCodeOf(state);
  const verdict = state?.verdict ?? null;
  return {
    kind: 'done',
    verdict,
    exitCode,
    message: `${verdict ?? 'ended'}${state?.reason ? `: ${state.reason}` : ''} (exit code ${exitCode})`,
  };
}

/** The state when the watch begins, in a sentence. */
function describe(observed: Observed): string {
  const state = observed.state;
  if (!observed.held) {
    if (state?.phase === 'done') {
      const last = `${state.verdict ?? 'ended'}${state.reason ? `: ${state.reason}` : ''}`;
      return `idle; the last rollout (run ${state.runId}, ${state.image}) ${last}`;
    }
    return 'idle: no rollout in progress';
  }
  if (observed.stale) return `orphaned: run ${observed.holder} stopped renewing its lease`;
  if (!state) return `progressing (run ${observed.holder})`;
  const gate = state.phase === 'waiting' ? `, ${gateText(state)}` : '';
  return `${phaseWord(state.phase)} at ${position(state)} (run ${observed.holder}, ${state.strategy} rollout of ${state.image})${gate}`;
}

function startedMessage(observed: Observed): string {
  const state = observed.state;
  if (!state) return `run ${observed.holder} started`;
  return `run ${observed.holder} started: ${state.strategy} rollout of ${state.image}${state.previousImage ? ` (previous: ${state.previousImage})` : ''}`;
}

function stepMessage(state: RolloutState): string {
  return `${position(state)}: ${state.weight}% of traffic to the new version`;
}

function phaseMessage(was: RolloutState, state: RolloutState): string {
  switch (state.phase) {
    case 'waiting':
      return state.gate?.hook
        ? `waiting for the ${state.gate.hook} hooks (or gantry promote); ${gateText(state)}`
        : `waiting at ${position(state)} for gantry promote; ${gateText(state)}`;
    case 'promoting':
      return 'all steps passed: promoting the new version';
    case 'rolling-back':
      return 'rolling back';
    case 'progressing':
      if (was.phase !== 'waiting') return 'progressing';
      return was.gate?.hook
        ? `${was.gate.hook} confirmed: going on`
        : `gate of ${position(was)} released: going on`;
    default:
      return state.phase;
  }
}

function gateText(state: RolloutState): string {
  if (!state.gate) return 'no timeout recorded';
  const then = state.gate.onTimeout === 'promote' ? 'goes on as if promoted' : 'rolls back';
  return `without a decision by ${state.gate.timeoutAt} it ${then}`;
}

function checksMessage(checks: NonNullable<RolloutState['checks']>): string {
  const last = checks.last;
  const value = last.value === null ? 'no data' : String(last.value);
  const mark = last.result === 'pass' ? 'ok' : last.result === 'fail' ? 'FAIL' : 'n/a';
  return `checks of step ${checks.step + 1}: ${checks.pass} passed, ${checks.fail} failed, ${checks.inconclusive} inconclusive; last: ${last.metric} = ${value} ${mark} (${last.message})`;
}

function sameChecks(a: RolloutState['checks'], b: RolloutState['checks']): boolean {
  return (
    a?.step === b?.step &&
    a?.pass === b?.pass &&
    a?.fail === b?.fail &&
    a?.inconclusive === b?.inconclusive &&
    a?.last.at === b?.last.at &&
    a?.last.metric === b?.last.metric
  );
}

function position(state: RolloutState): string {
  return `step ${state.step + 1}${state.steps ? `/${state.steps}` : ''}`;
}

function phaseWord(phase: RolloutState['phase']): string {
  return phase === 'waiting' ? 'waiting for promote' : phase;
}
