import { existsSync } from 'node:fs';
import {
  ApiException,
  CoordinationV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
} from '@kubernetes/client-node';
import { InfraError, InputError, messageOf } from '../util/errors.js';
import {
  DEFAULT_KUBE_RETRY,
  type KubeRetryPolicy,
  makeApiClient,
  networkCode,
  RetryingHttpLibrary,
} from './kube-retry.js';

export const FIELD_MANAGER = 'gantry';

/**
 * The cluster, as the rollout engine uses it: server-side apply (field manager `gantry`), reads, deletes,
 * and watches for conditions (never polling loops). Every failure is mapped to one readable line.
 */
export class Kube {
  // Generic objects rather than the typed CoreV1Api and AppsV1Api: those two classes are ~0.75 MB of the
  // bundle that every rollout command would parse at startup for four calls (issue 5).
  readonly objects: KubernetesObjectApi;
  readonly coordination: CoordinationV1Api;
  private readonly watcher: Watch;
  /** Requests made, by verb, for the scale benchmark (API requests per rollout step). */
  readonly requestCounts: Record<string, number> = {};

  /** The clients' transport: rides out an API outage once the API has answered (see kube-retry.ts). */
  readonly transport: RetryingHttpLibrary;

  constructor(
    readonly config: KubeConfig,
    retry: KubeRetryPolicy = DEFAULT_KUBE_RETRY,
  ) {
    this.transport = new RetryingHttpLibrary(retry);
    this.objects = makeApiClient(config, KubernetesObjectApi, this.transport);
    // What KubernetesObjectApi.makeApiClient does: objects without a namespace go to the context's.
    (this.objects as unknown as { setDefaultNamespace(kc: KubeConfig): string }).setDefaultNamespace(config);
    this.coordination = makeApiClient(config, CoordinationV1Api, this.transport);
    this.watcher = new Watch(config);
  }

  /** Loads a kubeconfig: the explicit path, else $KUBECONFIG, else ~/.kube/config. */
  static load(path?: string): Kube {
    const config = new KubeConfig();
    const file = path ?? process.env.KUBECONFIG;
    if (file) {
      if (!existsSync(file))
        throw new InputError(path ? '--kubeconfig' : 'KUBECONFIG', `no such file "${file}"`);
      try {
        config.loadFromFile(file);
      } catch (error) {
        throw new InputError(
          path ? '--kubeconfig' : 'KUBECONFIG',
          `not a valid kubeconfig: ${kubeconfigProblem(error)}`,
        );
      }
    } else {
      config.loadFromDefault();
    }
    if (!config.getCurrentCluster())
      throw new InputError('--kubeconfig', 'no current cluster in the kubeconfig');
    return new Kube(config);
  }

  count(verb: string): void {
    this.requestCounts[verb] = (this.requestCounts[verb] ?? 0) + 1;
  }

