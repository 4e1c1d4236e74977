import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { V1Deployment } from '@kubernetes/client-node';
import { execa } from 'execa';
import { repoRoot } from './cli.js';
import { clients, fullyAvailable, imageOf, readDeployment } from './kube.js';

// Fault injection on the local sandbox: real process stops (the Kubernetes API server, a Prometheus), a
// seeded random source for kill points, and watchers that record what the cluster looked like meanwhile.

/** A small seeded PRNG (mulberry32): the same seed gives the same kill points. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One line on stderr for the closing figures, prefixed so they can be grepped out of a test log. */
export function figure(line: string): void {
  process.stderr.write(`[faults] ${line}\n`);
}

/**
 * Stops or starts the sandbox's kube-apiserver by pid (`scripts/testbed.mjs apiserver …`), with the same
 * arguments and port when it comes back. Resolves with how long the command took.
 */
export async function apiserver(action: 'stop' | 'kill' | 'start'): Promise<number> {
  const started = Date.now();
  await execa(process.execPath, [join(repoRoot, 'scripts', 'testbed.mjs'), 'apiserver', action], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return Date.now() - started;
}

export interface AvailabilitySample {
  at: number;
  available: number | null;
  ready: number | null;
  image: string | null;
  error?: string;
}

/**
 * Polls a Deployment every `intervalMs` with its own client and keeps every sample. While the API server is
 * down a sample records the error instead (the Deployment's pods keep serving; nothing can be read).
 */
export function watchDeployment(namespace: string, name: string, intervalMs = 250) {
  const samples: AvailabilitySample[] = [];
  let running = true;
  const apps = clients().apps;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      try {
        const d = await apps.readNamespacedDeployment({ namespace, name });
        samples.push({
          at,
          available: d.status?.availableReplicas ?? 0,
          ready: d.status?.readyReplicas ?? 0,
          image: imageOf(d) ?? null,
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        samples.push({ at, available: null, ready: null, image: null, error: cause ?? String(error) });
      }
      await sleep(intervalMs);
    }
  })();
  return {
    samples,
    async stop() {
      running = false;
      await loop;
      const seen = samples.filter((s) => s.available !== null);
      return {
        samples,
        minAvailable: Math.min(...seen.map((s) => s.available!)),
        unreadable: samples.length - seen.length,
      };
    },
  };
}

/** Polls the service's Lease and records every change of holder (with the time it was first seen). */
export function watchLeaseHolders(namespace: string, service: string, intervalMs = 100) {
  const changes: { at: number; holder: string }[] = [];
  let running = true;
  const coordination = clients().coordination;
  const loop = (async () => {
    while (running) {
      const lease = await coordination
        .readNamespacedLease({ namespace, name: `gantry-${service}` })
        .catch(() => undefined);
      const holder = lease?.spec?.holderIdentity ?? '';
      if (lease && changes.at(-1)?.holder !== holder) changes.push({ at: Date.now(), holder });
      await sleep(intervalMs);
    }
  })();
  return {
    changes,
    async stop() {
      running = false;
      await loop;
      return changes;
    },
  };
}

/** Waits until the canary Deployment has a ready pod (traffic goes to it). */
export async function waitForCanaryTraffic(
  namespace: string,
  name = 'web',
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const canary = await readDeployment(namespace, `${name}-canary`);
    if ((canary?.status?.readyReplicas ?? 0) > 0) return;
    await sleep(200);
  }
  throw new Error(`${name}-canary never received traffic`);
}

export interface CleanState {
  stable: V1Deployment | undefined;
  canary: boolean;
  canaryService: boolean;
  canaryPods: number;
  leaseHolder: string;
}

/** What is left of a rollout: the stable Deployment, canary objects (Deployment, Service, pods), the lease. */
export async function rolloutState(namespace: string, name = 'web'): Promise<CleanState> {
  const { core, coordination } = clients();
  const [stable, canary, services, pods, lease] = await Promise.all([
    readDeployment(namespace, name),
    readDeployment(namespace, `${name}-canary`),
    core.listNamespacedService({ namespace }),
    core.listNamespacedPod({ namespace, labelSelector: 'gantry.dev/track=canary' }),
    coordination.readNamespacedLease({ namespace, name: `gantry-${name}` }).catch(() => undefined),
  ]);
  return {
    stable,
    canary: canary !== undefined,
    canaryService: services.items.some((s) => s.metadata?.name === `${name}-canary`),
    canaryPods: pods.items.filter((p) => !p.metadata?.deletionTimestamp).length,
    leaseHolder: lease?.spec?.holderIdentity ?? '',
  };
}

/** Clean: stable fully available on `image`, no canary Deployment or Service, lease not held. */
export function isClean(state: CleanState, image: string): boolean {
  return (
    imageOf(state.stable) === image &&
    fullyAvailable(state.stable) &&
    !state.canary &&
    !state.canaryService &&
    state.leaseHolder === ''
  );
}

/** Polls until the rollout is clean on `image`; resolves with the last state seen and how long it took. */
export async function waitClean(
  namespace: string,
  image: string,
  timeoutMs = 30_000,
): Promise<{ state: CleanState; ms: number; clean: boolean }> {
  const started = Date.now();
  let state = await rolloutState(namespace);
  while (!isClean(state, image) && Date.now() - started < timeoutMs) {
    await sleep(200);
    state = await rolloutState(namespace);
  }
  return { state, ms: Date.now() - started, clean: isClean(state, image) };
}

/**
 * A Prometheus of the test's own (the sandbox's binary and component code, scraping the sandbox's traffic
 * simulator), so that stopping it mid-analysis leaves the shared one alone.
 */
export async function startOwnPrometheus(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const simulator = process.env.SIMULATOR_URL;
  if (!simulator) throw new Error('SIMULATOR_URL is not set: the sandbox did not start');
  const stateDir = mkdtempSync(join(tmpdir(), 'gantry-prom-'));
  // The sandbox's own modules (plain .mjs, no types): loaded by absolute URL.
  const load = (path: string) => import(pathToFileURL(join(repoRoot, path)).href);
  const component = await load('test/bed/components/prometheus.mjs');
  const lib = await load('test/bed/lib.mjs');
  const saved = process.env.GANTRY_TESTBED_PROMETHEUS_PORT;
  delete process.env.GANTRY_TESTBED_PROMETHEUS_PORT;
  const entry = await component.start({ stateDir, env: { SIMULATOR_URL: simulator } });
  if (saved !== undefined) process.env.GANTRY_TESTBED_PROMETHEUS_PORT = saved;
  const pid = entry.pids[0] as number;
  return {
    url: entry.env.PROMETHEUS_URL as string,
    pid,
    stop: () => lib.stopPid(pid, 5000),
  };
}
