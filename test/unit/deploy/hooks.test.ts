import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Analyzer } from '../../../src/deploy/analysis/setup.js';
import { combineAnalyzers, hookAnalyzer } from '../../../src/deploy/hooks/analyzer.js';
import { backoffMs, callHook, SIGNATURE_HEADER, signBody } from '../../../src/deploy/hooks/call.js';
import { type Hook, Hooks, loadHooksFile, parseHooks } from '../../../src/deploy/hooks/index.js';
import type { Check, RolloutReport } from '../../../src/deploy/types.js';
import { InputError } from '../../../src/util/errors.js';
import { closedPortUrl, startReceiver, type WebhookReceiver } from '../../helpers/webhook-receiver.js';

const report: RolloutReport = {
  verdict: 'failed',
  name: 'web',
  namespace: 'shop',
  strategy: 'canary',
  router: 'replicas',
  runId: '42-abcd',
  revision: null,
  previousImage: 'registry.local/web@sha256:aaa',
  image: 'registry.local/web@sha256:bbb',
  reason: '',
  steps: [],
  checks: [],
  timings: {
    startedAt: '2026-01-01T00:00:00.000Z',
    canaryTrafficStartedAt: null,
    abortDecidedAt: null,
    trafficRestoredAt: null,
    canaryRemovedAt: null,
    promotedAt: null,
  },
};

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

const one = (hook: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Hook =>
  parseHooks({ hooks: [{ name: 'smoke', type: 'pre-rollout', ...hook }] }, env)[0]!;

describe('the hooks file', () => {
  it('reads a hook with its defaults: 10s timeout and interval, 2 retries, failure limit 0', () => {
    const hook = one({ url: 'http://127.0.0.1:9/smoke' });
    expect(hook).toMatchObject({
      name: 'smoke',
      type: 'pre-rollout',
      target: 'http://127.0.0.1:9/smoke',
      timeout: 10_000,
      interval: 10_000,
      retries: 2,
      failureLimit: 0,
    });
    expect(hook.key).toBeUndefined();
  });

  it('reads the URL and the signing key from the environment, as secrets', () => {
    const hook = one(
      { urlEnv: 'HOOK_URL', secretEnv: 'HOOK_KEY', timeout: '2s', interval: '500ms' },
      { HOOK_URL: 'https://hooks.example/t0ken-abc', HOOK_KEY: 's3cret-key' },
    );
    expect(hook.target).toBe('https://hooks.example/t0ken-abc');
    expect(hook.key).toBe('s3cret-key');
    expect(hook.timeout).toBe(2000);
    expect(hook.interval).toBe(500);
  });

  const bad: [string, unknown, RegExp][] = [
    [
      'no target',
      { hooks: [{ name: 'a', type: 'rollout' }] },
      /^--hooks: hooks\[0\]: needs exactly one of url/,
    ],
    [
      'two targets',
      { hooks: [{ name: 'a', type: 'rollout', url: 'http://x/', command: ['true'] }] },
      /needs exactly one of url, urlEnv or command/,
    ],
    ['an unknown type', { hooks: [{ name: 'a', type: 'canary', url: 'http://x/' }] }, /hooks\[0\]\.type: /],
    [
      'an unknown field',
      { hooks: [{ name: 'a', type: 'rollout', url: 'http://x/', when: 1 }] },
      /unknown field "when"/,
    ],
    [
      'a non-http URL',
      { hooks: [{ name: 'a', type: 'rollout', url: 'ftp://x/' }] },
      /hooks\[0\]\.url: expected an http\(s\) URL/,
    ],
    [
      'a bad duration',
      { hooks: [{ name: 'a', type: 'rollout', url: 'http://x/', timeout: 'soon' }] },
      /timeout: expected a duration/,
    ],
    [
      'a name twice',
      {
        hooks: [
          { name: 'a', type: 'rollout', url: 'http://x/' },
          { name: 'a', type: 'pre-rollout', url: 'http://x/' },
        ],
      },
      /hooks\[1\]\.name: "a" is named twice/,
    ],
    [
      'an interval too short',
      { hooks: [{ name: 'a', type: 'rollout', url: 'http://x/', interval: '10ms' }] },
      /hooks\[0\]\.interval: at least 100ms/,
    ],
    ['no hooks', { hooks: [] }, /^--hooks: hooks: /],
    [
      'a signing key for a command',
      { hooks: [{ name: 'a', type: 'rollout', command: ['true'], secretEnv: 'K' }] },
      /hooks\[0\]\.secretEnv: signs HTTP requests/,
    ],
    [
      'an unset URL variable',
      { hooks: [{ name: 'a', type: 'rollout', urlEnv: 'NOPE_URL' }] },
      /hooks\[0\]\.urlEnv: NOPE_URL is not set/,
    ],
    [
      'an unset key variable',
      { hooks: [{ name: 'a', type: 'rollout', url: 'http://x/', secretEnv: 'NOPE_KEY' }] },
      /hooks\[0\]\.secretEnv: NOPE_KEY is not set/,
    ],
  ];
  it.each(bad)('refuses %s, naming --hooks and the field', (_, data, message) => {
    const error = errorOf(() => parseHooks(data, {}));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('refuses a URL variable that does not hold a URL, without showing its value', () => {
    const error = errorOf(() =>
      parseHooks({ hooks: [{ name: 'a', type: 'rollout', urlEnv: 'U' }] }, { U: 'not-a-url-t0ken' }),
    );
    expect(error.message).toMatch(/U does not hold an http\(s\) URL/);
    expect(error.message).not.toContain('t0ken');
  });

  it('names the file when it cannot be read or is not YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-hooks-'));
    expect(errorOf(() => loadHooksFile(join(dir, 'none.yaml'))).message).toMatch(
      /^--hooks: cannot read ".*none.yaml": no such file$/,
    );
    writeFileSync(join(dir, 'bad.yaml'), 'hooks: [\n');
    expect(errorOf(() => loadHooksFile(join(dir, 'bad.yaml'))).message).toMatch(
      /^--hooks: ".*bad.yaml" is not valid YAML: /,
    );
  });
});

