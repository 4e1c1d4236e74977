import { formatNumber } from '../analysis/format.js';
import type { Check, RolloutReport, StrategyName, Verdict } from '../types.js';

/**
 * What a notification says, the same for every service: the generic webhook posts it as it is (its fields are
 * documented in the README), Slack and Teams render it in their own message formats. Pure: no I/O here.
 */
export interface RolloutNotification {
  /** `started` once the rollout begins, `step` per canary step (with `notify.steps`), `finished` at the end. */
  event: 'started' | 'step' | 'finished';
  service: string;
  namespace: string;
  strategy: StrategyName;
  /** `progressing` until the end, then the verdict. */
  phase: 'progressing' | Verdict;
  /** The Deployment's revision after the run (`finished` only; else null). */
  revision: string | null;
  /** The canary step (1-based) and the share of traffic the new version gets; null when not in a step. */
  step: number | null;
  steps: number | null;
  weight: number | null;
  verdict: Verdict | null;
  /** Why the rollout ended as it did (`finished` only). */
  reason: string | null;
  /** The measurement that decided a rollback: metric, value and its bounds (null otherwise). */
  failedCheck: FailedCheck | null;
  image: string;
  previousImage: string | null;
  runId: string;
  startedAt: string;
  finishedAt: string | null;
  /** The CI job's page, when the CI system names one. */
  url: string | null;
}

export interface FailedCheck {
  metric: string;
  value: number | null;
  min: number | null;
  max: number | null;
  /** The bounds as a person reads them: `max 0.05`, `min 0.9`, `[0.9, 1]`. */
  threshold: string | null;
  message: string;
}

/** The measurement that decided a rollback: the last failed check, else the last inconclusive one. */
export function decidingCheck(checks: readonly Check[]): FailedCheck | null {
  const check =
    checks.findLast((c) => c.result === 'fail') ?? checks.findLast((c) => c.result === 'inconclusive');
  if (!check) return null;
  return {
    metric: check.metric,
    value: check.value,
    min: check.min ?? null,
    max: check.max ?? null,
    threshold: thresholdOf(check),
    message: check.message,
  };
}

function thresholdOf(check: Pick<Check, 'min' | 'max'>): string | null {
  if (check.min !== undefined && check.max !== undefined) return `[${check.min}, ${check.max}]`;
  if (check.max !== undefined) return `max ${check.max}`;
  if (check.min !== undefined) return `min ${check.min}`;
  return null;
}

/** The notification for a moment of the rollout, from the run report as it is at that moment. */
export function notificationOf(
  event: RolloutNotification['event'],
  report: RolloutReport,
  extra: { steps?: number; url?: string } = {},
): RolloutNotification {
  const finished = event === 'finished';
  const step = event === 'step' ? report.steps.at(-1) : undefined;
  return {
    event,
    service: report.name,
    namespace: report.namespace,
    strategy: report.strategy,
    phase: finished ? report.verdict : 'progressing',
    revision: finished ? report.revision : null,
    step: step ? step.index + 1 : null,
    steps: extra.steps ?? null,
    weight: step ? step.weight : null,
    verdict: finished ? report.verdict : null,
    reason: finished ? report.reason : null,
    failedCheck: finished && report.verdict !== 'promoted' ? decidingCheck(report.checks) : null,
    image: report.image,
    previousImage: report.previousImage,
    runId: report.runId,
    startedAt: report.timings.startedAt,
    finishedAt: finished ? (report.timings.finishedAt ?? null) : null,
    url: extra.url ?? null,
  };
}

/** One line a person reads first: what happened to which service. */
export function headline(n: RolloutNotification): string {
  const target = `${n.namespace}/${n.service}`;
  switch (n.event) {
    case 'started':
      return `Rollout of ${target} started (${n.strategy})`;
    case 'step':
      return `${target}: step ${n.step}${n.steps ? `/${n.steps}` : ''}, ${n.weight}% of traffic to the new version`;
    case 'finished':
      return n.verdict === 'promoted'
        ? `${target} promoted`
        : n.verdict === 'rolled-back'
          ? `${target} rolled back`
          : `Rollout of ${target} failed`;
  }
}

