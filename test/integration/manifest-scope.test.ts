import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  clients,
  createNamespace,
  deleteNamespace,
  fakeImage,
  fullyAvailable,
  imageOf,
  kubeConfig,
  readDeployment,
  writeApp,
} from '../helpers/kube.js';

// Issue 13: manifests that carry their own Namespace, and cluster-scoped objects a rollout never applies.

const namespaces: string[] = [];
afterAll(async () => {
  await Promise.all(namespaces.map(deleteNamespace));
});

let counter = 0;
/** A namespace name no one has created (yet). */
function freshName(prefix: string): string {
  const name = `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
  namespaces.push(name);
  return name;
}

const namespaceObject = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { team: 'shop' } },
});

const deploy = (manifests: string, ns: string, seed: string) => [
  'deploy',
  '--json',
  '--manifests',
  manifests,
  '--image',
  `app=${fakeImage(seed)}`,
  '--namespace',
  ns,
  '--strategy',
  'rolling',
  '--ready-timeout',
  '60s',
];

/** The namespace as the API server has it: absent, or on its way out (deleted, finalizers running). */
async function namespacePhase(name: string): Promise<string | undefined> {
  return clients()
    .core.readNamespace({ name })
    .then(
      (n) => (n.metadata?.deletionTimestamp ? 'Terminating' : n.status?.phase),
      () => undefined,
    );
}

/** Everything a run could have created in a namespace. */
async function contents(namespace: string): Promise<string[]> {
  const { apps, core, coordination } = clients();
  const [deployments, services, leases] = await Promise.all([
    apps.listNamespacedDeployment({ namespace }),
    core.listNamespacedService({ namespace }),
    coordination.listNamespacedLease({ namespace }),
  ]);
  return [...deployments.items, ...services.items, ...leases.items].map((o) => o.metadata!.name!);
}

const line = (stderr: string) => {
  const lines = stderr.split('\n').filter((l) => l.startsWith('gantry:'));
  expect(lines).toHaveLength(1);
  return lines[0]!;
};

describe('manifests with their own Namespace', () => {
  it('roll out into a namespace that does not exist yet: created first, then the app', async () => {
    const ns = freshName('nsown');
    const manifests = writeApp({ extra: [namespaceObject(ns)] });
    const first = await runCli(deploy(manifests, ns, 'nsown-v1'));
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.json!.verdict).toBe('promoted');
    expect(first.stderr).toContain(`creating namespace ${ns} from the manifests`);
    const namespace = await clients().core.readNamespace({ name: ns });
    expect(namespace.metadata?.labels?.team).toBe('shop');
    expect(fullyAvailable(await readDeployment(ns, 'web'))).toBe(true);

    // Once it exists the same manifests roll out as usual (the Namespace applied again, unchanged).
    const second = await runCli(deploy(manifests, ns, 'nsown-v2'));
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).not.toContain('creating namespace');
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(fakeImage('nsown-v2'));
  });

  it('an object the server refuses: exit 2, one line, and the namespace not left behind', async () => {
    const ns = freshName('nsbad');
    const manifests = writeApp({ replicas: -1, extra: [namespaceObject(ns)] });
    const run = await runCli(deploy(manifests, ns, 'nsbad'));
    expect(run.exitCode, run.stderr).toBe(2);
    expect(line(run.stderr)).toMatch(/^gantry: --manifests: Deployment "web" .* was refused: .*replicas/);
    expect(await namespacePhase(ns)).not.toBe('Active');
  });
});

describe('cluster-scoped objects are never applied by a rollout', () => {
  const rbac = () => kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  // Had a run applied one after all (the test then fails), it does not outlive the suite.
  const roles: string[] = [];
  afterAll(async () => {
    await Promise.all(
      roles.map((name) =>
        rbac()
          .deleteClusterRole({ name })
          .catch(() => {}),
      ),
    );
  });
  const clusterRole = (name: string) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
  });
  const clusterRoleExists = (name: string) =>
    rbac()
      .readClusterRole({ name })
      .then(
        () => true,
        () => false,
      );

  it('a ClusterRole: exit 2, one line naming it, nothing created', async () => {
    const ns = await createNamespace('scope');
    namespaces.push(ns);
    const role = `gantry-it-${ns}`;
    roles.push(role);
    const run = await runCli(deploy(writeApp({ extra: [clusterRole(role)] }), ns, 'scope'));
    expect(run.exitCode, run.stderr).toBe(2);
    expect(line(run.stderr)).toMatch(
      new RegExp(
        `^gantry: --manifests: ClusterRole "${role}" \\(.*\\) is cluster-scoped: a rollout applies only objects of --namespace ${ns}`,
      ),
    );
    expect(await clusterRoleExists(role)).toBe(false);
    expect(await contents(ns)).toEqual([]);
  });

  it('a ClusterRole beside the manifests’ own Namespace: neither is created', async () => {
    const ns = freshName('scopens');
    const role = `gantry-it-${ns}`;
    roles.push(role);
    const manifests = writeApp({ extra: [namespaceObject(ns), clusterRole(role)] });
    const run = await runCli(deploy(manifests, ns, 'scopens'));
    expect(run.exitCode, run.stderr).toBe(2);
    expect(line(run.stderr)).toMatch(/^gantry: --manifests: ClusterRole .* is cluster-scoped/);
    expect(await clusterRoleExists(role)).toBe(false);
    expect(await namespacePhase(ns)).toBeUndefined();
  });

  it('a Namespace other than --namespace: exit 2, one line naming it, not created', async () => {
    const ns = await createNamespace('scopeother');
    namespaces.push(ns);
    const other = freshName('other');
    const run = await runCli(deploy(writeApp({ extra: [namespaceObject(other)] }), ns, 'scopeother'));
    expect(run.exitCode, run.stderr).toBe(2);
    expect(line(run.stderr)).toMatch(
      new RegExp(`^gantry: --manifests: Namespace "${other}" \\(.*\\) is not --namespace ${ns}`),
    );
    expect(await namespacePhase(other)).toBeUndefined();
    expect(await contents(ns)).toEqual([]);
  });
});
