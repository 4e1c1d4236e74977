import { KubernetesObjectApi, NetworkingV1Api } from '@kubernetes/client-node';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, runCli } from '../helpers/cli.js';
import {
  clients,
  createNamespace,
  deleteNamespace,
  fakeImage,
  imageOf,
  kubeConfig,
  readDeployment,
  writeAnalysis,
  writeApp,
} from '../helpers/kube.js';

// A/B match steps on the sandbox: each weighted router writes its match rule into the real API server, the
// simulator (a share of whose requests carry the header `x-canary: always`, another share the cookie
// `canary=always`) sends exactly the matching requests to the canary, and promotion or rollback leaves no
// match rule behind. (The simulator's matching is in test/bed/simulator/split.mjs.)

const namespaces: string[] = [];
afterAll(async () => {
  await Promise.all(namespaces.map(deleteNamespace));
});

const HEADER_SHARE = 0.2;
const COOKIE_SHARE = 0.3;
const SERVICE_ANNOTATIONS = {
  'testbed.gantry.dev/header-share': String(HEADER_SHARE),
  'testbed.gantry.dev/cookie-share': String(COOKIE_SHARE),
};

interface Split {
  app: string;
  source: { kind: string; name: string } | null;
  shares: Record<string, number>;
  requests?: { kind: string; share: number; shares: Record<string, number> }[];
}

async function split(namespace: string): Promise<Split | undefined> {
  const response = await fetch(`${process.env.SIMULATOR_URL}/split?namespace=${namespace}`);
  const body = (await response.json()) as { splits: Split[] };
  return body.splits.find((s) => s.app === 'web');
}

const near = (a: number | undefined, b: number) => Math.abs((a ?? 0) - b) < 1e-9;

/**
 * What a split is: `none` (nothing to the canary), `header` / `cookie` (exactly the requests of that kind to
 * the canary, all of them, and no other), or a description of anything else.
 */
function stateOf(current: Split): string {
  const kinds = Object.fromEntries((current.requests ?? []).map((r) => [r.kind, r.shares]));
  const only = (kind: string) =>
    Object.entries(kinds).every(([k, shares]) =>
      k === kind ? near(shares.canary, 1) && near(shares.stable, 0) : near(shares.canary, 0),
    );
  if (near(current.shares.canary, 0)) return 'none';
  if (near(current.shares.canary, HEADER_SHARE) && only('header')) return 'header';
  if (near(current.shares.canary, COOKIE_SHARE) && only('cookie')) return 'cookie';
  return JSON.stringify({ shares: current.shares, requests: current.requests });
}

const HTTP_ROUTE = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'web' },
  spec: { parentRefs: [{ name: 'gateway' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
};
const VIRTUAL_SERVICE = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'web' },
  spec: { hosts: ['web'], http: [{ route: [{ destination: { host: 'web', port: { number: 80 } } }] }] },
};
const INGRESS = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'web' },
  spec: {
    ingressClassName: 'nginx',
    rules: [
      {
        host: 'web.example.test',
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
          ],
        },
      },
    ],
  },
};

/** Which match rule the router's object in the cluster holds now: `header`, `cookie`, or `none`. */
async function ruleIn(router: string, ns: string): Promise<string> {
  if (router === 'nginx') {
    const canary = await kubeConfig()
      .makeApiClient(NetworkingV1Api)
      .readNamespacedIngress({ namespace: ns, name: 'web-canary' })
      .catch(() => undefined);
    const annotations = canary?.metadata?.annotations ?? {};
    if (annotations['nginx.ingress.kubernetes.io/canary-by-header'] === 'x-canary') {
      return annotations['nginx.ingress.kubernetes.io/canary-by-header-value'] === 'always'
        ? 'header'
        : 'bad';
    }
    return annotations['nginx.ingress.kubernetes.io/canary-by-cookie'] === 'canary' ? 'cookie' : 'none';
  }
  const object = router === 'istio' ? VIRTUAL_SERVICE : HTTP_ROUTE;
  const route = (await KubernetesObjectApi.makeApiClient(kubeConfig()).read({
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: { name: 'web', namespace: ns },
  })) as unknown as { spec: Record<string, unknown> };
  const text = JSON.stringify(route.spec);
  if (text.includes('x-canary')) return 'header';
  if (text.includes('canary=always')) return 'cookie';
  return 'none';
}

