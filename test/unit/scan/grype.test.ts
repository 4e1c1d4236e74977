import { describe, expect, it } from 'vitest';
import {
  getGrypeEnv,
  getGrypeScanArgs,
  parseGrypeReport,
  parseGrypeVersion,
} from '../../../src/scan/grype.js';
import type { ScanTarget } from '../../../src/scan/types.js';
import { InfraError } from '../../../src/util/errors.js';
import { readScanFixture } from '../../helpers/scan-fixtures.js';

describe('getGrypeScanArgs and getGrypeEnv', () => {
  it.each<[string, ScanTarget, string | undefined, string[], Record<string, string>]>([
    [
      'oci-archive',
      { ref: 'app:1', archive: '/tmp/app.tar' },
      'oci-archive:/tmp/app.tar',
      ['oci-archive:/tmp/app.tar', '-o', 'json', '-q', '--by-cve'],
      {},
    ],
    [
      'archive of unknown format defaults to docker-archive',
      { ref: 'app:1', archive: '/tmp/app.tar' },
      undefined,
      ['docker-archive:/tmp/app.tar', '-o', 'json', '-q', '--by-cve'],
      {},
    ],
    [
      'registry',
      { ref: 'registry.example.com/team/app:1.2.3' },
      undefined,
      ['registry:registry.example.com/team/app:1.2.3', '-o', 'json', '-q', '--by-cve'],
      {},
    ],
    [
      'insecure registry',
      { ref: '127.0.0.1:5000/app:1', insecure: true },
      undefined,
      ['registry:127.0.0.1:5000/app:1', '-o', 'json', '-q', '--by-cve'],
      { GRYPE_REGISTRY_INSECURE_USE_HTTP: 'true', GRYPE_REGISTRY_INSECURE_SKIP_TLS_VERIFY: 'true' },
    ],
  ])('%s', (_name, target, source, args, env) => {
    expect(getGrypeScanArgs(target, source)).toEqual(args);
    expect(getGrypeEnv(target)).toEqual(env);
  });
});

// grype-nodeapp.json is a real `grype oci-archive:… -o json -q --by-cve` run (grype 0.104.0) against a
// database written with grype's own v6 writer; see test/fixtures/scan/README.md.
describe('parseGrypeReport on a recorded grype 0.104.0 run', () => {
  const findings = parseGrypeReport(readScanFixture('grype-nodeapp.json'));

  it('finds each match once, with CVE ids (--by-cve) and grype severities normalised', () => {
    expect(
      findings.map((f) => [
        f.id,
        f.severity,
        `${f.package?.name}@${f.package?.version}`,
        f.package?.fixedVersion,
      ]),
    ).toEqual([
      ['CVE-2021-44906', 'critical', 'minimist@1.2.5', '1.2.6'],
      ['CVE-2021-23337', 'high', 'lodash@4.17.20', '4.17.21'],
      ['CVE-2020-28500', 'medium', 'lodash@4.17.20', '4.17.21'],
    ]);
  });

  it('normalises a match into the same Finding shape trivy produces', () => {
    expect(findings[1]).toEqual({
      id: 'CVE-2021-23337',
      aliases: ['GHSA-35jh-r3h4-6jhm'],
      class: 'vulnerability',
      severity: 'high',
      title: 'Command Injection in lodash',
      description: 'Command Injection in lodash',
      package: {
        name: 'lodash',
        version: '4.17.20',
        fixedVersion: '4.17.21',
        type: 'npm',
        purl: 'pkg:npm/lodash@4.17.20',
      },
      location: { path: 'app/node_modules/lodash/package.json' },
      target: 'javascript',
      primaryUrl: 'https://github.com/advisories/GHSA-35jh-r3h4-6jhm',
      references: [
        'https://nvd.nist.gov/vuln/detail/CVE-2021-23337',
        'https://github.com/advisories/GHSA-35jh-r3h4-6jhm',
      ],
      cvssScore: 7.2,
      cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H',
      cvssSource: 'ghsa',
    });
  });

  it('has no operating system for a FROM scratch image (grype reports an empty distro)', () => {
    expect(findings.every((f) => f.operatingSystem === undefined)).toBe(true);
  });
});

describe('parseGrypeReport edge cases', () => {
  const match = (overrides: Record<string, unknown>) =>
    JSON.stringify({
      matches: [
        {
          vulnerability: {
            id: 'CVE-2024-0001',
            severity: 'Negligible',
            fix: { versions: [], state: 'not-fixed' },
            ...overrides,
          },
          artifact: {
            name: 'zlib',
            version: '1.2.13-r0',
            type: 'apk',
            locations: [{ path: '/lib/apk/db/installed' }],
          },
        },
      ],
      distro: { name: 'alpine', version: '3.19.1' },
    });

  it('maps unknown severities to unknown, leaves the fix empty when none exists, and takes the distro', () => {
    const [finding] = parseGrypeReport(match({}));
    expect(finding).toMatchObject({
      id: 'CVE-2024-0001',
      severity: 'unknown',
      title: 'CVE-2024-0001',
      package: { name: 'zlib', version: '1.2.13-r0', type: 'apk' },
      location: { path: 'lib/apk/db/installed' },
      operatingSystem: 'alpine 3.19.1',
    });
    expect(finding?.package?.fixedVersion).toBeUndefined();
  });

  it('titles a finding with the first sentence of a long description', () => {
    const [finding] = parseGrypeReport(
      match({
        description: 'A heap overflow in inflate. Attackers can crash the process with a crafted stream.',
      }),
    );
    expect(finding?.title).toBe('A heap overflow in inflate');
  });

  it.each([
    ['not JSON', 'error: failed to load vulnerability db', /grype printed something that is not JSON/],
    ['no matches array', '{"source":{}}', /matches/],
  ])('rejects %s with an InfraError', (_name, text, message) => {
    expect(() => parseGrypeReport(text)).toThrow(InfraError);
    expect(() => parseGrypeReport(text)).toThrow(message);
  });
});

describe('parseGrypeVersion', () => {
  it('reads a recorded `grype version -o json`', () => {
    expect(parseGrypeVersion(readScanFixture('grype-version.json'))).toBe('0.104.0');
  });

  it('says what it expected otherwise', () => {
    expect(() => parseGrypeVersion('grype 0.104.0')).toThrow(/expected JSON with a "version" field/);
  });
});
