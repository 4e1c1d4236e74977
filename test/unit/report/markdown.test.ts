import { describe, expect, it } from 'vitest';
import type { Check, RolloutReport } from '../../../src/deploy/types.js';
import { renderRolloutMarkdown } from '../../../src/report/markdown.js';
import { verdictLine } from '../../../src/report/verdict.js';
import { fixture } from './helpers.js';

/** The cells of every table row in `markdown` that mentions `text`, split on unescaped pipes. */
function rowsWith(markdown: string, text: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && line.includes(text))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}

describe('verdict line', () => {
  it.each([
    ['rolled-back', 'Rolled back web in shop: error-rate 0.43 above max 0.05 at step 2 (25%)'],
    ['inconclusive', 'Rolled back web in shop: p95-latency had no data 3 times at step 1 (10%)'],
    ['promoted', 'Promoted web in shop: all 72 checks passed over 3 steps (10% → 25% → 50%) in 3m 38s'],
  ] as const)('%s', (name, expected) => {
    expect(verdictLine(fixture(name))).toBe(expected);
  });

  it('opens the Markdown, status in bold', () => {
    const markdown = renderRolloutMarkdown(fixture('rolled-back'));
    expect(markdown.split('\n')[0]).toBe(
      '**Rolled back** web in shop: error-rate 0.43 above max 0.05 at step 2 (25%)',
    );
  });

  it('says "below min" for a lower bound', () => {
    const report = fixture('rolled-back');
    const breach = report.checks.at(-2)!;
    Object.assign(breach, { metric: 'success-rate', value: 0.57, min: 0.99, max: undefined });
    expect(verdictLine(report)).toBe(
      'Rolled back web in shop: success-rate 0.57 below min 0.99 at step 2 (25%)',
    );
  });

  it('blames no metric when the rollout was stopped from outside, and uses the reason', () => {
    const report = fixture('rolled-back');
    report.steps[1]!.result = 'aborted';
    report.reason = 'The CI job was cancelled (SIGTERM); traffic went back to the previous image.';
    expect(verdictLine(report)).toBe(
      'Rolled back web in shop: The CI job was cancelled (SIGTERM); traffic went back to the previous image',
    );
  });

  it('uses the reason for a failed rollout', () => {
    const report: RolloutReport = {
      ...fixture('rolled-back'),
      verdict: 'failed',
      reason: 'metrics unreachable',
    };
    report.steps[1]!.result = 'aborted';
    expect(renderRolloutMarkdown(report).split('\n')[0]).toBe('**Failed** web in shop: metrics unreachable');
  });

  it('counts failures tolerated by a promoted rollout', () => {
    const report = fixture('promoted');
    Object.assign(report.checks[4]!, { value: 0.07, result: 'fail' });
    expect(verdictLine(report)).toBe(
      'Promoted web in shop: 72 checks, 1 failed within the limits over 3 steps (10% → 25% → 50%) in 3m 38s',
    );
  });
});