/** The match rule as the API server stores it (the first match rule's matches, or the canary Ingress's annotations). */
async function matchRuleObject(router: string, ns: string): Promise<unknown> {
  if (router === 'nginx') {
    const canary = await kubeConfig()
      .makeApiClient(NetworkingV1Api)
      .readNamespacedIngress({ namespace: ns, name: 'web-canary' });
    return canary.metadata?.annotations;
  }
  const object = router === 'istio' ? VIRTUAL_SERVICE : HTTP_ROUTE;
  const route = (await KubernetesObjectApi.makeApiClient(kubeConfig()).read({
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: { name: 'web', namespace: ns },
  })) as unknown as { spec: { rules?: unknown[]; http?: unknown[] } };
  return route.spec.rules ?? route.spec.http;
}

const ROUTERS: [string, string, object][] = [
  ['gateway-api', 'HTTPRoute', HTTP_ROUTE],
  ['istio', 'VirtualService', VIRTUAL_SERVICE],
  ['nginx', 'Ingress', INGRESS],
];

/** The header rule each router writes, as the API server returns it. */
const HEADER_RULE: Record<string, unknown> = {
  'gateway-api': [
    // Gateway API's CRD defaults a rule without matches to a `/` prefix match; the match rule keeps it.
    {
      backendRefs: [{ group: '', kind: 'Service', name: 'web', port: 80, weight: 100 }],
      matches: [{ path: { type: 'PathPrefix', value: '/' } }],
    },
    {
      backendRefs: [{ group: '', kind: 'Service', name: 'web-canary', port: 80, weight: 1 }],
      matches: [
        {
          headers: [{ name: 'x-canary', type: 'Exact', value: 'always' }],
          path: { type: 'PathPrefix', value: '/' },
        },
      ],
    },
  ],
  istio: [
    {
      match: [{ headers: { 'x-canary': { exact: 'always' } } }],
      route: [{ destination: { host: 'web-canary', port: { number: 80 } } }],
    },
    { route: [{ destination: { host: 'web', port: { number: 80 } }, weight: 100 }] },
  ],
  nginx: {
    'nginx.ingress.kubernetes.io/canary': 'true',
    'nginx.ingress.kubernetes.io/canary-weight': '0',
    'nginx.ingress.kubernetes.io/canary-by-header': 'x-canary',
    'nginx.ingress.kubernetes.io/canary-by-header-value': 'always',
  },
};

async function deployStable(ns: string, manifests: string): Promise<void> {
  const first = await runCli([
    'deploy',
    '--json',
    '--manifests',
    manifests,
    '--image',
    `app=${fakeImage('v1')}`,
    '--namespace',
    ns,
    '--strategy',
    'rolling',
    '--ready-timeout',
    '60s',
  ]);
  expect(first.exitCode, first.stderr).toBe(0);
}

