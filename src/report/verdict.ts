/**
 * The one sentence a person reads first: what happened to which service, and why
 * (`Rolled back web in shop: error-rate 0.43 above max 0.05 at step 2 (25%)`).
 */
import type { Check, RolloutReport, Verdict } from '../deploy/types.js';
import { formatDuration, formatNumber, formatStep, millisBetween, parseTime } from './format.js';

/** The verdict as a status a person reads (no emoji: screen readers and plain logs read it too). */
export const VERDICT_STATUS: Record<Verdict, string> = {
  promoted: 'Promoted',
  'rolled-back': 'Rolled back',
  failed: 'Failed',
};

/** The parts of the verdict line, unescaped; Markdown and plain text put them together differently. */
export interface VerdictParts {
  /** `Rolled back` */
  status: string;
  /** `web in shop` */
  subject: string;
  /** `error-rate 0.43 above max 0.05 at step 2 (25%)` */
  detail: string;
  /** The check that decided a rollback, when analysis decided it. */
  decisiveCheck: Check | undefined;
}

/**
 * The check that made the analysis abort: the last failed or inconclusive measurement, at or before the abort
 * decision, of the step whose analysis failed. Undefined when the rollout was promoted, or stopped for
 * another reason (cancelled, infrastructure) — then the report's `reason` says why, and no metric is blamed.
 */
export function decisiveCheck(report: RolloutReport): Check | undefined {
  if (report.verdict === 'promoted') return undefined;
  const failedStep = report.steps.find((step) => step.result === 'failed');
  if (failedStep === undefined) return undefined;
  const decidedAt = parseTime(report.timings.abortDecidedAt);
  let decisive: Check | undefined;
  for (const check of report.checks) {
    if (check.step !== failedStep.index || check.result === 'pass') continue;
    if (Number.isFinite(decidedAt) && parseTime(check.at) > decidedAt) continue;
    // At equal times the first in the report wins: the engine judges metrics in that order.
    if (decisive === undefined || parseTime(check.at) > parseTime(decisive.at)) decisive = check;
  }
  return decisive;
}

/** Why a single check did not pass, in words: `error-rate 0.43 above max 0.05`. */
export function describeBreach(check: Check): string {
  if (check.result === 'inconclusive') return `${check.metric} had no data`;
  // A hook's answer has no value: its message is what it said.
  if (check.value === null) return `${check.metric}: ${check.message}`;
  if (check.max !== undefined && check.value > check.max) {
    return `${check.metric} ${formatNumber(check.value)} above max ${formatNumber(check.max)}`;
  }
  if (check.min !== undefined && check.value < check.min) {
    return `${check.metric} ${formatNumber(check.value)} below min ${formatNumber(check.min)}`;
  }
  // Failed on something other than the bounds (a baseline comparison): the engine's sentence says what.
  return check.message
    ? `${check.metric}: ${check.message}`
    : `${check.metric} ${formatNumber(check.value)} failed`;
}

function stepWeight(report: RolloutReport, index: number): number | undefined {
  return report.steps.find((step) => step.index === index)?.weight;
}

function promotedDetail(report: RolloutReport): string {
  const total = report.checks.length;
  const failed = report.checks.filter((check) => check.result === 'fail').length;
  const noData = report.checks.filter((check) => check.result === 'inconclusive').length;
  const weights = [...report.steps]
    .sort((a, b) => a.index - b.index)
    .map((step) => `${formatNumber(step.weight)}%`);
  const stepsText =
    weights.length === 0
      ? ''
      : ` over ${weights.length} ${weights.length === 1 ? 'step' : 'steps'} (${weights.join(' → ')})`;
  const duration = millisBetween(
    report.timings.startedAt,
    report.timings.finishedAt ?? report.timings.promotedAt,
  );
  const durationText = Number.isFinite(duration) ? ` in ${formatDuration(duration)}` : '';

  let checksText: string;
  if (total === 0) checksText = 'no analysis checks';
  else if (failed === 0 && noData === 0)
    checksText = `all ${total} ${total === 1 ? 'check' : 'checks'} passed`;
  else {
    const tolerated = [failed > 0 ? `${failed} failed` : '', noData > 0 ? `${noData} had no data` : '']
      .filter(Boolean)
      .join(' and ');
    checksText = `${total} checks, ${tolerated} within the limits`;
  }
  return `${checksText}${stepsText}${durationText}`;
}

/** The verdict line's parts for a report. */
export function verdictParts(report: RolloutReport): VerdictParts {
  const status = VERDICT_STATUS[report.verdict] ?? String(report.verdict);
  const subject = `${report.name} in ${report.namespace}`;
  if (report.verdict === 'promoted') {
    return { status, subject, detail: promotedDetail(report), decisiveCheck: undefined };
  }
  const check = decisiveCheck(report);
  if (check !== undefined) {
    const where = formatStep(check.step, stepWeight(report, check.step));
    if (check.result === 'inconclusive' || check.value === null) {
      const times = report.checks.filter(
        (c) => c.metric === check.metric && c.step === check.step && c.result === 'inconclusive',
      ).length;
      const timesText = times > 1 ? ` ${times} times` : '';
      return {
        status,
        subject,
        detail: `${check.metric} had no data${timesText} at ${where}`,
        decisiveCheck: check,
      };
    }
    return { status, subject, detail: `${describeBreach(check)} at ${where}`, decisiveCheck: check };
  }
  const reason = report.reason.trim().replace(/\.$/, '');
  return { status, subject, detail: reason || 'no reason recorded', decisiveCheck: undefined };
}

/**
 * The verdict as one plain-text line, for logs, annotations and CI outputs.
 *
 * @example verdictLine(report) // 'Rolled back web in shop: error-rate 0.43 above max 0.05 at step 2 (25%)'
 */
export function verdictLine(report: RolloutReport): string {
  const { status, subject, detail } = verdictParts(report);
  return `${status} ${subject}: ${detail}`;
}
