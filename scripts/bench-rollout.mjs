#!/usr/bin/env node
// Rollout figures on the local sandbox (printed, never asserted), with Prometheus scraping every 1 s and the
// analysis measuring every 5 s:
//   - a bad canary (30% errors): breach → canary out of traffic (trafficRestoredAt − canaryTrafficStartedAt)
//     and breach → canary removed (canaryRemovedAt − canaryTrafficStartedAt), p50 and p95 over N runs;
//   - a healthy canary: time each step takes beyond its configured pause (Gantry's overhead per step).
// Usage: node scripts/bench-rollout.mjs [--runs 10] [--healthy-runs 3]
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => Number(process.argv[process.argv.indexOf(name) + 1]) || fallback;
const runs = arg('--runs', 10);
const healthyRuns = arg('--healthy-runs', 3);
const cli = join(repo, 'dist', 'cli.js');
const sandbox = Object.fromEntries(
  execFileSync(process.execPath, [join(repo, 'scripts', 'testbed.mjs'), 'up'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n')
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
const env = { ...process.env, ...sandbox };
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

function manifests(errorRate) {
  const file = join(work, `app-${errorRate}.yaml`);
  writeFileSync(
    file,
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, labels: { app: web } }
spec:
  replicas: 6
  selector: { matchLabels: { app: web } }
  template:
    metadata:
      labels: { app: web }
      annotations: { testbed.gantry.dev/error-rate: "${errorRate}", testbed.gantry.dev/latency-ms: "20" }
    spec: { containers: [{ name: app, image: placeholder }] }
---
apiVersion: v1
kind: Service
metadata: { name: web, labels: { app: web } }
spec: { selector: { app: web }, ports: [{ port: 80 }] }
`,
  );
  return file;
}

const digest = (seed) =>
  `127.0.0.1:5000/bench/web@sha256:${Buffer.from(seed).toString('hex').padEnd(64, '0').slice(0, 64)}`;

async function gantry(args) {
  const result = await execFileAsync(process.execPath, [cli, ...args, '--json', '--quiet'], {
    env,
    encoding: 'utf8',
  }).catch((error) => error);
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(
      `gantry ${args[0]} printed no JSON (exit ${result.code}): ${String(result.stderr).slice(-2000)}`,
    );
  }
}

async function namespaceWithStable() {
  const namespace = `bench-${Date.now().toString(36)}`;
  execFileSync(sandbox.KUBECTL, ['create', 'namespace', namespace], { env, stdio: 'ignore' });
  const first = await gantry([
    'deploy',
    '--manifests',
    manifests(0),
    '--image',
    `app=${digest('stable')}`,
    '--namespace',
    namespace,
    '--strategy',
    'rolling',
  ]);
  if (first.verdict !== 'promoted') throw new Error(`stable deploy failed: ${first.reason ?? first.error}`);
  return namespace;
}

const seconds = (from, to) => (Date.parse(to) - Date.parse(from)) / 1000;
const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
};
const line = (label, values) =>
  `  ${label.padEnd(44)} p50 ${quantile(values, 0.5).toFixed(2)} s   p95 ${quantile(values, 0.95).toFixed(2)} s   [${values.map((v) => v.toFixed(1)).join(', ')}]`;

const restored = [];
const removed = [];
const decided = [];
for (let i = 0; i < runs; i++) {
  const namespace = await namespaceWithStable();
  const report = await gantry([
    'deploy',
    '--manifests',
    manifests(0.3),
    '--image',
    `app=${digest(`bad${i}`)}`,
    '--namespace',
    namespace,
    '--strategy',
    'canary',
    '--steps',
    '10,25,50',
    '--pause',
    `${PAUSE_S}s`,
    '--analysis',
    analysis,
  ]);
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
  const report = await gantry([
    'deploy',
    '--manifests',
    manifests(0),
    '--image',
    `app=${digest(`good${i}`)}`,
    '--namespace',
    namespace,
    '--strategy',
    'canary',
    '--steps',
    '10,25,50',
    '--pause',
    `${PAUSE_S}s`,
    '--analysis',
    analysis,
  ]);
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
