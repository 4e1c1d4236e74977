import { readFileSync } from 'node:fs';
import { type GantryConfig, NOTIFIERS, type NotifierType, type WebhookSource } from '../../config/schema.js';
import { InputError, messageOf } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { registerSecret } from '../../util/secrets.js';
import { sleep } from '../../util/sleep.js';
import type { RolloutReport } from '../types.js';
import {
  notificationOf,
  type RolloutNotification,
  slackPayload,
  teamsPayload,
  webhookPayload,
} from './payloads.js';

/** One configured notifier: where it posts (a secret) and how it spells a notification. */
interface Target {
  type: NotifierType;
  url: URL;
  payload: (n: RolloutNotification) => unknown;
}

const PAYLOADS: Record<NotifierType, (n: RolloutNotification) => unknown> = {
  slack: slackPayload,
  teams: teamsPayload,
  webhook: webhookPayload,
};

/** The delay before the one retry. */
export const RETRY_DELAY_MS = 1000;

/**
 * The notifiers a config asks for, their URLs read now (pre-flight: a missing variable or file is bad input,
 * exit 2 before anything changes) and registered as secrets, so that no log, report or error ever shows them.
 */
export function resolveNotifiers(
  config: GantryConfig['notify'],
  env: NodeJS.ProcessEnv = process.env,
): Target[] {
  const targets: Target[] = [];
  for (const type of NOTIFIERS) {
    const source = config[type];
    if (!source) continue;
    targets.push({ type, url: readUrl(type, source, env), payload: PAYLOADS[type] });
  }
  return targets;
}

function readUrl(type: NotifierType, source: WebhookSource, env: NodeJS.ProcessEnv): URL {
  const input = `--notify-${type}-url-${source.urlEnv ? 'env' : 'file'}`;
  let text: string | undefined;
  if (source.urlEnv) {
    text = env[source.urlEnv]?.trim();
    if (!text) throw new InputError(input, `environment variable ${source.urlEnv} is not set or empty`);
  } else {
    try {
      text = readFileSync(source.urlFile!, 'utf8').trim();
    } catch (error) {
      throw new InputError(
        input,
        `cannot read "${source.urlFile}": ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    if (!text) throw new InputError(input, `"${source.urlFile}" is empty`);
  }
  registerSecret(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Never echo the value: it is meant to be a secret.
    throw new InputError(input, 'the URL it holds is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new InputError(input, `the URL it holds must be http(s), not ${url.protocol.replace(/:$/, '')}`);
  return url;
}

/**
 * Sends the rollout's notifications. Each target gets its messages in order (a queue per target); a send is
 * bounded by the timeout and retried once after a 5xx or a transport error. A notification never changes the
 * rollout's verdict: a failure is one warning, without the URL.
 */
export class Notifier {
  private readonly queues = new Map<NotifierType, Promise<void>>();

  constructor(
    private readonly targets: readonly Target[],
    private readonly options: { steps: boolean; timeoutMs: number; retryDelayMs?: number; jobUrl?: string },
  ) {}

  get enabled(): boolean {
    return this.targets.length > 0;
  }

  /** Queues the notification of `event` (taken from the report now) to every target; never throws. */
  notify(event: RolloutNotification['event'], report: RolloutReport, steps?: number): void {
    if (!this.enabled || (event === 'step' && !this.options.steps)) return;
    const notification = notificationOf(event, report, { steps, url: this.options.jobUrl });
    for (const target of this.targets) {
      const previous = this.queues.get(target.type) ?? Promise.resolve();
      this.queues.set(
        target.type,
        previous.then(() => this.send(target, notification)),
      );
    }
  }

  /** Waits for every queued notification (each bounded by its timeout and one retry). */
  async flush(): Promise<void> {
    await Promise.all(this.queues.values());
  }

  private async send(target: Target, notification: RolloutNotification): Promise<void> {
    const body = JSON.stringify(target.payload(notification));
    const what = `${target.type} notification (${notification.event})`;
    for (let attempt = 1; ; attempt++) {
      const problem = await this.post(target.url, body);
      if (!problem) return;
      if (problem.retry && attempt === 1) {
        await sleep(this.options.retryDelayMs ?? RETRY_DELAY_MS);
        continue;
      }
      log.warn(`${what} not delivered: ${problem.message}${attempt > 1 ? ' (after one retry)' : ''}`);
      return;
    }
  }

  /** One POST; undefined when delivered, else what went wrong (without the URL) and whether to retry. */
  private async post(url: URL, body: string): Promise<{ message: string; retry: boolean } | undefined> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.body?.cancel().catch(() => {});
      if (response.ok) return undefined;
      return { message: `HTTP ${response.status}`, retry: response.status >= 500 };
    } catch (error) {
      return { message: transportProblem(error, this.options.timeoutMs), retry: true };
    }
  }
}

/** A transport failure in words that never include the URL (fetch's causes name only codes and addresses). */
function transportProblem(error: unknown, timeoutMs: number): string {
  const name = (error as Error).name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs}ms`;
  const cause = (error as { cause?: { code?: string } }).cause;
  if (cause?.code) return `connection failed (${cause.code})`;
  return `connection failed (${messageOf(error).split('\n')[0]})`;
}

/** The CI job's page, when the CI system says (GitHub Actions, GitLab CI, Jenkins). */
export function jobUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID)
    return `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`;
  return env.CI_JOB_URL ?? env.BUILD_URL ?? undefined;
}

/** The notifier a config asks for (none: a notifier that does nothing). */
export function createNotifier(
  config: GantryConfig['notify'],
  env: NodeJS.ProcessEnv = process.env,
): Notifier {
  return new Notifier(resolveNotifiers(config, env), {
    steps: config.steps,
    timeoutMs: config.timeout,
    jobUrl: jobUrl(env),
  });
}
