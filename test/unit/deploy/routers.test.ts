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
import { percentages } from '../../../src/deploy/routers/types.js';

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
