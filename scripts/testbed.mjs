#!/usr/bin/env node
// The local sandbox: `node scripts/testbed.mjs up|down|env|status` (or `npm run testbed -- up`), and
// `apiserver stop|kill|start|restart` to take the Kubernetes API server away and back (fault injection).
// `up` is idempotent: components already running are left alone. `env` prints KEY=value lines that tests,
// the demo and benchmarks read. State (pids, ports, logs, data) lives in .testbed/ at the repo root.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, log, stopPid } from '../test/bed/lib.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const stateDir = process.env.GANTRY_TESTBED_STATE ?? join(repo, '.testbed');
const stateFile = join(stateDir, 'state.json');

/** Components in start order; stopped in reverse. */
const allComponents = [
  'registry',
  'buildah',
  'docker',
  'trivy',
  'grype',
  'kubernetes',
  'dataplane',
  'simulator',
  'prometheus',
];
// GANTRY_TESTBED_COMPONENTS=registry,buildah,trivy starts a subset (e.g. for build/scan/push work only).
const componentNames = process.env.GANTRY_TESTBED_COMPONENTS
  ? allComponents.filter((n) => process.env.GANTRY_TESTBED_COMPONENTS.split(',').includes(n))
  : allComponents;

async function loadComponents() {
  return Promise.all(componentNames.map((n) => import(`../test/bed/components/${n}.mjs`)));
}

function readState() {
  if (!existsSync(stateFile)) return { components: {} };
  return JSON.parse(readFileSync(stateFile, 'utf8'));
}

function writeState(state) {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

function running(entry) {
  // A stopped API server (fault injection) leaves `apiserver.pid` null: the component is not up.
  return entry?.pids.every(isAlive) && entry.apiserver?.pid !== null;
}

export async function up() {
  mkdirSync(stateDir, { recursive: true });
  const state = readState();
  for (const component of await loadComponents()) {
    const previous = state.components[component.name];
    if (running(previous)) continue;
    if (previous) for (const pid of previous.pids) await stopPid(pid);
    log(`starting ${component.name}`);
    const started = Date.now();
    const env = Object.assign({}, ...Object.values(state.components).map((c) => c.env));
    state.components[component.name] = await component.start({ stateDir, repo, env });
    writeState(state);
    log(`${component.name} up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  }
  return envOf(state);
}

export async function down() {
  const state = readState();
  const components = await loadComponents();
  for (const component of components.reverse()) {
    const entry = state.components[component.name];
    if (!entry) continue;
    if (component.stop) await component.stop({ stateDir, repo }, entry);
    for (const pid of entry.pids) await stopPid(pid);
    delete state.components[component.name];
    writeState(state);
    log(`stopped ${component.name}`);
  }
  rmSync(stateDir, { recursive: true, force: true });
}

/**
 * Fault injection: `apiserver stop` stops the Kubernetes API server by pid (SIGTERM, SIGKILL after 10 s; etcd,
 * the controllers, the scheduler and kwok keep running); `apiserver kill` stops it without the grace period;
 * `apiserver start` starts it again with the same arguments and port and waits until it is ready;
 * `apiserver restart [seconds]` stops it, waits that long and starts it. Logs how long each part took.
 */
export async function apiserver(action, downSeconds = 0) {
  if (!['stop', 'kill', 'start', 'restart'].includes(action))
    throw new Error(`apiserver: unknown action ${JSON.stringify(action)}; use stop, kill, start or restart`);
  // `kill` is `stop` without the grace period: SIGTERM then SIGKILL at once, a crash rather than a shutdown.
  const graceMs = action === 'kill' ? 0 : 10000;
  const stops = action === 'stop' || action === 'kill' || action === 'restart';
  const kubernetes = await import('../test/bed/components/kubernetes.mjs');
  const state = readState();
  let entry = state.components.kubernetes;
  if (!entry) throw new Error('the kubernetes component is not running');
  const t0 = Date.now();
  if (stops) {
    entry = await kubernetes.stopApiserver({ stateDir, repo }, entry, { graceMs });
    state.components.kubernetes = entry;
    writeState(state);
    log(`kube-apiserver stopped in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
  if (action === 'restart' && downSeconds > 0) await new Promise((r) => setTimeout(r, downSeconds * 1000));
  if (action === 'start' || action === 'restart') {
    const t1 = Date.now();
    entry = await kubernetes.startApiserver({ stateDir, repo }, entry);
    state.components.kubernetes = entry;
    writeState(state);
    log(`kube-apiserver started and ready in ${((Date.now() - t1) / 1000).toFixed(1)}s`);
  }
}

export function envOf(state = readState()) {
  return Object.assign({}, ...componentNames.map((n) => state.components[n]?.env ?? {}));
}

function printEnv(env) {
  for (const [key, value] of Object.entries(env)) process.stdout.write(`${key}=${value}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const command = process.argv[2] ?? 'status';
  try {
    if (command === 'up') printEnv(await up());
    else if (command === 'down') await down();
    else if (command === 'env') printEnv(envOf());
    else if (command === 'apiserver') await apiserver(process.argv[3], Number(process.argv[4] ?? 0));
    else if (command === 'status') {
      const state = readState();
      for (const n of componentNames) {
        const entry = state.components[n];
        process.stdout.write(`${n}: ${!entry ? 'down' : running(entry) ? 'up' : 'dead'}\n`);
      }
    } else {
      process.stderr.write(
        `testbed: unknown command ${JSON.stringify(command)}; use up, down, env, status or apiserver stop|kill|start|restart\n`,
      );
      process.exit(2);
    }
  } catch (error) {
    process.stderr.write(`testbed: ${error.message}\n`);
    process.exit(3);
  }
}
