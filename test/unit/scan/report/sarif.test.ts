import { describe, expect, it } from 'vitest';
import { type SarifResult, toSarif } from '../../../../src/scan/report/sarif.js';
import { allTrivyFindings, reportContext, summaryOf } from '../../../helpers/scan-fixtures.js';

describe('toSarif on recorded trivy findings', () => {
  const sarif = toSarif(summaryOf(allTrivyFindings()), reportContext);
  const run = sarif.runs[0]!;
  const rules = run.tool.driver.rules;
  const results = run.results;
  const ruleOf = (id: string) => rules.find((rule) => rule.id === id)!;
  const resultsOf = (id: string) => results.filter((result) => result.ruleId === id);
  const uriOf = (result: SarifResult) => result.locations[0]?.physicalLocation.artifactLocation.uri;

  it('is a SARIF 2.1.0 log whose driver is the scanner', () => {
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json');
    expect(run.tool.driver).toMatchObject({
      name: 'Trivy',
      version: '0.65.0',
      informationUri: 'https://github.com/aquasecurity/trivy',
    });
    expect(run.automationDetails.id).toBe('gantry-scan/127.0.0.1:5000/team/app/');
  });

  it('has one rule per id and one result per finding, each pointing at its rule', () => {
    expect(new Set(rules.map((rule) => rule.id)).size).toBe(rules.length);
    expect(results).toHaveLength(allTrivyFindings().length);
    for (const result of results) expect(rules[result.ruleIndex]?.id).toBe(result.ruleId);
  });

  it('gives rules help and a security-severity GitHub can rank by', () => {
    expect(ruleOf('CVE-2021-23337')).toMatchObject({
      name: 'CommandInjectionInLodash',
      shortDescription: { text: 'Command Injection in lodash' },
      helpUri: 'https://avd.aquasec.com/nvd/cve-2021-23337',
      properties: { 'security-severity': '7.2', tags: ['security', 'vulnerability', 'high'] },
    });
    expect(ruleOf('CVE-2021-23337').help.markdown).toContain(
      'https://github.com/advisories/GHSA-35jh-r3h4-6jhm',
    );
    // Secrets carry no CVSS: the middle of the severity band.
    expect(ruleOf('github-pat').properties['security-severity']).toBe('9.5');
    expect(ruleOf('DS026').properties['security-severity']).toBe('2.0');
  });

  it('locates vulnerabilities at the package manifest in the image, secrets at their line', () => {
    expect(resultsOf('CVE-2021-23337')[0]).toMatchObject({
      level: 'error',
      message: {
        text: 'HIGH CVE-2021-23337 in lodash@4.17.20: Command Injection in lodash. Fixed in 4.17.21.',
      },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: 'app/node_modules/lodash/package.json' },
            region: { startLine: 1 },
          },
        },
      ],
    });
    expect(resultsOf('github-pat')[0]?.locations[0]?.physicalLocation).toEqual({
      artifactLocation: { uri: 'app/config.env' },
      region: { startLine: 1, endLine: 1 },
    });
    expect(uriOf(resultsOf('CVE-2022-37434')[0]!)).toBe('lib/apk/db/installed');
  });

  it('points findings about the image configuration at the Dockerfile', () => {
    const ds002 = resultsOf('DS002').map(uriOf);
    expect(ds002.sort()).toEqual(['Dockerfile', 'app/Dockerfile']);
    const custom = toSarif(summaryOf(allTrivyFindings()), {
      ...reportContext,
      dockerfile: 'services/api/Containerfile',
    });
    const uris = custom.runs[0]?.results.map(uriOf);
    expect(uris).toContain('services/api/Containerfile');
  });

  it('maps severities to SARIF levels', () => {
    expect(resultsOf('CVE-2020-28500')[0]?.level).toBe('warning');
    expect(resultsOf('DS026')[0]?.level).toBe('note');
    expect(resultsOf('CVE-2021-44906')[0]?.level).toBe('error');
  });

  it('is a valid log with no results for a clean image', () => {
    const empty = toSarif(summaryOf([]), reportContext);
    expect(empty.runs[0]?.results).toEqual([]);
    expect(empty.runs[0]?.tool.driver.rules).toEqual([]);
  });
});
