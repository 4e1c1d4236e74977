import {
  ApiException,
  type KubernetesObject,
  PatchStrategy,
  type V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { Kube } from '../../../src/deploy/kube.js';
import { TRACK_LABEL } from '../../../src/deploy/labels.js';

/**
 * What a Deployment's controller does after a write of its spec (an apply, a restored template), on the fake
 * clock: every replica updated, ready and available after `readyAfterMs`; pods that never become ready; or
 * the progress deadline exceeded (Progressing=False) after `stalledAfterMs`.
 */
export type RolloutBehaviour =
  | { readyAfterMs: number }
  | { neverReady: true }
  | { stalledAfterMs: number; message: string };

export const readyAfter = (ms: number): RolloutBehaviour => ({ readyAfterMs: ms });
export const neverReady: RolloutBehaviour = { neverReady: true };
export const stalledAfter = (ms: number, message: string): RolloutBehaviour => ({
  stalledAfterMs: ms,
  message,
});
/** What a write does when the script says nothing: ready two seconds later. */
export const DEFAULT_ROLLOUT = readyAfter(2_000);

/**
 * A request the API server refuses with an HTTP status: after `skip` matching requests went through, the next
 * `times` ones (every one when unset).
 */
export interface ApiFailure {
  verb: 'apply' | 'replace' | 'delete' | 'scale';
  kind: 'Deployment' | 'Service';
  name: string;
  code: number;
  skip?: number;
  times?: number;
}

type Stored = KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };
type Listener = { kind: string; name: string; callback: (phase: string, object: unknown) => void };

/**
 * An in-memory API server for one namespace, as much of it as the rollout strategies reach through {@link Kube}:
 * server-side apply, read, replace, delete and watch of Deployments and Services. A Deployment's status
 * follows a script, one {@link RolloutBehaviour} per write of its spec in turn; scripted failures answer a
 * request with an HTTP status. Every write (refused ones too, marked `✗<status>`) goes to `log`, in order.
 */
export class FakeCluster {
  private readonly store = new Map<string, Stored>();
  private readonly listeners = new Set<Listener>();
  private readonly writes = new Map<string, number>();
  private version = 0;
  /** The scripted failures, copied: their counts go down as they are used. */
  private readonly failures: ApiFailure[];

  constructor(
    readonly log: string[],
    private readonly behaviours: Record<string, RolloutBehaviour[]> = {},
    failures: ApiFailure[] = [],
  ) {
    this.failures = failures.map((failure) => ({ ...failure }));
  }

  /** An object as it is now (for setting up and for assertions); no log entry. */
  get<T extends KubernetesObject = Stored>(kind: string, name: string): T | undefined {
    const object = this.store.get(`${kind}/${name}`);
    return object && (structuredClone(object) as T);
  }

  /** Puts an object in place before the rollout (the stable Deployment, the main Service); no log entry. */
  seed(object: Stored): void {
    this.put({ ...structuredClone(object), metadata: { ...object.metadata, generation: 1 } });
  }

  /**
   * The real {@link Kube} (apply, read, delete, waitFor) over this fake's object API and watch: its constructor,
   * which wants a kubeconfig, is skipped, and its two clients (`objects`, the private `watcher`) are this fake.
   */
  kube(): Kube {
    return Object.assign(Object.create(Kube.prototype) as Kube, {
      objects: this.api,
      watcher: { watch: this.watch },
      requestCounts: {},
    });
  }

  private readonly api = {
    patch: async (
      body: Stored,
      _pretty?: string,
      dryRun?: string,
      _manager?: string,
      _force?: boolean,
      strategy?: string,
    ) => {
      if (dryRun) return structuredClone(body);
      if (strategy === PatchStrategy.MergePatch) return this.scale(body);
      this.refuse('apply', body, logLine('apply', body));
      return this.write(body, logLine('apply', body));
    },
    read: async (spec: KubernetesObject) => {
      const object = this.get(spec.kind!, spec.metadata!.name!);
      if (!object) throw new ApiException(404, 'Not Found', { reason: 'NotFound' }, {});
      return object;
    },
    replace: async (body: Stored) => {
      const entry = logLine('replace', body);
      this.refuse('replace', body, entry);
      const stored = this.store.get(key(body));
      if (stored?.metadata?.resourceVersion !== body.metadata?.resourceVersion) {
        this.log.push(`${entry} ✗409`);
        throw new ApiException(409, 'Conflict', { reason: 'Conflict' }, {});
      }
      return this.write(body, entry);
    },
    delete: async (spec: KubernetesObject) => {
      const entry = `delete ${short(spec.kind!)}/${spec.metadata!.name}`;
      this.refuse('delete', spec, entry);
      this.log.push(entry);
      const object = this.store.get(key(spec));
      if (!object) throw new ApiException(404, 'Not Found', { reason: 'NotFound' }, {});
      this.store.delete(key(spec));
      this.notify('DELETED', object);
      return {};
    },
  };

