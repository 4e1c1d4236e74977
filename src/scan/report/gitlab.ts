import { createHash } from 'node:crypto';
import { compareFindings } from '../severity.js';
import type { Finding, ScanSummary, Severity } from '../types.js';
import { SCANNER_INFO, webLinks } from './common.js';

/** The report format version GitLab validates against (security-report-schemas, container scanning). */
export const GITLAB_REPORT_VERSION = '15.0.7';
const SCHEMA_URL = `https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v${GITLAB_REPORT_VERSION}/dist/container-scanning-report-format.json`;

const GITLAB_SEVERITY: Record<Severity, string> = {
  critical: 'Critical',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
  unknown: 'Unknown',
};

/** The part of the container scanning report format 15.0.7 Gantry writes. */
export interface GitLabReport {
  version: string;
  schema: string;
  scan: {
    analyzer: GitLabTool;
    scanner: GitLabTool & { url: string };
    type: 'container_scanning';
    start_time: string;
    end_time: string;
    status: 'success' | 'failure';
    messages: { level: 'info' | 'warn' | 'fatal'; value: string }[];
  };
  vulnerabilities: GitLabVulnerability[];
  remediations: never[];
}

interface GitLabTool {
  id: string;
  name: string;
  version: string;
  vendor: { name: string };
}

export interface GitLabIdentifier {
  type: string;
  name: string;
  value: string;
  url?: string;
}

export interface GitLabVulnerability {
  id: string;
  name: string;
  description: string;
  severity: string;
  solution?: string;
  identifiers: GitLabIdentifier[];
  cvss_vectors?: { vendor: string; vector: string }[];
  links: { url: string }[];
  location: {
    dependency: { package: { name: string }; version: string };
    operating_system: string;
    image: string;
  };
}

/** Namespace of the report's vulnerability UUIDs (UUIDv5): the same finding gets the same id every run. */
const UUID_NAMESPACE = 'b7a1f0c4-5d1e-4c3a-9a59-6a3f1f2e8d40';

/**
 * The scan as a GitLab container scanning report, format 15.0.7 (what current GitLab accepts; trivy's
 * bundled template still emits 14.0.6). Only package vulnerabilities fit this format; secrets and
 * misconfigurations are counted in `scan.messages` and belong to the SARIF/JUnit reports.
 */
export function toGitLabReport(result: ScanSummary, gantryVersion: string): GitLabReport {
  const vulnerabilities = result.findings
    .filter((finding) => finding.class === 'vulnerability' && finding.package)
    .sort(compareFindings);
  const others = result.findings.length - vulnerabilities.length;
  const scanner = SCANNER_INFO[result.scanner];
  return {
    version: GITLAB_REPORT_VERSION,
    schema: SCHEMA_URL,
    scan: {
      analyzer: {
        id: 'gantry',
        name: 'Gantry',
        version: gantryVersion,
        vendor: { name: 'Gantry' },
      },
      scanner: {
        id: result.scanner,
        name: scanner.title,
        url: scanner.url,
        version: result.scannerVersion,
        vendor: { name: scanner.vendor },
      },
      type: 'container_scanning',
      start_time: gitlabTime(result.startedAt),
      end_time: gitlabTime(result.finishedAt),
      status: 'success',
      messages:
        others > 0
          ? [
              {
                level: 'warn',
                value: `${others} secret/misconfiguration finding(s) are not part of this container scanning report; see the SARIF or JUnit report.`,
              },
            ]
          : [],
    },
    vulnerabilities: vulnerabilities.map((finding) => gitlabVulnerability(finding, result.image)),
    remediations: [],
  };
}

/** {@link toGitLabReport} as the text of `gl-container-scanning-report.json`. */
export function renderGitLabReport(result: ScanSummary, gantryVersion: string): string {
  return `${JSON.stringify(toGitLabReport(result, gantryVersion), null, 2)}\n`;
}

function gitlabVulnerability(finding: Finding, image: string): GitLabVulnerability {
  const pkg = finding.package!;
  const links = webLinks([finding.primaryUrl, ...finding.references]).map((url) => ({ url }));
  const cvss =
    finding.cvssVector && /^CVSS:3\.[01]\//.test(finding.cvssVector) ? finding.cvssVector : undefined;
  return {
    id: uuidV5(`${image}|${finding.id}|${pkg.name}|${pkg.version}|${finding.location?.path ?? ''}`),
    name: truncate(finding.title, 255),
    description: truncate(finding.description ?? finding.title, 1_048_576),
    severity: GITLAB_SEVERITY[finding.severity],
    ...(pkg.fixedVersion ? { solution: `Upgrade ${pkg.name} to ${pkg.fixedVersion}` } : {}),
    identifiers: [finding.id, ...(finding.aliases ?? [])].map(identifier),
    ...(cvss ? { cvss_vectors: [{ vendor: cvssVendor(finding.cvssSource), vector: cvss }] } : {}),
    links,
    location: {
      dependency: { package: { name: pkg.name }, version: pkg.version },
      operating_system: finding.operatingSystem ?? 'unknown',
      image,
    },
  };
}

/** Who published a CVSS vector, as GitLab shows it. */
function cvssVendor(source: string | undefined): string {
  const vendors: Record<string, string> = { nvd: 'NVD', ghsa: 'GitHub', redhat: 'Red Hat' };
  return (source && vendors[source]) || source || 'unknown';
}

function identifier(id: string): GitLabIdentifier {
  if (/^CVE-\d+-\d+$/i.test(id)) {
    return { type: 'cve', name: id, value: id, url: `https://nvd.nist.gov/vuln/detail/${id}` };
  }
  if (/^GHSA-/i.test(id))
    return { type: 'ghsa', name: id, value: id, url: `https://github.com/advisories/${id}` };
  return { type: 'vulnerability_id', name: id, value: id };
}

/** GitLab wants `yyyy-mm-ddThh:mm:ss`, in UTC, without fractions or zone. */
function gitlabTime(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A name-based UUID (RFC 4122 version 5, SHA-1) in {@link UUID_NAMESPACE}. */
export function uuidV5(name: string): string {
  const namespace = Buffer.from(UUID_NAMESPACE.replaceAll('-', ''), 'hex');
  const bytes = createHash('sha1').update(namespace).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
