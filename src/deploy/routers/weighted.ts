import { PatchStrategy } from '@kubernetes/client-node';
import { InputError } from '../../util/errors.js';
import type { Manifest } from '../manifests.js';
import { trackService } from './service.js';
import type { RouteContext, RouteNames, Router, RouteWeights, StepMatch } from './types.js';

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

/** Merge-patches the object; resolves the object as the API server returned it (new generation, status). */
export async function mergePatch(
  context: RouteContext,
  object: Manifest,
  patch: Record<string, unknown>,
): Promise<Manifest> {
  context.kube.count('patch');
  return context.kube.objects.patch(
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

/** How one kind of routing object (an HTTPRoute, a VirtualService) is read and rewritten for a weight. */
export interface RouteObject<Spec> {
  name: 'gateway-api' | 'istio';
  apiVersion: string;
  kind: string;
  /** The spec with the traffic to the main Service split by `weight` (and `match`); pure. */
  rewrite(spec: Spec, names: RouteNames, weight: number, match?: StepMatch): Spec;
  /** The weights the spec sends; pure. */
  weights(spec: Spec, names: RouteNames): RouteWeights;
  /**
   * After a write: resolves once the data plane has taken the object as written, throws when it refuses it.
   * `strict` is false when traffic is being given back to the stable version, which a refusal must not stop.
   */
  confirm?(context: RouteContext, written: Manifest, strict: boolean): Promise<void>;
}

/**
 * A router that writes weights into an object of the manifests named like the app (`<name>`), beside a canary
 * Service: the Gateway API and Istio routers are this with their own object and rewrite.
 */
export class RouteObjectRouter<Spec> implements Router {
  readonly pinsStableSelector = true;
  readonly name: RouteObject<Spec>['name'];

  constructor(private readonly object: RouteObject<Spec>) {
    this.name = object.name;
  }

  async reconcile(context: RouteContext): Promise<void> {
    await ensureCanaryService(context);
    // Before any traffic moves: a route the data plane refuses stops the rollout here.
    await this.write(context, 0, undefined, true);
  }

  async setRoutes(context: RouteContext, weight: number, match?: StepMatch): Promise<void> {
    await this.write(context, weight, match, weight > 0 || match !== undefined);
  }

  private async write(context: RouteContext, weight: number, match: StepMatch | undefined, strict: boolean) {
    const found = await this.read(context);
    const spec = this.object.rewrite((found.spec ?? {}) as Spec, context, weight, match);
    const written = await mergePatch(context, found, { spec });
    await this.object.confirm?.(context, written, strict);
  }

  async getRoutes(context: RouteContext): Promise<RouteWeights> {
    const found = await this.read(context);
    return this.object.weights((found.spec ?? {}) as Spec, context);
  }

  async finalize(context: RouteContext): Promise<void> {
    await this.setRoutes(context, 0);
    await context.kube.delete('v1', 'Service', context.namespace, context.canaryService);
  }

  private read(context: RouteContext): Promise<Manifest> {
    const { apiVersion, kind, name } = this.object;
    return readRequired(context, apiVersion, kind, context.name, `the ${name} router`);
  }
}
