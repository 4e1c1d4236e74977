// Many rollouts at once on the sandbox, for the scale benchmark (scripts/bench-scale.mjs) and its test
// (test/integration/scale.test.ts): S services of R replicas, each in its own namespace, first deployed (rolling,
// not measured), then all rolled out together as canaries with short steps and a Prometheus analysis, each
// by its own `gantry deploy` process. Every Kubernetes API request goes through a counting proxy
// (kube-proxy.mjs), so the figures are what went over the wire: requests per rollout and per step, by verb.
// KWOK runs the pods (no containers) and the simulator serves their metrics.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startKubeProxy } from './kube-proxy.mjs';

const execFileAsync = promisify(execFile);

/** A syntactically valid digest per seed (KWOK pods never pull). */
export const fakeDigest = (seed) =>
  `127.0.0.1:5000/scale/app@sha256:${Buffer.from(seed).toString('hex').padEnd(64, '0').slice(0, 64)}`;

function writeApp(dir, replicas) {
  const file = join(dir, 'app.yaml');
  writeFileSync(
    file,
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: app, labels: { app: app } }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: app } }
  template:
    metadata:
      labels: { app: app }
      annotations: { testbed.gantry.dev/error-rate: "0", testbed.gantry.dev/latency-ms: "20" }
    spec: { containers: [{ name: app, image: placeholder }] }
