import { createHmac } from 'node:crypto';
import { messageOf } from '../../util/errors.js';
import { lastLine, run } from '../../util/exec.js';
import { redact } from '../../util/secrets.js';
import { sleep } from '../../util/sleep.js';
import { VERSION } from '../../version.js';
import type { Hook } from './spec.js';

/** What one call of a hook (its retries included) came to. */
export interface HookAnswer {
  /** 2xx, or exit 0. */
  ok: boolean;
  /** True when no answer came at all (unreachable, reset, timed out, not runnable), after every retry. */
  unreachable: boolean;
  /** HTTP status or exit code of the last attempt, when there was one. */
  code?: number;
  attempts: number;
  durationMs: number;
  /** `HTTP 200`, `HTTP 409: not yet`, `exit 1: smoke test failed`, `unreachable: connect ECONNREFUSED…`. */
  message: string;
}

/** The header carrying the HMAC-SHA256 of the body: `sha256=<hex>`, as GitHub signs its webhooks. */
export const SIGNATURE_HEADER = 'x-gantry-signature-256';

/** `sha256=<hex>`: the signature of `body` with `key`. */
export function signBody(key: string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
}

/** The delay before retry `n` (1-based): 0.5 s, 1 s, 2 s, … at most 8 s. */
export function backoffMs(n: number, baseMs = 500): number {
  return Math.min(baseMs * 2 ** (n - 1), 8000);
}

interface Attempt {
  ok: boolean;
  /** No answer: worth another try. */
  transport: boolean;
  code?: number;
  message: string;
}

/**
 * Calls a hook with `payload`: POSTs it (HTTP) or writes it to the command's stdin. A transport failure (no
 * answer) is retried `hook.retries` times with backoff; an answer, whatever it says, is final. Never throws;
 * every message is redacted.
 */
export async function callHook(
  hook: Hook,
  payload: object,
  options: { signal?: AbortSignal; baseBackoffMs?: number } = {},
): Promise<HookAnswer> {
  const body = JSON.stringify(payload);
  const started = Date.now();
  let attempt: Attempt = { ok: false, transport: true, message: 'not called' };
  let attempts = 0;
  for (let n = 0; n <= hook.retries; n++) {
    if (n > 0) await sleep(backoffMs(n, options.baseBackoffMs), options.signal);
    if (options.signal?.aborted) break;
    attempts++;
    attempt = hook.command ? await runCommand(hook, body) : await post(hook, body, options.signal);
    if (!attempt.transport) break;
  }
  const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
  return {
    ok: attempt.ok,
    unreachable: attempt.transport,
    ...(attempt.code !== undefined && { code: attempt.code }),
    attempts,
    durationMs: Date.now() - started,
    message: redact(
      `${attempt.transport ? 'unreachable: ' : ''}${attempt.message}${attempt.transport ? tries : ''}`,
    ),
  };
}

async function post(hook: Hook, body: string, signal?: AbortSignal): Promise<Attempt> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': `gantry/${VERSION}`,
    'x-gantry-hook': hook.type,
  };
  if (hook.key) headers[SIGNATURE_HEADER] = signBody(hook.key, body);
  const timeout = AbortSignal.timeout(hook.timeout);
  try {
    const response = await fetch(hook.target!, {
      method: 'POST',
      headers,
      body,
      redirect: 'error',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await response.text().catch(() => '');
    const said = firstLine(text);
    return {
      ok: response.ok,
      transport: false,
      code: response.status,
      message: `HTTP ${response.status}${said ? `: ${said}` : ''}`,
    };
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    const why = timeout.aborted ? `no answer within ${hook.timeout}ms` : messageOf(cause ?? error);
    return { ok: false, transport: true, message: why };
  }
}

async function runCommand(hook: Hook, body: string): Promise<Attempt> {
  const [file, ...args] = hook.command!;
  const payload = JSON.parse(body) as { service?: string; namespace?: string };
  try {
    const result = await run(file!, args, {
      input: body,
      allowFailure: true,
      timeoutMs: hook.timeout,
      env: {
        GANTRY_HOOK_NAME: hook.name,
        GANTRY_HOOK_TYPE: hook.type,
        GANTRY_SERVICE: payload.service ?? '',
        GANTRY_NAMESPACE: payload.namespace ?? '',
      },
    });
    const said = lastLine(`${result.stdout}\n${result.stderr}`);
    return {
      ok: result.exitCode === 0,
      transport: false,
      code: result.exitCode,
      message: `exit ${result.exitCode}${said === 'no output' ? '' : `: ${said}`}`,
    };
  } catch (error) {
    // Not runnable (not installed), or no answer in time: no answer at all.
    const message = messageOf(error);
    const timedOut = /timed out/.test(message);
    return {
      ok: false,
      transport: timedOut,
      message: timedOut ? `no answer within ${hook.timeout}ms` : message,
    };
  }
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
