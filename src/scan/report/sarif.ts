import { compareFindings } from '../severity.js';
import type { Finding, ReportContext, ScanSummary, Severity } from '../types.js';
import {
  findingPath,
  findingSubject,
  findingSummary,
  imageRepository,
  SCANNER_INFO,
  webLinks,
} from './common.js';

type SarifLevel = 'error' | 'warning' | 'note';

/** The part of SARIF 2.1.0 Gantry writes. */
export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: SarifRun[];
}

export interface SarifRun {
  tool: {
    driver: {
      name: string;
      organization: string;
      version: string;
      semanticVersion: string;
      informationUri: string;
      rules: SarifRule[];
    };
  };
  automationDetails: { id: string };
  invocations: { executionSuccessful: boolean; startTimeUtc: string; endTimeUtc: string }[];
  results: SarifResult[];
  properties: { image: string; gantryVersion: string; threshold: string; passed: boolean };
}

export interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  helpUri?: string;
  help: { text: string; markdown: string };
  defaultConfiguration: { level: SarifLevel };
  properties: { 'security-severity': string; precision: string; tags: string[] };
}

export interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  message: { text: string };
  locations: {
    physicalLocation: {
      artifactLocation: { uri: string };
      region: { startLine: number; endLine?: number };
    };
    message: { text: string };
  }[];
}

/** GitHub reads `security-severity` (a CVSS-like score as a string) to rank security alerts. */
const SEVERITY_BANDS: Record<Severity, { min: number; max: number; fallback: number }> = {
  critical: { min: 9, max: 10, fallback: 9.5 },
  high: { min: 7, max: 8.9, fallback: 8 },
  medium: { min: 4, max: 6.9, fallback: 5.5 },
  low: { min: 0.1, max: 3.9, fallback: 2 },
  unknown: { min: 0, max: 0, fallback: 0 },
};

const LEVELS: Record<Severity, SarifLevel> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  unknown: 'note',
};

/**
 * The scan as a SARIF 2.1.0 log for GitHub code scanning: one rule per vulnerability/secret rule/check
 * id (with `help` and `properties.security-severity`), one result per finding, located at the file in the
 * image (the package manifest, the file holding a secret) or, for image-configuration findings, the
 * project's Dockerfile. `automationDetails.id` is the image repository, so alerts of successive builds of
 * one image are tracked as one category and close when fixed.
 */
export function toSarif(result: ScanSummary, context: ReportContext): SarifLog {
  const findings = [...result.findings].sort(compareFindings);
  const ruleIndex = new Map<string, number>();
  const rules: SarifRule[] = [];
  for (const finding of findings) {
    if (ruleIndex.has(finding.id)) continue;
    ruleIndex.set(finding.id, rules.length);
    rules.push(rule(finding));
  }
  const scanner = SCANNER_INFO[result.scanner];
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: scanner.title,
            organization: scanner.vendor,
            version: result.scannerVersion,
            semanticVersion: result.scannerVersion,
            informationUri: scanner.url,
            rules,
          },
        },
        automationDetails: { id: `gantry-scan/${imageRepository(result.image)}/` },
        invocations: [
          {
            executionSuccessful: true,
            startTimeUtc: result.startedAt,
            endTimeUtc: result.finishedAt,
          },
        ],
        results: findings.map((finding) => sarifResult(finding, ruleIndex.get(finding.id)!, context)),
        properties: {
          image: result.image,
          gantryVersion: context.gantryVersion,
          threshold: result.threshold,
          passed: result.passed,
        },
      },
    ],
  };
}

/** {@link toSarif} as the text of a `.sarif` file. */
export function renderSarif(result: ScanSummary, context: ReportContext): string {
  return `${JSON.stringify(toSarif(result, context), null, 2)}\n`;
}

function rule(finding: Finding): SarifRule {
  const helpUri = finding.primaryUrl ?? webLinks(finding.references)[0];
  const links = webLinks([finding.primaryUrl, ...finding.references]);
  const description = finding.description?.trim() || finding.title;
  return {
    id: finding.id,
    name: ruleName(finding),
    shortDescription: { text: finding.title },
    fullDescription: { text: description },
    ...(helpUri ? { helpUri } : {}),
    help: {
      text: [description, ...links].join('\n'),
      markdown: [
        `**${finding.class} ${finding.id}** (${finding.severity})`,
        '',
        description,
        ...(links.length > 0 ? ['', ...links.map((link) => `- <${link}>`)] : []),
      ].join('\n'),
    },
    defaultConfiguration: { level: LEVELS[finding.severity] },
    properties: {
      'security-severity': securitySeverity(finding),
      precision: 'very-high',
      tags: ['security', finding.class, finding.severity],
    },
  };
}

function sarifResult(finding: Finding, index: number, context: ReportContext): SarifResult {
  const startLine = finding.location?.startLine ?? 1;
  const endLine = finding.location?.endLine;
  return {
    ruleId: finding.id,
    ruleIndex: index,
    level: LEVELS[finding.severity],
    message: { text: findingSummary(finding) },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: toUri(findingPath(finding, context)) },
          region: { startLine, ...(endLine && endLine >= startLine ? { endLine } : {}) },
        },
        message: { text: findingSubject(finding) },
      },
    ],
  };
}

/**
 * The finding's CVSS score when it agrees with the severity band, else the middle of that band: the
 * severity is what the gate used (trivy may rate with GitHub's advisory while the only CVSS is NVD's),
 * and GitHub's ranking should tell the same story.
 */
function securitySeverity(finding: Finding): string {
  const band = SEVERITY_BANDS[finding.severity];
  const score = finding.cvssScore;
  const value = score !== undefined && score >= band.min && score <= band.max ? score : band.fallback;
  return value.toFixed(1);
}

/** A PascalCase rule name (`CommandInjectionInLodash`), as SARIF viewers expect. */
function ruleName(finding: Finding): string {
  const words = finding.title.match(/[A-Za-z0-9]+/g) ?? [finding.id];
  return words
    .slice(0, 12)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');
}

/** A relative URI reference for a path inside the image (SARIF wants URIs, not raw paths). */
function toUri(path: string): string {
  return path.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
}
