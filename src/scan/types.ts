/** Severities from worst to least; the order is used by the policy's threshold. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'unknown'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A gate's threshold: a finding at or above it fails the scan; `none` never fails. */
export const SEVERITY_THRESHOLDS = [...SEVERITIES, 'none'] as const;
export type SeverityThreshold = (typeof SEVERITY_THRESHOLDS)[number];

/** What a scanner looks for. Names follow trivy's `--scanners`. */
export const SCAN_KINDS = ['vuln', 'secret', 'misconfig'] as const;
export type ScanKind = (typeof SCAN_KINDS)[number];

export type FindingClass = 'vulnerability' | 'secret' | 'misconfiguration';

/** One problem found in an image, the same shape whatever scanner found it. */
export interface Finding {
  /** CVE/GHSA id, secret rule id or misconfiguration check id. */
  id: string;
  /** Other ids of the same problem (the GHSA id of a CVE, …); ignore-file entries match these too. */
  aliases?: string[];
  class: FindingClass;
  severity: Severity;
  title: string;
  description?: string;
  /** Vulnerable package, for vulnerabilities. */
  package?: { name: string; version: string; fixedVersion?: string; type?: string; purl?: string };
  /** File inside the image (and line, where known): the package manifest, the secret's file, … */
  location?: { path: string; startLine?: number; endLine?: number };
  /** The scanner's target (layer, OS, lang-pkgs file) the finding came from. */
  target?: string;
  primaryUrl?: string;
  references: string[];
  cvssScore?: number;
  /** The CVSS vector the score came from (`CVSS:3.1/AV:N/…`). */
  cvssVector?: string;
  /** Who published that CVSS (`nvd`, `ghsa`, …). */
  cvssSource?: string;
  /** The image's operating system (`alpine 3.16.2`), when the scanner detected one. */
  operatingSystem?: string;
  /** The platforms (`linux/arm64`) it was found in, when a multi-platform image was scanned per platform. */
  platforms?: string[];
}

/** A finding the ignore file (or a .trivyignore) silenced. */
export interface IgnoredFinding {
  id: string;
  severity: Severity;
  package?: string;
  reason: string;
  expires?: string;
  /** The .trivyignore file of the entry; unset for Gantry's ignore file. */
  source?: string;
}

/** An ignore-file entry past its date: it no longer applies, and the report says so. */
export interface ExpiredIgnore {
  id: string;
  reason: string;
  expires: string;
  source?: string;
}

/** An ignore entry without an expiry date: it silences its findings for good. */
export interface NoExpiryIgnore {
  id: string;
  reason: string;
  /** The .trivyignore file of the entry; unset for Gantry's ignore file. */
  source?: string;
}

/** Where the image to scan comes from. */
export interface ScanTarget {
  /** The image reference as the user named it (shown in reports). */
  ref: string;
  /** An OCI/docker archive of the image on disk (a locally built image not yet pushed). */
  archive?: string;
  /** Talk to the registry over plain HTTP / without TLS verification (the sandbox registry). */
  insecure?: boolean;
  /** Registry credentials for a private image; handed to the scanner in its environment, never on argv. */
  credentials?: { username: string; password: string };
  /** One platform (`linux/arm64`) of a multi-platform image. */
  platform?: string;
}

export const SCANNER_NAMES = ['trivy', 'grype'] as const;
export type ScannerName = (typeof SCANNER_NAMES)[number];

/** A scanner runs one tool and normalises its findings. One file per implementation (trivy.ts, grype.ts). */
export interface Scanner {
  readonly name: ScannerName;
  /** What this scanner can look for; asking for anything else is an input error. */
  readonly kinds: readonly ScanKind[];
  version(): Promise<string>;
  scan(target: ScanTarget, options: { kinds: readonly ScanKind[] }): Promise<Finding[]>;
}

export type SeverityCounts = Record<Severity, number>;

/** Where each report goes; a report is written only when its path is given. */
export interface ReportPaths {
  sarif?: string;
  gitlab?: string;
  junit?: string;
  markdown?: string;
}

/** What {@link scanImage} is asked to do. */
export interface ScanOptions {
  target: ScanTarget;
  /**
   * A multi-platform image: scan each platform from its own target (a single-platform archive, or the
   * registry image with `platform` set) instead of `target`, and report per platform.
   */
  platforms?: { platform: string; target: ScanTarget }[];
  scanner: ScannerName;
  kinds: ScanKind[];
  /** A finding at or above this severity fails the gate; `none` never fails. */
  severityThreshold: SeverityThreshold;
  /** `false` reports findings but never fails (same effect as the `none` threshold). Default true. */
  gate?: boolean;
  /** Drop vulnerabilities that have no fixed version yet. */
  ignoreUnfixed: boolean;
  /** YAML list of `{id, reason, expires?, package?}` entries that silence findings. */
  ignoreFile?: string;
  /** `.trivyignore` / `.trivyignore.yaml` files whose entries also silence findings (src/scan/trivyignore.ts). */
  trivyignoreFiles?: string[];
  reports: ReportPaths;
  /** Shown as the location of findings that have no file in the image (image-config checks). Default `Dockerfile`. */
  dockerfile?: string;
  /** The clock, for ignore-file expiry; tests pin it. */
  now?: Date;
}

/** The outcome of a scan after the policy (threshold, ignore-unfixed, ignore file) was applied. */
export interface ScanResult {
  image: string;
  scanner: ScannerName;
  scannerVersion: string;
  threshold: SeverityThreshold;
  passed: boolean;
  /** Findings per severity, after ignores. */
  counts: SeverityCounts;
  /** A multi-platform image scanned per platform: each platform's counts and verdict. */
  platforms?: PlatformVerdict[];
  /** Findings after ignores, worst first. */
  findings: Finding[];
  /** The findings at or above the threshold: the ones that failed the gate. */
  failing: Finding[];
  ignored: IgnoredFinding[];
  expiredIgnores: ExpiredIgnore[];
  /** Ignore entries (Gantry's file and .trivyignore files) that never expire. */
  noExpiryIgnores?: NoExpiryIgnore[];
  /** Vulnerabilities left out because no fix exists yet (`ignoreUnfixed`). */
  unfixedSkipped: number;
  /** Paths of the reports written. */
  reports: ReportPaths;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

/** One platform's share of a multi-platform scan. */
export interface PlatformVerdict {
  platform: string;
  passed: boolean;
  counts: SeverityCounts;
}

/** A scan result as report writers see it (written before the report paths are known). */
export type ScanSummary = Omit<ScanResult, 'reports'>;

/** What reports need beyond the result. */
export interface ReportContext {
  /** Gantry's version, for the reports' tool sections. */
  gantryVersion: string;
  /** Path (relative to the repository root) shown for findings that have no file in the image. */
  dockerfile: string;
}
