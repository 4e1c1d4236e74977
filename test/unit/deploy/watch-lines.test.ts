import { describe, expect, it } from 'vitest';
import { type CheckTally, type RolloutState, tallyCheck } from '../../../src/deploy/lease.js';
import type { Check } from '../../../src/deploy/types.js';
import {
  type Change,
  changesBetween,
  eventChange,
  exitCodeOf,
  formatLine,
  lineOf,
  type Observed,
} from '../../../src/deploy/watch-lines.js';

// `gantry status --watch`, the pure part: two observations of a rollout's Lease → the lines between them.
// (Against a real API server with a real rollout in another process: test/integration/status-watch.test.ts.)

function state(extra: Partial<RolloutState> = {}): RolloutState {
  return {
    runId: 'run-a',
    phase: 'progressing',
    strategy: 'canary',
    router: 'replicas',
    step: 0,
    weight: 10,
    steps: 3,
    image: 'registry.test/web@sha256:2',
    previousImage: 'registry.test/web@sha256:1',
    startedAt: '2026-12-07T12:00:00.000Z',
    updatedAt: '2026-12-07T12:00:05.000Z',
    ...extra,
  };
}

/** A live run holding the lease. */
const live = (extra: Partial<RolloutState> = {}): Observed => ({
  held: true,
  stale: false,
  holder: extra.runId ?? 'run-a',
  state: state(extra),
});
/** The lease released by the run that ended. */
const released = (extra: Partial<RolloutState> = {}): Observed => ({
  held: false,
  stale: false,
  holder: 'run-a',
  state: state({ phase: 'done', ...extra }),
});
const idle: Observed = { held: false, stale: false, holder: null, state: undefined };
const tally = (step: number, pass: number, fail = 0, at = `t${pass + fail}`): CheckTally => ({
  step,
  pass,
  fail,
  inconclusive: 0,
  last: {
    metric: 'error-rate',
    value: fail ? 0.4 : 0.01,
    result: fail ? 'fail' : 'pass',
    message: fail ? '0.4 > max 0.05' : '0.01 ≤ max 0.05',
    at,
  },
});

