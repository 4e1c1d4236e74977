import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { execa } from 'execa';
import yaml from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, runCli } from '../helpers/cli.js';
import {
  clients,
  createNamespace,
  deleteNamespace,
  fakeImage,
  fullyAvailable,
  imageOf,
  readDeployment,
  writeAnalysis,
} from '../helpers/kube.js';

// Config changes are part of the release: the ConfigMaps and Secrets the Deployment reads are applied as
// `<name>-<hash>` copies, the new version reads the new copies, the stable one keeps its own until promotion.
// The simulator reads each pod's TESTBED_ERROR_RATE from its ConfigMap, so a config-only release can be bad.

const namespaces: string[] = [];
async function namespace(): Promise<string> {
  const ns = await createNamespace('cfg');
  namespaces.push(ns);
  return ns;
}
afterAll(async () => {
  await Promise.all(namespaces.map(deleteNamespace));
});

const IMAGE = fakeImage('config-v1');
/** A Secret value that must appear nowhere but in the Secret copies' data. */
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-never-shown`;

/** The app reads its ConfigMap (envFrom) and one key of its Secret (secretKeyRef); no testbed annotation. */
function writeConfigApp(
  config: Record<string, string>,
  options: { replicas?: number; configAnnotations?: Record<string, string> } = {},
): string {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas: options.replicas ?? 4,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'shop/web:placeholder',
              envFrom: [{ configMapRef: { name: 'web-config' } }],
              env: [
                { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'web-secret', key: 'password' } } },
              ],
            },
          ],
        },
      },
    },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
  };
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'web-config', annotations: options.configAnnotations },
    data: config,
  };
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'web-secret' },
    type: 'Opaque',
    stringData: { password: PASSWORD },
  };
  const dir = mkdtempSync(join(tmpdir(), 'gantry-config-app-'));
  writeFileSync(
    join(dir, 'app.yaml'),
    [deployment, service, configMap, secret].map((d) => yaml.dump(d)).join('---\n'),
  );
  return dir;
}

const good = (mode: string) => ({ TESTBED_ERROR_RATE: '0', MODE: mode });

async function deployRolling(ns: string, config: Record<string, string>, replicas = 4) {
  const run = await runCli([
    'deploy',
    '--json',
    '--manifests',
    writeConfigApp(config, { replicas }),
    '--image',
    `app=${IMAGE}`,
    '--namespace',
    ns,
    '--strategy',
    'rolling',
    '--ready-timeout',
    '60s',
  ]);
  expect(run.exitCode, run.stderr).toBe(0);
  expect(run.json!.verdict).toBe('promoted');
  return run;
}

function canaryArgs(ns: string, config: Record<string, string>): string[] {
  return [
    'deploy',
    '--json',
    '--manifests',
    writeConfigApp(config),
    '--image',
    `app=${IMAGE}`,
    '--namespace',
    ns,
    '--strategy',
    'canary',
    '--steps',
    '20,50',
    '--pause',
    '6s',
    '--analysis',
    writeAnalysis(),
    '--ready-timeout',
    '60s',
  ];
}

/** The ConfigMap a Deployment's pods read (its envFrom). */
const configOf = (d: V1Deployment | undefined) =>
  d?.spec?.template?.spec?.containers?.[0]?.envFrom?.[0]?.configMapRef?.name;
const secretOf = (d: V1Deployment | undefined) =>
  d?.spec?.template?.spec?.containers?.[0]?.env?.[0]?.valueFrom?.secretKeyRef?.name;

async function readConfigMap(ns: string, name: string): Promise<V1ConfigMap | undefined> {
  return clients()
    .core.readNamespacedConfigMap({ namespace: ns, name })
    .catch(() => undefined);
}

async function copiesOf(ns: string, kind: 'ConfigMap' | 'Secret') {
  const labelSelector = 'gantry.dev/config-of=web';
  const list =
    kind === 'ConfigMap'
      ? await clients().core.listNamespacedConfigMap({ namespace: ns, labelSelector })
      : await clients().core.listNamespacedSecret({ namespace: ns, labelSelector });
  return list.items;
}

/** Waits (by reading, as the rollout runs) until `<name>-canary` exists; fails if the run ended first. */
async function whileCanaryRuns(ns: string, run: Promise<unknown>): Promise<V1Deployment> {
  let ended = false;
  void run.finally(() => {
    ended = true;
  });
  for (;;) {
    const canary = await readDeployment(ns, 'web-canary');
    if ((canary?.status?.readyReplicas ?? 0) > 0) return canary!;
    if (ended) throw new Error('the rollout ended before its canary was seen');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a config-only release (same image, new ConfigMap content) on the sandbox', () => {
  it('is a progressive canary, promoted; the stable pods keep reading their own copy while it runs', async () => {
    const ns = await namespace();
    await deployRolling(ns, good('v1'));
    const before = await readDeployment(ns, 'web');
    const stableCopy = configOf(before)!;
    expect(stableCopy).toMatch(/^web-config-[0-9a-f]{10}$/);
    expect((await readConfigMap(ns, stableCopy))?.data?.MODE).toBe('v1');
    expect(await readConfigMap(ns, 'web-config')).toBeUndefined();

    const child = execa(process.execPath, [cliPath, ...canaryArgs(ns, good('v2'))], { reject: false });
    const canary = await whileCanaryRuns(ns, child);
    // During the canary: the new version reads a new copy; the stable Deployment and its copy are untouched.
    const newCopy = configOf(canary)!;
    expect(newCopy).toMatch(/^web-config-[0-9a-f]{10}$/);
    expect(newCopy).not.toBe(stableCopy);
    expect((await readConfigMap(ns, newCopy))?.data?.MODE).toBe('v2');
    const during = await readDeployment(ns, 'web');
    expect(configOf(during)).toBe(stableCopy);
    expect(during?.metadata?.generation).toBe(before?.metadata?.generation);
    expect((await readConfigMap(ns, stableCopy))?.data?.MODE).toBe('v1');
    expect(await readConfigMap(ns, 'web-config')).toBeUndefined();
    expect(imageOf(canary)).toBe(IMAGE);

    const result = await child;
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const report = JSON.parse(String(result.stdout));
    expect(report.verdict).toBe('promoted');
    expect(report.image).toBe(IMAGE);
    expect(report.previousImage).toBe(IMAGE);
    expect(report.steps.map((s: { result: string }) => s.result)).toEqual(['passed', 'passed']);
    expect(report.checks.length).toBeGreaterThanOrEqual(4);
    expect(report.config).toContainEqual({
      kind: 'ConfigMap',
      name: 'web-config',
      version: newCopy,
      previous: stableCopy,
    });
    const after = await readDeployment(ns, 'web');
    expect(configOf(after)).toBe(newCopy);
    expect(imageOf(after)).toBe(IMAGE);
    expect(fullyAvailable(after)).toBe(true);
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
    // The previous copy is kept (rollback with `kubectl rollout undo` still finds it), both owned by web.
    expect((await readConfigMap(ns, stableCopy))?.data?.MODE).toBe('v1');
    const uid = after?.metadata?.uid;
    for (const copy of await copiesOf(ns, 'ConfigMap'))
      expect(copy.metadata?.ownerReferences?.map((o) => o.uid)).toContain(uid);
  });

  it('a bad config-only release is rolled back: exit 1, stable on its own copy, its content unchanged', async () => {
    const ns = await namespace();
    await deployRolling(ns, good('v1'));
    const before = await readDeployment(ns, 'web');
    const stableCopy = configOf(before)!;
    const run = await runCli(canaryArgs(ns, { TESTBED_ERROR_RATE: '0.5', MODE: 'v1' }));
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.json!.verdict).toBe('rolled-back');
    expect(String(run.json!.reason)).toMatch(/error-rate/);
    expect(run.json!.previousImage).toBe(run.json!.image);
    const after = await readDeployment(ns, 'web');
    expect(configOf(after)).toBe(stableCopy);
    expect(after?.metadata?.generation).toBe(before?.metadata?.generation);
    expect(fullyAvailable(after)).toBe(true);
    expect((await readConfigMap(ns, stableCopy))?.data).toEqual(good('v1'));
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
    expect(await readConfigMap(ns, 'web-config')).toBeUndefined();
  });
});

describe('bad input about config', () => {
  it('an opt-out annotation that is not "true" or "false": exit 2, one line naming --manifests, nothing created', async () => {
    const ns = await namespace();
    const run = await runCli([
      'deploy',
      '--manifests',
      writeConfigApp(good('v1'), { configAnnotations: { 'gantry.dev/versioned': 'maybe' } }),
      '--image',
      `app=${IMAGE}`,
      '--namespace',
      ns,
    ]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toMatch(
      /^gantry: --manifests: ConfigMap "web-config" \(.*app\.yaml\): annotation gantry\.dev\/versioned must be "true" or "false", got "maybe"$/,
    );
    const { apps, core } = clients();
    expect((await apps.listNamespacedDeployment({ namespace: ns })).items).toEqual([]);
    const configMaps = await core.listNamespacedConfigMap({ namespace: ns });
    // (kube-root-ca.crt is the controller-manager's, in every namespace)
    expect(configMaps.items.map((c) => c.metadata?.name).filter((n) => n !== 'kube-root-ca.crt')).toEqual([]);
    expect((await core.listNamespacedSecret({ namespace: ns })).items).toEqual([]);
  });
});

describe('config copies over many releases', () => {
  it('keeps the newest 3 copies of each object, owned by the Deployment, which takes them along when deleted; the Secret never shows', async () => {
    const ns = await namespace();
    const outputs: string[] = [];
    const first = await deployRolling(ns, good('r0'), 2);
    outputs.push(first.stdout, first.stderr);
    // First deploy: the copies were created before the Deployment, and owned by it once it existed.
    const created = await readDeployment(ns, 'web');
    for (const kind of ['ConfigMap', 'Secret'] as const)
      for (const copy of await copiesOf(ns, kind))
        expect(copy.metadata?.ownerReferences?.map((o) => o.uid)).toEqual([created?.metadata?.uid]);

    const copies: string[] = [configOf(created)!];
    for (const mode of ['r1', 'r2', 'r3', 'r4']) {
      const run = await deployRolling(ns, good(mode), 2);
      outputs.push(run.stdout, run.stderr);
      copies.push(configOf(await readDeployment(ns, 'web'))!);
    }
    expect(new Set(copies).size).toBe(5);
    const web = await readDeployment(ns, 'web');
    expect(configOf(web)).toBe(copies[4]);
    const configMaps = await copiesOf(ns, 'ConfigMap');
    expect(configMaps.map((c) => c.metadata?.name).sort()).toEqual(copies.slice(2).sort());
    expect(configMaps.map((c) => c.data?.MODE).sort()).toEqual(['r2', 'r3', 'r4']);
    // The Secret did not change: one copy, read by every release.
    const secrets = await copiesOf(ns, 'Secret');
    expect(secrets.map((s) => s.metadata?.name)).toEqual([secretOf(web)]);
    expect(Buffer.from(secrets[0]!.data!.password!, 'base64').toString()).toBe(PASSWORD);
    const all = [...configMaps, ...secrets];
    for (const copy of all)
      expect(copy.metadata?.ownerReferences?.map((o) => o.uid)).toEqual([web?.metadata?.uid]);
    expect(await readConfigMap(ns, 'web-config')).toBeUndefined();
    const originals = await clients()
      .core.readNamespacedSecret({ namespace: ns, name: 'web-secret' })
      .catch(() => undefined);
    expect(originals).toBeUndefined();

    // The password is nowhere but in the Secrets: not in any output, event, annotation or the lease.
    const events = await clients().core.listNamespacedEvent({ namespace: ns });
    const lease = await clients().coordination.readNamespacedLease({ namespace: ns, name: 'gantry-web' });
    const shown = [
      ...outputs,
      JSON.stringify(events.items),
      JSON.stringify(lease.metadata),
      JSON.stringify(web?.metadata),
      JSON.stringify(web?.spec),
      JSON.stringify(configMaps),
    ].join('\n');
    expect(shown).toContain(secretOf(web)!); // the check is live: the Secret copy's name is there
    expect(shown).not.toContain(PASSWORD);
    expect(shown).not.toContain(Buffer.from(PASSWORD).toString('base64'));

    // Deleting the Deployment deletes its copies and the key (the cluster's garbage collector does it).
    await clients().apps.deleteNamespacedDeployment({
      namespace: ns,
      name: 'web',
      propagationPolicy: 'Background',
    });
    for (;;) {
      const left = [...(await copiesOf(ns, 'ConfigMap')), ...(await copiesOf(ns, 'Secret'))];
      const key = await clients()
        .core.readNamespacedSecret({ namespace: ns, name: 'gantry-web-config-key' })
        .catch(() => undefined);
      if (left.length === 0 && !key) break;
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 400_000);
});
