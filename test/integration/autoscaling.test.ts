import { setTimeout as sleep } from 'node:timers/promises';
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  createNamespace,
  deleteNamespace,
  fakeImage,
  imageOf,
  kubeConfig,
  readDeployment,
  writeApp,
} from '../helpers/kube.js';

// A Deployment scaled by a real HorizontalPodAutoscaler (the sandbox's controller-manager runs the HPA
// controller; with no metrics API it still holds the count within minReplicas..maxReplicas, which is what
// these tests use: the manifests say 2 replicas, the HPA's minimum is 4). Gantry must never write the
// manifest's count over the autoscaler's, and the canary is sized from the stable's actual replicas.

const namespaces: string[] = [];
afterAll(async () => {
  await Promise.all(namespaces.map(deleteNamespace));
});

const hpa = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web' },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 4,
    maxReplicas: 6,
    metrics: [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
      },
    ],
  },
};

const httpRoute = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'web' },
  spec: { parentRefs: [{ name: 'gateway' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
};

const deploy = (ns: string, image: string, strategy: string, extra: string[] = []) =>
  runCli([
    'deploy',
    '--json',
    '--manifests',
    writeApp({ replicas: 2, extra: [hpa, httpRoute] }),
    '--image',
    `app=${image}`,
    '--namespace',
    ns,
    '--strategy',
    strategy,
    '--steps',
    '50',
    '--pause',
    '3s',
    '--ready-timeout',
    '60s',
    ...extra,
  ]);

/** Waits (bounded) until the HPA controller has set the Deployment's replicas. */
async function waitReplicas(ns: string, want: number): Promise<void> {
  for (let i = 0; i < 180; i++) {
    if ((await readDeployment(ns, 'web'))?.spec?.replicas === want) return;
    await sleep(500);
  }
  throw new Error(`web never reached ${want} replicas`);
}

const objects = () => KubernetesObjectApi.makeApiClient(kubeConfig());
const readHpa = (ns: string, name: string) =>
  objects()
    .read({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name, namespace: ns },
    })
    .then(
      (o: unknown) =>
        o as { spec?: Record<string, unknown>; metadata?: { ownerReferences?: { name: string }[] } },
    )
    .catch(() => undefined);

/** Every spec.replicas the Deployment (and its canary) had while `run` ran, polled every 100 ms. */
async function replicasDuring<T>(ns: string, run: Promise<T>) {
  const stable = new Set<number>();
  const canary = new Set<number>();
  let done = false;
  const finished = run.finally(() => {
    done = true;
  });
  while (!done) {
    const [web, web2] = await Promise.all([readDeployment(ns, 'web'), readDeployment(ns, 'web-canary')]);
    if (web?.spec?.replicas !== undefined) stable.add(web.spec.replicas);
    if (web2?.spec?.replicas !== undefined) canary.add(web2.spec.replicas);
    await sleep(100);
  }
  return { result: await finished, stable: [...stable].sort(), canary: [...canary].sort() };
}

describe('a Deployment scaled by a HorizontalPodAutoscaler', () => {
  it.each(['canary', 'rolling', 'blue-green'])(
    '%s: the autoscaler keeps its replicas during and after the rollout; the HPA is applied from the manifests',
    async (strategy) => {
      const ns = await createNamespace('hpa');
      namespaces.push(ns);
      const first = await deploy(ns, fakeImage('hpa-v1'), 'rolling');
      expect(first.exitCode, first.stderr).toBe(0);
      await waitReplicas(ns, 4);

      const { result, stable, canary } = await replicasDuring(ns, deploy(ns, fakeImage('hpa-v2'), strategy));
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.json!.verdict).toBe('promoted');
      // The manifests' 2 never reached the stable Deployment, not even for a moment.
      expect(stable).toEqual([4]);
      // The replica router sizes the canary from the stable's actual 4 (50% → 4 beside 4), not the manifests' 2;
      // it starts at 0, which a poll may or may not catch.
      if (strategy === 'canary') {
        expect(canary).toContain(4);
        expect(canary.filter((n) => n !== 0 && n !== 4)).toEqual([]);
      }
      const after = await readDeployment(ns, 'web');
      expect(imageOf(after)).toBe(fakeImage('hpa-v2'));
      expect(after?.spec?.replicas).toBe(4);
      // Gantry's field manager no longer owns spec.replicas: the next apply cannot reset it either.
      const owned = (after?.metadata?.managedFields ?? [])
        .filter((f) => f.manager === 'gantry')
        .map((f) => JSON.stringify(f.fieldsV1 ?? {}));
      expect(owned.length).toBeGreaterThan(0);
      for (const fields of owned) expect(fields).not.toContain('"f:replicas"');
    },
  );
});

describe("the new version's own autoscaler", () => {
  it('a canary behind a weighted router gets the HPA with bounds for its share, and loses it with the canary', async () => {
    const ns = await createNamespace('hpa');
    namespaces.push(ns);
    const first = await deploy(ns, fakeImage('hpa-v1'), 'rolling');
    expect(first.exitCode, first.stderr).toBe(0);
    await waitReplicas(ns, 4);

    const run = deploy(ns, fakeImage('hpa-v2'), 'canary', ['--router', 'gateway-api', '--pause', '8s']);
    const seen: unknown[] = [];
    let finished = false;
    void run.finally(() => {
      finished = true;
    });
    while (!finished) {
      const canaryHpa = await readHpa(ns, 'web-canary');
      if (canaryHpa)
        seen.push({
          spec: canaryHpa.spec,
          owners: canaryHpa.metadata?.ownerReferences?.map((owner: { name: string }) => owner.name),
        });
      await sleep(250);
    }
    const result = await run;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
    // Steps 50: at most half the traffic, so half the stable HPA's bounds (4-6 → 2-3), aimed at the canary.
    expect(seen[0]).toEqual({
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-canary' },
        minReplicas: 2,
        maxReplicas: 3,
        metrics: hpa.spec.metrics,
      },
      owners: ['web-canary'],
    });
    // The canary is deleted after the promotion; the garbage collector takes its HPA along.
    let gone = false;
    for (let i = 0; i < 120 && !gone; i++) {
      gone = (await readHpa(ns, 'web-canary')) === undefined;
      if (!gone) await sleep(500);
    }
    expect(gone).toBe(true);
    expect((await readHpa(ns, 'web'))?.spec).toMatchObject({ minReplicas: 4, maxReplicas: 6 });
  });
});
