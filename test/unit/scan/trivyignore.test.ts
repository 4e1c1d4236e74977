import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../../src/scan/policy.js';
import {
  findTrivyignoreFiles,
  loadTrivyignoreFiles,
  parseTrivyignore,
  parseTrivyignoreYaml,
} from '../../../src/scan/trivyignore.js';
import type { Finding } from '../../../src/scan/types.js';
import { InputError } from '../../../src/util/errors.js';

const vuln = (id: string, pkg: string, version: string, path?: string): Finding => ({
  id,
  class: 'vulnerability',
  severity: 'high',
  title: id,
  references: [],
  package: { name: pkg, version, fixedVersion: '9.9.9', purl: `pkg:npm/${pkg}@${version}` },
  ...(path ? { location: { path } } : {}),
});

describe('.trivyignore', () => {
  it('reads ids, exp: dates and comments as trivy does', () => {
    const text =
      '# accepted risks\nCVE-2021-23337 exp:2099-01-31\n\nCVE-2020-28500   # no expiry\nAVD-DS-0002\n';
    expect(parseTrivyignore(text, 'app/.trivyignore')).toEqual([
      {
        id: 'CVE-2021-23337',
        reason: 'listed in app/.trivyignore',
        source: 'app/.trivyignore',
        expires: '2099-01-31',
      },
      { id: 'CVE-2020-28500', reason: 'listed in app/.trivyignore', source: 'app/.trivyignore' },
      { id: 'AVD-DS-0002', reason: 'listed in app/.trivyignore', source: 'app/.trivyignore' },
    ]);
  });

  it('refuses a malformed expiry with one line naming the file and line', () => {
    expect(() => parseTrivyignore('CVE-1\nCVE-2 exp:31-12-2099\n', '.trivyignore')).toThrow(InputError);
    expect(() => parseTrivyignore('CVE-1\nCVE-2 exp:31-12-2099\n', '.trivyignore')).toThrow(
      /^--trivyignore: \.trivyignore line 2: expected exp:YYYY-MM-DD/,
    );
  });
});

describe('.trivyignore.yaml', () => {
  it('reads vulnerabilities, misconfigurations and secrets with statement, expired_at, purls and paths', () => {
    const text = [
      'vulnerabilities:',
      '  - id: CVE-2021-23337',
      '    statement: template() never sees user input',
      '    expired_at: 2099-06-30',
      '    purls: ["pkg:npm/lodash"]',
      'misconfigurations:',
      '  - id: AVD-DS-0002',
      'secrets:',
      '  - id: github-pat',
      '    paths: ["app/test/**"]',
      'licenses:',
      '  - id: GPL-3.0',
    ].join('\n');
    expect(parseTrivyignoreYaml(text, '.trivyignore.yaml')).toEqual([
      {
        id: 'CVE-2021-23337',
        reason: 'template() never sees user input',
        source: '.trivyignore.yaml',
        expires: '2099-06-30',
        purls: ['pkg:npm/lodash'],
      },
      { id: 'AVD-DS-0002', reason: 'listed in .trivyignore.yaml', source: '.trivyignore.yaml' },
      {
        id: 'github-pat',
        reason: 'listed in .trivyignore.yaml',
        source: '.trivyignore.yaml',
        paths: ['app/test/**'],
      },
    ]);
  });

  it.each([
    ['an entry without id', 'vulnerabilities:\n  - statement: x\n', /vulnerabilities\[0\]: expected an id/],
    ['a bad date', 'secrets:\n  - id: a\n    expired_at: soon\n', /expired_at must be a date/],
    ['a list that is not one', 'vulnerabilities: CVE-1\n', /vulnerabilities must be a list/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseTrivyignoreYaml(text, '.trivyignore.yaml')).toThrow(message);
  });
});

describe('finding the files', () => {
  it('takes the context first, then the repository root, each file once', () => {
    const root = mkdtempSync(join(tmpdir(), 'gantry-trivyignore-'));
    mkdirSync(join(root, 'app'));
    writeFileSync(join(root, '.trivyignore'), 'CVE-A\n');
    writeFileSync(join(root, 'app', '.trivyignore'), 'CVE-B\n');
    writeFileSync(join(root, 'app', '.trivyignore.yaml'), 'vulnerabilities:\n  - id: CVE-C\n');
    const files = findTrivyignoreFiles([join(root, 'app'), root, root, undefined]);
    expect(files).toEqual([
      join(root, 'app', '.trivyignore'),
      join(root, 'app', '.trivyignore.yaml'),
      join(root, '.trivyignore'),
    ]);
    expect(loadTrivyignoreFiles(files).map((e) => e.id)).toEqual(['CVE-B', 'CVE-C', 'CVE-A']);
  });
});

describe('the policy with trivyignore entries', () => {
  const now = new Date('2026-12-07T12:00:00Z');
  const findings = [
    vuln('CVE-2021-23337', 'lodash', '4.17.20'),
    vuln('CVE-2020-28500', 'lodash', '4.17.20'),
    vuln('CVE-2022-1', 'minimist', '1.2.5', 'app/node_modules/minimist/package.json'),
    vuln('CVE-2022-2', 'left-pad', '1.0.0'),
  ];
  const ignores = [
    ...parseTrivyignore('CVE-2021-23337 exp:2026-12-01\nCVE-2020-28500\n', '.trivyignore'),
    ...parseTrivyignoreYaml(
      [
        'vulnerabilities:',
        '  - id: CVE-2022-1',
        '    paths: ["app/node_modules/**"]',
        '    expired_at: 2027-01-31',
        '  - id: CVE-2022-2',
        '    purls: ["pkg:npm/left-pad@2.0.0"]',
      ].join('\n'),
      '.trivyignore.yaml',
    ),
    { id: 'CVE-2099-9', reason: 'our own ignore file' },
  ];
  const outcome = evaluatePolicy(findings, { threshold: 'high', ignoreUnfixed: false, ignores, now });

  it('silences what live entries match and reports each with its file', () => {
    expect(outcome.ignored).toEqual([
      {
        id: 'CVE-2020-28500',
        severity: 'high',
        package: 'lodash',
        reason: 'listed in .trivyignore',
        source: '.trivyignore',
      },
      {
        id: 'CVE-2022-1',
        severity: 'high',
        package: 'minimist',
        reason: 'listed in .trivyignore.yaml',
        expires: '2027-01-31',
        source: '.trivyignore.yaml',
      },
    ]);
  });

  it('keeps what an expired entry or another package version no longer covers, and fails on it', () => {
    expect(outcome.findings.map((f) => f.id)).toEqual(['CVE-2021-23337', 'CVE-2022-2']);
    expect(outcome.passed).toBe(false);
    expect(outcome.expiredIgnores).toEqual([
      {
        id: 'CVE-2021-23337',
        reason: 'listed in .trivyignore',
        expires: '2026-12-01',
        source: '.trivyignore',
      },
    ]);
  });

  it('reports every entry without an expiry, from either kind of file', () => {
    expect(outcome.noExpiryIgnores).toEqual([
      { id: 'CVE-2020-28500', reason: 'listed in .trivyignore', source: '.trivyignore' },
      { id: 'CVE-2022-2', reason: 'listed in .trivyignore.yaml', source: '.trivyignore.yaml' },
      { id: 'CVE-2099-9', reason: 'our own ignore file' },
    ]);
  });
});
