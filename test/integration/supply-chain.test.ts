import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provenanceStatementProblem } from '../../src/supply/provenance-schema.js';
import { generateSbom } from '../../src/supply/sbom.js';
import { PREDICATE_TYPES } from '../../src/supply/statement.js';
import { run as exec } from '../../src/util/exec.js';
import { registryDigest, runCli } from '../helpers/cli.js';
import { buildTestImage, pushTestImage, removeTestImage, writeImageContext } from '../helpers/images.js';

// SBOM, provenance and .trivyignore against the sandbox's real tools: trivy 0.65.0 (offline, the sandbox's own
// vulnerability database: lodash 4.17.20 has CVE-2021-23337, HIGH, and CVE-2020-28500, MEDIUM), buildah and
// the registry.

const registry = () => {
  const value = process.env.REGISTRY;
  if (!value) throw new Error('REGISTRY is not set: the sandbox did not start (see test/global-setup.ts)');
  return value;
};

const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const work = mkdtempSync(join(tmpdir(), 'gantry-supply-it-'));
const localTag = `localhost/gantry-it/supply-lodash:${id}`;
const lodash = {
  'app/node_modules/lodash/package.json': '{"name":"lodash","version":"4.17.20","license":"MIT"}\n',
};

/**
 * The official CycloneDX JSON schema of a spec version, as @cyclonedx/cyclonedx-library ships it (with the
 * SPDX licence ids and JSF schemas it references), compiled by ajv.
 */
function cycloneDxValidator(specVersion: string) {
  const require = createRequire(import.meta.url);
  const schemaDir = join(
    dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')),
    'res',
    'schema',
  );
  const read = (name: string) => JSON.parse(readFileSync(join(schemaDir, name), 'utf8'));
  // The BOM schema refers to these by file name, relative to its own $id.
  const schemas = Object.fromEntries(
    ['spdx', 'jsf-0.82', 'cryptography-defs'].map((name) => [
      `http://cyclonedx.org/schema/${name}.SNAPSHOT.schema.json`,
      read(`${name}.SNAPSHOT.schema.json`),
    ]),
  );
  const ajv = new Ajv({ strict: false, addUsedSchema: false, schemas });
  addFormats.default(ajv);
  // Draft 2019 formats the schema names that ajv-formats does not define: accepted as any string.
  for (const format of ['idn-email', 'iri-reference']) ajv.addFormat(format, true);
  return ajv.compile(read(`bom-${specVersion}.SNAPSHOT.schema.json`));
}

beforeAll(async () => {
  registry();
  await buildTestImage(writeImageContext(lodash, ['USER 65532']), localTag);
}, 300_000);

afterAll(async () => {
  await removeTestImage(localTag);
});

