import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/load.js';
import { configSchema } from '../../../src/config/schema.js';
import { createNotifier, Notifier, resolveNotifiers } from '../../../src/deploy/notify/index.js';
import {
  decidingCheck,
  notificationOf,
  type RolloutNotification,
  slackPayload,
  teamsPayload,
  webhookPayload,
} from '../../../src/deploy/notify/payloads.js';
import type { Check, RolloutReport } from '../../../src/deploy/types.js';
import { ExitCode, InputError } from '../../../src/util/errors.js';
import { type LogSink, setLogSink } from '../../../src/util/log.js';
import { redact } from '../../../src/util/secrets.js';
import { closedPortUrl, startReceiver } from '../../helpers/webhook-receiver.js';

const check = (over: Partial<Check>): Check => ({
  metric: 'error-rate',
  step: 0,
  at: '2026-01-01T00:00:10Z',
  value: 0.01,
  max: 0.05,
  result: 'pass',
  message: '0.01 ≤ max 0.05',
  ...over,
});

const report = (over: Partial<RolloutReport> = {}): RolloutReport => ({
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
  ...over,
});

const rolledBack = () =>
  report({
    verdict: 'rolled-back',
    reason: 'error-rate: 0.43 > max 0.05',
    revision: '3',
    steps: [{ index: 0, weight: 10, startedAt: '2026-01-01T00:00:01Z', result: 'failed' }],
    checks: [
      check({}),
      check({ value: 0.43, result: 'fail', message: '0.43 > max 0.05' }),
      check({
        metric: 'latency',
        value: null,
        max: undefined,
        min: 1,
        result: 'inconclusive',
        message: 'no data',
      }),
    ],
    timings: { ...report().timings, finishedAt: '2026-01-01T00:01:00.000Z' },
  });

describe('what a notification says', () => {
  it('names the measurement that decided a rollback: metric, value and threshold', () => {
    const n = notificationOf('finished', rolledBack());
    expect(n).toMatchObject({
      event: 'finished',
      service: 'web',
      namespace: 'shop',
      phase: 'rolled-back',
      verdict: 'rolled-back',
      revision: '3',
      reason: 'error-rate: 0.43 > max 0.05',
      failedCheck: { metric: 'error-rate', value: 0.43, max: 0.05, min: null, threshold: 'max 0.05' },
      image: 'registry.local/web@sha256:bbb',
      previousImage: 'registry.local/web@sha256:aaa',
      runId: '42-abcd',
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:01:00.000Z',
    });
  });

  it('falls back to the last inconclusive measurement, and names none for a promotion', () => {
    expect(
      decidingCheck([check({}), check({ value: null, result: 'inconclusive', min: 1, max: 2 })]),
    ).toMatchObject({
      value: null,
      threshold: '[1, 2]',
    });
    expect(decidingCheck([check({})])).toBeNull();
    const promoted = notificationOf('finished', { ...rolledBack(), verdict: 'promoted' });
    expect(promoted.failedCheck).toBeNull();
  });

  it('a start has no verdict; a step has the step (1-based), the step count and the weight', () => {
    const started = notificationOf('started', report(), { steps: 3 });
    expect(started).toMatchObject({
      event: 'started',
      phase: 'progressing',
      verdict: null,
      reason: null,
      step: null,
    });
    const step = notificationOf(
      'step',
      report({ steps: [{ index: 1, weight: 25, startedAt: 'x', result: 'running' }] }),
      { steps: 3 },
    );
    expect(step).toMatchObject({ event: 'step', step: 2, steps: 3, weight: 25, phase: 'progressing' });
  });

  it('the generic webhook posts every documented field', () => {
    const body = webhookPayload(
      notificationOf('finished', rolledBack(), { url: 'https://ci.example/job/1' }),
    );
    expect(Object.keys(body).sort()).toEqual(
      [
        'event',
        'service',
        'namespace',
        'strategy',
        'phase',
        'revision',
        'step',
        'steps',
        'weight',
        'verdict',
        'reason',
        'failedCheck',
        'image',
        'previousImage',
        'runId',
        'startedAt',
        'finishedAt',
        'url',
      ].sort(),
    );
  });
});

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, checked field by field against the documented shapes
type Json = any;

