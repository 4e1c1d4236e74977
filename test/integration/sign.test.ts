import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { putReferrer } from '../../src/supply/attachments.js';
import { EMPTY_JSON, makeBundle, referrerManifest } from '../../src/supply/bundle.js';
import { copySignatures } from '../../src/supply/copy.js';
import { loadSigningKey } from '../../src/supply/keys.js';
import { RegistryClient } from '../../src/supply/registry-client.js';
import { statementFor } from '../../src/supply/statement.js';
import { startAuthRegistry } from '../helpers/auth-registry.js';
import { registryDigest, registryTags, runCli } from '../helpers/cli.js';
import { buildTestImage, pushTestImage, removeTestImage, writeImageContext } from '../helpers/images.js';

// `gantry sign` / `gantry verify` against the sandbox registry (distribution 2.8: no referrers API, so the
// referrers tag index is in play) and the real cosign v3.1.3 (test/bed/install-cosign.sh) on the other side:
// cosign accepts what Gantry writes, Gantry accepts what cosign writes (v3 default bundles and the legacy
// .sig/.att tags), and tampering is refused by both.

const registry = () => {
  const value = process.env.REGISTRY;
  if (!value) throw new Error('REGISTRY is not set: the sandbox did not start (see test/global-setup.ts)');
  return value;
};
const cosign = process.env.GANTRY_COSIGN ?? 'cosign';
const PASSWORD = 'it-sign-password';
const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
/** Every repository of this run under its own prefix: earlier runs' signatures never meet this run's. */
const RUN = unique();
const work = mkdtempSync(join(tmpdir(), 'gantry-it-sign-'));
const keyA = { key: join(work, 'cosign.key'), pub: join(work, 'cosign.pub') };
const keyB = { key: join(work, 'other.pem'), pub: join(work, 'other.pub') };
const env = { COSIGN_PASSWORD: PASSWORD };

/** cosign with offline, key-based flags: no Rekor, no signing config (so no TUF), plain HTTP registry. */
const runCosign = (args: string[]) =>
  execa(cosign, args, { env: { ...env, HOME: work }, reject: false, timeout: 120_000 });
const cosignSign = (key: string, image: string, extra: string[] = []) =>
  runCosign([
    'sign',
    '--key',
    key,
    '--use-signing-config=false',
    '--tlog-upload=false',
    '-y',
    ...extra,
    image,
  ]);
const cosignAttest = (key: string, image: string, type: string, predicate: string, extra: string[] = []) =>
  runCosign([
    'attest',
    '--key',
    key,
    '--use-signing-config=false',
    '--tlog-upload=false',
    '-y',
    '--type',
    type,
    '--predicate',
    predicate,
    ...extra,
    image,
  ]);
const cosignVerify = (pub: string, image: string) =>
  runCosign(['verify', '--key', pub, '--insecure-ignore-tlog=true', image]);
const cosignVerifyAttestation = (pub: string, image: string, type: string) =>
  runCosign(['verify-attestation', '--key', pub, '--insecure-ignore-tlog=true', '--type', type, image]);

/** Builds a one-file image and pushes it to `<registry>/it-sign/<run>-<name>:<tag>`; returns its references. */
async function pushImage(name: string, tag = '1') {
  const id = unique();
  const local = `localhost/it-sign-${name}-${id}:latest`;
  await buildTestImage(writeImageContext({ 'hello.txt': `${name} ${id}\n` }), local);
  const repo = `${registry()}/it-sign/${RUN}-${name}`;
  await pushTestImage(local, `${repo}:${tag}`);
  await removeTestImage(local);
  const digest = await registryDigest(registry(), `it-sign/${RUN}-${name}`, tag);
  if (!digest) throw new Error(`pushed ${repo}:${tag} but the registry has no digest for it`);
  return {
    repo,
    path: `it-sign/${RUN}-${name}`,
    tagged: `${repo}:${tag}`,
    digest,
    pinned: `${repo}@${digest}`,
  };
}

