import { InfraError } from '../util/errors.js';
import { isInsecure } from './hosts.js';

/**
 * Fails fast, before anything is written, when a registry does not answer at all. Any HTTP answer on /v2/
 * (200, or 401 asking for credentials) counts as reachable; a refused, reset or timed-out connection does not.
 */
export async function assertReachable(
  host: string,
  insecureRegistries: readonly string[],
  timeoutMs = 10_000,
): Promise<void> {
  const apiHost = host === 'docker.io' ? 'registry-1.docker.io' : host;
  const scheme = isInsecure(host, insecureRegistries) ? 'http' : 'https';
  try {
    await fetch(`${scheme}://${apiHost}/v2/`, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new InfraError(`registry ${host} is unreachable (${why}); nothing was pushed`);
  }
}
