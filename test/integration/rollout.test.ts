import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, runCli } from '../helpers/cli.js';
import {
  clients,
  createNamespace,
  deleteNamespace,
  fakeImage,
  fullyAvailable,
  imageOf,
  readDeployment,
  writeAnalysis,
  writeApp,
} from '../helpers/kube.js';

const namespaces: string[] = [];
async function namespace(): Promise<string> {
  const ns = await createNamespace('ro');
  namespaces.push(ns);
  return ns;
}

afterAll(async () => {
  await Promise.all(namespaces.map(deleteNamespace));
});

const V1 = fakeImage('v1');
const V2 = fakeImage('v2');

/** Deploys the first version (a plain rolling first deploy) so that a stable version exists. */
async function deployStable(ns: string, options: { replicas?: number } = {}): Promise<void> {
  const run = await runCli([
    'deploy',
    '--json',
    '--manifests',
    writeApp({ replicas: options.replicas ?? 4 }),
    '--image',
    `app=${V1}`,
    '--namespace',
    ns,
    '--strategy',
    'rolling',
    '--ready-timeout',
    '60s',
  ]);
  expect(run.exitCode, run.stderr).toBe(0);
  expect(run.json!.verdict).toBe('promoted');
}

function canaryArgs(
  ns: string,
  options: { steps?: string; pause?: string; extra?: string[] } = {},
): string[] {
  return [
    'deploy',
    '--json',
    '--image',
    `app=${V2}`,
    '--namespace',
    ns,
    '--strategy',
    'canary',
    '--steps',
    options.steps ?? '20,50',
    '--pause',
    options.pause ?? '6s',
    '--analysis',
    writeAnalysis(),
    '--ready-timeout',
    '60s',
    ...(options.extra ?? []),
  ];
}

/**
 * A healthy release's checks: none failed, at least `passes` passed, and no more than the analysis file's
 * inconclusiveLimit (1) had no data. The first look can come before Prometheus has two samples of the new
 * pods for rate(); the analysis tolerates that one, so the test does too, rather than depending on timing.
 */
function expectHealthyChecks(checks: { result: string }[], passes: number): void {
  const results = checks.map((c) => c.result);
  expect(results).not.toContain('fail');
  expect(results.filter((r) => r === 'inconclusive').length, results.join(',')).toBeLessThanOrEqual(1);
  expect(results.filter((r) => r === 'pass').length, results.join(',')).toBeGreaterThanOrEqual(passes);
}

async function expectNoCanary(ns: string): Promise<void> {
  expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
  const services = await clients().core.listNamespacedService({ namespace: ns });
  expect(services.items.map((s) => s.metadata?.name)).not.toContain('web-canary');
}

async function expectLeaseReleased(ns: string): Promise<void> {
  const lease = await clients().coordination.readNamespacedLease({ namespace: ns, name: 'gantry-web' });
  expect(lease.spec?.holderIdentity ?? '').toBe('');
}

