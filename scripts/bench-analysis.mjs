#!/usr/bin/env node
// The judges side by side on the local sandbox (printed, never asserted), all looking every 1 s at a Prometheus
// that scrapes every 1 s:
//   errors:  the threshold judge (the 5xx share over a 4 s rate window, max 5 %) against the sequential judge of
//            counts (the canary's 5xx counts against the stable's, false-rollback probability 1 %, ×1.5);
//   latency: the threshold judge (histogram_quantile p95 over a 4 s window, max 100 ms) against the sequential
//            judge of latency (both tracks' histograms, false-rollback probability 1 %, +50 ms at p95).
// Bad canaries at 30 %, 5 % and 2 % errors against a 0.5 % stable, and one +100 ms slower (120 ms against
// 20 ms), runs of the two judges alternated: time from canary traffic to canary out of traffic, p50/p95, and
// how many were caught within the step. Healthy canaries (like the stable) for each judge: false rollbacks,
// and the time to promotion with endEarly (sequential) against the full pauses (threshold).
// Traffic has noise by default (the simulator's testbed.gantry.dev/noise, seeded per namespace: Poisson
// requests, each request's error and latency drawn), so a healthy canary is never an exact copy of the stable;
// --exact turns it off (a simulator without noise support ignores the annotation: restart the sandbox).
// Usage: node scripts/bench-analysis.mjs [--runs 10] [--healthy-runs 10] [--pause 30] [--rps 50]
//          [--cases 30,5,2,latency] [--exact] [--parallel 1] [--no-start]
// --parallel N runs N rollouts at once, each in its own namespace: for the many healthy runs a false-rollback
// count needs (timings then include the machine being shared; the judges' looks stay 1 s apart).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  manifests as appAt,
  arg,
  deployCanary,
  option,
  quantile,
  sandboxEnv,
  seconds,
  stableNamespace,
} from './bench-lib.mjs';

