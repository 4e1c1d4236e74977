import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryTags, repoRoot, runCli } from '../helpers/cli.js';
import { writeImageContext } from '../helpers/images.js';
import { createNamespace, deleteNamespace, imageOf, readDeployment, writeApp } from '../helpers/kube.js';

// The release path with its evidence, end to end on the sandbox: `gantry build` writes the provenance, `gantry
// scan --json` the verdict, `gantry push` the image, `gantry sign --sbom --provenance --scan-result` signs the
// pushed digest and attaches all three (cosign v3.1.3 verifies each); `gantry verify` and `gantry deploy` with a
// public key apply the policy (required attestations, source, builder, scan limits) and roll out nothing that
// fails it; `gantry push` copying the image elsewhere copies its signatures and attestations too.

const registry = () => {
  const value = process.env.REGISTRY;
  if (!value) throw new Error('REGISTRY is not set: the sandbox did not start (see test/global-setup.ts)');
  return value;
};
const cosign = process.env.GANTRY_COSIGN ?? 'cosign';
const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const work = mkdtempSync(join(tmpdir(), 'gantry-it-policy-'));
const key = { key: join(work, 'signing.pem'), pub: join(work, 'signing.pub') };
const otherPub = join(work, 'other.pub');
const namespaces: string[] = [];

interface Release {
  repo: string;
  tagged: string;
  digest: string;
  pinned: string;
  provenance: string;
  scanResult: string;
  sbom: string;
}
const releases: Record<'good' | 'vulnerable', Release> = {} as never;

const cli = async (args: string[], env: Record<string, string> = {}) => {
  const run = await runCli(args, { env: { ...process.env, ...env } });
  return run;
};
const cosignVerifyAttestation = (image: string, type: string) =>
  execa(
    cosign,
    ['verify-attestation', '--key', key.pub, '--insecure-ignore-tlog=true', '--type', type, image],
    {
      env: { ...process.env, HOME: work },
      reject: false,
      timeout: 120_000,
    },
  );

/** `gantry build --json` with buildah of `context/file` into `repo:tag`. */
const buildahBuild = (repo: string, context: string, file: string, tag: string, extra: string[] = []) =>
  cli([
    'build',
    '--json',
    '--builder',
    'buildah',
    '--image',
    repo,
    '--context',
    context,
    '--file',
    join(context, file),
    '--tag',
    tag,
    ...extra,
  ]);

/** build → scan (gate: critical, so the vulnerable release passes it and only the policy can stop it) → push → sign. */
async function release(name: 'good' | 'vulnerable', context: string, file = 'Dockerfile'): Promise<Release> {
  const repo = `${registry()}/it-policy/${RUN}-${name}`;
  const built = await buildahBuild(repo, context, file, 'r1');
  expect(built.exitCode, built.stderr).toBe(0);
  const provenance = built.json!.provenance as string;
  expect(built.json!.provenanceSubject).toBe('image-config');
  const scanned = await cli(['scan', '--json', '--image', `${repo}:r1`, '--severity-threshold', 'critical']);
  expect(scanned.exitCode, scanned.stderr).toBe(0);
  const scanResult = join(work, `${name}-scan.json`);
  writeFileSync(scanResult, scanned.stdout);
  const pushed = await cli(['push', '--json', '--image', `${repo}:r1`, '--to', `${repo}:r1`]);
  expect(pushed.exitCode, pushed.stderr).toBe(0);
  const digest = pushed.json!.digest as string;
  const sbom = join(work, `${name}.cdx.json`);
  const signed = await cli([
    'sign',
    '--json',
    '--image',
    `${repo}:r1`,
    '--key-file',
    key.key,
    '--sbom',
    '--sbom-output',
    sbom,
    '--provenance',
    provenance,
    '--scan-result',
    scanResult,
  ]);
  expect(signed.exitCode, signed.stderr).toBe(0);
  expect(signed.json!.digest).toBe(digest);
  return { repo, tagged: `${repo}:r1`, digest, pinned: `${repo}@${digest}`, provenance, scanResult, sbom };
}

