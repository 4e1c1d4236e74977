import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScanOptions, type ScanResult, scanImage } from '../../src/scan/index.js';
import { run } from '../../src/util/exec.js';
import {
  buildTestImage,
  exportArchive,
  pushTestImage,
  removeTestImage,
  writeImageContext,
} from '../helpers/images.js';

// Real trivy (0.65.0, offline, against the sandbox's own vulnerability database built from
// test/bed/trivydb/advisories.yaml) on tiny FROM scratch images built with buildah.

const registry = () => {
  const value = process.env.REGISTRY;
  if (!value) throw new Error('REGISTRY is not set: the sandbox did not start (see test/global-setup.ts)');
  return value;
};

const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const work = mkdtempSync(join(tmpdir(), 'gantry-scan-it-'));

// Planted credentials, assembled at run time so that no token-shaped string sits in the repository.
// Shapes only (ghp_ + 36 alphanumerics, AKIA + 16): never valid credentials.
const fakeGitHubToken = `ghp_${'Q7rT2wX9kL'.repeat(3)}mN4pZ8`;
const fakeAwsKeyId = `AKIA${'7Q2W5E8R3T6Y9U1I'}`;

/** Each test image: its files, extra Containerfile lines, and the archive it is exported to. */
const images = {
  clean: { files: { 'srv/hello.txt': 'hello from gantry\n' }, instructions: ['USER 65532:65532'] },
  secret: {
    files: { 'app/config.env': `github_token=${fakeGitHubToken}\naws_access_key_id=${fakeAwsKeyId}\n` },
    instructions: ['USER 65532'],
  },
  lodash: {
    files: {
      'app/node_modules/lodash/package.json': '{"name":"lodash","version":"4.17.20","license":"MIT"}\n',
    },
    instructions: ['USER 65532'],
  },
  minimist: {
    files: {
      'app/node_modules/minimist/package.json': '{"name":"minimist","version":"1.2.5","license":"MIT"}\n',
    },
    instructions: ['USER 65532'],
  },
} as const;
type ImageName = keyof typeof images;

const tagOf = (name: ImageName) => `localhost/gantry-it/scan-${name}:${id}`;
const archiveOf = (name: ImageName) => join(work, `${name}.tar`);

function options(name: ImageName, overrides: Partial<ScanOptions> = {}): ScanOptions {
  return {
    target: { ref: `gantry-it/scan-${name}:${id}`, archive: archiveOf(name) },
    scanner: 'trivy',
    kinds: ['vuln', 'secret', 'misconfig'],
    severityThreshold: 'high',
    ignoreUnfixed: false,
    reports: {},
    ...overrides,
  };
}

const ids = (result: ScanResult) => result.findings.map((f) => f.id);
const timings: string[] = [];

async function timedScan(label: string, scanOptions: ScanOptions): Promise<ScanResult> {
  const result = await scanImage(scanOptions);
  timings.push(`${label}: ${result.durationMs} ms`);
  return result;
}

