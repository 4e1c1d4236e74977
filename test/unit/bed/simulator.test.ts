import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../../src/deploy/manifests.js';
import { weightHttpRoute } from '../../../src/deploy/routers/gateway-api.js';
import { weightVirtualService } from '../../../src/deploy/routers/istio.js';
import { canaryIngress } from '../../../src/deploy/routers/nginx.js';
import type { StepMatch } from '../../../src/deploy/routers/types.js';
import { BUCKETS, poisson, seededRandom, TrafficMetrics } from '../../bed/simulator/metrics.mjs';
import {
  type AppSplit,
  type ClusterSnapshot,
  computeSplits,
  type KubeObject,
} from '../../bed/simulator/split.mjs';

const NS = 'shop';

function pod(
  name: string,
  labels: Record<string, string>,
  options: {
    ready?: boolean;
    annotations?: Record<string, string>;
    namespace?: string;
    deleting?: boolean;
  } = {},
): KubeObject {
  return {
    metadata: {
      name,
      namespace: options.namespace ?? NS,
      labels,
      annotations: options.annotations ?? {},
      ...(options.deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}),
    },
    status: {
      phase: 'Running',
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Ready', status: options.ready === false ? 'False' : 'True' },
      ],
    },
  };
}

/** `count` pods of app `app` on `track` (undefined: no track label, i.e. stable). */
function pods(
  app: string,
  track: string | undefined,
  count: number,
  annotations: Record<string, string> = {},
) {
  return Array.from({ length: count }, (_, i) =>
    pod(
      `${app}-${track ?? 'main'}-${i}`,
      { app, ...(track ? { 'gantry.dev/track': track } : {}) },
      { annotations },
    ),
  );
}

function service(name: string, selector: Record<string, string>, annotations: Record<string, string> = {}) {
  return { metadata: { name, namespace: NS, annotations }, spec: { selector, ports: [{ port: 80 }] } };
}

/** The main Service plus `<app>-stable` and `<app>-canary`, as the rollout engine makes them for routers. */
function routerServices(app: string) {
  return [
    service(app, { app }),
    service(`${app}-stable`, { app, 'gantry.dev/track': 'stable' }),
    service(`${app}-canary`, { app, 'gantry.dev/track': 'canary' }),
  ];
}

function httpRoute(name: string, backendRefs: Record<string, unknown>[]): KubeObject {
  return {
    metadata: { name, namespace: NS },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs }] },
  };
}

function virtualService(name: string, route: Record<string, unknown>[]): KubeObject {
  return { metadata: { name, namespace: NS }, spec: { hosts: ['web'], http: [{ route }] } };
}