const writeJson = (name: string, value: unknown) => {
  const path = join(work, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
};
const provenance = writeJson('provenance.json', {
  buildDefinition: { buildType: 'https://gantry.dev/build/v1', externalParameters: { context: '.' } },
  runDetails: { builder: { id: 'https://gantry.dev/it' } },
});
const sbom = writeJson('bom.json', {
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  version: 1,
  components: [],
});

beforeAll(async () => {
  const version = await execa(cosign, ['version', '--json'], { reject: false }).catch(() => undefined);
  if (version?.exitCode !== 0 || !/"gitVersion":\s*"v3\./.test(version.stdout)) {
    throw new Error(
      `cosign v3 not found as ${cosign} (set GANTRY_COSIGN or put it on PATH: bash test/bed/install-cosign.sh)`,
    );
  }
  const generated = await execa(cosign, ['generate-key-pair'], {
    cwd: work,
    env: { ...env, HOME: work },
    reject: false,
  });
  expect(generated.exitCode, generated.stderr).toBe(0);
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(keyB.key, other.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(keyB.pub, other.publicKey.export({ type: 'spki', format: 'pem' }));
});

describe('cosign accepts what gantry sign writes', () => {
  it('cosign verify and verify-attestation (slsaprovenance1, cyclonedx, spdxjson) with the key, offline', async () => {
    const image = await pushImage('to-cosign');
    const spdx = writeJson(
      'spdx-statement.json',
      statementFor(image.pinned, 'https://spdx.dev/Document', { spdxVersion: 'SPDX-2.3', name: 'it' }),
    );
    const signed = await runCli(
      [
        'sign',
        '--json',
        '--image',
        image.tagged,
        '--key-file',
        keyA.key,
        '--attest',
        `slsaprovenance1=${provenance}`,
        '--attest',
        `cyclonedx=${sbom}`,
        '--attest',
        spdx,
      ],
      { env },
    );
    expect(signed.exitCode, signed.stderr).toBe(0);
    expect(signed.json).toMatchObject({
      digest: image.digest,
      image: image.pinned,
      resolvedFrom: '1',
      referrers: 'tag',
    });
    expect(signed.json!.signature).toMatch(new RegExp(`^${image.repo}@sha256:[a-f0-9]{64}$`));
    expect((signed.json!.attestations as { predicateType: string }[]).map((a) => a.predicateType)).toEqual([
      'https://slsa.dev/provenance/v1',
      'https://cyclonedx.org/bom',
      'https://spdx.dev/Document',
    ]);
    // The registry has no referrers API: everything is listed in the referrers tag index.
    expect(await registryTags(registry(), image.path)).toContain(image.digest.replace(':', '-'));

    const verified = await cosignVerify(keyA.pub, image.pinned);
    expect(verified.exitCode, verified.stderr).toBe(0);
    for (const [type, field] of [
      ['slsaprovenance1', 'runDetails'],
      ['cyclonedx', 'bomFormat'],
      ['spdxjson', 'spdxVersion'],
    ] as const) {
      const attested = await cosignVerifyAttestation(keyA.pub, image.pinned, type);
      expect(attested.exitCode, `${type}: ${attested.stderr}`).toBe(0);
      const envelope = JSON.parse(attested.stdout.trim().split('\n')[0]!);
      const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString());
      expect(statement.subject[0].digest.sha256).toBe(image.digest.slice('sha256:'.length));
      expect(statement.predicate).toHaveProperty(field);
    }
    // cosign does check: another key is refused.
    expect((await cosignVerify(keyB.pub, image.pinned)).exitCode).not.toBe(0);
    expect((await cosignVerifyAttestation(keyB.pub, image.pinned, 'cyclonedx')).exitCode).not.toBe(0);

    const own = await runCli([
      'verify',
      '--json',
      '--image',
      image.pinned,
      '--public-key-file',
      keyA.pub,
      '--require',
      'slsaprovenance1,cyclonedx,spdxjson',
    ]);
    expect(own.exitCode, own.stdout + own.stderr).toBe(0);
    expect(own.json).toMatchObject({ verified: true, digest: image.digest });
  });

  it('signs with a key from an environment variable, which reaches no output', async () => {
    const image = await pushImage('key-env');
    const pem = readFileSync(keyB.key, 'utf8');
    const body = pem.split('\n').filter((line) => line && !line.startsWith('-----'));
    const signed = await runCli(['sign', '--image', image.pinned, '--key-env', 'IT_SIGNING_KEY'], {
      env: { IT_SIGNING_KEY: pem },
    });
    expect(signed.exitCode, signed.stderr).toBe(0);
    for (const line of body) expect(signed.stdout + signed.stderr).not.toContain(line);
    expect((await cosignVerify(keyB.pub, image.pinned)).exitCode).toBe(0);
    const own = await runCli(['verify', '--image', image.pinned, '--public-key-env', 'IT_VERIFY_KEY'], {
      env: { IT_VERIFY_KEY: readFileSync(keyB.pub, 'utf8') },
    });
    expect(own.exitCode, own.stdout + own.stderr).toBe(0);
  });
});

describe('gantry verify accepts what cosign writes', () => {
  it('cosign sign --key and cosign attest --type cyclonedx (v3 default: bundles as referrers)', async () => {
    const image = await pushImage('from-cosign');
    const sign = await cosignSign(keyA.key, image.pinned);
    expect(sign.exitCode, sign.stderr).toBe(0);
    const attest = await cosignAttest(keyA.key, image.pinned, 'cyclonedx', sbom);
    expect(attest.exitCode, attest.stderr).toBe(0);
    const run = await runCli([
      'verify',
      '--json',
      '--image',
      image.tagged,
      '--public-key-file',
      keyA.pub,
      '--require',
      'cyclonedx',
    ]);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.json).toMatchObject({
      verified: true,
      digest: image.digest,
      resolvedFrom: '1',
      referrers: 'tag',
    });
    expect((run.json!.signatures as { format: string }[]).map((s) => s.format)).toEqual(['bundle']);
    const [attestation] = run.json!.attestations as {
      format: string;
      type: string;
      statement: { predicate: unknown };
    }[];
    expect(attestation).toMatchObject({ format: 'bundle', type: 'cyclonedx' });
    expect(attestation!.statement.predicate).toMatchObject({ bomFormat: 'CycloneDX' });

    const text = await runCli(['verify', '--image', image.tagged, '--public-key-file', keyA.pub]);
    expect(text.stdout).toContain(
      `verified ${image.pinned} with the key in ${keyA.pub} (tag 1 resolved to this digest`,
    );

    const missing = await runCli([
      'verify',
      '--image',
      image.pinned,
      '--public-key-file',
      keyA.pub,
      '--require',
      'slsaprovenance1',
    ]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stdout.trim()).toBe(
      `refused ${image.pinned}: no attestation slsaprovenance1 for ${image.digest}`,
    );
  });

  it('cosign sign --key --new-bundle-format=false and a legacy attestation (.sig / .att tags)', async () => {
    const image = await pushImage('from-cosign-legacy');
    const sign = await cosignSign(keyA.key, image.pinned, ['--new-bundle-format=false']);
    expect(sign.exitCode, sign.stderr).toBe(0);
    const attest = await cosignAttest(keyA.key, image.pinned, 'cyclonedx', sbom, [
      '--new-bundle-format=false',
    ]);
    expect(attest.exitCode, attest.stderr).toBe(0);
    const tags = await registryTags(registry(), image.path);
    expect(tags).toEqual(
      expect.arrayContaining([
        `${image.digest.replace(':', '-')}.sig`,
        `${image.digest.replace(':', '-')}.att`,
      ]),
    );
    const run = await runCli([
      'verify',
      '--json',
      '--image',
      image.pinned,
      '--public-key-file',
      keyA.pub,
      '--require',
      'cyclonedx',
    ]);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect((run.json!.signatures as { format: string }[]).map((s) => s.format)).toEqual(['legacy']);
    expect((run.json!.attestations as { format: string; type: string }[])[0]).toMatchObject({
      format: 'legacy',
      type: 'cyclonedx',
    });
    const other = await runCli(['verify', '--image', image.pinned, '--public-key-file', keyB.pub]);
    expect(other.exitCode).toBe(1);
    expect(other.stdout.trim()).toBe(
      `refused ${image.pinned}: no signature for ${image.digest} verifies with the key in ${keyB.pub} (1 found, 1 signed with another key)`,
    );
  });
});