describe('canary with the replica router on the sandbox', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await namespace();
    await deployStable(ns);
  });

  it('promotes a healthy canary: stable on the new digest, canary gone', async () => {
    const run = await runCli([...canaryArgs(ns), '--manifests', writeApp({ errorRate: 0 })]);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = run.json!;
    expect(report.verdict).toBe('promoted');
    expect(report.previousImage).toBe(V1);
    expect((report.steps as { result: string }[]).map((s) => s.result)).toEqual(['passed', 'passed']);
    expectHealthyChecks(report.checks as { result: string }[], 4);
    const timings = report.timings as Record<string, string | null>;
    expect(timings.canaryTrafficStartedAt).not.toBeNull();
    expect(timings.promotedAt).not.toBeNull();
    expect(timings.abortDecidedAt).toBeNull();
    const stable = await readDeployment(ns, 'web');
    expect(imageOf(stable)).toBe(V2);
    expect(fullyAvailable(stable)).toBe(true);
    await expectNoCanary(ns);
    await expectLeaseReleased(ns);
  });

  it('rolls a bad release back: stable untouched and fully available, canary gone, exit 1', async () => {
    const before = await readDeployment(ns, 'web');
    const bad = fakeImage('bad');
    const run = await runCli([
      ...canaryArgs(ns).map((a) => (a === `app=${V2}` ? `app=${bad}` : a)),
      '--manifests',
      writeApp({ errorRate: 0.5 }),
    ]);
    expect(run.exitCode, run.stderr).toBe(1);
    const report = run.json!;
    expect(report.verdict).toBe('rolled-back');
    expect(String(report.reason)).toMatch(/error-rate/);
    const timings = report.timings as Record<string, string | null>;
    for (const key of ['canaryTrafficStartedAt', 'abortDecidedAt', 'trafficRestoredAt', 'canaryRemovedAt']) {
      expect(timings[key], key).not.toBeNull();
    }
    expect(timings.promotedAt).toBeNull();
    // Fail fast: aborted in the first step, well before its 6 s pause ended.
    expect((report.steps as { result: string }[]).map((s) => s.result)).toEqual(['failed']);
    const stable = await readDeployment(ns, 'web');
    expect(imageOf(stable)).toBe(imageOf(before));
    expect(stable?.metadata?.generation).toBe(before?.metadata?.generation);
    expect(fullyAvailable(stable)).toBe(true);
    await expectNoCanary(ns);
    await expectLeaseReleased(ns);
  });

  it('treats no data as inconclusive and aborts, never promotes', async () => {
    const run = await runCli([
      'deploy',
      '--json',
      '--manifests',
      writeApp(),
      '--image',
      `app=${fakeImage('nodata')}`,
      '--namespace',
      ns,
      '--strategy',
      'canary',
      '--steps',
      '20',
      '--pause',
      '8s',
      '--ready-timeout',
      '60s',
      '--analysis',
      writeAnalysis({
        query: 'sum(rate(http_requests_total{app="no-such-app-{{name}}"}[4s]))',
        inconclusiveLimit: 1,
      }),
    ]);
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.json!.verdict).toBe('rolled-back');
    expect(String(run.json!.reason)).toMatch(/inconclusive|no data/i);
    expect((run.json!.checks as { result: string }[]).every((c) => c.result === 'inconclusive')).toBe(true);
    expect(imageOf(await readDeployment(ns, 'web'))).not.toBe(fakeImage('nodata'));
    await expectNoCanary(ns);
  });
});

describe('blue-green on the sandbox', () => {
  it('switches to a healthy version and promotes it; switches back from a bad one', async () => {
    const ns = await namespace();
    await deployStable(ns);
    const args = [
      'deploy',
      '--json',
      '--namespace',
      ns,
      '--strategy',
      'blue-green',
      '--pause',
      '4s',
      '--blue-green-delay',
      '6s',
      '--analysis',
      // This run's preview only (its run label): the simulator's 503s from before its pods were ready, and an
      // earlier preview's samples, never count.
      writeAnalysis({ byRun: true }),
      '--ready-timeout',
      '60s',
    ];
    const good = await runCli([...args, '--manifests', writeApp(), '--image', `app=${V2}`]);
    expect(good.exitCode, good.stderr).toBe(0);
    expect(good.json!.verdict).toBe('promoted');
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(V2);
    expect(await readDeployment(ns, 'web-preview')).toBeUndefined();
    const service = await clients().core.readNamespacedService({ namespace: ns, name: 'web' });
    expect(service.spec?.selector?.['gantry.dev/track']).toBe('stable');

    const bad = await runCli([
      ...args,
      '--manifests',
      writeApp({ errorRate: 0.6 }),
      '--image',
      `app=${fakeImage('bg-bad')}`,
    ]);
    expect(bad.exitCode, bad.stderr).toBe(1);
    expect(bad.json!.verdict).toBe('rolled-back');
    const after = await clients().core.readNamespacedService({ namespace: ns, name: 'web' });
    expect(after.spec?.selector?.['gantry.dev/track']).toBe('stable');
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(V2);
    expect(await readDeployment(ns, 'web-preview')).toBeUndefined();
  });
});

describe('rolling update on the sandbox', () => {
  it('fails fast on a version whose pods never become ready and restores the previous revision', async () => {
    const ns = await namespace();
    await deployStable(ns, { replicas: 3 });
    const started = Date.now();
    const run = await runCli([
      'deploy',
      '--json',
      '--manifests',
      writeApp({ replicas: 3, neverReady: true }),
      '--image',
      `app=${fakeImage('never')}`,
      '--namespace',
      ns,
      '--strategy',
      'rolling',
      '--ready-timeout',
      '8s',
    ]);
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.json!.verdict).toBe('rolled-back');
    expect(String(run.json!.reason)).toMatch(/never became ready/);
    expect(Date.now() - started).toBeLessThan(60_000);
    const stable = await readDeployment(ns, 'web');
    expect(imageOf(stable)).toBe(V1);
    expect(fullyAvailable(stable)).toBe(true);
  });
});

