#!/usr/bin/env node
// Gantry and Flagger side by side on the sandbox's REAL data plane (printed, never asserted; outside CI).
// Flagger v1.36.1 is built with `go install` (test/bed/install-flagger.sh) and runs out of cluster against the
// sandbox (`-mesh-provider gatewayapi:v1`, `-control-loop-interval 1s`; test/bed/flagger.mjs). Both tools write
// the HTTPRoute that Traefik serves, and a load generator sends `--rps` requests per second through Traefik
// during every run, so each tool is judged on the same real requests.
//   Flagger: Canary with analysis.interval 10s (--flagger-interval), threshold 1, stepWeight 10 up to 50, and
//            a MetricTemplate with the same query as Gantry's threshold judge (the canary's 5xx share at the
//            proxy over 3 s, max 0.05);
//   Gantry, threshold judge: steps 10/20/30/40/50 % of 10 s, that query every 1 s;
//   Gantry, sequential judge: the same steps, the canary's 5xx counts against the stable's as the data plane
//            counted them, every 1 s (false-rollback probability 1 %, smallest regression ×1.5).
// Bad releases (30 % errors against 0 % on stable), tools alternated run by run. Timed from the benchmark's
// own watch of the route and pods, not from either tool's report: canary weight > 0 → canary weight back to 0
// → canary pods gone; and from the load generator's samples: the canary's first answered request → its last.
// Flagger names its stable pods `web-primary-…` (label app=web-primary), so its canary pods are app=web;
// Gantry's carry gantry.dev/track=canary.
// Only rollbacks on a breach are timed (Gantry: "above max" / "a regression, conclusive"; Flagger: "Halt …
// advancement <metric> <value> > <max>"); any other rollback or failed run is listed with its reason.
// Flagger never checks more often than every 10 s: GetAnalysisInterval (pkg/apis/flagger/v1beta1/canary.go)
// raises a shorter analysis.interval to 10 s, so --flagger-interval below 10s changes nothing.
// Usage: node scripts/bench-peers.mjs [--runs 10] [--rps 200] [--flagger-interval 10s]
//          [--tools flagger,threshold,sequential] [--no-start]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { FLAGGER_VERSION, flaggerCanaryDocs, startFlagger } from '../test/bed/flagger.mjs';
import { proxyErrorRateQuery } from '../test/bed/gateway-app.mjs';
import { failed, startLoad, waitServing } from '../test/bed/loadgen.mjs';
import {
  appHost,
  arg,
  deployCanary,
  digest,
  gatewayAppFile,
  option,
  quantile,
  sandboxEnv,
  servingNamespace,
} from './bench-lib.mjs';

const runs = arg('--runs', 10);
const rps = arg('--rps', 200);
const FLAGGER_INTERVAL = option('--flagger-interval') ?? '10s';
const ERROR_RATE = 0.3;
const PAUSE_S = 10;
const STEPS = '10,20,30,40,50';
/** What the proxy may still do after a route's change: Traefik applies it up to 2 s after accepting it. */
const LAG_MS = 3000;