describe('tampering is refused', () => {
  it('a new image pushed over the signed tag: the tag is resolved, and its digest has no signature', async () => {
    const signedImage = await pushImage('retagged');
    const sign = await runCli(['sign', '--image', signedImage.tagged, '--key-file', keyA.key], { env });
    expect(sign.exitCode, sign.stderr).toBe(0);
    const before = await runCli(['verify', '--image', signedImage.tagged, '--public-key-file', keyA.pub]);
    expect(before.exitCode, before.stdout + before.stderr).toBe(0);

    const replacement = await pushImage('retagged'); // same repository and tag, other content
    expect(replacement.digest).not.toBe(signedImage.digest);
    const after = await runCli(['verify', '--image', signedImage.tagged, '--public-key-file', keyA.pub]);
    expect(after.exitCode).toBe(1);
    expect(after.stdout.trim()).toBe(
      `refused ${replacement.pinned} (tag 1 resolved to this digest; the digest is what was verified): no signature for ${replacement.digest}: nothing is attached to it in ${replacement.repo} (no referrers, no .sig tag)`,
    );
    expect((await cosignVerify(keyA.pub, replacement.tagged)).exitCode).not.toBe(0);
    // The signed digest itself still verifies.
    const pinned = await runCli(['verify', '--image', signedImage.pinned, '--public-key-file', keyA.pub]);
    expect(pinned.exitCode).toBe(0);
  });

  it('a signature made with another key', async () => {
    const image = await pushImage('other-key');
    const sign = await runCli(['sign', '--image', image.pinned, '--key-file', keyB.key]);
    expect(sign.exitCode, sign.stderr).toBe(0);
    const run = await runCli(['verify', '--json', '--image', image.pinned, '--public-key-file', keyA.pub]);
    expect(run.exitCode).toBe(1);
    expect(run.json!.reason).toBe(
      `no signature for ${image.digest} verifies with the key in ${keyA.pub} (1 found, 1 signed with another key)`,
    );
    expect(run.stderr).toBe('');
    expect((await cosignVerify(keyA.pub, image.pinned)).exitCode).not.toBe(0);
  });

  it('an attestation for another digest, signed with the right key and attached to this image', async () => {
    const image = await pushImage('foreign-attestation');
    const elsewhere = await pushImage('foreign-attestation-source');
    const sign = await runCli(['sign', '--image', image.pinned, '--key-file', keyA.key], { env });
    expect(sign.exitCode, sign.stderr).toBe(0);
    // By hand: a valid cyclonedx statement about the other image, signed with key A, stored as a referrer of
    // this one (what someone copying evidence between images would produce).
    process.env.COSIGN_PASSWORD = PASSWORD;
    const key = loadSigningKey({ file: keyA.key });
    const statement = statementFor(elsewhere.pinned, 'https://cyclonedx.org/bom', { bomFormat: 'CycloneDX' });
    const bundle = Buffer.from(
      JSON.stringify(makeBundle(Buffer.from(JSON.stringify(statement)), key.privateKey, key.publicKey)),
    );
    const client = new RegistryClient(registry(), []);
    const head = (await client.headManifest(image.path, image.digest))!;
    const manifest = referrerManifest(head, bundle, 'https://cyclonedx.org/bom');
    await putReferrer(client, image.path, manifest, [EMPTY_JSON, bundle]);

    const run = await runCli([
      'verify',
      '--image',
      image.pinned,
      '--public-key-file',
      keyA.pub,
      '--require',
      'cyclonedx',
    ]);
    expect(run.exitCode).toBe(1);
    expect(run.stdout.trim()).toBe(
      `refused ${image.pinned}: attestation cyclonedx is for ${elsewhere.digest} not ${image.digest}`,
    );
    // The signature alone still verifies; cosign refuses the attestation too.
    expect((await runCli(['verify', '--image', image.pinned, '--public-key-file', keyA.pub])).exitCode).toBe(
      0,
    );
    expect((await cosignVerifyAttestation(keyA.pub, image.pinned, 'cyclonedx')).exitCode).not.toBe(0);
  });

  it('gantry sign refuses a statement about another digest, before writing anything', async () => {
    const image = await pushImage('sign-bad-input');
    const other = await pushImage('sign-bad-input-other');
    const foreign = writeJson(
      'foreign-statement.json',
      statementFor(other.pinned, 'https://slsa.dev/provenance/v1', { runDetails: {} }),
    );
    const tags = await registryTags(registry(), image.path);
    const run = await runCli(['sign', '--image', image.pinned, '--key-file', keyA.key, '--attest', foreign], {
      env,
    });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toBe(
      `gantry: --attest: attestation 1 (https://slsa.dev/provenance/v1) is about ${other.digest}, not ${image.digest} (${image.repo})`,
    );
    expect(await registryTags(registry(), image.path)).toEqual(tags);
  });
});

