import { InfraError, messageOf } from '../../util/errors.js';
import { registerSecret } from '../../util/secrets.js';

/**
 * One request to a metrics service's JSON API, bounded by `timeoutMs` and `signal`; a transport failure becomes
 * an InfraError naming the service and its address (never a credential: they travel in headers).
 */
export async function requestJson(
  service: string,
  address: string,
  url: URL,
  init: {
    method?: 'GET' | 'POST';
    headers: Record<string, string>;
    body?: string;
    timeoutMs: number;
    signal?: AbortSignal;
    /** Another fetch (one that trusts a private CA: prometheus.ts's fetcherFor). */
    fetch?: typeof fetch;
  },
): Promise<{ status: number; statusText: string; body: unknown; text: string }> {
  const timeout = AbortSignal.timeout(init.timeoutMs);
  let response: Response;
  try {
    response = await (init.fetch ?? fetch)(url, {
      method: init.method ?? 'GET',
      headers: { accept: 'application/json', ...init.headers },
      body: init.body,
      signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout,
    });
  } catch (error) {
    if (init.signal?.aborted) throw new InfraError(`${service} query cancelled`, { cause: error });
    if (timeout.aborted)
      throw new InfraError(`${service} at ${address} did not answer within ${init.timeoutMs / 1000}s`);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new InfraError(
      `${service} at ${address} is unreachable (${cause?.code ?? cause?.message ?? messageOf(error)})`,
      {
        cause: error,
      },
    );
  }
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, statusText: response.statusText, body, text };
}

/** The address as shown in messages: origin and path, no query or credentials. */
export function displayAddress(url: URL): string {
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * The Authorization header for a bearer token (preferred) or basic credentials, or undefined for neither; the
 * values are registered as secrets.
 */
export function authorizationFor(options: {
  username?: string;
  password?: string;
  bearerToken?: string;
}): string | undefined {
  if (options.bearerToken) {
    registerSecret(options.bearerToken);
    return `Bearer ${options.bearerToken}`;
  }
  if (!options.username && !options.password) return undefined;
  registerSecret(options.password);
  const basic = Buffer.from(`${options.username ?? ''}:${options.password ?? ''}`).toString('base64');
  registerSecret(basic);
  return `Basic ${basic}`;
}

/**
 * fetch as it is, or, with a CA bundle, undici's fetch over an Agent that trusts it (Node's own fetch cannot be
 * given CAs per request); undici is loaded only then.
 */
export function fetcherFor(ca: string | undefined): Promise<typeof fetch> {
  if (ca === undefined) return Promise.resolve(fetch);
  return import('undici').then((loaded) => {
    // Bundled, the CommonJS module arrives as its default export only.
    const undici = (loaded as unknown as { default?: typeof loaded }).default ?? loaded;
    const { Agent, fetch: undiciFetch } = undici;
    const dispatcher = new Agent({ connect: { ca } });
    return ((input: URL, init: RequestInit) =>
      undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof fetch;
  });
}

/**
 * An HTTP metrics endpoint as a provider reaches it: the base address without credentials (credentials in it,
 * `http://user:pass@host`, become basic authentication: fetch refuses them), the headers with the
 * authorization, and a fetch that trusts its CA bundle, made once on first use.
 */
export class Endpoint {
  readonly base: URL;
  /** The address as messages show it. */
  readonly address: string;
  readonly headers: Record<string, string>;
  readonly #ca: string | undefined;
  #fetch: Promise<typeof fetch> | undefined;

  constructor(
    options: {
      url: string;
      username?: string;
      password?: string;
      bearerToken?: string;
      headers?: Record<string, string>;
      ca?: string;
    },
    keep: { search: boolean },
  ) {
    const url = new URL(options.url);
    if (!keep.search) url.search = '';
    url.hash = '';
    const inAddress = {
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
    };
    url.username = '';
    url.password = '';
    this.base = url;
    this.address = displayAddress(url);
    this.headers = { ...options.headers };
    const authorization = authorizationFor({
      username: options.username ?? inAddress.username,
      password: options.password ?? inAddress.password,
      bearerToken: options.bearerToken,
    });
    if (authorization) this.headers.authorization = authorization;
    this.#ca = options.ca;
  }

  /** GETs `url` (JSON), bounded by `timeoutMs` and `signal`; see {@link requestJson}. */
  async get(service: string, url: URL, timeoutMs: number, signal?: AbortSignal) {
    this.#fetch ??= fetcherFor(this.#ca);
    return requestJson(service, this.address, url, {
      headers: this.headers,
      timeoutMs,
      signal,
      fetch: await this.#fetch,
    });
  }
}