describe('scanImage with real trivy on images built by buildah', () => {
  beforeAll(async () => {
    registry();
    const version = await run('trivy', ['--version'], { timeoutMs: 30_000 }).catch((error: Error) => {
      throw new Error(`trivy is not usable (${error.message}); run \`npm run setup\``);
    });
    expect(version.stdout).toContain('Version:');
    for (const [name, image] of Object.entries(images) as [ImageName, (typeof images)[ImageName]][]) {
      await buildTestImage(writeImageContext(image.files, [...image.instructions]), tagOf(name));
      await exportArchive(tagOf(name), archiveOf(name));
    }
  });

  afterAll(async () => {
    for (const name of Object.keys(images) as ImageName[]) await removeTestImage(tagOf(name));
    process.stderr.write(`[scan timings] ${timings.join(', ')}\n`);
  });

  it('passes a clean image (only a low finding: no HEALTHCHECK)', async () => {
    const result = await timedScan('clean', options('clean'));
    expect(result.passed, JSON.stringify(result.findings)).toBe(true);
    expect(ids(result)).toEqual(['DS026']);
    expect(result.scannerVersion).toBe('0.65.0');
  });

  it('fails an image with a planted GitHub token and AWS key, and says where they are', async () => {
    const reports = { sarif: join(work, 'secret.sarif'), markdown: join(work, 'secret.md') };
    const result = await timedScan('secret', options('secret', { reports }));
    expect(result.passed).toBe(false);
    const secrets = result.failing.filter((f) => f.class === 'secret');
    expect(secrets.map((f) => [f.id, f.severity, f.location?.path, f.location?.startLine])).toEqual([
      ['aws-access-key-id', 'critical', 'app/config.env', 2],
      ['github-pat', 'critical', 'app/config.env', 1],
    ]);
    const sarif = readFileSync(reports.sarif, 'utf8');
    expect(sarif).toContain('"uri": "app/config.env"');
    // No report repeats the secret itself.
    for (const path of Object.values(reports)) {
      const text = readFileSync(path, 'utf8');
      expect(text).not.toContain(fakeGitHubToken);
      expect(text).not.toContain(fakeAwsKeyId);
    }
  });

  it('fails lodash 4.17.20 at high (CVE-2021-23337) and passes it at critical', async () => {
    const atHigh = await timedScan('lodash', options('lodash'));
    expect(atHigh.passed).toBe(false);
    expect(atHigh.failing.map((f) => [f.id, f.severity, f.package?.fixedVersion])).toEqual([
      ['CVE-2021-23337', 'high', '4.17.21'],
    ]);
    expect(ids(atHigh)).toContain('CVE-2020-28500');
    // CVE-2020-8203 is in the database but fixed in 4.17.20: version matching, not name matching.
    expect(ids(atHigh)).not.toContain('CVE-2020-8203');

    const atCritical = await scanImage(options('lodash', { severityThreshold: 'critical' }));
    expect(atCritical.passed).toBe(true);
    expect(atCritical.counts).toMatchObject({ critical: 0, high: 1, medium: 1 });
  });

  it('fails minimist 1.2.5 at critical (CVE-2021-44906)', async () => {
    const result = await timedScan('minimist', options('minimist', { severityThreshold: 'critical' }));
    expect(result.passed).toBe(false);
    expect(result.failing.map((f) => [f.id, f.severity, f.package?.name, f.package?.fixedVersion])).toEqual([
      ['CVE-2021-44906', 'critical', 'minimist', '1.2.6, 0.2.4'],
    ]);
  });

  it('lets a valid ignore entry silence lodash, and lists it as ignored', async () => {
    const ignoreFile = join(work, 'ignore-valid.yml');
    writeFileSync(
      ignoreFile,
      '- id: CVE-2021-23337\n  package: lodash\n  reason: template() is never called with user input\n  expires: 2099-12-31\n',
    );
    const result = await scanImage(options('lodash', { ignoreFile }));
    expect(result.passed).toBe(true);
    expect(result.ignored).toEqual([
      {
        id: 'CVE-2021-23337',
        severity: 'high',
        package: 'lodash',
        reason: 'template() is never called with user input',
        expires: '2099-12-31',
      },
    ]);
    expect(result.expiredIgnores).toEqual([]);
  });

  it('does not let an expired entry silence anything, and reports the entry', async () => {
    const ignoreFile = join(work, 'ignore-expired.yml');
    writeFileSync(
      ignoreFile,
      '- id: CVE-2021-23337\n  reason: waiting for the upgrade\n  expires: 2024-01-31\n',
    );
    const result = await scanImage(options('lodash', { ignoreFile }));
    expect(result.passed).toBe(false);
    expect(result.ignored).toEqual([]);
    expect(result.expiredIgnores).toEqual([
      { id: 'CVE-2021-23337', reason: 'waiting for the upgrade', expires: '2024-01-31' },
    ]);
  });

  it('scans the same image from the sandbox registry (--image-src remote --insecure)', async () => {
    const ref = `${registry()}/gantry-it/scan-lodash:${id}`;
    await pushTestImage(tagOf('lodash'), ref);
    const result = await timedScan('lodash (registry)', {
      ...options('lodash'),
      target: { ref, insecure: true },
    });
    expect(result.image).toBe(ref);
    expect(result.failing.map((f) => f.id)).toEqual(['CVE-2021-23337']);
  });
});
