import { compareFindings, meetsThreshold } from '../severity.js';
import { type ScanSummary, SEVERITIES } from '../types.js';
import { findingSubject } from './common.js';

/** Rows shown in the findings table before "…and N more": job summaries and MR notes have size limits. */
export const MARKDOWN_MAX_ROWS = 50;

/**
 * A readable summary for a job summary or merge-request note: a verdict line, counts per severity, the
 * findings worst first (capped at {@link MARKDOWN_MAX_ROWS}), then the ignored findings and the ignore
 * entries that expired.
 */
export function renderScanMarkdown(result: ScanSummary, maxRows = MARKDOWN_MAX_ROWS): string {
  const scanner = `${result.scanner} ${result.scannerVersion}`;
  const failing = result.failing.length;
  const verdict = result.passed
    ? `✅ **Scan passed**: no finding at or above **${result.threshold}** in \`${result.image}\` (${scanner}).`
    : `❌ **Scan failed**: ${failing} finding${failing === 1 ? '' : 's'} at or above **${result.threshold}** in \`${result.image}\` (${scanner}).`;
  const lines = [
    `### Image scan: \`${cell(result.image)}\``,
    '',
    verdict,
    '',
    '| Critical | High | Medium | Low | Unknown | Ignored |',
    '|---:|---:|---:|---:|---:|---:|',
    `| ${SEVERITIES.map((severity) => result.counts[severity]).join(' | ')} | ${result.ignored.length} |`,
  ];
  if (result.unfixedSkipped > 0) {
    lines.push(
      '',
      `_${result.unfixedSkipped} vulnerabilit${result.unfixedSkipped === 1 ? 'y' : 'ies'} without a fix not shown (ignore-unfixed)._`,
    );
  }

  const findings = [...result.findings].sort(compareFindings);
  if (findings.length > 0) {
    lines.push(
      '',
      '#### Findings',
      '',
      '| | Severity | ID | Package / file | Installed | Fixed in | Title |',
      '|---|---|---|---|---|---|---|',
    );
    for (const finding of findings.slice(0, maxRows)) {
      const id = finding.primaryUrl ? `[${cell(finding.id)}](${finding.primaryUrl})` : cell(finding.id);
      const mark = meetsThreshold(finding.severity, result.threshold) ? '❌' : '';
      lines.push(
        `| ${mark} | ${finding.severity} | ${id} | ${cell(finding.package?.name ?? findingSubject(finding))} | ${cell(finding.package?.version ?? '')} | ${cell(finding.package?.fixedVersion ?? '')} | ${cell(finding.title)} |`,
      );
    }
    if (findings.length > maxRows) lines.push('', `…and ${findings.length - maxRows} more.`);
  }

  if (result.ignored.length > 0) {
    lines.push(
      '',
      '#### Ignored',
      '',
      '| ID | Severity | Package | Reason | Until |',
      '|---|---|---|---|---|',
    );
    for (const ignored of result.ignored) {
      lines.push(
        `| ${cell(ignored.id)} | ${ignored.severity} | ${cell(ignored.package ?? '')} | ${cell(ignored.reason)} | ${cell(ignored.expires ?? '')} |`,
      );
    }
  }

  if (result.expiredIgnores.length > 0) {
    lines.push(
      '',
      '#### Expired ignore entries',
      '',
      'These entries are past their date and no longer silence anything: fix the finding or renew the entry.',
      '',
      '| ID | Expired | Reason |',
      '|---|---|---|',
    );
    for (const expired of result.expiredIgnores) {
      lines.push(`| ${cell(expired.id)} | ${cell(expired.expires)} | ${cell(expired.reason)} |`);
    }
  }

  const noExpiry = result.noExpiryIgnores ?? [];
  if (noExpiry.length > 0) {
    lines.push(
      '',
      '#### Ignore entries without an expiry',
      '',
      'These entries silence their findings for good: give each an expiry date (`expires:` in the ignore file, `exp:YYYY-MM-DD` in .trivyignore, `expired_at:` in .trivyignore.yaml) so it is looked at again.',
      '',
      '| ID | From | Reason |',
      '|---|---|---|',
    );
    for (const entry of noExpiry) {
      lines.push(`| ${cell(entry.id)} | ${cell(entry.source ?? 'ignore file')} | ${cell(entry.reason)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Makes text safe inside a Markdown table cell: one line, no cell breaks, no stray HTML. */
function cell(text: string): string {
  return text
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .trim();
}
