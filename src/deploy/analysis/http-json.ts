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
