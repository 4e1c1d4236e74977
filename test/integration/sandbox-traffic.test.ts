import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../helpers/wait.js';

// The sandbox's traffic simulator against the real control plane and Prometheus: replica-ratio canary,
// then each router's weights (HTTPRoute, VirtualService, NGINX canary Ingress) as the simulator honours them,
// down to what Prometheus computes from the scraped counters.

const env = (key: string) => {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: the sandbox did not start (see test/global-setup.ts)`);
  return value;
};

const namespace = `sim-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const APP = 'web';
const TRACK = 'gantry.dev/track';

interface Split {
  app: string;
  source: { kind: string; name: string } | null;
  shares: Record<string, number>;
  tracks: Record<string, { rps: number; readyPods: number; errorRate: number }>;
}

let kc: k8s.KubeConfig;
let apps: k8s.AppsV1Api;
let core: k8s.CoreV1Api;
let networking: k8s.NetworkingV1Api;
let objects: k8s.KubernetesObjectApi;

async function split(): Promise<Split | undefined> {
  const res = await fetch(`${env('SIMULATOR_URL')}/split?namespace=${namespace}`);
  const body = (await res.json()) as { splits: Split[] };
  return body.splits.find((s) => s.app === APP);
}

/** Waits until the simulator's split of `web` has exactly these shares (to 1e-9). */
async function waitForShares(shares: Record<string, number>, source?: string, timeoutMs = 10_000) {
  const what = `split ${JSON.stringify(shares)} from ${source ?? 'the main Service'}`;
  const matches = (current: Split) =>
    [...new Set([...Object.keys(shares), ...Object.keys(current.shares)])].every(
      (t) => Math.abs((current.shares[t] ?? 0) - (shares[t] ?? 0)) <= 1e-9,
    );
  return waitUntil(
    what,
    async () => {
      const current = await split();
      if (!current || (source && current.source?.kind !== source)) return undefined;
      return matches(current) ? current : undefined;
    },
    timeoutMs,
  );
}

async function promQuery(query: string): Promise<number | undefined> {
  const res = await fetch(`${env('PROMETHEUS_URL')}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { status: string; data: { result: { value: [number, string] }[] } };
  if (body.status !== 'success' || body.data.result.length === 0) return undefined;
  const value = Number(body.data.result[0]!.value[1]);
  return Number.isFinite(value) ? value : undefined;
}

/** Waits until the PromQL `query` is within `tolerance` of `expected`. */
function waitForProm(query: string, expected: number, tolerance = 0.01, timeoutMs = 30_000) {
  return waitUntil(
    `${query} ≈ ${expected}`,
    async () => {
      const value = await promQuery(query);
      return value !== undefined && Math.abs(value - expected) <= tolerance ? value : undefined;
    },
    timeoutMs,
  );
}

const sel = (track?: string) => `namespace="${namespace}",app="${APP}"${track ? `,track="${track}"` : ''}`;
const canaryRequestShare = `sum(rate(http_requests_total{${sel('canary')}}[5s])) / sum(rate(http_requests_total{${sel()}}[5s]))`;
const canaryShareGauge = (value: number) => `testbed_traffic_share{${sel('canary')}} == ${value}`;

function deployment(name: string, track: string, replicas: number, annotations: Record<string, string> = {}) {
  const labels = { app: APP, [TRACK]: track };
  return {
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations },
        // KWOK runs no container: the image is never pulled.
        spec: {
          containers: [{ name: 'web', image: 'registry.invalid/web:1', ports: [{ containerPort: 8080 }] }],
        },
      },
    },
  };
}

function service(name: string, selector: Record<string, string>) {
  return { metadata: { name, namespace }, spec: { selector, ports: [{ port: 80, targetPort: 8080 }] } };
}

function ingress(name: string, backend: string, annotations: Record<string, string> = {}) {
  return {
    metadata: { name, namespace, annotations },
    spec: {
      ingressClassName: 'nginx',
      rules: [
        {
          host: 'web.example',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: backend, port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
  };
}

/** Prints a measured figure (how soon a change shows), for the record. */
const figure = (what: string, ms: number) => process.stderr.write(`[sandbox-traffic] ${what}: ${ms} ms\n`);

describe('sandbox traffic simulator with Prometheus', () => {
  beforeAll(async () => {
    kc = new k8s.KubeConfig();
    kc.loadFromFile(env('KUBECONFIG'));
    apps = kc.makeApiClient(k8s.AppsV1Api);
    core = kc.makeApiClient(k8s.CoreV1Api);
    networking = kc.makeApiClient(k8s.NetworkingV1Api);
    objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // Pods are only admitted once the namespace has its default service account.
    await waitUntil('the default service account', async () =>
      (await core.readNamespacedServiceAccount({ name: 'default', namespace })) ? true : undefined,
    );
  });

  afterAll(async () => {
    await core?.deleteNamespace({ name: namespace }).catch(() => {});
  });

  it('splits 75/25 by ready replicas and Prometheus sees the canary error rate of 0.5', async () => {
    await apps.createNamespacedDeployment({ namespace, body: deployment(APP, 'stable', 3) });
    await core.createNamespacedService({ namespace, body: service(APP, { app: APP }) });
    await apps.createNamespacedDeployment({
      namespace,
      body: deployment(`${APP}-canary`, 'canary', 1, { 'testbed.gantry.dev/error-rate': '0.5' }),
    });

    // How soon KWOK makes pods Ready is the control plane's business (it varies, 5-25 s here); what is
    // measured below is how soon the simulator follows once the API says the replicas are ready.
    await waitUntil(
      'web and web-canary to have all replicas ready',
      async () => {
        const ready = await Promise.all(
          [APP, `${APP}-canary`].map((name) => apps.readNamespacedDeployment({ name, namespace })),
        );
        return ready.every((d) => d.status?.readyReplicas === d.spec?.replicas) ? true : undefined;
      },
      90_000,
    );
    const { value, ms } = await waitForShares({ stable: 0.75, canary: 0.25 }, 'Service', 5_000);
    figure('replicas ready in the API → simulator split 75/25', ms);
    expect(value.tracks.stable).toMatchObject({ rps: 37.5, readyPods: 3, errorRate: 0 });
    expect(value.tracks.canary).toMatchObject({ rps: 12.5, readyPods: 1, errorRate: 0.5 });

    const errorRatio =
      `sum(rate(http_requests_total{${sel('canary')},code="500"}[5s])) / ` +
      `sum(rate(http_requests_total{${sel('canary')}}[5s]))`;
    const errors = await waitForProm(errorRatio, 0.5, 0.001);
    figure('split 75/25 → Prometheus canary error ratio 0.5', errors.ms);
    // A healthy track reads as 0 errors, not as "no data".
    const stableErrors = await promQuery(
      `sum(rate(http_requests_total{${sel('stable')},code="500"}[5s])) / sum(rate(http_requests_total{${sel('stable')}}[5s]))`,
    );
    expect(stableErrors).toBe(0);
    const share = await waitForProm(canaryRequestShare, 0.25, 0.005, 15_000);
    figure('split 75/25 → Prometheus canary request share 0.25 (rate over 5s)', share.ms);
  });

  it('follows an HTTPRoute 80/20 on web-stable / web-canary', async () => {
    await core.createNamespacedService({
      namespace,
      body: service(`${APP}-stable`, { app: APP, [TRACK]: 'stable' }),
    });
    await core.createNamespacedService({
      namespace,
      body: service(`${APP}-canary`, { app: APP, [TRACK]: 'canary' }),
    });
    const route = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: APP, namespace },
      spec: {
        parentRefs: [{ name: 'gateway' }],
        rules: [
          {
            backendRefs: [
              { name: `${APP}-stable`, port: 80, weight: 80 },
              { name: `${APP}-canary`, port: 80, weight: 20 },
            ],
          },
        ],
      },
    };
    const started = Date.now();
    await objects.create(route);
    const { ms } = await waitForShares({ stable: 0.8, canary: 0.2 }, 'HTTPRoute');
    figure('HTTPRoute created → simulator split 80/20', ms);
    await waitForProm(canaryShareGauge(0.2), 0.2, 1e-9, 10_000);
    figure('HTTPRoute created → Prometheus testbed_traffic_share 0.2', Date.now() - started);
    await waitForProm(canaryRequestShare, 0.2, 0.005, 20_000);
    figure(
      'HTTPRoute created → Prometheus request share within 0.005 of 0.2 (rate over 5s)',
      Date.now() - started,
    );
    await objects.delete(route);
    await waitForShares({ stable: 0.75, canary: 0.25 }, 'Service');
  });

  it('follows a VirtualService 70/30', async () => {
    const virtualService = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: APP, namespace },
      spec: {
        hosts: [APP],
        http: [
          {
            route: [
              { destination: { host: `${APP}-stable`, port: { number: 80 } }, weight: 70 },
              {
                destination: { host: `${APP}-canary.${namespace}.svc.cluster.local`, port: { number: 80 } },
                weight: 30,
              },
            ],
          },
        ],
      },
    };
    await objects.create(virtualService);
    const { ms } = await waitForShares({ stable: 0.7, canary: 0.3 }, 'VirtualService');
    figure('VirtualService created → simulator split 70/30', ms);
    await waitForProm(canaryShareGauge(0.3), 0.3, 1e-9, 10_000);
    await objects.delete(virtualService);
    await waitForShares({ stable: 0.75, canary: 0.25 }, 'Service');
  });

  it('follows an NGINX canary Ingress with canary-weight 40', async () => {
    await networking.createNamespacedIngress({ namespace, body: ingress(APP, `${APP}-stable`) });
    await networking.createNamespacedIngress({
      namespace,
      body: ingress(`${APP}-canary`, `${APP}-canary`, {
        'nginx.ingress.kubernetes.io/canary': 'true',
        'nginx.ingress.kubernetes.io/canary-weight': '40',
      }),
    });
    const { ms } = await waitForShares({ stable: 0.6, canary: 0.4 }, 'Ingress');
    figure('canary Ingress created → simulator split 60/40', ms);
    await waitForProm(canaryShareGauge(0.4), 0.4, 1e-9, 10_000);

    // Moving the weight is one annotation patch.
    const started = Date.now();
    await networking.patchNamespacedIngress(
      {
        name: `${APP}-canary`,
        namespace,
        body: { metadata: { annotations: { 'nginx.ingress.kubernetes.io/canary-weight': '100' } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await waitForShares({ canary: 1, stable: 0 }, 'Ingress');
    figure('canary-weight patched → simulator split 0/100', Date.now() - started);
    await waitForProm(canaryShareGauge(1), 1, 1e-9, 10_000);
    figure('canary-weight patched → Prometheus testbed_traffic_share 1', Date.now() - started);
  });

  it('answers 503 when the canary behind a weighted route goes away', async () => {
    await apps.deleteNamespacedDeployment({ name: `${APP}-canary`, namespace });
    const { value } = await waitUntil('the canary to have no ready pod', async () => {
      const current = await split();
      return current?.tracks.canary?.readyPods === 0 ? current : undefined;
    });
    expect(value.shares.canary).toBe(1);
    await waitForProm(`sum(rate(http_requests_total{${sel('canary')},code="503"}[5s]))`, 50, 0.5, 20_000);
  });
});