function ingress(
  name: string,
  backend: string,
  annotations: Record<string, string> = {},
  host = 'web.example',
) {
  return {
    metadata: { name, namespace: NS, annotations },
    spec: {
      ingressClassName: 'nginx',
      rules: [
        {
          host,
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

function splitOf(snapshot: ClusterSnapshot, app = 'web'): AppSplit {
  const found = computeSplits(snapshot).find((s) => s.namespace === NS && s.app === app);
  if (!found) throw new Error(`no split for ${app}`);
  return found;
}

const webPods = (stable: number, canary: number, canaryAnnotations: Record<string, string> = {}) => [
  ...pods('web', 'stable', stable),
  ...pods('web', 'canary', canary, canaryAnnotations),
];

describe('simulator split: replica ratio through the main Service', () => {
  it('splits in proportion to ready pods per track', () => {
    const split = splitOf({ pods: webPods(3, 1), services: [service('web', { app: 'web' })] });
    expect(split.source).toEqual({ kind: 'Service', name: 'web' });
    expect(split.shares).toEqual({ stable: 0.75, canary: 0.25 });
    expect(split.rps).toBe(50);
    expect(split.tracks.stable).toMatchObject({ rps: 37.5, readyPods: 3, unavailableRps: 0 });
    expect(split.tracks.canary).toMatchObject({ rps: 12.5, readyPods: 1 });
  });

  it('gives 90/10 for 9 stable and 1 canary, and counts unlabelled pods as stable', () => {
    const split = splitOf({
      pods: [...pods('web', undefined, 9), ...pods('web', 'canary', 1)],
      services: [service('web', { app: 'web' })],
    });
    expect(split.shares.stable).toBeCloseTo(0.9, 12);
    expect(split.shares.canary).toBeCloseTo(0.1, 12);
  });

  it('ignores pods that are not Ready, terminating, of another app or of another namespace', () => {
    const split = splitOf({
      pods: [
        ...webPods(2, 0),
        pod('c-unready', { app: 'web', 'gantry.dev/track': 'canary' }, { ready: false }),
        pod('c-deleting', { app: 'web', 'gantry.dev/track': 'canary' }, { deleting: true }),
        pod('c-elsewhere', { app: 'web', 'gantry.dev/track': 'canary' }, { namespace: 'other' }),
        pod('other-app', { app: 'api' }),
      ],
      services: [service('web', { app: 'web' })],
    });
    expect(split.shares).toEqual({ stable: 1 });
    expect(split.tracks.canary).toBeUndefined();
  });

  it('takes the rate from the main Service annotation', () => {
    const split = splitOf({
      pods: webPods(1, 1),
      services: [service('web', { app: 'web' }, { 'testbed.gantry.dev/rps': '200' })],
    });
    expect(split.rps).toBe(200);
    expect(split.tracks.canary!.rps).toBe(100);
  });

  it('honours a default rate option and gives no traffic to apps without an entry point', () => {
    const splits = computeSplits({ pods: webPods(1, 0) }, { defaultRps: 10 });
    expect(splits).toEqual([]);
    expect(splitOf({ pods: webPods(1, 0), services: [service('web', { app: 'web' })] }).rps).toBe(50);
    expect(
      computeSplits(
        { pods: webPods(1, 0), services: [service('web', { app: 'web' })] },
        { defaultRps: 10 },
      )[0]!.rps,
    ).toBe(10);
  });
});

describe('simulator split: routers', () => {
  it('gateway-api: honours HTTPRoute weights, each backend split by its ready pods', () => {
    const split = splitOf({
      pods: webPods(4, 1),
      services: routerServices('web'),
      httpRoutes: [
        httpRoute('web', [
          { name: 'web-stable', port: 80, weight: 80 },
          { name: 'web-canary', port: 80, weight: 20 },
        ]),
      ],
    });
    expect(split.source).toEqual({ kind: 'HTTPRoute', name: 'web' });
    expect(split.shares).toEqual({ stable: 0.8, canary: 0.2 });
    expect(split.backends).toEqual([
      { service: 'web-stable', weight: 0.8, readyPods: { stable: 4 } },
      { service: 'web-canary', weight: 0.2, readyPods: { canary: 1 } },
    ]);
  });

  it('gateway-api: an unset weight is 1; refs to other namespaces or kinds are ignored', () => {
    const split = splitOf({
      pods: webPods(1, 1),
      services: routerServices('web'),
      httpRoutes: [
        httpRoute('web', [
          { name: 'web-stable', port: 80 },
          { name: 'web-canary', port: 80 },
          { name: 'web-canary', namespace: 'elsewhere', weight: 1000 },
          { name: 'web-canary', kind: 'ServiceImport', group: 'multicluster.x-k8s.io', weight: 1000 },
        ]),
      ],
    });
    expect(split.shares).toEqual({ stable: 0.5, canary: 0.5 });
  });

  it('gateway-api: a weight of 0 takes a backend out of traffic', () => {
    const split = splitOf({
      pods: webPods(1, 1),
      services: routerServices('web'),
      httpRoutes: [
        httpRoute('web', [
          { name: 'web-stable', weight: 100 },
          { name: 'web-canary', weight: 0 },
        ]),
      ],
    });
    expect(split.shares).toEqual({ stable: 1, canary: 0 });
    expect(split.tracks.canary).toBeUndefined();
  });

  it('istio: honours VirtualService weights with short and fully qualified hosts', () => {
    const split = splitOf({
      pods: webPods(2, 2),
      services: routerServices('web'),
      virtualServices: [
        virtualService('web', [
          { destination: { host: 'web-stable', port: { number: 80 } }, weight: 70 },
          { destination: { host: `web-canary.${NS}.svc.cluster.local`, port: { number: 80 } }, weight: 30 },
        ]),
      ],
    });
    expect(split.source).toEqual({ kind: 'VirtualService', name: 'web' });
    expect(split.shares.stable).toBeCloseTo(0.7, 12);
    expect(split.shares.canary).toBeCloseTo(0.3, 12);
  });

  it('istio: a lone destination takes all traffic; hosts in other namespaces are ignored', () => {
    const split = splitOf({
      pods: webPods(2, 2),
      services: routerServices('web'),
      virtualServices: [
        virtualService('web', [{ destination: { host: `web-canary.${NS}` } }]),
        virtualService('zz-other', [{ destination: { host: 'web-stable.elsewhere.svc.cluster.local' } }]),
      ],
    });
    expect(split.shares).toEqual({ canary: 1 });
  });

  it('nginx: a canary Ingress sends canary-weight percent to its backend, the rest to the primary', () => {
    const split = splitOf({
      pods: webPods(3, 1),
      services: routerServices('web'),
      ingresses: [
        ingress('web', 'web-stable'),
        ingress('web-canary', 'web-canary', {
          'nginx.ingress.kubernetes.io/canary': 'true',
          'nginx.ingress.kubernetes.io/canary-weight': '40',
        }),
      ],
    });
    expect(split.source).toEqual({ kind: 'Ingress', name: 'web-canary' });
    expect(split.shares.stable).toBeCloseTo(0.6, 12);
    expect(split.shares.canary).toBeCloseTo(0.4, 12);
  });

  it('nginx: honours canary-weight-total, needs the same host and the nginx class', () => {
    const canary = (weight: string, host = 'web.example') =>
      ingress(
        'web-canary',
        'web-canary',
        {
          'nginx.ingress.kubernetes.io/canary': 'true',
          'nginx.ingress.kubernetes.io/canary-weight': weight,
          'nginx.ingress.kubernetes.io/canary-weight-total': '1000',
        },
        host,
      );
    const base = { pods: webPods(1, 1), services: routerServices('web') };
    expect(splitOf({ ...base, ingresses: [ingress('web', 'web-stable'), canary('250')] }).shares).toEqual({
      stable: 0.75,
      canary: 0.25,
    });
    // A canary for another host does not touch this one: the primary alone sends everything to stable.
    expect(
      splitOf({ ...base, ingresses: [ingress('web', 'web-stable'), canary('250', 'x')] }).shares,
    ).toEqual({
      stable: 1,
    });
    const traefik = ingress('web', 'web-canary');
    traefik.spec.ingressClassName = 'traefik';
    // Not nginx: the main Service decides (replica ratio).
    expect(splitOf({ ...base, ingresses: [traefik] }).source).toEqual({ kind: 'Service', name: 'web' });
  });

  it('a route to the main Service splits its share by ready pods (replica ratio behind a route)', () => {
    const split = splitOf({
      pods: webPods(3, 1),
      services: routerServices('web'),
      httpRoutes: [httpRoute('web', [{ name: 'web', port: 80 }])],
    });
    expect(split.shares).toEqual({ stable: 0.75, canary: 0.25 });
  });

  it('HTTPRoute wins over VirtualService, which wins over Ingress', () => {
    const snapshot = {
      pods: webPods(1, 1),
      services: routerServices('web'),
      httpRoutes: [
        httpRoute('web', [
          { name: 'web-stable', weight: 9 },
          { name: 'web-canary', weight: 1 },
        ]),
      ],
      virtualServices: [virtualService('web', [{ destination: { host: 'web-canary' } }])],
      ingresses: [ingress('web', 'web-stable')],
    };
    expect(splitOf(snapshot).source?.kind).toBe('HTTPRoute');
    expect(splitOf({ ...snapshot, httpRoutes: [] }).source?.kind).toBe('VirtualService');
    expect(splitOf({ ...snapshot, httpRoutes: [], virtualServices: [] }).source?.kind).toBe('Ingress');
  });

  it('keeps apps apart: a route of one app leaves another on its main Service', () => {
    const splits = computeSplits({
      pods: [...webPods(1, 1), ...pods('api', undefined, 2)],
      services: [...routerServices('web'), service('api', { app: 'api' })],
      httpRoutes: [httpRoute('web', [{ name: 'web-canary', weight: 1 }])],
    });
    expect(splits.map((s) => [s.app, s.source?.kind, s.shares])).toEqual([
      ['api', 'Service', { stable: 1 }],
      ['web', 'HTTPRoute', { canary: 1 }],
    ]);
  });
});

describe('simulator split: blue-green preview and unavailable backends', () => {
  it('gives every <app>-preview Service a fifth of the app rate on top of the user traffic', () => {
    const split = splitOf({
      pods: [
        ...pods('web', 'stable', 2),
        ...pods('web', 'preview', 2, { 'testbed.gantry.dev/error-rate': '1' }),
      ],
      services: [
        service('web', { app: 'web', 'gantry.dev/track': 'stable' }, { 'testbed.gantry.dev/rps': '100' }),
        service('web-preview', { app: 'web', 'gantry.dev/track': 'preview' }),
      ],
    });
    expect(split.shares).toEqual({ stable: 1 });
    expect(split.preview).toEqual({ service: 'web-preview', rps: 20, readyPods: { preview: 2 } });
    expect(split.tracks.stable!.rps).toBe(100);
    expect(split.tracks.preview).toMatchObject({ rps: 20, errorRate: 1 });
  });

  it('matches selectors like Kubernetes: a track selector does not select unlabelled pods', () => {
    const split = splitOf({
      pods: pods('web', undefined, 2),
      services: [service('web', { app: 'web', 'gantry.dev/track': 'stable' })],
    });
    expect(split.tracks.stable).toMatchObject({ rps: 0, unavailableRps: 50 });
  });

  it('follows the main Service selector switched to the preview track', () => {
    const split = splitOf({
      pods: [...pods('web', undefined, 2), ...pods('web', 'preview', 2)],
      services: [
        service('web', { app: 'web', 'gantry.dev/track': 'preview' }),
        service('web-preview', { app: 'web', 'gantry.dev/track': 'preview' }),
      ],
    });
    expect(split.shares).toEqual({ preview: 1 });
    expect(split.tracks.preview!.rps).toBe(60);
    expect(split.tracks.stable).toBeUndefined();
  });

  it('gives preview traffic even without a main Service', () => {
    const split = splitOf({
      pods: pods('web', 'preview', 1),
      services: [service('web-preview', { app: 'web', 'gantry.dev/track': 'preview' })],
    });
    expect(split.source).toBeNull();
    expect(split.shares).toEqual({});
    expect(split.tracks.preview!.rps).toBe(10);
  });

  it('answers 503 on the backend track when a weighted backend has no ready pods', () => {
    const split = splitOf({
      pods: [...webPods(2, 0), pod('c0', { app: 'web', 'gantry.dev/track': 'canary' }, { ready: false })],
      services: routerServices('web'),
      httpRoutes: [
        httpRoute('web', [
          { name: 'web-stable', weight: 75 },
          { name: 'web-canary', weight: 25 },
        ]),
      ],
    });
    expect(split.shares).toEqual({ stable: 0.75, canary: 0.25 });
    expect(split.tracks.canary).toMatchObject({ rps: 0, unavailableRps: 12.5, readyPods: 0 });
    expect(split.backends[1]).toEqual({ service: 'web-canary', weight: 0.25, readyPods: {} });
  });

  it('answers 503 for a route to a Service that does not exist, on the track its name implies', () => {
    const split = splitOf({
      pods: webPods(1, 0),
      services: [
        service('web', { app: 'web' }),
        service('web-stable', { app: 'web', 'gantry.dev/track': 'stable' }),
      ],
      httpRoutes: [
        httpRoute('web', [
          { name: 'web-stable', weight: 1 },
          { name: 'web-canary', weight: 1 },
        ]),
      ],
    });
    expect(split.tracks.canary).toMatchObject({ unavailableRps: 25 });
  });

  it('answers everything 503 on stable when the main Service has no ready pod', () => {
    const split = splitOf({ pods: [], services: [service('web', { app: 'web' })] });
    expect(split.shares).toEqual({ stable: 1 });
    expect(split.tracks.stable).toMatchObject({ rps: 0, unavailableRps: 50 });
  });
});

describe('simulator split: error rate and latency annotations', () => {
  it('defaults to no errors and 20 ms', () => {
    const split = splitOf({ pods: webPods(1, 0), services: [service('web', { app: 'web' })] });
    expect(split.tracks.stable).toMatchObject({ errorRate: 0, latencyMs: 20 });
  });

  it('reads the annotations, averages disagreeing pods, clamps and ignores garbage', () => {
    const split = splitOf({
      pods: [
        pod('s0', { app: 'web' }, { annotations: { 'testbed.gantry.dev/error-rate': '0.2' } }),
        pod('s1', { app: 'web' }, { annotations: { 'testbed.gantry.dev/error-rate': '0.4' } }),
        pod(
          'c0',
          { app: 'web', 'gantry.dev/track': 'canary' },
          {
            annotations: { 'testbed.gantry.dev/error-rate': '7', 'testbed.gantry.dev/latency-ms': 'slow' },
          },
        ),
        pod(
          'c1',
          { app: 'web', 'gantry.dev/track': 'canary' },
          {
            annotations: { 'testbed.gantry.dev/error-rate': '-1', 'testbed.gantry.dev/latency-ms': '300' },
          },
        ),
      ],
      services: [service('web', { app: 'web' })],
    });
    expect(split.tracks.stable!.errorRate).toBeCloseTo(0.3, 12);
    expect(split.tracks.stable!.latencyMs).toBe(20);
    expect(split.tracks.canary!.errorRate).toBe(0.5); // 7 → 1, -1 → 0
    expect(split.tracks.canary!.latencyMs).toBe(160); // 'slow' → 20
  });
});

describe("simulator split: error rate and latency from the pod's config (TESTBED_* environment)", () => {
  const configMap = (name: string, data: Record<string, string>) => ({
    metadata: { name, namespace: NS },
    data,
  });
  /** A ready pod whose first container has `env` and `envFrom`, and no testbed annotation. */
  const configured = (name: string, track: string, container: Record<string, unknown>): KubeObject => ({
    ...pod(name, { app: 'web', 'gantry.dev/track': track }),
    spec: { containers: [{ name: 'app', image: 'x', ...container }] },
  });

  it.each([
    ['a literal value', { env: [{ name: 'TESTBED_ERROR_RATE', value: '0.5' }] }, 0.5],
    [
      'a configMapKeyRef',
      {
        env: [
          { name: 'TESTBED_ERROR_RATE', valueFrom: { configMapKeyRef: { name: 'cfg-b', key: 'errors' } } },
        ],
      },
      0.4,
    ],
    ['envFrom a ConfigMap', { envFrom: [{ configMapRef: { name: 'cfg-a' } }] }, 0.3],
    ['envFrom with a prefix', { envFrom: [{ prefix: 'TESTBED_', configMapRef: { name: 'cfg-p' } }] }, 0.2],
    [
      'env over envFrom',
      {
        envFrom: [{ configMapRef: { name: 'cfg-a' } }],
        env: [{ name: 'TESTBED_ERROR_RATE', value: '0.9' }],
      },
      0.9,
    ],
    ['a ConfigMap that does not exist', { envFrom: [{ configMapRef: { name: 'missing' } }] }, 0],
    ['a Secret (never read)', { envFrom: [{ secretRef: { name: 'cfg-a' } }] }, 0],
  ])('reads %s', (_what, container, errorRate) => {
    const split = splitOf({
      pods: [configured('c0', 'canary', container)],
      services: [service('web', { app: 'web' })],
      configMaps: [
        configMap('cfg-a', { TESTBED_ERROR_RATE: '0.3', TESTBED_LATENCY_MS: '80' }),
        configMap('cfg-b', { errors: '0.4' }),
        configMap('cfg-p', { ERROR_RATE: '0.2' }),
      ],
    });
    expect(split.tracks.canary!.errorRate).toBeCloseTo(errorRate, 12);
  });

  it('uses the ConfigMap as it is now, and the annotation when the pod has one', () => {
    const pods = [
      configured('c0', 'canary', { envFrom: [{ configMapRef: { name: 'cfg' } }] }),
      {
        ...pod('s0', { app: 'web' }, { annotations: { 'testbed.gantry.dev/error-rate': '0.1' } }),
        spec: { containers: [{ name: 'app', envFrom: [{ configMapRef: { name: 'cfg' } }] }] },
      },
    ];
    const split = (data: Record<string, string>) =>
      splitOf({ pods, services: [service('web', { app: 'web' })], configMaps: [configMap('cfg', data)] });
    const good = split({ TESTBED_ERROR_RATE: '0', TESTBED_LATENCY_MS: '30' });
    const bad = split({ TESTBED_ERROR_RATE: '0.6', TESTBED_LATENCY_MS: '30' });
    expect(good.tracks.canary).toMatchObject({ errorRate: 0, latencyMs: 30 });
    expect(bad.tracks.canary).toMatchObject({ errorRate: 0.6, latencyMs: 30 });
    expect(bad.tracks.stable).toMatchObject({ errorRate: 0.1, latencyMs: 30 });
  });
});

/** `count` canary pods of web carrying the run label `run`. */
const canaryPodsOfRun = (run: string, count: number, annotations: Record<string, string> = {}) =>
  Array.from({ length: count }, (_, i) =>
    pod(
      `web-canary-${run}-${i}`,
      { app: 'web', 'gantry.dev/track': 'canary', 'gantry.dev/run-id': run },
      { annotations },
    ),
  );

describe('simulator split: runs within a track', () => {
  it('splits a track by run label, each run with its own share, error rate and latency', () => {
    const split = splitOf({
      pods: [
        ...pods('web', 'stable', 2),
        ...canaryPodsOfRun('r1', 1, { 'testbed.gantry.dev/error-rate': '0.5' }),
        ...canaryPodsOfRun('r2', 1, { 'testbed.gantry.dev/latency-ms': '100' }),
      ],
      services: [service('web', { app: 'web' }, { 'testbed.gantry.dev/rps': '100' })],
    });
    expect(split.tracks.canary).toMatchObject({ rps: 50, readyPods: 2, errorRate: 0.25, latencyMs: 60 });
    expect(split.tracks.canary!.runs).toEqual({
      r1: { rps: 25, readyPods: 1, errorRate: 0.5, latencyMs: 20 },
      r2: { rps: 25, readyPods: 1, errorRate: 0, latencyMs: 100 },
    });
    // Pods without the label are the run ''.
    expect(split.tracks.stable!.runs).toEqual({ '': { rps: 50, readyPods: 2, errorRate: 0, latencyMs: 20 } });
  });
});

/** Parses the text exposition back into { 'name{labels}': value } and checks every line's syntax. */
function parseExposition(text: string): Map<string, number> {
  expect(text.endsWith('\n')).toBe(true);
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line);
    if (type) {
      expect(typed.has(type[1]!), `TYPE ${type[1]} twice`).toBe(false);
      typed.add(type[1]!);
      continue;
    }
    const match =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\} (\S+)$/.exec(line);
    expect(match, `bad sample line: ${line}`).not.toBeNull();
    const base = match![1]!.replace(/_(bucket|sum|count)$/, '');
    expect(typed.has(match![1]!) || typed.has(base), `no TYPE before ${line}`).toBe(true);
    samples.set(`${match![1]}{${match![2]}}`, Number(match![3]));
  }
  return samples;
}

describe('simulator metrics', () => {
  const labels = (track: string, extra = '') => `namespace="${NS}",app="web",track="${track}"${extra}`;

  it('grows counters by exactly rate × time, split by the error rate, 500s present even at 0', () => {
    const metrics = new TrafficMetrics();
    const splits = computeSplits({
      pods: webPods(3, 1, { 'testbed.gantry.dev/error-rate': '0.5' }),
      services: [service('web', { app: 'web' }, { 'testbed.gantry.dev/rps': '100' })],
    });
    for (let i = 0; i < 10; i++) metrics.advance(splits, 0.5, i);
    const samples = parseExposition(metrics.expose());
    expect(samples.get(`http_requests_total{${labels('stable', ',code="200"')}}`)).toBeCloseTo(375, 9);
    expect(samples.get(`http_requests_total{${labels('stable', ',code="500"')}}`)).toBe(0);
    expect(samples.get(`http_requests_total{${labels('canary', ',code="200"')}}`)).toBeCloseTo(62.5, 9);
    expect(samples.get(`http_requests_total{${labels('canary', ',code="500"')}}`)).toBeCloseTo(62.5, 9);
    expect(samples.get(`testbed_traffic_share{${labels('canary')}}`)).toBe(0.25);
    expect(samples.get(`testbed_requests_per_second{${labels('stable')}}`)).toBe(75);
  });

  it('fills the histogram from a uniform ±50% spread around the track latency', () => {
    const metrics = new TrafficMetrics();
    const splits = computeSplits({
      pods: pods('web', undefined, 1, { 'testbed.gantry.dev/latency-ms': '200' }),
      services: [service('web', { app: 'web' }, { 'testbed.gantry.dev/rps': '10' })],
    });
    metrics.advance(splits, 10);
    const samples = parseExposition(metrics.expose());
    const bucket = (le: string) =>
      samples.get(`http_request_duration_seconds_bucket{${labels('stable', `,le="${le}"`)}}`);
    // 100 requests uniform on [0.1 s, 0.3 s]: none ≤ 0.05 s, none ≤ 0.1 s (a bound), 75 ≤ 0.25 s, all ≤ 0.5 s.
    expect(bucket('0.05')).toBe(0);
    expect(bucket('0.1')).toBe(0);
    expect(bucket('0.25')).toBeCloseTo(75, 9);
    expect(bucket('0.5')).toBe(100);
    expect(bucket('10')).toBe(100);
    expect(bucket('+Inf')).toBe(100);
    expect(samples.get(`http_request_duration_seconds_sum{${labels('stable')}}`)).toBeCloseTo(20, 9);
    expect(samples.get(`http_request_duration_seconds_count{${labels('stable')}}`)).toBe(100);
    // Buckets are cumulative, in order, every bound present.
    const values = [...BUCKETS.map((b) => bucket(String(b))), bucket('+Inf')];
    expect(values.every((v) => v !== undefined)).toBe(true);
    expect([...values].sort((a, b) => a! - b!)).toEqual(values);
  });

  it('counts 503s for unavailable backends, outside the histogram', () => {
    const metrics = new TrafficMetrics();
    const splits = computeSplits({
      pods: webPods(1, 0),
      services: routerServices('web'),
      httpRoutes: [
        httpRoute('web', [
          { name: 'web-stable', weight: 1 },
          { name: 'web-canary', weight: 1 },
        ]),
      ],
    });
    metrics.advance(splits, 2);
    const samples = parseExposition(metrics.expose());
    expect(samples.get(`http_requests_total{${labels('canary', ',code="503"')}}`)).toBe(50);
    expect(samples.get(`http_request_duration_seconds_count{${labels('canary')}}`)).toBe(0);
    expect(samples.get(`http_requests_total{${labels('stable', ',code="200"')}}`)).toBe(50);
  });

  it('keeps counters of a track that lost its traffic, and reports its share as 0', () => {
    const metrics = new TrafficMetrics();
    const services = [service('web', { app: 'web' })];
    metrics.advance(computeSplits({ pods: webPods(1, 1), services }), 1, 0);
    metrics.advance(computeSplits({ pods: webPods(1, 0), services }), 1, 1);
    const samples = parseExposition(metrics.expose());
    expect(samples.get(`http_requests_total{${labels('canary', ',code="200"')}}`)).toBe(25);
    expect(samples.get(`testbed_traffic_share{${labels('canary')}}`)).toBe(0);
    expect(samples.get(`testbed_traffic_share{${labels('stable')}}`)).toBe(1);
  });

  it('keeps two canary generations apart: each run is a series of its own, labelled run', () => {
    const metrics = new TrafficMetrics();
    const services = [service('web', { app: 'web' }, { 'testbed.gantry.dev/rps': '100' })];
    const bad = canaryPodsOfRun('bad-1', 1, { 'testbed.gantry.dev/error-rate': '0.5' });
    const good = canaryPodsOfRun('good-2', 1);
    // The bad canary for 10 s, rolled back (no canary for 1 s), then the good one for 10 s.
    metrics.advance(computeSplits({ pods: [...pods('web', 'stable', 3), ...bad], services }), 10, 10);
    metrics.advance(computeSplits({ pods: pods('web', 'stable', 3), services }), 1, 11);
    metrics.advance(computeSplits({ pods: [...pods('web', 'stable', 3), ...good], services }), 10, 21);
    const samples = parseExposition(metrics.expose());
    const canary = (run: string, code: string) =>
      samples.get(`http_requests_total{${labels('canary', `,run="${run}",code="${code}"`)}}`);
    expect(canary('bad-1', '500')).toBeCloseTo(125, 9);
    expect(canary('bad-1', '200')).toBeCloseTo(125, 9);
    expect(canary('good-2', '500')).toBe(0);
    expect(canary('good-2', '200')).toBeCloseTo(250, 9);
    expect(samples.get(`http_request_duration_seconds_count{${labels('canary', ',run="good-2"')}}`)).toBe(
      250,
    );
    // Pods without a run label (the stable ones) give series without the label, as before.
    expect(samples.get(`http_requests_total{${labels('stable', ',code="200"')}}`)).toBeCloseTo(1600, 9);
    expect([...samples.keys()].filter((k) => k.includes('track="stable",run='))).toEqual([]);
    // The gauges stay per track.
    expect(samples.get(`testbed_requests_per_second{${labels('canary')}}`)).toBe(25);
  });

  it('drops the series of a run without traffic for longer than the retention, keeps unlabelled ones', () => {
    const metrics = new TrafficMetrics({ retainSeconds: 60 });
    const services = [service('web', { app: 'web' })];
    metrics.advance(computeSplits({ pods: [...webPods(1, 1), ...canaryPodsOfRun('r1', 1)], services }), 1, 0);
    metrics.advance(computeSplits({ pods: webPods(1, 0), services }), 1, 30);
    expect(metrics.expose()).toContain('run="r1"');
    metrics.advance(computeSplits({ pods: webPods(1, 0), services }), 1, 61);
    const text = metrics.expose();
    expect(text).not.toContain('run="r1"');
    expect(text).toContain(`http_requests_total{${labels('canary', ',code="200"')}}`);
  });

  it('drops the series of an app gone for longer than the retention', () => {
    const metrics = new TrafficMetrics({ retainSeconds: 60 });
    metrics.advance(computeSplits({ pods: webPods(1, 0), services: [service('web', { app: 'web' })] }), 1, 0);
    metrics.advance([], 1, 30);
    expect(metrics.expose()).toContain('app="web"');
    metrics.advance([], 1, 61);
    expect(metrics.expose()).not.toContain('app="web"');
  });

  it('escapes label values and prints the TYPE lines even with no series', () => {
    const metrics = new TrafficMetrics();
    expect(parseExposition(metrics.expose()).size).toBe(0);
    metrics.advance(
      [{ namespace: 'n"s\\x\ny', app: 'web', shares: { stable: 1 }, tracks: { stable: stats(1) } }],
      1,
    );
    const text = metrics.expose();
    expect(text).toContain('namespace="n\\"s\\\\x\\ny"');
    parseExposition(text);
  });
});

function stats(rps: number) {
  return { rps, unavailableRps: 0, readyPods: 1, errorRate: 0, latencyMs: 20 };
}

// Matched traffic: a share of the requests carries a header or a cookie; the route objects are the ones
// Gantry's routers write for a match step (their pure rewrites), so this also checks that the two agree.
describe('simulator split: requests with a header or cookie (A/B match steps)', () => {
  const names = { name: 'web', canaryService: 'web-canary', namespace: NS };
  const HEADER: StepMatch = { kind: 'header', name: 'x-canary', value: 'always' };
  const COOKIE: StepMatch = { kind: 'cookie', name: 'canary' };
  /** The main Service pinned to stable (as Gantry pins it behind a router) and the canary Service. */
  const services = (annotations: Record<string, string>) => [
    service('web', { app: 'web', 'gantry.dev/track': 'stable' }, annotations),
    service('web-canary', { app: 'web', 'gantry.dev/track': 'canary' }),
  ];
  const shares = { 'testbed.gantry.dev/header-share': '0.1', 'testbed.gantry.dev/cookie-share': '0.2' };
  const gateway = (weight: number, match?: StepMatch): ClusterSnapshot => ({
    httpRoutes: [
      {
        metadata: { name: 'web', namespace: NS },
        spec: weightHttpRoute(
          {
            rules: [
              {
                matches: [{ path: { type: 'PathPrefix', value: '/' } }],
                backendRefs: [{ name: 'web', port: 80 }],
              },
            ],
          },
          names,
          weight,
          match,
        ),
      },
    ],
  });
  const istio = (weight: number, match?: StepMatch): ClusterSnapshot => ({
    virtualServices: [
      {
        metadata: { name: 'web', namespace: NS },
        spec: weightVirtualService(
          { http: [{ route: [{ destination: { host: 'web', port: { number: 80 } } }] }] },
          names,
          weight,
          match,
        ),
      },
    ],
  });
  const nginx = (weight: number, match?: StepMatch): ClusterSnapshot => {
    const main = ingress('web', 'web');
    return {
      ingresses: [main, canaryIngress(main as unknown as Manifest, names, weight, match) as KubeObject],
    };
  };
  const routers = { 'gateway-api': gateway, istio, nginx };

  describe.each(Object.entries(routers))('%s', (_router, routes) => {
    const splitWith = (routing: ClusterSnapshot, annotations: Record<string, string> = shares) =>
      splitOf({ pods: webPods(3, 1), services: services(annotations), ...routing });

    it('a header match step: the requests with the header go to the canary, and only they', () => {
      const split = splitWith(routes(0, HEADER));
      expect(split.shares.canary).toBeCloseTo(0.1, 12);
      expect(split.shares.stable).toBeCloseTo(0.9, 12);
      const byKind = Object.fromEntries((split.requests ?? []).map((r) => [r.kind, r]));
      expect(byKind.header).toMatchObject({ match: 'x-canary: always', share: 0.1 });
      expect(nonZero(byKind.header!.shares)).toEqual({ canary: 1 });
      expect(byKind.cookie!.share).toBe(0.2);
      expect(nonZero(byKind.cookie!.shares)).toEqual({ stable: 1 });
      expect(nonZero(byKind.plain!.shares)).toEqual({ stable: 1 });
      expect(byKind.plain!.share).toBeCloseTo(0.7, 12);
      expect(split.tracks.canary!.rps).toBeCloseTo(5, 9);
    });

    it('a cookie match step: the requests with the cookie canary=always go to the canary', () => {
      const split = splitWith(routes(0, COOKIE));
      expect(split.shares.canary).toBeCloseTo(0.2, 12);
      const byKind = Object.fromEntries((split.requests ?? []).map((r) => [r.kind, nonZero(r.shares)]));
      expect(byKind).toEqual({ header: { stable: 1 }, cookie: { canary: 1 }, plain: { stable: 1 } });
    });

    it('another header value or cookie value is not a match', () => {
      const split = splitWith(routes(0, HEADER), {
        'testbed.gantry.dev/header-share': '0.5',
        'testbed.gantry.dev/header': 'x-canary: never',
        'testbed.gantry.dev/cookie-share': '0.5',
        'testbed.gantry.dev/cookie': 'canary=never',
      });
      expect(nonZero(split.shares)).toEqual({ stable: 1 });
    });

    it('a weight after the match step: the match rule is gone, every kind follows the weight', () => {
      const split = splitWith(routes(25, undefined));
      expect(split.shares.canary).toBeCloseTo(0.25, 12);
      for (const request of split.requests ?? []) expect(request.shares.canary).toBeCloseTo(0.25, 12);
    });

    it('rolled back (weight 0, no match): nothing reaches the canary', () => {
      expect(nonZero(splitWith(routes(0, undefined)).shares)).toEqual({ stable: 1 });
    });
  });

  it('without header or cookie shares the split is as before (no per-kind detail)', () => {
    const split = splitOf({ pods: webPods(3, 1), services: services({}), ...gateway(0, HEADER) });
    expect(split.shares).toEqual({ stable: 1 });
    expect(split.requests).toBeUndefined();
  });

  it('gateway-api: the rule with more header matches wins whatever the order', () => {
    const route: KubeObject = {
      metadata: { name: 'web', namespace: NS },
      spec: {
        rules: [
          {
            matches: [{ headers: [{ name: 'X-Canary', value: 'always' }] }],
            backendRefs: [{ name: 'web-canary' }],
          },
          { backendRefs: [{ name: 'web' }] },
        ],
      },
    };
    const split = splitOf({ pods: webPods(1, 1), services: services(shares), httpRoutes: [route] });
    expect(split.shares.canary).toBeCloseTo(0.1, 12);
  });

  it('istio: the first route that matches wins (a match route after a catch-all never matches)', () => {
    const written = weightVirtualService(
      { http: [{ route: [{ destination: { host: 'web' } }] }] },
      names,
      0,
      HEADER,
    );
    const reversed = { http: [...(written.http ?? [])].reverse() };
    const split = splitOf({
      pods: webPods(1, 1),
      services: services(shares),
      virtualServices: [{ metadata: { name: 'web', namespace: NS }, spec: reversed }],
    });
    expect(split.shares).toEqual({ stable: 1 });
  });

  it('header and cookie shares above 1 in total are cut to 1; the header wins', () => {
    const split = splitOf({
      pods: webPods(1, 1),
      services: services({
        'testbed.gantry.dev/header-share': '0.7',
        'testbed.gantry.dev/cookie-share': '0.6',
      }),
      ...nginx(0, COOKIE),
    });
    expect(split.requests?.map((r) => [r.kind, Number(r.share.toFixed(9))])).toEqual([
      ['header', 0.7],
      ['cookie', 0.3],
    ]);
    expect(split.shares.canary).toBeCloseTo(0.3, 12);
  });
});

/** Shares without the tracks at 0 (the nginx canary Ingress keeps its canary backend at weight 0). */
function nonZero(shares: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(shares).filter(([, share]) => share !== 0));
}

describe('simulator noise (opt-in per app)', () => {
  const labels = (track: string, extra = '') => `namespace="${NS}",app="web",track="${track}"${extra}`;
  const noisy = (seed = 'seed-1', extra: Record<string, string> = {}) =>
    computeSplits({
      pods: webPods(3, 1, { 'testbed.gantry.dev/error-rate': '0.1', 'testbed.gantry.dev/latency-ms': '40' }),
      services: [
        service(
          'web',
          { app: 'web' },
          { 'testbed.gantry.dev/rps': '100', ...extra, 'testbed.gantry.dev/noise': seed },
        ),
      ],
    });
  const run = (splits: ReturnType<typeof computeSplits>, advances = 200) => {
    const metrics = new TrafficMetrics();
    for (let i = 0; i < advances; i++) metrics.advance(splits, 0.5, i);
    return parseExposition(metrics.expose());
  };

  it('is off without the annotation: the split has no noise and the counts are exact', () => {
    const splits = computeSplits({
      pods: webPods(3, 1),
      services: [service('web', { app: 'web' }, { 'testbed.gantry.dev/rps': '100' })],
    });
    expect(splits[0]).not.toHaveProperty('noise');
    expect(noisy()[0]!.noise).toBe('seed-1');
  });

  it('draws whole requests around rate × time, errors around the error rate, latencies over the spread', () => {
    const samples = run(noisy());
    // Stable: no errors, 20 ms (uniform on [10, 30] ms); canary: 10 % errors, 40 ms ([20, 60] ms).
    for (const [track, share, errorRate, at25ms, allBelow] of [
      ['stable', 0.75, 0, 0.75, '0.05'],
      ['canary', 0.25, 0.1, 0.125, '0.1'],
    ] as const) {
      const ok = samples.get(`http_requests_total{${labels(track, ',code="200"')}}`)!;
      const errors = samples.get(`http_requests_total{${labels(track, ',code="500"')}}`)!;
      const count = samples.get(`http_request_duration_seconds_count{${labels(track)}}`)!;
      const expected = 100 * share * 100; // 100 s at 100 requests/s
      expect(Number.isInteger(ok) && Number.isInteger(errors)).toBe(true);
      expect(count).toBe(ok + errors);
      // Within 5 standard deviations, and not the exact value.
      expect(Math.abs(count - expected)).toBeLessThan(5 * Math.sqrt(expected));
      expect(count).not.toBe(expected);
      const spread = (p: number) => 5 * Math.sqrt((p * (1 - p)) / count) + 1e-9;
      expect(Math.abs(errors / count - errorRate)).toBeLessThanOrEqual(spread(errorRate));
      const bucket = (le: string) =>
        samples.get(`http_request_duration_seconds_bucket{${labels(track, `,le="${le}"`)}}`)!;
      expect(bucket('0.01')).toBe(0);
      expect(Math.abs(bucket('0.025') / count - at25ms)).toBeLessThan(spread(at25ms));
      expect(bucket('0.025') / count).not.toBe(at25ms);
      expect(bucket(allBelow)).toBe(count);
    }
    const canaryErrors = samples.get(`http_requests_total{${labels('canary', ',code="500"')}}`)!;
    expect(canaryErrors / samples.get(`http_request_duration_seconds_count{${labels('canary')}}`)!).not.toBe(
      0.1,
    );
  });

  it('is reproducible: the same seed gives the same counts, another seed others', () => {
    const a = run(noisy('seed-1'), 50);
    const b = run(noisy('seed-1'), 50);
    const c = run(noisy('seed-2'), 50);
    expect([...a]).toEqual([...b]);
    expect([...a]).not.toEqual([...c]);
  });

  it('draws Poisson counts: mean and variance both the mean, small and large', () => {
    const random = seededRandom('poisson');
    for (const mean of [0.3, 5, 80]) {
      const draws = Array.from({ length: 20_000 }, () => poisson(random, mean));
      const average = draws.reduce((a, b) => a + b, 0) / draws.length;
      const variance = draws.reduce((a, b) => a + (b - average) ** 2, 0) / draws.length;
      expect(Math.abs(average - mean)).toBeLessThan(5 * Math.sqrt(mean / draws.length));
      expect(variance / mean).toBeGreaterThan(0.9);
      expect(variance / mean).toBeLessThan(1.1);
    }
  });
});