describe('changesBetween: two observations of the lease → the lines between them', () => {
  it.each<{ name: string; before: Observed | undefined; after: Observed; changes: Change[] }>([
    {
      name: 'the first observation of a live run: where it stands',
      before: undefined,
      after: live({ step: 1, weight: 25 }),
      changes: [
        {
          kind: 'current',
          message: 'progressing at step 2/3 (run run-a, canary rollout of registry.test/web@sha256:2)',
        },
      ],
    },
    {
      name: 'the first observation with nothing in progress and no lease',
      before: undefined,
      after: idle,
      changes: [{ kind: 'current', message: 'idle: no rollout in progress' }],
    },
    {
      name: 'the first observation after a finished run: its verdict',
      before: undefined,
      after: released({ verdict: 'promoted', reason: 'all 3 steps passed' }),
      changes: [
        {
          kind: 'current',
          message:
            'idle; the last rollout (run run-a, registry.test/web@sha256:2) promoted: all 3 steps passed',
        },
      ],
    },
    {
      name: 'the first observation of a gate: until when, and what then',
      before: undefined,
      after: live({
        phase: 'waiting',
        gate: { since: 'a', timeoutAt: '2026-12-07T12:30:00.000Z', onTimeout: 'rollback' },
      }),
      changes: [
        {
          kind: 'current',
          message:
            'waiting for promote at step 1/3 (run run-a, canary rollout of registry.test/web@sha256:2), without a decision by 2026-12-07T12:30:00.000Z it rolls back',
        },
      ],
    },
    {
      name: 'a run takes a free lease: it started (at the step it records)',
      before: released({ runId: 'run-0', verdict: 'promoted' }),
      after: live({ step: 0, weight: 0, steps: undefined }),
      changes: [
        {
          kind: 'started',
          message:
            'run run-a started: canary rollout of registry.test/web@sha256:2 (previous: registry.test/web@sha256:1)',
        },
      ],
    },
    {
      name: 'the next step',
      before: live({ step: 0, weight: 10 }),
      after: live({ step: 1, weight: 25 }),
      changes: [{ kind: 'step', message: 'step 2/3: 25% of traffic to the new version' }],
    },
    {
      name: 'a lease from an older Gantry (no step count)',
      before: live({ step: 0, weight: 10, steps: undefined }),
      after: live({ step: 1, weight: 25, steps: undefined }),
      changes: [{ kind: 'step', message: 'step 2: 25% of traffic to the new version' }],
    },
    {
      name: 'a renewal (only updatedAt and the renew time change): no line',
      before: live({ updatedAt: 'x' }),
      after: live({ updatedAt: 'y' }),
      changes: [],
    },
    {
      name: 'checks came in (noted, carried by a renewal)',
      before: live({ checks: tally(0, 1) }),
      after: live({ checks: tally(0, 2, 1) }),
      changes: [
        {
          kind: 'checks',
          checks: tally(0, 2, 1),
          message:
            'checks of step 1: 2 passed, 1 failed, 0 inconclusive; last: error-rate = 0.4 FAIL (0.4 > max 0.05)',
        },
      ],
    },
    {
      name: 'the same tally again: no line',
      before: live({ checks: tally(0, 2) }),
      after: live({ checks: tally(0, 2) }),
      changes: [],
    },
    {
      name: 'a step and the checks of the step before it, in one write: the step first',
      before: live({ step: 0, weight: 10, checks: tally(0, 1) }),
      after: live({ step: 1, weight: 25, checks: tally(0, 3) }),
      changes: [
        { kind: 'step', message: 'step 2/3: 25% of traffic to the new version' },
        {
          kind: 'checks',
          checks: tally(0, 3),
          message:
            'checks of step 1: 3 passed, 0 failed, 0 inconclusive; last: error-rate = 0.01 ok (0.01 ≤ max 0.05)',
        },
      ],
    },
    {
      name: 'a gate opens',
      before: live({ step: 1, weight: 25 }),
      after: live({
        step: 1,
        weight: 25,
        phase: 'waiting',
        gate: { since: 'a', timeoutAt: '2026-12-07T12:30:00.000Z', onTimeout: 'promote' },
      }),
      changes: [
        {
          kind: 'phase',
          message:
            'waiting at step 2/3 for gantry promote; without a decision by 2026-12-07T12:30:00.000Z it goes on as if promoted',
        },
      ],
    },
    {
      name: 'a confirm gate opens',
      before: live({ step: 2, weight: 50 }),
      after: live({
        step: 2,
        weight: 50,
        phase: 'waiting',
        gate: {
          since: 'a',
          timeoutAt: '2026-12-07T12:30:00.000Z',
          onTimeout: 'rollback',
          id: 9999,
          hook: 'confirm-promotion',
        },
      }),
      changes: [
        {
          kind: 'phase',
          message:
            'waiting for the confirm-promotion hooks (or gantry promote); without a decision by 2026-12-07T12:30:00.000Z it rolls back',
        },
      ],
    },
    {
      name: 'a confirm gate confirmed',
      before: live({
        step: 2,
        weight: 50,
        phase: 'waiting',
        gate: { since: 'a', timeoutAt: 'b', onTimeout: 'rollback', id: 9999, hook: 'confirm-promotion' },
      }),
      after: live({ step: 2, weight: 50 }),
      changes: [{ kind: 'phase', message: 'confirm-promotion confirmed: going on' }],
    },
    {
      name: 'a gate released, and the next step',
      before: live({ step: 1, weight: 25, phase: 'waiting' }),
      after: live({ step: 2, weight: 50 }),
      changes: [
        { kind: 'step', message: 'step 3/3: 50% of traffic to the new version' },
        { kind: 'phase', message: 'gate of step 2/3 released: going on' },
      ],
    },
    {
      name: 'promoting',
      before: live({ step: 2, weight: 50 }),
      after: live({ step: 2, weight: 50, phase: 'promoting' }),
      changes: [{ kind: 'phase', message: 'all steps passed: promoting the new version' }],
    },
    {
      name: 'rolling back',
      before: live({ step: 1, weight: 25 }),
      after: live({ step: 1, weight: 25, phase: 'rolling-back' }),
      changes: [{ kind: 'phase', message: 'rolling back' }],
    },
    {
      name: 'the run releases the lease: done, with the exit code it recorded',
      before: live({ phase: 'rolling-back' }),
      after: released({ verdict: 'failed', reason: 'rollback failed: timed out', exitCode: 4 }),
      changes: [
        {
          kind: 'done',
          verdict: 'failed',
          exitCode: 4,
          message: 'failed: rollback failed: timed out (exit code 4)',
        },
      ],
    },
    {
      name: 'an older Gantry released it (no exit code): the verdict says it',
      before: live(),
      after: released({ verdict: 'rolled-back', reason: 'error-rate 0.4 > max 0.05' }),
      changes: [
        {
          kind: 'done',
          verdict: 'rolled-back',
          exitCode: 1,
          message: 'rolled-back: error-rate 0.4 > max 0.05 (exit code 1)',
        },
      ],
    },
    {
      name: 'the run stops renewing: orphaned',
      before: live(),
      after: { ...live(), stale: true },
      changes: [
        {
          kind: 'orphaned',
          message:
            'run run-a stopped renewing its lease: the rollout is orphaned (gantry abort rolls it back)',
        },
      ],
    },
    {
      name: 'another run takes the lease over: a new run started',
      before: { ...live(), stale: true },
      after: live({ runId: 'run-b', phase: 'rolling-back' }),
      changes: [
        {
          kind: 'started',
          message:
            'run run-b started: canary rollout of registry.test/web@sha256:2 (previous: registry.test/web@sha256:1)',
        },
      ],
    },
    {
      name: 'the lease deleted while nothing ran: no line',
      before: idle,
      after: idle,
      changes: [],
    },
  ])('$name', ({ before, after, changes }) => {
    expect(changesBetween(before, after)).toEqual(changes);
  });
});

