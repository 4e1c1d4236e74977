import { HttpMethod, RequestContext, ResponseContext } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  isRetryableFailure,
  isRetryableStatus,
  kubeRetryDelay,
  networkCode,
  RetryingHttpLibrary,
} from '../../../src/deploy/kube-retry.js';

/** What undici's fetch throws when nothing listens: TypeError('fetch failed') with the system error as cause. */
function fetchFailed(code: string): Error {
  return Object.assign(new TypeError('fetch failed'), {
    cause: Object.assign(new Error(`connect ${code} 127.0.0.1:6443`), { code }),
  });
}

function response(status: number): ResponseContext {
  return new ResponseContext(status, {}, {
    text: async () => '{}',
    binary: async () => Buffer.from('{}'),
  } as unknown as ConstructorParameters<typeof ResponseContext>[2]);
}

/** A transport answering from a script: an Error is thrown, a number is a status. */
function scripted(answers: (Error | number)[]) {
  const sent: string[] = [];
  return {
    sent,
    send(request: RequestContext) {
      sent.push(String(request.getHttpMethod()));
      const answer = answers.shift() ?? 200;
      return {
        toPromise: async () => {
          if (answer instanceof Error) throw answer;
          return response(answer);
        },
      };
    },
  };
}

const policy = { budgetMs: 60_000, delayMs: 250, maxDelayMs: 2_000 };
const request = (method: HttpMethod) =>
  new RequestContext('https://127.0.0.1:6443/api/v1/namespaces/x', method);

describe('which Kubernetes API failures are retried', () => {
  it('finds the network code under fetch’s wrapping', () => {
    expect(networkCode(fetchFailed('ECONNREFUSED'))).toBe('ECONNREFUSED');
    expect(networkCode(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }))).toBe(
      'UND_ERR_SOCKET',
    );
    expect(networkCode(new Error('HTTP 500'))).toBeUndefined();
    expect(networkCode(fetchFailed('ENOENT'))).toBeUndefined();
  });

  it('resends any request whose connection was refused, but a POST that broke mid-way never', () => {
    expect(isRetryableFailure(fetchFailed('ECONNREFUSED'), 'POST')).toBe(true);
    expect(isRetryableFailure(fetchFailed('ECONNRESET'), 'PATCH')).toBe(true);
    expect(isRetryableFailure(fetchFailed('ECONNRESET'), 'POST')).toBe(false);
    expect(isRetryableFailure(new Error('boom'), 'GET')).toBe(false);
  });

  it('retries 429 and 503 answers only', () => {
    expect([429, 503].every(isRetryableStatus)).toBe(true);
    expect([200, 400, 404, 409, 422, 500, 504].some(isRetryableStatus)).toBe(false);
  });

  it('backs off exponentially up to a cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => kubeRetryDelay(n, policy))).toEqual([
      250, 500, 1000, 2000, 2000, 2000,
    ]);
  });
});

describe('RetryingHttpLibrary', () => {
  it('fails at once while the API has never answered (a wrong kubeconfig is not an outage)', async () => {
    const inner = scripted([fetchFailed('ECONNREFUSED')]);
    const slept: number[] = [];
    const transport = new RetryingHttpLibrary(policy, async (ms) => void slept.push(ms), inner);
    await expect(transport.send(request(HttpMethod.GET))).rejects.toThrow('fetch failed');
    expect(inner.sent).toHaveLength(1);
    expect(slept).toEqual([]);
  });

  it('rides out an outage once the API has answered, and counts it', async () => {
    const inner = scripted([200, fetchFailed('ECONNREFUSED'), fetchFailed('ECONNREFUSED'), 503, 200]);
    const slept: number[] = [];
    const transport = new RetryingHttpLibrary(policy, async (ms) => void slept.push(ms), inner);
    expect((await transport.send(request(HttpMethod.GET))).httpStatusCode).toBe(200);
    expect((await transport.send(request(HttpMethod.PATCH))).httpStatusCode).toBe(200);
    expect(inner.sent).toEqual(['GET', 'PATCH', 'PATCH', 'PATCH', 'PATCH']);
    expect(slept).toEqual([250, 500, 1000]);
    expect(transport.retries).toBe(3);
    expect(transport.outages).toBe(1);
  });

  it('does not resend a POST whose connection broke (it may have been acted on)', async () => {
    const inner = scripted([200, fetchFailed('ECONNRESET')]);
    const transport = new RetryingHttpLibrary(policy, async () => {}, inner);
    await transport.send(request(HttpMethod.GET));
    await expect(transport.send(request(HttpMethod.POST))).rejects.toThrow('fetch failed');
    expect(inner.sent).toEqual(['GET', 'POST']);
  });

  it('passes other answers through untouched (a 409 or a 500 is the caller’s to handle)', async () => {
    const inner = scripted([409, 500]);
    const transport = new RetryingHttpLibrary(policy, async () => {}, inner);
    expect((await transport.send(request(HttpMethod.PUT))).httpStatusCode).toBe(409);
    expect((await transport.send(request(HttpMethod.GET))).httpStatusCode).toBe(500);
    expect(inner.sent).toHaveLength(2);
  });

  it('gives up when the budget is spent and throws the last failure', async () => {
    const answers: (Error | number)[] = [
      200,
      ...Array.from({ length: 50 }, () => fetchFailed('ECONNREFUSED')),
    ];
    const inner = scripted(answers);
    let now = Date.now();
    const realNow = Date.now;
    Date.now = () => now;
    try {
      const transport = new RetryingHttpLibrary(
        { ...policy, budgetMs: 5_000 },
        async (ms) => {
          now += ms;
        },
        inner,
      );
      await transport.send(request(HttpMethod.GET));
      await expect(transport.send(request(HttpMethod.GET))).rejects.toThrow('fetch failed');
      // 250 + 500 + 1000 + 2000 + 2000 ms of waits, then the budget is gone.
      expect(inner.sent.length).toBe(1 + 6);
      expect(transport.outages).toBe(0);
    } finally {
      Date.now = realNow;
    }
  });
});
