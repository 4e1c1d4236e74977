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
  writeApp,
} from '../helpers/kube.js';

const namespaces: string[] = [];
afterAll(async () => {
  await Promise.all(namespaces.map(deleteNamespace));
});

interface Split {
  app: string;
  source: { kind: string; name: string } | null;
  shares: Record<string, number>;
}

async function split(namespace: string): Promise<Split | undefined> {
  const response = await fetch(`${process.env.SIMULATOR_URL}/split?namespace=${namespace}`);
  const body = (await response.json()) as { splits: Split[] };
  return body.splits.find((s) => s.app === 'web');
}

const ROUTES: Record<string, { kind: string; objects: object[] }> = {
  'gateway-api': {
    kind: 'HTTPRoute',
    objects: [
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'web' },
        spec: { parentRefs: [{ name: 'gateway' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
      },
    ],
  },
  istio: {
    kind: 'VirtualService',
    objects: [
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'web' },
        spec: { hosts: ['web'], http: [{ route: [{ destination: { host: 'web', port: { number: 80 } } }] }] },
      },
    ],
  },
  nginx: {
    kind: 'Ingress',
    objects: [
      {
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
                  {
                    path: '/',
                    pathType: 'Prefix',
                    backend: { service: { name: 'web', port: { number: 80 } } },
                  },
                ],
              },
            },
          ],
        },
      },
    ],
  },
};

describe.each(Object.entries(ROUTES))('the %s router', (router, { kind, objects }) => {
  it('writes canary weights that the simulator honours, then routes everything back to stable', async () => {
    const ns = await createNamespace(`rt-${router.slice(0, 5)}`);
    namespaces.push(ns);
    const manifests = writeApp({ replicas: 4, extra: objects });
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
        '30',
        '--pause',
        '10s',
        '--ready-timeout',
        '60s',
      ],
      { reject: false },
    );
    // While the step runs, the simulator must split 70/30 by the route object's weights.
    let seen: Split | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const current = await split(ns);
      if (current?.source?.kind === kind && Math.abs((current.shares.canary ?? 0) - 0.3) < 1e-9) {
        seen = current;
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const result = await child;
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(seen, `the simulator never saw a 70/30 split from a ${kind}`).toBeDefined();
    expect(seen!.shares.stable).toBeCloseTo(0.7, 9);

    expect(imageOf(await readDeployment(ns, 'web'))).toBe(fakeImage('v2'));
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
    const services = await clients().core.listNamespacedService({ namespace: ns });
    expect(services.items.map((s) => s.metadata?.name)).not.toContain('web-canary');
    const after = await split(ns);
    expect(after?.shares.canary ?? 0).toBe(0);
    if (router !== 'nginx') {
      const objectsApi = KubernetesObjectApi.makeApiClient(kubeConfig());
      const route = (await objectsApi.read({
        apiVersion: (objects[0] as { apiVersion: string }).apiVersion,
        kind,
        metadata: { name: 'web', namespace: ns },
      })) as unknown as { spec: Record<string, unknown> };
      expect(JSON.stringify(route.spec)).not.toContain('web-canary');
    } else {
      const ingresses = await kubeConfigNetworking().listNamespacedIngress({ namespace: ns });
      expect(ingresses.items.map((i) => i.metadata?.name)).toEqual(['web']);
    }
  });
});

function kubeConfigNetworking() {
  return kubeConfig().makeApiClient(NetworkingV1Api);
}
