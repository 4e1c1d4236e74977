import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReplicasRouter } from '../../../src/deploy/routers/replicas.js';
import { BlueGreenStrategy } from '../../../src/deploy/strategies/blue-green.js';
import { CanaryStrategy } from '../../../src/deploy/strategies/canary.js';
import { RollingStrategy } from '../../../src/deploy/strategies/rolling.js';
import type { Strategy } from '../../../src/deploy/strategies/types.js';
import { InfraError } from '../../../src/util/errors.js';
import { neverReady, readyAfter, stalledAfter } from './fake-cluster.js';
import { type FakeRouter, type Observed, runRollout, type Setup } from './fake-rollout.js';

// The strategies' decisions, one table each: a row is a scripted run (analysis outcomes per step, what each
// Deployment does after a write, requests the API server refuses, `gantry promote` or an abort at a moment)
// against an in-memory cluster and a fake clock, and everything the strategy did in order: cluster writes,
// router calls, analyses, step results, the outcome and the fake time it took. Every write becomes ready 2 s
// later unless the row says otherwise; steps are 10/25/50 with 60 s pauses, the ready timeout 30 s, the overall
// timeout 5 min, the blue-green delay 2 min. (The same strategies against a real API server:
// test/integration/rollout.test.ts.)

beforeEach(() => {
  // setImmediate stays real: settle() uses it to let the promises run between two timers.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(new Date('2025-06-01T12:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

type Row = [title: string, setup: Setup, expected: Observed];

/** The row's outcome exactly, but for the reason: a substring of it. */
async function expectRow(strategy: Strategy, setup: Setup, expected: Observed) {
  const { extras: _extras, ...observed } = await runRollout(strategy, setup);
  expect(observed).toEqual({ ...expected, reason: expect.stringContaining(expected.reason) });
}

const breach = (atMs: number) => ({ breach: 'error-rate = 0.4 (> max 0.05)', atMs });
const providerDown = (atMs: number) => ({ infrastructure: 'prometheus: connect ECONNREFUSED', atMs });
const sigterm = 'cancelled by SIGTERM';

describe('canary', () => {
  const createCanary = 'apply deploy/web-canary v2 ×2 canary';
  const promote = 'apply deploy/web v2 ×4 stable';
  const restoreStable = 'replace deploy/web v1';
  const takeOut = ['route 0', 'route finalize', 'delete deploy/web-canary'];
  const step = (index: number, weight: number) => [`route ${weight}`, `analyse #${index} canary 60s`];
  const allSteps = [...step(0, 10), ...step(1, 25), ...step(2, 50)];
  const passed = ['10% passed', '25% passed', '50% passed'];

  it.each<Row>([
    [
      'every step passes: promoted, then the canary out of traffic and removed',
      {},
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 3 steps passed; web runs the new version',
        log: [createCanary, 'route reconcile', ...allSteps, promote, ...takeOut],
        steps: passed,
        lastEvent: 'Promoted',
        seconds: 2 + 3 * 60 + 2,
      },
    ],
    [
      'without an analysis every step is a pause',
      { analysis: false },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 3 steps passed',
        log: [createCanary, 'route reconcile', 'route 10', 'route 25', 'route 50', promote, ...takeOut],
        steps: passed,
        lastEvent: 'Promoted',
        seconds: 2 + 3 * 60 + 2,
      },
    ],
    [
      'a breach in step 2 rolls back at once, not at the step end',
      { analysis: { 1: breach(15_000) } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'error-rate = 0.4 (> max 0.05)',
        log: [createCanary, 'route reconcile', ...step(0, 10), ...step(1, 25), ...takeOut],
        steps: ['10% passed', '25% failed'],
        lastEvent: 'RolledBack',
        seconds: 2 + 60 + 15,
      },
    ],
    [
      'a breach in the last step still rolls back',
      { analysis: { 2: breach(59_000) } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'error-rate',
        log: [createCanary, 'route reconcile', ...allSteps, ...takeOut],
        steps: ['10% passed', '25% passed', '50% failed'],
        lastEvent: 'RolledBack',
        seconds: 2 + 120 + 59,
      },
    ],
    [
      'the metrics provider failing is exit 3, after the same rollback',
      { analysis: { 0: providerDown(20_000) } },
      {
        verdict: 'failed',
        exitCode: 3,
        reason: 'prometheus: connect ECONNREFUSED',
        log: [createCanary, 'route reconcile', ...step(0, 10), ...takeOut],
        steps: ['10% failed'],
        lastEvent: 'RolledBack',
        seconds: 2 + 20,
      },
    ],
    [
      'steps 20/60: the canary runs 60% of the stable replicas from the start (3 of 4)',
      { steps: [20, 60] },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 2 steps passed',
        log: [
          'apply deploy/web-canary v2 ×3 canary',
          'route reconcile',
          ...step(0, 20),
          ...step(1, 60),
          promote,
          ...takeOut,
        ],
        steps: ['20% passed', '60% passed'],
        lastEvent: 'Promoted',
        seconds: 2 + 2 * 60 + 2,
      },
    ],
    [
      'a match step: the header to the canary (weight 0), analysed as any step; the next weight replaces it',
      {
        steps: [
          { weight: 0, pause: 60_000, match: { kind: 'header', name: 'x-canary', value: 'always' } },
          25,
        ],
      },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 2 steps passed',
        log: [
          'apply deploy/web-canary v2 ×1 canary',
          'route reconcile',
          'route 0 + header x-canary: always',
          'analyse #0 canary 60s',
          ...step(1, 25),
          promote,
          ...takeOut,
        ],
        steps: ['0% passed', '25% passed'],
        lastEvent: 'Promoted',
        seconds: 2 + 2 * 60 + 2,
      },
    ],
    [
      'a breach in a cookie match step rolls back: routing without the match (route 0), then finalize',
      {
        steps: [{ weight: 0, pause: 60_000, match: { kind: 'cookie', name: 'canary' } }, 25],
        analysis: { 0: breach(15_000) },
      },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'error-rate',
        log: [
          'apply deploy/web-canary v2 ×1 canary',
          'route reconcile',
          'route 0 + cookie canary=always',
          'analyse #0 canary 60s',
          ...takeOut,
        ],
        steps: ['0% failed'],
        lastEvent: 'RolledBack',
        seconds: 2 + 15,
      },
    ],
    [
      'a resumed orphan starts at its step (3: 50%)',
      { startStep: 2 },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 3 steps passed',
        log: [createCanary, 'route reconcile', ...step(2, 50), promote, ...takeOut],
        steps: ['50% passed'],
        lastEvent: 'Promoted',
        seconds: 2 + 60 + 2,
      },
    ],
    [
      '`gantry promote` 10 s into step 2 ends it and skips step 3',
      { promote: { step: 1, afterMs: 10_000 } },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'web runs the new version',
        log: [createCanary, 'route reconcile', ...step(0, 10), ...step(1, 25), promote, ...takeOut],
        steps: ['10% passed', '25% passed'],
        lastEvent: 'Promoted',
        seconds: 2 + 60 + 10 + 2,
      },
    ],
    [
      '`gantry promote` during a pause ends the pause',
      { analysis: false, promote: { step: 0, afterMs: 5_000 } },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'web runs the new version',
        log: [createCanary, 'route reconcile', 'route 10', promote, ...takeOut],
        steps: ['10% passed'],
        lastEvent: 'Promoted',
        seconds: 2 + 5 + 2,
      },
    ],
    [
      '`gantry promote` while the canary starts: no step runs',
      { promote: { afterMs: 1_000 } },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'web runs the new version',
        log: [createCanary, 'route reconcile', promote, ...takeOut],
        steps: [],
        lastEvent: 'Promoted',
        seconds: 2 + 2,
      },
    ],
    [
      '`gantry abort` 20 s into step 2: rolled back with its reason',
      { abort: { step: 1, afterMs: 20_000, reason: 'aborted by `gantry abort`' } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'aborted by `gantry abort`',
        log: [createCanary, 'route reconcile', ...step(0, 10), ...step(1, 25), ...takeOut],
        steps: ['10% passed', '25% aborted'],
        lastEvent: 'RolledBack',
        seconds: 2 + 60 + 20,
      },
    ],
    [
      'SIGTERM during the pause of step 3',
      { analysis: false, abort: { step: 2, afterMs: 30_000, reason: sigterm } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: sigterm,
        log: [createCanary, 'route reconcile', 'route 10', 'route 25', 'route 50', ...takeOut],
        steps: ['10% passed', '25% passed', '50% aborted'],
        lastEvent: 'RolledBack',
        seconds: 2 + 120 + 30,
      },
    ],
    [
      'a lost lease aborts like a cancel (exit 1)',
      { abort: { step: 0, afterMs: 5_000, reason: new InfraError('lost lease gantry-web to run run-2') } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'lost lease gantry-web to run run-2',
        log: [createCanary, 'route reconcile', ...step(0, 10), ...takeOut],
        steps: ['10% aborted'],
        lastEvent: 'RolledBack',
        seconds: 2 + 5,
      },
    ],
    [
      'SIGTERM while the canary starts: taken out before any traffic',
      { deployments: { 'web-canary': [readyAfter(10_000)] }, abort: { afterMs: 4_000, reason: sigterm } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: sigterm,
        log: [createCanary, ...takeOut],
        steps: [],
        lastEvent: 'RolledBack',
        seconds: 4,
      },
    ],
    [
      'canary pods never ready: rolled back after the ready timeout',
      { deployments: { 'web-canary': [neverReady] } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'Deployment web-canary: 0/2 pods ready after 30s (pods never became ready)',
        log: [createCanary, ...takeOut],
        steps: [],
        lastEvent: 'RolledBack',
        seconds: 30,
      },
    ],
    [
      "the canary's progress deadline exceeded: rolled back when Kubernetes says so",
      { deployments: { 'web-canary': [stalledAfter(12_000, 'ReplicaSet "web-canary-7d9" timed out')] } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'Deployment web-canary: ReplicaSet "web-canary-7d9" timed out',
        log: [createCanary, ...takeOut],
        steps: [],
        lastEvent: 'RolledBack',
        seconds: 12,
      },
    ],
    [
      'replica router: the canary starts at 0 replicas and is not waited for',
      { router: 'replicas' },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 3 steps passed',
        log: ['apply deploy/web-canary v2 ×0 canary', 'route reconcile', ...allSteps, promote, ...takeOut],
        steps: passed,
        lastEvent: 'Promoted',
        seconds: 3 * 60 + 2,
      },
    ],
    [
      'replica router, canary refused (HTTP 403): exit 3; weighting the missing canary is nothing to undo',
      {
        router: 'replicas',
        failures: [{ verb: 'apply', kind: 'Deployment', name: 'web-canary', code: 403 }],
      },
      {
        verdict: 'failed',
        exitCode: 3,
        reason: 'HTTP-Code: 403',
        log: [
          'apply deploy/web-canary v2 ×0 canary ✗403',
          'route 0 ✗404',
          'route finalize',
          'delete deploy/web-canary',
        ],
        steps: [],
        lastEvent: 'RolledBack',
        seconds: 0,
      },
    ],
    [
      'first deploy (no stable Deployment): a canary of 1 replica',
      { firstDeploy: true },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 3 steps passed',
        log: ['apply deploy/web-canary v2 ×1 canary', 'route reconcile', ...allSteps, promote, ...takeOut],
        steps: passed,
        lastEvent: 'Promoted',
        seconds: 2 + 3 * 60 + 2,
      },
    ],
    [
      'promotion never ready: the previous template restored, then the canary taken out',
      { deployments: { web: [neverReady] } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'promotion failed: Deployment web: 0/4 pods ready after 30s',
        log: [createCanary, 'route reconcile', ...allSteps, promote, restoreStable, ...takeOut],
        steps: passed,
        lastEvent: 'RolledBack',
        seconds: 2 + 3 * 60 + 30 + 2,
      },
    ],
    [
      'promotion refused (HTTP 500): restored and taken out, exit 1',
      { failures: [{ verb: 'apply', kind: 'Deployment', name: 'web', code: 500 }] },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'promotion failed: HTTP-Code: 500',
        log: [createCanary, 'route reconcile', ...allSteps, `${promote} ✗500`, restoreStable, ...takeOut],
        steps: passed,
        lastEvent: 'RolledBack',
        seconds: 2 + 3 * 60 + 2,
      },
    ],
    [
      'promotion fails and the restore is refused: exit 4, the canary left as it is',
      {
        deployments: { web: [neverReady] },
        failures: [{ verb: 'replace', kind: 'Deployment', name: 'web', code: 500 }],
      },
      {
        verdict: 'failed',
        exitCode: 4,
        reason: 'promotion failed and the restore too: HTTP-Code: 500',
        log: [createCanary, 'route reconcile', ...allSteps, promote, `${restoreStable} ✗500`],
        steps: passed,
        lastEvent: 'Promoting',
        seconds: 2 + 3 * 60 + 30,
      },
    ],
    [
      'promotion fails and the restored version never becomes ready: exit 4 after the overall timeout',
      { deployments: { web: [neverReady, neverReady] } },
      {
        verdict: 'failed',
        exitCode: 4,
        reason: 'promotion failed and the restore too: Deployment web: 0/4 pods ready after 300s',
        log: [createCanary, 'route reconcile', ...allSteps, promote, restoreStable],
        steps: passed,
        lastEvent: 'Promoting',
        seconds: 2 + 3 * 60 + 30 + 300,
      },
    ],
    [
      'first deploy, promotion never ready: no template to restore, exit 4 after the overall timeout',
      { firstDeploy: true, deployments: { web: [neverReady] } },
      {
        verdict: 'failed',
        exitCode: 4,
        reason: 'promotion failed and the restore too: Deployment web: 0/4 pods ready after 300s',
        log: ['apply deploy/web-canary v2 ×1 canary', 'route reconcile', ...allSteps, promote],
        steps: passed,
        lastEvent: 'Promoting',
        seconds: 2 + 3 * 60 + 30 + 300,
      },
    ],
    [
      'rollback: traffic cannot be taken back (HTTP 503): exit 4, the canary kept',
      { analysis: { 0: breach(10_000) }, routeFailures: { 'route 0': 503 } },
      {
        verdict: 'failed',
        exitCode: 4,
        reason: 'rollback failed: route 0: HTTP 503 (after: error-rate = 0.4 (> max 0.05))',
        log: [createCanary, 'route reconcile', ...step(0, 10), 'route 0 ✗503'],
        steps: ['10% failed'],
        lastEvent: 'RollbackFailed',
        seconds: 2 + 10,
      },
    ],
    [
      'rollback: the canary cannot be deleted (HTTP 500): exit 4',
      {
        analysis: { 0: breach(10_000) },
        failures: [{ verb: 'delete', kind: 'Deployment', name: 'web-canary', code: 500 }],
      },
      {
        verdict: 'failed',
        exitCode: 4,
        reason: 'rollback failed: HTTP-Code: 500',
        log: [
          createCanary,
          'route reconcile',
          ...step(0, 10),
          'route 0',
          'route finalize',
          'delete deploy/web-canary ✗500',
        ],
        steps: ['10% failed'],
        lastEvent: 'RollbackFailed',
        seconds: 2 + 10,
      },
    ],
  ])('%s', async (_title, setup, expected) => {
    await expectRow(new CanaryStrategy(), setup, expected);
  });

  it('routes forward within the ready timeout and the abort signal, back within the overall timeout without it', async () => {
    const { extras } = await runRollout(new CanaryStrategy(), { analysis: { 1: breach(1_000) } });
    expect((extras.router as FakeRouter).calls).toEqual([
      { call: 'route reconcile', timeoutMs: 30_000, signal: true },
      { call: 'route 10', timeoutMs: 30_000, signal: true },
      { call: 'route 25', timeoutMs: 30_000, signal: true },
      { call: 'route 0', timeoutMs: 300_000, signal: false },
      { call: 'route finalize', timeoutMs: 300_000, signal: false },
    ]);
  });

  it('times a rollback from the analysis decision: abort decided, traffic restored, canary removed', async () => {
    const { extras } = await runRollout(new CanaryStrategy(), {
      analysis: { 1: { breach: 'latency', atMs: 15_000 } },
    });
    const at = (seconds: number) =>
      new Date(Date.parse('2025-06-01T12:00:00Z') + seconds * 1000).toISOString();
    expect(extras.recorder.timings).toEqual({
      canaryTrafficStartedAt: at(2),
      abortDecidedAt: at(77),
      trafficRestoredAt: at(77),
      canaryRemovedAt: at(77),
    });
    expect(extras.lease.recorded).toEqual([
      { phase: 'progressing', step: 0, weight: 10, steps: 3 },
      { phase: 'progressing', step: 1, weight: 25, steps: 3 },
      { phase: 'rolling-back' },
    ]);
  });

  it('a failure cleaning up after the promotion rejects run() (the deploy command makes it exit 3)', async () => {
    await expect(
      runRollout(new CanaryStrategy(), {
        failures: [{ verb: 'delete', kind: 'Deployment', name: 'web-canary', code: 500 }],
      }),
    ).rejects.toThrow('HTTP-Code: 500');
  });
});

