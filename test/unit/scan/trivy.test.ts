import { describe, expect, it } from 'vitest';
import { getTrivyScanArgs, parseTrivyReport, parseTrivyVersion } from '../../../src/scan/trivy.js';
import type { ScanKind, ScanTarget } from '../../../src/scan/types.js';
import { InfraError } from '../../../src/util/errors.js';
import { readScanFixture } from '../../helpers/scan-fixtures.js';

describe('getTrivyScanArgs', () => {
  // --ignorefile /dev/null: ignore files are Gantry's to apply (src/scan/trivyignore.ts), never trivy's own.
  const common = ['image', '--format', 'json', '--quiet', '--ignorefile', '/dev/null'];
  it.each<[string, ScanTarget, ScanKind[], string | undefined, string[]]>([
    [
      'archive, every kind',
      { ref: 'app:1', archive: '/tmp/app.tar' },
      ['vuln', 'secret', 'misconfig'],
      undefined,
      [
        ...common,
        '--scanners',
        'vuln,secret,misconfig',
        '--image-config-scanners',
        'secret,misconfig',
        '--input',
        '/tmp/app.tar',
      ],
    ],
    [
      'archive unpacked to an OCI layout directory',
      { ref: 'app:1', archive: '/tmp/app.tar' },
      ['vuln'],
      '/tmp/gantry-oci-x',
      [...common, '--scanners', 'vuln', '--input', '/tmp/gantry-oci-x'],
    ],
    [
      'registry reference',
      { ref: 'registry.example.com/team/app:1.2.3' },
      ['vuln', 'secret'],
      undefined,
      [
        ...common,
        '--scanners',
        'vuln,secret',
        '--image-config-scanners',
        'secret',
        '--image-src',
        'remote',
        'registry.example.com/team/app:1.2.3',
      ],
    ],
    [
      'insecure registry',
      { ref: '127.0.0.1:5000/app@sha256:abc', insecure: true },
      ['misconfig'],
      undefined,
      [
        ...common,
        '--scanners',
        'misconfig',
        '--image-config-scanners',
        'misconfig',
        '--image-src',
        'remote',
        '--insecure',
        '127.0.0.1:5000/app@sha256:abc',
      ],
    ],
    [
      'kinds deduplicated and in canonical order',
      { ref: 'app:1', archive: 'a.tar' },
      ['secret', 'vuln', 'secret'],
      undefined,
      [...common, '--scanners', 'vuln,secret', '--image-config-scanners', 'secret', '--input', 'a.tar'],
    ],
  ])('%s', (_name, target, kinds, inputPath, expected) => {
    expect(getTrivyScanArgs(target, kinds, inputPath)).toEqual(expected);
  });

  it('refuses an empty list of kinds', () => {
    expect(() => getTrivyScanArgs({ ref: 'app:1' }, [])).toThrow(/at least one scan kind/);
  });
});

/** [class, id, severity, package@version or file or target] for each finding of a recorded report. */
type Row = [string, string, string, string];
const rows = (fixture: string): Row[] =>
  parseTrivyReport(readScanFixture(fixture)).map((f) => [
    f.class,
    f.id,
    f.severity,
    f.package ? `${f.package.name}@${f.package.version}` : (f.location?.path ?? f.target ?? ''),
  ]);

