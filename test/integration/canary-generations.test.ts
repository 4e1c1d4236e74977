import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { RUN_LABEL, runLabelValue } from '../../src/deploy/labels.js';
import { cliPath, runCli } from '../helpers/cli.js';
import { waitForCanaryTraffic } from '../helpers/faults.js';
import {
  deleteNamespace,
  fakeImage,
  fullyAvailable,
  imageOf,
  namespaceWithStableApp,
  readDeployment,
  writeAnalysis,
  writeApp,
} from '../helpers/kube.js';

// Issue 13: a good release deployed right after a bad one was rolled back must be judged on its own samples.
// Both canaries carry the same app and track labels, so a rate() whose window spans the switch mixes them;
// each rollout's canary pods carry their own run label, which the analysis selects with {{run}}.

const namespaces: string[] = [];
afterAll(async () => {
  await Promise.all(namespaces.map(deleteNamespace));
});

/**
 * The canary's share of 5xx, measured every 5 s. The window is a minute so that it surely still holds the
 * rolled-back canary's samples when the next release is measured, however slow the machine (a 10 s window
 * mixes them only when the next canary starts within 10 s); the run label must keep them out.
 */
const selector = 'namespace="{{namespace}}",app="{{name}}",track="{{canary}}",run="{{run}}"';
const analysis = () =>
  writeAnalysis({
    intervalSeconds: 5,
    query: `(sum(rate(http_requests_total{${selector},code=~"5.."}[1m])) or vector(0)) / sum(rate(http_requests_total{${selector}}[1m]))`,
  });

const canary = (ns: string, image: string, errorRate: number) => [
  'deploy',
  '--json',
  '--manifests',
  writeApp({ errorRate }),
  '--image',
  `app=${image}`,
  '--namespace',
  ns,
  '--strategy',
  'canary',
  '--steps',
  '20',
  '--pause',
  '15s',
  '--analysis',
  analysis(),
  '--ready-timeout',
  '60s',
];

describe('canary generations do not share metrics', () => {
  it('a good release right after a bad one was rolled back is judged on its own samples and promoted', async () => {
    const ns = await namespaceWithStableApp('gen', 'gen-v1');
    namespaces.push(ns);
    const before = await readDeployment(ns, 'web');

    const bad = await runCli(canary(ns, fakeImage('gen-bad'), 0.5));
    expect(bad.exitCode, bad.stderr).toBe(1);
    expect(bad.json!.verdict).toBe('rolled-back');
    expect(String(bad.json!.reason)).toMatch(/error-rate/);

    const good = await runCli(canary(ns, fakeImage('gen-good'), 0));
    expect(good.exitCode, good.stderr).toBe(0);
    const report = good.json!;
    expect(report.verdict).toBe('promoted');
    const checks = report.checks as { result: string; value: number | null }[];
    expect(checks.filter((c) => c.result === 'pass').length).toBeGreaterThanOrEqual(2);
    // Every measurement of the good canary saw its own traffic only: no errors at all.
    expect(checks.filter((c) => c.value !== null).every((c) => c.value === 0)).toBe(true);
    expect(runLabelValue(String(report.runId))).not.toBe(runLabelValue(String(bad.json!.runId)));

    // Promotion changed the stable Deployment once, for the new image; the run label never reached it.
    const stable = await readDeployment(ns, 'web');
    expect(imageOf(stable)).toBe(fakeImage('gen-good'));
    expect(fullyAvailable(stable)).toBe(true);
    expect(stable?.spec?.template?.metadata?.labels?.[RUN_LABEL]).toBeUndefined();
    expect(Number(stable?.metadata?.annotations?.['deployment.kubernetes.io/revision'])).toBe(
      Number(before?.metadata?.annotations?.['deployment.kubernetes.io/revision']) + 1,
    );
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
  });

  it('--resume continues an orphaned canary under the run label its pods already have', async () => {
    const ns = await namespaceWithStableApp('genres', 'genres-v1');
    namespaces.push(ns);
    const image = fakeImage('genres-v2');
    const args = (pause: string) => [
      'deploy',
      '--json',
      '--manifests',
      writeApp(),
      '--image',
      `app=${image}`,
      '--namespace',
      ns,
      '--strategy',
      'canary',
      '--steps',
      '20,50',
      '--pause',
      pause,
      '--lease-duration',
      '3',
      '--ready-timeout',
      '60s',
    ];
    const dead = execa(process.execPath, [cliPath, ...args('60s')], { reject: false });
    await waitForCanaryTraffic(ns);
    dead.kill('SIGKILL');
    await dead;
    const orphan = await readDeployment(ns, 'web-canary');
    const label = orphan?.spec?.template?.metadata?.labels?.[RUN_LABEL];
    expect(label).toMatch(/[0-9a-f]{8}$/);

    // The next run waits for the dead run's lease to go stale (3 s), then resumes its canary.
    const resumed = execa(process.execPath, [cliPath, ...args('60s'), '--resume', '--lock-timeout', '60s'], {
      reject: false,
    });
    let stderr = '';
    resumed.stderr?.on('data', (chunk) => {
      stderr += String(chunk);
    });
    await new Promise<void>((resolve, reject) => {
      const check = () => (/step 1: 20% of traffic/.test(stderr) ? resolve() : undefined);
      resumed.stderr?.on('data', check);
      resumed.then(() => reject(new Error(`the resumed run ended early: ${stderr}`)), reject);
    });
    expect(stderr).toMatch(/resuming at step 1/);
    // The canary was applied again (before the step started) with the label its pods already have: same pod
    // template, so no new ReplicaSet, and the analysis measures the same series.
    const canary = await readDeployment(ns, 'web-canary');
    expect(canary?.metadata?.generation).toBeGreaterThan(orphan!.metadata!.generation!);
    expect(canary?.spec?.template?.metadata?.labels?.[RUN_LABEL]).toBe(label);

    const promote = await runCli(['promote', '--name', 'web', '--namespace', ns]);
    expect(promote.exitCode, promote.stderr).toBe(0);
    const result = await resumed;
    expect(result.exitCode, stderr).toBe(0);
    expect(JSON.parse(String(result.stdout)).verdict).toBe('promoted');
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(image);
  });
});