describe('calling an HTTP hook', () => {
  let receiver: WebhookReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('POSTs the payload as JSON, signed with HMAC-SHA256 over the exact body', async () => {
    receiver = await startReceiver({ status: 200 });
    const hook = one({ url: receiver.url('/smoke'), secretEnv: 'KEY' }, { KEY: 'hmac-key-1' });
    const answer = await callHook(hook, { service: 'web', step: 1 });
    expect(answer).toMatchObject({
      ok: true,
      unreachable: false,
      code: 200,
      attempts: 1,
      message: 'HTTP 200: ok',
    });
    const [request] = receiver.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/smoke');
    expect(request!.contentType).toBe('application/json');
    expect(request!.headers['x-gantry-hook']).toBe('pre-rollout');
    expect(request!.body).toEqual({ service: 'web', step: 1 });
    const expected = `sha256=${createHmac('sha256', 'hmac-key-1').update(request!.raw).digest('hex')}`;
    expect(request!.headers[SIGNATURE_HEADER]).toBe(expected);
    expect(signBody('hmac-key-1', request!.raw)).toBe(expected);
    // A body changed on the way no longer matches.
    expect(signBody('hmac-key-1', `${request!.raw} `)).not.toBe(expected);
  });

  it('sends no signature without a key', async () => {
    receiver = await startReceiver({ status: 204 });
    const answer = await callHook(one({ url: receiver.url('/') }), {});
    expect(answer.ok).toBe(true);
    expect(receiver.requests[0]!.headers[SIGNATURE_HEADER]).toBeUndefined();
  });

  it('takes an answer other than 2xx as "no", once: an answer is never retried', async () => {
    receiver = await startReceiver({
      respond: () => ({ status: 409, body: 'not yet: 3 of 5 checks green\nmore' }),
    });
    const answer = await callHook(one({ url: receiver.url('/'), retries: 3 }), {});
    expect(answer).toMatchObject({
      ok: false,
      unreachable: false,
      code: 409,
      attempts: 1,
      message: 'HTTP 409: not yet: 3 of 5 checks green',
    });
    expect(receiver.requests).toHaveLength(1);
  });

  it('retries a hook that does not answer, with backoff, and says so', async () => {
    const hook = one({ url: await closedPortUrl('/smoke'), retries: 2 });
    const answer = await callHook(hook, {}, { baseBackoffMs: 5 });
    expect(answer.ok).toBe(false);
    expect(answer.unreachable).toBe(true);
    expect(answer.attempts).toBe(3);
    expect(answer.message).toMatch(/^unreachable: .*ECONNREFUSED.* \(3 attempts\)$/);
  });

  it('gets an answer on a retry when the receiver comes back', async () => {
    // The first connection is reset before any answer; the second is answered.
    let connections = 0;
    const server = createServer((request, response) => {
      connections++;
      if (connections === 1) {
        request.socket.destroy();
        return;
      }
      response.writeHead(200).end('fine');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const answer = await callHook(one({ url, retries: 2 }), {}, { baseBackoffMs: 5 });
      expect(answer).toMatchObject({ ok: true, attempts: 2, message: 'HTTP 200: fine' });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('gives up on an attempt after its timeout', async () => {
    const server = createServer(() => {}); // never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const answer = await callHook(one({ url, retries: 0, timeout: '200ms' }), {});
      expect(answer).toMatchObject({ ok: false, unreachable: true, attempts: 1 });
      expect(answer.message).toBe('unreachable: no answer within 200ms');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('backs off 0.5 s, 1 s, 2 s … at most 8 s', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n))).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
  });
});

describe('calling a command hook', () => {
  const node = process.execPath;

  it('hands it the payload on stdin and its name and type in the environment; exit 0 is yes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-hook-cmd-'));
    const out = join(dir, 'seen.json');
    const script = `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{require('fs').writeFileSync(${JSON.stringify(out)},JSON.stringify({stdin:JSON.parse(s),name:process.env.GANTRY_HOOK_NAME,type:process.env.GANTRY_HOOK_TYPE,service:process.env.GANTRY_SERVICE}));console.log('smoke ok')})`;
    const answer = await callHook(one({ command: [node, '-e', script] }), {
      service: 'web',
      namespace: 'shop',
    });
    expect(answer).toMatchObject({ ok: true, code: 0, message: 'exit 0: smoke ok' });
    const { readFileSync } = await import('node:fs');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({
      stdin: { service: 'web', namespace: 'shop' },
      name: 'smoke',
      type: 'pre-rollout',
      service: 'web',
    });
  });

  it('takes a non-zero exit as "no", with its last line of output', async () => {
    const answer = await callHook(
      one({ command: [node, '-e', "console.error('GET /health: 503');process.exit(3)"] }),
      {},
    );
    expect(answer).toMatchObject({
      ok: false,
      unreachable: false,
      code: 3,
      attempts: 1,
      message: 'exit 3: GET /health: 503',
    });
  });

  it('says so when the command is not installed', async () => {
    const answer = await callHook(one({ command: ['gantry-no-such-hook-command'] }), {});
    expect(answer.ok).toBe(false);
    expect(answer.message).toMatch(/gantry-no-such-hook-command is not installed or not on PATH/);
  });
});