describe('SBOM (trivy) of a real image', () => {
  it('writes a CycloneDX BOM of a local buildah image that the official JSON schema accepts', async () => {
    const output = join(work, 'local', 'sbom.cdx.json');
    const result = await generateSbom({ ref: localTag, format: 'cyclonedx', output, insecureRegistries: [] });
    const bom = JSON.parse(readFileSync(output, 'utf8'));
    const validate = cycloneDxValidator(bom.specVersion);
    expect(validate(bom), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(bom.components.map((c: { purl?: string }) => c.purl)).toContain('pkg:npm/lodash@4.17.20');
    expect(bom.metadata.component.name).toBe(localTag);
    expect(result.components).toBe(bom.components.length);
    // Exported from buildah's storage as an OCI layout: the manifest digest is known before any push.
    expect(result.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(result.statement).toEqual({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'localhost/gantry-it/supply-lodash', digest: { sha256: result.digest!.slice(7) } }],
      predicateType: PREDICATE_TYPES.cyclonedx,
      predicate: bom,
    });
  });

  it('a multi-platform image (buildah, OCI layout store): one platform per SBOM, a missing one is bad input', async () => {
    const store = mkdtempSync(join(tmpdir(), 'gantry-it-store-'));
    const context = mkdtempSync(join(tmpdir(), 'gantry-sbom-multi-'));
    mkdirSync(join(context, 'lodash'));
    writeFileSync(join(context, 'lodash', 'package.json'), lodash['app/node_modules/lodash/package.json']);
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY lodash/ /app/node_modules/lodash/\n');
    const image = `${registry()}/it/sbom-multi-${id}`;
    const env = { GANTRY_IMAGE_STORE: store };
    const build = await runCli(
      [
        'build',
        '--json',
        '--builder',
        'buildah',
        '--image',
        image,
        '--context',
        context,
        '--tag',
        'v1',
      ].concat(['--platform', 'linux/amd64,linux/arm64']),
      { env },
    );
    expect(build.exitCode, build.stderr).toBe(0);
    const output = join(work, 'multi', 'sbom.cdx.json');
    const sbom = await runCli(
      ['sbom', '--json', '--image', `${image}:v1`, '--platform', 'linux/arm64', '--output', output],
      { env },
    );
    expect(sbom.exitCode, sbom.stderr).toBe(0);
    expect(sbom.json).toMatchObject({ platform: 'linux/arm64', digest: build.json!.imageId });
    expect(
      JSON.parse(readFileSync(output, 'utf8')).components.map((c: { name: string }) => c.name),
    ).toContain('lodash');
    const missing = await runCli(
      ['sbom', '--image', `${image}:v1`, '--platform', 'linux/s390x', '--output', output],
      {
        env,
      },
    );
    expect(missing.exitCode).toBe(2);
    // The platforms are known once the image is exported (as for gantry scan): the error is the last line.
    expect(missing.stderr.trim().split('\n').at(-1)).toMatch(
      /^gantry: --platform: .* has no linux\/s390x; it has (linux\/amd64, linux\/arm64|linux\/arm64, linux\/amd64)$/,
    );
  });

  it('the schema check is real: a BOM with a wrong component type is refused', () => {
    const validate = cycloneDxValidator('1.6');
    const bom = {
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      version: 1,
      components: [{ type: 'gadget', name: 'x' }],
    };
    expect(validate(bom)).toBe(false);
  });

  it('gantry sbom --json: a registry image as SPDX JSON, with the digest the registry serves', async () => {
    const ref = `${registry()}/it/supply-${id}:v1`;
    await pushTestImage(localTag, ref);
    const output = join(work, 'remote', 'sbom.spdx.json');
    const run = await runCli(['sbom', '--json', '--image', ref, '--format', 'spdx-json', '--output', output]);
    expect(run.exitCode, run.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(output, 'utf8'));
    expect(doc.spdxVersion).toMatch(/^SPDX-2\./);
    expect(doc.packages.map((p: { name: string }) => p.name)).toContain('lodash');
    expect(run.json).toMatchObject({
      image: ref,
      format: 'spdx-json',
      file: output,
      digest: await registryDigest(registry(), `it/supply-${id}`, 'v1'),
      predicateType: PREDICATE_TYPES.spdxjson,
    });
    expect(run.json!.components).toBeGreaterThanOrEqual(1);
    expect(run.json).not.toHaveProperty('statement');
  });

  it('bad input is one line naming the input, exit 2, nothing written', async () => {
    const format = await runCli([
      'sbom',
      '--image',
      localTag,
      '--format',
      'xml',
      '--output',
      join(work, 'x.xml'),
    ]);
    expect(format.exitCode).toBe(2);
    expect(format.stderr.trim()).toMatch(/^gantry: --format: expected one of cyclonedx\|spdx-json/);
    const output = await runCli(['sbom', '--image', localTag, '--output', work]);
    expect(output.exitCode).toBe(2);
    expect(output.stderr.trim()).toMatch(/^gantry: --output: cannot write the SBOM to/);
  });
});

