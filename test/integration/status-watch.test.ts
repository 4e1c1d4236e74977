import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, runCli } from '../helpers/cli.js';
import { createNamespace, deleteNamespace, fakeImage, writeAnalysis, writeApp } from '../helpers/kube.js';

// `gantry status --watch` in one process follows a canary rollout that `gantry deploy` runs in another, through
// watches on the rollout's Lease and Events on the real API server: a line per change, in order, and the
// rollout's own exit code at the end.

const V1 = fakeImage('watch-v1');
let ns: string;

interface Line {
  at: string;
  kind: string;
  runId: string | null;
  phase: string;
  step: number | null;
  steps: number | null;
  weight: number | null;
  message: string;
  reason?: string;
  checks?: { step: number; pass: number; fail: number; inconclusive: number };
  verdict?: string | null;
  exitCode?: number;
}

beforeAll(async () => {
  ns = await createNamespace('sw');
  const first = await runCli([
    'deploy',
    '--json',
    '--manifests',
    writeApp({ replicas: 4 }),
    '--image',
    `app=${V1}`,
    '--namespace',
    ns,
    '--strategy',
    'rolling',
    '--ready-timeout',
    '60s',
  ]);
  expect(first.exitCode, first.stderr).toBe(0);
});
afterAll(async () => {
  await deleteNamespace(ns);
});

/**
 * `gantry status --watch --json` started first (it waits for the rollout to start), then, once it printed its
 * first line, the rollout itself. `onLine` sees each line as the watch prints it.
 */
async function watchDeploy(
  image: string,
  errorRate: number,
  options: {
    steps?: string;
    extra?: string[];
    onLine?: (line: Line, deploy: ReturnType<typeof execa>) => void;
  } = {},
) {
  const watch = execa(
    process.execPath,
    [
      cliPath,
      'status',
      '--watch',
      '--json',
      '--name',
      'web',
      '--namespace',
      ns,
      '--wait-start',
      '3m',
      '--timeout',
      '10m',
    ],
    { reject: false },
  );
  let deploy: ReturnType<typeof execa> | undefined;
  let pending = '';
  // The rollout starts once the watch has printed where things stand (it then waits for the start).
  const firstLine = new Promise<void>((resolve, reject) => {
    watch.stdout!.on('data', (chunk: Buffer) => {
      pending += String(chunk);
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        const text = pending.slice(0, end);
        pending = pending.slice(end + 1);
        resolve();
        if (deploy && text) options.onLine?.(JSON.parse(text) as Line, deploy);
      }
    });
    watch.then((r) => reject(new Error(`the watch ended before its first line: ${r.stderr}`)), reject);
  });
  await firstLine;
  deploy = execa(
    process.execPath,
    [
      cliPath,
      'deploy',
      '--json',
      '--manifests',
      writeApp({ replicas: 4, errorRate }),
      '--image',
      `app=${image}`,
      '--namespace',
      ns,
      '--strategy',
      'canary',
      '--steps',
      options.steps ?? '20,50,80',
      '--pause',
      '4s',
      '--analysis',
      // Filtered by this rollout's run label, so an earlier canary's samples in the same namespace never count.
      writeAnalysis({ byRun: true }),
      '--ready-timeout',
      '60s',
      ...(options.extra ?? []),
    ],
    { reject: false },
  );
  const [watched, deployed] = await Promise.all([watch, deploy]);
  const stdout = String(watched.stdout);
  // One JSON object per line, nothing else on stdout.
  const lines = stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
  let report: { runId?: string } = {};
  try {
    report = JSON.parse(String(deployed.stdout));
  } catch {
    // a killed deploy prints no report
  }
  return { watched, deployed, lines, report };
}