describe('the payload', () => {
  it('names the rollout, where it is and how it ended, with the hook and its metadata', () => {
    const hooks = new Hooks(
      [one({ url: 'http://127.0.0.1:9/', type: 'post-rollout', metadata: { team: 'shop' } })],
      () => ({ ...report, revision: '7' }),
      3,
    );
    const payload = hooks.payload(hooks.hooks[0]!, {
      phase: 'done',
      step: 2,
      weight: 100,
      verdict: 'promoted',
      reason: 'all 3 steps passed',
    });
    expect(payload).toMatchObject({
      hook: { name: 'smoke', type: 'post-rollout' },
      service: 'web',
      namespace: 'shop',
      runId: '42-abcd',
      strategy: 'canary',
      image: 'registry.local/web@sha256:bbb',
      previousImage: 'registry.local/web@sha256:aaa',
      revision: '7',
      phase: 'done',
      step: 2,
      steps: 3,
      weight: 100,
      verdict: 'promoted',
      reason: 'all 3 steps passed',
      metadata: { team: 'shop' },
    });
    expect(Date.parse(payload.sentAt)).not.toBeNaN();
  });
});

describe('rollout and rollback hooks during a step', () => {
  let receiver: WebhookReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  const step = (analyzer: Analyzer, durationMs: number, signal = new AbortController().signal) => {
    const checks: Check[] = [];
    const result = analyzer({
      step: 1,
      durationMs,
      track: 'canary',
      signal,
      run: 'r1',
      onCheck: (check) => checks.push(check),
    });
    return { result, checks };
  };

  const hooksOf = (list: Record<string, unknown>[]) =>
    new Hooks(parseHooks({ hooks: list }, {}), () => report, 3, { baseBackoffMs: 5 });

  it('records each answer of a rollout hook as a check, and passes the step when all said yes', async () => {
    receiver = await startReceiver({ status: 200 });
    const hooks = hooksOf([{ name: 'load', type: 'rollout', url: receiver.url('/load'), interval: '100ms' }]);
    const { result, checks } = step(
      hookAnalyzer(hooks, (s) => ({ phase: 'progressing', step: s, weight: 25 }))!,
      300,
    );
    expect(await result).toEqual({ outcome: 'passed' });
    expect(checks.length).toBeGreaterThanOrEqual(1);
    expect(checks.every((c) => c.metric === 'hook load' && c.result === 'pass' && c.step === 1)).toBe(true);
    expect(receiver.requests.length).toBe(checks.length);
    expect(receiver.requests[0]!.body).toMatchObject({ phase: 'progressing', step: 1, weight: 25 });
  });

  it('asks at least once in a step shorter than the interval', async () => {
    receiver = await startReceiver({ status: 200 });
    const hooks = hooksOf([{ name: 'load', type: 'rollout', url: receiver.url('/'), interval: '10s' }]);
    const { result, checks } = step(
      hookAnalyzer(hooks, (s) => ({ phase: 'progressing', step: s, weight: 25 }))!,
      200,
    );
    expect((await result).outcome).toBe('passed');
    expect(checks).toHaveLength(1);
  });

  it('rolls back at a rollout hook failure beyond its limit, naming the hook and its answer', async () => {
    receiver = await startReceiver({ respond: () => ({ status: 500, body: 'p99 latency 2.3s' }) });
    const hooks = hooksOf([{ name: 'load', type: 'rollout', url: receiver.url('/'), interval: '100ms' }]);
    const { result, checks } = step(
      hookAnalyzer(hooks, (s) => ({ phase: 'progressing', step: s, weight: 25 }))!,
      60_000,
    );
    const outcome = await result;
    expect(outcome.outcome).toBe('aborted');
    expect(outcome.reason).toBe('rollout hook load failed: HTTP 500: p99 latency 2.3s');
    expect(outcome.cancelled).toBeUndefined();
    expect(checks.map((c) => c.result)).toEqual(['fail']);
  });

  it('tolerates failures up to the failure limit', async () => {
    receiver = await startReceiver({ statuses: [500], status: 200 });
    const hooks = hooksOf([
      { name: 'load', type: 'rollout', url: receiver.url('/'), interval: '100ms', failureLimit: 1 },
    ]);
    const { result, checks } = step(
      hookAnalyzer(hooks, (s) => ({ phase: 'progressing', step: s, weight: 25 }))!,
      400,
    );
    expect((await result).outcome).toBe('passed');
    expect(checks[0]!.result).toBe('fail');
    expect(checks.slice(1).every((c) => c.result === 'pass')).toBe(true);
  });

  it('rolls back when a rollback hook says yes, and only then records it', async () => {
    receiver = await startReceiver({ statuses: [404, 404], status: 200 });
    const hooks = hooksOf([{ name: 'pager', type: 'rollback', url: receiver.url('/'), interval: '100ms' }]);
    const { result, checks } = step(
      hookAnalyzer(hooks, (s) => ({ phase: 'progressing', step: s, weight: 25 }))!,
      60_000,
    );
    const outcome = await result;
    expect(outcome.outcome).toBe('aborted');
    expect(outcome.reason).toBe('rollback requested by hook pager (HTTP 200: ok)');
    expect(receiver.requests).toHaveLength(3);
    expect(checks).toEqual([]);
    expect(hooks.results.map((r) => [r.hook, r.type, r.result])).toEqual([['pager', 'rollback', 'pass']]);
  });

  it('stops asking when the step is cancelled', async () => {
    receiver = await startReceiver({ status: 200 });
    const hooks = hooksOf([{ name: 'load', type: 'rollout', url: receiver.url('/'), interval: '100ms' }]);
    const cancel = new AbortController();
    const { result } = step(
      hookAnalyzer(hooks, (s) => ({ phase: 'progressing', step: s, weight: 25 }))!,
      60_000,
      cancel.signal,
    );
    setTimeout(() => cancel.abort(), 150);
    expect(await result).toMatchObject({ outcome: 'aborted', cancelled: true });
  });

  it('is absent without rollout or rollback hooks', () => {
    const hooks = hooksOf([{ name: 'smoke', type: 'pre-rollout', url: 'http://127.0.0.1:9/' }]);
    expect(hookAnalyzer(hooks, () => ({ phase: 'progressing', step: 0, weight: 0 }))).toBeUndefined();
  });
});