describe('parseTrivyReport on recorded trivy 0.65.0 output', () => {
  it.each<[string, Row[]]>([
    ['trivy-clean.json', [['misconfiguration', 'DS026', 'low', 'image config']]],
    [
      'trivy-lodash.json',
      [
        ['vulnerability', 'CVE-2021-23337', 'high', 'lodash@4.17.20'],
        ['vulnerability', 'CVE-2020-28500', 'medium', 'lodash@4.17.20'],
        ['misconfiguration', 'DS002', 'high', 'image config'],
        ['misconfiguration', 'DS026', 'low', 'image config'],
      ],
    ],
    [
      'trivy-minimist.json',
      [
        ['vulnerability', 'CVE-2021-44906', 'critical', 'minimist@1.2.5'],
        ['misconfiguration', 'DS026', 'low', 'image config'],
      ],
    ],
    [
      'trivy-secret.json',
      [
        ['misconfiguration', 'DS026', 'low', 'image config'],
        ['misconfiguration', 'DS002', 'high', 'app/Dockerfile'],
        ['misconfiguration', 'DS026', 'low', 'app/Dockerfile'],
        ['secret', 'aws-access-key-id', 'critical', 'app/config.env'],
        ['secret', 'github-pat', 'critical', 'app/config.env'],
      ],
    ],
    [
      'trivy-envsecret.json',
      [
        ['misconfiguration', 'DS026', 'low', 'image config'],
        ['misconfiguration', 'DS031', 'critical', 'image config'],
        ['secret', 'aws-access-key-id', 'critical', 'image config'],
        ['secret', 'aws-access-key-id', 'critical', 'image config'],
      ],
    ],
    ['trivy-alpine.json', [['vulnerability', 'CVE-2022-37434', 'critical', 'zlib@1.2.12-r1']]],
  ])('%s', (fixture, expected) => {
    expect(rows(fixture)).toEqual(expected);
  });

  it('normalises a language-package vulnerability with its fix, CVSS, aliases and manifest path', () => {
    const [lodash] = parseTrivyReport(readScanFixture('trivy-lodash.json'));
    expect(lodash).toEqual({
      id: 'CVE-2021-23337',
      aliases: ['GHSA-35jh-r3h4-6jhm'],
      class: 'vulnerability',
      severity: 'high',
      title: 'Command Injection in lodash',
      description:
        '`lodash` versions prior to 4.17.21 are vulnerable to Command Injection via the template function.',
      package: {
        name: 'lodash',
        version: '4.17.20',
        fixedVersion: '4.17.21',
        type: 'node-pkg',
        purl: 'pkg:npm/lodash@4.17.20',
      },
      location: { path: 'app/node_modules/lodash/package.json' },
      target: 'Node.js',
      primaryUrl: 'https://avd.aquasec.com/nvd/cve-2021-23337',
      references: [
        'https://github.com/advisories/GHSA-35jh-r3h4-6jhm',
        'https://github.com/lodash/lodash/commit/3469357cff396a26c363f8c1b5a91dde28ba4b1c',
        'https://nvd.nist.gov/vuln/detail/CVE-2021-23337',
        'https://snyk.io/vuln/SNYK-JS-LODASH-1040724',
      ],
      cvssScore: 7.2,
      cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H',
      cvssSource: 'ghsa',
    });
  });

  it('keeps every fixed version trivy lists (minimist has two release lines)', () => {
    const [minimist] = parseTrivyReport(readScanFixture('trivy-minimist.json'));
    expect(minimist?.package?.fixedVersion).toBe('1.2.6, 0.2.4');
  });

  it('gives an OS package the image OS, the package database as location and the NVD CVSS', () => {
    const [zlib] = parseTrivyReport(readScanFixture('trivy-alpine.json'));
    expect(zlib).toMatchObject({
      package: { name: 'zlib', version: '1.2.12-r1', fixedVersion: '1.2.12-r2', type: 'alpine' },
      location: { path: 'lib/apk/db/installed' },
      operatingSystem: 'alpine 3.16.2',
      cvssScore: 9.8,
      cvssSource: 'nvd',
    });
  });

  it('locates a secret at its file and line, and never carries the matched text', () => {
    const secrets = parseTrivyReport(readScanFixture('trivy-secret.json')).filter(
      (f) => f.class === 'secret',
    );
    expect(secrets.find((f) => f.id === 'github-pat')).toEqual({
      id: 'github-pat',
      class: 'secret',
      severity: 'critical',
      title: 'GitHub Personal Access Token',
      description:
        'GitHub Personal Access Token (GitHub) found in app/config.env at line 1. Remove it from the image and rotate it.',
      location: { path: 'app/config.env', startLine: 1, endLine: 1 },
      target: '/app/config.env',
      references: [],
    });
    expect(JSON.stringify(secrets)).not.toMatch(/\*{8}|ghp_|AKIA/);
  });

  it('reports secrets and checks of the image configuration without a file location', () => {
    const findings = parseTrivyReport(readScanFixture('trivy-envsecret.json'));
    const ds031 = findings.find((f) => f.id === 'DS031');
    expect(ds031).toMatchObject({
      class: 'misconfiguration',
      target: 'image config',
      aliases: ['AVD-DS-0031'],
    });
    expect(ds031?.location).toBeUndefined();
    const secret = findings.find((f) => f.class === 'secret');
    expect(secret?.description).toMatch(/image configuration \(ENV or build history\)/);
    expect(JSON.stringify(findings)).not.toContain('AKIA');
  });

  it('drops passed misconfiguration checks and accepts a report without results', () => {
    expect(parseTrivyReport(JSON.stringify({ SchemaVersion: 2, ArtifactName: 'x', Results: null }))).toEqual(
      [],
    );
    const passed = {
      SchemaVersion: 2,
      Results: [
        {
          Target: 'x',
          Class: 'config',
          Misconfigurations: [{ ID: 'DS1', Title: 't', Severity: 'HIGH', Status: 'PASS' }],
        },
      ],
    };
    expect(parseTrivyReport(JSON.stringify(passed))).toEqual([]);
  });

  it.each([
    ['not JSON', 'FATAL error', /trivy printed something that is not JSON/],
    ['another schema version', '{"SchemaVersion":1}', /SchemaVersion/],
    [
      'a malformed vulnerability',
      '{"SchemaVersion":2,"Results":[{"Target":"x","Class":"lang-pkgs","Vulnerabilities":[{"VulnerabilityID":"CVE-1"}]}]}',
      /Results\.0\.Vulnerabilities\.0\.PkgName/,
    ],
  ])('rejects %s with an InfraError naming the problem', (_name, text, message) => {
    expect(() => parseTrivyReport(text)).toThrow(InfraError);
    expect(() => parseTrivyReport(text)).toThrow(message);
  });
});

describe('parseTrivyVersion', () => {
  it('reads the version of a recorded `trivy version --format json`', () => {
    expect(parseTrivyVersion(readScanFixture('trivy-version.json'))).toBe('0.65.0');
  });

  it('says what it expected when the output is not the JSON version', () => {
    expect(() => parseTrivyVersion('Version: 0.65.0')).toThrow(
      /expected JSON with a "Version" field, got "Version: 0.65.0"/,
    );
  });
});
