import { describe, expect, it } from 'vitest';
import {
  desiredResponders,
  diffResponders,
  imageVersion,
  inCidr,
  overlaps,
  portsOf,
  versionOf,
  withDraining,
} from '../../bed/dataplane/pods.mjs';
import { byNamespace, type KubeObject } from '../../bed/simulator/split.mjs';

const NET = '198.18.0.0/16';

function pod(
  name: string,
  options: {
    ip?: string;
    ready?: boolean;
    deleting?: boolean;
    responder?: boolean;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    // biome-ignore lint/suspicious/noExplicitAny: container specs as the API returns them
    containers?: any[];
  } = {},
): KubeObject {
  return {
    metadata: {
      name,
      namespace: 'shop',
      labels: {
        app: 'web',
        ...(options.responder === false ? {} : { 'testbed.gantry.dev/responder': 'true' }),
        ...options.labels,
      },
      annotations: options.annotations ?? {},
      ...(options.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: {
      containers: options.containers ?? [
        { name: 'app', image: '127.0.0.1:5000/shop/web:1.4.2', ports: [{ containerPort: 8080 }] },
      ],
    },
    status: {
      podIP: options.ip ?? '198.18.0.7',
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
    },
  };
}

const responders = (pods: KubeObject[], configMaps: KubeObject[] = []) =>
  desiredResponders(pods, byNamespace(configMaps), { podNetwork: NET });

describe('data plane: what a pod answers with', () => {
  it.each([
    ['shop/web:1.4.2', '1.4.2'],
    ['127.0.0.1:5000/shop/web:v2', 'v2'],
    ['127.0.0.1:5000/shop/web:v2@sha256:abcd', 'v2'],
    ['127.0.0.1:5000/shop/web@sha256:abcd', 'sha256:abcd'],
    ['127.0.0.1:5000/shop/web', undefined],
    ['', undefined],
  ])('image %s → version %s', (image, version) => {
    expect(imageVersion(image)).toBe(version);
  });

  it('prefers the app.kubernetes.io/version label to the image tag', () => {
    expect(versionOf(pod('a'))).toBe('1.4.2');
    expect(versionOf(pod('a', { labels: { 'app.kubernetes.io/version': '2.0.0' } }))).toBe('2.0.0');
    expect(versionOf(pod('a', { containers: [{ name: 'c', image: 'web' }] }))).toBe('unknown');
  });

  it('binds every TCP container port of every container, and 80 when none is declared', () => {
    const containers = [
      {
        name: 'a',
        image: 'x:1',
        ports: [{ containerPort: 8080 }, { containerPort: 53, protocol: 'UDP' }, { containerPort: 9090 }],
      },
      { name: 'b', image: 'y:1', ports: [{ containerPort: 9090, protocol: 'TCP' }, { containerPort: 7000 }] },
    ];
    expect(portsOf(pod('a', { containers }))).toEqual([8080, 9090, 7000]);
    expect(portsOf(pod('a', { containers: [{ name: 'a', image: 'x:1' }] }))).toEqual([80]);
  });

  it('checks addresses against the pod network, and ranges against each other', () => {
    expect(inCidr('198.18.255.254', NET)).toBe(true);
    expect(inCidr('198.19.0.1', NET)).toBe(false);
    expect(inCidr('fd00::1', NET)).toBe(false);
    expect(overlaps('198.18.0.0/16', '10.0.0.0/8')).toBe(false);
    expect(overlaps('10.244.0.0/16', '10.0.0.0/8')).toBe(true);
    expect(overlaps('172.31.0.0/16', '172.16.0.0/12')).toBe(true);
  });
});

describe('data plane: which responders the cluster calls for', () => {
  it('only Ready, non-terminating pods labelled as responders, with an IP in the pod network', () => {
    const { responders: wanted, skipped } = responders([
      pod('ok', { ip: '198.18.0.1' }),
      pod('not-ready', { ip: '198.18.0.2', ready: false }),
      pod('deleting', { ip: '198.18.0.3', deleting: true }),
      pod('unlabelled', { ip: '198.18.0.4', responder: false }),
      pod('elsewhere', { ip: '10.1.2.3' }),
    ]);
    expect([...wanted.keys()]).toEqual(['198.18.0.1:8080']);
    expect(wanted.get('198.18.0.1:8080')).toEqual({
      key: '198.18.0.1:8080',
      ip: '198.18.0.1',
      port: 8080,
      namespace: 'shop',
      pod: 'ok',
      version: '1.4.2',
      track: 'stable',
      errorRate: 0,
      latencyMs: 20,
      drainMs: 5000,
    });
    expect(skipped).toEqual([
      { pod: 'shop/elsewhere', reason: 'podIP 10.1.2.3 is outside the pod network 198.18.0.0/16' },
    ]);
  });

  it("takes error rate and latency by the simulator's rule: annotations, else the environment", () => {
    const configMap = {
      metadata: { name: 'cfg', namespace: 'shop' },
      data: { TESTBED_ERROR_RATE: '0.25', TESTBED_LATENCY_MS: '75' },
    };
    const { responders: wanted } = responders(
      [
        pod('annotated', {
          ip: '198.18.0.1',
          labels: { 'gantry.dev/track': 'canary' },
          annotations: { 'testbed.gantry.dev/error-rate': '1', 'testbed.gantry.dev/latency-ms': '5' },
        }),
        pod('configured', {
          ip: '198.18.0.2',
          containers: [{ name: 'app', image: 'web:3', envFrom: [{ configMapRef: { name: 'cfg' } }] }],
        }),
        pod('clamped', { ip: '198.18.0.3', annotations: { 'testbed.gantry.dev/error-rate': '7' } }),
      ],
      [configMap],
    );
    const of = (key: string) => {
      const r = wanted.get(key)!;
      return [r.pod, r.track, r.errorRate, r.latencyMs];
    };
    expect(of('198.18.0.1:8080')).toEqual(['annotated', 'canary', 1, 5]);
    expect(of('198.18.0.2:80')).toEqual(['configured', 'stable', 0.25, 75]);
    expect(of('198.18.0.3:8080')).toEqual(['clamped', 'stable', 1, 20]);
  });

  it('gives an ip:port claimed twice to the first pod by name', () => {
    const { responders: wanted, skipped } = responders([pod('b'), pod('a')]);
    expect(wanted.get('198.18.0.7:8080')?.pod).toBe('a');
    expect(skipped).toEqual([{ pod: 'shop/b', reason: '198.18.0.7:8080 is taken by shop/a' }]);
  });
});

describe('data plane: commands', () => {
  it('removes first, then adds and updates in key order; unchanged responders get no command', () => {
    const before = responders([
      pod('a', { ip: '198.18.0.1' }),
      pod('b', { ip: '198.18.0.2' }),
      pod('c', { ip: '198.18.0.3' }),
    ]).responders;
    const after = responders([
      pod('a', { ip: '198.18.0.1' }),
      pod('c', { ip: '198.18.0.3', annotations: { 'testbed.gantry.dev/error-rate': '0.5' } }),
      pod('d', { ip: '198.18.0.4' }),
    ]).responders;
    const commands = diffResponders(before, after);
    expect(commands.map((c) => [c.op, c.key])).toEqual([
      ['remove', '198.18.0.2:8080'],
      ['update', '198.18.0.3:8080'],
      ['add', '198.18.0.4:8080'],
    ]);
    expect(commands.find((c) => c.op === 'update')).toMatchObject({ pod: 'c', errorRate: 0.5 });
    expect(diffResponders(after, after)).toEqual([]);
  });
});

describe('data plane: a pod just gone drains', () => {
  it('keeps answering for its drain time (5 s unless annotated), then is removed; a new pod on its ip:port wins', () => {
    const before = responders([
      pod('a', { ip: '198.18.0.1' }),
      pod('b', { ip: '198.18.0.2', annotations: { 'testbed.gantry.dev/drain-ms': '0' } }),
      pod('c', { ip: '198.18.0.3' }),
    ]).responders;
    const after = responders([pod('c2', { ip: '198.18.0.3' })]).responders;

    const t0 = 1_000_000;
    const first = withDraining(before, after, t0);
    // b stops at once (drain 0); a drains until t0 + 5 s; c's ip:port is c2's now.
    expect([...first.desired.keys()].sort()).toEqual(['198.18.0.1:8080', '198.18.0.3:8080']);
    expect(first.desired.get('198.18.0.1:8080')).toMatchObject({ pod: 'a', drainingUntil: t0 + 5000 });
    expect(first.desired.get('198.18.0.3:8080')).toMatchObject({ pod: 'c2' });
    expect(first.nextExpiry).toBe(t0 + 5000);
    expect(diffResponders(before, first.desired).map((c) => [c.op, c.key])).toEqual([
      ['remove', '198.18.0.2:8080'],
      ['update', '198.18.0.3:8080'],
    ]);

    // Later reconciliations keep the first deadline, and drop a once it has passed.
    const later = withDraining(first.desired, after, t0 + 4000);
    expect(later.desired.get('198.18.0.1:8080')?.drainingUntil).toBe(t0 + 5000);
    const done = withDraining(later.desired, after, t0 + 5000);
    expect([...done.desired.keys()]).toEqual(['198.18.0.3:8080']);
    expect(done.nextExpiry).toBeUndefined();
  });
});
