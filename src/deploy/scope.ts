import { ApiException } from '@kubernetes/client-node';
import { InputError } from '../util/errors.js';
import { isNotFound, type Kube, toGantryError } from './kube.js';
import type { Manifest } from './manifests.js';

/**
 * What a rollout may apply: objects of its namespace (--namespace), and that Namespace itself. Nothing else
 * cluster-scoped (ClusterRole, CustomResourceDefinition, another Namespace, …): those are shared by every
 * service of the cluster, need rights a deploy job should not hold, and cannot be rolled back with the service.
 */

/** The manifest's Namespace object for --namespace, if the manifests carry one. */
export function ownNamespace(manifests: Manifest[], namespace: string): Manifest | undefined {
  return manifests.find((m) => isNamespaceObject(m) && m.metadata.name === namespace);
}

export function isNamespaceObject(manifest: Manifest): boolean {
  return manifest.kind === 'Namespace' && manifest.apiVersion === 'v1';
}

/**
 * Refuses every cluster-scoped object but the Namespace --namespace, one line naming the object. The scope of a
 * kind comes from the API server's discovery (which the apply needs anyway, and caches); a kind the server does
 * not know is left to the dry run, which refuses it.
 * @throws InputError (`--manifests`).
 */
export async function checkScope(kube: Kube, manifests: Manifest[], namespace: string): Promise<void> {
  for (const manifest of manifests) {
    const where = `${manifest.kind} "${manifest.metadata.name}" (${manifest.source ?? 'manifests'})`;
    if (isNamespaceObject(manifest)) {
      if (manifest.metadata.name === namespace) continue;
      throw new InputError(
        '--manifests',
        `${where} is not --namespace ${namespace}: a rollout applies only its own Namespace; create other namespaces separately`,
      );
    }
    let namespaced: boolean | undefined;
    try {
      namespaced = await kube.isNamespaced(manifest.apiVersion, manifest.kind);
    } catch (error) {
      if (isNotFound(error)) continue; // an API group the server does not serve: the dry run says so
      throw toGantryError(`discover ${manifest.apiVersion} ${manifest.kind}`, error);
    }
    if (namespaced === false) {
      throw new InputError(
        '--manifests',
        `${where} is cluster-scoped: a rollout applies only objects of --namespace ${namespace} (and that Namespace); apply it separately, with the rights that takes`,
      );
    }
  }
}

/** Whether the namespace exists. */
export async function namespaceExists(kube: Kube, namespace: string): Promise<boolean> {
  try {
    kube.count('get');
    await kube.objects.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw toGantryError(`read namespace ${namespace}`, error);
  }
}

/** The API server's answer for an object in a namespace that does not exist (yet). */
export function isMissingNamespace(error: unknown, namespace: string): boolean {
  if (!(error instanceof ApiException) || error.code !== 404) return false;
  try {
    const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
    const details = (body as { details?: { kind?: string; name?: string } } | undefined)?.details;
    return details?.kind === 'namespaces' && details.name === namespace;
  } catch {
    return false;
  }
}