describe('metrics and hooks judging one step', () => {
  const passes: Analyzer = async ({ signal }) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ outcome: 'passed' }), 50);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve({ outcome: 'aborted', reason: 'cancelled', cancelled: true });
      });
    });
  const waitsForCancel: Analyzer = async ({ signal }) =>
    new Promise((resolve) =>
      signal.addEventListener('abort', () =>
        resolve({ outcome: 'aborted', reason: 'cancelled', cancelled: true }),
      ),
    );
  const breaches: Analyzer = async () => ({ outcome: 'aborted', reason: 'error-rate 0.4 > max 0.05' });
  const options = (signal: AbortSignal) => ({
    step: 0,
    durationMs: 1000,
    track: 'canary' as const,
    signal,
    run: 'r',
    onCheck: () => {},
  });

  it('is either one alone when the other is absent', () => {
    expect(combineAnalyzers(passes, undefined)).toBe(passes);
    expect(combineAnalyzers(undefined, breaches)).toBe(breaches);
    expect(combineAnalyzers(undefined, undefined)).toBeUndefined();
  });

  it('passes when both pass', async () => {
    expect(await combineAnalyzers(passes, passes)!(options(new AbortController().signal))).toEqual({
      outcome: 'passed',
    });
  });

  it('takes the first breach and stops the other judge', async () => {
    const outcome = await combineAnalyzers(waitsForCancel, breaches)!(options(new AbortController().signal));
    expect(outcome).toEqual({ outcome: 'aborted', reason: 'error-rate 0.4 > max 0.05' });
  });

  it('is cancelled when the step is', async () => {
    const cancel = new AbortController();
    const outcome = combineAnalyzers(waitsForCancel, waitsForCancel)!(options(cancel.signal));
    cancel.abort();
    expect(await outcome).toMatchObject({ outcome: 'aborted', cancelled: true });
  });
});
