import { describe, expect, it } from 'vitest';
import { renderScanMarkdown } from '../../../../src/scan/report/markdown.js';
import type { Finding } from '../../../../src/scan/types.js';
import { allTrivyFindings, summaryOf } from '../../../helpers/scan-fixtures.js';

describe('renderScanMarkdown', () => {
  it('opens with the verdict and the counts', () => {
    const markdown = renderScanMarkdown(summaryOf(allTrivyFindings()));
    const lines = markdown.split('\n');
    expect(lines[0]).toBe('### Image scan: `127.0.0.1:5000/team/app:1.2.3`');
    expect(lines[2]).toBe(
      '❌ **Scan failed**: 10 findings at or above **high** in `127.0.0.1:5000/team/app:1.2.3` (trivy 0.65.0).',
    );
    expect(markdown).toContain(
      '| Critical | High | Medium | Low | Unknown | Ignored |\n|---:|---:|---:|---:|---:|---:|\n| 7 | 3 | 1 | 6 | 0 | 0 |',
    );
  });

  it('lists findings worst first, marks the failing ones and links their advisory', () => {
    const markdown = renderScanMarkdown(summaryOf(allTrivyFindings()));
    expect(markdown).toContain(
      '| ❌ | high | [CVE-2021-23337](https://avd.aquasec.com/nvd/cve-2021-23337) | lodash | 4.17.20 | 4.17.21 | Command Injection in lodash |',
    );
    expect(markdown).toContain(
      '|  | medium | [CVE-2020-28500](https://avd.aquasec.com/nvd/cve-2020-28500) | lodash | 4.17.20 | 4.17.21 |',
    );
    expect(markdown.indexOf('critical')).toBeLessThan(markdown.indexOf('| medium |'));
  });

  it('passes with a green verdict', () => {
    expect(renderScanMarkdown(summaryOf([], { threshold: 'critical' }))).toContain(
      '✅ **Scan passed**: no finding at or above **critical** in `127.0.0.1:5000/team/app:1.2.3` (trivy 0.65.0).',
    );
  });

  it('caps the findings table and says how many more there are', () => {
    const many: Finding[] = Array.from({ length: 60 }, (_, i) => ({
      id: `CVE-2099-${String(i).padStart(4, '0')}`,
      class: 'vulnerability',
      severity: 'low',
      title: `issue ${i}`,
      package: { name: 'pkg', version: '1' },
      references: [],
    }));
    const markdown = renderScanMarkdown(summaryOf(many));
    expect(markdown.match(/\| CVE-2099-/g)).toHaveLength(50);
    expect(markdown).toContain('…and 10 more.');
  });

  it('shows ignored findings and expired entries in their own sections', () => {
    const summary = summaryOf(allTrivyFindings(), {
      ignores: [
        {
          id: 'CVE-2021-23337',
          package: 'lodash',
          reason: 'template() | never with user input',
          expires: '2025-12-31',
        },
        { id: 'CVE-2021-44906', reason: 'old exception', expires: '2025-01-31' },
      ],
    });
    const markdown = renderScanMarkdown(summary);
    expect(markdown).toContain('#### Ignored');
    expect(markdown).toContain(
      '| CVE-2021-23337 | high | lodash | template() \\| never with user input | 2025-12-31 |',
    );
    expect(markdown).toContain('#### Expired ignore entries');
    expect(markdown).toContain('| CVE-2021-44906 | 2025-01-31 | old exception |');
  });

  it('lists the ignore entries that never expire, with the file each came from', () => {
    const summary = summaryOf(allTrivyFindings(), {
      ignores: [
        { id: 'CVE-2021-23337', reason: 'reviewed', expires: '2025-12-31' },
        { id: 'CVE-2020-28500', reason: 'no fix wanted' },
        { id: 'CVE-2022-0001', reason: 'listed in app/.trivyignore', source: 'app/.trivyignore' },
      ],
    });
    const markdown = renderScanMarkdown(summary);
    expect(markdown).toContain('#### Ignore entries without an expiry');
    expect(markdown).toContain('| CVE-2020-28500 | ignore file | no fix wanted |');
    expect(markdown).toContain('| CVE-2022-0001 | app/.trivyignore | listed in app/.trivyignore |');
    expect(markdown).not.toContain('| CVE-2021-23337 | ignore file |');
    expect(renderScanMarkdown(summaryOf(allTrivyFindings()))).not.toContain('without an expiry');
  });

  it('keeps table cells on one line and free of HTML', () => {
    const odd: Finding = {
      id: 'X-1',
      class: 'misconfiguration',
      severity: 'high',
      title: 'line one\nline <b>two</b>',
      references: [],
    };
    expect(renderScanMarkdown(summaryOf([odd]))).toContain('| line one line &lt;b&gt;two&lt;/b&gt; |');
  });
});