/** `error-rate = 0.43 (max 0.05)`: the deciding measurement, for the chat messages. */
export function checkLine(check: FailedCheck): string {
  const value = check.value === null ? 'no data' : formatNumber(check.value);
  return `${check.metric} = ${value}${check.threshold ? ` (threshold: ${check.threshold})` : ''}`;
}

/** The facts every chat message shows, as label/value pairs, in order. */
export function facts(n: RolloutNotification): { title: string; value: string }[] {
  const rows: [string, string | null][] = [
    ['Service', `${n.namespace}/${n.service}`],
    ['Strategy', n.strategy],
    ['Image', n.image],
    ['Previous image', n.previousImage],
    ['Step', n.step === null ? null : `${n.step}${n.steps ? `/${n.steps}` : ''} (${n.weight}%)`],
    ['Verdict', n.verdict],
    ['Reason', n.reason],
    ['Failed check', n.failedCheck ? checkLine(n.failedCheck) : null],
    ['Revision', n.revision],
    ['Run', n.runId],
  ];
  return rows
    .filter((row): row is [string, string] => row[1] !== null)
    .map(([title, value]) => ({ title, value }));
}

/** The generic webhook's body: the notification as it is. */
export function webhookPayload(n: RolloutNotification): RolloutNotification {
  return n;
}

const SLACK_HEADER_MAX = 150;
const SLACK_FIELD_MAX = 2000;
const SLACK_FIELDS_MAX = 10;

/** Slack's mrkdwn control characters, escaped as its documentation asks. */
export function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

const truncate = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/**
 * A Slack incoming-webhook message: `text` (the notification's fallback, shown where blocks are not) and
 * `blocks`: a header, a mrkdwn section with the reason (and the deciding check), a section of fields with the
 * facts (at most 10, each at most 2000 characters), and a context line with the run.
 */
export function slackPayload(n: RolloutNotification): { text: string; blocks: Record<string, unknown>[] } {
  const icon = n.event !== 'finished' ? ':rocket:' : n.verdict === 'promoted' ? ':white_check_mark:' : ':x:';
  const title = headline(n);
  const summary = [
    `${icon} *${slackEscape(title)}*`,
    ...(n.reason ? [slackEscape(n.reason)] : []),
    ...(n.failedCheck ? [`Failed check: \`${slackEscape(checkLine(n.failedCheck))}\``] : []),
  ].join('\n');
  const fields = facts(n)
    .filter((f) => !['Reason', 'Failed check', 'Run'].includes(f.title))
    .slice(0, SLACK_FIELDS_MAX)
    .map((f) => ({
      type: 'mrkdwn',
      text: truncate(`*${f.title}*\n${slackEscape(f.value)}`, SLACK_FIELD_MAX),
    }));
  const context = `run ${slackEscape(n.runId)} · started ${n.startedAt}${n.url ? ` · <${n.url}|CI job>` : ''}`;
  return {
    text: truncate(`${title}${n.reason ? `: ${n.reason}` : ''}`, 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(title, SLACK_HEADER_MAX), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(summary, 3000) } },
      { type: 'section', fields },
      { type: 'context', elements: [{ type: 'mrkdwn', text: context }] },
    ],
  };
}

/**
 * A Microsoft Teams message for a Workflows (or incoming) webhook: one attachment holding an Adaptive Card 1.4
 * with a title, the reason, and a FactSet of the facts; a link to the CI job when there is one.
 */
export function teamsPayload(n: RolloutNotification): Record<string, unknown> {
  const color = n.event !== 'finished' ? 'Accent' : n.verdict === 'promoted' ? 'Good' : 'Attention';
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', text: headline(n), weight: 'Bolder', size: 'Medium', color, wrap: true },
  ];
  if (n.reason) body.push({ type: 'TextBlock', text: n.reason, wrap: true });
  body.push({ type: 'FactSet', facts: facts(n).filter((f) => f.title !== 'Reason') });
  const card: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
  };
  if (n.url) card.actions = [{ type: 'Action.OpenUrl', title: 'Open the CI job', url: n.url }];
  return {
    type: 'message',
    attachments: [
      { contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card },
    ],
  };
}
