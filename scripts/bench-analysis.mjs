#!/usr/bin/env node
// The two judges side by side on the local sandbox (printed, never asserted): the threshold judge (the 5xx share
// over a 4 s rate window, max 5 %) and the sequential judge (the canary's 5xx counts against the stable's,
// false-rollback probability 1 %, smallest regression ×1.5), both looking every 1 s at a Prometheus that scrapes
// every 1 s. Bad canaries at 30 %, 5 % and 2 % errors against a 0.5 % stable, runs of the two judges
// alternated: time from canary traffic to canary out of traffic, p50/p95, and how many were caught within the
// step. Healthy canaries (0.5 % like the stable): false rollbacks, and the time to promotion with endEarly
// (sequential) against the full pauses (threshold).
// The sandbox's traffic is deterministic (each track serves its share of requests with its exact error rate):
// there is no noise in requests or errors, so a healthy canary is never a close call here.
// Usage: node scripts/bench-analysis.mjs [--runs 10] [--healthy-runs 10] [--pause 30] [--rps 50]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  manifests as appAt,
  arg,
  digest,
  quantile,
  gantry as run,
  sandboxEnv,
  seconds,
} from './bench-lib.mjs';

const runs = arg('--runs', 10);
const healthyRuns = arg('--healthy-runs', 10);
const PAUSE_S = arg('--pause', 30);
const BASELINE = 0.005;
/** Requests per second to the app (the simulator's default is 50; --rps 500 is a busier service). */
const RPS = arg('--rps', 50);
const env = sandboxEnv();
const sandbox = env;
const work = mkdtempSync(join(tmpdir(), 'gantry-bench-analysis-'));

const canarySel = 'namespace="{{namespace}}",app="{{name}}",track="{{canary}}",run="{{run}}"';
const trackSel = 'namespace="{{namespace}}",app="{{name}}",track="{{track}}",run="{{run}}"';
const analyses = {
  threshold: [
    'interval: 1s',
    'failureLimit: 0',
    'inconclusiveLimit: 3',
    'metrics:',
    '  - name: error-rate',
    `    query: '(sum(rate(http_requests_total{${canarySel},code=~"5.."}[4s])) or vector(0)) / sum(rate(http_requests_total{${canarySel}}[4s]))'`,
    '    max: 0.05',
  ],
  sequential: [
    'interval: 1s',
    'metrics:',
    '  - name: errors',
    '    sequential:',
    `      errors: 'sum(http_requests_total{${trackSel},code=~"5.."}) or vector(0)'`,
    `      requests: 'sum(http_requests_total{${trackSel}})'`,
    '      minRatio: 1.5',
    '      alpha: 0.01',
    '      endEarly: true',
  ],
};
const analysisFile = Object.fromEntries(
  Object.entries(analyses).map(([judge, lines]) => {
    const file = join(work, `${judge}.yaml`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return [judge, file];
  }),
);

const manifests = (errorRate) => appAt(work, errorRate, RPS);
const gantry = (args) => run(env, args);

async function namespaceWithStable() {
  const namespace = `bench-an-${Date.now().toString(36)}`;
  execFileSync(sandbox.KUBECTL, ['create', 'namespace', namespace], { env, stdio: 'ignore' });
  const first = await gantry([
    'deploy',
    '--manifests',
    manifests(BASELINE),
    '--image',
    `app=${digest(`stable-${namespace}`)}`,
    '--namespace',
    namespace,
    '--strategy',
    'rolling',
  ]);
  if (first.verdict !== 'promoted') throw new Error(`stable deploy failed: ${first.reason ?? first.error}`);
  return namespace;
}

async function canary(judge, errorRate, seed) {
  const namespace = await namespaceWithStable();
  try {
    return await gantry([
      'deploy',
      '--manifests',
      manifests(errorRate),
      '--image',
      `app=${digest(seed)}`,
      '--namespace',
      namespace,
      '--strategy',
      'canary',
      '--steps',
      '20,50',
      '--pause',
      `${PAUSE_S}s`,
      '--analysis',
      analysisFile[judge],
    ]);
  } finally {
    execFileSync(sandbox.KUBECTL, ['delete', 'namespace', namespace, '--wait=false'], {
      env,
      stdio: 'ignore',
    });
  }
}

const fmt = (v) => (Number.isFinite(v) ? `${v.toFixed(2)} s` : '   –  ');

const judges = ['threshold', 'sequential'];
const results = [];
for (const rate of [0.3, 0.05, 0.02]) {
  const out = Object.fromEntries(judges.map((j) => [j, { times: [], missed: 0 }]));
  for (let i = 0; i < runs; i++) {
    for (const judge of i % 2 === 0 ? judges : [...judges].reverse()) {
      const report = await canary(judge, rate, `bad-${rate}-${judge}-${i}-${Date.now()}`);
      if (report.verdict === 'rolled-back') {
        out[judge].times.push(
          seconds(report.timings.canaryTrafficStartedAt, report.timings.trafficRestoredAt),
        );
      } else out[judge].missed++;
      process.stderr.write(
        `${(rate * 100).toFixed(0)}% ${judge} run ${i + 1}/${runs}: ${report.verdict}${report.verdict === 'rolled-back' ? ` in ${out[judge].times.at(-1).toFixed(2)} s` : ''}\n`,
      );
    }
  }
  results.push({ rate, out });
}

const healthy = Object.fromEntries(judges.map((j) => [j, { falseRollbacks: 0, durations: [] }]));
for (let i = 0; i < healthyRuns; i++) {
  for (const judge of i % 2 === 0 ? judges : [...judges].reverse()) {
    const report = await canary(judge, BASELINE, `good-${judge}-${i}-${Date.now()}`);
    if (report.verdict === 'promoted')
      healthy[judge].durations.push(
        seconds(report.timings.canaryTrafficStartedAt, report.timings.promotedAt),
      );
    else healthy[judge].falseRollbacks++;
    process.stderr.write(`healthy ${judge} run ${i + 1}/${healthyRuns}: ${report.verdict}\n`);
  }
}

console.log(
  `analysis judges on the sandbox: steps 20/50% of ${PAUSE_S} s, looks every 1 s, scrape 1 s, stable at ${BASELINE * 100}% errors, ${RPS} requests/s to the app; ${runs} bad runs per rate and judge, ${healthyRuns} healthy runs per judge (alternated)`,
);
console.log('  bad canary   judge        caught   traffic start → out of traffic: p50      p95');
for (const { rate, out } of results) {
  for (const judge of judges) {
    const r = out[judge];
    console.log(
      `  ${`${(rate * 100).toFixed(0)}%`.padEnd(12)} ${judge.padEnd(12)} ${`${r.times.length}/${r.times.length + r.missed}`.padEnd(8)} ${' '.repeat(29)}${fmt(quantile(r.times, 0.5)).padEnd(9)}${fmt(quantile(r.times, 0.95))}`,
    );
  }
}
console.log('  healthy      judge        false rollbacks   traffic start → promoted: p50      p95');
for (const judge of judges) {
  const h = healthy[judge];
  console.log(
    `  ${`${BASELINE * 100}%`.padEnd(12)} ${judge.padEnd(12)} ${`${h.falseRollbacks}/${h.falseRollbacks + h.durations.length}`.padEnd(17)} ${' '.repeat(22)}${fmt(quantile(h.durations, 0.5)).padEnd(9)}${fmt(quantile(h.durations, 0.95))}`,
  );
}
