import { readFile } from 'node:fs/promises';
import yaml from 'js-yaml';
import { z } from 'zod';
import { InputError } from '../util/errors.js';
import { compareFindings, countBySeverity, meetsThreshold } from './severity.js';
import {
  type ExpiredIgnore,
  type Finding,
  type IgnoredFinding,
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
  ignores: readonly IgnoreEntry[];
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
    .map((entry) => ({ id: entry.id, reason: entry.reason, expires: entry.expires! }));

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
    unfixedSkipped,
  };
}

/** An entry matches a finding by id or alias (case-insensitive) and, when it names one, by package. */
function matches(entry: IgnoreEntry, finding: Finding): boolean {
  const id = entry.id.toLowerCase();
  const ids = [finding.id, ...(finding.aliases ?? [])].map((candidate) => candidate.toLowerCase());
  if (!ids.includes(id)) return false;
  return entry.package === undefined || entry.package === finding.package?.name;
}