const env = sandboxEnv();
if (!env.GATEWAY_URL || !env.DATAPLANE_URL) {
  throw new Error(
    'the sandbox runs no gateway or data plane (GATEWAY_URL, DATAPLANE_URL): is it up to date?',
  );
}
const work = mkdtempSync(join(tmpdir(), 'gantry-bench-peers-'));
const gateway = { namespace: env.GATEWAY_NAMESPACE, name: env.GATEWAY_NAME };
const kubectl = (args, input) =>
  execFileSync(env.KUBECTL, args, { env, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The one query both threshold judges run, in each tool's placeholders.
const QUERY = proxyErrorRateQuery('3s');
const FLAGGER_QUERY = QUERY.replaceAll('{{namespace}}', '{{ namespace }}').replaceAll(
  '{{name}}',
  '{{ target }}',
);
const dataplane = (extra) =>
  `sum(dataplane_requests_total{namespace="{{namespace}}",track="{{track}}"${extra}})`;
const analysis = {
  threshold: {
    interval: '1s',
    failureLimit: 0,
    // The canary's series exist at the proxy once it has answered, and a rate needs two scrapes.
    inconclusiveLimit: 5,
    metrics: [{ name: 'proxy-error-rate', query: QUERY, max: 0.05 }],
  },
  sequential: {
    interval: '1s',
    failureLimit: 0,
    // Likewise: the canary's counters exist once it has answered (the proxy applies the route up to 2 s late).
    inconclusiveLimit: 5,
    metrics: [
      {
        name: 'errors',
        sequential: {
          errors: `${dataplane(',code=~"5.."')} or vector(0)`,
          requests: dataplane(''),
          minRatio: 1.5,
          alpha: 0.01,
        },
      },
    ],
  },
};
const analysisFile = Object.fromEntries(
  Object.entries(analysis).map(([judge, doc]) => {
    const file = join(work, `${judge}.yaml`);
    writeFileSync(file, yaml.dump(doc));
    return [judge, file];
  }),
);

const kc = new k8s.KubeConfig();
kc.loadFromFile(env.KUBECONFIG);
const watcher = new k8s.Watch(kc);
// client-node ends a watch after 30 s without an event; a Flagger run has longer quiet spells (its 10 s ticks).
watcher.requestTimeoutMs = 15 * 60_000;

/**
 * Watches the HTTPRoute `web` and the pods of `namespace`: when the canary's weight (backendRefs named
 * web-canary) first went above 0, when it went back to 0, and when the last canary pod was gone after that.
 */
async function watchRollout(namespace, isCanaryPod) {
  const t = { in: 0, out: 0, gone: 0 };
  const canaryPods = new Set();
  let stopped = false;
  let ended = '';
  const onEnd = (what) => (error) => {
    if (!stopped) ended ||= `the ${what} watch ended: ${error?.message ?? 'closed'}`;
  };
  const settle = () => {
    if (t.out && !t.gone && canaryPods.size === 0) t.gone = Date.now();
  };
  const route = await watcher.watch(
    `/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/httproutes`,
    {},
    (_type, obj) => {
      if (obj?.metadata?.name !== 'web') return;
      const weight = (obj.spec?.rules ?? [])
        .flatMap((r) => r.backendRefs ?? [])
        .filter((b) => b.name === 'web-canary')
        .reduce((sum, b) => sum + (b.weight ?? 1), 0);
      if (weight > 0 && !t.in) t.in = Date.now();
      if (weight === 0 && t.in && !t.out) {
        t.out = Date.now();
        settle();
      }
    },
    onEnd('route'),
  );
  const pods = await watcher.watch(
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    (type, pod) => {
      if (!isCanaryPod(pod)) return;
      if (type === 'DELETED') canaryPods.delete(pod.metadata.name);
      else canaryPods.add(pod.metadata.name);
      settle();
    },
    onEnd('pods'),
  );
  return {
    t,
    async until(done, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (!done(t)) {
        if (ended) throw new Error(`${namespace}: ${ended}`);
        if (Date.now() > deadline) throw new Error(`${namespace}: ${what} not seen within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    stop() {
      stopped = true;
      route.abort();
      pods.abort();
    },
  };
}

/** The pods of `namespace` and their labels, for an error that says what was left. */
const podsOf = (namespace) =>
  kubectl([
    'get',
    'pods',
    '-n',
    namespace,
    '-o',
    'custom-columns=NAME:.metadata.name,LABELS:.metadata.labels',
  ])
    .trim()
    .replaceAll('\n', '; ');

/** Everything timed in one run, from the watch and the load generator's samples. */
function figures(t, samples, answeredByCanary) {
  const answered = samples.filter(answeredByCanary);
  const failedBeyond = samples.filter((s) => failed(s) && !(answeredByCanary(s) && s.status === 500));
  return {
    weightBackTo0: (t.out - t.in) / 1000,
    podsGone: (t.gone - t.in) / 1000,
    answered: answered.length,
    firstToLast: answered.length
      ? (Math.max(...answered.map((s) => s.sentAt)) - Math.min(...answered.map((s) => s.sentAt))) / 1000
      : Number.NaN,
    failedBeyond: failedBeyond.length,
  };
}

async function gantryRun(judge, seed) {
  const { namespace, host } = await servingNamespace(env, 'peer-gantry', work, gateway);
  try {
    const watch = await watchRollout(namespace, (p) => p.metadata?.labels?.['gantry.dev/track'] === 'canary');
    const load = startLoad({ url: env.GATEWAY_URL, host, rps, durationMs: 180_000 });
    let report;
    let samples;
    try {
      report = await deployCanary(env, {
        manifests: gatewayAppFile(work, { host, gateway, errorRate: ERROR_RATE }),
        seed,
        namespace,
        router: 'gateway-api',
        steps: STEPS,
        pauseS: PAUSE_S,
        analysis: analysisFile[judge],
      });
      if (report.verdict === 'rolled-back') await watch.until((t) => t.gone, 30_000, 'canary pods gone');
      await sleep(LAG_MS);
    } catch (error) {
      throw new Error(`${error.message}; pods: ${podsOf(namespace)}`);
    } finally {
      samples = await load.stop();
      watch.stop();
    }
    if (report.verdict !== 'rolled-back') {
      throw new Error(
        `gantry (${judge}) in ${namespace}: ${report.verdict}: ${report.reason ?? report.error}`,
      );
    }
    return { reason: report.reason, ...figures(watch.t, samples, (s) => s.track === 'canary') };
  } finally {
    kubectl(['delete', 'namespace', namespace, '--wait=false']);
  }
}

const canaryPhase = (namespace) => {
  try {
    return kubectl(['get', 'canary', 'web', '-n', namespace, '-o', 'jsonpath={.status.phase}']).trim();
  } catch {
    return '';
  }
};
async function waitPhase(namespace, phases, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const phase = canaryPhase(namespace);
    if (phases.includes(phase)) return phase;
    if (Date.now() > deadline) throw new Error(`flagger: canary ${namespace}/web still "${phase}"`);
    await sleep(500);
  }
}
/** Flagger's event for a failed check: "Halt web.NS advancement proxy-error-rate 0.30 > 0.05". */
const FLAGGER_BREACH = /^Halt .* advancement .* > /;
/** The Canary's events, oldest first (Flagger says there why it halted and rolled back). */
const canaryEvents = (namespace) =>
  JSON.parse(kubectl(['get', 'events', '-n', namespace, '-o', 'json']))
    .items.filter((e) => e.involvedObject?.kind === 'Canary')
    .sort((a, b) => Date.parse(a.lastTimestamp ?? a.eventTime) - Date.parse(b.lastTimestamp ?? b.eventTime))
    .map((e) => e.message);

async function flaggerRun(seed) {
  const namespace = `peer-flagger-${Date.now().toString(36)}`;
  const host = appHost(namespace);
  kubectl(['create', 'namespace', namespace]);
  try {
    const docs = flaggerCanaryDocs({
      namespace,
      host,
      gateway,
      prometheus: env.PROMETHEUS_URL,
      query: FLAGGER_QUERY,
      max: 0.05,
      interval: FLAGGER_INTERVAL,
    });
    docs[0].spec.template.spec.containers[0].image = digest(`stable-${seed}`);
    kubectl(['apply', '-f', '-'], docs.map((d) => yaml.dump(d)).join('---\n'));
    await waitPhase(namespace, ['Initialized'], 120_000);
    await waitServing(env.GATEWAY_URL, host);
    const watch = await watchRollout(namespace, (p) => p.metadata?.labels?.app === 'web');
    const load = startLoad({ url: env.GATEWAY_URL, host, rps, durationMs: 240_000 });
    let phase;
    let samples;
    try {
      const release = {
        spec: {
          template: {
            metadata: { annotations: { 'testbed.gantry.dev/error-rate': String(ERROR_RATE) } },
            spec: { containers: [{ name: 'app', image: digest(seed) }] },
          },
        },
      };
      kubectl([
        'patch',
        'deployment',
        'web',
        '-n',
        namespace,
        '--type',
        'strategic',
        '-p',
        JSON.stringify(release),
      ]);
      phase = await waitPhase(namespace, ['Failed', 'Succeeded'], 180_000);
      if (phase === 'Failed') await watch.until((t) => t.gone, 60_000, 'canary pods gone');
      await sleep(LAG_MS);
    } catch (error) {
      throw new Error(
        `${error.message}; pods: ${podsOf(namespace)}; events: ${canaryEvents(namespace).join(' | ')}`,
      );
    } finally {
      samples = await load.stop();
      watch.stop();
    }
    const events = canaryEvents(namespace);
    if (phase !== 'Failed')
      throw new Error(`flagger in ${namespace}: ${phase}; events: ${events.join(' | ')}`);
    // "Halt web.NS advancement proxy-error-rate 0.30 > 0.05" (the breach), else the rollback's own line.
    const reason =
      events.find((m) => FLAGGER_BREACH.test(m)) ?? events.find((m) => /Rolling back/.test(m)) ?? '';
    return {
      reason,
      ...figures(watch.t, samples, (s) => s.pod !== '' && !s.pod.startsWith('web-primary-')),
    };
  } finally {
    kubectl(['delete', 'namespace', namespace, '--wait=false']);
  }
}

// Each tool's run, and what its reason must say for the rollback to be a breach of the metric (not "no data").
const TOOLS = {
  [`flagger ${FLAGGER_VERSION}`]: { key: 'flagger', run: flaggerRun, breach: FLAGGER_BREACH },
  'gantry threshold': { key: 'threshold', run: (seed) => gantryRun('threshold', seed), breach: /above max/ },
  'gantry sequential': {
    key: 'sequential',
    run: (seed) => gantryRun('sequential', seed),
    breach: /a regression, conclusive after/,
  },
};
const picked = (option('--tools') ?? 'flagger,threshold,sequential').split(',');
const names = Object.keys(TOOLS).filter((n) => picked.includes(TOOLS[n].key));
const flagger = await startFlagger(env, { logFile: join(work, 'flagger.log') });
process.stderr.write(`flagger started (pid ${flagger.pid}); its log: ${join(work, 'flagger.log')}\n`);
const results = Object.fromEntries(names.map((n) => [n, []]));
/** Per tool: runs rolled back for another reason than a breach, and runs that went wrong (with why). */
const otherRollbacks = Object.fromEntries(names.map((n) => [n, []]));
const errors = Object.fromEntries(names.map((n) => [n, []]));
try {
  for (let i = 0; i < runs; i++) {
    // Rotate the order so no tool always runs first after another's namespace deletion.
    const order = names.map((_, k) => names[(k + i) % names.length]);
    for (const name of order) {
      let r;
      try {
        r = await TOOLS[name].run(`peer-${TOOLS[name].key}-${i}-${Date.now()}`);
      } catch (error) {
        errors[name].push(error.message);
        process.stderr.write(`${name} run ${i + 1}/${runs}: FAILED: ${error.message}\n`);
        continue;
      }
      const breach = TOOLS[name].breach.test(r.reason);
      (breach ? results : otherRollbacks)[name].push(r);
      process.stderr.write(
        `${name} run ${i + 1}/${runs}: ${breach ? '' : 'NOT A BREACH: '}weight back to 0 in ${r.weightBackTo0.toFixed(2)} s, pods gone in ${r.podsGone.toFixed(2)} s, canary answered ${r.answered} requests over ${r.firstToLast.toFixed(2)} s; ${r.reason}\n`,
      );
    }
  }
} finally {
  await flagger.stop();
}

const pq = (values) =>
  `${quantile(values, 0.5).toFixed(2).padStart(6)} / ${quantile(values, 0.95).toFixed(2).padStart(6)} s`;
console.log(
  `peers on the real data plane (Traefik, Gateway API HTTPRoute), ${runs} bad releases (${ERROR_RATE * 100}% errors) per tool, alternated, ${rps} requests/s through the gateway:`,
);
console.log(
  `  flagger: analysis.interval ${FLAGGER_INTERVAL}, threshold 1, stepWeight 10 up to 50, control loop 1 s; gantry: steps ${STEPS} % of ${PAUSE_S} s, checks every 1 s`,
);
console.log(
  `  ${'tool'.padEnd(24)} ${'weight>0 → weight 0'.padEnd(22)} ${'weight>0 → pods gone'.padEnd(22)} ${"canary's first → last request".padEnd(30)} failed beyond canary's own`,
);
console.log(
  `  ${' '.repeat(24)} ${'p50 / p95'.padEnd(22)} ${'p50 / p95'.padEnd(22)} ${'p50 / p95'.padEnd(30)} total`,
);
for (const name of names) {
  const r = results[name];
  console.log(
    `  ${name.padEnd(24)} ${pq(r.map((x) => x.weightBackTo0)).padEnd(22)} ${pq(r.map((x) => x.podsGone)).padEnd(22)} ${pq(r.map((x) => x.firstToLast)).padEnd(30)} ${r.reduce((a, x) => a + x.failedBeyond, 0)}`,
  );
}
for (const name of names) {
  console.log(
    `  ${name} runs (weight>0 → 0): ${results[name].map((x) => x.weightBackTo0.toFixed(2)).join(', ')}`,
  );
}
for (const name of names) {
  console.log(
    `  ${name}: ${results[name].length}/${runs} rolled back on a breach, ${otherRollbacks[name].length} for another reason, ${errors[name].length} went wrong; e.g. "${results[name][0]?.reason}"`,
  );
  for (const r of otherRollbacks[name]) console.log(`      other reason: ${r.reason}`);
  for (const e of errors[name]) console.log(`      went wrong: ${e.slice(0, 600)}`);
}