describe('renderRolloutMarkdown', () => {
  it('lists the facts and the rollback timings in seconds', () => {
    const markdown = renderRolloutMarkdown(fixture('rolled-back'));
    expect(rowsWith(markdown, 'Previous image')[0]).toEqual([
      'Previous image',
      '`registry.example.com/shop/web:1.8.0@sha256:4f1c2a9be0d7c3a58e6b21f0d94c7e3a1b5d8f2c6e9a0b3d7f1e4c8a2b6d9e0f3`',
    ]);
    expect(rowsWith(markdown, 'Revision')[0]).toEqual(['Revision', '12']);
    expect(rowsWith(markdown, 'Duration')[0]).toEqual(['Duration', '1m 34s']);
    expect(rowsWith(markdown, 'Breach → traffic restored')[0]).toEqual([
      'Breach → traffic restored',
      '1.7 s',
    ]);
    expect(rowsWith(markdown, 'Breach → canary removed')[0]).toEqual(['Breach → canary removed', '5.4 s']);
  });

  it('lists each versioned ConfigMap and Secret with the copy released and the one before', () => {
    const report = {
      ...fixture('promoted'),
      config: [
        {
          kind: 'ConfigMap' as const,
          name: 'web-config',
          version: 'web-config-0123456789',
          previous: 'web-config-abcdefabcd',
        },
        {
          kind: 'Secret' as const,
          name: 'web-secret',
          version: 'web-secret-1111111111',
          previous: 'web-secret-1111111111',
        },
      ],
    };
    const markdown = renderRolloutMarkdown(report);
    expect(rowsWith(markdown, 'ConfigMap web-config')[0]).toEqual([
      'ConfigMap web-config',
      '`web-config-0123456789` (was `web-config-abcdefabcd`)',
    ]);
    expect(rowsWith(markdown, 'Secret web-secret')[0]).toEqual([
      'Secret web-secret',
      '`web-secret-1111111111`',
    ]);
    expect(renderRolloutMarkdown(fixture('promoted'))).not.toMatch(/ConfigMap|Secret/);
  });

  it('shows each check with value, threshold, result and offset from the start', () => {
    const markdown = renderRolloutMarkdown(fixture('rolled-back'));
    expect(rowsWith(markdown, '**FAIL**')).toEqual([['error-rate', '0.43', '≤ 0.05', '**FAIL**', '+1m28s']]);
    const noData = rowsWith(renderRolloutMarkdown(fixture('inconclusive')), 'p95-latency').filter(
      (row) => row[3] === 'no data',
    );
    expect(noData.map((row) => row[4])).toEqual(['+13s', '+18s', '+23s']);
    expect(noData[0]).toEqual(['p95-latency', '—', '≤ 0.5', 'no data', '+13s']);
  });

  it.each([
    [{ max: 0.05 }, '≤ 0.05'],
    [{ min: 0.99 }, '≥ 0.99'],
    [{ min: 0.01, max: 0.05 }, '0.01–0.05'],
  ])('writes the threshold %j as %s', (bounds, expected) => {
    const report = fixture('rolled-back');
    const check: Check = { ...report.checks.at(-2)!, min: undefined, max: undefined, ...bounds };
    report.checks[report.checks.length - 2] = check;
    expect(rowsWith(renderRolloutMarkdown(report), '**FAIL**')[0]![2]).toBe(expected);
  });

  it('summarises long check lists, keeping the last 10 per metric per step', () => {
    const markdown = renderRolloutMarkdown(fixture('promoted'), { chart: 'none' });
    const step1 = markdown.slice(markdown.indexOf('Step 1'), markdown.indexOf('Step 2'));
    expect(rowsWith(step1, 'error-rate')).toHaveLength(11);
    expect(rowsWith(step1, 'error-rate')[0]).toEqual([
      'error-rate',
      '_2 more passed (0.00351–0.00373)_',
      '≤ 0.05',
      'pass',
      '+13s – +18s',
    ]);
  });

  it('never summarises a check that did not pass', () => {
    const report = fixture('promoted');
    Object.assign(report.checks[0]!, { value: 0.07, result: 'fail', message: '0.07 > max 0.05' });
    const markdown = renderRolloutMarkdown(report, { chart: 'none', maxChecksPerMetric: 3 });
    const step1 = markdown.slice(markdown.indexOf('Step 1'), markdown.indexOf('Step 2'));
    expect(rowsWith(step1, 'error-rate').map((row) => row[1])).toEqual([
      '_8 more passed (0.00191–0.00382)_',
      '0.07',
      expect.any(String),
      expect.any(String),
      expect.any(String),
    ]);
  });

  it('folds passed steps and opens the one that failed', () => {
    const markdown = renderRolloutMarkdown(fixture('rolled-back'));
    expect(markdown).toContain(
      '<details>\n<summary><b>Step 1 · 10%</b> · passed · 24 checks · +8s → +1m08s</summary>',
    );
    expect(markdown).toContain(
      '<details open>\n<summary><b>Step 2 · 25%</b> · failed · 8 checks · +1m08s → +1m28s</summary>',
    );
  });

  it('escapes names and metrics so they cannot break the table or the line', () => {
    const report = fixture('rolled-back');
    report.name = 'web|api_*v2*';
    for (const check of report.checks) if (check.metric === 'error-rate') check.metric = 'errors|5xx <ratio>';
    const markdown = renderRolloutMarkdown(report, { chart: 'none' });
    expect(markdown.split('\n')[0]).toBe(
      '**Rolled back** web\\|api\\_\\*v2\\* in shop: errors\\|5xx \\<ratio\\> 0.43 above max 0.05 at step 2 (25%)',
    );
    // Every table row still has its five cells.
    for (const row of rowsWith(markdown, 'errors')) expect(row).toHaveLength(5);
  });

  it('draws a Mermaid chart by default, links an SVG on request, or neither', () => {
    const report = fixture('rolled-back');
    expect(renderRolloutMarkdown(report)).toContain('```mermaid\n');
    const linked = renderRolloutMarkdown(report, { chart: 'svg-link', svgPath: 'reports/run 1.svg' });
    expect(linked).toContain('![web — error-rate over the rollout](reports/run%201.svg)');
    expect(linked).not.toContain('```mermaid');
    expect(renderRolloutMarkdown(report, { chart: 'none' })).not.toMatch(/```mermaid|!\[/);
    expect(() => renderRolloutMarkdown(report, { chart: 'svg-link' })).toThrow(/svgPath/);
  });

  it('is the same every time', () => {
    const report = fixture('promoted');
    expect(renderRolloutMarkdown(report)).toBe(renderRolloutMarkdown(fixture('promoted')));
  });

  it('copes with a report without steps or checks', () => {
    const report: RolloutReport = {
      ...fixture('inconclusive'),
      steps: [],
      checks: [],
      reason: 'manifests invalid',
    };
    const markdown = renderRolloutMarkdown(report);
    expect(markdown).toContain('No steps ran.');
    expect(markdown.split('\n')[0]).toBe('**Rolled back** web in shop: manifests invalid');
  });
});
