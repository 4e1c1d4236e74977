import { InfraError } from '../../util/errors.js';
import type { Manifest } from '../manifests.js';
import type { RouteContext } from './types.js';

/**
 * Whether the gateways an HTTPRoute is attached to accept what Gantry wrote. A Gateway API implementation
 * reports on every route it reads, per parent (Gateway), in `status.parents[]`: `Accepted` (the gateway
 * attaches the route) and `ResolvedRefs` (every backendRef names a Service it can send to), each with the
 * `observedGeneration` of the spec it judged. A weight is only in effect once every managed parent has judged
 * the new generation and accepted it.
 */

const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** How long a gateway may take to judge a new generation of the route (Traefik takes 0.1–0.3 s). */
export const ROUTE_STATUS_TIMEOUT_MS = 15000;

export interface ParentRef {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  observedGeneration?: number;
}
export interface RouteParentStatus {
  parentRef: ParentRef;
  controllerName?: string;
  conditions?: Condition[];
}

/** An object as the API server returns it: a generation, and the status its controllers write. */
export type Observed = Manifest & {
  metadata: { generation?: number };
  /** A route's status (parents) or a Gateway's (conditions). */
  status?: { parents?: RouteParentStatus[]; conditions?: Condition[] };
};

/** A gateway refused the route (not attached, or a backend it cannot resolve): exit 3, after rollback. */
export class RouteRejected extends InfraError {}

/** `namespace/name` (and `:section`) of a parent, for messages. */
export function describeParent(ref: ParentRef, routeNamespace: string): string {
  return `${ref.namespace ?? routeNamespace}/${ref.name}${ref.sectionName ? `:${ref.sectionName}` : ''}`;
}

/** Whether a status entry reports on `ref` (namespace defaults to the route's, group and kind to Gateway). */
export function sameParent(a: ParentRef, b: ParentRef, routeNamespace: string): boolean {
  return (
    (a.group ?? GATEWAY_GROUP) === (b.group ?? GATEWAY_GROUP) &&
    (a.kind ?? 'Gateway') === (b.kind ?? 'Gateway') &&
    (a.namespace ?? routeNamespace) === (b.namespace ?? routeNamespace) &&
    a.name === b.name &&
    (a.sectionName ?? '') === (b.sectionName ?? '') &&
    (a.port ?? 0) === (b.port ?? 0)
  );
}

export type ParentVerdict =
  | { state: 'pending' }
  | { state: 'accepted' }
  | { state: 'rejected'; condition: Condition };

/**
 * What one parent says of generation `generation` of the route: pending until both conditions carry that
 * generation (or a newer one), rejected when either is False, accepted when both are True. Pure.
 */
export function judgeParent(status: RouteParentStatus | undefined, generation: number): ParentVerdict {
  const conditions = status?.conditions ?? [];
  const current = (type: string) =>
    conditions.find((c) => c.type === type && (c.observedGeneration ?? 0) >= generation);
  const accepted = current('Accepted');
  const resolved = current('ResolvedRefs');
  if (accepted?.status === 'False') return { state: 'rejected', condition: accepted };
  if (resolved?.status === 'False') return { state: 'rejected', condition: resolved };
  if (accepted?.status === 'True' && resolved?.status === 'True') return { state: 'accepted' };
  return { state: 'pending' };
}

/** The route's verdict over the parents that have a controller: the first rejection, else pending or accepted. */
export function judgeRoute(
  route: Observed,
  parents: ParentRef[],
  generation: number,
):
  | { state: 'pending'; waitingFor: ParentRef }
  | { state: 'accepted' }
  | { state: 'rejected'; parent: ParentRef; condition: Condition } {
  const statuses = route.status?.parents ?? [];
  const namespace = route.metadata.namespace ?? '';
  let waitingFor: ParentRef | undefined;
  for (const parent of parents) {
    const verdict = judgeParent(
      statuses.find((s) => sameParent(s.parentRef, parent, namespace)),
      generation,
    );
    if (verdict.state === 'rejected') return { state: 'rejected', parent, condition: verdict.condition };
    if (verdict.state === 'pending') waitingFor ??= parent;
  }
  return waitingFor ? { state: 'pending', waitingFor } : { state: 'accepted' };
}

/**
 * The route's parents that some gateway controller manages: a Gateway that exists and whose status says a
 * controller accepted it. Routes whose gateway has no controller (a cluster without one, the sandbox's traffic
 * simulator) get no status, so waiting for one would only time out; other parent kinds are not checked.
 */
export async function managedParents(context: RouteContext, route: Manifest): Promise<ParentRef[]> {
  const refs = ((route.spec as { parentRefs?: ParentRef[] } | undefined)?.parentRefs ?? []) as ParentRef[];
  const managed: ParentRef[] = [];
  for (const ref of refs) {
    if ((ref.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (ref.kind ?? 'Gateway') !== 'Gateway') continue;
    const gateway = await context.kube
      .read<Observed>(`${GATEWAY_GROUP}/v1`, 'Gateway', ref.namespace ?? context.namespace, ref.name)
      .catch(() => undefined);
    const conditions = gateway?.status?.conditions ?? [];
    if (conditions.some((c) => c.type === 'Accepted' && c.status === 'True')) managed.push(ref);
  }
  return managed;
}

/**
 * Waits until every managed parent has judged the route's generation `generation`; resolves when all accept.
 * @throws RouteRejected when a parent rejects it (with the condition's reason and message), or when a parent
 *   has not judged it within `timeoutMs`
 */
export async function awaitRouteAccepted(
  context: RouteContext,
  route: Observed,
  parents: ParentRef[],
  timeoutMs = ROUTE_STATUS_TIMEOUT_MS,
): Promise<void> {
  const generation = route.metadata.generation ?? 0;
  const name = route.metadata.name;
  const namespace = context.namespace;
  let last = judgeRoute(route, parents, generation);
  if (last.state === 'pending') {
    try {
      await context.kube.waitFor<Observed>(
        `the gateways to judge HTTPRoute ${name}`,
        {
          path: `/apis/${GATEWAY_GROUP}/v1/namespaces/${namespace}/httproutes`,
          apiVersion: `${GATEWAY_GROUP}/v1`,
          kind: 'HTTPRoute',
          namespace,
          name,
        },
        (object) => {
          if (!object) return true;
          last = judgeRoute(object, parents, generation);
          return last.state !== 'pending';
        },
        { timeoutMs, signal: context.signal },
      );
    } catch (error) {
      if (context.signal?.aborted) throw error;
      // Timed out: `last` says which parent is still silent.
    }
  }
  if (last.state === 'rejected') {
    const { parent, condition } = last;
    throw new RouteRejected(
      `gateway ${describeParent(parent, namespace)} does not accept HTTPRoute ${namespace}/${name} (generation ${generation}): ` +
        `${condition.type}=False${condition.reason ? ` ${condition.reason}` : ''}${condition.message ? `: ${condition.message}` : ''}`,
    );
  }
  if (last.state === 'pending') {
    throw new RouteRejected(
      `gateway ${describeParent(last.waitingFor, namespace)} has not judged HTTPRoute ${namespace}/${name} generation ${generation} within ${Math.round(timeoutMs / 1000)}s (no Accepted/ResolvedRefs conditions for it)`,
    );
  }
}
