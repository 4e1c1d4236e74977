import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../../src/deploy/manifests.js';
import {
  type HttpRouteSpec,
  httpRouteWeights,
  weightHttpRoute,
} from '../../../src/deploy/routers/gateway-api.js';
import {
  type VirtualServiceSpec,
  virtualServiceWeights,
  weightVirtualService,
} from '../../../src/deploy/routers/istio.js';
import { canaryIngress, canaryIngressWeights } from '../../../src/deploy/routers/nginx.js';
import { serviceForTrack } from '../../../src/deploy/routers/service.js';
import { percentages, type StepMatch } from '../../../src/deploy/routers/types.js';

// The routers' object rewrites, one table each: what the router writes for a weight, and the weight it reads
// back from what it wrote. (Writing and reading against a real API server: test/integration/routers.test.ts.)
const names = { name: 'web', canaryService: 'web-canary', namespace: 'shop' };

describe('gateway-api: HTTPRoute backendRefs', () => {
  const other = { name: 'legacy', port: 80, weight: 10 };
  const route = (refs: { name: string; [key: string]: unknown }[]): HttpRouteSpec => ({
    rules: [{ matches: [{ path: '/' }], backendRefs: refs }],
  });
  it.each<[string, HttpRouteSpec, number, HttpRouteSpec]>([
    [
      'splits the main Service 75/25',
      route([{ name: 'web', port: 80 }]),
      25,
      route([
        { name: 'web', port: 80, weight: 75 },
        { name: 'web-canary', port: 80, weight: 25 },
      ]),
    ],
    [
      'no canary ref at 0',
      route([{ name: 'web', port: 80 }]),
      0,
      route([{ name: 'web', port: 80, weight: 100 }]),
    ],
    [
      'replaces an earlier canary ref, keeps other backends first',
      route([other, { name: 'web', port: 80, weight: 50 }, { name: 'web-canary', port: 80, weight: 50 }]),
      10,
      route([other, { name: 'web', port: 80, weight: 90 }, { name: 'web-canary', port: 80, weight: 10 }]),
    ],
    [
      'leaves rules without the main Service alone',
      { rules: [{ backendRefs: [other] }, { backendRefs: [{ name: 'web' }] }] },
      100,
      {
        rules: [
          { backendRefs: [other] },
          {
            backendRefs: [
              { name: 'web', weight: 0 },
              { name: 'web-canary', weight: 100 },
            ],
          },
        ],
      },
    ],
  ])('%s', (_name, spec, weight, expected) => {
    expect(weightHttpRoute(spec, names, weight)).toEqual(expected);
  });

  it.each([0, 5, 50, 100])('reads back the weight it wrote (%i)', (weight) => {
    const written = weightHttpRoute(route([{ name: 'web', port: 80 }]), names, weight);
    expect(httpRouteWeights(written, names)).toEqual({ stable: 100 - weight, canary: weight });
  });

  it('refuses a route with no rule to the main Service', () => {
    expect(() => weightHttpRoute(route([other]), names, 10)).toThrow(
      'HTTPRoute web has no rule with a backendRef to Service web',
    );
  });
});