describe('SLSA provenance of a real build', () => {
  it('gantry build --push writes a statement about the pushed digest, valid as in-toto v1 + SLSA v1', async () => {
    // The base image is in the registry (its digest is resolved there) and, under the same name, in buildah's
    // storage, so the build does not pull it.
    const base = `${registry()}/it/supply-base-${id}:v1`;
    await pushTestImage(localTag, base);
    await exec('buildah', ['--storage-driver', 'vfs', 'tag', localTag, base]);
    const context = mkdtempSync(join(tmpdir(), 'gantry-prov-ctx-'));
    writeFileSync(join(context, 'hello.txt'), `provenance ${id}\n`);
    writeFileSync(
      join(context, 'Dockerfile'),
      `ARG BASE=${base}\nFROM \${BASE}\nCOPY hello.txt /hello.txt\n`,
    );
    const provenance = join(work, 'provenance', 'build.intoto.json');
    const secretValue = `build-arg-value-${id}`;
    const build = await runCli([
      'build',
      '--json',
      '--builder',
      'buildah',
      '--image',
      `${registry()}/it/prov-${id}`,
      '--context',
      context,
      '--tag',
      'v1',
      '--build-arg',
      `NPM_TOKEN=${secretValue}`,
      '--provenance-output',
      provenance,
      '--push',
    ]);
    expect(build.exitCode, build.stderr).toBe(0);
    expect(build.json).toMatchObject({ provenance, provenanceSubject: 'manifest' });
    const text = readFileSync(provenance, 'utf8');
    const statement = JSON.parse(text);
    expect(provenanceStatementProblem(statement)).toBeUndefined();
    expect(statement.subject).toEqual([
      { name: `${registry()}/it/prov-${id}`, digest: { sha256: String(build.json!.digest).slice(7) } },
    ]);
    const definition = statement.predicate.buildDefinition;
    expect(definition.externalParameters.buildArgs).toEqual(['NPM_TOKEN']);
    expect(text).not.toContain(secretValue);
    expect(definition.internalParameters.builder).toBe('buildah');
    const baseDigest = await registryDigest(registry(), `it/supply-base-${id}`, 'v1');
    expect(definition.resolvedDependencies).toContainEqual({
      uri: `docker://${base}`,
      name: base,
      digest: { sha256: baseDigest!.slice(7) },
    });
    expect(statement.predicate.runDetails.builder.id).toBe('urn:gantry:builder:local');
  });

  it('an unbuildable provenance path is bad input before anything is built', async () => {
    const context = mkdtempSync(join(tmpdir(), 'gantry-prov-ctx-'));
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\n');
    const run = await runCli([
      'build',
      '--builder',
      'buildah',
      '--image',
      `${registry()}/it/prov-bad-${id}`,
      '--context',
      context,
      '--tag',
      'v1',
      '--provenance-output',
      context,
      '--push',
    ]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toMatch(/^gantry: --provenance-output: cannot write the provenance/);
    expect(await registryDigest(registry(), `it/prov-bad-${id}`, 'v1')).toBeUndefined();
  });
});

describe("buildx: BuildKit's provenance besides Gantry's", () => {
  const need = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: the sandbox's docker component did not start`);
    return value;
  };

  it('--buildx-provenance on a remote builder: the pushed index carries the attestation, and Gantry writes its own', async () => {
    const env = {
      DOCKER_HOST: need('GANTRY_TESTBED_DOCKER_HOST'),
      DOCKER_CONFIG: need('GANTRY_TESTBED_DOCKER_CONFIG'),
      BUILDX_BUILDER: need('GANTRY_TESTBED_BUILDX_REMOTE'),
      GANTRY_IMAGE_STORE: mkdtempSync(join(tmpdir(), 'gantry-it-store-')),
    };
    const context = mkdtempSync(join(tmpdir(), 'gantry-prov-bx-'));
    writeFileSync(join(context, 'hello.txt'), `buildx provenance ${id}\n`);
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    const image = `${registry()}/it/prov-bx-${id}`;
    const build = await runCli(
      [
        'build',
        '--json',
        '--builder',
        'buildx',
        '--image',
        image,
        '--context',
        context,
        '--tag',
        'v1',
      ].concat(['--buildx-provenance', '--push']),
      { env },
    );
    expect(build.exitCode, build.stderr).toBe(0);
    const raw = await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${image}:v1`]);
    const index = JSON.parse(raw.stdout) as {
      manifests: { platform?: { os: string }; annotations?: Record<string, string> }[];
    };
    expect(index.manifests.map((m) => m.annotations?.['vnd.docker.reference.type'])).toContain(
      'attestation-manifest',
    );
    const statement = JSON.parse(readFileSync(String(build.json!.provenance), 'utf8'));
    expect(provenanceStatementProblem(statement)).toBeUndefined();
    expect(statement.subject[0].digest.sha256).toBe(String(build.json!.digest).slice(7));
    expect(statement.predicate.buildDefinition.internalParameters).toMatchObject({
      builder: 'buildx',
      buildxDriver: 'remote',
    });
  });
});

describe('SBOM of images buildx left in the Docker daemon and in the OCI layout store', () => {
  const need = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: the sandbox's docker component did not start`);
    return value;
  };
  const store = mkdtempSync(join(tmpdir(), 'gantry-it-store-'));
  const dockerDriver = () => ({
    DOCKER_HOST: need('GANTRY_TESTBED_DOCKER_HOST'),
    DOCKER_CONFIG: need('GANTRY_TESTBED_DOCKER_CONFIG'),
    GANTRY_IMAGE_STORE: store,
  });
  const remoteDriver = () => ({ ...dockerDriver(), BUILDX_BUILDER: need('GANTRY_TESTBED_BUILDX_REMOTE') });
  const lodashContext = () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-sbom-bx-'));
    mkdirSync(join(dir, 'lodash'));
    writeFileSync(join(dir, 'lodash', 'package.json'), lodash['app/node_modules/lodash/package.json']);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY lodash/ /app/node_modules/lodash/\n');
    return dir;
  };

  it.each([
    ['the Docker daemon (docker driver): no digest before the push', dockerDriver, 'docker'],
    ['the OCI layout store (remote builder): the layout names the digest', remoteDriver, 'oci-layout'],
  ] as const)('%s', async (_name, env, store) => {
    const image = `${registry()}/it/sbom-bx-${store}-${id}`;
    const build = await runCli(
      [
        'build',
        '--json',
        '--builder',
        'buildx',
        '--image',
        image,
        '--context',
        lodashContext(),
        '--tag',
        'v1',
      ],
      { env: env() },
    );
    expect(build.exitCode, build.stderr).toBe(0);
    expect(build.json!.store).toBe(store);
    // Gantry's provenance is about the manifest digest where the build knows it, else the image id.
    expect(build.json!.provenanceSubject).toBe(store === 'docker' ? 'image-config' : 'manifest');
    const statement = JSON.parse(readFileSync(String(build.json!.provenance), 'utf8'));
    expect(provenanceStatementProblem(statement)).toBeUndefined();
    expect(`sha256:${statement.subject[0].digest.sha256}`).toBe(build.json!.imageId);
    const output = join(work, `bx-${store}`, 'sbom.cdx.json');
    const sbom = await runCli(['sbom', '--json', '--image', `${image}:v1`, '--output', output], {
      env: env(),
    });
    expect(sbom.exitCode, sbom.stderr).toBe(0);
    expect(sbom.stderr).toContain(`exporting local image ${image}:v1 (${store})`);
    const bom = JSON.parse(readFileSync(output, 'utf8'));
    expect(bom.components.map((c: { purl?: string }) => c.purl)).toContain('pkg:npm/lodash@4.17.20');
    if (store === 'docker') expect(sbom.json).not.toHaveProperty('digest');
    else expect(sbom.json!.digest).toBe(build.json!.imageId);
  });
});