beforeAll(async () => {
  const version = await execa(cosign, ['version', '--json'], { reject: false }).catch(() => undefined);
  if (version?.exitCode !== 0)
    throw new Error(`cosign not found as ${cosign} (bash test/bed/install-cosign.sh)`);
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(key.key, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(key.pub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(otherPub, other.publicKey.export({ type: 'spki', format: 'pem' }));
  releases.good = await release(
    'good',
    writeImageContext({ 'srv/hello.txt': `good ${RUN}\n` }),
    'Containerfile',
  );
  releases.vulnerable = await release('vulnerable', resolve(repoRoot, 'examples/demo-app-vulnerable'));
}, 600_000);

afterAll(async () => {
  await Promise.all(namespaces.map(deleteNamespace));
});

/** The `git+…` source the build's provenance names (this checkout). */
function sourceOf(provenanceFile: string): string {
  const statement = JSON.parse(readFileSync(provenanceFile, 'utf8'));
  const dependency = statement.predicate.buildDefinition.resolvedDependencies.find((d: { uri: string }) =>
    d.uri.startsWith('git+'),
  );
  expect(dependency, 'the build ran in a git checkout: its provenance names the source').toBeDefined();
  return dependency.uri as string;
}

describe('gantry sign --sbom --provenance --scan-result', () => {
  it('attaches the SBOM, the provenance (about the pushed digest) and the scan verdict; cosign verifies each', async () => {
    const { pinned, digest, sbom } = releases.vulnerable;
    for (const type of ['cyclonedx', 'slsaprovenance1', 'vuln']) {
      const verified = await cosignVerifyAttestation(pinned, type);
      expect(verified.exitCode, `${type}: ${verified.stderr}`).toBe(0);
      const statement = JSON.parse(
        Buffer.from(JSON.parse(verified.stdout.trim().split('\n')[0]!).payload, 'base64').toString(),
      );
      expect(statement.subject[0].digest.sha256).toBe(digest.slice('sha256:'.length));
      if (type === 'vuln') expect(statement.predicate.scanner.result.counts.high).toBeGreaterThan(0);
      if (type === 'cyclonedx') expect(statement.predicate.bomFormat).toBe('CycloneDX');
    }
    const bom = JSON.parse(readFileSync(sbom, 'utf8'));
    expect(bom.components.some((c: { name: string }) => c.name === 'lodash')).toBe(true);
  });

  it("refuses another image's provenance (exit 2) and writes nothing", async () => {
    const before = await registryTags(registry(), `it-policy/${RUN}-good`);
    const run = await cli([
      'sign',
      '--image',
      releases.good.tagged,
      '--key-file',
      key.key,
      '--provenance',
      releases.vulnerable.provenance,
    ]);
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr.trim()).toMatch(
      /^gantry: --provenance: .* is neither sha256:[0-9a-f]{64} nor its image config$/m,
    );
    expect(await registryTags(registry(), `it-policy/${RUN}-good`)).toEqual(before);
  });
});

describe('gantry sign --keyless', () => {
  it('goes through the sigstore library to Fulcio; unreachable: exit 3, nothing written, the token in no output', async () => {
    // Fulcio and Rekor are not reachable here (no network): this shows the path up to the library's request —
    // the token found, the library loaded and asked, its failure an infrastructure error — not a signature.
    const before = await registryTags(registry(), `it-policy/${RUN}-good`);
    const token = `eyJhbGciOiJSUzI1NiJ9.${RUN}.keyless-test-token`;
    const run = await cli(
      [
        'sign',
        '--image',
        releases.good.pinned,
        '--keyless',
        '--identity-token-env',
        'IT_OIDC_TOKEN',
        '--fulcio-url',
        'http://127.0.0.1:9',
        '--rekor-url',
        'http://127.0.0.1:9',
      ],
      { IT_OIDC_TOKEN: token },
    );
    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.stderr).toMatch(
      /keyless signing failed \(Fulcio http:\/\/127\.0\.0\.1:9, Rekor http:\/\/127\.0\.0\.1:9\)/,
    );
    expect(run.stdout + run.stderr).not.toContain(token);
    expect(await registryTags(registry(), `it-policy/${RUN}-good`)).toEqual(before);
    const both = await cli(['sign', '--image', releases.good.pinned, '--keyless', '--key-file', key.key]);
    expect(both.exitCode).toBe(2);
    expect(both.stderr.trim()).toBe(
      'gantry: --keyless: sign with a key (--key-file/--key-env) or --keyless, not both',
    );
  });
});

describe('gantry verify with a policy', () => {
  const verify = (image: string, extra: string[]) =>
    cli(['verify', '--json', '--image', image, '--public-key-file', key.pub, ...extra]);

  it('accepts a release that carries what the policy asks', async () => {
    const good = await verify(releases.good.pinned, [
      '--require',
      'slsaprovenance1,cyclonedx,vuln',
      '--max-critical',
      '0',
      '--max-high',
      '0',
      '--builder-id',
      'urn:gantry:builder:',
    ]);
    expect(good.exitCode, good.stderr).toBe(0);
    expect(good.json!.verified).toBe(true);
    // Built from this checkout: its provenance names the repository, which the policy can require.
    const { pinned, provenance } = releases.vulnerable;
    const sourced = await verify(pinned, ['--source', sourceOf(provenance), '--max-critical', '0']);
    expect(sourced.exitCode, sourced.stderr).toBe(0);
  });

  it('refuses, in one line, a scan over the limit, another source, another builder, another key', async () => {
    const { pinned } = releases.vulnerable;
    const cases: [string[], RegExp][] = [
      [['--max-high', '0'], /the attached scan found \d+ high \(at most 0 allowed\)/],
      [
        ['--source', 'https://github.com/someone/else'],
        /the provenance names source .*, not https:\/\/github\.com\/someone\/else/,
      ],
      [
        ['--builder-id', 'https://github.com/acme/'],
        /the provenance names builder urn:gantry:builder:\S+, not https:\/\/github\.com\/acme\//,
      ],
      [['--require', 'spdxjson'], /no attestation spdxjson/],
    ];
    for (const [extra, reason] of cases) {
      const run = await verify(pinned, extra);
      expect(run.exitCode, `${extra.join(' ')}: ${run.stderr}`).toBe(1);
      expect(run.json!.reason).toMatch(reason);
    }
    const other = await cli(['verify', '--image', pinned, '--public-key-file', otherPub]);
    expect(other.exitCode).toBe(1);
    expect(other.stdout + other.stderr).toMatch(/no signature for sha256:[0-9a-f]{64} verifies/);
  });
});

