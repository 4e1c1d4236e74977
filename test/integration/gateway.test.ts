// The real data plane: Traefik (the sandbox's `gateway` component) routes real HTTP requests by the HTTPRoutes
// Gantry writes to pods that really answer (the `dataplane` component's responders), under real load. What is
// measured is what users see at the proxy — which version answered each request, and every request that
// failed — not what the traffic simulator computes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesObjectApi } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayAppDocs } from '../bed/gateway-app.mjs';
import { type Sample, startLoad, summarize, waitServing } from '../bed/loadgen.mjs';
import { repoRoot, runCli } from '../helpers/cli.js';
import {
  clients,
  createNamespace,
  deleteNamespace,
  fakeImage,
  kubeConfig,
  readDeployment,
} from '../helpers/kube.js';

const GATEWAY = {
  namespace: process.env.GATEWAY_NAMESPACE ?? 'gantry-gateway',
  name: process.env.GATEWAY_NAME ?? 'gateway',
};
const namespaces: string[] = [];
afterAll(async () => {
  await Promise.all(namespaces.map(deleteNamespace));
});

beforeAll(() => {
  if (!process.env.GATEWAY_URL || !process.env.DATAPLANE_URL) {
    throw new Error('the sandbox runs no gateway or data plane (GATEWAY_URL, DATAPLANE_URL unset)');
  }
});

interface AppSpec {
  errorRate?: number;
  router?: 'gateway-api' | 'nginx';
  /** The route's parentRef names this listener (a listener the Gateway does not have makes Traefik refuse it). */
  sectionName?: string;
}

/** The app's Deployment (pods answered by the data plane), Service and HTTPRoute on the sandbox's Gateway. */
function writeApp(host: string, spec: AppSpec = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-gw-app-'));
  const docs = gatewayAppDocs({ host, gateway: GATEWAY, ...spec });
  writeFileSync(join(dir, 'app.yaml'), docs.map((d) => yaml.dump(d)).join('---\n'));
  return dir;
}

/** The example analysis on Traefik's own metrics: the canary's 5xx share and p95 latency at the proxy. */
const proxyAnalysis = join(repoRoot, 'examples', 'analysis', 'traefik-gateway.yaml');

/**
 * A namespace with the app's first version deployed (a rolling update, no router involved) and, unless the route
 * is one the gateway refuses, served through the gateway: a new route takes Traefik a moment (its provider
 * applies changes at most every 2 s), and the rollouts under test start from a live service.
 */
async function stableApp(prefix: string, spec: AppSpec = {}, { live = true } = {}) {
  const ns = await createNamespace(prefix);
  namespaces.push(ns);
  const host = `web.${ns}.test`;
  const manifests = writeApp(host, spec);
  const first = await runCli(deploy(manifests, ns, 'v1', ['--strategy', 'rolling']));
  expect(first.exitCode, first.stderr).toBe(0);
  if (live) await waitServing(process.env.GATEWAY_URL!, host);
  return { ns, host, manifests };
}

/**
 * What the proxy may still do after Gantry has its route accepted: Traefik writes the route's status when its
 * provider reads it, and applies the new configuration at most providersThrottleDuration (2 s by default) later.
 */
const PROXY_LAG_MS = 3000;
const settle = () => new Promise((r) => setTimeout(r, PROXY_LAG_MS + 1000));

function deploy(manifests: string, ns: string, version: string, extra: string[]): string[] {
  return [
    'deploy',
    '--json',
    '--manifests',
    manifests,
    '--image',
    `app=${fakeImage(version)}`,
    '--namespace',
    ns,
    '--ready-timeout',
    '60s',
    ...extra,
  ];
}

/** The HTTPRoute's canary weight and whether Traefik accepted that generation (polled every 100 ms). */
function watchRoute(ns: string) {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig());
  const timeline: Array<{ at: number; canary: number }> = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const route = (await api
        .read({
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'HTTPRoute',
          metadata: { name: 'web', namespace: ns },
        })
        .catch(() => undefined)) as unknown as
        | {
            metadata: { generation: number };
            spec: { rules: Array<{ backendRefs?: Array<{ name: string; weight?: number }> }> };
            status?: {
              parents?: Array<{
                conditions?: Array<{ type: string; status: string; observedGeneration?: number }>;
              }>;
            };
          }
        | undefined;
      if (route) {
        const refs = route.spec.rules.flatMap((r) => r.backendRefs ?? []);
        const weightOf = (name: string) =>
          refs.filter((r) => r.name === name).reduce((s, r) => s + (r.weight ?? 1), 0);
        const canary = weightOf('web-canary') + weightOf('web-preview');
        const total = weightOf('web') + canary || 1;
        const accepted = (route.status?.parents ?? []).some((p) =>
          (p.conditions ?? []).some(
            (c) =>
              c.type === 'Accepted' &&
              c.status === 'True' &&
              (c.observedGeneration ?? 0) >= route.metadata.generation,
          ),
        );
        const share = Math.round((canary / total) * 100);
        const last = timeline.at(-1);
        if (accepted && last?.canary !== share) timeline.push({ at: Date.now(), canary: share });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    timeline,
    async stop() {
      stopped = true;
      await loop;
      return timeline;
    },
  };
}

