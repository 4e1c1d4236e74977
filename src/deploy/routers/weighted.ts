import { PatchStrategy } from '@kubernetes/client-node';
import { InputError } from '../../util/errors.js';
import type { Manifest } from '../manifests.js';
import { trackService } from './service.js';
import type { RouteContext } from './types.js';

/** Shared by the routers that write weights into an object: the canary Service, reads, merge patches. */
export async function ensureCanaryService(context: RouteContext): Promise<void> {
  const track = context.canaryService.endsWith('-preview') ? 'preview' : 'canary';
  await context.kube.apply(trackService(context, context.canaryService, track));
}

export async function readRequired(
  context: RouteContext,
  apiVersion: string,
  kind: string,
  name: string,
  router: string,
): Promise<Manifest> {
  const object = await context.kube.read<Manifest>(apiVersion, kind, context.namespace, name);
  if (!object) {
    throw new InputError(
      '--router',
      `${router} needs a ${kind} "${name}" in namespace ${context.namespace} (in the manifests or the cluster)`,
    );
  }
  return object;
}

export async function mergePatch(
  context: RouteContext,
  object: Manifest,
  patch: Record<string, unknown>,
): Promise<void> {
  context.kube.count('patch');
  await context.kube.objects.patch(
    {
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: { name: object.metadata.name, namespace: context.namespace },
      ...patch,
    } as Manifest,
    undefined,
    undefined,
    'gantry',
    undefined,
    PatchStrategy.MergePatch,
  );
}

/** Whether a host names the Service (`web`, `web.shop`, `web.shop.svc`, `web.shop.svc.cluster.local`). */
export function hostIsService(host: string, service: string, namespace: string): boolean {
  return host === service || host.startsWith(`${service}.${namespace}`);
}
