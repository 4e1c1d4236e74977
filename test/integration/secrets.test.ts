import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthRegistry, startAuthRegistry } from '../helpers/auth-registry.js';
import { cliPath, registryTags, repoRoot, runCli } from '../helpers/cli.js';
import { createNamespace, deleteNamespace, fakeImage, writeApp } from '../helpers/kube.js';

// Secrets never leak (issue 5). Registry passwords, tokens (GITHUB_TOKEN, CI_JOB_TOKEN, the GitLab API token,
// GANTRY_REGISTRY_PASSWORD) and kubeconfig contents (the client key, a planted token) carry unique marker values.
// Every command and wrapper runs with all of them in its environment, on success and failure paths (wrong
// password, no password, a token the API server refuses, a kubeconfig that does not parse, --json), and every
// byte it prints or writes — stdout, stderr, --json, reports, GitHub outputs/state/summary, GitLab result and
// dotenv files, anything left in its working directory — is searched for every marker.
//
// The sandbox registry has no auth, so a small front on 127.0.0.1 demands HTTP basic auth and forwards
// everything else to it, as a private registry would.

const registry = () => {
  const value = process.env.REGISTRY;
  if (!value) throw new Error('REGISTRY is not set: the sandbox did not start (see test/global-setup.ts)');
  return value;
};

const id = randomBytes(4).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'gantry-secrets-'));
const USER = 'ci-robot';
const SECRETS = {
  registryPassword: `regpass-marker-${id}-Zq8`,
  wrongPassword: `wrongpass-marker-${id}-Yp7`,
  githubToken: `ghs_marker${id}GithubToken0123`,
  ciJobToken: `cijob-marker-${id}-Xr6`,
  gitlabToken: `glpat-marker-${id}-Wn5`,
  kubeToken: `kubetoken-marker-${id}-Vm4`,
  buildSecret: `buildsecret-marker-${id}-Ut3`,
};

/** Every form a secret could be printed in: itself, base64, and user:password as a registry auth. */
function forms(): string[] {
  const values = Object.values(SECRETS);
  const out = [...values, ...values.map((v) => Buffer.from(v).toString('base64'))];
  for (const password of [SECRETS.registryPassword, SECRETS.wrongPassword]) {
    out.push(Buffer.from(`${USER}:${password}`).toString('base64'));
  }
  return [...out, ...kubeKeyForms];
}

/** The sandbox kubeconfig's client key: its base64 data and each line of the PEM inside. */
let kubeKeyForms: string[] = [];

// ---------------------------------------------------------------------------------------------------------
// A registry that requires basic auth

let front: AuthRegistry;
let authRegistry: string;

async function startAuthFront(): Promise<void> {
  front = await startAuthRegistry(registry(), USER, SECRETS.registryPassword);
  authRegistry = front.address;
}

// ---------------------------------------------------------------------------------------------------------
// Kubeconfigs: the real one (its client key is a secret), one whose token the server refuses, one that breaks

let goodKubeconfig: string;
let refusedKubeconfig: string;
let brokenKubeconfig: string;

function writeKubeconfigs(): void {
  const source = process.env.KUBECONFIG;
  if (!source) throw new Error('KUBECONFIG is not set');
  const text = readFileSync(source, 'utf8');
  const config = yaml.load(text) as {
    clusters: { cluster: { server: string } }[];
    users: { user: Record<string, string> }[];
  };
  const key = config.users[0]!.user['client-key-data']!;
  kubeKeyForms = [
    key,
    ...Buffer.from(key, 'base64')
      .toString()
      .split('\n')
      .filter((line) => line.length >= 16 && !line.startsWith('-----')),
  ];
  goodKubeconfig = join(work, 'kubeconfig');
  writeFileSync(goodKubeconfig, text, { mode: 0o600 });
  const server = config.clusters[0]!.cluster.server;
  refusedKubeconfig = join(work, 'kubeconfig-refused');
  writeFileSync(
    refusedKubeconfig,
    yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: SECRETS.kubeToken } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
    { mode: 0o600 },
  );
  brokenKubeconfig = join(work, 'kubeconfig-broken');
  writeFileSync(
    brokenKubeconfig,
    `apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: ${SECRETS.kubeToken}\n   oops: [x\n`,
    { mode: 0o600 },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Running, and collecting everything a run left behind

/** Every marker in every environment: a leak of the environment itself would show. */
const baseEnv = (): Record<string, string | undefined> => ({
  ...process.env,
  GITHUB_TOKEN: SECRETS.githubToken,
  CI_JOB_TOKEN: SECRETS.ciJobToken,
  GITLAB_TOKEN: SECRETS.gitlabToken,
});

interface Run {
  name: string;
  exitCode: number;
  /** Everything printed and written. */
  texts: Record<string, string>;
}

const runs: Run[] = [];

/** Every file under `dir` (reports, result files, runner files), by path. */
function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if (statSync(path).size > 20 * 1024 * 1024) continue;
    out[path] = readFileSync(path).toString('latin1');
  }
  return out;
}