const runs = arg('--runs', 10);
const CASES = (option('--cases') ?? '30,5,2,latency').split(',');
const NOISE = !process.argv.includes('--exact');
const healthyRuns = arg('--healthy-runs', 10);
const PAUSE_S = arg('--pause', 30);
const BASELINE = 0.005;
/** Requests per second to the app (the simulator's default is 50; --rps 500 is a busier service). */
const RPS = arg('--rps', 50);
/** Rollouts at once (each in its own namespace); 1 = one after another. */
const PARALLEL = arg('--parallel', 1);
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
  'threshold-latency': [
    'interval: 1s',
    'failureLimit: 0',
    'inconclusiveLimit: 3',
    'metrics:',
    '  - name: latency-p95',
    `    query: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${canarySel}}[4s])))'`,
    '    max: 0.1',
  ],
  'sequential-latency': [
    'interval: 1s',
    'metrics:',
    '  - name: latency',
    '    sequential:',
    `      latency: 'sum by (le) (http_request_duration_seconds_bucket{${trackSel}})'`,
    '      quantile: 0.95',
    '      minShift: 50ms',
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

const manifests = (namespace, errorRate, latencyMs = 20) =>
  appAt(work, errorRate, RPS, { latencyMs, ...(NOISE && { noise: namespace }) });

const namespaceWithStable = () =>
  stableNamespace(
    env,
    'bench-an',
    (namespace) => manifests(namespace, BASELINE),
    (namespace) => `stable-${namespace}`,
  );

async function canary(judge, { errorRate, latencyMs = 20 }, seed) {
  const namespace = await namespaceWithStable();
  try {
    return await deployCanary(env, {
      manifests: manifests(namespace, errorRate, latencyMs),
      seed,
      namespace,
      steps: '20,50',
      pauseS: PAUSE_S,
      analysis: analysisFile[judge],
    });
  } finally {
    execFileSync(sandbox.KUBECTL, ['delete', 'namespace', namespace, '--wait=false'], {
      env,
      stdio: 'ignore',
    });
  }
}

const fmt = (v) => (Number.isFinite(v) ? `${v.toFixed(2)} s` : '   –  ');

const JUDGES = { errors: ['threshold', 'sequential'], latency: ['threshold-latency', 'sequential-latency'] };
const BAD = [
  { name: '30%', key: '30', kind: 'errors', errorRate: 0.3 },
  { name: '5%', key: '5', kind: 'errors', errorRate: 0.05 },
  { name: '2%', key: '2', kind: 'errors', errorRate: 0.02 },
  { name: '+100 ms', key: 'latency', kind: 'latency', errorRate: BASELINE, latencyMs: 120 },
].filter((c) => CASES.includes(c.key));
const kinds = [...new Set(BAD.map((c) => c.kind))];

// Every run is one job; --parallel N runs N at a time, each in its own namespace (the judges read only their
// own namespace's series). Runs of the judges are alternated in the queue either way.
const jobs = [];
const results = BAD.map((bad) => ({
  bad,
  out: Object.fromEntries(JUDGES[bad.kind].map((j) => [j, { times: [], missed: 0 }])),
}));
for (const { bad, out } of results) {
  const judges = JUDGES[bad.kind];
  for (let i = 0; i < runs; i++) {
    for (const judge of i % 2 === 0 ? judges : [...judges].reverse()) {
      jobs.push(async () => {
        const report = await canary(judge, bad, `bad-${bad.key}-${judge}-${i}-${Date.now()}`);
        if (report.verdict === 'rolled-back') {
          out[judge].times.push(
            seconds(report.timings.canaryTrafficStartedAt, report.timings.trafficRestoredAt),
          );
        } else out[judge].missed++;
        process.stderr.write(
          `${bad.name} ${judge} run ${i + 1}/${runs}: ${report.verdict}${report.verdict === 'rolled-back' ? ` in ${out[judge].times.at(-1).toFixed(2)} s` : ''}\n`,
        );
      });
    }
  }
}

const healthy = kinds.map((kind) => ({
  kind,
  out: Object.fromEntries(JUDGES[kind].map((j) => [j, { falseRollbacks: 0, durations: [], reasons: [] }])),
}));
for (let i = 0; i < healthyRuns; i++) {
  for (const { kind, out } of healthy) {
    const judges = JUDGES[kind];
    for (const judge of i % 2 === 0 ? judges : [...judges].reverse()) {
      jobs.push(async () => {
        const report = await canary(judge, { errorRate: BASELINE }, `good-${judge}-${i}-${Date.now()}`);
        if (report.verdict === 'promoted')
          out[judge].durations.push(
            seconds(report.timings.canaryTrafficStartedAt, report.timings.promotedAt),
          );
        else {
          out[judge].falseRollbacks++;
          out[judge].reasons.push(report.reason ?? report.error);
        }
        process.stderr.write(
          `healthy ${judge} run ${i + 1}/${healthyRuns}: ${report.verdict}${report.verdict === 'promoted' ? '' : ` (${report.reason ?? report.error})`}\n`,
        );
      });
    }
  }
}

const began = Date.now();
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(PARALLEL, jobs.length) }, async () => {
    while (next < jobs.length) await jobs[next++]();
  }),
);
const wallS = (Date.now() - began) / 1000;

console.log(
  `analysis judges on the sandbox (${jobs.length} rollouts, ${PARALLEL} at a time, ${(wallS / 60).toFixed(1)} min): steps 20/50% of ${PAUSE_S} s, looks every 1 s, scrape 1 s, stable at ${BASELINE * 100}% errors and 20 ms, ${RPS} requests/s to the app, ${NOISE ? 'noise per request (seeded per namespace)' : 'exact traffic (no noise)'}; ${runs} bad runs per case and judge, ${healthyRuns} healthy runs per judge (alternated)`,
);
console.log('  bad canary   judge                caught   traffic start → out of traffic: p50      p95');
for (const { bad, out } of results) {
  for (const judge of JUDGES[bad.kind]) {
    const r = out[judge];
    console.log(
      `  ${bad.name.padEnd(12)} ${judge.padEnd(20)} ${`${r.times.length}/${r.times.length + r.missed}`.padEnd(8)} ${' '.repeat(29)}${fmt(quantile(r.times, 0.5)).padEnd(9)}${fmt(quantile(r.times, 0.95))}`,
    );
  }
}
console.log('  healthy      judge                false rollbacks   traffic start → promoted: p50      p95');
for (const { kind, out } of healthy) {
  for (const judge of JUDGES[kind]) {
    const h = out[judge];
    console.log(
      `  ${kind.padEnd(12)} ${judge.padEnd(20)} ${`${h.falseRollbacks}/${h.falseRollbacks + h.durations.length}`.padEnd(17)} ${' '.repeat(22)}${fmt(quantile(h.durations, 0.5)).padEnd(9)}${fmt(quantile(h.durations, 0.95))}`,
    );
    for (const reason of h.reasons) console.log(`      false rollback: ${reason}`);
  }
}
