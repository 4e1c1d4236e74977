import { execa, type ResultPromise } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, runCli } from '../helpers/cli.js';
import {
  clients,
  deleteNamespace,
  fakeImage,
  fullyAvailable,
  imageOf,
  namespaceWithStableApp,
  readDeployment,
  writeAnalysis,
  writeApp,
} from '../helpers/kube.js';

// Canary steps that wait for a person (`pause: until-promoted`), against the real API server, simulator and
// Prometheus: the rollout holds the gate's weight with its analysis running until a second `gantry` process
// runs `gantry promote` (the rollout then goes on with its next step) or `gantry abort`; nobody deciding
// within the gate timeout rolls back, or, with --on-gate-timeout promote, goes on.

const V1 = 'gate-v1';
const V2 = fakeImage('gate-v2');
const namespaces: string[] = [];

async function namespace(): Promise<string> {
  const ns = await namespaceWithStableApp('gt', V1);
  namespaces.push(ns);
  return ns;
}

afterAll(async () => {
  await Promise.all(namespaces.map(deleteNamespace));
});

/** `gantry deploy` of V2 as a canary, in a process of its own; its stderr (the progress log) kept as it comes. */
function startDeploy(ns: string, args: string[]): { run: ResultPromise; log: () => string } {
  let log = '';
  const run = execa(
    process.execPath,
    [
      cliPath,
      'deploy',
      '--json',
      '--manifests',
      writeApp(),
      '--image',
      `app=${V2}`,
      '--namespace',
      ns,
      '--strategy',
      'canary',
      '--ready-timeout',
      '60s',
      ...args,
    ],
    { reject: false },
  );
  run.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  return { run, log: () => log };
}

/**
 * Polls until `done()` holds; the deadline only stops a test that would otherwise hang. With the rollout it
 * waits on, it gives up as soon as that rollout has ended, and says what the rollout logged.
 */
async function until<T>(
  what: string,
  done: () => Promise<T | undefined>,
  rollout?: { run: ResultPromise; log: () => string },
  seconds = 120,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let ended = false;
  void rollout?.run.then(() => {
    ended = true;
  });
  for (;;) {
    const value = await done();
    if (value !== undefined) return value;
    if (ended || Date.now() > deadline) {
      const why = ended ? 'the rollout ended first' : `not within ${seconds}s`;
      const tail = rollout ? `; its log ends:\n${rollout.log().split('\n').slice(-25).join('\n')}` : '';
      throw new Error(`gave up waiting: ${what} (${why})${tail}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function status(ns: string): Promise<Record<string, unknown>> {
  const run = await runCli(['status', '--json', '--name', 'web', '--namespace', ns]);
  expect(run.exitCode, run.stderr).toBe(0);
  return run.json!;
}

async function eventReasons(ns: string): Promise<string[]> {
  const events = await clients().core.listNamespacedEvent({ namespace: ns });
  return events.items.filter((e) => e.source?.component === 'gantry').map((e) => e.reason ?? '');
}

describe('a canary step that waits for `gantry promote`', () => {
  it('holds its weight with the analysis running until a second process promotes; then the next step runs', async () => {
    const ns = await namespace();
    const deploy = startDeploy(ns, [
      '--steps',
      '20:2s,40:until-promoted,60:4s',
      '--analysis',
      // This test is about the gate: a scrape that comes late under load must not end the rollout early.
      writeAnalysis({ byRun: true, inconclusiveLimit: 2 }),
      '--gate-timeout',
      '10m',
    ]);
    let ended = false;
    void deploy.run.then(() => {
      ended = true;
    });

    // The rollout reaches the gate: status says it waits for a person, at step 2 and 40%.
    const waiting = await until(
      'the rollout waits at its gate',
      async () => {
        const now = await status(ns);
        return now.phase === 'waiting' ? now : undefined;
      },
      deploy,
    );
    expect(waiting).toMatchObject({ waitingFor: 'promote', step: 2, weight: 40, strategy: 'canary' });
    const gate = waiting.gate as { since: string; timeoutAt: string; onTimeout: string };
    expect(gate.onTimeout).toBe('rollback');
    expect(Date.parse(gate.timeoutAt) - Date.parse(gate.since)).toBe(600_000);
    // The person-readable status says what to run.
    const text = await runCli(['status', '--name', 'web', '--namespace', ns]);
    expect(text.stdout).toContain(`${ns}/web: waiting for promote (run `);
    expect(text.stdout).toContain(`continue: gantry promote --name web --namespace ${ns}`);
    expect(text.stdout).toContain(`roll back: gantry abort --name web --namespace ${ns}`);
    // So does the run's own log, and an Event on the Deployment.
    expect(deploy.log()).toContain(
      `step 2/3 waits at 40% for a person: run \`gantry promote --name web --namespace ${ns}\` to continue`,
    );
    await until(
      'the WaitingForPromote event',
      async () => ((await eventReasons(ns)).includes('WaitingForPromote') ? true : undefined),
      deploy,
    );

    // The analysis keeps measuring while the gate holds: a check is logged after the gate line.
    await until(
      'a check during the hold',
      async () => {
        const afterGate = deploy.log().split('waits at 40% for a person')[1] ?? '';
        return /ok {3}error-rate = /.test(afterGate) ? true : undefined;
      },
      deploy,
    );
    expect(ended).toBe(false);
    const canary = await readDeployment(ns, 'web-canary');
    expect(imageOf(canary)).toBe(V2);

    // A second process promotes: it returns once the run has left the gate.
    const promote = await runCli(['promote', '--json', '--name', 'web', '--namespace', ns]);
    expect(promote.exitCode, promote.stderr).toBe(0);
    expect(promote.json!.phase).not.toBe('waiting');

    const result = await deploy.run;
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const report = JSON.parse(String(result.stdout));
    expect(report.verdict).toBe('promoted');
    // The promote released the gate only: step 3 still ran (a promote outside a gate would have skipped it).
    expect(report.steps.map((s: { weight: number; result: string }) => `${s.weight}% ${s.result}`)).toEqual([
      '20% passed',
      '40% passed',
      '60% passed',
    ]);
    expect(report.checks.some((check: { step: number }) => check.step === 1)).toBe(true);
    expect(String(result.stderr)).toContain('step 2/3: released by `gantry promote`');
    expect(await eventReasons(ns)).toContain('GateReleased');
    const stable = await readDeployment(ns, 'web');
    expect(imageOf(stable)).toBe(V2);
    expect(fullyAvailable(stable)).toBe(true);
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
  }, 240_000);

  it('`gantry abort` from a second process at the gate rolls back', async () => {
    const ns = await namespace();
    const deploy = startDeploy(ns, ['--steps', '30:until-promoted', '--gate-timeout', '10m']);
    await until(
      'the rollout waits at its gate',
      async () => ((await status(ns)).phase === 'waiting' ? true : undefined),
      deploy,
    );
    const abort = await runCli(['abort', '--json', '--name', 'web', '--namespace', ns]);
    expect(abort.exitCode, abort.stderr).toBe(0);
    const result = await deploy.run;
    expect(result.exitCode, String(result.stderr)).toBe(1);
    const report = JSON.parse(String(result.stdout));
    expect(report.verdict).toBe('rolled-back');
    expect(report.reason).toContain('aborted by `gantry abort`');
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(fakeImage(V1));
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
  }, 240_000);
});

