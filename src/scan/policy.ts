import { readFile } from 'node:fs/promises';
import yaml from 'js-yaml';
import { z } from 'zod';
import { InputError } from '../util/errors.js';
import { compareFindings, countBySeverity, meetsThreshold } from './severity.js';
import {
  type ExpiredIgnore,
  type Finding,
  type IgnoredFinding,
  type NoExpiryIgnore,
  SEVERITY_THRESHOLDS,
  type SeverityCounts,
  type SeverityThreshold,
} from './types.js';

/**
 * Parses a `--severity-threshold` value, case-insensitively.
 * @throws InputError naming `--severity-threshold` when the value is not a severity or `none`.
 */
export function parseSeverityThreshold(value: string, input = '--severity-threshold'): SeverityThreshold {
  const word = String(value).trim().toLowerCase();
  if ((SEVERITY_THRESHOLDS as readonly string[]).includes(word)) return word as SeverityThreshold;
  throw new InputError(input, `expected one of ${SEVERITY_THRESHOLDS.join(', ')}, got "${value}"`);
}

// --- the ignore file ---------------------------------------------------------------------------------

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine((text) => isCalendarDate(text), 'not a calendar date');

/** True for a real YYYY-MM-DD day (`2025-02-30` is not). */
function isCalendarDate(text: string): boolean {
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}

const ignoreEntrySchema = z.strictObject({
  id: z.string().trim().min(1, 'expected a vulnerability, secret rule or check id'),
  reason: z.string().trim().min(1, 'a reason is required: say why this finding is acceptable'),
  expires: isoDate.optional(),
  package: z.string().trim().min(1).optional(),
});

const ignoreFileSchema = z.array(ignoreEntrySchema);

/** One entry of the ignore file: silences findings with this id (in this package, when given). */
export type IgnoreEntry = z.infer<typeof ignoreEntrySchema>;

/**
 * An entry as the policy applies it: from Gantry's ignore file, or from a `.trivyignore(.yaml)` (src/scan/
 * trivyignore.ts), whose entries may also be scoped to package URLs or file paths.
 */
export interface PolicyIgnore extends IgnoreEntry {
  /** The file it came from (trivyignore files; Gantry's own ignore file leaves it unset). */
  source?: string;
  /** Only findings in one of these packages (`pkg:npm/lodash@4.17.20`; a purl without version matches any). */
  purls?: string[];
  /** Only findings in one of these files of the image (trivy's globs: `*` and `**`). */
  paths?: string[];
}

/**
 * Reads and validates an ignore file: a YAML list of `{id, reason, expires?, package?}`, e.g.
 * ```yaml
 * - id: CVE-2021-23337
 *   package: lodash
 *   reason: template() is never called with user input
 *   expires: 2025-06-30
 * ```
 * @throws InputError naming `--ignore-file` and what is wrong (unreadable, not YAML, which entry/field).
 */
export async function loadIgnoreFile(path: string): Promise<IgnoreEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new InputError('--ignore-file', `cannot read "${path}": ${reason}`);
  }
  return parseIgnoreFile(text, path);
}

/** Validates the text of an ignore file (see {@link loadIgnoreFile}); `path` only names it in errors. */
export function parseIgnoreFile(text: string, path: string): IgnoreEntry[] {
  let data: unknown;
  try {
    // CORE_SCHEMA: no YAML timestamps, so `expires: 2025-06-30` stays the string the user wrote.
    data = yaml.load(text, { schema: yaml.CORE_SCHEMA, filename: path });
  } catch (error) {
    const yamlError = error as yaml.YAMLException;
    const line = yamlError.mark ? ` (line ${yamlError.mark.line + 1})` : '';
    throw new InputError(
      '--ignore-file',
      `"${path}" is not valid YAML: ${yamlError.reason ?? yamlError.message}${line}`,
    );
  }
  if (data === null || data === undefined) return [];
  const parsed = ignoreFileSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.path.length === 0) {
    throw new InputError(
      '--ignore-file',
      `"${path}" must be a YAML list of {id, reason, expires?, package?} entries`,
    );
  }
  const [index, field] = issue.path;
  const where = `entry ${Number(index) + 1}${field === undefined ? '' : ` field "${String(field)}"`}`;
  const message =
    issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message;
  throw new InputError('--ignore-file', `"${path}" ${where}: ${message}`);
}

// --- the gate ----------------------------------------------------------------------------------------

