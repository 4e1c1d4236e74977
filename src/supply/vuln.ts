/**
 * The scan verdict as an attestation: cosign's vulnerability predicate
 * (https://cosign.sigstore.dev/attestation/vuln/v1: invocation, scanner {uri, version, db, result}, metadata
 * {scanStartedOn, scanFinishedOn}), the shape `cosign attest --type vuln` and `trivy --format cosign-vuln`
 * write. Gantry puts its own scan summary in `scanner.result`; a deploy policy reads the counts back from it —
 * or from a trivy JSON report in the same place, so a vuln attestation made by trivy is understood as well.
 */
import type { ScanSummary, SeverityCounts } from '../scan/types.js';

export interface VulnPredicate {
  invocation: { parameters: unknown; uri: string; event_id: string; 'builder.id': string };
  scanner: { uri: string; version: string; db: { uri: string; version: string }; result: unknown };
  metadata: { scanStartedOn: string; scanFinishedOn: string };
}

/** What `scanner.result` holds when Gantry wrote it. */
export interface GantryScanResult {
  gantry: 'scan/v1';
  threshold: string;
  passed: boolean;
  counts: SeverityCounts;
  findings: { id: string; severity: string; package?: string; version?: string; fixedVersion?: string }[];
  ignored: string[];
}

const SCANNER_URIS: Record<string, string> = {
  trivy: 'pkg:github/aquasecurity/trivy',
  grype: 'pkg:github/anchore/grype',
};

/** The vuln predicate of a scan: the verdict, the counts after ignores and every finding left. */
export function vulnPredicate(
  scan: Pick<
    ScanSummary,
    | 'scanner'
    | 'scannerVersion'
    | 'threshold'
    | 'passed'
    | 'counts'
    | 'findings'
    | 'ignored'
    | 'startedAt'
    | 'finishedAt'
  >,
  invocation: { uri?: string; eventId?: string; builderId?: string } = {},
): VulnPredicate {
  const result: GantryScanResult = {
    gantry: 'scan/v1',
    threshold: scan.threshold,
    passed: scan.passed,
    counts: scan.counts,
    findings: scan.findings.map((finding) => ({
      id: finding.id,
      severity: finding.severity,
      ...(finding.package
        ? {
            package: finding.package.name,
            version: finding.package.version,
            ...(finding.package.fixedVersion ? { fixedVersion: finding.package.fixedVersion } : {}),
          }
        : {}),
    })),
    ignored: scan.ignored.map((entry) => entry.id),
  };
  return {
    invocation: {
      parameters: { threshold: scan.threshold },
      uri: invocation.uri ?? '',
      event_id: invocation.eventId ?? '',
      'builder.id': invocation.builderId ?? '',
    },
    scanner: {
      uri: SCANNER_URIS[scan.scanner] ?? scan.scanner,
      version: scan.scannerVersion,
      db: { uri: '', version: '' },
      result,
    },
    metadata: { scanStartedOn: scan.startedAt, scanFinishedOn: scan.finishedAt },
  };
}

/**
 * The severity counts a vuln predicate reports, from Gantry's result or a trivy JSON report
 * (`Results[].Vulnerabilities[].Severity`); undefined when the result is in neither shape.
 */
export function vulnCounts(predicate: unknown): SeverityCounts | undefined {
  const result = (predicate as { scanner?: { result?: unknown } } | undefined)?.scanner?.result;
  if (!result || typeof result !== 'object') return undefined;
  const gantry = result as Partial<GantryScanResult>;
  if (gantry.gantry === 'scan/v1' && gantry.counts) return gantry.counts;
  const trivy = result as { Results?: { Vulnerabilities?: { Severity?: string }[] | null }[] | null };
  if (!Array.isArray(trivy.Results)) return undefined;
  const counts: SeverityCounts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  for (const target of trivy.Results) {
    for (const vulnerability of target.Vulnerabilities ?? []) {
      const severity = (vulnerability.Severity ?? 'UNKNOWN').toLowerCase() as keyof SeverityCounts;
      counts[severity in counts ? severity : 'unknown'] += 1;
    }
  }
  return counts;
}