describe('istio: VirtualService routes', () => {
  const vs = (route: object[]): VirtualServiceSpec => ({ http: [{ route: route as never }] });
  const to = (host: string, weight?: number) => ({
    destination: { host, port: { number: 80 } },
    ...(weight === undefined ? {} : { weight }),
  });
  it.each<[string, VirtualServiceSpec, number, VirtualServiceSpec]>([
    ['splits the main host 60/40', vs([to('web')]), 40, vs([to('web', 60), to('web-canary', 40)])],
    [
      'recognises the host in its long forms',
      vs([to('web.shop.svc.cluster.local')]),
      20,
      vs([to('web.shop.svc.cluster.local', 80), to('web-canary', 20)]),
    ],
    ['no canary destination at 0', vs([to('web', 70), to('web-canary', 30)]), 0, vs([to('web', 100)])],
    [
      'keeps other destinations',
      vs([to('mirror', 5), to('web')]),
      50,
      vs([to('mirror', 5), to('web', 50), to('web-canary', 50)]),
    ],
  ])('%s', (_name, spec, weight, expected) => {
    expect(weightVirtualService(spec, names, weight)).toEqual(expected);
  });

  it.each([0, 25, 100])('reads back the weight it wrote (%i)', (weight) => {
    const written = weightVirtualService(vs([to('web')]), names, weight);
    expect(virtualServiceWeights(written, names)).toEqual({ stable: 100 - weight, canary: weight });
  });

  it('refuses a VirtualService with no route to the main host', () => {
    expect(() => weightVirtualService(vs([to('other')]), names, 10)).toThrow(
      'VirtualService web has no route to host web',
    );
  });
});

describe('nginx: the canary Ingress', () => {
  const main: Manifest = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      ingressClassName: 'nginx',
      rules: [
        {
          host: 'shop.example.com',
          http: {
            paths: [
              { path: '/', backend: { service: { name: 'web', port: { number: 80 } } } },
              { path: '/static', backend: { service: { name: 'cdn', port: { number: 80 } } } },
            ],
          },
        },
      ],
    },
  };

  it('copies hosts and paths, points the main Service’s backends at the canary, weights by annotation', () => {
    const canary = canaryIngress(main, names, 30);
    expect(canary.metadata).toMatchObject({
      name: 'web-canary',
      namespace: 'shop',
      annotations: {
        'nginx.ingress.kubernetes.io/canary': 'true',
        'nginx.ingress.kubernetes.io/canary-weight': '30',
      },
    });
    const paths = (
      canary.spec as { rules: { http: { paths: { backend: { service: { name: string } } }[] } }[] }
    ).rules[0]!.http.paths;
    expect(paths.map((p) => p.backend.service.name)).toEqual(['web-canary', 'cdn']);
    expect(
      (main.spec as { rules: { http: { paths: { backend: { service: { name: string } } }[] } }[] }).rules[0]!
        .http.paths[0]!.backend.service.name,
    ).toBe('web');
  });

  it.each([0, 15, 100])('reads back the weight it wrote (%i)', (weight) => {
    expect(canaryIngressWeights(canaryIngress(main, names, weight))).toEqual({
      stable: 100 - weight,
      canary: weight,
    });
  });

  it('without a canary Ingress, all traffic is stable', () => {
    expect(canaryIngressWeights(undefined)).toEqual({ stable: 100, canary: 0 });
  });
});

describe('percentages', () => {
  it.each<[number, number, { stable: number; canary: number }]>([
    [3, 1, { stable: 75, canary: 25 }],
    [1, 0, { stable: 100, canary: 0 }],
    [0, 0, { stable: 0, canary: 0 }],
    [1, 2, { stable: 33, canary: 67 }],
  ])('%i and %i', (stable, canary, expected) => {
    expect(percentages(stable, canary)).toEqual(expected);
  });
});

// Match steps: the requests with a header (or the cookie NAME=always) go to the canary, the rest follow the
// weight (0 at a match step); the next write without a match removes the match rule again.
const HEADER: StepMatch = { kind: 'header', name: 'x-canary', value: 'always' };
const COOKIE: StepMatch = { kind: 'cookie', name: 'beta.user' };
const COOKIE_RE = '(.*;\\s*)?beta\\.user=always(\\s*;.*)?';

