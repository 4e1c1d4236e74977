import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryableRegistryError, withRetries } from '../../../src/registry/retry.js';
import { InfraError } from '../../../src/util/errors.js';

describe('isRetryableRegistryError', () => {
  it.each([
    ['received unexpected HTTP status: 500 Internal Server Error', true],
    ['received unexpected HTTP status: 503 Service Unavailable', true],
    ['toomanyrequests: rate limit exceeded (429)', true],
    ['read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer', true],
    ['Patch "http://x/v2/a/blobs/uploads/1": EOF', true],
    ['dial tcp: i/o timeout', true],
    ['unauthorized: authentication required', false],
    ['denied: requested access to the resource is denied', false],
    ['manifest unknown: manifest unknown', false],
    ['invalid reference format', false],
    ['401 Unauthorized', false],
  ])('%s → %s', (message, expected) => {
    expect(isRetryableRegistryError(message)).toBe(expected);
  });
});

describe('backoffDelay', () => {
  it('doubles from the first delay, with at most 25% jitter', () => {
    const policy = { retries: 5, delayMs: 100 };
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, policy, () => 0))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(3, policy, () => 1)).toBe(500);
  });
});

describe('withRetries', () => {
  const noSleep = async () => {};

  it('retries retryable failures and returns the first success', async () => {
    let calls = 0;
    const result = await withRetries(
      'op',
      { retries: 3, delayMs: 1 },
      async () => {
        calls++;
        if (calls < 3) throw new InfraError('HTTP status: 502 Bad Gateway');
        return 'ok';
      },
      noSleep,
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('gives up after the configured retries with the last error', async () => {
    let calls = 0;
    await expect(
      withRetries(
        'op',
        { retries: 2, delayMs: 1 },
        async () => {
          calls++;
          throw new InfraError(`429 Too Many Requests #${calls}`);
        },
        noSleep,
      ),
    ).rejects.toThrow('429 Too Many Requests #3 (gave up after 3 attempts)');
    expect(calls).toBe(3);
  });

  it('gives up with an infrastructure error that says how many attempts failed', async () => {
    const error = await withRetries(
      'op',
      { retries: 1, delayMs: 1 },
      async () => {
        throw new Error('received unexpected HTTP status: 500 Internal Server Error');
      },
      noSleep,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfraError);
    expect((error as InfraError).exitCode).toBe(3);
    expect((error as Error).message).toBe(
      'received unexpected HTTP status: 500 Internal Server Error (gave up after 2 attempts)',
    );
  });

  it('without retries, the error is passed through unchanged', async () => {
    const original = new InfraError('HTTP status: 503 Service Unavailable');
    const error = await withRetries('op', { retries: 0, delayMs: 1 }, async () => {
      throw original;
    }).catch((e: unknown) => e);
    expect(error).toBe(original);
  });

  it('does not retry what a retry cannot fix', async () => {
    let calls = 0;
    await expect(
      withRetries(
        'op',
        { retries: 5, delayMs: 1 },
        async () => {
          calls++;
          throw new InfraError('unauthorized: authentication required');
        },
        noSleep,
      ),
    ).rejects.toThrow('unauthorized');
    expect(calls).toBe(1);
  });
});