/** Slack Block Kit's documented limits for the blocks Gantry sends. */
function expectValidSlackMessage(message: { text: string; blocks: Record<string, unknown>[] }): void {
  expect(typeof message.text).toBe('string');
  expect(message.text.length).toBeGreaterThan(0);
  expect(message.blocks.length).toBeLessThanOrEqual(50);
  for (const block of message.blocks as Json[]) {
    switch (block.type) {
      case 'header':
        expect(block.text.type).toBe('plain_text');
        expect(block.text.text.length).toBeLessThanOrEqual(150);
        break;
      case 'section':
        expect(block.text ?? block.fields).toBeDefined();
        if (block.text) {
          expect(['mrkdwn', 'plain_text']).toContain(block.text.type);
          expect(block.text.text.length).toBeLessThanOrEqual(3000);
        }
        if (block.fields) {
          expect(block.fields.length).toBeGreaterThan(0);
          expect(block.fields.length).toBeLessThanOrEqual(10);
          for (const field of block.fields) {
            expect(['mrkdwn', 'plain_text']).toContain(field.type);
            expect(field.text.length).toBeLessThanOrEqual(2000);
          }
        }
        break;
      case 'context':
        expect(block.elements.length).toBeGreaterThan(0);
        expect(block.elements.length).toBeLessThanOrEqual(10);
        for (const element of block.elements) expect(element.type).toBe('mrkdwn');
        break;
      default:
        throw new Error(`unexpected block type ${block.type}`);
    }
  }
}