describe('canary with the real replica router', () => {
  // The replica router moves traffic by scaling the canary (merge patches) and waits for its pods; pods of the
  // new version that never become ready are a bad version (exit 1, rolled back), as with every other router.
  const create = 'apply deploy/web-canary v2 ×0 canary';

  it('every step passes: the canary scaled 1, 1, 4, then promoted and removed', async () => {
    const { extras: _extras, ...observed } = await runRollout(new CanaryStrategy(), {
      realRouter: new ReplicasRouter(),
    });
    expect(observed).toMatchObject({
      verdict: 'promoted',
      exitCode: 0,
      log: [
        create,
        'scale deploy/web-canary ×1',
        'analyse #0 canary 60s',
        'scale deploy/web-canary ×1',
        'analyse #1 canary 60s',
        'scale deploy/web-canary ×4',
        'analyse #2 canary 60s',
        'apply deploy/web v2 ×4 stable',
        'scale deploy/web-canary ×0',
        'delete deploy/web-canary',
      ],
    });
  });

  it('canary pods that never become ready: rolled back (exit 1) after the ready timeout', async () => {
    const { extras: _extras, ...observed } = await runRollout(new CanaryStrategy(), {
      realRouter: new ReplicasRouter(),
      deployments: { 'web-canary': [readyAfter(0), neverReady] },
    });
    expect(observed).toEqual({
      verdict: 'rolled-back',
      exitCode: 1,
      reason: 'Deployment web-canary: 0/1 pods ready after 30s (pods never became ready)',
      log: [create, 'scale deploy/web-canary ×1', 'scale deploy/web-canary ×0', 'delete deploy/web-canary'],
      steps: ['10% failed'],
      lastEvent: 'RolledBack',
      seconds: 30,
    });
  });
});