---
apiVersion: v1
kind: Service
metadata: { name: app, labels: { app: app } }
spec: { selector: { app: app }, ports: [{ port: 80 }] }
`,
  );
  return file;
}

function writeAnalysis(dir, intervalSeconds) {
  const selector = 'namespace="{{namespace}}",app="{{name}}",track="{{canary}}"';
  const file = join(dir, 'analysis.yaml');
  writeFileSync(
    file,
    [
      `interval: ${intervalSeconds}s`,
      'failureLimit: 0',
      'inconclusiveLimit: 2',
      'metrics:',
      '  - name: error-rate',
      `    query: '(sum(rate(http_requests_total{${selector},code=~"5.."}[5s])) or vector(0)) / sum(rate(http_requests_total{${selector}}[5s]))'`,
      '    max: 0.05',
      '',
    ].join('\n'),
  );
  return file;
}

/** CPU seconds (user + system) each control-plane process has used so far, by command name. */
export function controlPlaneCpu(stateDir) {
  const state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8'));
  const pids = state.components?.kubernetes?.pids ?? [];
  const ticks = 100; // USER_HZ on Linux
  const out = {};
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = (Number(fields[11]) + Number(fields[12])) / ticks;
    } catch {
      // not running
    }
  }
  return out;
}

/** Adds KWOK nodes when the cluster cannot hold `pods` more pods; returns the names added (to delete after). */
function ensureCapacity(kubectl, env, pods) {
  const json = (args) =>
    JSON.parse(execFileSync(kubectl, [...args, '-o', 'json'], { env, maxBuffer: 1 << 28 }));
  const allocatable = json(['get', 'nodes']).items.reduce(
    (sum, n) => sum + Number(n.status?.allocatable?.pods ?? 0),
    0,
  );
  const running = json(['get', 'pods', '-A', '--field-selector=status.phase!=Succeeded,status.phase!=Failed'])
    .items.length;
  const missing = pods + running - allocatable;
  if (missing <= 0) return [];
  const names = Array.from({ length: Math.ceil(missing / 250) }, (_, i) => `kwok-scale-${i}`);
  const nodes = names.map((name, i) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { type: 'kwok', 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' },
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
    },
    status: {
      allocatable: { cpu: '64', memory: '256Gi', pods: '250' },
      capacity: { cpu: '64', memory: '256Gi', pods: '250' },
      addresses: [{ type: 'InternalIP', address: `10.240.1.${i + 2}` }],
    },
  }));
  execFileSync(kubectl, ['apply', '-f', '-'], {
    env,
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: nodes }),
  });
  execFileSync(
    kubectl,
    ['wait', '--for=condition=Ready', '--timeout=60s', ...names.map((n) => `node/${n}`)],
    {
      env,
    },
  );
  return names;
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : Number.NaN;
};
export const median = (values) => quantile(values, 0.5);
export const p95 = (values) => quantile(values, 0.95);

/**
 * Runs the scenario. `sandbox`: the env printed by `testbed.mjs up` (KUBECONFIG, KUBECTL, PROMETHEUS_URL);
 * `node`, `cli`: how to run gantry; `log`: progress lines. Returns every figure, raw.
 */
export async function runScale({
  sandbox,
  stateDir,
  node,
  cli,
  services = 50,
  replicas = 10,
  steps = '10,30',
  pause = '5s',
  intervalSeconds = 2,
  stableConcurrency = 10,
  log = () => {},
}) {
  const env = { ...process.env, ...sandbox };
  const kubectl = sandbox.KUBECTL;
  const work = mkdtempSync(join(tmpdir(), 'gantry-scale-'));
  const manifests = writeApp(work, replicas);
  const analysis = writeAnalysis(work, intervalSeconds);
  const run = Date.now().toString(36);
  const namespaces = Array.from({ length: services }, (_, i) => `scale-${run}-${String(i).padStart(2, '0')}`);
  const canaryMax = Math.max(...steps.split(',').map((s) => Math.ceil((Number(s) / 100) * replicas)));
  // Stable + canary at its largest + a rolling update's surge (25%) during promotion, per service.
  const addedNodes = ensureCapacity(
    kubectl,
    env,
    services * (replicas + canaryMax + Math.ceil(replicas / 4)),
  );
  if (addedNodes.length)
    log(`added ${addedNodes.length} KWOK node(s) for the pods: ${addedNodes.join(', ')}`);

  const proxy = await startKubeProxy({ kubeconfig: sandbox.KUBECONFIG });
  const gantry = async (args) => {
    const result = await execFileAsync(
      node,
      [cli, ...args, '--json', '--quiet', '--kubeconfig', proxy.kubeconfig],
      { env, encoding: 'utf8', maxBuffer: 1 << 26 },
    ).catch((error) => error);
    try {
      return JSON.parse(result.stdout);
    } catch {
      return { verdict: 'no-json', error: `exit ${result.code}: ${String(result.stderr).slice(-1500)}` };
    }
  };

  try {
    execFileSync(kubectl, ['apply', '-f', '-'], {
      env,
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: namespaces.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
      }),
    });
    // The stable versions, a few at a time (not measured).
    const stableStarted = Date.now();
    const queue = [...namespaces];
    const stableFailures = [];
    await Promise.all(
      Array.from({ length: stableConcurrency }, async () => {
        for (let ns = queue.shift(); ns; ns = queue.shift()) {
          const report = await gantry([
            'deploy',
            '--manifests',
            manifests,
            '--image',
            `app=${fakeDigest(`stable-${ns}`)}`,
            '--namespace',
            ns,
            '--strategy',
            'rolling',
            '--ready-timeout',
            '300s',
          ]);
          if (report.verdict !== 'promoted') stableFailures.push(`${ns}: ${report.reason ?? report.error}`);
        }
      }),
    );
    if (stableFailures.length)
      throw new Error(`stable deploys failed:\n${stableFailures.slice(0, 5).join('\n')}`);
    log(
      `${services} stable deployments of ${replicas} replicas ready in ${((Date.now() - stableStarted) / 1000).toFixed(0)} s`,
    );

    // The measured part: every canary at once.
    const cpuBefore = stateDir ? controlPlaneCpu(stateDir) : {};
    const firstRequest = proxy.requests.length;
    const started = Date.now();
    const reports = await Promise.all(
      namespaces.map((ns) =>
        gantry([
          'deploy',
          '--manifests',
          manifests,
          '--image',
          `app=${fakeDigest(`canary-${ns}`)}`,
          '--namespace',
          ns,
          '--strategy',
          'canary',
          '--steps',
          steps,
          '--pause',
          pause,
          '--analysis',
          analysis,
          '--ready-timeout',
          '300s',
          '--timeout',
          '20m',
        ]).then((report) => ({ ns, report })),
      ),
    );
    const wallSeconds = (Date.now() - started) / 1000;
    const cpuAfter = stateDir ? controlPlaneCpu(stateDir) : {};
    const cpuSeconds = Object.fromEntries(
      Object.entries(cpuAfter).map(([name, s]) => [name, s - (cpuBefore[name] ?? 0)]),
    );

    const requests = proxy.requests.slice(firstRequest);
    const rollouts = reports.map(({ ns, report }) => {
      const mine = requests.filter((r) => r.namespace === ns);
      const byVerb = (list) => {
        const counts = {};
        for (const r of list) counts[r.verb] = (counts[r.verb] ?? 0) + 1;
        return counts;
      };
      const t = report.timings ?? {};
      const end = Date.parse(t.promotedAt ?? t.endedAt ?? t.canaryRemovedAt ?? '') || Date.now();
      const stepCounts = (report.steps ?? []).map((step) => {
        const from = Date.parse(step.startedAt);
        const to = Date.parse(step.endedAt ?? step.startedAt);
        const inStep = mine.filter((r) => r.at >= from && r.at <= to);
        return { seconds: (to - from) / 1000, total: inStep.length, byVerb: byVerb(inStep) };
      });
      return {
        namespace: ns,
        verdict: report.verdict,
        reason: report.reason ?? report.error,
        seconds: t.startedAt ? (end - Date.parse(t.startedAt)) / 1000 : Number.NaN,
        total: mine.length,
        byVerb: byVerb(mine),
        steps: stepCounts,
        clientCounts: report.apiRequests,
      };
    });
    const unattributed = requests.filter((r) => !r.namespace).length;
    return { services, replicas, steps, pause, wallSeconds, rollouts, unattributed, cpuSeconds, addedNodes };
  } finally {
    await proxy.close();
    execFileSync(kubectl, ['delete', 'namespace', '--wait=false', ...namespaces], { env, stdio: 'ignore' });
    if (addedNodes.length)
      execFileSync(kubectl, ['delete', 'node', '--wait=false', ...addedNodes], { env, stdio: 'ignore' });
  }
}

/** Per-step request figures over every step of every rollout: median and max, in total and by verb. */
export function stepFigures(result) {
  const steps = result.rollouts.flatMap((r) => r.steps);
  const verbs = [...new Set(steps.flatMap((s) => Object.keys(s.byVerb)))].sort();
  return {
    steps: steps.length,
    total: { median: median(steps.map((s) => s.total)), max: Math.max(...steps.map((s) => s.total)) },
    perSecond: median(steps.map((s) => s.total / Math.max(s.seconds, 1))),
    byVerb: Object.fromEntries(
      verbs.map((verb) => {
        const values = steps.map((s) => s.byVerb[verb] ?? 0);
        return [verb, { median: median(values), max: Math.max(...values) }];
      }),
    ),
  };
}
