import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InputError } from '../util/errors.js';
import { log } from '../util/log.js';
import { VERSION } from '../version.js';
import { GrypeScanner } from './grype.js';
import { evaluatePolicy, loadIgnoreFile, type PolicyIgnore, parseSeverityThreshold } from './policy.js';
import { renderGitLabReport } from './report/gitlab.js';
import { renderJUnit } from './report/junit.js';
import { renderScanMarkdown } from './report/markdown.js';
import { renderSarif } from './report/sarif.js';
import { countBySeverity } from './severity.js';
import { TrivyScanner } from './trivy.js';
import { displayPath, loadTrivyignoreFiles } from './trivyignore.js';
import {
  type Finding,
  type ReportContext,
  type ReportPaths,
  SCAN_KINDS,
  SCANNER_NAMES,
  type ScanKind,
  type Scanner,
  type ScanOptions,
  type ScanResult,
  type ScanSummary,
} from './types.js';

export type * from './types.js';

/**
 * The scanner implementation for a name (the one place that knows them all).
 * @throws InputError naming `--scanner` for an unknown name.
 */
export function createScanner(name: string): Scanner {
  switch (name) {
    case 'trivy':
      return new TrivyScanner();
    case 'grype':
      return new GrypeScanner();
    default:
      throw new InputError('--scanner', `expected one of ${SCANNER_NAMES.join(', ')}, got "${name}"`);
  }
}

/**
 * Scans an image, applies the policy (threshold, ignore-unfixed, ignore file) and writes the requested
 * reports. All input is validated before the scanner runs, so bad input changes nothing and costs nothing.
 *
 * @example
 * const result = await scanImage({
 *   target: { ref: 'registry.example.com/app:1.2.3' },
 *   scanner: 'trivy', kinds: ['vuln', 'secret'], severityThreshold: 'high', ignoreUnfixed: true,
 *   ignoreFile: '.gantry-ignore.yml', reports: { sarif: 'scan.sarif', markdown: 'scan.md' },
 * });
 * if (!result.passed) process.exitCode = 1;
 *
 * @throws InputError for a bad threshold, scanner, scan kind or ignore file, or an unwritable report path (exit 2)
 * @throws InfraError when the scanner cannot run or its output cannot be read (exit 3)
 */
export async function scanImage(options: ScanOptions): Promise<ScanResult> {
  const requestedThreshold = parseSeverityThreshold(options.severityThreshold);
  const threshold = options.gate === false ? 'none' : requestedThreshold;
  const scanner = createScanner(options.scanner);
  const kinds = validateKinds(options.kinds, scanner);
  const trivyignores = loadTrivyignoreFiles(options.trivyignoreFiles ?? []);
  if (options.trivyignoreFiles?.length) {
    log.info(`honouring ${options.trivyignoreFiles.map(displayPath).join(', ')}`);
  }
  const ignores: PolicyIgnore[] = [
    ...(options.ignoreFile ? await loadIgnoreFile(options.ignoreFile) : []),
    ...trivyignores,
  ];
  const now = options.now ?? new Date();

  const started = new Date();
  const { version, findings } = await log.group(
    `scan ${options.target.ref} with ${scanner.name}`,
    async () => {
      const version = await scanner.version();
      log.info(`${scanner.name} ${version}: ${kinds.join(', ')}`);
      return { version, findings: await scanPlatforms(scanner, options, kinds) };
    },
  );
  const finished = new Date();

  const outcome = evaluatePolicy(findings, { threshold, ignoreUnfixed: options.ignoreUnfixed, ignores, now });
  const platforms = options.platforms?.length
    ? options.platforms.map(({ platform }) => {
        const found = (f: Finding) => f.platforms?.includes(platform) ?? false;
        return {
          platform,
          passed: !outcome.failing.some(found),
          counts: countBySeverity(outcome.findings.filter(found)),
        };
      })
    : undefined;
  const summary: ScanSummary = {
    image: options.target.ref,
    scanner: scanner.name,
    scannerVersion: version,
    threshold,
    ...outcome,
    ...(platforms ? { platforms } : {}),
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
  };
  for (const expired of summary.expiredIgnores) {
    log.warn(
      `ignore entry ${expired.id}${expired.source ? ` (${expired.source})` : ''} expired on ${expired.expires} and no longer applies`,
    );
  }
  const context: ReportContext = {
    gantryVersion: VERSION,
    dockerfile: options.dockerfile ?? 'Dockerfile',
  };
  const reports = await writeScanReports(summary, options.reports, context);
  return { ...summary, reports };
}