describe('a gate nobody decides', () => {
  it('times out and rolls back (exit 1); the stable version was never touched', async () => {
    const ns = await namespace();
    const deploy = startDeploy(ns, ['--steps', '20:2s,50:until-promoted', '--gate-timeout', '5s']);
    const result = await deploy.run;
    expect(result.exitCode, String(result.stderr)).toBe(1);
    const report = JSON.parse(String(result.stdout));
    expect(report.verdict).toBe('rolled-back');
    expect(report.reason).toContain('nobody promoted step 2/2 (50%) within the gate timeout (5s)');
    expect(report.steps.map((s: { weight: number; result: string }) => `${s.weight}% ${s.result}`)).toEqual([
      '20% passed',
      '50% failed',
    ]);
    expect(String(result.stderr)).toContain('without either within 5s');
    const stable = await readDeployment(ns, 'web');
    expect(imageOf(stable)).toBe(fakeImage(V1));
    expect(fullyAvailable(stable)).toBe(true);
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
    const after = await status(ns);
    expect(after).toMatchObject({ phase: 'idle', waitingFor: null, gate: null });
  }, 240_000);

  it('with --on-gate-timeout promote, goes on as if promoted', async () => {
    const ns = await namespace();
    const deploy = startDeploy(ns, [
      '--steps',
      '20:until-promoted,50:2s',
      '--gate-timeout',
      '5s',
      '--on-gate-timeout',
      'promote',
    ]);
    const result = await deploy.run;
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const report = JSON.parse(String(result.stdout));
    expect(report.verdict).toBe('promoted');
    expect(report.steps.map((s: { weight: number; result: string }) => `${s.weight}% ${s.result}`)).toEqual([
      '20% passed',
      '50% passed',
    ]);
    expect(String(result.stderr)).toContain('nobody decided within 5s; going on as if promoted');
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(V2);
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
  }, 240_000);
});

describe('bad gate input', () => {
  let shared: Promise<string> | undefined;
  it.each([
    [
      ['--steps', '20,50:someday'],
      /^gantry: --steps: expected a duration like 30s or 2m, or until-promoted, got "someday"$/,
    ],
    [
      ['--steps', '20:until-promoted', '--gate-timeout', '0s'],
      /^gantry: --gate-timeout: expected at least 1s, got "0s"$/,
    ],
    [
      ['--steps', '20:until-promoted', '--on-gate-timeout', 'wait'],
      /^gantry: --on-gate-timeout: expected one of rollback\|promote, got "wait"$/,
    ],
  ])('%j: one line naming the input, exit 2, nothing changed', async (args, message) => {
    shared ??= namespace();
    const ns = await shared;
    const deploy = startDeploy(ns, args);
    const result = await deploy.run;
    expect(result.exitCode).toBe(2);
    expect(String(result.stderr).trim()).toMatch(message);
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(fakeImage(V1));
    expect((await status(ns)).phase).toBe('idle');
  });
});
