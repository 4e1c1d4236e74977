#!/usr/bin/env node
// Scale figures on the local sandbox (printed, never asserted): S services × R replicas, each in its own
// namespace, rolled out at once as canaries with short steps and a Prometheus analysis, one `gantry deploy`
// each. Every Kubernetes API request goes through a counting proxy in front of the API server, so the request
// figures are what went over the wire. Prints: wall time, per-rollout duration (median, p95), API requests per
// rollout and per step (median, max) by verb, and the CPU the control plane used meanwhile.
// KWOK runs the pods; the simulator serves their metrics. Figures are noisy on a shared machine.
// Usage: node scripts/bench-scale.mjs [--services 50] [--replicas 10] [--steps 10,30] [--pause 5s]
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, p95, runScale, stepFigures } from '../test/bed/scale.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback;
const services = Number(arg('--services', 50));
const replicas = Number(arg('--replicas', 10));
const steps = arg('--steps', '10,30');
const pause = arg('--pause', '5s');
const sandbox = Object.fromEntries(
  execFileSync(process.execPath, [join(repo, 'scripts', 'testbed.mjs'), 'up'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n')
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
const stateDir = process.env.GANTRY_TESTBED_STATE ?? join(repo, '.testbed');

const result = await runScale({
  sandbox,
  stateDir,
  node: process.execPath,
  cli: join(repo, 'dist', 'cli.js'),
  services,
  replicas,
  steps,
  pause,
  log: (line) => process.stderr.write(`${line}\n`),
});

const verdicts = {};
for (const r of result.rollouts) verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
const durations = result.rollouts.map((r) => r.seconds);
const perRollout = result.rollouts.map((r) => r.total);
const figures = stepFigures(result);
const verbsOfRollouts = [...new Set(result.rollouts.flatMap((r) => Object.keys(r.byVerb)))].sort();

console.log(
  `scale figures: ${services} services × ${replicas} replicas rolled out at once (canary steps ${steps}, pause ${pause}, analysis every 2 s); every API request counted by a proxy`,
);
console.log(
  `  verdicts: ${Object.entries(verdicts)
    .map(([v, n]) => `${n} ${v}`)
    .join(', ')}`,
);
for (const r of result.rollouts.filter((r) => r.verdict !== 'promoted').slice(0, 5))
  console.log(`    ${r.namespace}: ${r.verdict}: ${r.reason}`);
console.log(`  wall time, first start → last end        ${result.wallSeconds.toFixed(1)} s`);
console.log(
  `  rollout duration                          median ${median(durations).toFixed(1)} s   p95 ${p95(durations).toFixed(1)} s   max ${Math.max(...durations).toFixed(1)} s`,
);
console.log(
  `  API requests per rollout                  median ${median(perRollout)}   max ${Math.max(...perRollout)}   (${verbsOfRollouts
    .map((v) => `${v} ${median(result.rollouts.map((r) => r.byVerb[v] ?? 0))}`)
    .join(', ')}; medians)`,
);
console.log(
  `  API requests per step (${figures.steps} steps)        median ${figures.total.median}   max ${figures.total.max}   (median ${figures.perSecond.toFixed(2)} per second of step)`,
);
for (const [verb, { median: m, max }] of Object.entries(figures.byVerb))
  console.log(`    ${verb.padEnd(10)} median ${String(m).padStart(3)}   max ${String(max).padStart(3)}`);
console.log(`  requests outside any namespace (discovery) ${result.unattributed}`);
console.log(
  `  control-plane CPU during the rollouts      ${Object.entries(result.cpuSeconds)
    .map(([name, s]) => `${name} ${s.toFixed(1)} s`)
    .join(', ')}`,
);