describe('bad input and an unreachable registry', () => {
  it('exit 2 with one line naming the input; exit 3 when the registry does not answer', async () => {
    const image = await pushImage('bad-input');
    const cases: [string[], number, RegExp][] = [
      [['sign', '--image', image.pinned], 2, /^gantry: --key-file: required: --key-file or --key-env$/],
      [['verify', '--image', image.pinned], 2, /^gantry: --public-key-file: required/],
      [
        ['verify', '--image', image.pinned, '--public-key-file', keyA.key],
        2,
        /^gantry: --public-key-file: the key in .* is a private key/,
      ],
      [
        ['verify', '--image', image.pinned, '--public-key-file', keyA.pub, '--require', 'slsa'],
        2,
        /^gantry: --require: unknown attestation type "slsa"/,
      ],
      [
        ['verify', '--image', `${image.repo}:nope`, '--public-key-file', keyA.pub],
        2,
        /^gantry: --image: ".*:nope" does not exist in the registry \(manifest unknown\)$/,
      ],
      [
        ['sign', '--image', image.pinned, '--key-file', keyA.key, '--attest', join(work, 'missing.json')],
        2,
        /^gantry: --attest: cannot read ".*missing.json": no such file$/,
      ],
      [
        ['verify', '--image', `127.0.0.1:9/it-sign/x:1`, '--public-key-file', keyA.pub],
        3,
        /^gantry: registry 127.0.0.1:9 is unreachable/,
      ],
    ];
    const tags = await registryTags(registry(), image.path);
    for (const [args, code, message] of cases) {
      const run = await runCli(args, { env });
      expect(run.exitCode, args.join(' ')).toBe(code);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr.trim(), args.join(' ')).toMatch(message);
    }
    expect(await registryTags(registry(), image.path)).toEqual(tags);
  });
});

