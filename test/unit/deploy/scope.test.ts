import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Kube } from '../../../src/deploy/kube.js';
import type { Manifest } from '../../../src/deploy/manifests.js';
import { checkScope, isMissingNamespace, ownNamespace } from '../../../src/deploy/scope.js';
import { InputError } from '../../../src/util/errors.js';

/** Discovery as an API server answers it: namespaced kinds, cluster-scoped kinds, unknown ones. */
const CLUSTER_SCOPED = new Set(['v1/Namespace', 'rbac.authorization.k8s.io/v1/ClusterRole']);
const NAMESPACED = new Set(['apps/v1/Deployment', 'v1/Service', 'rbac.authorization.k8s.io/v1/Role']);
const discovery = {
  async isNamespaced(apiVersion: string, kind: string) {
    const key = `${apiVersion}/${kind}`;
    if (apiVersion === 'example.com/v1') throw new ApiException(404, 'Not Found', '', {});
    if (CLUSTER_SCOPED.has(key)) return false;
    if (NAMESPACED.has(key)) return true;
    return undefined;
  },
} as unknown as Kube;

const object = (apiVersion: string, kind: string, name: string): Manifest => ({
  apiVersion,
  kind,
  metadata: { name },
  source: 'k8s/app.yaml',
});
const app = [object('apps/v1', 'Deployment', 'web'), object('v1', 'Service', 'web')];

describe('what a rollout may apply', () => {
  it('accepts namespaced objects and the Namespace of --namespace', async () => {
    const manifests = [
      object('v1', 'Namespace', 'shop'),
      ...app,
      object('rbac.authorization.k8s.io/v1', 'Role', 'r'),
    ];
    await expect(checkScope(discovery, manifests, 'shop')).resolves.toBeUndefined();
    expect(ownNamespace(manifests, 'shop')?.metadata.name).toBe('shop');
    expect(ownNamespace(app, 'shop')).toBeUndefined();
  });

  it('leaves kinds and API groups the server does not know to the dry run', async () => {
    const manifests = [...app, object('v1', 'Gizmo', 'g'), object('example.com/v1', 'Widget', 'w')];
    await expect(checkScope(discovery, manifests, 'shop')).resolves.toBeUndefined();
  });

  it.each([
    [
      object('rbac.authorization.k8s.io/v1', 'ClusterRole', 'reader'),
      '--manifests: ClusterRole "reader" (k8s/app.yaml) is cluster-scoped: a rollout applies only objects of --namespace shop (and that Namespace); apply it separately, with the rights that takes',
    ],
    [
      object('v1', 'Namespace', 'other'),
      '--manifests: Namespace "other" (k8s/app.yaml) is not --namespace shop: a rollout applies only its own Namespace; create other namespaces separately',
    ],
  ])('refuses %o with one line naming it (exit 2)', async (refused, message) => {
    const error = await checkScope(discovery, [...app, refused], 'shop').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).exitCode).toBe(2);
    expect((error as Error).message).toBe(message);
  });
});

describe('isMissingNamespace', () => {
  const status = (code: number, details: object) =>
    new ApiException(code, 'x', JSON.stringify({ kind: 'Status', code, details }), {});

  it('is the 404 the server answers for an object in a namespace that does not exist', () => {
    expect(isMissingNamespace(status(404, { name: 'shop', kind: 'namespaces' }), 'shop')).toBe(true);
  });

  it.each([
    ['another namespace', status(404, { name: 'other', kind: 'namespaces' })],
    ['another missing object', status(404, { name: 'shop', kind: 'deployments' })],
    ['another status', status(422, { name: 'shop', kind: 'namespaces' })],
    ['not an API answer', new Error('ECONNREFUSED')],
  ])('is not %s', (_what, error) => {
    expect(isMissingNamespace(error, 'shop')).toBe(false);
  });
});