describe('rolling update with an analysis on the sandbox', () => {
  // The new pods are the stable Deployment's (track `stable`, which `{{canary}}` names for a rolling update):
  // the analysis measures them while they roll out and for the verification window (--pause) after it.
  let ns: string;
  beforeAll(async () => {
    ns = await namespace();
    await deployStable(ns, { replicas: 3 });
  });

  const rollingArgs = (image: string, errorRate: number, minReadySeconds?: number) => [
    'deploy',
    '--json',
    '--manifests',
    writeApp({ replicas: 3, errorRate, minReadySeconds }),
    '--image',
    `app=${image}`,
    '--namespace',
    ns,
    '--strategy',
    'rolling',
    '--pause',
    '6s',
    '--analysis',
    writeAnalysis(),
    '--ready-timeout',
    '60s',
  ];

  it('promotes a good release after the verification window: every check passed, 3 of them in the window', async () => {
    const run = await runCli(rollingArgs(V2, 0));
    expect(run.exitCode, run.stderr).toBe(0);
    const report = run.json!;
    expect(report.verdict).toBe('promoted');
    expect(report.previousImage).toBe(V1);
    const steps = report.steps as { index: number; result: string }[];
    expect(steps.map((s) => [s.index, s.result])).toEqual([
      [0, 'passed'],
      [1, 'passed'],
    ]);
    const checks = report.checks as { step: number; result: string }[];
    expectHealthyChecks(checks, 3);
    // A 6 s window at a 2 s interval is measured three times: the window ran to its end.
    expect(checks.filter((c) => c.step === 1)).toHaveLength(3);
    const timings = report.timings as Record<string, string | null>;
    expect(timings.promotedAt).not.toBeNull();
    expect(timings.abortDecidedAt).toBeNull();
    const stable = await readDeployment(ns, 'web');
    expect(imageOf(stable)).toBe(V2);
    expect(fullyAvailable(stable)).toBe(true);
    await expectLeaseReleased(ns);
  });

  it('rolls a bad release back by its analysis: exit 1, the previous template restored and fully available', async () => {
    const before = await readDeployment(ns, 'web');
    const run = await runCli(rollingArgs(fakeImage('rolling-bad'), 0.5));
    expect(run.exitCode, run.stderr).toBe(1);
    const report = run.json!;
    expect(report.verdict).toBe('rolled-back');
    expect(String(report.reason)).toMatch(/^error-rate [\d.]+ above max 0\.05/);
    // The breach is seen during the update or in the window, whichever comes first on this machine.
    const steps = report.steps as { result: string }[];
    expect(steps.at(-1)?.result).toBe('failed');
    const checks = report.checks as { result: string; value: number | null }[];
    expect(checks.some((c) => c.result === 'fail' && (c.value ?? 0) > 0.05)).toBe(true);
    const timings = report.timings as Record<string, string | null>;
    for (const key of ['canaryTrafficStartedAt', 'abortDecidedAt', 'trafficRestoredAt', 'canaryRemovedAt']) {
      expect(timings[key], key).not.toBeNull();
    }
    expect(timings.promotedAt).toBeNull();
    const stable = await readDeployment(ns, 'web');
    expect(imageOf(stable)).toBe(imageOf(before));
    expect(stable?.spec?.template?.metadata?.annotations?.['testbed.gantry.dev/error-rate']).toBe('0');
    expect(fullyAvailable(stable)).toBe(true);
    await expectLeaseReleased(ns);
  });

  it('stops a slow update at the first breach, before every replica is updated, and restores the previous template', async () => {
    // minReadySeconds 10: the controller replaces the 3 pods one by one, 10 s apart (30 s at least), while the
    // first new pod takes its share of the traffic from the start: the analysis sees it during the update.
    const before = await readDeployment(ns, 'web');
    const run = await runCli(rollingArgs(fakeImage('rolling-bad-slow'), 0.5, 10));
    expect(run.exitCode, run.stderr).toBe(1);
    const report = run.json!;
    expect(report.verdict).toBe('rolled-back');
    expect(String(report.reason)).toMatch(/^error-rate [\d.]+ above max 0\.05/);
    // Decided in step 1, the update: the verification window never started.
    const steps = report.steps as { index: number; result: string }[];
    expect(steps.map((s) => [s.index, s.result])).toEqual([[0, 'failed']]);
    const checks = report.checks as { step: number; result: string }[];
    expect(checks.filter((c) => c.result === 'fail').map((c) => c.step)).toEqual([0]);
    const stable = await readDeployment(ns, 'web');
    expect(imageOf(stable)).toBe(imageOf(before));
    expect(fullyAvailable(stable)).toBe(true);
    await expectLeaseReleased(ns);
  });
});

