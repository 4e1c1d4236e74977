import { generateKeyPairSync } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { execa } from 'execa';
import { XMLParser } from 'fast-xml-parser';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, registryDigest, registryTags, repoRoot, runCli } from '../helpers/cli.js';
import {
  createNamespace,
  deleteNamespace,
  fakeImage,
  fullyAvailable,
  imageOf,
  readDeployment,
  writeAnalysis,
  writeApp,
} from '../helpers/kube.js';

// The GitLab components run by gitlab-ci-local (shell executor) in throw-away git repositories, against the
// sandbox. There is no Docker here, so every job runs in "preinstalled gantry" mode (input gantry-image: ''):
// `gantry` and `gantry-gitlab` wrappers around the bundles in dist/ are on the PATH, the way a shell runner
// with Gantry installed would have them. The sandbox's endpoints reach the jobs only through --variable.

const gitlabCiLocal = join(repoRoot, 'node_modules', 'gitlab-ci-local', 'dist', 'index.js');
const templates = join(repoRoot, 'gitlab', 'templates');
const work = mkdtempSync(join(tmpdir(), 'gantry-glci-'));
const bin = join(work, 'bin');
const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

function sandbox(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the sandbox did not start (see test/global-setup.ts)`);
  return value;
}
const registry = () => sandbox('REGISTRY');

/** What a runner with Gantry installed has: the sandbox's tool settings, as CI/CD variables. */
function runnerVariables(): Record<string, string> {
  const names = ['CONTAINERS_STORAGE_CONF', 'BUILDAH_ISOLATION', 'KUBECONFIG', 'PROMETHEUS_URL'];
  const variables: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value && (names.includes(key) || key.startsWith('TRIVY_'))) variables[key] = value;
  }
  return variables;
}

beforeAll(() => {
  expect(existsSync(join(repoRoot, 'dist', 'gitlab.js')), 'dist/gitlab.js: run `npm run build`').toBe(true);
  mkdirSync(bin);
  for (const [name, bundle] of [
    ['gantry', cliPath],
    ['gantry-gitlab', join(repoRoot, 'dist', 'gitlab.js')],
  ] as const) {
    writeFileSync(join(bin, name), `#!/bin/sh\nexec "${process.execPath}" "${bundle}" "$@"\n`);
    chmodSync(join(bin, name), 0o755);
  }
});

/**
 * A project: a git repository with an `origin` on gitlab.example.com (gitlab-ci-local derives CI_PROJECT_PATH
 * and friends from it), the components under templates/ as in a component project, `files`, one commit.
 */