describe('gateway-api: match rules', () => {
  const spec: HttpRouteSpec = {
    rules: [
      {
        name: 'main',
        matches: [{ path: { type: 'PathPrefix', value: '/' } }],
        backendRefs: [{ name: 'web', port: 80 }],
      },
      { backendRefs: [{ name: 'legacy', port: 80 }] },
    ],
  };
  it.each<[string, StepMatch, object[]]>([
    ['a header: Exact', HEADER, [{ type: 'Exact', name: 'x-canary', value: 'always' }]],
    [
      'a cookie: a regular expression on the Cookie header',
      COOKIE,
      [{ type: 'RegularExpression', name: 'cookie', value: COOKIE_RE }],
    ],
  ])('%s, after the weighted rule, the canary its only backend', (_title, match, headers) => {
    expect(weightHttpRoute(spec, names, 0, match)).toEqual({
      rules: [
        {
          name: 'main',
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [{ name: 'web', port: 80, weight: 100 }],
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' }, headers }],
          backendRefs: [{ name: 'web-canary', port: 80 }],
        },
        { backendRefs: [{ name: 'legacy', port: 80 }] },
      ],
    });
  });

  it('a rule without matches (everything) gets one match; existing header matches are kept', () => {
    const written = weightHttpRoute(
      {
        rules: [
          { matches: [{ headers: [{ name: 'x-tenant', value: 'a' }] }, {}], backendRefs: [{ name: 'web' }] },
          { backendRefs: [{ name: 'web' }] },
        ],
      },
      names,
      0,
      HEADER,
    );
    const header = { type: 'Exact', name: 'x-canary', value: 'always' };
    expect(
      written.rules?.filter((r) => r.backendRefs?.[0]?.name === 'web-canary').map((r) => r.matches),
    ).toEqual([
      [{ headers: [{ name: 'x-tenant', value: 'a' }, header] }, { headers: [header] }],
      [{ headers: [header] }],
    ]);
  });

  it('is replaced by the next match and removed by a weight (or 0, as rollback and finalize write)', () => {
    const first = weightHttpRoute(spec, names, 0, HEADER);
    const second = weightHttpRoute(first, names, 0, COOKIE);
    expect(second).toEqual(weightHttpRoute(spec, names, 0, COOKIE));
    expect(weightHttpRoute(second, names, 25)).toEqual(weightHttpRoute(spec, names, 25));
    expect(weightHttpRoute(second, names, 0)).toEqual(weightHttpRoute(spec, names, 0));
    expect(JSON.stringify(weightHttpRoute(second, names, 0))).not.toContain('web-canary');
  });

  it('reads back weight 0 with a match rule in place (it is not a weight)', () => {
    expect(httpRouteWeights(weightHttpRoute(spec, names, 0, HEADER), names)).toEqual({
      stable: 100,
      canary: 0,
    });
  });
});

describe('istio: match routes', () => {
  const spec: VirtualServiceSpec = {
    http: [
      { name: 'api', match: [{ uri: { prefix: '/api' } }], route: [{ destination: { host: 'api' } }] },
      { name: 'web', route: [{ destination: { host: 'web', port: { number: 80 } } }] },
    ],
  };
  it.each<[string, StepMatch, object]>([
    ['a header: exact', HEADER, { 'x-canary': { exact: 'always' } }],
    ['a cookie: a regex on the Cookie header', COOKIE, { cookie: { regex: COOKIE_RE } }],
  ])('%s, just before the weighted route (Istio takes the first match)', (_title, match, headers) => {
    expect(weightVirtualService(spec, names, 0, match)).toEqual({
      http: [
        { name: 'api', match: [{ uri: { prefix: '/api' } }], route: [{ destination: { host: 'api' } }] },
        { match: [{ headers }], route: [{ destination: { host: 'web-canary', port: { number: 80 } } }] },
        { name: 'web', route: [{ destination: { host: 'web', port: { number: 80 } }, weight: 100 }] },
      ],
    });
  });

  it('adds the header to each of the route’s own matches', () => {
    const written = weightVirtualService(
      {
        http: [
          {
            match: [{ uri: { prefix: '/' }, headers: { 'x-tenant': { exact: 'a' } } }],
            route: [{ destination: { host: 'web' } }],
          },
        ],
      },
      names,
      0,
      HEADER,
    );
    expect(written.http?.[0]?.match).toEqual([
      { uri: { prefix: '/' }, headers: { 'x-tenant': { exact: 'a' }, 'x-canary': { exact: 'always' } } },
    ]);
  });

  it('is replaced by the next match and removed by a weight (or 0, as rollback and finalize write)', () => {
    const first = weightVirtualService(spec, names, 0, HEADER);
    const second = weightVirtualService(first, names, 0, COOKIE);
    expect(second).toEqual(weightVirtualService(spec, names, 0, COOKIE));
    expect(weightVirtualService(second, names, 25)).toEqual(weightVirtualService(spec, names, 25));
    expect(JSON.stringify(weightVirtualService(second, names, 0))).not.toContain('web-canary');
  });

  it('reads back weight 0 with a match route in place', () => {
    expect(virtualServiceWeights(weightVirtualService(spec, names, 0, HEADER), names)).toEqual({
      stable: 100,
      canary: 0,
    });
  });
});