describe('exitCodeOf: a finished run’s exit code', () => {
  it.each<[Partial<RolloutState> | undefined, number]>([
    [{ exitCode: 0, verdict: 'promoted' }, 0],
    [{ exitCode: 4, verdict: 'failed' }, 4],
    [{ exitCode: 3, verdict: 'failed' }, 3],
    [{ verdict: 'promoted' }, 0],
    [{ verdict: 'rolled-back' }, 1],
    [{ verdict: 'failed' }, 3],
    [{}, 3],
    [undefined, 3],
  ])('%j → %i', (recorded, code) => {
    expect(exitCodeOf(recorded && state(recorded))).toBe(code);
  });
});

describe('a line: the change stamped with the time and where the rollout stood', () => {
  const target = { namespace: 'shop', name: 'web' };
  const at = new Date('2026-12-07T12:01:02.345Z');

  it('a step: 1-based step, weight, run, and the human form', () => {
    const change = changesBetween(live({ step: 0, weight: 10 }), live({ step: 1, weight: 25 }))[0]!;
    const line = lineOf(change, live({ step: 1, weight: 25 }), target, at);
    expect(line).toEqual({
      at: '2026-12-07T12:01:02.345Z',
      kind: 'step',
      namespace: 'shop',
      name: 'web',
      runId: 'run-a',
      phase: 'progressing',
      step: 2,
      steps: 3,
      weight: 25,
      message: 'step 2/3: 25% of traffic to the new version',
    });
    expect(formatLine(line)).toBe(
      '2026-12-07T12:01:02.345Z shop/web: step 2/3: 25% of traffic to the new version',
    );
    // One JSON object per line: no newline inside.
    expect(JSON.stringify(line)).not.toContain('\n');
  });

  it('done: no step (the lease is free), the verdict and the exit code', () => {
    const after = released({ verdict: 'promoted', reason: 'all steps passed', exitCode: 0 });
    const line = lineOf(changesBetween(live(), after)[0]!, after, target, at);
    expect(line).toMatchObject({
      kind: 'done',
      phase: 'idle',
      runId: 'run-a',
      step: null,
      weight: null,
      verdict: 'promoted',
      exitCode: 0,
    });
  });

  it('an Event of the rollout: its reason and message; a warning says so', () => {
    expect(
      eventChange({ reason: 'RollingBack', type: 'Warning', message: 'error-rate 0.4 > max 0.05 (run a)' }),
    ).toEqual({
      kind: 'event',
      reason: 'RollingBack',
      type: 'Warning',
      message: 'warning: RollingBack: error-rate 0.4 > max 0.05 (run a)',
    });
    expect(eventChange({ reason: 'StepStarted', type: 'Normal', message: 'step 1/3' }).message).toBe(
      'StepStarted: step 1/3',
    );
  });
});

describe('tallyCheck: the checks of the current step as the lease carries them', () => {
  const check = (step: number, result: Check['result'], at: string): Check => ({
    metric: 'error-rate',
    step,
    at,
    value: result === 'inconclusive' ? null : 0.01,
    result,
    message: 'm',
  });

  it('counts by result within a step and starts over at the next', () => {
    let t: CheckTally | undefined;
    t = tallyCheck(t, check(0, 'pass', 'a'));
    t = tallyCheck(t, check(0, 'inconclusive', 'b'));
    t = tallyCheck(t, check(0, 'fail', 'c'));
    expect(t).toEqual({
      step: 0,
      pass: 1,
      fail: 1,
      inconclusive: 1,
      last: { metric: 'error-rate', value: 0.01, result: 'fail', message: 'm', at: 'c' },
    });
    t = tallyCheck(t, check(1, 'pass', 'd'));
    expect(t).toMatchObject({ step: 1, pass: 1, fail: 0, inconclusive: 0, last: { at: 'd' } });
  });
});