describe('.trivyignore with the real trivy', () => {
  /** A folder with gantry.yml (build context app/) and the given ignore files; the scan runs from it. */
  function project(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-trivyignore-it-'));
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'gantry.yml'), 'build:\n  context: app\n');
    for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
    return dir;
  }
  const scan = (cwd: string, extra: string[] = []) =>
    runCli(
      ['scan', '--json', '--image', localTag, '--scanners', 'vuln', '--severity-threshold', 'high', ...extra],
      {
        cwd,
      },
    );

  it('an entry in the build context silences the HIGH finding and is reported as ignored, without expiry', async () => {
    const run = await scan(project({ 'app/.trivyignore': '# accepted\nCVE-2021-23337\n' }));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json!.ignored).toEqual([
      expect.objectContaining({ id: 'CVE-2021-23337', package: 'lodash', source: 'app/.trivyignore' }),
    ]);
    expect(run.json!.noExpiryIgnores).toEqual([
      { id: 'CVE-2021-23337', reason: 'listed in app/.trivyignore', source: 'app/.trivyignore' },
    ]);
  });

  it('an exp: date in the past no longer applies (trivy 0.65 syntax), and the scan fails', async () => {
    const run = await scan(project({ '.trivyignore': 'CVE-2021-23337 exp:2020-01-31\n' }));
    expect(run.exitCode, run.stderr).toBe(1);
    expect((run.json!.findings as { id: string }[]).map((f) => f.id)).toContain('CVE-2021-23337');
    expect(run.json!.expiredIgnores).toEqual([
      {
        id: 'CVE-2021-23337',
        reason: 'listed in .trivyignore',
        expires: '2020-01-31',
        source: '.trivyignore',
      },
    ]);
  });

  it('a .trivyignore.yaml entry with a statement and an expiry to come applies; the Markdown says so', async () => {
    const markdown = join(work, `trivyignore-${id}.md`);
    const run = await scan(
      project({
        '.trivyignore.yaml': [
          'vulnerabilities:',
          '  - id: CVE-2021-23337',
          '    statement: template() never sees user input',
          '    expired_at: 2099-12-31',
          '    purls: ["pkg:npm/lodash"]',
          '  - id: CVE-2020-28500',
        ].join('\n'),
      }),
      ['--markdown', markdown],
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(
      (run.json!.ignored as { id: string; reason: string; expires?: string }[]).map((i) => [
        i.id,
        i.reason,
        i.expires,
      ]),
    ).toEqual([
      ['CVE-2021-23337', 'template() never sees user input', '2099-12-31'],
      ['CVE-2020-28500', 'listed in .trivyignore.yaml', undefined],
    ]);
    const text = readFileSync(markdown, 'utf8');
    expect(text).toContain('#### Ignore entries without an expiry');
    expect(text).toContain('| CVE-2020-28500 | .trivyignore.yaml |');
  });

  it('a malformed exp: date is bad input naming --trivyignore and the line, before trivy runs', async () => {
    const run = await scan(project({ '.trivyignore': 'CVE-2020-28500\nCVE-2021-23337 exp:31/12/2099\n' }));
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toMatch(
      /^gantry: --trivyignore: \.trivyignore line 2: expected exp:YYYY-MM-DD after the id/,
    );
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--no-trivyignore: the files are left alone, and trivy does not read ./.trivyignore on its own', async () => {
    const run = await scan(
      project({ '.trivyignore': 'CVE-2021-23337\n', 'app/.trivyignore': 'CVE-2021-23337\n' }),
      ['--no-trivyignore'],
    );
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.json!.ignored).toEqual([]);
  });
});