  /** Kubernetes' Watch, for one object by name: its changes after `resourceVersion`, as they happen. */
  private readonly watch = async (
    path: string,
    query: { fieldSelector?: string; resourceVersion?: string },
    callback: (phase: string, object: unknown) => void,
  ): Promise<AbortController> => {
    const kind = path.endsWith('/deployments') ? 'Deployment' : 'Service';
    const name = String(query.fieldSelector).replace('metadata.name=', '');
    const listener = { kind, name, callback };
    this.listeners.add(listener);
    const controller = new AbortController();
    controller.signal.addEventListener('abort', () => this.listeners.delete(listener));
    // A change between the caller's read and this watch arrives as the watch's first event.
    const now = this.store.get(`${kind}/${name}`);
    if (now?.metadata?.resourceVersion !== query.resourceVersion)
      queueMicrotask(() => {
        if (this.listeners.has(listener)) callback(now ? 'MODIFIED' : 'DELETED', structuredClone(now));
      });
    return controller;
  };

  private refuse(verb: ApiFailure['verb'], object: KubernetesObject, entry: string): void {
    const failure = this.failures.find(
      (f) =>
        f.verb === verb && f.kind === object.kind && f.name === object.metadata?.name && (f.times ?? 1) > 0,
    );
    if (!failure) return;
    if (failure.skip) {
      failure.skip--;
      return;
    }
    if (failure.times !== undefined) failure.times--;
    this.log.push(`${entry} ✗${failure.code}`);
    throw new ApiException(failure.code, `${verb} refused`, { message: `${verb} refused` }, {});
  }

  /** A merge patch of a Deployment's replicas (the replica router's): `scale deploy/web-canary ×2`. */
  private scale(body: Stored): Stored {
    const entry = `scale ${short(body.kind!)}/${body.metadata?.name} ×${(body.spec as { replicas?: number })?.replicas}`;
    this.refuse('scale', body, entry);
    const stored = this.store.get(key(body));
    if (!stored) {
      this.log.push(`${entry} ✗404`);
      throw new ApiException(404, 'Not Found', { reason: 'NotFound' }, {});
    }
    return this.write({ ...stored, spec: { ...stored.spec, ...body.spec } }, entry);
  }

  /** A write of an object's spec: a new generation; a Deployment's controller then follows its script. */
  private write(body: Stored, entry: string): Stored {
    this.log.push(entry);
    const previous = this.store.get(key(body));
    const generation = Number(previous?.metadata?.generation ?? 0) + 1;
    const object: Stored = {
      ...structuredClone(body),
      metadata: { ...body.metadata, generation, uid: previous?.metadata?.uid ?? `uid-${key(body)}` },
    };
    if (body.kind !== 'Deployment') return this.put(object);
    const replicas = Number(object.spec?.replicas ?? 1);
    object.status = {
      observedGeneration: generation,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: 0,
      availableReplicas: 0,
    };
    const stored = this.put(object);
    const writes = (this.writes.get(key(body)) ?? 0) + 1;
    this.writes.set(key(body), writes);
    const behaviour = this.behaviours[body.metadata!.name!]?.[writes - 1] ?? DEFAULT_ROLLOUT;
    const later = (ms: number, status: Record<string, unknown>) =>
      setTimeout(() => {
        const current = this.store.get(key(body));
        if (current?.metadata?.generation !== generation) return; // deleted or written again meanwhile
        this.put({ ...current, status: { ...current.status, ...status } });
      }, ms);
    if ('readyAfterMs' in behaviour)
      later(behaviour.readyAfterMs, { readyReplicas: replicas, availableReplicas: replicas });
    else if ('stalledAfterMs' in behaviour)
      later(behaviour.stalledAfterMs, {
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: behaviour.message,
          },
        ],
      });
    return stored;
  }

  private put(object: Stored): Stored {
    const stored = {
      ...object,
      metadata: { ...object.metadata, resourceVersion: String(++this.version) },
    };
    const existed = this.store.has(key(object));
    this.store.set(key(object), stored);
    this.notify(existed ? 'MODIFIED' : 'ADDED', stored);
    return structuredClone(stored);
  }

  private notify(phase: string, object: Stored): void {
    for (const listener of this.listeners)
      if (listener.kind === object.kind && listener.name === object.metadata?.name)
        listener.callback(phase, structuredClone(object));
  }
}

const key = (object: KubernetesObject) => `${object.kind}/${object.metadata?.name}`;
const short = (kind: string) => (kind === 'Deployment' ? 'deploy' : 'svc');

/**
 * One line per write: `apply deploy/web-canary v2 ×2 canary` (image tag, replicas, pod track),
 * `apply svc/web → preview` (the selector's track), `replace deploy/web v1` (a template put back).
 */
function logLine(verb: string, object: Stored): string {
  const name = `${short(object.kind!)}/${object.metadata?.name}`;
  const spec = (object.spec ?? {}) as {
    replicas?: number;
    selector?: Record<string, string>;
    template?: V1PodTemplateSpec;
  };
  if (object.kind === 'Service') return `${verb} ${name} → ${spec.selector?.[TRACK_LABEL] ?? 'all'}`;
  const image = spec.template?.spec?.containers?.[0]?.image ?? '';
  const tag = image.slice(image.lastIndexOf(':') + 1);
  const track = spec.template?.metadata?.labels?.[TRACK_LABEL] ?? 'no track';
  if (verb === 'replace') return `${verb} ${name} ${tag}`;
  return `${verb} ${name} ${tag} ×${spec.replicas ?? 1} ${track}`;
}