/** The Teams envelope and the Adaptive Card elements Gantry sends, as the card schema defines them. */
function expectValidTeamsMessage(message: Record<string, Json>): Record<string, Json> {
  expect(message.type).toBe('message');
  expect(message.attachments).toHaveLength(1);
  const [attachment] = message.attachments;
  expect(attachment.contentType).toBe('application/vnd.microsoft.card.adaptive');
  const card = attachment.content;
  expect(card.type).toBe('AdaptiveCard');
  expect(card.$schema).toBe('http://adaptivecards.io/schemas/adaptive-card.json');
  expect(Number(card.version)).toBeGreaterThanOrEqual(1.4);
  expect(Array.isArray(card.body)).toBe(true);
  for (const element of card.body) {
    if (element.type === 'TextBlock') {
      expect(typeof element.text).toBe('string');
      if (element.color)
        expect(['Default', 'Dark', 'Light', 'Accent', 'Good', 'Warning', 'Attention']).toContain(
          element.color,
        );
      if (element.weight) expect(['Lighter', 'Default', 'Bolder']).toContain(element.weight);
      if (element.size) expect(['Small', 'Default', 'Medium', 'Large', 'ExtraLarge']).toContain(element.size);
    } else if (element.type === 'FactSet') {
      for (const fact of element.facts) expect(Object.keys(fact).sort()).toEqual(['title', 'value']);
      for (const fact of element.facts) expect(typeof fact.value).toBe('string');
    } else throw new Error(`unexpected element ${element.type}`);
  }
  for (const action of card.actions ?? []) {
    expect(action.type).toBe('Action.OpenUrl');
    expect(action.url).toMatch(/^https?:\/\//);
  }
  return card;
}

describe('Slack and Teams messages', () => {
  const moments: [string, RolloutNotification][] = [
    ['start', notificationOf('started', report(), { steps: 3 })],
    [
      'step',
      notificationOf(
        'step',
        report({ steps: [{ index: 0, weight: 10, startedAt: 'x', result: 'running' }] }),
        { steps: 3 },
      ),
    ],
    [
      'promotion',
      notificationOf('finished', { ...rolledBack(), verdict: 'promoted', reason: 'all steps passed' }),
    ],
    ['rollback', notificationOf('finished', rolledBack(), { url: 'https://ci.example/job/1' })],
    ['failure', notificationOf('finished', report({ verdict: 'failed', reason: 'x'.repeat(5000) }))],
  ];

  it.each(moments)('Slack: the %s is text plus blocks within Block Kit limits', (_, n) => {
    expectValidSlackMessage(slackPayload(n));
  });

  it.each(moments)('Teams: the %s is an Adaptive Card (1.4+) message', (_, n) => {
    expectValidTeamsMessage(teamsPayload(n));
  });

  it('a rollback names the metric, value and threshold in both', () => {
    const n = notificationOf('finished', rolledBack());
    const slack = JSON.stringify(slackPayload(n));
    expect(slack).toContain('error-rate = 0.43 (threshold: max 0.05)');
    expect(slackPayload(n).text).toMatch(/^shop\/web rolled back: error-rate: 0.43 > max 0.05/);
    const card = expectValidTeamsMessage(teamsPayload(n));
    const facts = card.body.find((e: { type: string }) => e.type === 'FactSet').facts;
    expect(facts).toContainEqual({ title: 'Failed check', value: 'error-rate = 0.43 (threshold: max 0.05)' });
    expect(facts).toContainEqual({ title: 'Verdict', value: 'rolled-back' });
    expect(card.body[0]).toMatchObject({ text: 'shop/web rolled back', color: 'Attention' });
  });

  it("escapes Slack's control characters in mrkdwn", () => {
    const n = notificationOf('finished', report({ reason: 'a < b & c > d' }));
    const section = slackPayload(n).blocks[1] as { text: { text: string } };
    expect(section.text.text).toContain('a &lt; b &amp; c &gt; d');
  });
});

describe('notifier configuration', () => {
  it('gantry.yml takes slack, teams and webhook with urlEnv or urlFile, steps and timeout', () => {
    const config = configSchema.parse({
      notify: {
        slack: { urlEnv: 'SLACK_URL' },
        webhook: { urlFile: '/run/hook' },
        steps: true,
        timeout: '2s',
      },
    });
    expect(config.notify).toEqual({
      slack: { urlEnv: 'SLACK_URL' },
      webhook: { urlFile: '/run/hook' },
      steps: true,
      timeout: 2000,
    });
    expect(configSchema.parse({}).notify).toEqual({ steps: false, timeout: 5000 });
  });

  it('the flags set the same settings, and a bad one is named', () => {
    const config = resolveConfig({
      command: 'deploy',
      raw: { 'notify-teams-url-env': 'TEAMS_URL', 'notify-steps': true },
      cwd: '/nonexistent',
    });
    expect(config.notify).toMatchObject({ teams: { urlEnv: 'TEAMS_URL' }, steps: true });
    expect(() =>
      resolveConfig({
        command: 'deploy',
        raw: { 'notify-slack-url-env': 'https://hooks' },
        cwd: '/nonexistent',
      }),
    ).toThrow(
      /^--notify-slack-url-env: expected the name of an environment variable holding the URL \(its name, not the URL\)$/,
    );
    // A URL given where the variable's name belongs is not echoed: it is a secret.
    expect(() =>
      resolveConfig({
        command: 'deploy',
        raw: { 'notify-teams-url-env': 'https://example.test/workflows/secret-sig' },
        cwd: '/nonexistent',
      }),
    ).toThrow(
      /^--notify-teams-url-env: expected the name of an environment variable holding the URL \(its name, not the URL\)$/,
    );
    expect(() =>
      resolveConfig({ command: 'deploy', raw: { 'notify-timeout': '0s' }, cwd: '/nonexistent' }),
    ).toThrow(/^--notify-timeout: expected at least 100ms/);
  });

  it('refuses both or neither of urlEnv and urlFile', () => {
    expect(configSchema.safeParse({ notify: { slack: { urlEnv: 'A', urlFile: 'f' } } }).success).toBe(false);
    expect(configSchema.safeParse({ notify: { slack: {} } }).success).toBe(false);
  });

  it('reads the URL from the variable or the file, and masks it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-notify-'));
    writeFileSync(join(dir, 'url'), 'https://example.test/hooks/file-secret-path\n');
    const targets = resolveNotifiers(
      { slack: { urlEnv: 'SLACK_URL' }, teams: { urlFile: join(dir, 'url') }, steps: false, timeout: 5000 },
      { SLACK_URL: 'https://hooks.slack.test/services/T0/B0/env-secret-path' },
    );
    expect(targets.map((t) => [t.type, t.url.href])).toEqual([
      ['slack', 'https://hooks.slack.test/services/T0/B0/env-secret-path'],
      ['teams', 'https://example.test/hooks/file-secret-path'],
    ]);
    expect(redact('posting to https://hooks.slack.test/services/T0/B0/env-secret-path')).toBe(
      'posting to ***',
    );
  });

  it('a missing variable, an unreadable file or a value that is no URL is bad input naming the input, never the value', () => {
    const attempt = (config: Parameters<typeof resolveNotifiers>[0], env: NodeJS.ProcessEnv = {}) => {
      try {
        resolveNotifiers(config, env);
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        expect((error as InputError).exitCode).toBe(ExitCode.input);
        return (error as Error).message;
      }
      throw new Error('expected an error');
    };
    const base = { steps: false, timeout: 5000 };
    expect(attempt({ ...base, slack: { urlEnv: 'NOPE' } })).toBe(
      '--notify-slack-url-env: environment variable NOPE is not set or empty',
    );
    expect(attempt({ ...base, teams: { urlFile: '/nonexistent/url' } })).toBe(
      '--notify-teams-url-file: cannot read "/nonexistent/url": ENOENT',
    );
    const notUrl = attempt({ ...base, webhook: { urlEnv: 'HOOK' } }, { HOOK: 'not a url secret-token' });
    expect(notUrl).toBe('--notify-webhook-url-env: the URL it holds is not a valid URL');
    expect(attempt({ ...base, webhook: { urlEnv: 'HOOK' } }, { HOOK: 'ftp://x.test/secret' })).toBe(
      '--notify-webhook-url-env: the URL it holds must be http(s), not ftp',
    );
  });
});

