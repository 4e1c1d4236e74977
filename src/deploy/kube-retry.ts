import {
  createConfiguration,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  type KubeConfig,
  type PromiseHttpLibrary,
  type RequestContext,
  type ResponseContext,
  ServerConfiguration,
  wrapHttpLibrary,
} from '@kubernetes/client-node';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';

/**
 * Riding out a Kubernetes API outage (an API server restarted, a control-plane upgrade, a load balancer
 * failing over) instead of failing a rollout half-way — or worse, failing its rollback (exit 4).
 *
 * Only once the API has answered at least once: a cluster that never answers (wrong kubeconfig, no network)
 * still fails at once. After that, requests that failed without being processed are resent with backoff for
 * up to `budgetMs`: connections refused or not established (any method), 429 and 503 answers (any method:
 * the server did not act on them), and connections that broke mid-request for every method but POST (the
 * others are idempotent here: reads, server-side apply, merge patches, deletes, and replaces guarded by a
 * resourceVersion, which a replay turns into a 409 the callers already handle).
 */
export interface KubeRetryPolicy {
  /** How long one request may keep being retried. */
  budgetMs: number;
  /** First delay; doubles up to `maxDelayMs`. */
  delayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_KUBE_RETRY: KubeRetryPolicy = { budgetMs: 60_000, delayMs: 250, maxDelayMs: 2_000 };

/** Errors where the connection was never established: the request cannot have reached the server. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/** Errors where the connection broke: the server may or may not have acted. */
const BROKEN = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** The network error code of a failed request (fetch wraps it in `cause`, sometimes twice). */
export function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (NOT_CONNECTED.has(code) || BROKEN.has(code))) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether a request that failed with `error` (no HTTP answer) may be sent again. */
export function isRetryableFailure(error: unknown, method: string): boolean {
  const code = networkCode(error);
  if (!code) return false;
  return NOT_CONNECTED.has(code) || method.toUpperCase() !== 'POST';
}

/** Whether an HTTP answer says the server did not act and the request may be sent again. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 503;
}

/** Delay before retry number `attempt` (1-based): exponential, capped. */
export function kubeRetryDelay(attempt: number, policy: KubeRetryPolicy = DEFAULT_KUBE_RETRY): number {
  return Math.min(policy.maxDelayMs, policy.delayMs * 2 ** (attempt - 1));
}

/** The HTTP transport of the API clients, with the retries described above. */
export class RetryingHttpLibrary implements PromiseHttpLibrary {
  /** Set by the first answer: from then on the API is known to exist, and an outage is worth waiting out. */
  reachedOnce = false;
  /** Requests resent so far, for the logs and the benchmarks. */
  retries = 0;
  /** Outages ridden out so far (the API stopped answering, then answered again), and their total length. */
  outages = 0;
  outageMs = 0;
  private outageSince: number | undefined;

  constructor(
    private readonly policy: KubeRetryPolicy = DEFAULT_KUBE_RETRY,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    /** The transport that really sends (the client library's fetch; a fake in unit tests). */
    private readonly inner: {
      send(request: RequestContext): { toPromise(): Promise<ResponseContext> };
    } = new IsomorphicFetchHttpLibrary(),
  ) {}

  async send(request: RequestContext): Promise<ResponseContext> {
    const method = String(request.getHttpMethod() ?? HttpMethod.GET);
    const deadline = Date.now() + this.policy.budgetMs;
    for (let attempt = 1; ; attempt++) {
      let response: ResponseContext;
      try {
        response = await this.inner.send(request).toPromise();
      } catch (error) {
        if (!this.reachedOnce || !isRetryableFailure(error, method) || Date.now() >= deadline) throw error;
        this.noteOutage(`${networkCode(error)}`, method, request);
        await this.sleep(kubeRetryDelay(attempt, this.policy));
        this.retries++;
        continue;
      }
      this.reachedOnce = true;
      if (isRetryableStatus(response.httpStatusCode) && Date.now() < deadline) {
        await response.body.text().catch(() => '');
        this.noteOutage(`HTTP ${response.httpStatusCode}`, method, request);
        await this.sleep(kubeRetryDelay(attempt, this.policy));
        this.retries++;
        continue;
      }
      if (this.outageSince !== undefined) {
        const ms = Date.now() - this.outageSince;
        this.outages++;
        this.outageMs += ms;
        this.outageSince = undefined;
        log.info(`Kubernetes API answering again after ${(ms / 1000).toFixed(1)}s`);
      }
      return response;
    }
  }

  private noteOutage(why: string, method: string, request: RequestContext): void {
    if (this.outageSince !== undefined) return;
    this.outageSince = Date.now();
    let path = '';
    try {
      path = new URL(request.getUrl()).pathname;
    } catch (error) {
      path = messageOf(error);
    }
    log.warn(
      `Kubernetes API not answering (${why} on ${method} ${path}); retrying for up to ${Math.round(this.policy.budgetMs / 1000)}s`,
    );
  }
}

/** An API client of `type` for the kubeconfig's current cluster, over `transport`. */
export function makeApiClient<T>(
  config: KubeConfig,
  type: new (configuration: ReturnType<typeof createConfiguration>) => T,
  transport: PromiseHttpLibrary,
): T {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: config },
    httpApi: wrapHttpLibrary(transport),
  });
  return new type(configuration);
}