/**
 * Failed requests as a timeline a person can read: runs of failures (status or error, answering track) with their
 * times relative to the run's marks (steps, traffic restored, promoted) from the report.
 */
function failureTimeline(samples: Sample[], report: unknown): string {
  const r = report as {
    timings?: Record<string, string>;
    steps?: Array<{ startedAt: string; weight: number }>;
  };
  const t0 = Date.parse(r.timings?.startedAt ?? '') || samples[0]?.sentAt || 0;
  const at = (ms: number) => `${((ms - t0) / 1000).toFixed(2)}s`;
  const marks = [
    ...(r.steps ?? []).map((s) => `step ${s.weight}% ${at(Date.parse(s.startedAt))}`),
    ...Object.entries(r.timings ?? {}).map(([k, v]) => `${k} ${at(Date.parse(v))}`),
  ];
  const runs: string[] = [];
  let current: { from: number; to: number; what: string; n: number } | undefined;
  for (const s of samples.filter((x) => x.error || x.status >= 500).sort((a, b) => a.sentAt - b.sentAt)) {
    const what = `${s.error ? s.error.slice(0, 40) : s.status}${s.track ? ` ${s.track}` : ''}`;
    if (current && current.what === what && s.sentAt - current.to < 500) {
      current.to = s.sentAt;
      current.n++;
    } else {
      if (current) runs.push(`${current.n}× ${current.what} ${at(current.from)}–${at(current.to)}`);
      current = { from: s.sentAt, to: s.sentAt, what, n: 1 };
    }
  }
  if (current) runs.push(`${current.n}× ${current.what} ${at(current.from)}–${at(current.to)}`);
  return `failures: ${runs.join('; ') || 'none'} | marks: ${marks.join(', ')}`;
}

const isCanary = (s: Sample) => s.track === 'canary' || s.track === 'preview';