describe('nginx: match annotations on the canary Ingress', () => {
  const main: Manifest = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { rules: [{ http: { paths: [{ path: '/', backend: { service: { name: 'web' } } }] } }] },
  };
  const canary = 'nginx.ingress.kubernetes.io/canary';
  const weight = 'nginx.ingress.kubernetes.io/canary-weight';
  it.each<[string, StepMatch | undefined, Record<string, string>]>([
    [
      'a header: canary-by-header and its value, weight 0',
      HEADER,
      {
        [canary]: 'true',
        [weight]: '0',
        'nginx.ingress.kubernetes.io/canary-by-header': 'x-canary',
        'nginx.ingress.kubernetes.io/canary-by-header-value': 'always',
      },
    ],
    [
      'a cookie: canary-by-cookie (NGINX sends NAME=always to the canary)',
      COOKIE,
      { [canary]: 'true', [weight]: '0', 'nginx.ingress.kubernetes.io/canary-by-cookie': 'beta.user' },
    ],
    [
      'no match: the weight alone (the Ingress is applied whole, so earlier match annotations go)',
      undefined,
      { [canary]: 'true', [weight]: '0' },
    ],
  ])('%s', (_title, match, annotations) => {
    const written = canaryIngress(main, names, 0, match);
    expect(written.metadata.annotations).toEqual(annotations);
    expect(canaryIngressWeights(written)).toEqual({ stable: 100, canary: 0 });
  });
});

describe('match rules are only ever the canary’s', () => {
  const preview = { name: 'web', canaryService: 'web-preview', namespace: 'shop' };
  it('a blue-green preview rule with matches (a user’s own) is kept', () => {
    const spec: HttpRouteSpec = {
      rules: [
        { backendRefs: [{ name: 'web' }] },
        {
          matches: [{ headers: [{ name: 'x-preview', value: '1' }] }],
          backendRefs: [{ name: 'web-preview' }],
        },
      ],
    };
    expect(weightHttpRoute(spec, preview, 0).rules).toHaveLength(2);
    const vs: VirtualServiceSpec = {
      http: [
        {
          match: [{ headers: { 'x-preview': { exact: '1' } } }],
          route: [{ destination: { host: 'web-preview' } }],
        },
        { route: [{ destination: { host: 'web' } }] },
      ],
    };
    expect(weightVirtualService(vs, preview, 0).http).toHaveLength(2);
  });
});

describe('the main Service narrowed to a track', () => {
  it('keeps the labels and annotations of the manifest (server-side apply would remove them otherwise)', () => {
    const service: Manifest = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'web',
        namespace: 'shop',
        labels: { app: 'web', team: 'a' },
        annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' },
      },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    };
    expect(serviceForTrack(service, 'stable')).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'web',
        namespace: 'shop',
        labels: { app: 'web', team: 'a' },
        annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' },
      },
      spec: { selector: { app: 'web', 'gantry.dev/track': 'stable' }, ports: [{ port: 80 }] },
    });
  });
});