describe('gantry push copies the evidence with the image', () => {
  it('a copy by digest to another repository verifies there, for gantry and for cosign', async () => {
    const { pinned, digest } = releases.good;
    const copy = `${registry()}/it-policy/${RUN}-promoted`;
    const pushed = await cli(['push', '--json', '--image', pinned, '--to', `${copy}:prod`]);
    expect(pushed.exitCode, pushed.stderr).toBe(0);
    expect(pushed.json!.digest).toBe(digest);
    expect(pushed.json!.signatures).toEqual([expect.objectContaining({ repository: copy, referrers: 4 })]);
    const verified = await cli([
      'verify',
      '--image',
      `${copy}:prod`,
      '--public-key-file',
      key.pub,
      '--require',
      'slsaprovenance1,cyclonedx,vuln',
    ]);
    expect(verified.exitCode, verified.stderr).toBe(0);
    expect((await cosignVerifyAttestation(`${copy}@${digest}`, 'slsaprovenance1')).exitCode).toBe(0);
    const cosignSig = await execa(
      cosign,
      ['verify', '--key', key.pub, '--insecure-ignore-tlog=true', `${copy}@${digest}`],
      {
        env: { ...process.env, HOME: work },
        reject: false,
      },
    );
    expect(cosignSig.exitCode, cosignSig.stderr).toBe(0);
  });
});

describe('gantry deploy with a public key', () => {
  const deploy = (ns: string, image: string, extra: string[] = []) =>
    cli([
      'deploy',
      '--json',
      '--manifests',
      writeApp(),
      '--image',
      `app=${image}`,
      '--namespace',
      ns,
      '--strategy',
      'rolling',
      '--ready-timeout',
      '60s',
      '--public-key-file',
      key.pub,
      '--require',
      'slsaprovenance1,cyclonedx,vuln',
      ...extra,
    ]);

  it('rolls out a signed release, and refuses an unsigned one, one over the scan limit and a wrong key: nothing applied', async () => {
    const ns = await createNamespace('pol');
    namespaces.push(ns);

    // An image nobody signed: refused before anything exists.
    const unsignedRepo = `${registry()}/it-policy/${RUN}-unsigned`;
    const unsignedContext = writeImageContext({ 'srv/unsigned.txt': `${RUN}\n` });
    const built = await buildahBuild(unsignedRepo, unsignedContext, 'Containerfile', 'x', ['--push']);
    expect(built.exitCode, built.stderr).toBe(0);
    const target = `${unsignedRepo}@${built.json!.digest}`;
    const refused = await deploy(ns, target);
    expect(refused.exitCode, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(
      /refused .*@sha256:[0-9a-f]{64}: no signature for sha256:[0-9a-f]{64}.*; nothing was applied/,
    );
    expect(await readDeployment(ns, 'web')).toBeUndefined();

    // The signed good release rolls out.
    const good = await deploy(ns, releases.good.pinned, ['--max-high', '0']);
    expect(good.exitCode, good.stderr).toBe(0);
    expect(good.stderr).toContain(`verified ${releases.good.pinned}`);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(releases.good.pinned);

    // The vulnerable release is signed, but its attached scan is over the limit: refused, stable untouched.
    const vulnerable = await deploy(ns, releases.vulnerable.pinned, ['--max-high', '0']);
    expect(vulnerable.exitCode, vulnerable.stderr).toBe(1);
    expect(vulnerable.stderr).toMatch(
      /the attached scan found \d+ high \(at most 0 allowed\); nothing was applied/,
    );
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(releases.good.pinned);

    // Verified with a key that did not sign it: refused.
    const wrongKey = await cli([
      'deploy',
      '--manifests',
      writeApp(),
      '--image',
      `app=${releases.vulnerable.pinned}`,
      '--namespace',
      ns,
      '--public-key-file',
      otherPub,
    ]);
    expect(wrongKey.exitCode, wrongKey.stderr).toBe(1);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(releases.good.pinned);
  }, 240_000);
});
