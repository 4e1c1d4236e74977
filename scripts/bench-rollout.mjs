#!/usr/bin/env node
// Rollout figures on the local sandbox (printed, never asserted), with Prometheus scraping every 1 s and the
// analysis measuring every 5 s:
//   - a bad canary (30% errors): breach → canary out of traffic (trafficRestoredAt − canaryTrafficStartedAt)
//     and breach → canary removed (canaryRemovedAt − canaryTrafficStartedAt), p50 and p95 over N runs;
//   - a healthy canary: time each step takes beyond its configured pause (Gantry's overhead per step).
// Usage: node scripts/bench-rollout.mjs [--runs 10] [--healthy-runs 3]
// With --real: the same on the real data plane (Traefik and answering pods; scripts/bench-rollout-real.mjs).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  manifests as appAt,
  arg,
  deployCanary,
  quantile,
  sandboxEnv,
  seconds,
  stableNamespace,
} from './bench-lib.mjs';

if (process.argv.includes('--real')) {
  await import('./bench-rollout-real.mjs');
  process.exit(0);
}

const runs = arg('--runs', 10);
const healthyRuns = arg('--healthy-runs', 3);
const env = sandboxEnv();
const sandbox = env;
const work = mkdtempSync(join(tmpdir(), 'gantry-bench-rollout-'));
const PAUSE_S = 10;

const selector = 'namespace="{{namespace}}",app="{{name}}",track="{{canary}}"';
const analysis = join(work, 'analysis.yaml');
writeFileSync(
  analysis,
  [
    'interval: 5s',
    'failureLimit: 0',
    'inconclusiveLimit: 1',
    'metrics:',
    '  - name: error-rate',
    `    query: '(sum(rate(http_requests_total{${selector},code=~"5.."}[5s])) or vector(0)) / sum(rate(http_requests_total{${selector}}[5s]))'`,
    '    max: 0.05',
    '',
  ].join('\n'),
);

const manifests = (errorRate) => appAt(work, errorRate);

const namespaceWithStable = () => stableNamespace(env, 'bench', () => manifests(0));

const line = (label, values) =>
  `  ${label.padEnd(44)} p50 ${quantile(values, 0.5).toFixed(2)} s   p95 ${quantile(values, 0.95).toFixed(2)} s   [${values.map((v) => v.toFixed(1)).join(', ')}]`;

const restored = [];
const removed = [];
const decided = [];
for (let i = 0; i < runs; i++) {
  const namespace = await namespaceWithStable();
  const report = await deployCanary(env, {
    manifests: manifests(0.3),
    seed: `bad${i}`,
    namespace,
    steps: '10,25,50',
    pauseS: PAUSE_S,
    analysis,
  });
  if (report.verdict !== 'rolled-back')
    throw new Error(`run ${i}: expected a rollback, got ${report.verdict}: ${report.reason ?? report.error}`);
  const t = report.timings;
  decided.push(seconds(t.canaryTrafficStartedAt, t.abortDecidedAt));
  restored.push(seconds(t.canaryTrafficStartedAt, t.trafficRestoredAt));
  removed.push(seconds(t.canaryTrafficStartedAt, t.canaryRemovedAt));
  execFileSync(sandbox.KUBECTL, ['delete', 'namespace', namespace, '--wait=false'], { env, stdio: 'ignore' });
  process.stderr.write(`bad run ${i + 1}/${runs}: restored after ${restored.at(-1).toFixed(2)} s\n`);
}

const overhead = [];
const promotion = [];
for (let i = 0; i < healthyRuns; i++) {
  const namespace = await namespaceWithStable();
  const report = await deployCanary(env, {
    manifests: manifests(0),
    seed: `good${i}`,
    namespace,
    steps: '10,25,50',
    pauseS: PAUSE_S,
    analysis,
  });
  if (report.verdict !== 'promoted')
    throw new Error(`healthy run ${i}: ${report.verdict}: ${report.reason ?? report.error}`);
  for (const step of report.steps) overhead.push(seconds(step.startedAt, step.endedAt) - PAUSE_S);
  promotion.push(seconds(report.steps.at(-1).endedAt, report.timings.promotedAt));
  execFileSync(sandbox.KUBECTL, ['delete', 'namespace', namespace, '--wait=false'], { env, stdio: 'ignore' });
  process.stderr.write(`healthy run ${i + 1}/${healthyRuns} promoted\n`);
}

console.log(
  `rollout figures: ${runs} bad canaries (30% errors), ${healthyRuns} healthy ones (3 steps of ${PAUSE_S} s); scrape 1 s, checks every 5 s, rate over 5 s`,
);
console.log(line('breach → abort decided', decided));
console.log(line('breach → canary out of traffic (goal p95 ≤ 15 s)', restored));
console.log(line('breach → canary removed (goal p95 ≤ 30 s)', removed));
console.log(line('healthy step overhead beyond its pause (≤ 1 s)', overhead));
console.log(line('last step end → promoted (stable rolled)', promotion));
