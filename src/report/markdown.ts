/**
 * The run report as GitHub-flavoured Markdown: a job summary or a merge-request note. A verdict line a
 * person can act on, the facts (images, timings of the rollback), a timeline chart, then each step's checks
 * with value against threshold.
 */
import type { Check, HookResult, RolloutReport, StepRecord } from '../deploy/types.js';
import { InputError } from '../util/errors.js';
import {
  escapeMarkdown,
  formatDuration,
  formatNumber,
  formatOffset,
  formatSeconds,
  formatThreshold,
  markdownCode,
  millisBetween,
  parseTime,
} from './format.js';
import { renderMermaidTimeline } from './mermaid.js';
import { chartMetric, metricNames, rolloutOrigin } from './timeline.js';
import { verdictParts } from './verdict.js';

export interface MarkdownOptions {
  /**
   * The timeline: `mermaid` (default; job summaries and MR notes render it), `svg-link` (an image link to
   * `svgPath`, for places that show images), or `none`.
   */
  chart?: 'mermaid' | 'svg-link' | 'none';
  /** Where the SVG timeline is, relative to where the Markdown is shown. Required with `svg-link`. */
  svgPath?: string;
  /** The metric to chart; by default the one that failed, else the first. */
  metric?: string;
  /** Checks shown per metric per step before earlier passing ones are summarised (default 10). */
  maxChecksPerMetric?: number;
}

const DEFAULT_MAX_CHECKS = 10;

/**
 * Renders a run report as Markdown.
 *
 * @example
 * ```ts
 * await fs.appendFile(process.env.GITHUB_STEP_SUMMARY!, renderRolloutMarkdown(report));
 * ```
 */