/**
 * Runs the scanner once, or once per platform of a multi-platform image; a finding present on several
 * platforms is reported once, with the platforms it was found on.
 */
async function scanPlatforms(scanner: Scanner, options: ScanOptions, kinds: ScanKind[]): Promise<Finding[]> {
  if (!options.platforms?.length) return scanner.scan(options.target, { kinds });
  const perPlatform = [];
  for (const { platform, target } of options.platforms) {
    log.info(`platform ${platform}`);
    perPlatform.push({ platform, findings: await scanner.scan(target, { kinds }) });
  }
  return mergePlatformFindings(perPlatform);
}

/**
 * One finding per problem across platforms: the same id in the same package version or file on several
 * platforms is one finding whose `platforms` lists them, in scan order.
 */
export function mergePlatformFindings(perPlatform: { platform: string; findings: Finding[] }[]): Finding[] {
  const merged = new Map<string, Finding>();
  for (const { platform, findings } of perPlatform) {
    for (const finding of findings) {
      const key = [
        finding.class,
        finding.id,
        finding.package?.name,
        finding.package?.version,
        finding.location?.path,
        finding.location?.startLine,
      ].join('\u0000');
      const seen = merged.get(key);
      if (seen) seen.platforms = [...(seen.platforms ?? []), platform];
      else merged.set(key, { ...finding, platforms: [platform] });
    }
  }
  return [...merged.values()];
}

function validateKinds(kinds: readonly ScanKind[], scanner: Scanner): ScanKind[] {
  if (kinds.length === 0)
    throw new InputError('--scanners', `expected at least one of ${SCAN_KINDS.join(', ')}`);
  for (const kind of kinds) {
    if (!(SCAN_KINDS as readonly string[]).includes(kind)) {
      throw new InputError('--scanners', `expected ${SCAN_KINDS.join(', ')}, got "${kind}"`);
    }
    if (!scanner.kinds.includes(kind)) {
      throw new InputError(
        '--scanners',
        `${scanner.name} cannot scan for ${kind} (it supports ${scanner.kinds.join(', ')}); use --scanner trivy`,
      );
    }
  }
  return [...new Set(kinds)];
}

/** Writes each requested report, creating its folder; returns the paths written. */
async function writeScanReports(
  summary: ScanSummary,
  paths: ReportPaths,
  context: ReportContext,
): Promise<ReportPaths> {
  const renderers: Record<keyof ReportPaths, () => string> = {
    sarif: () => renderSarif(summary, context),
    gitlab: () => renderGitLabReport(summary, context.gantryVersion),
    junit: () => renderJUnit(summary),
    markdown: () => renderScanMarkdown(summary),
  };
  const flags: Record<keyof ReportPaths, string> = {
    sarif: '--sarif',
    gitlab: '--gitlab-report',
    junit: '--junit',
    markdown: '--markdown',
  };
  const written: ReportPaths = {};
  for (const [kind, render] of Object.entries(renderers) as [keyof ReportPaths, () => string][]) {
    const path = paths[kind];
    if (!path) continue;
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, render());
    } catch (error) {
      throw new InputError(
        flags[kind],
        `cannot write the ${kind} report to "${path}": ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    written[kind] = path;
  }
  return written;
}
