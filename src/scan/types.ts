/** Severities from worst to least; the order is used by the policy's threshold. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'unknown'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What a scanner looks for. Names follow trivy's `--scanners`. */
export const SCAN_KINDS = ['vuln', 'secret', 'misconfig'] as const;
export type ScanKind = (typeof SCAN_KINDS)[number];

export type FindingClass = 'vulnerability' | 'secret' | 'misconfiguration';

/** One problem found in an image, the same shape whatever scanner found it. */
export interface Finding {
  /** CVE/GHSA id, secret rule id or misconfiguration check id. */
  id: string;
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
}

/** A finding the ignore file silenced. */
export interface IgnoredFinding {
  id: string;
  severity: Severity;
  package?: string;
  reason: string;
  expires?: string;
}

/** An ignore-file entry past its date: it no longer applies, and the report says so. */
export interface ExpiredIgnore {
  id: string;
  reason: string;
  expires: string;
}

/** Where the image to scan comes from. */
export interface ScanTarget {
  /** The image reference as the user named it (shown in reports). */
  ref: string;
  /** An OCI/docker archive of the image on disk (a locally built image not yet pushed). */
  archive?: string;
  /** Talk to the registry over plain HTTP / without TLS verification (the sandbox registry). */
  insecure?: boolean;
}

/** A scanner runs one tool and normalises its findings. One file per implementation (trivy.ts, grype.ts). */
export interface Scanner {
  readonly name: 'trivy' | 'grype';
  version(): Promise<string>;
  scan(target: ScanTarget, options: { kinds: readonly ScanKind[] }): Promise<Finding[]>;
}

export type SeverityCounts = Record<Severity, number>;