/** skopeo copy by digest: the image, and nothing that refers to it. */
const copyImageOnly = (from: string, to: string) =>
  execa('skopeo', [
    'copy',
    '--quiet',
    '--preserve-digests',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    `docker://${from}`,
    `docker://${to}`,
  ]);

describe('copySignatures', () => {
  it('copies referrers and legacy tags with the image, and both tools verify the copy', async () => {
    const image = await pushImage('copy-source');
    const signed = await runCli(
      ['sign', '--image', image.pinned, '--key-file', keyA.key, '--attest', `cyclonedx=${sbom}`],
      { env },
    );
    expect(signed.exitCode, signed.stderr).toBe(0);
    const legacy = await cosignAttest(keyA.key, image.pinned, 'slsaprovenance1', provenance, [
      '--new-bundle-format=false',
    ]);
    expect(legacy.exitCode, legacy.stderr).toBe(0);

    const target = `${registry()}/it-sign/${RUN}-copy-target`;
    // The image alone, as any registry tool copies it (gantry push would take the evidence along itself).
    await copyImageOnly(image.pinned, `${target}:1`);
    const before = await runCli([
      'verify',
      '--image',
      `${target}@${image.digest}`,
      '--public-key-file',
      keyA.pub,
    ]);
    expect(before.exitCode).toBe(1); // the image alone carries no evidence

    const copied = await copySignatures(image.pinned, target, []);
    expect(copied.referrers).toHaveLength(2);
    expect(copied.legacyTags).toEqual([`${image.digest.replace(':', '-')}.att`]);
    const after = await runCli([
      'verify',
      '--json',
      '--image',
      `${target}:1`,
      '--public-key-file',
      keyA.pub,
      '--require',
      'cyclonedx,slsaprovenance1',
    ]);
    expect(after.exitCode, after.stdout + after.stderr).toBe(0);
    expect(after.json!.digest).toBe(image.digest);
    expect((await cosignVerify(keyA.pub, `${target}@${image.digest}`)).exitCode).toBe(0);
    expect((await cosignVerifyAttestation(keyA.pub, `${target}@${image.digest}`, 'cyclonedx')).exitCode).toBe(
      0,
    );
    // cosign v3 reads only the bundles once an image has any, so it does not see the legacy .att (on the
    // source either); gantry verify reads both, above. The legacy tags on their own: the next test.
    const legacyOnCopy = await cosignVerifyAttestation(
      keyA.pub,
      `${target}@${image.digest}`,
      'slsaprovenance1',
    );
    const legacyOnSource = await cosignVerifyAttestation(keyA.pub, image.pinned, 'slsaprovenance1');
    expect(legacyOnCopy.exitCode).toBe(legacyOnSource.exitCode);
    // Copying again changes nothing: the index lists each referrer once.
    await copySignatures(image.pinned, target, []);
    const index = await fetch(
      `http://${registry()}/v2/${target.slice(registry().length + 1)}/manifests/${image.digest.replace(':', '-')}`,
      { headers: { accept: 'application/vnd.oci.image.index.v1+json' } },
    ).then((r) => r.json() as Promise<{ manifests: unknown[] }>);
    expect(index.manifests).toHaveLength(2);
  });

  it('copies what cosign wrote with --new-bundle-format=false, and cosign verifies the copy', async () => {
    const image = await pushImage('copy-legacy');
    expect((await cosignSign(keyA.key, image.pinned, ['--new-bundle-format=false'])).exitCode).toBe(0);
    const attest = await cosignAttest(keyA.key, image.pinned, 'cyclonedx', sbom, [
      '--new-bundle-format=false',
    ]);
    expect(attest.exitCode, attest.stderr).toBe(0);
    const target = `${registry()}/it-sign/${RUN}-copy-legacy-target`;
    // The image alone, as any registry tool copies it (gantry push would take the evidence along itself).
    await copyImageOnly(image.pinned, `${target}:1`);
    expect((await cosignVerify(keyA.pub, `${target}@${image.digest}`)).exitCode).not.toBe(0);

    const copied = await copySignatures(image.pinned, target, []);
    expect(copied.referrers).toEqual([]);
    expect(copied.legacyTags).toEqual(['.sig', '.att'].map((s) => `${image.digest.replace(':', '-')}${s}`));
    expect((await cosignVerify(keyA.pub, `${target}@${image.digest}`)).exitCode).toBe(0);
    expect((await cosignVerifyAttestation(keyA.pub, `${target}@${image.digest}`, 'cyclonedx')).exitCode).toBe(
      0,
    );
    const own = await runCli([
      'verify',
      '--image',
      `${target}@${image.digest}`,
      '--public-key-file',
      keyA.pub,
      '--require',
      'cyclonedx',
    ]);
    expect(own.exitCode, own.stdout + own.stderr).toBe(0);
  });
});

