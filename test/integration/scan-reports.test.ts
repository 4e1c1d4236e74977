import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { execa } from 'execa';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { parseGrypeReport } from '../../src/scan/grype.js';
import { renderGitLabReport } from '../../src/scan/report/gitlab.js';
import { renderJUnit } from '../../src/scan/report/junit.js';
import { renderSarif } from '../../src/scan/report/sarif.js';
import type { ScanSummary } from '../../src/scan/types.js';
import { allTrivyFindings, readScanFixture, reportContext, summaryOf } from '../helpers/scan-fixtures.js';

// The reports of scans recorded from real scanner runs, checked by each format's own validator.
const repoRoot = resolve(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'gantry-reports-'));

const summaries: [string, ScanSummary][] = [
  ['trivy, every recorded image', summaryOf(allTrivyFindings())],
  [
    'trivy, with ignores and an expired entry',
    summaryOf(allTrivyFindings(), {
      ignores: [
        { id: 'CVE-2021-23337', package: 'lodash', reason: 'not reachable', expires: '2025-12-31' },
        { id: 'DS002', reason: 'old', expires: '2024-01-01' },
      ],
    }),
  ],
  [
    'grype, recorded run',
    {
      ...summaryOf(parseGrypeReport(readScanFixture('grype-nodeapp.json'))),
      scanner: 'grype',
      scannerVersion: '0.104.0',
    },
  ],
  ['a clean image', summaryOf([])],
];

interface SarifValidation {
  level: string;
  ruleId: string;
  text: string;
}

/**
 * Runs `sarif-multitool validate`. It exits 0 even when the log breaks the schema (exit codes only say
 * whether the tool itself ran), so the verdict is read from the SARIF log it writes with `-o`: one result
 * per problem, `level: error` for schema violations, `warning`/`note` for style rules.
 */
async function validateSarif(file: string): Promise<SarifValidation[]> {
  // A fresh output path each time: the tool will not overwrite a file without `--log ForceOverwrite`,
  // and that list-valued option is rejected as "defined with a bad format" by its argument parser.
  const output = join(mkdtempSync(join(work, 'validation-')), 'result.sarif');
  const tool = join(repoRoot, 'node_modules', '.bin', 'sarif-multitool');
  const run = await execa(tool, ['validate', '--output', output, file], { reject: false });
  expect(run.exitCode, run.stderr || run.stdout).toBe(0);
  const log = JSON.parse(readFileSync(output, 'utf8')) as {
    runs: {
      results?: { ruleId: string; level?: string; message: { text?: string; arguments?: string[] } }[];
    }[];
  };
  return (log.runs[0]?.results ?? []).map((r) => ({
    level: r.level ?? 'warning',
    ruleId: r.ruleId,
    text: `${r.ruleId} ${JSON.stringify(r.message.arguments ?? r.message.text)}`,
  }));
}

describe('SARIF reports pass @microsoft/sarif-multitool validate', () => {
  it.each(summaries)(
    '%s',
    async (name, summary) => {
      const file = join(work, `${name.replace(/\W+/g, '-')}.sarif`);
      writeFileSync(file, renderSarif(summary, reportContext));
      const problems = await validateSarif(file);
      expect(problems.filter((p) => p.level === 'error').map((p) => p.text)).toEqual([]);
      expect(problems.map((p) => p.text)).toEqual([]);
    },
    60_000,
  );

  it('the validator does report a broken log (so a clean result means something)', async () => {
    const file = join(work, 'broken.sarif');
    writeFileSync(
      file,
      JSON.stringify({ version: '2.1.0', runs: [{ tool: { driver: {} }, results: [{ message: {} }] }] }),
    );
    const problems = await validateSarif(file);
    expect(problems.filter((p) => p.level === 'error').length).toBeGreaterThan(0);
  }, 60_000);
});

describe('GitLab reports validate against the container scanning schema 15.0.7 (ajv, draft-07)', () => {
  const schema = JSON.parse(
    readFileSync(
      resolve(repoRoot, '..', 'shared', 'schemas', 'gitlab-container-scanning-report-format-15.0.7.json'),
      'utf8',
    ),
  );
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats.default(ajv);
  const validate = ajv.compile(schema);

  it('is the draft-07 schema of version 15.0.7', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.self.version).toBe('15.0.7');
  });

  it.each(summaries)('%s', (_name, summary) => {
    const report = JSON.parse(renderGitLabReport(summary, '0.1.0'));
    const valid = validate(report);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema does reject a report without an operating system (so a pass means something)', () => {
    const report = JSON.parse(renderGitLabReport(summaries[0]![1], '0.1.0'));
    delete report.vulnerabilities[0].location.operating_system;
    expect(validate(report)).toBe(false);
  });
});

describe('JUnit reports are well-formed XML that parses back', () => {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (tag) => tag === 'testcase',
  });

  it.each(summaries)('%s', (_name, summary) => {
    const xml = renderJUnit(summary);
    expect(XMLValidator.validate(xml)).toBe(true);
    const suite = parser.parse(xml).testsuites.testsuite;
    expect(Number(suite.tests)).toBe(suite.testcase.length);
    expect(Number(suite.failures)).toBe(summary.failing.length);
  });
});