  /** Server-side apply; with `dryRun`, the server validates and admits the object without persisting it. */
  async apply<T extends KubernetesObject>(
    object: T,
    options: { dryRun?: boolean; fieldManager?: string } = {},
  ): Promise<T> {
    this.count('apply');
    const body = {
      ...object,
      metadata: { ...object.metadata, managedFields: undefined, resourceVersion: undefined },
    };
    return this.objects.patch(
      body as T,
      undefined,
      options.dryRun ? 'All' : undefined,
      options.fieldManager ?? FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
  }

  /** Lists the objects of a kind in a namespace. */
  async list<T extends KubernetesObject>(apiVersion: string, kind: string, namespace: string): Promise<T[]> {
    this.count('list');
    const list = await this.objects.list<T>(apiVersion, kind, namespace);
    return list.items;
  }

  /**
   * Whether objects of a kind live in a namespace, as the server's discovery says (cached by the client, which
   * needs it for every request anyway); undefined for a kind the server does not know.
   */
  async isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined> {
    // `resource()` is what the object client itself uses to build paths; it is protected in the typings only.
    const discovery = this.objects as unknown as {
      resource(apiVersion: string, kind: string): Promise<{ namespaced: boolean } | undefined>;
    };
    return (await discovery.resource(apiVersion, kind))?.namespaced;
  }

  /** Reads an object; undefined when it does not exist. */
  async read<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<T | undefined> {
    this.count('get');
    try {
      return (await this.objects.read({ apiVersion, kind, metadata: { name, namespace } })) as T;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Deletes an object; absent objects are fine. Background propagation: the object goes at once and the
   * garbage collector removes what it owns (a canary's pods, already out of traffic, then terminate within
   * their grace period like any pod).
   */
  async delete(apiVersion: string, kind: string, namespace: string, name: string): Promise<void> {
    this.count('delete');
    try {
      await this.objects.delete(
        { apiVersion, kind, metadata: { name, namespace } },
        undefined,
        undefined,
        undefined,
        undefined,
        'Background',
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /**
   * Starts a watch of a list path: every event goes to `onEvent`, its end (the server closed it, or an error) to
   * `onDone`. The caller resumes it; `waitFor` below is the single-object wait built the same way.
   */
  stream(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (phase: string, object: KubernetesObject) => void,
    onDone: (error: unknown) => void,
  ): Promise<AbortController> {
    this.count('watch');
    return this.watcher.watch(path, query, onEvent, onDone);
  }

  /**
   * Watches one object until `done(object)` returns true (or the object is gone and `done(undefined)` is true).
   * The first evaluation uses a fresh read, then every watch event; resumes the watch if the server closes it.
   */
  async waitFor<T extends KubernetesObject>(
    what: string,
    target: { path: string; apiVersion: string; kind: string; namespace: string; name: string },
    done: (object: T | undefined) => boolean,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<T | undefined> {
    const deadline = Date.now() + options.timeoutMs;
    let current = await this.read<T>(target.apiVersion, target.kind, target.namespace, target.name);
    if (done(current)) return current;
    while (Date.now() < deadline) {
      if (options.signal?.aborted) throw new InfraError(`${what}: interrupted`);
      const result = await new Promise<{ matched: boolean; object?: T; broken?: boolean }>(
        (resolve, reject) => {
          let controller: AbortController | undefined;
          let settled = false;
          const finish = (value: { matched: boolean; object?: T; broken?: boolean }, error?: unknown) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            options.signal?.removeEventListener('abort', onAbort);
            controller?.abort();
            if (error) reject(error);
            else resolve(value);
          };
          const onAbort = () => finish({ matched: false, object: current });
          const timer = setTimeout(
            () => finish({ matched: false, object: current }),
            Math.max(0, deadline - Date.now()),
          );
          options.signal?.addEventListener('abort', onAbort);
          this.count('watch');
          // The watch starts where the fresh read left off: without a resourceVersion the server may answer
          // from its watch cache with an object older than that read (seen under load: a Deployment just
          // updated came back as its previous, fully rolled-out self, and a rollout "passed" in 0.2 s).
          const resourceVersion = current?.metadata?.resourceVersion;
          this.watcher
            .watch(
              target.path,
              {
                fieldSelector: `metadata.name=${target.name}`,
                allowWatchBookmarks: false,
                ...(resourceVersion && { resourceVersion }),
              },
              (phase, object: T) => {
                // An ERROR event (410 Gone: the version is older than the server keeps) ends this watch; the
                // loop re-reads and watches again.
                if (phase === 'ERROR') return finish({ matched: false, object: current, broken: true });
                current = phase === 'DELETED' ? undefined : object;
                if (done(current)) finish({ matched: true, object: current });
              },
              (error) => {
                // The server ends watches now and then (and drops them when it restarts); the loop re-reads
                // and starts a new one.
                finish({ matched: false, object: current, broken: Boolean(error) && !isAbort(error) });
              },
            )
            .then((c) => {
              controller = c;
              if (settled) c.abort();
            })
            .catch((error) => {
              // A watch that cannot start because the API is down is an outage to wait out (the read
              // below retries), not a failure of what is being waited for.
              if (networkCode(error)) finish({ matched: false, object: current, broken: true });
              else finish({ matched: false }, error);
            });
        },
      );
      if (result.matched) return result.object;
      if (result.broken && !options.signal?.aborted)
        await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
      current = await this.read<T>(target.apiVersion, target.kind, target.namespace, target.name);
      if (done(current)) return current;
    }
    throw new InfraError(`timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for ${what}`);
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof ApiException && error.code === 409;
}

function isAbort(error: unknown): boolean {
  return (error as { name?: string })?.name === 'AbortError';
}

/** The server's own message for a failed request ("Deployment.apps "x" is invalid: spec.replicas: …"). */
export function apiMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body = error.body as unknown;
    try {
      const parsed = typeof body === 'string' ? JSON.parse(body) : body;
      if (parsed && typeof parsed === 'object' && 'message' in parsed)
        return String((parsed as { message: string }).message);
    } catch {
      // fall through to the exception's own message
    }
    return `HTTP ${error.code}`;
  }
  return messageOf(error);
}

/** Maps an API failure to Gantry's errors: unreachable cluster → exit 3, everything else keeps its message. */
export function toGantryError(what: string, error: unknown): Error {
  if (error instanceof InfraError || error instanceof InputError) return error;
  if (error instanceof ApiException) return new InfraError(`${what}: ${apiMessage(error)}`, { cause: error });
  const code =
    (error as { code?: string; cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
  return new InfraError(`${what}: Kubernetes API unreachable (${code ?? messageOf(error)})`, {
    cause: error,
  });
}

/**
 * Why a kubeconfig did not load, without quoting it: a YAML error's message carries a snippet of the lines
 * around the mistake, and those lines are often a client key or a token. Only the reason and the position
 * are kept.
 */
export function kubeconfigProblem(error: unknown): string {
  const yamlError = error as { reason?: unknown; mark?: { line?: number; column?: number } };
  if (typeof yamlError?.reason === 'string') {
    const at =
      typeof yamlError.mark?.line === 'number'
        ? ` (line ${yamlError.mark.line + 1}, column ${(yamlError.mark.column ?? 0) + 1})`
        : '';
    return `invalid YAML: ${yamlError.reason}${at}`;
  }
  const message = messageOf(error);
  // Anything else is from the client's own checks; cut it before any quoted excerpt all the same.
  return message.split(/\s\d+ \|/)[0]!.trim();
}
