import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutNotification } from '../../src/deploy/notify/payloads.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import {
  createNamespace,
  deleteNamespace,
  fakeImage,
  imageOf,
  readDeployment,
  writeAnalysis,
  writeApp,
} from '../helpers/kube.js';
import {
  closedPortUrl,
  type ReceivedRequest,
  startReceiver,
  type WebhookReceiver,
} from '../helpers/webhook-receiver.js';

// Notifications of real rollouts on the sandbox, received by loopback HTTP servers standing in for Slack, Teams
// and a webhook endpoint. Each URL carries a random secret path that must never show in any output. The bad
// release goes last: its canary's error rate stays in the analysis window of the next canary in the namespace.

const V1 = fakeImage('notify-v1');
const V2 = fakeImage('notify-v2');
const V3 = fakeImage('notify-v3');

let ns: string;
let receiver: WebhookReceiver;
let failing: WebhookReceiver;

beforeAll(async () => {
  receiver = await startReceiver();
  failing = await startReceiver({ status: 500 });
  ns = await createNamespace('notify');
  const first = await runCli([
    'deploy',
    '--json',
    '--manifests',
    writeApp(),
    '--image',
    `app=${V1}`,
    '--namespace',
    ns,
    '--strategy',
    'rolling',
    '--ready-timeout',
    '60s',
  ]);
  expect(first.exitCode, first.stderr).toBe(0);
});

afterAll(async () => {
  await deleteNamespace(ns);
  await receiver?.close();
  await failing?.close();
});

const secret = () => randomBytes(12).toString('hex');

/** A URL on the receiver with a secret path per service: /slack/<secret>, /teams/<secret>, /hook/<secret>. */
function urls(on: WebhookReceiver = receiver) {
  const paths = { slack: `/slack/${secret()}`, teams: `/teams/${secret()}`, hook: `/hook/${secret()}` };
  return {
    paths,
    env: {
      SLACK_WEBHOOK_URL: on.url(paths.slack),
      TEAMS_WEBHOOK_URL: on.url(paths.teams),
      GANTRY_WEBHOOK_URL: on.url(paths.hook),
    },
  };
}

const NOTIFY_FLAGS = [
  '--notify-slack-url-env',
  'SLACK_WEBHOOK_URL',
  '--notify-teams-url-env',
  'TEAMS_WEBHOOK_URL',
  '--notify-webhook-url-env',
  'GANTRY_WEBHOOK_URL',
];

function canary(
  image: string,
  report: string,
  errorRate = 0,
  extra: string[] = [],
  notify: string[] = NOTIFY_FLAGS,
): string[] {
  return [
    'deploy',
    '--json',
    '--manifests',
    writeApp({ errorRate }),
    '--image',
    `app=${image}`,
    '--namespace',
    ns,
    '--strategy',
    'canary',
    '--steps',
    '20,50',
    '--pause',
    '4s',
    '--analysis',
    writeAnalysis(),
    '--ready-timeout',
    '60s',
    '--report',
    report,
    ...notify,
    ...extra,
  ];
}

const received = (path: string) => receiver.requests.filter((r) => r.path === path);
const bodies = (path: string) => received(path).map((r) => r.body as RolloutNotification);

/** Every URL's secret path is absent from stdout, stderr and every report file. */
function expectNoSecrets(run: CliRun, reportDir: string, secrets: string[]): void {
  const files = readdirSync(reportDir).map((f) => readFileSync(join(reportDir, f), 'utf8'));
  for (const text of [run.stdout, run.stderr, ...files]) {
    for (const value of secrets) expect(text).not.toContain(value);
  }
}

const reportDir = () => mkdtempSync(join(tmpdir(), 'gantry-notify-report-'));