async function project(files: Record<string, string>): Promise<string> {
  const dir = mkdtempSync(join(work, 'project-'));
  cpSync(templates, join(dir, 'templates'), { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  await commit(dir, 'init', true);
  return dir;
}

async function commit(dir: string, message: string, init = false): Promise<void> {
  const git = (...args: string[]) => execa('git', args, { cwd: dir });
  if (init) {
    await git('init', '--quiet', '--initial-branch', 'main');
    await git('config', 'user.email', 'ci@example.com');
    await git('config', 'user.name', 'CI');
    await git('remote', 'add', 'origin', 'https://gitlab.example.com/team/app.git');
  }
  await git('add', '--all');
  await git('commit', '--quiet', '--message', message);
}

interface Pipeline {
  exitCode: number;
  output: string;
  /** A job's dotenv report as GitLab parses it (`^(.*?)=(.*)$`, stripped). */
  dotenv(command: string): Record<string, string>;
  /** A job's JSON result (gantry-<command>.json). */
  result(command: string): Record<string, unknown>;
}

/**
 * GitLab refuses to create a pipeline whose include passes an input the included file does not declare
 * ("unknown input arguments"); gitlab-ci-local 4.75 does not check that, so the harness does, first, with
 * GitLab's words.
 */
function unknownInputs(dir: string): string | undefined {
  const config = yaml.load(readFileSync(join(dir, '.gitlab-ci.yml'), 'utf8')) as {
    include?: { local?: string; component?: string; inputs?: Record<string, unknown> }[];
  };
  for (const include of config.include ?? []) {
    const file = include.local ?? `templates/${include.component?.replace(/^.*\/([^/@]+)@.*$/, '$1')}.yml`;
    const [header] = yaml.loadAll(readFileSync(join(dir, file), 'utf8')) as { spec: { inputs: object } }[];
    const unknown = Object.keys(include.inputs ?? {}).filter((name) => !(name in header!.spec.inputs));
    if (unknown.length > 0) return `\`${file}\`: unknown input arguments: ${unknown.join(', ')}`;
  }
  return undefined;
}

async function runPipeline(dir: string, variables: Record<string, string> = {}): Promise<Pipeline> {
  const refused = unknownInputs(dir);
  const all = { GITLAB_CI: 'true', ...runnerVariables(), ...variables };
  const run = refused
    ? { exitCode: 1, all: refused }
    : await execa(
        process.execPath,
        [
          gitlabCiLocal,
          '--shell-isolation',
          // gitlab-ci-local interpolates inputs after parsing the YAML, so an empty gantry-image leaves
          // `image: ""`, which its schema check refuses; GitLab interpolates the text first, so the same line
          // reads `image:` (null): a job without an image, which is what both then run.
          '--ignore-schema-paths',
          '#/definitions/image/oneOf/0/minLength',
          // GITLAB_CI=true (gitlab-ci-local says false) makes gantry read the GitLab context, as in GitLab.
          '--ignore-predefined-vars',
          'GITLAB_CI,CI_SERVER_URL,CI_PROJECT_ID,CI_REGISTRY_IMAGE',
          ...Object.entries(all).flatMap(([key, value]) => ['--variable', `${key}=${value}`]),
        ],
        {
          cwd: dir,
          all: true,
          reject: false,
          // Nothing of the test process's environment (the sandbox's endpoints) leaks into the jobs.
          env: {
            PATH: `${bin}:${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
            HOME: mkdtempSync(join(work, 'home-')),
            NO_COLOR: '1',
          },
          extendEnv: false,
          timeout: 300_000,
        },
      );
  return {
    exitCode: run.exitCode ?? -1,
    output: String(run.all),
    dotenv(command) {
      const out: Record<string, string> = {};
      for (const line of readFileSync(join(dir, `gantry-${command}.env`), 'utf8').split('\n')) {
        if (line === '') continue;
        const match = /^(.*?)=(.*)$/.exec(line);
        if (!match) throw new Error(`GitLab would reject dotenv line ${JSON.stringify(line)}`);
        out[match[1]!.trim()] = match[2]!.trim();
      }
      return out;
    },
    result(command) {
      return JSON.parse(readFileSync(join(dir, `gantry-${command}.json`), 'utf8'));
    },
  };
}

const includes = (entries: { file: string; inputs: Record<string, unknown> }[], stages?: string[]) =>
  yaml.dump({
    ...(stages ? { stages } : {}),
    include: entries.map(({ file, inputs }) => ({ local: `templates/${file}.yml`, inputs })),
  });

const validateContainerScanning = (() => {
  const schema = JSON.parse(
    readFileSync(
      resolve(repoRoot, '..', 'shared', 'schemas', 'gitlab-container-scanning-report-format-15.0.7.json'),
      'utf8',
    ),
  );
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats.default(ajv);
  return ajv.compile(schema);
})();

function expectValidContainerScanningReport(file: string): {
  vulnerabilities: { identifiers: { value: string }[] }[];
} {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const valid = validateContainerScanning(report);
  expect(validateContainerScanning.errors ?? [], JSON.stringify(validateContainerScanning.errors)).toEqual(
    [],
  );
  expect(valid).toBe(true);
  return report;
}

const namespaces: string[] = [];
afterAll(async () => {
  await Promise.all(namespaces.map(deleteNamespace));
  rmSync(work, { recursive: true, force: true });
});

/**
 * The note links each file of the run report by its job-artifact URL, under the URL of the job that ran
 * (`CI_JOB_URL`, also the note's job-log link), and each linked file is one the job kept as an artifact
 * (gitlab-ci-local copies a job's artifacts back into the project directory).
 */
function expectReportLinks(body: string, dir: string): void {
  const jobUrl = /\[job log\]\((\S+\/-\/jobs\/\d+)\)/.exec(body)?.[1];
  expect(jobUrl, body).toBeDefined();
  const links = [...body.matchAll(/\[([^\]]+)\]\((\S+?)\/artifacts\/file\/(\S+?)\)/g)].map((m) => ({
    name: m[1],
    job: m[2],
    path: m[3]!,
  }));
  expect(links.map((link) => link.path)).toEqual([
    'gantry-rollout/rollout.md',
    'gantry-rollout/rollout.svg',
    'gantry-rollout/rollout.json',
  ]);
  for (const link of links) {
    expect(link.job).toBe(jobUrl);
    expect(link.name).toBe(link.path.split('/').at(-1));
    expect(existsSync(join(dir, link.path)), link.path).toBe(true);
  }
}

describe('GitLab components under gitlab-ci-local, against the sandbox', () => {
  it('build → scan → push → deploy (the stage components): dotenv outputs match the registry and the cluster', async () => {
    const id = unique();
    const namespace = await createNamespace('gl');
    namespaces.push(namespace);
    const app = `${registry()}/gl/app-${id}`;
    const release = `${registry()}/gl/release-${id}`;
    const mirror = `${registry()}/gl/mirror-${id}`;
    const preinstalled = { 'gantry-image': '' };
    const dir = await project({
      Dockerfile: 'FROM scratch\nCOPY app/ /app/\n',
      'app/index.html': `<p>${id}</p>\n`,
      'k8s/app.yaml': readFileSync(join(writeApp({ replicas: 2 }), 'app.yaml'), 'utf8'),
      '.gitlab-ci.yml': includes(
        [
          { file: 'build', inputs: { ...preinstalled, image: app, tag: ['pipeline-$CI_PIPELINE_IID'] } },
          { file: 'scan', inputs: preinstalled },
          {
            file: 'push',
            inputs: {
              ...preinstalled,
              stage: 'release',
              to: [`${release}:$CI_COMMIT_SHORT_SHA`, `${mirror}:stable`],
            },
          },
          {
            file: 'deploy',
            inputs: {
              ...preinstalled,
              manifests: ['k8s/app.yaml'],
              image: ['app=$GANTRY_PUSH_IMAGE_REF'],
              namespace,
              strategy: 'rolling',
              'ready-timeout': '60s',
              environment: 'review/$CI_COMMIT_REF_SLUG',
            },
          },
        ],
        ['build', 'test', 'release', 'deploy'],
      ),
    });
    const pipeline = await runPipeline(dir);
    expect(pipeline.exitCode, pipeline.output).toBe(0);

    const build = pipeline.dotenv('build');
    const digest = build.GANTRY_DIGEST!;
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(build.GANTRY_IMAGE).toBe(app);
    expect(build.GANTRY_IMAGE_REF).toBe(`${app}@${digest}`);
    expect(build.GANTRY_BUILDER).toBe('buildah');
    // Tags from the GitLab context (branch, short sha) plus the one given, each serving the digest.
    const tags = build.GANTRY_TAGS!.split(',');
    expect(tags).toEqual(expect.arrayContaining(['main', expect.stringMatching(/^sha-[0-9a-f]{7}$/)]));
    expect(tags.some((t) => /^pipeline-\d+$/.test(t))).toBe(true);
    expect((await registryTags(registry(), `gl/app-${id}`)).sort()).toEqual([...tags].sort());
    for (const tag of tags) expect(await registryDigest(registry(), `gl/app-${id}`, tag), tag).toBe(digest);

    // The scan job got the build's digest through the dotenv report, and passed.
    expect(pipeline.output).toContain(`$ gantry scan --json --image ${app}@${digest}`);
    expect(pipeline.dotenv('scan')).toMatchObject({ GANTRY_SCAN_PASSED: 'true', GANTRY_SCAN_HIGH: '0' });
    expectValidContainerScanningReport(join(dir, 'gl-container-scanning-report.json'));

    const push = pipeline.dotenv('push');
    const shortSha = (await execa('git', ['rev-parse', '--short=8', 'HEAD'], { cwd: dir })).stdout;
    expect(push).toEqual({
      GANTRY_DIGEST: digest,
      GANTRY_PUSH_REFS: `${release}:${shortSha},${mirror}:stable`,
      GANTRY_PUSH_REPOSITORY: release,
      GANTRY_PUSH_IMAGE_REF: `${release}@${digest}`,
    });
    expect(await registryDigest(registry(), `gl/release-${id}`, shortSha)).toBe(digest);
    expect(await registryDigest(registry(), `gl/mirror-${id}`, 'stable')).toBe(digest);

    expect(pipeline.dotenv('deploy')).toMatchObject({
      GANTRY_VERDICT: 'promoted',
      GANTRY_ROLLOUT: `${namespace}/web`,
      GANTRY_DEPLOYED_IMAGE: `${release}@${digest}`,
    });
    const deployment = await readDeployment(namespace, 'web');
    expect(imageOf(deployment)).toBe(`${release}@${digest}`);
    expect(fullyAvailable(deployment)).toBe(true);
    expect(existsSync(join(dir, 'gantry-rollout', 'rollout.md'))).toBe(true);
    expect(pipeline.output).toMatch(/gantry-deploy environment: \{ name: review\/main/);
  });

  it('build → scan → sign (key from a file variable; SBOM and scan verdict attached) → verify and a deploy with the policy', async () => {
    const id = unique();
    const namespace = await createNamespace('gl-sign');
    namespaces.push(namespace);
    const app = `${registry()}/gl/signed-${id}`;
    const keys = mkdtempSync(join(work, 'keys-'));
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyFile = join(keys, 'cosign.key');
    writeFileSync(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const pubFile = join(keys, 'cosign.pub');
    writeFileSync(pubFile, pair.publicKey.export({ type: 'spki', format: 'pem' }));
    const preinstalled = { 'gantry-image': '' };
    const dir = await project({
      Dockerfile: 'FROM scratch\nCOPY app/ /app/\n',
      'app/index.html': `<p>${id}</p>\n`,
      'k8s/app.yaml': readFileSync(join(writeApp({ replicas: 1 }), 'app.yaml'), 'utf8'),
      '.gitlab-ci.yml': includes(
        [
          { file: 'build', inputs: { ...preinstalled, image: app } },
          { file: 'scan', inputs: preinstalled },
          {
            file: 'sign',
            inputs: {
              ...preinstalled,
              stage: 'sign',
              // A File-type CI/CD variable is a path: SIGNING_KEY stands for one here.
              'key-file': '$SIGNING_KEY',
              sbom: true,
              'scan-result': 'gantry-scan.json',
            },
          },
          {
            file: 'verify',
            inputs: { ...preinstalled, 'public-key-file': '$VERIFY_KEY', require: ['cyclonedx', 'vuln'] },
          },
          {
            file: 'deploy',
            inputs: {
              ...preinstalled,
              manifests: ['k8s/app.yaml'],
              image: ['app=$GANTRY_IMAGE_REF'],
              namespace,
              strategy: 'rolling',
              'ready-timeout': '60s',
              'public-key-file': '$VERIFY_KEY',
              require: ['vuln'],
              'max-critical': '0',
            },
          },
        ],
        ['build', 'test', 'sign', 'deploy'],
      ),
    });
    const pipeline = await runPipeline(dir, { SIGNING_KEY: keyFile, VERIFY_KEY: pubFile });
    expect(pipeline.exitCode, pipeline.output).toBe(0);
    const digest = pipeline.dotenv('build').GANTRY_DIGEST!;
    const sign = pipeline.dotenv('sign');
    expect(sign).toMatchObject({ GANTRY_SIGNED_IMAGE: `${app}@${digest}`, GANTRY_DIGEST: digest });
    expect(sign.GANTRY_SIGNATURE).toMatch(/@sha256:[a-f0-9]{64}$/);
    expect(sign.GANTRY_ATTESTATIONS!.split(',').sort()).toEqual([
      'https://cosign.sigstore.dev/attestation/vuln/v1',
      'https://cyclonedx.org/bom',
    ]);
    expect(JSON.parse(readFileSync(join(dir, 'gantry-sbom.cdx.json'), 'utf8')).bomFormat).toBe('CycloneDX');
    expect(pipeline.dotenv('verify')).toMatchObject({ GANTRY_VERIFIED: 'true', GANTRY_DIGEST: digest });
    expect(imageOf(await readDeployment(namespace, 'web'))).toBe(`${app}@${digest}`);
    // The key reached gantry as a path only: its text is in no log line.
    const body = readFileSync(keyFile, 'utf8').split('\n')[1]!;
    expect(pipeline.output).not.toContain(body);
  });

  it('verify refuses an image signed by no one: the job fails with the reason, GANTRY_VERIFIED=false', async () => {
    const id = unique();
    const app = `${registry()}/gl/unsigned-${id}`;
    const keys = mkdtempSync(join(work, 'keys-'));
    const pubFile = join(keys, 'cosign.pub');
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(pubFile, pair.publicKey.export({ type: 'spki', format: 'pem' }));
    const preinstalled = { 'gantry-image': '' };
    const dir = await project({
      Dockerfile: 'FROM scratch\nCOPY app/ /app/\n',
      'app/index.html': `<p>${id}</p>\n`,
      '.gitlab-ci.yml': includes(
        [
          { file: 'build', inputs: { ...preinstalled, image: app } },
          { file: 'verify', inputs: { ...preinstalled, 'public-key-file': '$VERIFY_KEY' } },
        ],
        ['build', 'deploy'],
      ),
    });
    const pipeline = await runPipeline(dir, { VERIFY_KEY: pubFile });
    expect(pipeline.exitCode).not.toBe(0);
    const verify = pipeline.dotenv('verify');
    expect(verify.GANTRY_VERIFIED).toBe('false');
    expect(verify.GANTRY_VERIFY_REASON).toBeTruthy();
    expect(pipeline.result('verify')).toMatchObject({ verified: false });
  });

  it('a release that ships lodash 4.17.20 stops at the scan (threshold high); the reports stay, nothing is pushed', async () => {
    const id = unique();
    const app = `${registry()}/gl/vulnerable-${id}`;
    const preinstalled = { 'gantry-image': '' };
    const dir = await project({
      Dockerfile: 'FROM scratch\nCOPY app/ /app/\nUSER 65532\n',
      'app/node_modules/lodash/package.json': '{"name":"lodash","version":"4.17.20","license":"MIT"}\n',
      '.gitlab-ci.yml': includes(
        [
          { file: 'build', inputs: { ...preinstalled, image: app } },
          { file: 'scan', inputs: { ...preinstalled, 'severity-threshold': 'high' } },
          { file: 'push', inputs: { ...preinstalled, stage: 'release', to: [`${app}:released`] } },
        ],
        ['build', 'test', 'release'],
      ),
    });
    const pipeline = await runPipeline(dir);
    expect(pipeline.exitCode, pipeline.output).not.toBe(0);
    expect(pipeline.output).toMatch(/FAIL\s+1\s*\n?[\s\S]*FAIL\s+gantry-scan/);
    expect(pipeline.dotenv('scan')).toMatchObject({
      GANTRY_SCAN_PASSED: 'false',
      GANTRY_SCAN_THRESHOLD: 'high',
      GANTRY_SCAN_HIGH: '1',
      GANTRY_SCAN_MEDIUM: '1',
    });
    const scan = pipeline.result('scan') as { failing: { id: string; package: { name: string } }[] };
    expect(scan.failing.map((f) => [f.id, f.package.name])).toEqual([['CVE-2021-23337', 'lodash']]);

    // artifacts: when: always — the reports of the failed job are there, and valid.
    const report = expectValidContainerScanningReport(join(dir, 'gl-container-scanning-report.json'));
    expect(report.vulnerabilities.flatMap((v) => v.identifiers.map((i) => i.value))).toContain(
      'CVE-2021-23337',
    );
    const junit = new XMLParser({ ignoreAttributes: false }).parse(
      readFileSync(join(dir, 'gantry-scan.junit.xml'), 'utf8'),
    );
    expect(JSON.stringify(junit)).toContain('CVE-2021-23337');
    expect(
      Number(junit.testsuites?.['@_failures'] ?? junit.testsuite?.['@_failures']),
    ).toBeGreaterThanOrEqual(1);

    // The gate held: the push job never ran and the release tag does not exist.
    expect(existsSync(join(dir, 'gantry-push.json'))).toBe(false);
    expect(await registryTags(registry(), `gl/vulnerable-${id}`)).not.toContain('released');
  });

  describe('the README example (examples/service, the pipeline component through include: component:)', () => {
    let server: Server;
    let apiUrl: string;
    const notes: { url: string; headers: IncomingHttpHeaders; body: { body: string } }[] = [];
    beforeAll(async () => {
      // A stand-in for the GitLab API on 127.0.0.1, for the merge-request note.
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          notes.push({
            url: req.url ?? '',
            headers: req.headers,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          });
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ id: notes.length, body: '' }));
        });
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((done) => server.close(() => done())));

    it('ships a first release, canaries the next to promotion, rolls a bad one back, and notes each on the merge request', async () => {
      const id = unique();
      const namespace = await createNamespace('gl-example');
      namespaces.push(namespace);
      const example = join(repoRoot, 'examples', 'service');
      const files: Record<string, string> = {};
      for (const path of [
        '.gitlab-ci.yml',
        'gantry.yml',
        'app/Dockerfile',
        'app/index.html',
        'k8s/app.yaml',
      ]) {
        files[path] = readFileSync(join(example, path), 'utf8');
      }
      files['k8s/analysis.yaml'] = readFileSync(join(example, 'k8s', 'analysis.yaml'), 'utf8');
      // Point the example at this repository's components (as a component project tests itself), run its jobs
      // without an image, and shorten the rollout for the sandbox. The rest is the example as written.
      const published = 'gitlab.com/gantry/components/pipeline@0.1.0';
      expect(files['.gitlab-ci.yml']).toContain(`component: ${published}`);
      files['.gitlab-ci.yml'] = files['.gitlab-ci.yml']!.replace(
        published,
        '$CI_SERVER_FQDN/$CI_PROJECT_PATH/pipeline@$CI_COMMIT_SHA',
      ).replace('    inputs:\n', "    inputs:\n      gantry-image: ''\n");
      const settings = yaml.load(files['gantry.yml']!) as { deploy: Record<string, unknown> };
      Object.assign(settings.deploy, { namespace, steps: [50], pause: '6s', readyTimeout: '60s' });
      files['gantry.yml'] = yaml.dump(settings);
      const dir = await project(files);

      const token = `glpat-${id}-example-token`;
      const variables = {
        CI_REGISTRY_IMAGE: `${registry()}/gl/example-${id}`,
        CI_SERVER_URL: apiUrl,
        CI_PROJECT_ID: '4242',
        CI_MERGE_REQUEST_IID: '17',
        GANTRY_NOTE_TOKEN: token,
      };
      const first = await runPipeline(dir, variables);
      expect(first.exitCode, first.output).toBe(0);
      const firstImage = first.dotenv('push').GANTRY_PUSH_IMAGE_REF!;
      expect(first.dotenv('deploy')).toMatchObject({
        GANTRY_VERDICT: 'promoted',
        GANTRY_DEPLOYED_IMAGE: firstImage,
      });

      writeFileSync(join(dir, 'app', 'index.html'), `<p>release ${id}</p>\n`);
      await commit(dir, 'next release');
      notes.length = 0;
      const second = await runPipeline(dir, variables);
      expect(second.exitCode, second.output).toBe(0);
      const build = second.dotenv('build');
      expect(build.GANTRY_IMAGE).toBe(`${registry()}/gl/example-${id}/ci`);
      const released = `${registry()}/gl/example-${id}@${build.GANTRY_DIGEST}`;
      expect(second.dotenv('push').GANTRY_PUSH_IMAGE_REF).toBe(released);
      expect(second.dotenv('deploy')).toMatchObject({
        GANTRY_VERDICT: 'promoted',
        GANTRY_PREVIOUS_IMAGE: firstImage,
        GANTRY_DEPLOYED_IMAGE: released,
      });
      const report = second.result('deploy') as {
        strategy: string;
        steps: { result: string }[];
        checks: unknown[];
      };
      expect(report.strategy).toBe('canary');
      expect(report.steps.map((s) => s.result)).toEqual(['passed']);
      expect(report.checks.length).toBeGreaterThanOrEqual(2);
      const deployment = await readDeployment(namespace, 'web');
      expect(imageOf(deployment)).toBe(released);
      expect(fullyAvailable(deployment)).toBe(true);
      expect(await readDeployment(namespace, 'web-canary')).toBeUndefined();

      expect(notes).toHaveLength(1);
      expect(notes[0]!.url).toBe('/api/v4/projects/4242/merge_requests/17/notes');
      expect(notes[0]!.headers['private-token']).toBe(token);
      expect(notes[0]!.body.body).toContain(`### Gantry rollout of \`${namespace}/web\` to \`production\``);
      expect(notes[0]!.body.body).toContain('```mermaid');
      expect(second.output).toContain('rollout summary posted on !17');
      // The deployment GitLab records for the job succeeds (exit 0), and the note says so; the report's files
      // are linked where the job's artifacts keep them (CI_JOB_URL/artifacts/file/<path>), and are there.
      expectReportLinks(notes[0]!.body.body, dir);
      expect(notes[0]!.body.body).toContain(
        'Environment `production` · [open](https://shop.example.com) · deployment **success**\n',
      );

      // A bad release (half its responses fail): the canary is rolled back, the deploy job fails with exit 1,
      // the stable Deployment never changed, and the note says so.
      const app = readFileSync(join(dir, 'k8s', 'app.yaml'), 'utf8');
      writeFileSync(
        join(dir, 'k8s', 'app.yaml'),
        app.replace('testbed.gantry.dev/error-rate: "0"', 'testbed.gantry.dev/error-rate: "0.5"'),
      );
      writeFileSync(join(dir, 'app', 'index.html'), `<p>bad release ${id}</p>\n`);
      await commit(dir, 'bad release');
      notes.length = 0;
      const third = await runPipeline(dir, variables);
      expect(third.exitCode, third.output).not.toBe(0);
      expect(third.output).toMatch(/gantry-deploy\s+finished in .*FAIL 1/);
      expect(third.dotenv('deploy')).toMatchObject({
        GANTRY_VERDICT: 'rolled-back',
        GANTRY_PREVIOUS_IMAGE: released,
      });
      expect(third.dotenv('deploy').GANTRY_ROLLOUT_REASON).toMatch(/error-rate/);
      const stable = await readDeployment(namespace, 'web');
      expect(imageOf(stable)).toBe(released);
      expect(stable?.metadata?.generation).toBe(deployment?.metadata?.generation);
      expect(fullyAvailable(stable)).toBe(true);
      expect(await readDeployment(namespace, 'web-canary')).toBeUndefined();
      expect(notes).toHaveLength(1);
      expect(notes[0]!.body.body).toContain('**Rolled back**');
      expect(existsSync(join(dir, 'gantry-rollout', 'rollout.svg'))).toBe(true);
      // The failed job's deployment is failed, and its report is linked and kept (artifacts: when: always).
      expect(notes[0]!.body.body).toContain(
        'Environment `production` · [open](https://shop.example.com) · deployment **failed**\n',
      );
      expectReportLinks(notes[0]!.body.body, dir);

      expect(first.output + second.output + third.output).not.toContain(token);
    });
  });

  it('a cancelled deploy job: gantry-gitlab passes SIGTERM on, gantry rolls the canary back, the job keeps its result', async () => {
    const namespace = await createNamespace('gl-cancel');
    namespaces.push(namespace);
    const stableImage = fakeImage('gl-stable');
    const stable = await runCli([
      'deploy',
      '--json',
      '--manifests',
      writeApp(),
      '--image',
      `app=${stableImage}`,
      '--namespace',
      namespace,
      '--strategy',
      'rolling',
      '--ready-timeout',
      '60s',
    ]);
    expect(stable.exitCode, stable.stderr).toBe(0);

    // The deploy job's script line, as a runner runs it: the job's variables in the environment.
    const cwd = mkdtempSync(join(work, 'cancel-'));
    const job = execa(process.execPath, [join(repoRoot, 'dist', 'gitlab.js'), 'deploy'], {
      cwd,
      reject: false,
      all: true,
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        ...runnerVariables(),
        GANTRY_INPUT_MANIFESTS: JSON.stringify([writeApp()]),
        GANTRY_INPUT_IMAGE: JSON.stringify([`app=${fakeImage('gl-next')}`]),
        GANTRY_INPUT_NAMESPACE: namespace,
        GANTRY_INPUT_STEPS: '[50]',
        GANTRY_INPUT_PAUSE: '60s',
        GANTRY_INPUT_READY_TIMEOUT: '60s',
        GANTRY_INPUT_ANALYSIS: writeAnalysis(),
        GANTRY_INPUT_REPORT: 'gantry-rollout',
      },
    });
    const deadline = Date.now() + 60_000;
    while (!((await readDeployment(namespace, 'web-canary'))?.status?.readyReplicas ?? 0)) {
      expect(Date.now(), 'the canary never became ready').toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 250));
    }
    job.kill('SIGTERM');
    const ended = await job;
    expect(ended.exitCode, ended.all).not.toBe(0);
    const result = JSON.parse(readFileSync(join(cwd, 'gantry-deploy.json'), 'utf8'));
    expect(result.verdict).toBe('rolled-back');
    expect(result.reason).toMatch(/SIGTERM/);
    expect(readFileSync(join(cwd, 'gantry-deploy.env'), 'utf8')).toContain('GANTRY_VERDICT=rolled-back\n');
    expect(await readDeployment(namespace, 'web-canary')).toBeUndefined();
    expect(imageOf(await readDeployment(namespace, 'web'))).toBe(stableImage);
  });

  describe('a bad input fails the pipeline with one clear line', () => {
    it.each([
      [
        'wrong type',
        { file: 'scan', inputs: { 'gantry-image': '', 'ignore-unfixed': 'yes' } },
        '`ignore-unfixed` input: provided value is not a boolean.',
      ],
      [
        'not one of the options',
        { file: 'scan', inputs: { 'gantry-image': '', 'severity-threshold': 'hgh' } },
        '`severity-threshold` input: `hgh` cannot be used because it is not in the list of allowed options.',
      ],
      [
        'unknown input name',
        { file: 'scan', inputs: { 'gantry-image': '', severity: 'high' } },
        '`templates/scan.yml`: unknown input arguments: severity',
      ],
      [
        'missing required input',
        { file: 'push', inputs: { 'gantry-image': '', image: 'registry.example.com/app:1' } },
        '`to` input: required value has not been provided.',
      ],
      [
        'a job name GitLab would hide',
        { file: 'build', inputs: { 'gantry-image': '', 'job-prefix': '.hidden-' } },
        '`.hidden-` does not match required regex',
      ],
      [
        'a value gantry refuses (the job fails, exit 2, nothing changed)',
        {
          file: 'push',
          inputs: {
            'gantry-image': '',
            image: `registry.example.com/app:1`,
            to: ['registry.example.com/x:1'],
            retries: 50,
          },
        },
        'gantry: --retries: Too big: expected number to be <=10, got 50',
      ],
    ])('%s', async (_name, include, line) => {
      const dir = await project({ '.gitlab-ci.yml': includes([include]) });
      const pipeline = await runPipeline(dir);
      expect(pipeline.exitCode, pipeline.output).not.toBe(0);
      const lines = pipeline.output.split('\n').filter((l) => l.includes(line));
      expect(lines.length, pipeline.output).toBeGreaterThanOrEqual(1);
      expect(pipeline.output).not.toMatch(/^\s+at /m); // no stack trace
    });
  });
});