function record(name: string, exitCode: number, texts: Record<string, string>): Run {
  const run = { name, exitCode, texts };
  runs.push(run);
  return run;
}

/** Markers found in a run's output, as `where: marker`. */
function leaks(run: Run): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(run.texts)) {
    // The runner's own masking commands are how a secret is registered, not a leak.
    const shown = text
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n');
    for (const secret of forms()) if (shown.includes(secret)) found.push(`${where}: ${secret}`);
  }
  return found;
}

async function gantry(
  name: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<Run> {
  const cwd = mkdtempSync(join(work, 'cli-'));
  const result = await runCli(args, { cwd, env: { ...baseEnv(), ...env } });
  return record(name, result.exitCode, {
    stdout: result.stdout,
    stderr: result.stderr,
    ...filesUnder(cwd),
  });
}

const ACTIONS: Record<string, string> = {
  build: join(repoRoot, 'dist', 'actions', 'build.js'),
  push: join(repoRoot, 'dist', 'actions', 'push.js'),
  deploy: join(repoRoot, 'dist', 'actions', 'deploy.js'),
  promote: join(repoRoot, 'dist', 'actions', 'promote.js'),
};

/** A GitHub action's main as the runner starts it, with INPUT_* and its file commands; all files are read back. */
async function action(name: string, which: string, inputs: Record<string, string>): Promise<Run> {
  const step = mkdtempSync(join(work, 'gh-'));
  const files = {
    GITHUB_OUTPUT: join(step, 'output'),
    GITHUB_STATE: join(step, 'state'),
    GITHUB_STEP_SUMMARY: join(step, 'summary.md'),
    GITHUB_ENV: join(step, 'env'),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const env: Record<string, string | undefined> = {
    ...baseEnv(),
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTOR: 'octocat',
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_RUN_ID: '9112345678',
    GITHUB_SHA: '3f7c2a9e1b8d4c6f0a2e5b7d9c1f3a5e7b9d0c2e',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_REF_TYPE: 'branch',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_ACTION: 'gantry',
    GITHUB_SERVER_URL: 'https://github.com',
    RUNNER_TEMP: step,
    ...files,
  };
  for (const [input, value] of Object.entries(inputs)) env[`INPUT_${input.toUpperCase()}`] = value;
  const result = await execa(process.execPath, [ACTIONS[which]!], {
    cwd: step,
    env,
    extendEnv: false,
    reject: false,
    timeout: 180_000,
  });
  return record(name, result.exitCode ?? -1, {
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    ...filesUnder(step),
  });
}

const bin = join(work, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'gantry'), `#!/bin/sh\nexec '${process.execPath}' '${cliPath}' "$@"\n`);
chmodSync(join(bin, 'gantry'), 0o755);

/** `gantry-gitlab <command>` as a job runs it; the result, dotenv and everything else in the project dir is read. */
async function gitlabJob(
  name: string,
  command: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<Run> {
  const project = mkdtempSync(join(work, 'gl-'));
  const jobEnv: Record<string, string | undefined> = {
    ...baseEnv(),
    PATH: `${bin}:${process.env.PATH}`,
    CI: 'true',
    GITLAB_CI: 'true',
    CI_PROJECT_DIR: project,
    CI_JOB_ID: '4242',
    CI_PIPELINE_ID: '777',
    CI_PROJECT_ID: '99',
    CI_PROJECT_PATH: 'acme/shop',
    CI_COMMIT_SHA: '3f7c2a9e1b8d4c6f0a2e5b7d9c1f3a5e7b9d0c2e',
    CI_COMMIT_BRANCH: 'main',
    CI_COMMIT_REF_NAME: 'main',
    CI_DEFAULT_BRANCH: 'main',
    ...env,
  };
  for (const [input, value] of Object.entries(inputs))
    jobEnv[`GANTRY_INPUT_${input.toUpperCase().replace(/-/g, '_')}`] = value;
  const result = await execa(process.execPath, [join(repoRoot, 'dist', 'gitlab.js'), command], {
    cwd: project,
    env: jobEnv,
    extendEnv: false,
    reject: false,
    timeout: 180_000,
  });
  return record(name, result.exitCode ?? -1, {
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    ...filesUnder(project),
  });
}

const registryEnv = (password = SECRETS.registryPassword) => ({
  GANTRY_REGISTRY: authRegistry,
  GANTRY_REGISTRY_USERNAME: USER,
  GANTRY_REGISTRY_PASSWORD: password,
});

function context(): string {
  const dir = mkdtempSync(join(work, 'ctx-'));
  writeFileSync(join(dir, 'hello.txt'), `secrets ${id}\n`);
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
  return dir;
}

// ---------------------------------------------------------------------------------------------------------

let ns: string;
let app: string;
const repo = () => `${authRegistry}/secrets/app-${id}`;

beforeAll(async () => {
  await startAuthFront();
  writeKubeconfigs();
  ns = await createNamespace('secrets');
  app = writeApp({ replicas: 2 });
}, 60_000);

afterAll(async () => {
  await front.close();
  await deleteNamespace(ns);
});

describe('secrets never appear in any output', () => {
  it('the auth front really demands the password', async () => {
    const anonymous = await fetch(`http://${authRegistry}/v2/`);
    expect(anonymous.status).toBe(401);
    const authorized = await fetch(`http://${authRegistry}/v2/`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${USER}:${SECRETS.registryPassword}`).toString('base64')}`,
      },
    });
    expect(authorized.status).toBe(200);
  });

  it('gantry build --push and push (copy) with the right password, --json and not', async () => {
    const build = await gantry(
      'cli build --push',
      [
        'build',
        '--json',
        '--context',
        context(),
        '--image',
        repo(),
        '--tag',
        'one',
        '--push',
        '--builder',
        'buildah',
      ],
      registryEnv(),
    );
    expect(build.exitCode, build.texts.stderr).toBe(0);
    const copy = await gantry(
      'cli push (copy)',
      ['push', '--image', `${repo()}:one`, '--to', `${repo()}:two`],
      registryEnv(),
    );
    expect(copy.exitCode, copy.texts.stderr).toBe(0);
    expect(await registryTags(registry(), `secrets/app-${id}`)).toEqual(
      expect.arrayContaining(['one', 'two']),
    );
  });

  it('gantry push with a wrong password and with none: exit 3, the registry said no', async () => {
    const wrong = await gantry(
      'cli push, wrong password, --json',
      ['push', '--json', '--image', `${repo()}:one`, '--to', `${repo()}:three`],
      registryEnv(SECRETS.wrongPassword),
    );
    expect(wrong.exitCode, wrong.texts.stderr).toBe(3);
    expect(wrong.texts.stderr).toMatch(/unauthorized|authentication required|401/i);
    const none = await gantry('cli push, no password', [
      'push',
      '--image',
      `${repo()}:one`,
      '--to',
      `${repo()}:three`,
    ]);
    expect(none.exitCode, none.texts.stderr).toBe(3);
    const half = await gantry(
      'cli push, password without registry',
      ['push', '--image', `${repo()}:one`, '--to', `${repo()}:three`],
      { GANTRY_REGISTRY_PASSWORD: SECRETS.registryPassword },
    );
    expect(half.exitCode, half.texts.stderr).toBe(2);
    expect(front.counts.refused).toBeGreaterThan(0);
  });

  it('gantry push with credentials from a docker config.json, and build with a secret from the environment', async () => {
    const dockerConfig = mkdtempSync(join(work, 'docker-'));
    writeFileSync(
      join(dockerConfig, 'config.json'),
      JSON.stringify({
        auths: {
          [authRegistry]: { auth: Buffer.from(`${USER}:${SECRETS.registryPassword}`).toString('base64') },
        },
      }),
      { mode: 0o600 },
    );
    const push = await gantry(
      'cli push, docker config.json',
      ['push', '--json', '--image', `${repo()}:one`, '--to', `${repo()}:from-config`],
      { DOCKER_CONFIG: dockerConfig },
    );
    expect(push.exitCode, push.texts.stderr).toBe(0);
    const build = await gantry(
      'cli build, secret from env',
      [
        'build',
        '--json',
        '--context',
        context(),
        '--image',
        repo(),
        '--tag',
        'with-secret',
        '--secret',
        'id=npm,env=NPM_TOKEN',
      ],
      { NPM_TOKEN: SECRETS.buildSecret },
    );
    expect(build.exitCode, build.texts.stderr).toBe(0);
  });

  it('gantry build --push with a wrong password', async () => {
    const run = await gantry(
      'cli build --push, wrong password',
      ['build', '--context', context(), '--image', repo(), '--tag', 'bad', '--push', '--builder', 'buildah'],
      registryEnv(SECRETS.wrongPassword),
    );
    expect(run.exitCode, run.texts.stderr).toBe(3);
  });

  it('gantry scan of a private registry image (with the password, with a wrong one) and of the built local image, with every report', async () => {
    // :two was copied registry to registry, so it is not in local storage: the scanner reads the private registry.
    const remote = await gantry(
      'cli scan, private registry',
      ['scan', '--json', '--image', `${repo()}:two`, '--sarif', 'r/remote.sarif'],
      registryEnv(),
    );
    expect(remote.exitCode, remote.texts.stderr).toBe(0);
    const denied = await gantry(
      'cli scan, private registry, wrong password',
      ['scan', '--json', '--image', `${repo()}:two`],
      registryEnv(SECRETS.wrongPassword),
    );
    expect(denied.exitCode, denied.texts.stderr).toBe(3);
    const reports = await gantry(
      'cli scan, reports',
      [
        'scan',
        '--json',
        '--image',
        `${repo()}:one`,
        '--sarif',
        'r/scan.sarif',
        '--junit',
        'r/scan.xml',
        '--markdown',
        'r/scan.md',
        '--gitlab-report',
        'r/gl.json',
      ],
      registryEnv(),
    );
    expect(reports.exitCode, reports.texts.stderr).toBe(0);
    expect(Object.keys(reports.texts).filter((path) => /\/r\//.test(path))).toHaveLength(4);
  });

  it('gantry deploy with the client key, with --report, then status/abort with a refused token and a broken kubeconfig', async () => {
    const deploy = await gantry(
      'cli deploy --report',
      [
        'deploy',
        '--json',
        '--manifests',
        app,
        '--image',
        `app=${fakeImage(`secrets-${id}`)}`,
        '--namespace',
        ns,
        '--strategy',
        'rolling',
        '--kubeconfig',
        goodKubeconfig,
        '--report',
        'report',
      ],
      registryEnv(),
    );
    expect(deploy.exitCode, deploy.texts.stderr).toBe(0);
    expect(Object.keys(deploy.texts).some((path) => path.endsWith('rollout.md'))).toBe(true);
    const status = await gantry('cli status', [
      'status',
      '--json',
      '--name',
      'web',
      '--namespace',
      ns,
      '--kubeconfig',
      goodKubeconfig,
    ]);
    expect(status.exitCode, status.texts.stderr).toBe(0);
    const refusedRun = await gantry('cli status, refused token', [
      'status',
      '--json',
      '--name',
      'web',
      '--namespace',
      ns,
      '--kubeconfig',
      refusedKubeconfig,
    ]);
    expect(refusedRun.exitCode, refusedRun.texts.stderr).toBe(3);
    expect(refusedRun.texts.stderr).toMatch(/Unauthorized|401/);
    const abort = await gantry('cli abort, refused token', [
      'abort',
      '--name',
      'web',
      '--namespace',
      ns,
      '--kubeconfig',
      refusedKubeconfig,
    ]);
    expect(abort.exitCode, abort.texts.stderr).toBe(3);
    const broken = await gantry('cli promote, broken kubeconfig', [
      'promote',
      '--json',
      '--name',
      'web',
      '--namespace',
      ns,
      '--kubeconfig',
      brokenKubeconfig,
    ]);
    expect(broken.exitCode, broken.texts.stderr).toBe(2);
    const deployRefused = await gantry('cli deploy, refused token', [
      'deploy',
      '--manifests',
      app,
      '--image',
      `app=${fakeImage('refused')}`,
      '--namespace',
      ns,
      '--strategy',
      'rolling',
      '--kubeconfig',
      refusedKubeconfig,
    ]);
    expect(deployRefused.exitCode, deployRefused.texts.stderr).toBe(3);
  });

  it('GitHub: build (push) with registry-password and github-token, push with a wrong password, deploy and promote', async () => {
    const build = await action('GitHub build', 'build', {
      image: repo(),
      context: context(),
      tags: 'gh',
      push: 'true',
      registry: authRegistry,
      'registry-username': USER,
      'registry-password': SECRETS.registryPassword,
      'github-token': SECRETS.githubToken,
      secrets: `npm=${SECRETS.buildSecret}`,
    });
    expect(build.exitCode, build.texts.stdout).toBe(0);
    const wrong = await action('GitHub push, wrong password', 'push', {
      image: `${repo()}:gh`,
      to: `${repo()}:gh-copy`,
      registry: authRegistry,
      'registry-username': USER,
      'registry-password': SECRETS.wrongPassword,
      'github-token': SECRETS.githubToken,
    });
    expect(wrong.exitCode, wrong.texts.stdout).toBe(3);
    const deploy = await action('GitHub deploy', 'deploy', {
      manifests: app,
      images: `app=${fakeImage(`gh-${id}`)}`,
      namespace: ns,
      strategy: 'rolling',
      kubeconfig: goodKubeconfig,
    });
    expect(deploy.exitCode, deploy.texts.stdout).toBe(0);
    const promote = await action('GitHub promote, refused token', 'promote', {
      name: 'web',
      namespace: ns,
      kubeconfig: refusedKubeconfig,
    });
    expect(promote.exitCode, promote.texts.stdout).not.toBe(0);
    const broken = await action('GitHub deploy, broken kubeconfig', 'deploy', {
      manifests: app,
      images: `app=${fakeImage(`gh-${id}`)}`,
      namespace: ns,
      kubeconfig: brokenKubeconfig,
    });
    expect(broken.exitCode, broken.texts.stdout).toBe(2);
  });

  it('GitLab: push with CI_REGISTRY_PASSWORD and CI_JOB_TOKEN, a wrong password, a deploy whose MR note fails', async () => {
    const registryVars = (password: string) => ({
      CI_REGISTRY: authRegistry,
      CI_REGISTRY_USER: USER,
      CI_REGISTRY_PASSWORD: password,
    });
    const push = await gitlabJob(
      'GitLab push',
      'push',
      { image: `${repo()}:one`, to: JSON.stringify([`${repo()}:gl`]), 'gitlab-token': SECRETS.gitlabToken },
      registryVars(SECRETS.registryPassword),
    );
    expect(push.exitCode, push.texts.stderr).toBe(0);
    const wrong = await gitlabJob(
      'GitLab push, wrong password',
      'push',
      { image: `${repo()}:one`, to: JSON.stringify([`${repo()}:gl2`]), 'gitlab-token': SECRETS.gitlabToken },
      registryVars(SECRETS.wrongPassword),
    );
    expect(wrong.exitCode, wrong.texts.stderr).toBe(3);
    // A merge-request pipeline: the note goes to a GitLab that is not there (the token is sent, and fails).
    const deploy = await gitlabJob(
      'GitLab deploy, MR note fails',
      'deploy',
      {
        manifests: JSON.stringify([app]),
        image: JSON.stringify([`app=${fakeImage(`gl-${id}`)}`]),
        namespace: ns,
        strategy: 'rolling',
        kubeconfig: goodKubeconfig,
        'gitlab-token': SECRETS.gitlabToken,
      },
      {
        CI_MERGE_REQUEST_IID: '12',
        CI_MERGE_REQUEST_PROJECT_ID: '99',
        CI_SERVER_URL: 'http://127.0.0.1:9',
        CI_API_V4_URL: 'http://127.0.0.1:9/api/v4',
      },
    );
    expect(deploy.exitCode, deploy.texts.stderr).toBe(0);
    const refusedRun = await gitlabJob('GitLab status, refused token', 'status', {
      name: 'web',
      namespace: ns,
      kubeconfig: refusedKubeconfig,
    });
    expect(refusedRun.exitCode, refusedRun.texts.stderr).toBe(3);
    const broken = await gitlabJob('GitLab abort, broken kubeconfig', 'abort', {
      name: 'web',
      namespace: ns,
      kubeconfig: brokenKubeconfig,
    });
    expect(broken.exitCode, broken.texts.stderr).toBe(2);
  });

  it('no marker in any stdout, stderr, JSON, report, runner file or job artifact', () => {
    expect(runs.length).toBeGreaterThanOrEqual(20);
    expect(front.counts.requests).toBeGreaterThan(0);
    const found = runs.flatMap((run) => leaks(run).map((leak) => `${run.name}: ${leak}`));
    expect(found).toEqual([]);
  });

  it('the search would find a marker (the check is live)', () => {
    const planted = record('planted', 0, { stdout: `password is ${SECRETS.registryPassword}` });
    expect(leaks(planted)).toHaveLength(1);
    runs.pop();
  });
});
