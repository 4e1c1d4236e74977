import {
  type Finding,
  SEVERITIES,
  type Severity,
  type SeverityCounts,
  type SeverityThreshold,
} from './types.js';

/** Rank of a severity: 0 for critical, growing as it gets milder (the order of {@link SEVERITIES}). */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/**
 * True when `severity` meets the gate's threshold, i.e. is at or above it. `unknown` is the mildest
 * severity, so an `unknown` threshold fails on every finding, and `none` on none.
 */
export function meetsThreshold(severity: Severity, threshold: SeverityThreshold): boolean {
  if (threshold === 'none') return false;
  return severityRank(severity) <= severityRank(threshold);
}

/**
 * Maps a scanner's severity word to Gantry's. Trivy says `HIGH`, grype `High`, GitHub `moderate`;
 * anything unrecognised (`Negligible`, empty) is `unknown` rather than an error, so one odd record
 * never loses a whole report.
 */
export function normalizeSeverity(raw: string | undefined | null): Severity {
  const word = (raw ?? '').trim().toLowerCase();
  if (word === 'moderate') return 'medium';
  return (SEVERITIES as readonly string[]).includes(word) ? (word as Severity) : 'unknown';
}

/** A count of zero for every severity. */
export function emptyCounts(): SeverityCounts {
  return { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
}

/** How many findings there are of each severity. */
export function countBySeverity(findings: readonly Pick<Finding, 'severity'>[]): SeverityCounts {
  const counts = emptyCounts();
  for (const finding of findings) counts[finding.severity] += 1;
  return counts;
}

/** Sort order for findings: worst first, then by id, then by package, so reports are stable. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(a.severity) - severityRank(b.severity) ||
    a.id.localeCompare(b.id) ||
    (a.package?.name ?? a.location?.path ?? '').localeCompare(b.package?.name ?? b.location?.path ?? '')
  );
}

/** `HIGH`-style label for reports. */
export function severityLabel(severity: Severity): string {
  return severity.toUpperCase();
}
