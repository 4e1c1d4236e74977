import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, runCli } from '../helpers/cli.js';
import {
  createNamespace,
  deleteNamespace,
  fakeImage,
  fullyAvailable,
  imageOf,
  readDeployment,
  writeAnalysis,
  writeApp,
} from '../helpers/kube.js';

// `gantry promote` on a canary in the middle of a long step: the step ends at once (it does not run out its
// pause), the remaining steps are skipped, and the new version is promoted.

const V1 = fakeImage('promote-v1');
const V2 = fakeImage('promote-v2');
let ns: string;

beforeAll(async () => {
  ns = await createNamespace('pr');
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

describe('gantry promote', () => {
  it('ends the step in progress at once, skips the rest, and promotes', async () => {
    const pauseSeconds = 300;
    const deploy = execa(
      process.execPath,
      [
        cliPath,
        'deploy',
        '--json',
        '--manifests',
        writeApp({ replicas: 4 }),
        '--image',
        `app=${V2}`,
        '--namespace',
        ns,
        '--strategy',
        'canary',
        '--steps',
        '20,50,80',
        '--pause',
        `${pauseSeconds}s`,
        '--analysis',
        writeAnalysis(),
        '--ready-timeout',
        '60s',
      ],
      { reject: false },
    );
    // Wait until the first step runs (the lease records it), then ask for promotion.
    const deadline = Date.now() + 90_000;
    for (;;) {
      const status = await runCli(['status', '--json', '--name', 'web', '--namespace', ns]);
      if (status.json?.phase === 'progressing' && Number(status.json.step) >= 0) break;
      if (Date.now() > deadline) throw new Error(`the canary never started: ${status.stdout}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const promote = await runCli(['promote', '--json', '--name', 'web', '--namespace', ns]);
    expect(promote.exitCode, promote.stderr).toBe(0);

    const result = await deploy;
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const report = JSON.parse(String(result.stdout));
    expect(report.verdict).toBe('promoted');
    // One step ran, and it ended well before its pause: promotion cut it short.
    expect(report.steps).toHaveLength(1);
    expect(report.steps[0].result).toBe('passed');
    const stepMs = Date.parse(report.steps[0].endedAt) - Date.parse(report.steps[0].startedAt);
    expect(stepMs).toBeLessThan(pauseSeconds * 1000);
    const stable = await readDeployment(ns, 'web');
    expect(imageOf(stable)).toBe(V2);
    expect(fullyAvailable(stable)).toBe(true);
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
  }, 150_000);
});