describe('canary: steps with their own pauses, and gates that wait for `gantry promote`', () => {
  // Steps 10/25/50 again, the middle one either paced on its own or a gate (`pause: until-promoted`); gates time
  // out after 10 min (then roll back, unless the row says promote).
  const createCanary = 'apply deploy/web-canary v2 ×2 canary';
  const promote = 'apply deploy/web v2 ×4 stable';
  const takeOut = ['route 0', 'route finalize', 'delete deploy/web-canary'];
  const step = (index: number, weight: number, seconds = 60) => [
    `route ${weight}`,
    `analyse #${index} canary ${seconds}s`,
  ];
  const gate = (weight: number) => ({ weight, pause: 'gate' as const });
  const gated: Setup = { steps: [10, gate(25), 50] };
  // The analysis of a gate runs for as long as the gate may wait: its timeout.
  const atGate = step(1, 25, 600);
  const passed = ['10% passed', '25% passed', '50% passed'];

  it.each<Row>([
    [
      'each step lasts its own pause (30 s, 2 min, and the default 60 s), analysed all along',
      { steps: [{ weight: 10, pause: 30_000 }, { weight: 25, pause: 120_000 }, 50] },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 3 steps passed',
        log: [
          createCanary,
          'route reconcile',
          ...step(0, 10, 30),
          ...step(1, 25, 120),
          ...step(2, 50),
          promote,
          ...takeOut,
        ],
        steps: passed,
        lastEvent: 'Promoted',
        seconds: 2 + 30 + 120 + 60 + 2,
      },
    ],
    [
      'without an analysis each step is its own pause',
      { analysis: false, steps: [{ weight: 10, pause: 5_000 }, { weight: 25, pause: 0 }, 50] },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 3 steps passed',
        log: [createCanary, 'route reconcile', 'route 10', 'route 25', 'route 50', promote, ...takeOut],
        steps: passed,
        lastEvent: 'Promoted',
        seconds: 2 + 5 + 0 + 60 + 2,
      },
    ],
    [
      'a gate holds its weight until `gantry promote` (7 min in), then the next step runs in full',
      { ...gated, promote: { step: 1, afterMs: 420_000 } },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 3 steps passed',
        log: [
          createCanary,
          'route reconcile',
          ...step(0, 10),
          ...atGate,
          ...step(2, 50),
          promote,
          ...takeOut,
        ],
        steps: passed,
        lastEvent: 'Promoted',
        seconds: 2 + 60 + 420 + 60 + 2,
      },
    ],
    [
      'a gate without an analysis is held the same way',
      { ...gated, analysis: false, promote: { step: 1, afterMs: 420_000 } },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 3 steps passed',
        log: [createCanary, 'route reconcile', 'route 10', 'route 25', 'route 50', promote, ...takeOut],
        steps: passed,
        lastEvent: 'Promoted',
        seconds: 2 + 60 + 420 + 60 + 2,
      },
    ],
    [
      'nobody decides: the gate times out after 10 min and the canary is rolled back (exit 1)',
      gated,
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'nobody promoted step 2/3 (25%) within the gate timeout (10m)',
        log: [createCanary, 'route reconcile', ...step(0, 10), ...atGate, ...takeOut],
        steps: ['10% passed', '25% failed'],
        lastEvent: 'RolledBack',
        seconds: 2 + 60 + 600,
      },
    ],
    [
      'nobody decides, on-gate-timeout promote: after 10 min the rollout goes on as if promoted',
      { ...gated, onGateTimeout: 'promote' },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 3 steps passed',
        log: [
          createCanary,
          'route reconcile',
          ...step(0, 10),
          ...atGate,
          ...step(2, 50),
          promote,
          ...takeOut,
        ],
        steps: passed,
        lastEvent: 'Promoted',
        seconds: 2 + 60 + 600 + 60 + 2,
      },
    ],
    [
      '`gantry abort` at a gate rolls back at once',
      { ...gated, abort: { step: 1, afterMs: 180_000, reason: 'aborted by `gantry abort`' } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'aborted by `gantry abort`',
        log: [createCanary, 'route reconcile', ...step(0, 10), ...atGate, ...takeOut],
        steps: ['10% passed', '25% aborted'],
        lastEvent: 'RolledBack',
        seconds: 2 + 60 + 180,
      },
    ],
    [
      'a breach while the gate waits rolls back at once: the analysis keeps judging during the hold',
      { ...gated, analysis: { 1: breach(200_000) } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'error-rate = 0.4 (> max 0.05)',
        log: [createCanary, 'route reconcile', ...step(0, 10), ...atGate, ...takeOut],
        steps: ['10% passed', '25% failed'],
        lastEvent: 'RolledBack',
        seconds: 2 + 60 + 200,
      },
    ],
    [
      'SIGTERM (a cancelled job) at a gate rolls back',
      { ...gated, abort: { step: 1, afterMs: 30_000, reason: sigterm } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: sigterm,
        log: [createCanary, 'route reconcile', ...step(0, 10), ...atGate, ...takeOut],
        steps: ['10% passed', '25% aborted'],
        lastEvent: 'RolledBack',
        seconds: 2 + 60 + 30,
      },
    ],
    [
      '`gantry promote` before the gate keeps its meaning: the step ends and the rest, gate included, is skipped',
      { ...gated, promote: { step: 0, afterMs: 10_000 } },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'web runs the new version',
        log: [createCanary, 'route reconcile', ...step(0, 10), promote, ...takeOut],
        steps: ['10% passed'],
        lastEvent: 'Promoted',
        seconds: 2 + 10 + 2,
      },
    ],
    [
      '`gantry promote` after a released gate promotes now: 30 s into step 3',
      {
        ...gated,
        promote: [
          { step: 1, afterMs: 60_000 },
          { step: 2, afterMs: 30_000 },
        ],
      },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'web runs the new version',
        log: [
          createCanary,
          'route reconcile',
          ...step(0, 10),
          ...atGate,
          ...step(2, 50),
          promote,
          ...takeOut,
        ],
        steps: passed,
        lastEvent: 'Promoted',
        seconds: 2 + 60 + 60 + 30 + 2,
      },
    ],
    [
      'a promote sent for a gate that already timed out (and went on) is ignored, not taken as promote now',
      { ...gated, onGateTimeout: 'promote', promote: { step: 2, afterMs: 5_000, forGate: 1 } },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 3 steps passed',
        log: [
          createCanary,
          'route reconcile',
          ...step(0, 10),
          ...atGate,
          ...step(2, 50),
          promote,
          ...takeOut,
        ],
        steps: passed,
        lastEvent: 'Promoted',
        seconds: 2 + 60 + 600 + 60 + 2,
      },
    ],
    [
      'two gates: each promote releases one',
      {
        steps: [gate(10), gate(25), 50],
        promote: [
          { step: 0, afterMs: 120_000, forGate: 0 },
          { step: 1, afterMs: 240_000, forGate: 1 },
        ],
      },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 3 steps passed',
        log: [
          createCanary,
          'route reconcile',
          ...step(0, 10, 600),
          ...atGate,
          ...step(2, 50),
          promote,
          ...takeOut,
        ],
        steps: passed,
        lastEvent: 'Promoted',
        seconds: 2 + 120 + 240 + 60 + 2,
      },
    ],
    [
      'a gate as the last step: its promote promotes',
      { steps: [10, gate(50)], promote: { step: 1, afterMs: 90_000 } },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 2 steps passed',
        log: [createCanary, 'route reconcile', ...step(0, 10), ...step(1, 50, 600), promote, ...takeOut],
        steps: ['10% passed', '50% passed'],
        lastEvent: 'Promoted',
        seconds: 2 + 60 + 90 + 2,
      },
    ],
    [
      'a resumed orphan that was waiting at its gate waits there again',
      { ...gated, startStep: 1, promote: { step: 1, afterMs: 45_000 } },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'all 3 steps passed',
        log: [createCanary, 'route reconcile', ...atGate, ...step(2, 50), promote, ...takeOut],
        steps: ['25% passed', '50% passed'],
        lastEvent: 'Promoted',
        seconds: 2 + 45 + 60 + 2,
      },
    ],
  ])('%s', async (_title, setup, expected) => {
    await expectRow(new CanaryStrategy(), setup, expected);
  });

  it('a promote that came while the gate step was still routing promotes now: the gate does not hold', async () => {
    // The replica router waits for the canary's pods (ready 2 s after each write): the promote arrives 1 s in,
    // before the gate opened, so it is a promote now.
    const { extras: _extras, ...observed } = await runRollout(new CanaryStrategy(), {
      realRouter: new ReplicasRouter(),
      steps: [gate(10), 50],
      promote: { step: 0, afterMs: 1_000 },
    });
    expect(observed).toEqual({
      verdict: 'promoted',
      exitCode: 0,
      reason: 'all 2 steps passed; web runs the new version',
      log: [
        'apply deploy/web-canary v2 ×0 canary',
        'scale deploy/web-canary ×1',
        'analyse #0 canary 600s',
        promote,
        'scale deploy/web-canary ×0',
        'delete deploy/web-canary',
      ],
      steps: ['10% passed'],
      lastEvent: 'Promoted',
      seconds: 2 + 2,
    });
  });

  it('records the wait on the lease, says in the log what to run, and emits an event for each decision', async () => {
    const { extras } = await runRollout(new CanaryStrategy(), {
      ...gated,
      promote: { step: 1, afterMs: 420_000 },
    });
    const at = (seconds: number) =>
      new Date(Date.parse('2025-06-01T12:00:00Z') + seconds * 1000).toISOString();
    expect(extras.lease.recorded).toEqual([
      { phase: 'progressing', step: 0, weight: 10, steps: 3 },
      { phase: 'progressing', step: 1, weight: 25, steps: 3 },
      { phase: 'waiting', gate: { since: at(62), timeoutAt: at(662), onTimeout: 'rollback' } },
      { phase: 'progressing', step: 2, weight: 50, steps: 3 },
      { phase: 'promoting' },
    ]);
    expect(extras.recorder.lines).toContain(
      'step 2/3 waits at 25% for a person: run `gantry promote --name web --namespace shop` to continue, ' +
        '`gantry abort --name web --namespace shop` to roll back; without either within 10m ' +
        `(at ${at(662)}) it rolls back`,
    );
    expect(extras.recorder.lines).toContain('step 2/3: released by `gantry promote` after 7m');
    expect(extras.events.emitted.map((event) => event.reason)).toEqual([
      'CanaryStarted',
      'StepStarted',
      'StepStarted',
      'WaitingForPromote',
      'GateReleased',
      'StepStarted',
      'Promoting',
      'Promoted',
    ]);
  });

  it('a gate that times out and goes on says so, with a warning event', async () => {
    const { extras } = await runRollout(new CanaryStrategy(), { ...gated, onGateTimeout: 'promote' });
    expect(extras.recorder.lines).toContain(
      'step 2/3: nobody decided within 10m; going on as if promoted (on-gate-timeout)',
    );
    expect(extras.events.emitted).toContainEqual(
      expect.objectContaining({ reason: 'GateTimedOut', type: 'Warning' }),
    );
  });
});