export interface PolicyOptions {
  /** A finding at or above it fails; `none` never fails. */
  threshold: SeverityThreshold;
  ignoreUnfixed: boolean;
  ignores: readonly PolicyIgnore[];
  now: Date;
}

export interface PolicyOutcome {
  passed: boolean;
  /** Findings kept after ignores, worst first. */
  findings: Finding[];
  /** The kept findings at or above the threshold. */
  failing: Finding[];
  counts: SeverityCounts;
  ignored: IgnoredFinding[];
  expiredIgnores: ExpiredIgnore[];
  /** Ignore entries with no expiry date: they silence their findings for good, and the report says so. */
  noExpiryIgnores: NoExpiryIgnore[];
  unfixedSkipped: number;
}

/**
 * Applies the scan policy: drops unfixed vulnerabilities when asked, silences findings matched by a live
 * ignore entry (an entry whose `expires` day is over no longer applies and is reported instead), and fails
 * when any remaining finding is at or above the threshold.
 */
export function evaluatePolicy(findings: readonly Finding[], options: PolicyOptions): PolicyOutcome {
  const today = options.now.toISOString().slice(0, 10);
  const live = options.ignores.filter((entry) => !entry.expires || entry.expires >= today);
  const expiredIgnores = options.ignores
    .filter((entry) => entry.expires && entry.expires < today)
    .map((entry) => ({
      id: entry.id,
      reason: entry.reason,
      expires: entry.expires!,
      ...(entry.source ? { source: entry.source } : {}),
    }));
  const noExpiryIgnores = options.ignores
    .filter((entry) => !entry.expires)
    .map((entry) => ({
      id: entry.id,
      reason: entry.reason,
      ...(entry.source ? { source: entry.source } : {}),
    }));

  const kept: Finding[] = [];
  const ignored: IgnoredFinding[] = [];
  let unfixedSkipped = 0;
  for (const finding of findings) {
    if (options.ignoreUnfixed && finding.class === 'vulnerability' && !finding.package?.fixedVersion) {
      unfixedSkipped += 1;
      continue;
    }
    const entry = live.find((candidate) => matches(candidate, finding));
    if (!entry) {
      kept.push(finding);
      continue;
    }
    ignored.push({
      id: finding.id,
      severity: finding.severity,
      ...(finding.package ? { package: finding.package.name } : {}),
      reason: entry.reason,
      ...(entry.expires ? { expires: entry.expires } : {}),
      ...(entry.source ? { source: entry.source } : {}),
    });
  }
  kept.sort(compareFindings);
  const failing = kept.filter((finding) => meetsThreshold(finding.severity, options.threshold));
  return {
    passed: failing.length === 0,
    findings: kept,
    failing,
    counts: countBySeverity(kept),
    ignored,
    expiredIgnores,
    noExpiryIgnores,
    unfixedSkipped,
  };
}

/**
 * An entry matches a finding by id or alias (case-insensitive) and, when it names them, by package name,
 * package URL or file path.
 */
function matches(entry: PolicyIgnore, finding: Finding): boolean {
  const id = entry.id.toLowerCase();
  const ids = [finding.id, ...(finding.aliases ?? [])].map((candidate) => candidate.toLowerCase());
  if (!ids.includes(id)) return false;
  if (entry.package !== undefined && entry.package !== finding.package?.name) return false;
  if (entry.purls && !entry.purls.some((purl) => purlMatches(purl, finding.package?.purl))) return false;
  if (entry.paths && !entry.paths.some((glob) => pathMatches(glob, finding))) return false;
  return true;
}

/** `pkg:npm/lodash` matches every version of it; with `@version`, that version only. Qualifiers are ignored. */
function purlMatches(wanted: string, actual: string | undefined): boolean {
  if (!actual) return false;
  const strip = (purl: string) => purl.replace(/[?#].*$/, '');
  const [want, got] = [strip(wanted), strip(actual)];
  return want === got || (!want.includes('@') && got.startsWith(`${want}@`));
}

function pathMatches(glob: string, finding: Finding): boolean {
  const candidates = [finding.location?.path, finding.target]
    .filter((p): p is string => Boolean(p))
    .map((p) => p.replace(/^\/+/, ''));
  const pattern = globPattern(glob.replace(/^\/+/, ''));
  return candidates.some((path) => pattern.test(path));
}

/** A glob as trivy's `paths:` take it: `**` any folders, `*` any name part, `?` one character. */
function globPattern(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
