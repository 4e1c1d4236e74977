import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { escapeXml, renderJUnit } from '../../../../src/scan/report/junit.js';
import type { Finding } from '../../../../src/scan/types.js';
import { allTrivyFindings, summaryOf } from '../../../helpers/scan-fixtures.js';

/** The JUnit document as fast-xml-parser returns it (attributes as plain properties). */
interface ParsedCase {
  name: string;
  classname: string;
  time: string;
  failure?: { message: string; type: string };
  skipped?: { message: string };
  'system-out'?: string;
}
interface ParsedSuite {
  name: string;
  tests: string;
  failures: string;
  skipped: string;
  testcase: ParsedCase[];
}
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (name) => name === 'testcase',
});

function parseSuite(xml: string): ParsedSuite {
  expect(XMLValidator.validate(xml)).toBe(true);
  return (parser.parse(xml) as { testsuites: { testsuite: ParsedSuite } }).testsuites.testsuite;
}

describe('renderJUnit', () => {
  it('makes one suite with a case per finding; failures are the findings at or above the threshold', () => {
    const summary = summaryOf(allTrivyFindings(), {
      threshold: 'critical',
      ignores: [{ id: 'DS002', package: undefined, reason: 'runs as root in CI only' }],
    });
    const suite = parseSuite(renderJUnit(summary));
    const cases = suite.testcase;
    expect(suite.name).toBe('gantry scan 127.0.0.1:5000/team/app:1.2.3');
    expect(Number(suite.tests)).toBe(cases.length);
    expect(Number(suite.failures)).toBe(summary.failing.length);
    expect(Number(suite.failures)).toBe(cases.filter((c) => c.failure).length);
    expect(Number(suite.skipped)).toBe(2);
    const pat = cases.find((c) => c.name === 'github-pat app/config.env')!;
    expect(pat.classname).toBe('secret');
    expect(pat.failure?.type).toBe('critical');
    expect(pat.failure?.message).toBe(
      'CRITICAL github-pat in app/config.env line 1: GitHub Personal Access Token.',
    );
    const medium = cases.find((c) => c.name === 'CVE-2020-28500 lodash@4.17.20')!;
    expect(medium.failure).toBeUndefined();
    expect(medium['system-out']).toContain('Fixed in 4.17.21');
    const skipped = cases.filter((c) => c.skipped !== undefined);
    expect(skipped.map((c) => c.skipped?.message)).toEqual([
      'ignored: runs as root in CI only',
      'ignored: runs as root in CI only',
    ]);
  });

  it('still has one passing case when nothing was found', () => {
    const suite = parseSuite(renderJUnit(summaryOf([])));
    expect(suite.testcase).toEqual([
      { name: 'no findings in 127.0.0.1:5000/team/app:1.2.3', classname: 'trivy.scan', time: '0' },
    ]);
    expect(suite.failures).toBe('0');
  });

  it('escapes markup and drops characters XML cannot carry', () => {
    const nasty: Finding = {
      id: 'CVE-2099-0001',
      class: 'vulnerability',
      severity: 'critical',
      title: 'A <script>alert("x")</script> & \'quotes\'',
      description: 'bell\u0007 and NUL\u0000 and ]]> end',
      package: { name: 'pkg<&>', version: '1.0' },
      references: [],
    };
    const xml = renderJUnit(summaryOf([nasty]));
    const testCase = parseSuite(xml).testcase[0]!;
    // The parser decodes entities: what comes back is exactly the text that went in.
    expect(testCase.name).toBe('CVE-2099-0001 pkg<&>@1.0');
    expect(testCase.failure?.message).toContain('A <script>alert("x")</script> & \'quotes\'');
    expect(xml).not.toContain('<script>');
    expect([...xml].some((char) => char === '\u0000' || char === '\u0007')).toBe(false);
  });
});

describe('escapeXml', () => {
  it.each([
    ['a & b', 'a &amp; b'],
    ['<x y="1">', '&lt;x y=&quot;1&quot;&gt;'],
    ["it's", 'it&apos;s'],
    ['tab\tnewline\n', 'tab\tnewline\n'],
    ['\u0001\uFFFE', ''],
    ['emoji 🚀', 'emoji 🚀'],
  ])('%j → %j', (input, expected) => {
    expect(escapeXml(input)).toBe(expected);
  });
});