describe('blue-green', () => {
  const createPreview = ['apply deploy/web-preview v2 ×4 preview', 'apply svc/web-preview → preview'];
  const analysePreview = 'analyse #0 preview 60s';
  const analyseAfterSwitch = 'analyse #1 preview 120s';
  const switchToPreview = 'apply svc/web → preview';
  const switchToStable = 'apply svc/web → stable';
  const promote = 'apply deploy/web v2 ×4 stable';
  const restoreStable = 'replace deploy/web v1';
  const removePreview = ['delete svc/web-preview', 'delete deploy/web-preview'];
  const bySelector: Setup = { router: 'replicas' };

  it.each<Row>([
    [
      'selector switch: the preview analysed, switched to, kept under analysis for the delay, then promoted',
      bySelector,
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'preview and post-switch analysis passed; web runs the new version',
        log: [
          ...createPreview,
          analysePreview,
          switchToPreview,
          analyseAfterSwitch,
          promote,
          switchToStable,
          ...removePreview,
        ],
        steps: ['0% passed', '100% passed'],
        lastEvent: 'Promoted',
        seconds: 2 + 60 + 120 + 2,
      },
    ],
    [
      'route switch (gateway-api): 100% to the preview, back to 0 after the promotion, routing finalized',
      {},
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'preview and post-switch analysis passed',
        log: [
          ...createPreview,
          'route reconcile',
          analysePreview,
          'route 100',
          analyseAfterSwitch,
          promote,
          'route 0',
          'route finalize',
          'delete deploy/web-preview',
        ],
        steps: ['0% passed', '100% passed'],
        lastEvent: 'Promoted',
        seconds: 2 + 60 + 120 + 2,
      },
    ],
    [
      'without an analysis: a pause before the switch, the delay after it',
      { ...bySelector, analysis: false },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'web runs the new version',
        log: [...createPreview, switchToPreview, promote, switchToStable, ...removePreview],
        steps: ['0% passed', '100% passed'],
        lastEvent: 'Promoted',
        seconds: 2 + 60 + 120 + 2,
      },
    ],
    [
      'a breach on the preview: never switched, the preview removed',
      { ...bySelector, analysis: { 0: breach(20_000) } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'error-rate = 0.4 (> max 0.05)',
        log: [...createPreview, analysePreview, switchToStable, ...removePreview],
        steps: ['0% failed'],
        lastEvent: 'RolledBack',
        seconds: 2 + 20,
      },
    ],
    [
      'a breach after the switch: switched straight back',
      { ...bySelector, analysis: { 1: breach(45_000) } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'error-rate = 0.4 (> max 0.05)',
        log: [
          ...createPreview,
          analysePreview,
          switchToPreview,
          analyseAfterSwitch,
          switchToStable,
          ...removePreview,
        ],
        steps: ['0% passed', '100% failed'],
        lastEvent: 'RolledBack',
        seconds: 2 + 60 + 45,
      },
    ],
    [
      'a breach after the switch (gateway-api): weight back to 0, routing finalized',
      { analysis: { 1: breach(45_000) } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'error-rate',
        log: [
          ...createPreview,
          'route reconcile',
          analysePreview,
          'route 100',
          analyseAfterSwitch,
          'route 0',
          'route finalize',
          'delete deploy/web-preview',
        ],
        steps: ['0% passed', '100% failed'],
        lastEvent: 'RolledBack',
        seconds: 2 + 60 + 45,
      },
    ],
    [
      'the metrics provider failing after the switch: switched back, exit 3',
      { ...bySelector, analysis: { 1: providerDown(30_000) } },
      {
        verdict: 'failed',
        exitCode: 3,
        reason: 'prometheus: connect ECONNREFUSED',
        log: [
          ...createPreview,
          analysePreview,
          switchToPreview,
          analyseAfterSwitch,
          switchToStable,
          ...removePreview,
        ],
        steps: ['0% passed', '100% failed'],
        lastEvent: 'RolledBack',
        seconds: 2 + 60 + 30,
      },
    ],
    [
      'preview pods never ready: never switched',
      { ...bySelector, deployments: { 'web-preview': [neverReady] } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'Deployment web-preview: 0/4 pods ready after 30s (pods never became ready)',
        log: [...createPreview, switchToStable, ...removePreview],
        steps: [],
        lastEvent: 'RolledBack',
        seconds: 30,
      },
    ],
    [
      'SIGTERM during the delay: switched back',
      { ...bySelector, abort: { step: 1, afterMs: 60_000, reason: sigterm } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: sigterm,
        log: [
          ...createPreview,
          analysePreview,
          switchToPreview,
          analyseAfterSwitch,
          switchToStable,
          ...removePreview,
        ],
        steps: ['0% passed', '100% aborted'],
        lastEvent: 'RolledBack',
        seconds: 2 + 60 + 60,
      },
    ],
    [
      '`gantry promote` does not shorten the preview analysis or the delay',
      { ...bySelector, promote: { step: 0, afterMs: 10_000 } },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'web runs the new version',
        log: [
          ...createPreview,
          analysePreview,
          switchToPreview,
          analyseAfterSwitch,
          promote,
          switchToStable,
          ...removePreview,
        ],
        steps: ['0% passed', '100% passed'],
        lastEvent: 'Promoted',
        seconds: 2 + 60 + 120 + 2,
      },
    ],
    [
      'promotion never ready: the previous template restored, switched back, the preview removed',
      { ...bySelector, deployments: { web: [neverReady] } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'promotion failed: Deployment web: 0/4 pods ready after 30s',
        log: [
          ...createPreview,
          analysePreview,
          switchToPreview,
          analyseAfterSwitch,
          promote,
          restoreStable,
          switchToStable,
          ...removePreview,
        ],
        steps: ['0% passed', '100% passed'],
        lastEvent: 'RolledBack',
        seconds: 2 + 60 + 120 + 30 + 2,
      },
    ],
    [
      'promotion never ready (gateway-api): weight back to 0 and the routing finalized (nothing left behind)',
      { deployments: { web: [neverReady] } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'promotion failed',
        log: [
          ...createPreview,
          'route reconcile',
          analysePreview,
          'route 100',
          analyseAfterSwitch,
          promote,
          restoreStable,
          'route 0',
          'route finalize',
          'delete deploy/web-preview',
        ],
        steps: ['0% passed', '100% passed'],
        lastEvent: 'RolledBack',
        seconds: 2 + 60 + 120 + 30 + 2,
      },
    ],
    [
      'promotion fails and the restore is refused: exit 4, traffic left on the preview',
      {
        ...bySelector,
        deployments: { web: [neverReady] },
        failures: [{ verb: 'replace', kind: 'Deployment', name: 'web', code: 500 }],
      },
      {
        verdict: 'failed',
        exitCode: 4,
        reason: 'promotion failed and the restore too: HTTP-Code: 500',
        log: [
          ...createPreview,
          analysePreview,
          switchToPreview,
          analyseAfterSwitch,
          promote,
          `${restoreStable} ✗500`,
        ],
        steps: ['0% passed', '100% passed'],
        lastEvent: 'Switched',
        seconds: 2 + 60 + 120 + 30,
      },
    ],
    [
      'switching back refused (HTTP 500) after a breach: exit 4, the preview kept',
      {
        ...bySelector,
        analysis: { 1: breach(10_000) },
        failures: [{ verb: 'apply', kind: 'Service', name: 'web', code: 500, skip: 1 }],
      },
      {
        verdict: 'failed',
        exitCode: 4,
        reason: 'rollback failed: HTTP-Code: 500',
        log: [
          ...createPreview,
          analysePreview,
          switchToPreview,
          analyseAfterSwitch,
          `${switchToStable} ✗500`,
        ],
        steps: ['0% passed', '100% failed'],
        lastEvent: 'RollbackFailed',
        seconds: 2 + 60 + 10,
      },
    ],
    [
      'first deploy (no stable Deployment): a preview of 1 replica',
      { ...bySelector, firstDeploy: true },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'web runs the new version',
        log: [
          'apply deploy/web-preview v2 ×1 preview',
          'apply svc/web-preview → preview',
          analysePreview,
          switchToPreview,
          analyseAfterSwitch,
          promote,
          switchToStable,
          ...removePreview,
        ],
        steps: ['0% passed', '100% passed'],
        lastEvent: 'Promoted',
        seconds: 2 + 60 + 120 + 2,
      },
    ],
  ])('%s', async (_title, setup, expected) => {
    await expectRow(new BlueGreenStrategy(), setup, expected);
  });
});

