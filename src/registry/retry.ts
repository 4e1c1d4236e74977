import { InfraError, messageOf } from '../util/errors.js';
import { log } from '../util/log.js';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** First delay; doubles each retry, with up to 25% jitter. */
  delayMs: number;
}

/**
 * Whether a registry failure is worth retrying: server errors, rate limiting, and connections that broke.
 * Authentication failures, missing images and bad references are not — retrying them only delays the error.
 */
export function isRetryableRegistryError(message: string): boolean {
  if (
    /\b(401|403|404)\b|unauthorized|denied|manifest unknown|name unknown|invalid reference/i.test(message)
  ) {
    return false;
  }
  return /\b(5\d\d|429)\b|too many requests|toomanyrequests|service unavailable|bad gateway|gateway timeout|internal server error|connection reset|connection refused|broken pipe|unexpected EOF|\bEOF\b|i\/o timeout|timed out|TLS handshake timeout/i.test(
    message,
  );
}

/** The delay before retry number `attempt` (1-based). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random = Math.random): number {
  const base = policy.delayMs * 2 ** (attempt - 1);
  return Math.round(base + base * 0.25 * random());
}

/** Runs `operation`, retrying retryable registry failures with exponential backoff; `what` names it in logs. */
export async function withRetries<T>(
  what: string,
  policy: RetryPolicy,
  operation: () => Promise<T>,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isRetryableRegistryError(messageOf(error))) throw error;
      if (attempt >= policy.retries) {
        // Say that this was not a one-off: the registry failed every attempt.
        if (attempt === 0) throw error;
        throw new InfraError(`${messageOf(error)} (gave up after ${attempt + 1} attempts)`, { cause: error });
      }
      const delay = backoffDelay(attempt + 1, policy);
      log.warn(`${what} failed (${messageOf(error)}); retry ${attempt + 1}/${policy.retries} in ${delay} ms`);
      await sleep(delay);
    }
  }
}