describe('gantry status --watch', () => {
  it('follows a canary that is promoted: started, each step in order, checks, promoting, done; exit 0', async () => {
    const { watched, deployed, lines, report } = await watchDeploy(fakeImage('watch-v2'), 0);
    expect(deployed.exitCode, String(deployed.stderr)).toBe(0);
    expect(watched.exitCode, `${watched.stderr}\n${watched.stdout}`).toBe(0);

    for (const line of lines) expect(Number.isNaN(Date.parse(line.at)), line.at).toBe(false);
    // Idle when the watch began (the first deploy was promoted), then this run.
    expect(lines[0]).toMatchObject({ kind: 'current', phase: 'idle' });
    expect(lines[0]!.message).toMatch(/^idle; the last rollout .* promoted/);
    const started = lines.filter((l) => l.kind === 'started');
    expect(started).toHaveLength(1);
    expect(started[0]!.runId).toBe(report.runId);

    const steps = lines.filter((l) => l.kind === 'step').map((l) => [l.step, l.steps, l.weight]);
    expect(steps).toEqual([
      [1, 3, 20],
      [2, 3, 50],
      [3, 3, 80],
    ]);
    const kinds = lines.map((l) => l.kind);
    expect(kinds.indexOf('started')).toBeLessThan(kinds.indexOf('step'));
    // The checks ride on the lease: each step's tally is there, all passed.
    const checks = lines.filter((l) => l.kind === 'checks').map((l) => l.checks!);
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.every((c) => c.fail === 0)).toBe(true);
    expect(checks.some((c) => c.pass > 0)).toBe(true);
    const promoting = lines.findIndex((l) => l.kind === 'phase' && l.phase === 'promoting');
    expect(promoting).toBeGreaterThan(lines.findLastIndex((l) => l.kind === 'step'));
    // The Events the run emitted for the Deployment: one StepStarted per step.
    expect(lines.filter((l) => l.kind === 'event' && l.reason === 'StepStarted')).toHaveLength(3);

    const last = lines.at(-1)!;
    expect(last).toMatchObject({ kind: 'done', verdict: 'promoted', exitCode: 0, runId: report.runId });
    expect(lines.filter((l) => l.kind === 'done')).toHaveLength(1);

    // `gantry status` (once) reports the finished run's exit code too.
    const status = await runCli(['status', '--json', '--name', 'web', '--namespace', ns]);
    expect(status.json?.lastRollout).toMatchObject({ runId: report.runId, verdict: 'promoted', exitCode: 0 });
  }, 300_000);

  it('follows a gate: waiting for promote, released by `gantry promote` from a third process, then the next step', async () => {
    let promote: Promise<unknown> | undefined;
    const { watched, deployed, lines } = await watchDeploy(fakeImage('watch-gate'), 0, {
      steps: '20:until-promoted,50',
      // Bounded, should the promote never come.
      extra: ['--gate-timeout', '2m'],
      onLine: (line) => {
        if (line.kind === 'phase' && line.phase === 'waiting' && !promote)
          promote = runCli(['promote', '--json', '--name', 'web', '--namespace', ns]);
      },
    });
    expect(deployed.exitCode, String(deployed.stderr)).toBe(0);
    expect(watched.exitCode, `${watched.stderr}\n${watched.stdout}`).toBe(0);
    expect(promote).toBeDefined();
    expect(((await promote) as { exitCode: number }).exitCode).toBe(0);
    const story = lines
      .filter((l) => l.kind === 'step' || l.kind === 'phase' || l.kind === 'done')
      .map((l) => `${l.kind} ${l.phase} ${l.step}`);
    expect(story).toEqual([
      'step progressing 1',
      'phase waiting 1',
      'step progressing 2',
      'phase progressing 2',
      'phase promoting 2',
      'done idle null',
    ]);
    expect(lines.find((l) => l.phase === 'waiting')!.message).toMatch(
      /^waiting at step 1\/2 for gantry promote; without a decision by \S+ it rolls back$/,
    );
    expect(lines.find((l) => l.kind === 'phase' && l.phase === 'progressing')!.message).toBe(
      'gate of step 1/2 released: going on',
    );
    expect(lines.filter((l) => l.kind === 'event').map((l) => l.reason)).toEqual(
      expect.arrayContaining(['WaitingForPromote', 'GateReleased']),
    );
  }, 300_000);

  it('a run killed mid-rollout (SIGKILL) stops renewing its lease: orphaned, exit 3', async () => {
    const { watched, deployed, lines } = await watchDeploy(fakeImage('watch-killed'), 0, {
      steps: '20:until-promoted,50',
      extra: ['--lease-duration', '3'],
      onLine: (line, deploy) => {
        if (line.kind === 'phase' && line.phase === 'waiting') deploy.kill('SIGKILL');
      },
    });
    expect(deployed.signal).toBe('SIGKILL');
    expect(watched.exitCode, `${watched.stderr}\n${watched.stdout}`).toBe(3);
    expect(lines.at(-1)).toMatchObject({ kind: 'orphaned', phase: 'orphaned' });
    expect(lines.at(-1)!.message).toMatch(/stopped renewing its lease: the rollout is orphaned/);
    // Clean up the orphan: `gantry abort` rolls it back.
    const abort = await runCli(['abort', '--json', '--name', 'web', '--namespace', ns]);
    expect(abort.exitCode, abort.stderr).toBe(0);
  }, 300_000);

  it('follows a bad release rolled back: its failed checks, rolling back, done; exit 1 like the rollout', async () => {
    const { watched, deployed, lines, report } = await watchDeploy(fakeImage('watch-bad'), 0.5);
    expect(deployed.exitCode, String(deployed.stderr)).toBe(1);
    expect(watched.exitCode, `${watched.stderr}\n${watched.stdout}`).toBe(1);

    expect(lines.filter((l) => l.kind === 'started').map((l) => l.runId)).toEqual([report.runId]);
    expect(lines.filter((l) => l.kind === 'step').map((l) => l.weight)).toEqual([20]);
    const rollingBack = lines.findIndex((l) => l.kind === 'phase' && l.phase === 'rolling-back');
    expect(rollingBack).toBeGreaterThan(lines.findIndex((l) => l.kind === 'step'));
    // The failing check that decided it is on the lease by the time it rolls back.
    expect(lines.some((l) => l.kind === 'checks' && l.checks!.fail > 0)).toBe(true);
    expect(lines.filter((l) => l.kind === 'event').map((l) => l.reason)).toContain('RollingBack');
    expect(lines.at(-1)).toMatchObject({ kind: 'done', verdict: 'rolled-back', exitCode: 1 });
  }, 300_000);

  it('with no rollout in progress prints the state once and exits 0', async () => {
    const run = await runCli(['status', '--watch', '--name', 'web', '--namespace', ns]);
    expect(run.exitCode, run.stderr).toBe(0);
    const lines = run.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${ns}/web: idle; the last rollout \\(run `),
    );
  });

  it('--wait-start: no rollout started within it is one line and exit 3', async () => {
    const run = await runCli(['status', '--watch', '--name', 'web', '--namespace', ns, '--wait-start', '2s']);
    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.stderr.trim().split('\n').at(-1)).toBe(
      `gantry: no rollout of ${ns}/web started within 2s (--wait-start)`,
    );
  });

  it('a Deployment that does not exist is bad input (exit 2), named in one line', async () => {
    const run = await runCli(['status', '--watch', '--name', 'ghost', '--namespace', ns]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toMatch(/^gantry: --name: no Deployment "ghost"/);
  });
});