describe('rolling without an analysis (no verification window)', () => {
  const update = 'apply deploy/web v2 ×4 stable';
  const restore = 'replace deploy/web v1';

  it.each<Row>([
    [
      'every replica updated and ready: promoted',
      {},
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'web rolled out: every replica updated and ready',
        log: [update],
        steps: ['100% passed'],
        lastEvent: 'Promoted',
        seconds: 2,
      },
    ],
    [
      'ready just inside the ready timeout: promoted',
      { deployments: { web: [readyAfter(29_000)] } },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'web rolled out',
        log: [update],
        steps: ['100% passed'],
        lastEvent: 'Promoted',
        seconds: 29,
      },
    ],
    [
      'slower than the ready timeout: the previous template restored',
      { deployments: { web: [readyAfter(45_000)] } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'Deployment web: 0/4 pods ready after 30s (pods never became ready)',
        log: [update, restore],
        steps: ['100% failed'],
        lastEvent: 'RolledBack',
        seconds: 30 + 2,
      },
    ],
    [
      'pods never ready: the previous template restored',
      { deployments: { web: [neverReady] } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'Deployment web: 0/4 pods ready after 30s (pods never became ready)',
        log: [update, restore],
        steps: ['100% failed'],
        lastEvent: 'RolledBack',
        seconds: 30 + 2,
      },
    ],
    [
      'progress deadline exceeded: restored when Kubernetes says so',
      { deployments: { web: [stalledAfter(12_000, 'ReplicaSet "web-7c9" has timed out progressing.')] } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'Deployment web: ReplicaSet "web-7c9" has timed out progressing.',
        log: [update, restore],
        steps: ['100% failed'],
        lastEvent: 'RolledBack',
        seconds: 12 + 2,
      },
    ],
    [
      'update refused (HTTP 500): restored all the same, exit 3',
      { failures: [{ verb: 'apply', kind: 'Deployment', name: 'web', code: 500 }] },
      {
        verdict: 'rolled-back',
        exitCode: 3,
        reason: 'HTTP-Code: 500',
        log: [`${update} ✗500`, restore],
        steps: ['100% failed'],
        lastEvent: 'RolledBack',
        seconds: 2,
      },
    ],
    [
      'SIGTERM during the update: restored',
      { deployments: { web: [readyAfter(60_000)] }, abort: { step: 0, afterMs: 10_000, reason: sigterm } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: sigterm,
        log: [update, restore],
        steps: ['100% aborted'],
        lastEvent: 'RolledBack',
        seconds: 10 + 2,
      },
    ],
    [
      'the restore conflicts twice (HTTP 409), then goes through',
      {
        deployments: { web: [neverReady] },
        failures: [{ verb: 'replace', kind: 'Deployment', name: 'web', code: 409, times: 2 }],
      },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'pods never became ready',
        log: [update, `${restore} ✗409`, `${restore} ✗409`, restore],
        steps: ['100% failed'],
        lastEvent: 'RolledBack',
        seconds: 30 + 2,
      },
    ],
    [
      'the restore conflicts five times: exit 4',
      {
        deployments: { web: [neverReady] },
        failures: [{ verb: 'replace', kind: 'Deployment', name: 'web', code: 409 }],
      },
      {
        verdict: 'failed',
        exitCode: 4,
        reason: 'rollback failed: HTTP-Code: 409',
        log: [update, ...Array(5).fill(`${restore} ✗409`)],
        steps: ['100% failed'],
        lastEvent: 'RollingBack',
        seconds: 30,
      },
    ],
    [
      'the restore refused (HTTP 500): exit 4',
      {
        deployments: { web: [neverReady] },
        failures: [{ verb: 'replace', kind: 'Deployment', name: 'web', code: 500 }],
      },
      {
        verdict: 'failed',
        exitCode: 4,
        reason: 'rollback failed: HTTP-Code: 500',
        log: [update, `${restore} ✗500`],
        steps: ['100% failed'],
        lastEvent: 'RollingBack',
        seconds: 30,
      },
    ],
    [
      'the restored version never ready either: exit 4 after the overall timeout',
      { deployments: { web: [neverReady, neverReady] } },
      {
        verdict: 'failed',
        exitCode: 4,
        reason: 'rollback failed: Deployment web: 0/4 pods ready after 300s (pods never became ready)',
        log: [update, restore],
        steps: ['100% failed'],
        lastEvent: 'RollingBack',
        seconds: 30 + 300,
      },
    ],
    [
      'first deploy: promoted',
      { firstDeploy: true },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'web rolled out',
        log: [update],
        steps: ['100% passed'],
        lastEvent: 'Promoted',
        seconds: 2,
      },
    ],
    [
      'first deploy never ready: no previous revision to return to',
      { firstDeploy: true, deployments: { web: [neverReady] } },
      {
        verdict: 'failed',
        exitCode: 1,
        reason: 'pods never became ready); no previous revision to return to',
        log: [update],
        steps: ['100% failed'],
        lastEvent: undefined,
        seconds: 30,
      },
    ],
    [
      'first deploy refused (HTTP 500): exit 3',
      { firstDeploy: true, failures: [{ verb: 'apply', kind: 'Deployment', name: 'web', code: 500 }] },
      {
        verdict: 'failed',
        exitCode: 3,
        reason: 'no previous revision to return to',
        log: [`${update} ✗500`],
        steps: ['100% failed'],
        lastEvent: undefined,
        seconds: 0,
      },
    ],
  ])('%s', async (_title, setup, expected) => {
    await expectRow(new RollingStrategy(), { analysis: false, ...setup }, expected);
  });
});

