import { compareFindings, meetsThreshold } from '../severity.js';
import type { Finding, ScanSummary } from '../types.js';
import { findingSubject, findingSummary } from './common.js';

/**
 * The scan as JUnit XML (Jenkins `junit`, GitLab `reports: junit`): one test suite for the image, one test
 * case per finding. Findings that fail the gate are failures; findings below the threshold pass (their
 * summary in `system-out`); ignored findings are skipped with the reason. A scan with no finding at all
 * still has one passing case, so the suite is never empty.
 */
export function renderJUnit(result: ScanSummary): string {
  const findings = [...result.findings].sort(compareFindings);
  const failures = findings.filter((finding) => meetsThreshold(finding.severity, result.threshold)).length;
  const cases = findings.map((finding) =>
    findingCase(finding, meetsThreshold(finding.severity, result.threshold)),
  );
  const skipped = result.ignored.map((ignored) =>
    testCase(`${ignored.id}${ignored.package ? ` ${ignored.package}` : ''}`, `${result.scanner}.ignored`, [
      `<skipped message="${escapeXml(`ignored: ${ignored.reason}${ignored.expires ? ` (until ${ignored.expires})` : ''}`)}"/>`,
    ]),
  );
  if (cases.length === 0 && skipped.length === 0) {
    cases.push(testCase(`no findings in ${result.image}`, `${result.scanner}.scan`, []));
  }
  const tests = cases.length + skipped.length;
  const seconds = (result.durationMs / 1000).toFixed(3);
  const suite = [
    `  <testsuite name="${escapeXml(`gantry scan ${result.image}`)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped.length}" time="${seconds}" timestamp="${escapeXml(result.startedAt)}">`,
    '    <properties>',
    property('image', result.image),
    property('scanner', `${result.scanner} ${result.scannerVersion}`),
    property('threshold', result.threshold),
    property('passed', String(result.passed)),
    '    </properties>',
    ...cases,
    ...skipped,
    '  </testsuite>',
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gantry scan" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped.length}" time="${seconds}">`,
    ...suite,
    '</testsuites>',
    '',
  ].join('\n');
}

function findingCase(finding: Finding, fails: boolean): string {
  const summary = findingSummary(finding);
  const details = [summary, finding.description, finding.primaryUrl].filter(Boolean).join('\n');
  const body = fails
    ? [`<failure message="${escapeXml(summary)}" type="${finding.severity}">${escapeXml(details)}</failure>`]
    : [`<system-out>${escapeXml(details)}</system-out>`];
  return testCase(`${finding.id} ${findingSubject(finding)}`, `${finding.class}`, body);
}

function testCase(name: string, classname: string, body: string[]): string {
  const open = `    <testcase name="${escapeXml(name)}" classname="${escapeXml(classname)}" time="0"`;
  if (body.length === 0) return `${open}/>`;
  return [`${open}>`, ...body.map((line) => `      ${line}`), '    </testcase>'].join('\n');
}

function property(name: string, value: string): string {
  return `      <property name="${escapeXml(name)}" value="${escapeXml(value)}"/>`;
}

/**
 * Escapes text for XML content and attribute values, and drops characters XML 1.0 cannot carry at all
 * (control characters other than tab, newline and carriage return; lone surrogates), which scanner
 * descriptions occasionally contain.
 */
export function escapeXml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
