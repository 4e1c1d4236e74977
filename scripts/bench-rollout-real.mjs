#!/usr/bin/env node
// Rollout figures on the sandbox's REAL data plane (printed, never asserted): Traefik routes real requests by
// the HTTPRoute Gantry writes (router gateway-api) to pods the data plane answers for; a load generator sends
// `--rps` requests per second through the gateway during each rollout and records who answered each one.
// Timed from the requests themselves, not from Gantry's report:
//   - a bad canary (30 % errors, judged on Traefik's own per-service counts, checks every 1 s over 3 s):
//     first request the canary answered → last request the canary answered (0 % of requests reaching the
//     canary at the proxy), p50 / p95; beside it Gantry's own decision and "traffic restored" marks;
//   - requests that failed during each rollback beyond the bad canary's own 500s (goal: none);
//   - a healthy canary promoted: requests that failed during the rollout and during the promotion (goal: none).
// Usage: node scripts/bench-rollout.mjs --real [--runs 10] [--healthy-runs 3] [--rps 200] [--no-start]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { proxyErrorRateQuery } from '../test/bed/gateway-app.mjs';
import { startLoad } from '../test/bed/loadgen.mjs';
import {
  arg,
  deployCanary,
  gatewayAppFile,
  quantile,
  sandboxEnv,
  seconds,
  servingNamespace,
} from './bench-lib.mjs';

const runs = arg('--runs', 10);
const healthyRuns = arg('--healthy-runs', 3);
const rps = arg('--rps', 200);
const env = sandboxEnv();
if (!env.GATEWAY_URL || !env.DATAPLANE_URL) {
  throw new Error(
    'the sandbox runs no gateway or data plane (GATEWAY_URL, DATAPLANE_URL): is it up to date?',
  );
}
const work = mkdtempSync(join(tmpdir(), 'gantry-bench-real-'));
const PAUSE_S = 10;
const gateway = { namespace: env.GATEWAY_NAMESPACE, name: env.GATEWAY_NAME };

const analysis = join(work, 'analysis.yaml');
writeFileSync(
  analysis,
  yaml.dump({
    interval: '1s',
    failureLimit: 0,
    // A canary's series exist at the proxy once it has answered, and a rate needs two scrapes: the first
    // seconds of a step have no data (inconclusive, never a pass).
    inconclusiveLimit: 5,
    metrics: [{ name: 'proxy-error-rate', query: proxyErrorRateQuery('3s'), max: 0.05 }],
  }),
);

const manifests = (host, errorRate) => gatewayAppFile(work, { host, gateway, errorRate });
const kubectl = (args) => execFileSync(env.KUBECTL, args, { env, stdio: 'ignore' });

const canary = (s) => s.track === 'canary';
const ownError = (s) => s.status === 500 && canary(s);
const failedBeyond = (samples, from, to) =>
  samples.filter((s) => s.sentAt >= from && s.sentAt < to && (s.error || s.status >= 500) && !ownError(s));

// What the proxy may still do after a rollout ends: Traefik applies a route's change up to its
// providersThrottleDuration (2 s) after accepting it; failures are counted until this long after the end.
const LAG_MS = 3000;

/** One canary rollout of `errorRate` under load: Gantry's report and every request's sample. */
async function canaryRun(seed, errorRate) {
  const { namespace, host } = await servingNamespace(env, 'bench-real', work, gateway);
  const load = startLoad({ url: env.GATEWAY_URL, host, rps, durationMs: 180_000 });
  const report = await deployCanary(env, {
    manifests: manifests(host, errorRate),
    seed,
    namespace,
    router: 'gateway-api',
    steps: '10,25,50',
    pauseS: PAUSE_S,
    analysis,
  });
  await new Promise((r) => setTimeout(r, LAG_MS + 1000));
  const samples = await load.stop();
  kubectl(['delete', 'namespace', namespace, '--wait=false']);
  return { report, samples };
}

const outOfTraffic = [];
const decided = [];
const restoredClaim = [];
const rollbackFailures = [];
for (let i = 0; i < runs; i++) {
  const { report, samples } = await canaryRun(`bad${i}`, 0.3);
  if (report.verdict !== 'rolled-back' || !/above max/.test(report.reason ?? ''))
    throw new Error(
      `run ${i}: expected a rollback on a breach, got ${report.verdict}: ${report.reason ?? report.error}`,
    );
  const answered = samples.filter(canary);
  if (answered.length === 0) throw new Error(`run ${i}: the canary never answered a request`);
  const first = Math.min(...answered.map((s) => s.sentAt));
  const last = Math.max(...answered.map((s) => s.sentAt));
  const t = report.timings;
  outOfTraffic.push((last - first) / 1000);
  decided.push((Date.parse(t.abortDecidedAt) - first) / 1000);
  restoredClaim.push((Date.parse(t.trafficRestoredAt) - first) / 1000);
  rollbackFailures.push(
    failedBeyond(samples, Date.parse(t.abortDecidedAt), Date.parse(t.finishedAt) + LAG_MS).length,
  );
  process.stderr.write(
    `bad run ${i + 1}/${runs}: canary answered ${answered.length} requests; last one ${outOfTraffic.at(-1).toFixed(2)} s after its first\n`,
  );
}

const rolloutFailures = [];
const promotionFailures = [];
const requests = [];
for (let i = 0; i < healthyRuns; i++) {
  const { report, samples } = await canaryRun(`good${i}`, 0);
  if (report.verdict !== 'promoted')
    throw new Error(`healthy run ${i}: ${report.verdict}: ${report.reason ?? report.error}`);
  const lastStepEnd = Date.parse(report.steps.at(-1).endedAt);
  const end = Date.parse(report.timings.finishedAt) + LAG_MS;
  requests.push(samples.length);
  rolloutFailures.push(failedBeyond(samples, 0, end).length);
  promotionFailures.push(failedBeyond(samples, lastStepEnd, end).length);
  process.stderr.write(
    `healthy run ${i + 1}/${healthyRuns} promoted in ${seconds(report.timings.startedAt, report.timings.finishedAt).toFixed(1)} s\n`,
  );
}

const line = (label, values) =>
  `  ${label.padEnd(58)} p50 ${quantile(values, 0.5).toFixed(2)} s   p95 ${quantile(values, 0.95).toFixed(2)} s   [${values.map((v) => v.toFixed(2)).join(', ')}]`;
const counts = (label, values) =>
  `  ${label.padEnd(58)} total ${values.reduce((a, b) => a + b, 0)}   per run [${values.join(', ')}]`;
console.log(
  `real data plane (Traefik, gateway-api router): ${runs} bad canaries (30% errors), ${healthyRuns} healthy ones; ${rps} requests/s through the gateway; checks every 1 s on Traefik's counts over 3 s`,
);
console.log(line("canary's first request → its last request (at the proxy)", outOfTraffic));
console.log(line("canary's first request → Gantry's abort decision", decided));
console.log(line('canary\'s first request → Gantry\'s "traffic restored"', restoredClaim));
console.log(counts('requests failed in rollbacks beyond the canary’s own 500s', rollbackFailures));
console.log(counts(`requests failed in healthy rollouts (of ${requests.join(', ')})`, rolloutFailures));
console.log(counts('  of which during the promotion', promotionFailures));