describe('the real data plane: Traefik routes real requests by the routes Gantry writes', () => {
  it('a canary: the share of requests the new version answers follows each step, then promotion with no failed request', async () => {
    const { ns, host, manifests } = await stableApp('gw-canary');
    const load = startLoad({ url: process.env.GATEWAY_URL!, host, rps: 100, durationMs: 120_000 });
    const route = watchRoute(ns);
    const result = await runCli(
      deploy(manifests, ns, 'v2', [
        '--strategy',
        'canary',
        '--router',
        'gateway-api',
        '--steps',
        '20,50',
        '--pause',
        '6s',
      ]),
    );
    await settle();
    const samples = await load.stop();
    const timeline = await route.stop();
    expect(result.exitCode, result.stderr).toBe(0);
    expect((result.json as { verdict: string }).verdict).toBe('promoted');

    // Each weight Traefik accepted: from 1 s after it took effect to the next change, the canary's share of
    // the answers is the weight within 8 points (≥ 400 requests per window at 100 rps: > 4 standard deviations).
    const weights = timeline.map((t) => t.canary);
    expect(weights, JSON.stringify(timeline)).toEqual(expect.arrayContaining([20, 50]));
    for (const [i, { at, canary }] of timeline.entries()) {
      if (canary !== 20 && canary !== 50) continue;
      const end = timeline[i + 1]?.at ?? Date.now();
      const window = samples.filter((s) => s.sentAt >= at + 1000 && s.sentAt < end - 200 && !s.error);
      const share = (100 * window.filter(isCanary).length) / window.length;
      expect(window.length).toBeGreaterThan(300);
      expect(Math.abs(share - canary), `canary share ${share.toFixed(1)}% at weight ${canary}%`).toBeLessThan(
        8,
      );
    }
    // Promoted: the last second is answered by the stable track only, which now runs v2.
    const last = samples.filter((s) => s.sentAt > Date.now() - 1000);
    expect(last.length).toBeGreaterThan(50);
    expect(last.filter(isCanary).length, 'canary answers in the last second').toBe(0);
    expect(summarize(samples).failed, failureTimeline(samples, result.json)).toBe(0);
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
  });

  it('a bad canary: the proxy counts its errors, Gantry rolls it back, and the proxy stops sending it requests', async () => {
    const { ns, host } = await stableApp('gw-bad');
    const bad = writeApp(host, { errorRate: 0.5 });
    const load = startLoad({ url: process.env.GATEWAY_URL!, host, rps: 100, durationMs: 120_000 });
    const result = await runCli(
      deploy(bad, ns, 'v2', [
        '--strategy',
        'canary',
        '--router',
        'gateway-api',
        '--steps',
        '30',
        '--pause',
        '30s',
        '--analysis',
        proxyAnalysis,
      ]),
    );
    await settle();
    const samples = await load.stop();
    expect(result.exitCode, result.stderr).toBe(1);
    const report = result.json as { verdict: string; reason: string; timings: Record<string, string> };
    expect(report.verdict).toBe('rolled-back');
    // Judged on the proxy's counts of the canary's answers: a breach, not a lack of data.
    expect(report.reason).toMatch(/proxy-error-rate 0\.\d+ above max 0\.05/);
    const restored = Date.parse(report.timings.trafficRestoredAt!);
    const canaryAnswers = samples.filter(isCanary);
    expect(canaryAnswers.length).toBeGreaterThan(20);
    // Once Gantry says traffic is restored (Traefik accepted the route without the canary), the proxy stops
    // sending the canary requests within its own lag.
    const lastCanary = Math.max(...canaryAnswers.map((s) => s.sentAt));
    console.log(
      `bad canary: ${canaryAnswers.length} requests answered by it; its last one sent ${lastCanary - restored} ms after "traffic restored"`,
    );
    expect(lastCanary - restored).toBeLessThan(PROXY_LAG_MS);
    // Every failure is the bad canary's own 500s: nothing failed on the way (no 502/503, no refused connection).
    const failures = samples.filter((s) => s.error || s.status >= 500);
    const unexpected = failures.filter((s) => !(s.status === 500 && isCanary(s)));
    expect(unexpected.length, failureTimeline(unexpected, result.json)).toBe(0);
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
  });

  it('blue-green: the switch to the preview and its promotion lose no request', async () => {
    const { ns, host, manifests } = await stableApp('gw-bg');
    const load = startLoad({ url: process.env.GATEWAY_URL!, host, rps: 100, durationMs: 120_000 });
    const result = await runCli(
      deploy(manifests, ns, 'v2', ['--strategy', 'blue-green', '--router', 'gateway-api', '--pause', '3s']),
    );
    await settle();
    const samples = await load.stop();
    expect(result.exitCode, result.stderr).toBe(0);
    const summary = summarize(samples);
    expect(summary.total).toBeGreaterThan(500);
    expect(summary.byTrack.preview ?? 0, JSON.stringify(summary)).toBeGreaterThan(0);
    expect(summary.failed, failureTimeline(samples, result.json)).toBe(0);
    const last = samples.filter((s) => s.sentAt > Date.now() - 1000);
    expect(last.filter(isCanary)).toEqual([]);
  });

  it("the nginx router through Traefik's ingress-nginx provider: the canary Ingress's weight is the share it answers", async () => {
    const { ns, host, manifests } = await stableApp('gw-nginx', { router: 'nginx' });
    const load = startLoad({ url: process.env.GATEWAY_URL!, host, rps: 100, durationMs: 120_000 });
    const started = Date.now();
    const result = await runCli(
      deploy(manifests, ns, 'v2', [
        '--strategy',
        'canary',
        '--router',
        'nginx',
        '--steps',
        '30',
        '--pause',
        '8s',
      ]),
    );
    await settle();
    const samples = await load.stop();
    expect(result.exitCode, result.stderr).toBe(0);
    const report = result.json as { steps: Array<{ startedAt: string; endedAt: string }> };
    // Traefik takes a changed Ingress within a second or two (its provider throttles events); the step's last
    // 5 s are judged.
    const stepEnd = Date.parse(report.steps[0]!.endedAt);
    const window = samples.filter((s) => s.sentAt >= stepEnd - 5000 && s.sentAt < stepEnd - 200 && !s.error);
    expect(window.length).toBeGreaterThan(300);
    const share = (100 * window.filter(isCanary).length) / window.length;
    expect(Math.abs(share - 30), `canary share ${share.toFixed(1)}% at weight 30%`).toBeLessThan(8);
    expect(summarize(samples, started).failed, failureTimeline(samples, result.json)).toBe(0);
    expect(samples.filter((s) => s.sentAt > Date.now() - 1000).filter(isCanary)).toEqual([]);
  });

  it('a route the gateway refuses: the rollout fails before any traffic moves, naming the condition', async () => {
    const { ns, host, manifests } = await stableApp(
      'gw-refused',
      { sectionName: 'no-such-listener' },
      { live: false },
    );
    const load = startLoad({ url: process.env.GATEWAY_URL!, host, rps: 20, durationMs: 60_000 });
    const result = await runCli(
      deploy(manifests, ns, 'v2', [
        '--strategy',
        'canary',
        '--router',
        'gateway-api',
        '--steps',
        '50',
        '--pause',
        '2s',
      ]),
    );
    await load.stop();
    expect(result.exitCode, result.stderr).toBe(3);
    expect(result.stderr).toMatch(
      new RegExp(
        `gateway ${GATEWAY.namespace}/${GATEWAY.name}:no-such-listener does not accept HTTPRoute ${ns}/web .*Accepted=False`,
      ),
    );
    expect((result.json as { verdict: string }).verdict).toBe('failed');
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
    const services = await clients().core.listNamespacedService({ namespace: ns });
    expect(services.items.map((s) => s.metadata?.name)).toEqual(['web']);
  });
});
