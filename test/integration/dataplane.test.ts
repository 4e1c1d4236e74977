import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clients, createNamespace, deleteNamespace, kubeConfig } from '../helpers/kube.js';
import { waitUntil as waitUntilEvery } from '../helpers/wait.js';

/** Polls every 50 ms: the data plane's changes take tens of milliseconds. */
const waitUntil = <T>(what: string, check: () => Promise<T | undefined>) =>
  waitUntilEvery(what, check, 30_000, 50);

// The sandbox's data plane (test/bed/components/dataplane.mjs) against the real control plane: pods labelled
// testbed.gantry.dev/responder answer real HTTP on the IPs their EndpointSlices list, reached from the host
// through the route into the data plane's network namespace; a pod with error rate 1 answers 500, a changed
// annotation changes the answers, a pod scaled away drains and then refuses connections, and every request is
// logged.

const env = (key: string) => {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: the sandbox (with its dataplane component) did not start`);
  return value;
};

const RESPONDER = 'testbed.gantry.dev/responder';
const PORT = 8080;

interface Answer {
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
  body?: { pod: string; version: string; track: string };
  error?: string;
  ms: number;
}

/** One GET on a fresh connection (no keep-alive pool: a pod that is gone must show as refused, not as a reset). */
function get(ip: string, port = PORT, timeoutMs = 5000): Promise<Answer> {
  const started = performance.now();
  const ms = () => Math.round((performance.now() - started) * 10) / 10;
  return new Promise((resolve) => {
    const req = request({ host: ip, port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: JSON.parse(text), ms: ms() }),
      );
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ error: error.code ?? error.message, ms: ms() }),
    );
    req.end();
  });
}

let namespace: string;
let discovery: k8s.DiscoveryV1Api;

function deployment(
  name: string,
  replicas: number,
  labels: Record<string, string>,
  annotations: Record<string, string>,
) {
  return {
    metadata: { name, labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web', deployment: name } },
      template: {
        metadata: { labels: { app: 'web', deployment: name, [RESPONDER]: 'true', ...labels }, annotations },
        spec: {
          containers: [
            { name: 'app', image: '127.0.0.1:5000/shop/web:1.0.0', ports: [{ containerPort: PORT }] },
          ],
        },
      },
    },
  };
}

/** Pod name → IP of the ready endpoints of Service `web`. */
async function endpoints(): Promise<Map<string, string>> {
  const slices = await discovery.listNamespacedEndpointSlice({
    namespace,
    labelSelector: 'kubernetes.io/service-name=web',
  });
  const out = new Map<string, string>();
  for (const slice of slices.items) {
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      const pod = endpoint.targetRef?.name;
      if (pod && endpoint.addresses[0]) out.set(pod, endpoint.addresses[0]);
    }
  }
  return out;
}

async function responders(): Promise<{ key: string; pod: string; bound?: boolean; error?: string }[]> {
  const res = await fetch(`${env('DATAPLANE_URL')}/responders?namespace=${namespace}`);
  return ((await res.json()) as { responders: { key: string; pod: string; bound?: boolean }[] }).responders;
}

describe('sandbox data plane: pods answer real HTTP on their pod IPs', () => {
  let stable: Map<string, string>; // pod → IP
  let bad: Map<string, string>;

  beforeAll(async () => {
    env('DATAPLANE_URL');
    discovery = kubeConfig().makeApiClient(k8s.DiscoveryV1Api);
    namespace = await createNamespace('dp');
    const { apps, core } = clients();
    await apps.createNamespacedDeployment({
      namespace,
      body: deployment(
        'web',
        2,
        {},
        { 'testbed.gantry.dev/latency-ms': '40', 'testbed.gantry.dev/error-rate': '0' },
      ),
    });
    await apps.createNamespacedDeployment({
      namespace,
      body: deployment(
        'web-bad',
        1,
        { 'gantry.dev/track': 'canary', 'app.kubernetes.io/version': '2.0.0-rc' },
        { 'testbed.gantry.dev/latency-ms': '5', 'testbed.gantry.dev/error-rate': '1' },
      ),
    });
    await core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: PORT }] },
      },
    });
    const { value, ms } = await waitUntil('3 ready endpoints of Service web', async () => {
      const found = await endpoints();
      return found.size === 3 ? found : undefined;
    });
    stable = new Map([...value].filter(([pod]) => !pod.startsWith('web-bad-')));
    bad = new Map([...value].filter(([pod]) => pod.startsWith('web-bad-')));
    console.log(`EndpointSlice lists ${[...value.values()].join(', ')} after ${ms} ms`);
    const bound = await waitUntil('the data plane to bind 3 responders', async () => {
      const list = await responders();
      return list.length === 3 && list.every((r) => r.bound) ? list : undefined;
    });
    console.log(`responders bound ${bound.ms} ms later: ${bound.value.map((r) => r.key).join(', ')}`);
  });

  afterAll(async () => {
    if (namespace) await deleteNamespace(namespace);
  });

  it('each pod answers on its own IP, naming itself, with its version and track, after its latency', async () => {
    expect(stable.size).toBe(2);
    expect(bad.size).toBe(1);
    for (const [pod, ip] of stable) {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await get(ip));
      for (const answer of answers) {
        expect(answer.error).toBeUndefined();
        expect(answer.status).toBe(200);
        expect(answer.body).toEqual({ pod, version: '1.0.0', track: 'stable' });
        expect(answer.headers?.['x-pod']).toBe(pod);
        expect(answer.headers?.['x-track']).toBe('stable');
        expect(answer.ms).toBeGreaterThanOrEqual(39);
      }
      console.log(`${pod} ${ip}:${PORT}: 5× 200 in ${answers.map((a) => a.ms).join(', ')} ms`);
    }
  });

  it('a pod with error rate 1 answers 500', async () => {
    const [pod, ip] = [...bad][0]!;
    for (let i = 0; i < 5; i++) {
      const answer = await get(ip);
      expect(answer.status).toBe(500);
      expect(answer.body).toEqual({ pod, version: '2.0.0-rc', track: 'canary' });
      expect(answer.headers?.['x-track']).toBe('canary');
    }
    console.log(`${pod} ${ip}:${PORT}: 5× 500`);
  });

  it("a pod's changed error-rate annotation changes its answers", async () => {
    const [pod, ip] = [...stable][0]!;
    await clients().core.patchNamespacedPod(
      {
        namespace,
        name: pod,
        body: { metadata: { annotations: { 'testbed.gantry.dev/error-rate': '1' } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const { ms } = await waitUntil(`${pod} to answer 500`, async () =>
      (await get(ip)).status === 500 ? true : undefined,
    );
    console.log(`${pod} answers 500 ${ms} ms after its annotation changed`);
  });

  it('a pod scaled away drains, then stops answering: its IP refuses connections', async () => {
    const { apps } = clients();
    await apps.patchNamespacedDeploymentScale(
      { namespace, name: 'web', body: { spec: { replicas: 1 } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const started = Date.now();
    const gone = await waitUntil('one web pod to leave the EndpointSlice', async () => {
      const now = await endpoints();
      const left = [...stable].filter(([pod]) => !now.has(pod));
      return left.length === 1 ? left[0] : undefined;
    });
    const [pod, ip] = gone.value;
    // Its app lives on through the drain time (a preStop sleep: 5 s by default), as a terminating pod's does.
    const draining = await get(ip);
    expect(draining.body?.pod, 'a pod just gone answers while it drains').toBe(pod);
    const refused = await waitUntil(`${ip}:${PORT} to refuse connections`, async () => {
      const answer = await get(ip);
      return answer.error === 'ECONNREFUSED' ? answer : undefined;
    });
    console.log(
      `${pod} left the EndpointSlice ${gone.ms} ms after the scale-down; ${ip}:${PORT} refused ` +
        `${refused.ms} ms later (connect → refused in ${refused.value.ms} ms); ${Date.now() - started} ms in all`,
    );
    // The pod that stays keeps answering.
    const [kept, keptIp] = [...stable].find(([p]) => p !== pod)!;
    const answer = await get(keptIp);
    expect(answer.body?.pod).toBe(kept);
    expect((await responders()).map((r) => r.pod)).not.toContain(pod);
  });

  it('logs every request as a JSON line, and counts them at /metrics', async () => {
    const lines = readFileSync(env('DATAPLANE_REQUEST_LOG'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { namespace: string; pod: string; status: number; time: number })
      .filter((line) => line.namespace === namespace);
    const perPod: Record<string, Record<number, number>> = {};
    for (const line of lines) {
      perPod[line.pod] ??= {};
      perPod[line.pod]![line.status] = (perPod[line.pod]![line.status] ?? 0) + 1;
    }
    console.log(`request log, ${namespace}: ${JSON.stringify(perPod)}`);
    const [badPod] = [...bad.keys()];
    expect(perPod[badPod!]?.[500]).toBe(5);
    for (const pod of stable.keys()) expect(perPod[pod]?.[200]).toBeGreaterThanOrEqual(5);
    expect(lines.every((l) => Number.isFinite(l.time) && l.time > 1.7e12)).toBe(true);

    const metrics = await (await fetch(`${env('DATAPLANE_URL')}/metrics`)).text();
    expect(metrics).toContain(
      `dataplane_requests_total{namespace="${namespace}",pod="${badPod}",track="canary",code="500"} 5`,
    );
  });
});