describe('delivery', () => {
  let warnings: string[];
  beforeEach(() => {
    warnings = [];
    const sink: LogSink = {
      info: () => {},
      warn: (line) => warnings.push(line),
      startGroup: () => {},
      endGroup: () => {},
    };
    setLogSink(sink);
  });
  afterEach(() => {
    setLogSink({
      info: (line) => process.stderr.write(`${line}\n`),
      warn: (line) => process.stderr.write(`warning: ${line}\n`),
      startGroup: () => {},
      endGroup: () => {},
    });
  });

  const notifier = (env: NodeJS.ProcessEnv, steps = false) =>
    new Notifier(
      resolveNotifiers(
        { slack: { urlEnv: 'S' }, teams: { urlEnv: 'T' }, webhook: { urlEnv: 'W' }, steps, timeout: 5000 },
        env,
      ),
      { steps, timeoutMs: 5000, retryDelayMs: 1 },
    );

  it('posts JSON to each service in order; steps only when asked', async () => {
    const receiver = await startReceiver();
    try {
      const env = {
        S: receiver.url('/slack/secret-s'),
        T: receiver.url('/teams/secret-t'),
        W: receiver.url('/hook/secret-w'),
      };
      const quiet = notifier(env);
      const r = report({ steps: [{ index: 0, weight: 10, startedAt: 'x', result: 'running' }] });
      quiet.notify('started', r, 3);
      quiet.notify('step', r, 3);
      quiet.notify('finished', rolledBack());
      await quiet.flush();
      const byPath = (path: string) => receiver.requests.filter((q) => q.path === path);
      expect(
        receiver.requests.every((q) => q.method === 'POST' && q.contentType === 'application/json'),
      ).toBe(true);
      expect(byPath('/hook/secret-w').map((q) => (q.body as RolloutNotification).event)).toEqual([
        'started',
        'finished',
      ]);
      expect(byPath('/slack/secret-s')).toHaveLength(2);
      expect(byPath('/teams/secret-t')).toHaveLength(2);
      receiver.requests.length = 0;
      const chatty = notifier(env, true);
      chatty.notify('started', r, 3);
      chatty.notify('step', r, 3);
      await chatty.flush();
      expect(byPath('/hook/secret-w').map((q) => (q.body as RolloutNotification).event)).toEqual([
        'started',
        'step',
      ]);
      expect(warnings).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('retries once after a 5xx, not after a 4xx, and warns without the URL', async () => {
    const flaky = await startReceiver({ statuses: [503] });
    const failing = await startReceiver({ status: 500 });
    const refusing = await startReceiver({ status: 404 });
    try {
      const env = {
        S: flaky.url('/s/secret-1'),
        T: failing.url('/t/secret-2'),
        W: refusing.url('/w/secret-3'),
      };
      const n = notifier(env);
      n.notify('finished', rolledBack());
      await n.flush();
      expect(flaky.requests).toHaveLength(2);
      expect(failing.requests).toHaveLength(2);
      expect(refusing.requests).toHaveLength(1);
      expect(warnings.sort()).toEqual([
        'teams notification (finished) not delivered: HTTP 500 (after one retry)',
        'webhook notification (finished) not delivered: HTTP 404',
      ]);
    } finally {
      await Promise.all([flaky.close(), failing.close(), refusing.close()]);
    }
  });

  it('an unreachable service is a warning naming the error code, not the URL', async () => {
    const url = await closedPortUrl('/hooks/secret-path');
    const n = new Notifier(
      resolveNotifiers({ webhook: { urlEnv: 'W' }, steps: false, timeout: 5000 }, { W: url }),
      {
        steps: false,
        timeoutMs: 5000,
        retryDelayMs: 1,
      },
    );
    n.notify('started', report());
    await n.flush();
    expect(warnings).toEqual([
      'webhook notification (started) not delivered: connection failed (ECONNREFUSED) (after one retry)',
    ]);
    expect(warnings.join('\n')).not.toContain('secret-path');
  });

  it('without targets, nothing is sent and the notifier is disabled', () => {
    expect(createNotifier({ steps: true, timeout: 5000 }, {}).enabled).toBe(false);
  });
});
