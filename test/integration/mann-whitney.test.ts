import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  deleteNamespace,
  fakeImage,
  imageOf,
  namespaceWithStableApp,
  readDeployment,
  writeApp,
} from '../helpers/kube.js';

// The Mann-Whitney judge (a metric with `compare`) on the sandbox, as the sequential judge's tests do: each
// track's p95 latency (histogram_quantile over the simulator's histogram in Prometheus) sampled every 2 s, the
// canary's samples against the stable's. A canary +100 ms slower is rolled back at the first look with enough
// samples; a healthy one (20 ms like the stable) is promoted, each step with a conclusive comparison.

const namespaces: string[] = [];
afterAll(async () => {
  await Promise.all(namespaces.map(deleteNamespace));
});

const selector = 'namespace="{{namespace}}",app="{{name}}",track="{{track}}",run="{{run}}"';

function compareAnalysis(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gantry-mann-whitney-')), 'analysis.yaml');
  writeFileSync(
    file,
    yaml.dump({
      interval: '2s',
      // The canary's first looks may come before its series has samples in the rate window.
      inconclusiveLimit: 3,
      metrics: [
        {
          name: 'latency-p95',
          query: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${selector}}[4s])))`,
          compare: { worse: 'increase', alpha: 0.05, minEffectSize: 0.3, minSamples: 5 },
        },
      ],
    }),
  );
  return file;
}

const canary = (ns: string, image: string, latencyMs: number) => [
  'deploy',
  '--json',
  '--manifests',
  writeApp({ latencyMs }),
  '--image',
  `app=${image}`,
  '--namespace',
  ns,
  '--strategy',
  'canary',
  '--steps',
  '20,50',
  '--pause',
  '20s',
  '--analysis',
  compareAnalysis(),
  '--ready-timeout',
  '60s',
];

describe('the Mann-Whitney judge on the sandbox', () => {
  it('rolls a canary +100 ms slower (120 ms against 20 ms) back once both tracks have 5 samples', async () => {
    const ns = await namespaceWithStableApp('mw', 'mw-v1', { latencyMs: 20 });
    namespaces.push(ns);
    const run = await runCli(canary(ns, fakeImage('mw-bad'), 120));
    expect(run.exitCode, run.stderr).toBe(1);
    const report = run.json!;
    expect(report.verdict).toBe('rolled-back');
    expect(String(report.reason)).toMatch(
      /^latency-p95: canary significantly worse \(increase\): median [\d.]+ vs stable [\d.]+, p=\S+ < [\d.]+, Cliff's delta 1 ≥ 0\.3 \(1 failure > limit 0\)$/,
    );
    // In the first step, long before its 20 s ended: decided at the first look with 5 samples per track.
    expect((report.steps as { result: string }[]).map((s) => s.result)).toEqual(['failed']);
    const checks = report.checks as {
      kind?: string;
      result: string;
      value: number | null;
      baseline?: number;
    }[];
    const decisive = checks.find((c) => c.kind === 'compare' && c.result === 'fail')!;
    expect(decisive.value).toBeGreaterThan(0.1);
    expect(decisive.baseline).toBeLessThan(0.05);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(fakeImage('mw-v1'));
  });

  it('promotes a healthy canary (20 ms like the stable), each step with a conclusive comparison', async () => {
    const ns = await namespaceWithStableApp('mw', 'mw-v1h', { latencyMs: 20 });
    namespaces.push(ns);
    const image = fakeImage('mw-good');
    const run = await runCli(canary(ns, image, 20));
    expect(run.exitCode, run.stderr).toBe(0);
    const report = run.json!;
    expect(report.verdict).toBe('promoted');
    const checks = report.checks as { kind?: string; step: number; result: string; message: string }[];
    expect(checks.filter((c) => c.result === 'fail')).toEqual([]);
    for (const step of [0, 1]) {
      const compared = checks.filter((c) => c.kind === 'compare' && c.step === step);
      expect(compared.length).toBeGreaterThan(0);
      expect(compared.every((c) => c.result === 'pass')).toBe(true);
    }
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(image);
  });
});
