import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GrypeScanner } from '../../../src/scan/grype.js';
import { createScanner, type ScanOptions, scanImage } from '../../../src/scan/index.js';
import { TrivyScanner } from '../../../src/scan/trivy.js';
import { InfraError, InputError } from '../../../src/util/errors.js';
import { scanFixtures } from '../../helpers/scan-fixtures.js';

describe('createScanner', () => {
  it('creates each scanner by name', () => {
    expect(createScanner('trivy')).toBeInstanceOf(TrivyScanner);
    expect(createScanner('grype')).toBeInstanceOf(GrypeScanner);
  });

  it('names --scanner and the choices for an unknown name', () => {
    expect(() => createScanner('clair')).toThrow(
      new InputError('--scanner', 'expected one of trivy, grype, got "clair"'),
    );
  });
});

/**
 * A stand-in `trivy` on PATH that prints a recorded report and notes the arguments it got, so scanImage
 * is exercised end to end (argv, parsing, policy, reports) without the real tool; the real one runs in
 * test/integration/scan.test.ts.
 */
function installFakeTrivy(dir: string, fixture: string): string {
  const argsFile = join(dir, 'trivy-args.txt');
  const script = [
    '#!/bin/sh',
    `if [ "$1" = version ]; then cat '${join(scanFixtures, 'trivy-version.json')}'; exit 0; fi`,
    `printf '%s\\n' "$@" > '${argsFile}'`,
    `cat '${join(scanFixtures, fixture)}'`,
  ].join('\n');
  writeFileSync(join(dir, 'trivy'), `${script}\n`);
  chmodSync(join(dir, 'trivy'), 0o755);
  return argsFile;
}

describe('scanImage', () => {
  let dir: string;
  const savedPath = process.env.PATH;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-scan-unit-'));
  });
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  const options = (overrides: Partial<ScanOptions> = {}): ScanOptions => ({
    target: { ref: '127.0.0.1:5000/team/app:1.2.3', insecure: true },
    scanner: 'trivy',
    kinds: ['vuln', 'secret', 'misconfig'],
    severityThreshold: 'high',
    ignoreUnfixed: false,
    reports: {},
    now: new Date('2025-06-01T12:00:00Z'),
    ...overrides,
  });

  describe('validates its input before running anything', () => {
    // PATH has no trivy: if the scanner ran, these would be InfraErrors instead.
    beforeEach(() => {
      process.env.PATH = dir;
    });

    it.each<[string, Partial<ScanOptions>, string]>([
      [
        'an unknown threshold',
        { severityThreshold: 'severe' as never },
        '--severity-threshold: expected one of',
      ],
      [
        'an unknown scanner',
        { scanner: 'clair' as never },
        '--scanner: expected one of trivy, grype, got "clair"',
      ],
      ['no scan kinds', { kinds: [] }, '--scanners: expected at least one of vuln, secret, misconfig'],
      [
        'an unknown scan kind',
        { kinds: ['license' as never] },
        '--scanners: expected vuln, secret, misconfig, got "license"',
      ],
      [
        'secret scanning with grype',
        { scanner: 'grype', kinds: ['vuln', 'secret'] },
        '--scanners: grype cannot scan for secret',
      ],
      ['a missing ignore file', { ignoreFile: '/nonexistent/ignore.yml' }, '--ignore-file: cannot read'],
    ])('%s', async (_name, overrides, message) => {
      const error = await scanImage(options(overrides)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toContain(message);
    });

    it('an invalid ignore file', async () => {
      writeFileSync(join(dir, 'ignore.yml'), '- id: CVE-2021-23337\n');
      await expect(scanImage(options({ ignoreFile: join(dir, 'ignore.yml') }))).rejects.toThrow(
        /--ignore-file: ".*ignore.yml" entry 1 field "reason"/,
      );
    });

    it('and reports a missing scanner as an infrastructure error once input is valid', async () => {
      await expect(scanImage(options())).rejects.toBeInstanceOf(InfraError);
    });
  });

  it('scans, applies the policy and writes every report', async () => {
    const argsFile = installFakeTrivy(dir, 'trivy-lodash.json');
    process.env.PATH = `${dir}:${savedPath}`;
    const reports = {
      sarif: join(dir, 'out', 'scan.sarif'),
      gitlab: join(dir, 'out', 'gl-container-scanning-report.json'),
      junit: join(dir, 'out', 'junit.xml'),
      markdown: join(dir, 'out', 'scan.md'),
    };
    const result = await scanImage(options({ reports }));

    expect(readFileSync(argsFile, 'utf8').trim().split('\n')).toEqual([
      'image',
      '--format',
      'json',
      '--quiet',
      '--ignorefile',
      '/dev/null',
      '--scanners',
      'vuln,secret,misconfig',
      '--image-config-scanners',
      'secret,misconfig',
      '--image-src',
      'remote',
      '--insecure',
      '127.0.0.1:5000/team/app:1.2.3',
    ]);
    expect(result).toMatchObject({
      image: '127.0.0.1:5000/team/app:1.2.3',
      scanner: 'trivy',
      scannerVersion: '0.65.0',
      threshold: 'high',
      passed: false,
      counts: { critical: 0, high: 2, medium: 1, low: 1, unknown: 0 },
      ignored: [],
      expiredIgnores: [],
      unfixedSkipped: 0,
      reports,
    });
    expect(result.failing.map((f) => f.id)).toEqual(['CVE-2021-23337', 'DS002']);
    expect(Date.parse(result.finishedAt)).toBeGreaterThanOrEqual(Date.parse(result.startedAt));
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    for (const path of Object.values(reports)) expect(existsSync(path), path).toBe(true);
  });

  it('passes once the ignore file silences what failed, and never fails with gate off', async () => {
    installFakeTrivy(dir, 'trivy-lodash.json');
    process.env.PATH = `${dir}:${savedPath}`;
    writeFileSync(
      join(dir, 'ignore.yml'),
      [
        '- id: CVE-2021-23337',
        '  package: lodash',
        '  reason: template() never sees user input',
        '  expires: 2025-06-30',
        '- id: DS002',
        '  reason: the platform runs it with a random non-root uid',
      ].join('\n'),
    );
    const silenced = await scanImage(options({ ignoreFile: join(dir, 'ignore.yml') }));
    expect(silenced.passed).toBe(true);
    expect(silenced.ignored.map((i) => i.id)).toEqual(['CVE-2021-23337', 'DS002']);

    const ungated = await scanImage(options({ gate: false }));
    expect(ungated).toMatchObject({ passed: true, threshold: 'none' });
    expect(ungated.findings).toHaveLength(4);
  });

  it('says which report it could not write', async () => {
    installFakeTrivy(dir, 'trivy-clean.json');
    process.env.PATH = `${dir}:${savedPath}`;
    writeFileSync(join(dir, 'file'), '');
    await expect(scanImage(options({ reports: { junit: join(dir, 'file', 'junit.xml') } }))).rejects.toThrow(
      /^--junit: cannot write the junit report to ".*file\/junit.xml"/,
    );
  });
});