describe('canary pods that never become ready (replica router)', () => {
  it('is a bad version: rolled back with exit 1, the stable untouched, the canary gone', async () => {
    const ns = await namespace();
    await deployStable(ns, { replicas: 3 });
    const run = await runCli([
      'deploy',
      '--json',
      '--manifests',
      writeApp({ replicas: 3, neverReady: true }),
      '--image',
      `app=${fakeImage('never-canary')}`,
      '--namespace',
      ns,
      '--strategy',
      'canary',
      '--steps',
      '50',
      '--pause',
      '2s',
      '--ready-timeout',
      '8s',
    ]);
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.json!.verdict).toBe('rolled-back');
    expect(String(run.json!.reason)).toMatch(
      /web-canary: 0\/\d+ pods ready after 8s \(pods never became ready\)/,
    );
    const stable = await readDeployment(ns, 'web');
    expect(imageOf(stable)).toBe(V1);
    expect(fullyAvailable(stable)).toBe(true);
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
  });
});

describe('a rollout that survives its CI job dying', () => {
  it('SIGTERM mid-canary aborts cleanly: canary removed, lease released, exit ≠ 0', async () => {
    const ns = await namespace();
    await deployStable(ns);
    const child = execa(
      process.execPath,
      [cliPath, ...canaryArgs(ns, { pause: '30s' }), '--manifests', writeApp()],
      { reject: false },
    );
    await waitForCanaryTraffic(ns);
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).not.toBe(0);
    const report = JSON.parse(String(result.stdout));
    expect(report.verdict).toBe('rolled-back');
    expect(report.reason).toMatch(/SIGTERM/);
    await expectNoCanary(ns);
    await expectLeaseReleased(ns);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(V1);
  });

  it('SIGKILL mid-canary, then a new run: the stale lease is found and the orphan removed', async () => {
    const ns = await namespace();
    await deployStable(ns);
    const child = execa(
      process.execPath,
      [
        cliPath,
        ...canaryArgs(ns, { pause: '60s', extra: ['--lease-duration', '3'] }),
        '--manifests',
        writeApp(),
      ],
      { reject: false },
    );
    await waitForCanaryTraffic(ns);
    child.kill('SIGKILL');
    await child;
    expect(await readDeployment(ns, 'web-canary')).toBeDefined();
    // The next run waits for the dead run's lease to go stale (3 s here), rolls the orphan back, then deploys.
    const next = await runCli([
      ...canaryArgs(ns, { steps: '20', pause: '4s' }),
      '--manifests',
      writeApp(),
      '--lock-timeout',
      '60s',
    ]);
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/stale|orphan/);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(V2);
    await expectNoCanary(ns);
  });

  it('two concurrent deploys of one service never interleave: the second waits or fails clearly', async () => {
    const ns = await namespace();
    await deployStable(ns);
    const first = execa(
      process.execPath,
      [cliPath, ...canaryArgs(ns, { steps: '20', pause: '10s' }), '--manifests', writeApp()],
      { reject: false },
    );
    await waitForCanaryTraffic(ns);
    const second = await runCli([...canaryArgs(ns), '--manifests', writeApp(), '--lock-timeout', '2s']);
    expect(second.exitCode).toBe(3);
    expect(String(second.json!.error)).toMatch(/another rollout of web .* is in progress/);
    const firstResult = await first;
    expect(firstResult.exitCode).toBe(0);
  });
});

async function waitForCanaryTraffic(ns: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const canary = await readDeployment(ns, 'web-canary');
    if ((canary?.status?.readyReplicas ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the canary never received traffic');
}
