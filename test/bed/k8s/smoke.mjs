#!/usr/bin/env node
// Proves the sandbox cluster really rolls Deployments: a 3-replica Deployment becomes ready, an image
// update rolls it to a new ReplicaSet (old pods deleted, old ReplicaSet scaled to 0), a Deployment marked
// testbed.gantry.dev/never-ready stays not Ready, and a rollout to such a version stalls with the old pods
// still serving. Cleans up after itself (the namespace is deleted and waited for).
//
//   node scripts/testbed.mjs up && node test/bed/k8s/smoke.mjs     (KUBECONFIG from the env or the testbed)
import * as k8s from '@kubernetes/client-node';
import { envOf } from '../../../scripts/testbed.mjs';

const kubeconfigPath = process.env.KUBECONFIG || envOf().KUBECONFIG;
if (!kubeconfigPath) {
  console.error('smoke: no KUBECONFIG and no running testbed; run `node scripts/testbed.mjs up` first');
  process.exit(3);
}
const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfigPath);
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);

const ns = `smoke-${Date.now().toString(36)}`;
const NEVER_READY = 'testbed.gantry.dev/never-ready';
const t0 = Date.now();
const secs = (from) => `${((Date.now() - from) / 1000).toFixed(2)}s`;
const say = (line) => console.log(`[smoke +${secs(t0)}] ${line}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let failures = 0;
const check = (ok, what) => {
  if (!ok) failures += 1;
  say(`${ok ? 'OK  ' : 'FAIL'} ${what}`);
};

async function until(what, fn, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
}

function deployment(name, image, { replicas = 3, annotations = {} } = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations },
        spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 8080 }] }] },
      },
    },
  };
}

const pods = async (app) =>
  (await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;
const isReady = (pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const replicaSets = async (app) =>
  (await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: `app=${app}` })).items.sort(
    (a, b) =>
      Number(a.metadata.annotations['deployment.kubernetes.io/revision']) -
      Number(b.metadata.annotations['deployment.kubernetes.io/revision']),
  );
const describeRs = (list) =>
  list
    .map(
      (rs) =>
        `rev${rs.metadata.annotations['deployment.kubernetes.io/revision']} ` +
        `${rs.spec.template.spec.containers[0].image} spec=${rs.spec.replicas} ready=${rs.status.readyReplicas ?? 0}` +
        ` pods=${rs.status.replicas ?? 0}`,
    )
    .join('; ');

/** kubectl's notion of "rollout complete", plus: no pods of an older template left at all. */
async function rolledOut(name, image) {
  const d = await apps.readNamespacedDeployment({ name, namespace: ns });
  const s = d.status ?? {};
  const want = d.spec.replicas;
  if ((s.observedGeneration ?? 0) < d.metadata.generation) return false;
  if (
    s.updatedReplicas !== want ||
    s.replicas !== want ||
    s.availableReplicas !== want ||
    s.readyReplicas !== want
  )
    return false;
  const current = await pods(name);
  if (current.length !== want || !current.every((p) => p.spec.containers[0].image === image && isReady(p)))
    return false;
  return d;
}

try {
  const nodes = (await core.listNode()).items;
  const readyNodes = nodes.filter((n) =>
    n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  say(
    `cluster: ${nodes.length} nodes, ${readyNodes.length} Ready (${nodes.map((n) => `${n.metadata.name} pods=${n.status.allocatable.pods}`).join(', ')})`,
  );

  await core.createNamespace({ body: { metadata: { name: ns } } });
  await until('default service account', async () =>
    (await core.listNamespacedServiceAccount({ namespace: ns })).items.some(
      (sa) => sa.metadata.name === 'default',
    ),
  );
  say(`namespace ${ns} ready`);

  // 1. A 3-replica Deployment becomes ready.
  let t = Date.now();
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: deployment('web', 'registry.example/web:v1'),
  });
  await until('web v1 3/3 ready', () => rolledOut('web', 'registry.example/web:v1'));
  const tReady = secs(t);
  const v1Pods = await pods('web');
  check(
    v1Pods.length === 3 && v1Pods.every(isReady),
    `web v1: 3/3 ready in ${tReady} ` +
      `(pods ${v1Pods.map((p) => `${p.metadata.name}@${p.spec.nodeName} ${p.status.phase} ip=${p.status.podIP}`).join(', ')})`,
  );

  // 2. An image update rolls to a new ReplicaSet; old pods are deleted, the old ReplicaSet is scaled to 0.
  t = Date.now();
  await apps.patchNamespacedDeployment(
    {
      name: 'web',
      namespace: ns,
      body: [
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'registry.example/web:v2' },
      ],
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
  );
  let sawBoth = false;
  await until('web v2 rolled out', async () => {
    const list = await replicaSets('web');
    if (list.length >= 2 && list.every((rs) => (rs.status.replicas ?? 0) > 0)) sawBoth = true;
    return rolledOut('web', 'registry.example/web:v2');
  });
  const tRoll = secs(t);
  const rsAfter = await replicaSets('web');
  const [oldRs, newRs] = [rsAfter[0], rsAfter[rsAfter.length - 1]];
  const v1Names = new Set(v1Pods.map((p) => p.metadata.name));
  const v2Pods = await pods('web');
  check(
    rsAfter.length === 2 &&
      oldRs.spec.replicas === 0 &&
      (oldRs.status.replicas ?? 0) === 0 &&
      newRs.spec.replicas === 3 &&
      newRs.status.readyReplicas === 3 &&
      v2Pods.every((p) => !v1Names.has(p.metadata.name)),
    `web v1 -> v2 rolled in ${tRoll}: ${describeRs(rsAfter)}; old pods gone; both ReplicaSets had pods mid-roll: ${sawBoth}`,
  );

  // 3. A never-ready Deployment: pods Running, never Ready.
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: deployment('broken', 'registry.example/broken:v1', {
      replicas: 2,
      annotations: { [NEVER_READY]: 'true' },
    }),
  });
  await until('broken pods Running', async () => {
    const list = await pods('broken');
    return list.length === 2 && list.every((p) => p.status.phase === 'Running');
  });
  // 4. Meanwhile, roll web to a never-ready v3: the rollout must stall with the v2 pods still serving.
  await apps.patchNamespacedDeployment(
    {
      name: 'web',
      namespace: ns,
      body: [
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'registry.example/web:v3' },
        { op: 'add', path: '/spec/template/metadata/annotations', value: { [NEVER_READY]: 'true' } },
      ],
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
  );
  say('broken: 2 pods Running; watching both for 10 s');
  t = Date.now();
  let brokenEverReady = false;
  const webSamples = [];
  while (Date.now() - t < 10000) {
    brokenEverReady ||= (await pods('broken')).some(isReady);
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    webSamples.push(d.status);
    await sleep(500);
  }
  const brokenPods = await pods('broken');
  const brokenDeploy = await apps.readNamespacedDeployment({ name: 'broken', namespace: ns });
  check(
    !brokenEverReady &&
      brokenPods.every(
        (p) =>
          p.status.phase === 'Running' &&
          p.status.conditions.find((c) => c.type === 'Ready')?.status === 'False',
      ) &&
      !brokenDeploy.status.readyReplicas,
    `broken: never Ready for 10 s (phase ${brokenPods.map((p) => p.status.phase).join(',')}, ` +
      `Ready=${brokenPods.map((p) => p.status.conditions.find((c) => c.type === 'Ready')?.status).join(',')}, ` +
      `readyReplicas=${brokenDeploy.status.readyReplicas ?? 0}, unavailable=${brokenDeploy.status.unavailableReplicas})`,
  );
  const last = webSamples[webSamples.length - 1];
  check(
    webSamples.every((s) => (s.readyReplicas ?? 0) >= 3) && last.updatedReplicas >= 1,
    `web v2 -> v3(never-ready) stalls: ready=${last.readyReplicas} updated=${last.updatedReplicas} ` +
      `unavailable=${last.unavailableReplicas ?? 0} (${describeRs(await replicaSets('web'))})`,
  );

  // 5. Roll back to v2 (the template of revision 2): the v3 pod is removed, v2 stays 3/3.
  t = Date.now();
  await apps.patchNamespacedDeployment(
    {
      name: 'web',
      namespace: ns,
      body: [
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'registry.example/web:v2' },
        { op: 'remove', path: `/spec/template/metadata/annotations/${NEVER_READY.replace('/', '~1')}` },
      ],
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
  );
  await until('web back on v2', () => rolledOut('web', 'registry.example/web:v2'));
  check(true, `web rolled back to v2 in ${secs(t)}: ${describeRs(await replicaSets('web'))}`);
} catch (error) {
  failures += 1;
  say(`FAIL ${error.message ?? error}`);
} finally {
  const t = Date.now();
  try {
    await core.deleteNamespace({ name: ns });
    await until(
      `namespace ${ns} deleted`,
      async () => {
        try {
          await core.readNamespace({ name: ns });
          return false;
        } catch (error) {
          return error.code === 404;
        }
      },
      120000,
    );
    say(`cleanup: namespace ${ns} and its pods deleted in ${secs(t)}`);
  } catch (error) {
    failures += 1;
    say(`FAIL cleanup: ${error.message ?? error}`);
  }
}
say(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
