import { type RawInputs, resolveConfig } from '../config/load.js';
import type { GantryConfig } from '../config/schema.js';
import { repositoryRoot } from '../context/index.js';
import { parseImageReference } from '../context/reference.js';
import { scanImageRef } from '../scan/image.js';
import { findTrivyignoreFiles, loadTrivyignoreFiles } from '../scan/trivyignore.js';
import type { ScanResult } from '../scan/types.js';
import { InputError } from '../util/errors.js';
import type { CommandOptions, CommandOutcome } from './outcome.js';

export function runScanCommand(raw: RawInputs, options: CommandOptions): Promise<CommandOutcome<ScanResult>> {
  return scanCommand(resolveConfig({ command: 'scan', raw, configPath: options.configPath }));
}

/** Scans `config.image` (local or in a registry) and gates on the threshold; a front end that resolved the config. */
export async function scanCommand(config: GantryConfig): Promise<CommandOutcome<ScanResult>> {
  if (!config.image)
    throw new InputError('--image', 'required: the local image or registry reference to scan');
  parseImageReference(config.image, '--image');
  const scan = config.scan;
  const trivyignoreFiles = scan.trivyignore
    ? findTrivyignoreFiles([config.build.context, await repositoryRoot(process.cwd()), process.cwd()])
    : [];
  // Read once here so a malformed file is bad input before the image is exported or scanned.
  loadTrivyignoreFiles(trivyignoreFiles);
  const result = await scanImageRef({
    ref: config.image,
    insecureRegistries: config.registry.insecure,
    platforms: config.build.platforms,
    scanner: scan.scanner,
    kinds: scan.scanners,
    severityThreshold: scan.severityThreshold === 'none' ? 'unknown' : scan.severityThreshold,
    gate: scan.severityThreshold !== 'none',
    ignoreUnfixed: scan.ignoreUnfixed,
    ignoreFile: scan.ignoreFile,
    trivyignoreFiles,
    reports: { sarif: scan.sarif, gitlab: scan.gitlabReport, junit: scan.junit, markdown: scan.markdown },
  });
  const c = result.counts;
  const summary = [
    `${result.passed ? 'PASSED' : 'FAILED'}: ${config.image} — critical ${c.critical}, high ${c.high}, medium ${c.medium}, low ${c.low}, unknown ${c.unknown} (threshold ${scan.severityThreshold})`,
    ...(result.platforms ?? []).map(
      (p) =>
        `  ${p.platform.padEnd(16)} ${p.passed ? 'passed' : 'FAILED'} — critical ${p.counts.critical}, high ${p.counts.high}, medium ${p.counts.medium}, low ${p.counts.low}, unknown ${p.counts.unknown}`,
    ),
    ...result.findings
      .slice(0, 20)
      .map(
        (f) =>
          `  ${f.severity.padEnd(8)} ${f.id} ${f.package ? `${f.package.name}@${f.package.version}` : (f.location?.path ?? '')} ${f.title}${f.platforms ? ` [${f.platforms.join(', ')}]` : ''}`,
      ),
    ...(result.findings.length > 20 ? [`  …and ${result.findings.length - 20} more`] : []),
    ...result.expiredIgnores.map(
      (e) =>
        `  note: ignore entry ${e.id}${e.source ? ` (${e.source})` : ''} expired on ${e.expires} and no longer applies`,
    ),
    ...(result.noExpiryIgnores ?? []).map(
      (e) => `  note: ignore entry ${e.id}${e.source ? ` (${e.source})` : ''} has no expiry date`,
    ),
  ].join('\n');
  return { exitCode: result.passed ? 0 : 1, result, summary };
}
