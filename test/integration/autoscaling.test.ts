import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  createNamespace,
  deleteNamespace,
  fakeImage,
  imageOf,
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

const deploy = (ns: string, image: string, strategy: string) =>
  runCli([
    'deploy',
    '--json',
    '--manifests',
    writeApp({ replicas: 2, extra: [hpa] }),
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
  ]);

/** Waits (bounded) until the HPA controller has set the Deployment's replicas. */
async function waitReplicas(ns: string, want: number): Promise<void> {
  for (let i = 0; i < 180; i++) {
    if ((await readDeployment(ns, 'web'))?.spec?.replicas === want) return;
    await sleep(500);
  }
  throw new Error(`web never reached ${want} replicas`);
}

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
      if (strategy === 'canary') expect(canary).toEqual([0, 4]);
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
