import { describe, expect, it } from 'vitest';
import { toGitLabReport, uuidV5 } from '../../../../src/scan/report/gitlab.js';
import { allTrivyFindings, summaryOf } from '../../../helpers/scan-fixtures.js';

describe('toGitLabReport on recorded trivy findings', () => {
  const report = toGitLabReport(summaryOf(allTrivyFindings()), '0.1.0');
  const vulnerabilities = report.vulnerabilities;
  const byId = (id: string) => vulnerabilities.find((v) => v.identifiers[0]?.value === id)!;

  it('declares format 15.0.7 and a complete scan section', () => {
    expect(report.version).toBe('15.0.7');
    expect(report.schema).toContain('v15.0.7/dist/container-scanning-report-format.json');
    expect(report.scan).toMatchObject({
      analyzer: { id: 'gantry', name: 'Gantry', version: '0.1.0', vendor: { name: 'Gantry' } },
      scanner: { id: 'trivy', name: 'Trivy', version: '0.65.0', vendor: { name: 'Aqua Security' } },
      type: 'container_scanning',
      start_time: '2025-06-01T12:00:00',
      end_time: '2025-06-01T12:00:02',
      status: 'success',
    });
  });

  it('holds the package vulnerabilities only, and says where the other findings went', () => {
    expect(vulnerabilities.map((v) => v.identifiers[0]?.value)).toEqual([
      'CVE-2021-44906',
      'CVE-2022-37434',
      'CVE-2021-23337',
      'CVE-2020-28500',
    ]);
    expect(report.scan.messages).toEqual([
      {
        level: 'warn',
        value: expect.stringMatching(/^13 secret\/misconfiguration finding\(s\) are not part of/),
      },
    ]);
  });

  it('describes a vulnerability with identifiers, CVSS, solution and location', () => {
    expect(byId('CVE-2021-23337')).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      name: 'Command Injection in lodash',
      description:
        '`lodash` versions prior to 4.17.21 are vulnerable to Command Injection via the template function.',
      severity: 'High',
      solution: 'Upgrade lodash to 4.17.21',
      identifiers: [
        {
          type: 'cve',
          name: 'CVE-2021-23337',
          value: 'CVE-2021-23337',
          url: 'https://nvd.nist.gov/vuln/detail/CVE-2021-23337',
        },
        {
          type: 'ghsa',
          name: 'GHSA-35jh-r3h4-6jhm',
          value: 'GHSA-35jh-r3h4-6jhm',
          url: 'https://github.com/advisories/GHSA-35jh-r3h4-6jhm',
        },
      ],
      cvss_vectors: [{ vendor: 'GitHub', vector: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H' }],
      links: [
        { url: 'https://avd.aquasec.com/nvd/cve-2021-23337' },
        { url: 'https://github.com/advisories/GHSA-35jh-r3h4-6jhm' },
        { url: 'https://github.com/lodash/lodash/commit/3469357cff396a26c363f8c1b5a91dde28ba4b1c' },
        { url: 'https://nvd.nist.gov/vuln/detail/CVE-2021-23337' },
        { url: 'https://snyk.io/vuln/SNYK-JS-LODASH-1040724' },
      ],
      location: {
        dependency: { package: { name: 'lodash' }, version: '4.17.20' },
        operating_system: 'unknown',
        image: '127.0.0.1:5000/team/app:1.2.3',
      },
    });
    expect(byId('CVE-2022-37434').location.operating_system).toBe('alpine 3.16.2');
    expect(byId('CVE-2022-37434').cvss_vectors?.[0]?.vendor).toBe('NVD');
  });

  it('gives a finding the same UUID on every run, and different findings different ones', () => {
    const again = toGitLabReport(summaryOf(allTrivyFindings()), '0.1.0');
    expect(again.vulnerabilities.map((v) => v.id)).toEqual(vulnerabilities.map((v) => v.id));
    expect(new Set(vulnerabilities.map((v) => v.id)).size).toBe(vulnerabilities.length);
  });
});

describe('uuidV5', () => {
  it('is a deterministic RFC 4122 version 5 UUID', () => {
    expect(uuidV5('a')).toBe(uuidV5('a'));
    expect(uuidV5('a')).not.toBe(uuidV5('b'));
    expect(uuidV5('a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