describe('rolling with an analysis', () => {
  // Step 1 is the update, analysed until every replica is ready (for at most the 30 s ready timeout); step 2 the
  // verification window (the 60 s pause). The new pods are the stable Deployment's: the `stable` track.
  const update = 'apply deploy/web v2 ×4 stable';
  const restore = 'replace deploy/web v1';
  const analyseUpdate = 'analyse #0 stable 30s';
  const verify = 'analyse #1 stable 60s';

  it.each<Row>([
    [
      'the update and the verification window pass: promoted after the window',
      {},
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'web rolled out and verified for 60s',
        log: [update, analyseUpdate, verify],
        steps: ['100% passed', '100% passed'],
        lastEvent: 'Promoted',
        seconds: 2 + 60,
      },
    ],
    [
      'a breach during the update: the wait stops at once, the previous template restored',
      { analysis: { 0: breach(5_000) }, deployments: { web: [readyAfter(20_000)] } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'error-rate = 0.4 (> max 0.05)',
        log: [update, analyseUpdate, restore],
        steps: ['100% failed'],
        lastEvent: 'RolledBack',
        seconds: 5 + 2,
      },
    ],
    [
      'a breach in the verification window: rolled back at once, not at the window end',
      { analysis: { 1: breach(45_000) } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'error-rate = 0.4 (> max 0.05)',
        log: [update, analyseUpdate, verify, restore],
        steps: ['100% passed', '100% failed'],
        lastEvent: 'RolledBack',
        seconds: 2 + 45 + 2,
      },
    ],
    [
      'the metrics provider failing in the window: restored, verdict failed, exit 3',
      { analysis: { 1: providerDown(20_000) } },
      {
        verdict: 'failed',
        exitCode: 3,
        reason: 'prometheus: connect ECONNREFUSED',
        log: [update, analyseUpdate, verify, restore],
        steps: ['100% passed', '100% failed'],
        lastEvent: 'RolledBack',
        seconds: 2 + 20 + 2,
      },
    ],
    [
      'the metrics provider failing during the update: restored, verdict failed, exit 3',
      { analysis: { 0: providerDown(8_000) }, deployments: { web: [readyAfter(20_000)] } },
      {
        verdict: 'failed',
        exitCode: 3,
        reason: 'prometheus: connect ECONNREFUSED',
        log: [update, analyseUpdate, restore],
        steps: ['100% failed'],
        lastEvent: 'RolledBack',
        seconds: 8 + 2,
      },
    ],
    [
      'SIGTERM in the verification window: restored',
      { abort: { step: 1, afterMs: 30_000, reason: sigterm } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: sigterm,
        log: [update, analyseUpdate, verify, restore],
        steps: ['100% passed', '100% aborted'],
        lastEvent: 'RolledBack',
        seconds: 2 + 30 + 2,
      },
    ],
    [
      'SIGTERM during the update: restored, no window',
      { deployments: { web: [readyAfter(60_000)] }, abort: { step: 0, afterMs: 10_000, reason: sigterm } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: sigterm,
        log: [update, analyseUpdate, restore],
        steps: ['100% aborted'],
        lastEvent: 'RolledBack',
        seconds: 10 + 2,
      },
    ],
    [
      'pods never ready: restored after the ready timeout, no window',
      { deployments: { web: [neverReady] } },
      {
        verdict: 'rolled-back',
        exitCode: 1,
        reason: 'Deployment web: 0/4 pods ready after 30s (pods never became ready)',
        log: [update, analyseUpdate, restore],
        steps: ['100% failed'],
        lastEvent: 'RolledBack',
        seconds: 30 + 2,
      },
    ],
    [
      '`gantry promote` 10 s into the window ends it: promoted',
      { promote: { step: 1, afterMs: 10_000 } },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'web rolled out and verified',
        log: [update, analyseUpdate, verify],
        steps: ['100% passed', '100% passed'],
        lastEvent: 'Promoted',
        seconds: 2 + 10,
      },
    ],
    [
      '`gantry promote` during the update: the window skipped',
      { promote: { step: 0, afterMs: 1_000 } },
      {
        verdict: 'promoted',
        exitCode: 0,
        reason: 'web rolled out and verified',
        log: [update, analyseUpdate],
        steps: ['100% passed'],
        lastEvent: 'Promoted',
        seconds: 2,
      },
    ],
    [
      'a breach in the window and the restore refused (HTTP 500): exit 4',
      {
        analysis: { 1: breach(10_000) },
        failures: [{ verb: 'replace', kind: 'Deployment', name: 'web', code: 500 }],
      },
      {
        verdict: 'failed',
        exitCode: 4,
        reason: 'rollback failed: HTTP-Code: 500',
        log: [update, analyseUpdate, verify, `${restore} ✗500`],
        steps: ['100% passed', '100% failed'],
        lastEvent: 'RollingBack',
        seconds: 2 + 10,
      },
    ],
    [
      'first deploy, a breach in the window: no previous revision to return to, exit 1',
      { firstDeploy: true, analysis: { 1: breach(10_000) } },
      {
        verdict: 'failed',
        exitCode: 1,
        reason: 'error-rate = 0.4 (> max 0.05); no previous revision to return to',
        log: [update, analyseUpdate, verify],
        steps: ['100% passed', '100% failed'],
        lastEvent: 'Verifying',
        seconds: 2 + 10,
      },
    ],
  ])('%s', async (_title, setup, expected) => {
    await expectRow(new RollingStrategy(), setup, expected);
  });

  it('times a rollback as a canary does: abort decided, traffic restored, new version gone', async () => {
    const { extras } = await runRollout(new RollingStrategy(), { analysis: { 1: breach(45_000) } });
    const at = (seconds: number) =>
      new Date(Date.parse('2025-06-01T12:00:00Z') + seconds * 1000).toISOString();
    expect(extras.recorder.timings).toEqual({
      canaryTrafficStartedAt: at(0),
      abortDecidedAt: at(47),
      trafficRestoredAt: at(49),
      canaryRemovedAt: at(49),
    });
    expect(extras.lease.recorded).toEqual([
      { phase: 'progressing', step: 0, weight: 100 },
      { phase: 'progressing', step: 1, weight: 100 },
      { phase: 'rolling-back' },
    ]);
  });
});
