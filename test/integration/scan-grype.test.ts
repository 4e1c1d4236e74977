import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/util/exec.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { buildTestImage, pushTestImage, removeTestImage, writeImageContext } from '../helpers/images.js';

// `gantry scan --scanner grype` with real grype (built by test/bed/install-grype.sh at the version
// test/bed/grype/go.mod pins), offline, against the sandbox's own grype database: the advisories of
// test/bed/trivydb/advisories.yaml, written with grype's v6 writer and installed with `grype db import`.
// The images are the demo's vulnerable release (examples/demo-app-vulnerable: lodash 4.17.20) and tiny
// FROM scratch images built with buildah.

const GRYPE_VERSION = '0.121.3';

const registry = () => {
  const value = process.env.REGISTRY;
  if (!value) throw new Error('REGISTRY is not set: the sandbox did not start (see test/global-setup.ts)');
  return value;
};

const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const work = mkdtempSync(join(tmpdir(), 'gantry-grype-it-'));
const images = {
  demo: { context: join(repoRoot, 'examples', 'demo-app-vulnerable') },
  minimist: {
    context: writeImageContext(
      { 'app/node_modules/minimist/package.json': '{"name":"minimist","version":"1.2.5","license":"MIT"}\n' },
      ['USER 65532'],
    ),
  },
  clean: {
    context: writeImageContext(
      { 'app/node_modules/lodash/package.json': '{"name":"lodash","version":"4.17.21","license":"MIT"}\n' },
      ['USER 65532'],
    ),
  },
} as const;
type ImageName = keyof typeof images;
const tagOf = (name: ImageName) => `localhost/gantry-it/grype-${name}:${id}`;

/** The grype settings the sandbox's grype component exports (its database, offline), taken from it. */
let grypeEnv: Record<string, string>;

interface ScanJson {
  scanner: string;
  scannerVersion: string;
  passed: boolean;
  counts: Record<string, number>;
  findings: Finding[];
  failing: Finding[];
  ignored: { id: string }[];
}
interface Finding {
  id: string;
  aliases?: string[];
  severity: string;
  title: string;
  package?: { name: string; version: string; fixedVersion?: string; purl?: string };
  location?: { path: string };
}

async function scan(image: string, extra: string[] = []) {
  const result = await runCli(
    ['scan', '--json', '--scanner', 'grype', '--scanners', 'vuln', '--image', image, ...extra],
    {
      env: grypeEnv,
    },
  );
  return { ...result, scan: result.json as unknown as ScanJson | undefined };
}

const summary = (findings: Finding[]) =>
  findings.map((f) => [f.id, f.severity, f.package?.name, f.package?.version, f.package?.fixedVersion]);

describe('gantry scan --scanner grype, real grype on the sandbox', () => {
  beforeAll(async () => {
    registry();
    const component = await import(pathToFileURL(join(repoRoot, 'test/bed/components/grype.mjs')).href);
    grypeEnv = (await component.start()).env;
    const version = await run('grype', ['version', '-o', 'json'], { timeoutMs: 60_000 }).catch(
      (error: Error) => {
        throw new Error(`grype is not usable (${error.message}); run \`bash test/bed/install-grype.sh\``);
      },
    );
    expect(JSON.parse(version.stdout).version).toBe(GRYPE_VERSION);
    for (const name of Object.keys(images) as ImageName[])
      await buildTestImage(images[name].context, tagOf(name));
  });

  afterAll(async () => {
    for (const name of Object.keys(images) as ImageName[]) await removeTestImage(tagOf(name));
  });

  it("fails the demo's vulnerable release (lodash 4.17.20) at high, and passes it at critical", async () => {
    const atHigh = await scan(tagOf('demo'));
    expect(atHigh.exitCode, atHigh.stderr).toBe(1);
    expect(atHigh.stderr).toContain(`grype ${GRYPE_VERSION}: vuln`);
    const result = atHigh.scan!;
    expect(result).toMatchObject({ scanner: 'grype', scannerVersion: GRYPE_VERSION, passed: false });
    expect(summary(result.failing)).toEqual([['CVE-2021-23337', 'high', 'lodash', '4.17.20', '4.17.21']]);
    // Version matching, not name matching: CVE-2020-8203 is in the database but fixed in 4.17.20.
    expect(summary(result.findings)).toEqual([
      ['CVE-2021-23337', 'high', 'lodash', '4.17.20', '4.17.21'],
      ['CVE-2020-28500', 'medium', 'lodash', '4.17.20', '4.17.21'],
    ]);
    const [lodash] = result.failing;
    expect(lodash).toMatchObject({
      aliases: ['GHSA-35jh-r3h4-6jhm'],
      title: 'Command Injection in lodash',
      package: { purl: 'pkg:npm/lodash@4.17.20' },
      location: { path: 'app/node_modules/lodash/package.json' },
    });

    const atCritical = await scan(tagOf('demo'), ['--severity-threshold', 'critical']);
    expect(atCritical.exitCode, atCritical.stderr).toBe(0);
    expect(atCritical.scan).toMatchObject({ passed: true, counts: { critical: 0, high: 1, medium: 1 } });
  });

  it('fails minimist 1.2.5 at critical (CVE-2021-44906), with both fixed versions of the advisory', async () => {
    const {
      exitCode,
      stderr,
      scan: result,
    } = await scan(tagOf('minimist'), ['--severity-threshold', 'critical']);
    expect(exitCode, stderr).toBe(1);
    expect(summary(result!.failing)).toEqual([
      ['CVE-2021-44906', 'critical', 'minimist', '1.2.5', '0.2.4, 1.2.6'],
    ]);
  });

  it('passes lodash 4.17.21 (the fixed release): no finding', async () => {
    const { exitCode, stderr, scan: result } = await scan(tagOf('clean'), ['--severity-threshold', 'low']);
    expect(exitCode, stderr).toBe(0);
    expect(result).toMatchObject({ passed: true, findings: [] });
  });

  it('lets an ignore entry with a reason silence the lodash finding', async () => {
    const ignoreFile = join(work, 'ignore.yml');
    writeFileSync(
      ignoreFile,
      '- id: CVE-2021-23337\n  package: lodash\n  reason: template() is never called with user input\n  expires: 2099-12-31\n',
    );
    const { exitCode, stderr, scan: result } = await scan(tagOf('demo'), ['--ignore-file', ignoreFile]);
    expect(exitCode, stderr).toBe(0);
    expect(result!.ignored.map((i) => i.id)).toEqual(['CVE-2021-23337']);
    expect(result!.findings.map((f) => f.id)).toEqual(['CVE-2020-28500']);
  });

  it('scans the same image from the sandbox registry (registry: source, plain HTTP) and writes SARIF', async () => {
    const ref = `${registry()}/gantry-it/grype-demo:${id}`;
    await pushTestImage(tagOf('demo'), ref);
    const sarif = join(work, 'grype.sarif');
    const { exitCode, stderr, scan: result } = await scan(ref, ['--sarif', sarif]);
    expect(exitCode, stderr).toBe(1);
    expect(stderr).not.toContain('exporting local image');
    expect(summary(result!.failing)).toEqual([['CVE-2021-23337', 'high', 'lodash', '4.17.20', '4.17.21']]);
    const log = JSON.parse(readFileSync(sarif, 'utf8'));
    expect(log.runs[0].results.map((r: { ruleId: string }) => r.ruleId)).toContain('CVE-2021-23337');
  });
});