export function renderRolloutMarkdown(report: RolloutReport, options: MarkdownOptions = {}): string {
  const chart = options.chart ?? 'mermaid';
  if (chart === 'svg-link' && !options.svgPath) {
    throw new InputError('svgPath', 'required when chart is "svg-link" (the path of the SVG timeline)');
  }
  const blocks: string[] = [verdictBlock(report), factsTable(report)];
  const chartBlock = renderChart(report, chart, options);
  if (chartBlock) blocks.push(chartBlock);
  blocks.push(checksSection(report, options.maxChecksPerMetric ?? DEFAULT_MAX_CHECKS));
  if (report.hooks?.length) blocks.push(hooksSection(report.hooks));
  return `${blocks.join('\n\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// Verdict and facts

function verdictBlock(report: RolloutReport): string {
  const { status, subject, detail, decisiveCheck } = verdictParts(report);
  const line = `**${status}** ${escapeMarkdown(subject)}: ${escapeMarkdown(detail)}`;
  // The engine's own sentence adds what the checks cannot say (limits, counts); skip it when it is the line.
  const reason = report.reason.trim();
  if (reason === '' || (decisiveCheck === undefined && report.verdict !== 'promoted')) return line;
  return `${line}\n\n${escapeMarkdown(reason)}`;
}

function factsTable(report: RolloutReport): string {
  const { timings } = report;
  const rows: Array<[string, string]> = [
    ['Image', markdownCode(report.image)],
    ['Previous image', report.previousImage ? markdownCode(report.previousImage) : '—'],
    ...(report.config ?? []).map((c): [string, string] => [
      escapeMarkdown(`${c.kind} ${c.name}`),
      `${markdownCode(c.version)}${c.previous && c.previous !== c.version ? ` (was ${markdownCode(c.previous)})` : ''}`,
    ]),
    ['Strategy', escapeMarkdown(report.strategy)],
    ['Router', escapeMarkdown(report.router)],
    ['Revision', report.revision === null ? '—' : escapeMarkdown(String(report.revision))],
    ['Run', markdownCode(report.runId)],
    ['Started', escapeMarkdown(timings.startedAt)],
    ['Duration', formatDuration(millisBetween(timings.startedAt, timings.finishedAt))],
  ];

  if (timings.canaryTrafficStartedAt) {
    rows.push(['Canary traffic from', `${offsetOf(report, timings.canaryTrafficStartedAt)} since start`]);
  }
  // How fast the rollback went, counted from the breach: when the bad measurement was taken (the abort
  // decision follows it), or from the decision when no check caused it (a cancelled job).
  const breachAt = verdictParts(report).decisiveCheck?.at ?? timings.abortDecidedAt;
  if (breachAt) {
    const since = (to: string | null) => (to ? formatSeconds(millisBetween(breachAt, to)) : '—');
    const from = breachAt === timings.abortDecidedAt ? 'Abort' : 'Breach';
    rows.push([
      from === 'Abort' ? 'Abort decided' : 'Breach measured',
      `${offsetOf(report, breachAt)} since start`,
    ]);
    if (from === 'Breach') rows.push(['Breach → abort decided', since(timings.abortDecidedAt)]);
    rows.push([`${from} → traffic restored`, since(timings.trafficRestoredAt)]);
    rows.push([`${from} → canary removed`, since(timings.canaryRemovedAt)]);
  }
  if (timings.promotedAt) rows.push(['Promoted', `${offsetOf(report, timings.promotedAt)} since start`]);
  rows.push(['Checks', checkCounts(report.checks)]);

  return ['| | |', '|---|---|', ...rows.map(([name, value]) => `| ${name} | ${value} |`)].join('\n');
}

function offsetOf(report: RolloutReport, iso: string): string {
  return formatOffset(parseTime(iso) - rolloutOrigin(report));
}

function checkCounts(checks: readonly Check[]): string {
  if (checks.length === 0) return 'none';
  const count = (result: Check['result']) => checks.filter((check) => check.result === result).length;
  const parts = [`${count('pass')} passed`];
  if (count('fail') > 0) parts.push(`**${count('fail')} failed**`);
  if (count('inconclusive') > 0) parts.push(`${count('inconclusive')} no data`);
  return `${checks.length}: ${parts.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------------------
// Hooks

const HOOK_RESULT: Record<HookResult['type'], Record<HookResult['result'], string>> = {
  'confirm-rollout': { pass: 'confirmed', fail: '**not confirmed**' },
  'confirm-promotion': { pass: 'confirmed', fail: '**not confirmed**' },
  'pre-rollout': { pass: 'passed', fail: '**failed**' },
  rollout: { pass: 'passed', fail: '**failed**' },
  'post-rollout': { pass: 'passed', fail: 'failed (verdict unchanged)' },
  rollback: { pass: '**asked for a rollback**', fail: 'no rollback asked' },
};

/** The hooks' answers, in the order they came (rollout hooks are among the checks). */
function hooksSection(hooks: readonly HookResult[]): string {
  const rows = hooks.map((h) =>
    [
      markdownCode(h.hook),
      escapeMarkdown(h.type),
      HOOK_RESULT[h.type][h.result],
      String(h.attempts),
      formatSeconds(h.durationMs),
      escapeMarkdown(h.message),
    ].join(' | '),
  );
  return [
    '### Hooks',
    '',
    '| Hook | Type | Result | Asked | Took | Answer |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Chart

function renderChart(report: RolloutReport, chart: string, options: MarkdownOptions): string | undefined {
  const metric = options.metric ?? chartMetric(report);
  if (chart === 'none' || metric === undefined) return undefined;
  if (chart === 'svg-link') {
    const alt = escapeMarkdown(`${report.name} — ${metric} over the rollout`);
    const target = options.svgPath!.replace(/[ ()<>]/g, (character) => encodeURIComponent(character));
    return `![${alt}](${target})`;
  }
  return renderMermaidTimeline(report, metric);
}

// ---------------------------------------------------------------------------------------------------------
// Checks, per step

function checksSection(report: RolloutReport, maxChecks: number): string {
  const origin = rolloutOrigin(report);
  const metrics = metricNames(report);
  const stepIndexes = [
    ...new Set([...report.steps.map((step) => step.index), ...report.checks.map((check) => check.step)]),
  ].sort((a, b) => a - b);
  if (stepIndexes.length === 0) return '### Checks\n\nNo steps ran.';

  const sections = stepIndexes.map((index) => {
    const step = report.steps.find((s) => s.index === index);
    const checks = report.checks.filter((check) => check.step === index);
    return stepSection(index, step, checks, metrics, origin, maxChecks);
  });
  return ['### Checks', ...sections].join('\n\n');
}

function stepSection(
  index: number,
  step: StepRecord | undefined,
  checks: Check[],
  metrics: string[],
  origin: number,
  maxChecks: number,
): string {
  const weight = step ? ` · ${formatNumber(step.weight)}%` : '';
  const result = step ? ` · ${step.result}` : '';
  const span = step
    ? ` · ${formatOffset(parseTime(step.startedAt) - origin)} → ${
        step.endedAt ? formatOffset(parseTime(step.endedAt) - origin) : 'end'
      }`
    : '';
  const counted = `${checks.length} ${checks.length === 1 ? 'check' : 'checks'}`;
  // Passed steps fold away; the step that failed (or is still running) is open.
  const open = step?.result === 'passed' ? '' : ' open';
  const summary = `<summary><b>Step ${index + 1}${weight}</b>${result} · ${counted}${span}</summary>`;
  const body =
    checks.length === 0 ? 'No checks during this step.' : checksTable(checks, metrics, origin, maxChecks);
  return `<details${open}>\n${summary}\n\n${body}\n\n</details>`;
}

function checksTable(checks: Check[], metrics: string[], origin: number, maxChecks: number): string {
  const lines = ['| Metric | Value | Threshold | Result | Time |', '|---|--:|---|---|--:|'];
  for (const metric of metrics) {
    const ofMetric = checks
      .map((check, order) => ({ check, order }))
      .filter(({ check }) => check.metric === metric)
      .sort((a, b) => parseTime(a.check.at) - parseTime(b.check.at) || a.order - b.order)
      .map(({ check }) => check);
    if (ofMetric.length === 0) continue;

    // Keep the latest checks and every one that did not pass; only passes are ever summarised, so
    // "N more passed" is always true.
    const latest = new Set(ofMetric.slice(-maxChecks));
    const shown = ofMetric.filter((check) => latest.has(check) || check.result !== 'pass');
    const hidden = ofMetric.filter((check) => !shown.includes(check));
    const metricCell = escapeMarkdown(metric);
    if (hidden.length > 0) lines.push(summaryRow(metricCell, hidden, origin));
    for (const check of shown) {
      lines.push(
        `| ${metricCell} | ${check.value === null ? '—' : formatNumber(check.value)} | ${formatThreshold(check)} | ${resultCell(check)} | ${formatOffset(parseTime(check.at) - origin)} |`,
      );
    }
  }
  return lines.join('\n');
}

function summaryRow(metricCell: string, hidden: Check[], origin: number): string {
  const values = hidden.map((check) => check.value).filter((value): value is number => value !== null);
  const range =
    values.length === 0
      ? ''
      : Math.min(...values) === Math.max(...values)
        ? ` (${formatNumber(values[0]!)})`
        : ` (${formatNumber(Math.min(...values))}–${formatNumber(Math.max(...values))})`;
  const first = formatOffset(parseTime(hidden[0]!.at) - origin);
  const last = formatOffset(parseTime(hidden[hidden.length - 1]!.at) - origin);
  const when = first === last ? first : `${first} – ${last}`;
  const text = `_${hidden.length} more passed${range}_`;
  return `| ${metricCell} | ${text} | ${formatThreshold(hidden[hidden.length - 1]!)} | pass | ${when} |`;
}

function resultCell(check: Check): string {
  if (check.result === 'fail') return '**FAIL**';
  if (check.result === 'inconclusive') return 'no data';
  return 'pass';
}
