import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  evaluatePolicy,
  type IgnoreEntry,
  loadIgnoreFile,
  parseIgnoreFile,
  parseSeverityThreshold,
} from '../../../src/scan/policy.js';
import type { Finding, SeverityThreshold } from '../../../src/scan/types.js';
import { InputError } from '../../../src/util/errors.js';
import { allTrivyFindings } from '../../helpers/scan-fixtures.js';

const now = new Date('2025-06-01T12:00:00Z');

describe('parseSeverityThreshold', () => {
  it.each<[string, SeverityThreshold]>([
    ['high', 'high'],
    ['CRITICAL', 'critical'],
    [' none ', 'none'],
    ['unknown', 'unknown'],
  ])('%j → %s', (value, expected) => {
    expect(parseSeverityThreshold(value)).toBe(expected);
  });

  it('names the input and lists what it accepts', () => {
    expect(() => parseSeverityThreshold('severe')).toThrow(InputError);
    expect(() => parseSeverityThreshold('severe')).toThrow(
      '--severity-threshold: expected one of critical, high, medium, low, unknown, none, got "severe"',
    );
  });
});

describe('ignore file', () => {
  it('accepts entries with and without expiry and package', () => {
    const text = [
      '- id: CVE-2021-23337',
      '  package: lodash',
      '  reason: template() never sees user input',
      '  expires: 2025-12-31',
      '- id: DS026',
      '  reason: health is checked by the orchestrator',
    ].join('\n');
    expect(parseIgnoreFile(text, '.gantry-ignore.yml')).toEqual([
      {
        id: 'CVE-2021-23337',
        package: 'lodash',
        reason: 'template() never sees user input',
        expires: '2025-12-31',
      },
      { id: 'DS026', reason: 'health is checked by the orchestrator' },
    ]);
  });

  it('treats an empty file as no entries', () => {
    expect(parseIgnoreFile('', 'empty.yml')).toEqual([]);
    expect(parseIgnoreFile('# nothing ignored yet\n', 'empty.yml')).toEqual([]);
  });

  it.each([
    ['a missing reason', '- id: CVE-1\n', '"f.yml" entry 1 field "reason": '],
    ['an empty reason', '- id: CVE-1\n  reason: "  "\n', 'entry 1 field "reason": a reason is required'],
    [
      'a bad date',
      '- id: CVE-1\n  reason: r\n  expires: 31/12/2025\n',
      'entry 1 field "expires": expected a date as YYYY-MM-DD',
    ],
    [
      'an impossible date',
      '- id: CVE-1\n  reason: r\n  expires: 2025-02-30\n',
      'entry 1 field "expires": not a calendar date',
    ],
    [
      'an unknown field',
      '- id: CVE-1\n  reason: r\n  until: 2025-01-01\n',
      'entry 1: unknown field(s) until',
    ],
    ['a second entry without id', '- id: CVE-1\n  reason: r\n- reason: r2\n', 'entry 2 field "id"'],
    [
      'a mapping instead of a list',
      'ignore:\n  - id: CVE-1\n',
      'must be a YAML list of {id, reason, expires?, package?} entries',
    ],
    ['broken YAML', '- id: [CVE-1\n', 'is not valid YAML'],
  ])('rejects %s with one line naming --ignore-file and the fault', (_name, text, message) => {
    let error: unknown;
    try {
      parseIgnoreFile(text, 'f.yml');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe('--ignore-file');
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('says when the file cannot be read', async () => {
    await expect(loadIgnoreFile('/nonexistent/ignore.yml')).rejects.toThrow(
      '--ignore-file: cannot read "/nonexistent/ignore.yml": no such file',
    );
  });

  it('loads a file from disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-ignore-'));
    writeFileSync(join(dir, 'ignore.yml'), '- id: github-pat\n  reason: test fixture token, never valid\n');
    expect(await loadIgnoreFile(join(dir, 'ignore.yml'))).toEqual([
      { id: 'github-pat', reason: 'test fixture token, never valid' },
    ]);
  });
});

describe('evaluatePolicy on recorded trivy findings', () => {
  const findings = allTrivyFindings();
  const evaluate = (threshold: SeverityThreshold, ignores: IgnoreEntry[] = [], ignoreUnfixed = false) =>
    evaluatePolicy(findings, { threshold, ignores, ignoreUnfixed, now });

  it('fails at high on everything at or above high, worst first', () => {
    const outcome = evaluate('high');
    expect(outcome.passed).toBe(false);
    expect(outcome.failing.every((f) => f.severity === 'critical' || f.severity === 'high')).toBe(true);
    expect(outcome.failing[0]?.severity).toBe('critical');
    expect(outcome.counts).toEqual({ critical: 7, high: 3, medium: 1, low: 6, unknown: 0 });
  });

  it('passes at none whatever it found', () => {
    const outcome = evaluate('none');
    expect(outcome.passed).toBe(true);
    expect(outcome.failing).toEqual([]);
    expect(outcome.findings).toHaveLength(findings.length);
  });

  it('silences matching findings with a live entry, by id or alias, and lists them as ignored', () => {
    const outcome = evaluate('critical', [
      { id: 'CVE-2021-44906', reason: 'minimist only parses our own argv', expires: '2025-06-01' },
      { id: 'ghsa-xvch-5gv4-984h', reason: 'duplicate by alias, must not double-count' },
      { id: 'CVE-2022-37434', package: 'curl', reason: 'wrong package: must not match zlib' },
    ]);
    expect(outcome.ignored).toEqual([
      {
        id: 'CVE-2021-44906',
        severity: 'critical',
        package: 'minimist',
        reason: 'minimist only parses our own argv',
        expires: '2025-06-01',
      },
    ]);
    expect(outcome.findings.some((f) => f.id === 'CVE-2021-44906')).toBe(false);
    expect(outcome.findings.some((f) => f.id === 'CVE-2022-37434')).toBe(true);
    expect(outcome.expiredIgnores).toEqual([]);
  });

  it('stops applying an entry the day after it expires, and reports it', () => {
    const entry = { id: 'CVE-2021-23337', reason: 'waiting for the lodash bump', expires: '2025-05-31' };
    const outcome = evaluate('high', [entry]);
    expect(outcome.ignored).toEqual([]);
    expect(outcome.findings.some((f) => f.id === 'CVE-2021-23337')).toBe(true);
    expect(outcome.expiredIgnores).toEqual([entry]);
  });

  it('drops vulnerabilities without a fixed version when ignoreUnfixed is set, and counts them', () => {
    const unfixed: Finding = {
      id: 'CVE-2099-0001',
      class: 'vulnerability',
      severity: 'critical',
      title: 'no fix yet',
      package: { name: 'busybox', version: '1.36.1-r0' },
      references: [],
    };
    const kept = evaluatePolicy([unfixed, ...findings], {
      threshold: 'critical',
      ignores: [],
      ignoreUnfixed: true,
      now,
    });
    expect(kept.unfixedSkipped).toBe(1);
    expect(kept.findings.some((f) => f.id === 'CVE-2099-0001')).toBe(false);
    // Secrets and misconfigurations have no "fix": they are never dropped by ignoreUnfixed.
    expect(kept.findings.some((f) => f.class === 'secret')).toBe(true);
    const all = evaluatePolicy([unfixed], { threshold: 'critical', ignores: [], ignoreUnfixed: false, now });
    expect(all.passed).toBe(false);
  });
});