describe('a registry that wants credentials', () => {
  it('signs and verifies with the credentials Gantry has for it, which reach no output', async () => {
    const image = await pushImage('private');
    const password = `pw-${unique()}-secret`;
    const front = await startAuthRegistry(registry(), 'signer', password);
    try {
      const ref = `${front.address}/${image.path}@${image.digest}`;
      const credentials = {
        GANTRY_REGISTRY: front.address,
        GANTRY_REGISTRY_USERNAME: 'signer',
        GANTRY_REGISTRY_PASSWORD: password,
      };
      const none = await runCli(['verify', '--image', ref, '--public-key-file', keyA.pub]);
      expect(none.exitCode).toBe(3);
      expect(none.stderr.trim()).toBe(
        `gantry: registry ${front.address}: HEAD manifest ${image.path}:${image.digest} failed: HTTP 401 (no credentials for ${front.address} in the docker config, CI variables or GANTRY_REGISTRY_*)`,
      );
      const signed = await runCli(
        ['sign', '--image', ref, '--key-file', keyA.key, '--attest', `cyclonedx=${sbom}`],
        { env: { ...env, ...credentials } },
      );
      expect(signed.exitCode, signed.stderr).toBe(0);
      const verified = await runCli(
        ['verify', '--image', ref, '--public-key-file', keyA.pub, '--require', 'cyclonedx'],
        { env: credentials },
      );
      expect(verified.exitCode, verified.stdout + verified.stderr).toBe(0);
      for (const run of [signed, verified]) {
        expect(run.stdout + run.stderr).not.toContain(password);
        expect(run.stdout + run.stderr).not.toContain(Buffer.from(`signer:${password}`).toString('base64'));
      }
      expect(front.counts.refused).toBeGreaterThan(0); // it did ask for credentials
      // cosign, with a docker config for the front, accepts what was signed through it.
      const dockerConfig = join(work, `docker-${unique()}`);
      mkdirSync(dockerConfig);
      writeFileSync(
        join(dockerConfig, 'config.json'),
        JSON.stringify({
          auths: { [front.address]: { auth: Buffer.from(`signer:${password}`).toString('base64') } },
        }),
      );
      const checked = await execa(cosign, ['verify', '--key', keyA.pub, '--insecure-ignore-tlog=true', ref], {
        env: { HOME: work, DOCKER_CONFIG: dockerConfig },
        reject: false,
      });
      expect(checked.exitCode, checked.stderr).toBe(0);
    } finally {
      await front.close();
    }
  });
});