describe.each(ROUTERS)('match steps with the %s router', (router, kind, route) => {
  it('a header step, then a cookie step: only the matching requests reach the canary; promoted, no rule left', async () => {
    const ns = await createNamespace(`ab-${router.slice(0, 5)}`);
    namespaces.push(ns);
    const manifests = writeApp({ replicas: 4, extra: [route], serviceAnnotations: SERVICE_ANNOTATIONS });
    await deployStable(ns, manifests);

    const child = execa(
      process.execPath,
      [
        cliPath,
        'deploy',
        '--json',
        '--manifests',
        manifests,
        '--image',
        `app=${fakeImage('v2')}`,
        '--namespace',
        ns,
        '--strategy',
        'canary',
        '--router',
        router,
        '--steps',
        'header=x-canary:always:8s,cookie=canary:8s',
        '--ready-timeout',
        '60s',
      ],
      { reject: false },
    );
    // While the rollout runs: which rule the route object holds, and what the simulator makes of it.
    const rules = new Set<string>();
    const states = new Set<string>();
    let headerRule: unknown;
    while (child.exitCode === null) {
      const rule = await ruleIn(router, ns).catch(() => 'unreadable');
      rules.add(rule);
      if (rule === 'header' && headerRule === undefined)
        headerRule = await matchRuleObject(router, ns).catch(() => undefined);
      const current = await split(ns);
      if (current) states.add(stateOf(current));
      await new Promise((r) => setTimeout(r, 200));
    }
    const result = await child;
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const report = JSON.parse(String(result.stdout)) as {
      verdict: string;
      steps: { weight: number; result: string }[];
    };
    expect(report.verdict).toBe('promoted');
    expect(report.steps.map((s) => `${s.weight} ${s.result}`)).toEqual(['0 passed', '0 passed']);

    // The route objects in the API server: the header rule, then the cookie rule, then none.
    expect([...rules].filter((r) => r !== 'none' && r !== 'unreadable')).toEqual(['header', 'cookie']);
    if (router === 'nginx') expect(headerRule).toMatchObject(HEADER_RULE.nginx as object);
    else expect(headerRule).toEqual(HEADER_RULE[router]);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(fakeImage('v2'));
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
    if (router === 'nginx') {
      const ingresses = await kubeConfig()
        .makeApiClient(NetworkingV1Api)
        .listNamespacedIngress({ namespace: ns });
      expect(ingresses.items.map((i) => i.metadata?.name)).toEqual(['web']);
    } else {
      expect(await ruleIn(router, ns)).toBe('none');
      expect(JSON.stringify(await matchRuleObject(router, ns))).not.toContain('web-canary');
    }

    // The simulator: while a rule existed, its requests went to the canary, all of them and no others.
    expect(
      [...states].filter((s) => !['none', 'header', 'cookie'].includes(s)),
      'other splits seen',
    ).toEqual([]);
    expect(states.has('header'), `no header split seen from a ${kind}`).toBe(true);
    expect(states.has('cookie'), `no cookie split seen from a ${kind}`).toBe(true);
    const after = await split(ns);
    expect(after?.shares.canary ?? 0).toBe(0);
  });

  it('a bad canary at a header step is rolled back by its analysis; the rule is gone', async () => {
    const ns = await createNamespace(`abr-${router.slice(0, 5)}`);
    namespaces.push(ns);
    await deployStable(
      ns,
      writeApp({ replicas: 4, extra: [route], serviceAnnotations: SERVICE_ANNOTATIONS }),
    );
    const child = execa(
      process.execPath,
      [
        cliPath,
        'deploy',
        '--json',
        '--manifests',
        writeApp({ replicas: 4, extra: [route], serviceAnnotations: SERVICE_ANNOTATIONS, errorRate: 0.5 }),
        '--image',
        `app=${fakeImage('bad')}`,
        '--namespace',
        ns,
        '--strategy',
        'canary',
        '--router',
        router,
        '--steps',
        'header=x-canary:always:60s,50',
        '--analysis',
        writeAnalysis({ inconclusiveLimit: 30 }),
        '--ready-timeout',
        '60s',
      ],
      { reject: false },
    );
    const states = new Set<string>();
    while (child.exitCode === null) {
      const current = await split(ns);
      if (current) states.add(stateOf(current));
      await new Promise((r) => setTimeout(r, 200));
    }
    const result = await child;
    expect(result.exitCode, String(result.stderr)).toBe(1);
    const report = JSON.parse(String(result.stdout)) as {
      verdict: string;
      reason: string;
      checks: { value: number | null; result: string }[];
    };
    expect(report.verdict).toBe('rolled-back');
    expect(report.reason).toMatch(/error-rate/);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(fakeImage('v1'));
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
    const services = await clients().core.listNamespacedService({ namespace: ns });
    expect(services.items.map((s) => s.metadata?.name)).not.toContain('web-canary');
    if (router === 'nginx') {
      const ingresses = await kubeConfig()
        .makeApiClient(NetworkingV1Api)
        .listNamespacedIngress({ namespace: ns });
      expect(ingresses.items.map((i) => i.metadata?.name)).toEqual(['web']);
    } else {
      expect(await ruleIn(router, ns)).toBe('none');
    }
    // Measured on the canary's own requests (the matched ones): about half of them fail.
    expect(
      report.checks.some((c) => c.result === 'fail' && (c.value ?? 0) > 0.3),
      JSON.stringify(report.checks),
    ).toBe(true);
    expect(
      [...states].filter((s) => !['none', 'header'].includes(s)),
      'other splits seen',
    ).toEqual([]);
    expect(states.has('header')).toBe(true);
    expect((await split(ns))?.shares.canary ?? 0).toBe(0);
  });
});
