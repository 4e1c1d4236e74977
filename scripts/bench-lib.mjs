// What the rollout benchmarks share: the sandbox (started if needed), the bundled CLI run with --json, an app's
// manifests at an error rate, fake digests, and quantiles.
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { gatewayAppDocs } from '../test/bed/gateway-app.mjs';
import { waitServing } from '../test/bed/loadgen.mjs';

const execFileAsync = promisify(execFile);
export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(repo, 'dist', 'cli.js');

/** Numeric command-line option `name` (`--runs 10`, `--healthy-runs 0`), or `fallback` when absent. */
export function arg(name, fallback) {
  const at = process.argv.indexOf(name);
  const value = at < 0 ? Number.NaN : Number(process.argv[at + 1]);
  return Number.isFinite(value) ? value : fallback;
}

/** String command-line option `name` (`--cases 30,5`), or undefined when absent. */
export const option = (name) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;

/**
 * Starts the sandbox if it is down (with `--no-start`: only reads the variables of one already running, e.g. a
 * shared one); its variables (KUBECONFIG, KUBECTL, PROMETHEUS_URL, …) with process.env.
 */
export function sandboxEnv() {
  const command = process.argv.includes('--no-start') ? 'env' : 'up';
  const sandbox = Object.fromEntries(
    execFileSync(process.execPath, [join(repo, 'scripts', 'testbed.mjs'), command], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { ...process.env, ...sandbox };
}

/** Runs `gantry <args> --json --quiet`; its JSON result (throws with stderr's tail when there is none). */
export async function gantry(env, args) {
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

/**
 * A Deployment `web` of 6 replicas whose pods answer with `errorRate` 5xx in `latencyMs` (default 20), and its
 * Service (with `rps`, the simulator's requests per second to the app instead of its default 50, and with
 * `noise`, the seed of the simulator's random variation per request); the file's path.
 */
export function manifests(dir, errorRate, rps, { latencyMs = 20, noise } = {}) {
  const file = join(dir, `app-${errorRate}-${rps ?? 'default'}-${latencyMs}-${noise ?? 'exact'}.yaml`);
  const serviceAnnotations = [
    ...(rps ? [`testbed.gantry.dev/rps: "${rps}"`] : []),
    ...(noise ? [`testbed.gantry.dev/noise: "${noise}"`] : []),
  ];
  const annotations = serviceAnnotations.length
    ? `\n  annotations: { ${serviceAnnotations.join(', ')} }`
    : '';
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
      annotations: { testbed.gantry.dev/error-rate: "${errorRate}", testbed.gantry.dev/latency-ms: "${latencyMs}" }
    spec: { containers: [{ name: app, image: placeholder }] }
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: { app: web }${annotations}
spec: { selector: { app: web }, ports: [{ port: 80 }] }
`,
  );
  return file;
}

let namespaces = 0;
/**
 * A new namespace `<prefix>-<time>` with the app's first version deployed by a rolling update (no router, no
 * analysis): what every rollout benchmark starts from. `manifestsFor(namespace)` is the manifests' path; `seed`
 * the first version's fake digest. Resolves the namespace's name.
 */
export async function stableNamespace(env, prefix, manifestsFor, seed = 'stable') {
  // The time, and a counter for rollouts started in the same millisecond (bench:analysis --parallel).
  const namespace = `${prefix}-${Date.now().toString(36)}${(namespaces++).toString(36)}`;
  execFileSync(env.KUBECTL, ['create', 'namespace', namespace], { env, stdio: 'ignore' });
  const first = await gantry(env, [
    'deploy',
    '--manifests',
    manifestsFor(namespace),
    '--image',
    `app=${digest(typeof seed === 'function' ? seed(namespace) : seed)}`,
    '--namespace',
    namespace,
    '--strategy',
    'rolling',
  ]);
  if (first.verdict !== 'promoted') throw new Error(`stable deploy failed: ${first.reason ?? first.error}`);
  return namespace;
}

/** The gateway app's manifests (test/bed/gateway-app.mjs) for `host` at `errorRate`, written in `dir`; the path. */
export function gatewayAppFile(dir, { host, gateway, errorRate }) {
  const file = join(dir, `${host}-${errorRate}.yaml`);
  const docs = gatewayAppDocs({ host, gateway, errorRate });
  writeFileSync(file, docs.map((d) => yaml.dump(d)).join('---\n'));
  return file;
}

/**
 * A new namespace with the gateway app's first version (0 % errors) served at `web.<namespace>.test` through the
 * sandbox's Gateway (`gateway`), waited for at GATEWAY_URL: the real-data-plane benchmarks' starting point.
 * Resolves { namespace, host }.
 */
export async function servingNamespace(env, prefix, dir, gateway) {
  const namespace = await stableNamespace(env, prefix, (ns) =>
    gatewayAppFile(dir, { host: appHost(ns), gateway, errorRate: 0 }),
  );
  await waitServing(env.GATEWAY_URL, appHost(namespace));
  return { namespace, host: appHost(namespace) };
}

/** The host the gateway app of `namespace` is served at. */
export const appHost = (namespace) => `web.${namespace}.test`;

/**
 * `gantry deploy --strategy canary` of the manifests at `manifests` with the image of `seed` into `namespace`:
 * `steps` ("10,25,50"), `pauseS` seconds per step, the analysis file `analysis`, and `router` when not the
 * default. Resolves the JSON result.
 */
export function deployCanary(env, { manifests, seed, namespace, steps, pauseS, analysis, router }) {
  return gantry(env, [
    'deploy',
    '--manifests',
    manifests,
    '--image',
    `app=${digest(seed)}`,
    '--namespace',
    namespace,
    '--strategy',
    'canary',
    ...(router ? ['--router', router] : []),
    '--steps',
    steps,
    '--pause',
    `${pauseS}s`,
    '--analysis',
    analysis,
  ]);
}

/** A digest-pinned image reference derived from `seed` (the sandbox's pods never pull). */
export const digest = (seed) =>
  `127.0.0.1:5000/bench/web@sha256:${Buffer.from(seed).toString('hex').padEnd(64, '0').slice(0, 64)}`;

export const seconds = (from, to) => (Date.parse(to) - Date.parse(from)) / 1000;

export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