describe('notifications of a rollout on the sandbox', () => {
  it('a promoted canary sends the start, each step and the end to Slack, Teams and the webhook', async () => {
    const { paths, env } = urls();
    const dir = reportDir();
    const run = await runCli(canary(V2, dir, 0, ['--notify-steps']), { env });
    expect(run.exitCode, run.stderr).toBe(0);
    const report = run.json!;
    expect(report.verdict).toBe('promoted');

    const hook = bodies(paths.hook);
    expect(hook.map((b) => b.event)).toEqual(['started', 'step', 'step', 'finished']);
    expect(hook[0]).toMatchObject({
      event: 'started',
      service: 'web',
      namespace: ns,
      strategy: 'canary',
      phase: 'progressing',
      image: V2,
      previousImage: V1,
      runId: report.runId,
      verdict: null,
      startedAt: (report.timings as { startedAt: string }).startedAt,
    });
    expect(hook.slice(1, 3).map((b) => [b.step, b.steps, b.weight])).toEqual([
      [1, 2, 20],
      [2, 2, 50],
    ]);
    expect(hook[3]).toMatchObject({
      event: 'finished',
      phase: 'promoted',
      verdict: 'promoted',
      reason: report.reason,
      revision: report.revision,
      failedCheck: null,
      image: V2,
      previousImage: V1,
      runId: report.runId,
    });
    expect(hook[3]!.finishedAt).not.toBeNull();

    const slack = received(paths.slack);
    expect(slack).toHaveLength(4);
    expect(slack.every((r: ReceivedRequest) => r.contentType === 'application/json')).toBe(true);
    const slackEnd = slack[3]!.body as { text: string; blocks: { type: string }[] };
    expect(slackEnd.text).toMatch(new RegExp(`^${ns}/web promoted`));
    expect(slackEnd.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    expect((slack[0]!.body as { text: string }).text).toBe(`Rollout of ${ns}/web started (canary)`);

    const teams = received(paths.teams).map(
      (r) => r.body as { type: string; attachments: { content: { body: { text?: string }[] } }[] },
    );
    expect(teams).toHaveLength(4);
    expect(teams[3]!.type).toBe('message');
    expect(teams[3]!.attachments[0]!.content.body[0]!.text).toBe(`${ns}/web promoted`);

    expectNoSecrets(run, dir, Object.values(paths));
  });

  it('an unreachable notifier and one answering 500 change neither the verdict nor the exit code', async () => {
    const slackPath = `/slack/${secret()}`;
    const teamsPath = `/teams/${secret()}`;
    const hookPath = `/hook/${secret()}`;
    const env = {
      SLACK_WEBHOOK_URL: await closedPortUrl(slackPath),
      TEAMS_WEBHOOK_URL: failing.url(teamsPath),
      GANTRY_WEBHOOK_URL: receiver.url(hookPath),
    };
    const dir = reportDir();
    const run = await runCli(canary(V3, dir), { env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json!.verdict).toBe('promoted');
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(V3);
    // The working one got both messages; the 500 one was tried twice (one retry) for each.
    expect(bodies(hookPath).map((b) => b.event)).toEqual(['started', 'finished']);
    expect(failing.requests.filter((r) => r.path === teamsPath)).toHaveLength(4);
    expect(run.stderr).toContain(
      'warning: slack notification (started) not delivered: connection failed (ECONNREFUSED) (after one retry)',
    );
    expect(run.stderr).toContain(
      'warning: teams notification (finished) not delivered: HTTP 500 (after one retry)',
    );
    expectNoSecrets(run, dir, [slackPath, teamsPath, hookPath]);
  });

  it('a rolled-back canary names the metric, its value and the threshold', async () => {
    const { paths, env } = urls();
    const dir = reportDir();
    const run = await runCli(canary(fakeImage('notify-bad'), dir, 0.5), { env });
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.json!.verdict).toBe('rolled-back');

    const hook = bodies(paths.hook);
    expect(hook.map((b) => b.event)).toEqual(['started', 'finished']);
    const end = hook[1]!;
    expect(end).toMatchObject({ verdict: 'rolled-back', phase: 'rolled-back', reason: run.json!.reason });
    expect(end.failedCheck).toMatchObject({ metric: 'error-rate', max: 0.05, threshold: 'max 0.05' });
    expect(end.failedCheck!.value).toBeGreaterThan(0.05);

    const slackEnd = received(paths.slack)[1]!.body as { text: string };
    expect(slackEnd.text).toMatch(new RegExp(`^${ns}/web rolled back: .*error-rate`));
    const slackBlocks = JSON.stringify(received(paths.slack)[1]!.body);
    expect(slackBlocks).toMatch(/error-rate = [0-9.]+ \(threshold: max 0\.05\)/);
    const teamsEnd = JSON.stringify(received(paths.teams)[1]!.body);
    expect(teamsEnd).toMatch(
      /"title":"Failed check","value":"error-rate = [0-9.]+ \(threshold: max 0\.05\)"/,
    );

    expectNoSecrets(run, dir, Object.values(paths));
  });

  it('a missing variable or URL file is bad input: exit 2, one line naming the input, nothing changed', async () => {
    const before = await readDeployment(ns, 'web');
    const count = receiver.requests.length;
    const missing = await runCli(
      canary(
        fakeImage('notify-unused'),
        reportDir(),
        0,
        [],
        ['--notify-slack-url-env', 'GANTRY_IT_NO_SUCH_VAR'],
      ),
      { env: urls().env },
    );
    expect(missing.exitCode, missing.stderr).toBe(2);
    expect(missing.stderr.trim().split('\n').at(-1)).toMatch(
      /--notify-slack-url-env: environment variable GANTRY_IT_NO_SUCH_VAR is not set or empty$/,
    );
    const file = join(mkdtempSync(join(tmpdir(), 'gantry-notify-url-')), 'url');
    writeFileSync(file, 'not a url\n');
    const notUrl = await runCli(
      canary(fakeImage('notify-unused'), reportDir(), 0, [], ['--notify-webhook-url-file', file]),
    );
    expect(notUrl.exitCode, notUrl.stderr).toBe(2);
    expect(notUrl.stderr.trim().split('\n').at(-1)).toMatch(
      /--notify-webhook-url-file: the URL it holds is not a valid URL$/,
    );
    expect(notUrl.stderr).not.toContain('not a url');
    const after = await readDeployment(ns, 'web');
    expect(after?.metadata?.generation).toBe(before?.metadata?.generation);
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
    expect(receiver.requests.length).toBe(count);
  });
});
