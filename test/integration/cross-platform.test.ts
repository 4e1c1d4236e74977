import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, registryDigest, repoRoot } from '../helpers/cli.js';
import {
  createNamespace,
  deleteNamespace,
  fullyAvailable,
  imageOf,
  readDeployment,
} from '../helpers/kube.js';

// One service, one gantry.yml, three CI systems: examples/service at one commit, run through the GitHub root
// action (@github/local-action, with the inputs its workflow gives), the GitLab pipeline component
// (gitlab-ci-local, its .gitlab-ci.yml) and the Jenkins shared library (the Maven-run harness, its
// Jenkinsfile), each seeing the same commit and branch through its own CI variables. Each pushes to its own
// repository in the sandbox registry and rolls out to the same namespace, one after the other. The promise
// checked: the same tags and the same scan verdict everywhere, and each release rolled out.

const BRANCH = 'main';
const example = join(repoRoot, 'examples', 'service');
const work = mkdtempSync(join(tmpdir(), 'gantry-xp-'));
const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

function sandbox(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the sandbox did not start (see test/global-setup.ts)`);
  return value;
}
const registry = () => sandbox('REGISTRY');
const repository = (platform: string) => `xp/${platform}-${id}`;

const git = async (cwd: string, ...args: string[]) => (await execa('git', args, { cwd })).stdout.trim();

/** What every platform reports, in one shape. */
interface Outcome {
  tags: string[];
  digest: string;
  scan: { passed: boolean; counts: Record<string, number> };
  verdict: string;
  deployed: string;
  seconds: number;
}

interface ScanJson {
  passed: boolean;
  counts: Record<string, number>;
}

const SEVERITY_KEYS = ['critical', 'high', 'medium', 'low', 'unknown'] as const;
const countsOf = (counts: Record<string, number>) =>
  Object.fromEntries(SEVERITY_KEYS.map((key) => [key, Number(counts[key] ?? 0)]));
const tagOf = (ref: string) => ref.slice(ref.lastIndexOf(':') + 1);

let namespace: string;
let origin: string;
let sha: string;
const outcomes: Record<string, Outcome> = {};

beforeAll(async () => {
  namespace = await createNamespace('xp');
  // The example as a repository of its own, with what the sandbox needs committed in the same commit that
  // every platform builds: the GitLab components beside it (a component project includes itself by
  // $CI_PROJECT_PATH), and a rollout short enough for a test, in this test's namespace.
  origin = join(work, 'origin');
  cpSync(example, origin, { recursive: true });
  cpSync(join(repoRoot, 'gitlab', 'templates'), join(origin, 'templates'), { recursive: true });
  const settings = yaml.load(readFileSync(join(origin, 'gantry.yml'), 'utf8')) as {
    deploy: Record<string, unknown>;
  };
  Object.assign(settings.deploy, { namespace, steps: [50], pause: '6s', readyTimeout: '60s' });
  writeFileSync(join(origin, 'gantry.yml'), yaml.dump(settings));
  const published = 'gitlab.com/gantry/components/pipeline@0.1.0';
  const gitlabCi = readFileSync(join(origin, '.gitlab-ci.yml'), 'utf8');
  expect(gitlabCi).toContain(`component: ${published}`);
  writeFileSync(
    join(origin, '.gitlab-ci.yml'),
    gitlabCi
      .replace(published, '$CI_SERVER_FQDN/$CI_PROJECT_PATH/pipeline@$CI_COMMIT_SHA')
      // No Docker here: the jobs run in the runner's environment, with gantry on the PATH.
      .replace('    inputs:\n', "    inputs:\n      gantry-image: ''\n"),
  );
  await git(origin, 'init', '--quiet', '--initial-branch', BRANCH);
  await git(origin, 'add', '--all');
  await git(
    origin,
    '-c',
    'user.name=CI',
    '-c',
    'user.email=ci@example.com',
    'commit',
    '--quiet',
    '-m',
    'shop',
  );
  sha = await git(origin, 'rev-parse', 'HEAD');
});

afterAll(async () => {
  if (namespace) await deleteNamespace(namespace);
  rmSync(work, { recursive: true, force: true });
});

/** A fresh checkout of the one commit, as each CI system makes its own. */
async function checkout(platform: string): Promise<string> {
  const dir = join(work, platform);
  await execa('git', ['clone', '--quiet', '--branch', BRANCH, origin, dir]);
  expect(await git(dir, 'rev-parse', 'HEAD')).toBe(sha);
  return dir;
}

// ---------------------------------------------------------------------------------------------- GitHub

/** The Gantry step of the example workflow, and the inputs it gives (expressions resolved as GitHub would). */
function workflowInputs(): Record<string, string> {
  const workflow = yaml.load(readFileSync(join(example, '.github', 'workflows', 'deploy.yml'), 'utf8')) as {
    jobs: Record<string, { steps: { id?: string; uses?: string; with?: Record<string, unknown> }[] }>;
  };
  const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
  const gantry = steps.filter((step) => /^(\.\/?|[\w-]+\/gantry@.+)$/.test(step.uses ?? ''));
  expect(gantry, 'one step uses the root action').toHaveLength(1);
  const expressions: Record<string, string> = {
    'ghcr.io/${{ github.repository }}': `${registry()}/${repository('github')}`,
  };
  const inputs: Record<string, string> = {};
  for (const [name, value] of Object.entries(gantry[0]!.with ?? {})) {
    const text = String(value);
    if (text.includes('${{')) {
      expect(expressions, `a sandbox value for input ${name}: ${text}`).toHaveProperty([text]);
      inputs[name] = expressions[text]!;
    } else {
      inputs[name] = text;
    }
  }
  return inputs;
}

/** The runner's file-command format (GITHUB_OUTPUT). */
function readOutputs(file: string): Record<string, string> {
  const lines = readFileSync(file, 'utf8').split('\n');
  const values: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!match) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== match[2]; i++) value.push(lines[i]!);
    values[match[1]!] = value.join('\n');
  }
  return values;
}

async function runGitHub(): Promise<Outcome> {
  const dir = await checkout('github');
  // local-action starts itself with `npm exec tsx`, which looks in the project of the current directory: the
  // workspace gets this repository's node_modules (untracked; the commit stays the same).
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  const runner = mkdtempSync(join(work, 'github-runner-'));
  const output = join(runner, 'output');
  const env: Record<string, string> = {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTOR: 'octocat',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_RUN_ID: '9112345678',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTION: 'gantry',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REF: `refs/heads/${BRANCH}`,
    GITHUB_REF_NAME: BRANCH,
    GITHUB_REF_TYPE: 'branch',
    GITHUB_SHA: sha,
    GITHUB_WORKSPACE: dir,
    GITHUB_OUTPUT: output,
    GITHUB_STATE: join(runner, 'state'),
    GITHUB_STEP_SUMMARY: join(runner, 'summary.md'),
    RUNNER_TEMP: runner,
  };
  for (const file of [env.GITHUB_OUTPUT!, env.GITHUB_STATE!, env.GITHUB_STEP_SUMMARY!])
    writeFileSync(file, '');
  for (const [name, value] of Object.entries(workflowInputs())) env[`INPUT_${name.toUpperCase()}`] = value;
  const envFile = join(runner, 'step.env');
  writeFileSync(
    envFile,
    Object.entries(env)
      .map(([key, value]) => `${key}="${value}"`)
      .join('\n'),
  );
  const started = Date.now();
  const main = (yaml.load(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as { runs: { main: string } })
    .runs.main;
  // The runner starts the step in the workspace; KUBECONFIG, PROMETHEUS_URL and the tool settings come from
  // the job's environment (the workflow's "Cluster credentials" step and env:).
  const run = await execa(
    process.execPath,
    [
      join(repoRoot, 'node_modules', '@github', 'local-action', 'bin', 'local-action.js'),
      'run',
      repoRoot,
      main,
      envFile,
    ],
    {
      cwd: dir,
      env: { PATH: `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH}`, NO_COLOR: '1' },
      reject: false,
      all: true,
      timeout: 300_000,
    },
  );
  expect(run.exitCode, String(run.all)).toBe(0);
  const outputs = readOutputs(output);
  const metadata = JSON.parse(outputs.metadata!) as { tags: string[] };
  return {
    tags: metadata.tags,
    digest: outputs.digest!,
    scan: {
      passed: outputs.passed === 'true',
      counts: countsOf(Object.fromEntries(SEVERITY_KEYS.map((key) => [key, Number(outputs[key])]))),
    },
    verdict: outputs.verdict!,
    deployed: outputs.ref!,
    seconds: (Date.now() - started) / 1000,
  };
}

// ---------------------------------------------------------------------------------------------- GitLab

async function runGitLab(): Promise<Outcome> {
  const dir = await checkout('gitlab');
  // gitlab-ci-local derives CI_PROJECT_PATH and friends from the origin.
  await git(dir, 'remote', 'set-url', 'origin', 'https://gitlab.example.com/team/shop.git');
  // A shell runner with Gantry installed: gantry and gantry-gitlab on the PATH.
  const bin = join(work, 'gitlab-bin');
  mkdirSync(bin, { recursive: true });
  for (const [name, bundle] of [
    ['gantry', cliPath],
    ['gantry-gitlab', join(repoRoot, 'dist', 'gitlab.js')],
  ] as const) {
    writeFileSync(join(bin, name), `#!/bin/sh\nexec "${process.execPath}" "${bundle}" "$@"\n`);
    chmodSync(join(bin, name), 0o755);
  }
  const variables: Record<string, string> = {
    GITLAB_CI: 'true',
    CI_REGISTRY_IMAGE: `${registry()}/${repository('gitlab')}`,
  };
  for (const [key, value] of Object.entries(process.env)) {
    const runnerSetting = ['CONTAINERS_STORAGE_CONF', 'BUILDAH_ISOLATION', 'KUBECONFIG', 'PROMETHEUS_URL'];
    if (value && (runnerSetting.includes(key) || key.startsWith('TRIVY_'))) variables[key] = value;
  }
  const started = Date.now();
  const run = await execa(
    process.execPath,
    [
      join(repoRoot, 'node_modules', 'gitlab-ci-local', 'dist', 'index.js'),
      '--shell-isolation',
      // See gitlab-ci.test.ts: GitLab reads an empty gantry-image as a job without an image.
      '--ignore-schema-paths',
      '#/definitions/image/oneOf/0/minLength',
      '--ignore-predefined-vars',
      'GITLAB_CI,CI_REGISTRY_IMAGE',
      ...Object.entries(variables).flatMap(([key, value]) => ['--variable', `${key}=${value}`]),
    ],
    {
      cwd: dir,
      all: true,
      reject: false,
      env: {
        PATH: `${bin}:${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
        HOME: mkdtempSync(join(work, 'gitlab-home-')),
        NO_COLOR: '1',
      },
      extendEnv: false,
      timeout: 300_000,
    },
  );
  expect(run.exitCode, String(run.all)).toBe(0);
  const result = <T>(command: string): T =>
    JSON.parse(readFileSync(join(dir, `gantry-${command}.json`), 'utf8')) as T;
  const build = result<{ tags: string[] }>('build');
  const scan = result<ScanJson>('scan');
  const push = result<{ digest: string }>('push');
  const deploy = result<{ verdict: string; image: string }>('deploy');
  return {
    tags: build.tags,
    digest: push.digest,
    scan: { passed: scan.passed, counts: countsOf(scan.counts) },
    verdict: deploy.verdict,
    deployed: deploy.image,
    seconds: (Date.now() - started) / 1000,
  };
}

// ---------------------------------------------------------------------------------------------- Jenkins

function runJenkins(dir: string): Outcome {
  const resultFile = join(work, 'jenkins-result.json');
  const started = Date.now();
  const run = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      join(repoRoot, 'jenkins', 'pom.xml'),
      'test',
      '-Dtest=CrossPlatformTest',
      '-Dsurefire.failIfNoSpecifiedTests=false',
    ],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        GANTRY_XP_WORKSPACE: dir,
        GANTRY_XP_IMAGE: `${registry()}/${repository('jenkins')}`,
        GANTRY_XP_BRANCH: BRANCH,
        GANTRY_XP_COMMIT: sha,
        GANTRY_XP_RESULT: resultFile,
      },
      encoding: 'utf8',
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.slice(-20_000);
  expect(existsSync(resultFile), output).toBe(true);
  const ended = JSON.parse(readFileSync(resultFile, 'utf8')) as {
    result: string;
    stages: string[];
    reports: string;
    log: string;
  };
  expect(ended.result, ended.log).toBe('SUCCESS');
  expect(run.status, output).toBe(0);
  expect(ended.stages).toEqual(['Checkout', 'Build', 'Scan', 'Push', 'Deploy']);
  const report = <T>(name: string): T =>
    JSON.parse(readFileSync(join(ended.reports, `${name}.json`), 'utf8')) as T;
  const build = report<{ tags: string[] }>('build');
  const scan = report<ScanJson>('scan');
  const push = report<{ digest: string }>('push');
  const deploy = report<{ verdict: string; image: string }>('deploy');
  return {
    tags: build.tags,
    digest: push.digest,
    scan: { passed: scan.passed, counts: countsOf(scan.counts) },
    verdict: deploy.verdict,
    deployed: deploy.image,
    seconds: (Date.now() - started) / 1000,
  };
}

// ----------------------------------------------------------------------------------------------- tests

describe('examples/service: one gantry.yml on GitHub, GitLab and Jenkins', () => {
  it('every wiring passes only what is its platform’s; gantry.yml has the rest', () => {
    expect(Object.keys(workflowInputs()).sort()).toEqual(['container', 'image']);
    const gitlab = yaml.load(readFileSync(join(example, '.gitlab-ci.yml'), 'utf8')) as {
      include: { inputs: Record<string, unknown> }[];
    };
    expect(Object.keys(gitlab.include[0]!.inputs).sort()).toEqual(
      ['container', 'environment', 'environment-url', 'gitlab-token', 'image', 'to'].sort(),
    );
    const jenkinsfile = readFileSync(join(example, 'Jenkinsfile'), 'utf8');
    const call = /gantryPipeline\(([\s\S]*?)\n\s*\)/.exec(jenkinsfile)?.[1] ?? '';
    expect([...call.matchAll(/^\s*(\w+):/gm)].map((m) => m[1]).sort()).toEqual(
      ['deploy', 'image', 'kubeconfigCredentialsId', 'registryCredentialsId'].sort(),
    );
    expect(call).toMatch(/deploy: \[container: 'app'\]/);
  });

  // The three platforms run once, one after the other (they share one namespace), before any test; each test
  // below then reads what they did, so none depends on another test having run first.
  const PLATFORMS = ['github', 'gitlab', 'jenkins'] as const;
  const settled: Partial<Record<(typeof PLATFORMS)[number], Outcome | Error>> = {};
  beforeAll(async () => {
    const runs = {
      github: () => runGitHub(),
      gitlab: () => runGitLab(),
      jenkins: async () => runJenkins(await checkout('jenkins')),
    };
    for (const platform of PLATFORMS) {
      settled[platform] = await runs[platform]().catch((error: Error) => error);
      const outcome = settled[platform];
      if (!(outcome instanceof Error)) outcomes[platform] = outcome!;
    }
    process.stderr.write(
      `[cross-platform] ${Object.entries(outcomes)
        .map(([platform, o]) => `${platform} ${o.seconds.toFixed(1)}s`)
        .join(', ')}\n`,
    );
  }, 900_000);
  const outcomeOf = (platform: (typeof PLATFORMS)[number]): Outcome => {
    const outcome = settled[platform];
    if (outcome instanceof Error || !outcome) throw outcome ?? new Error(`${platform} did not run`);
    return outcome;
  };
  const expectedTags = () => [BRANCH, `sha-${sha.slice(0, 7)}`].sort();

  it.each([
    ['GitHub: the root action, as the workflow calls it', 'github'],
    ['GitLab: the pipeline component, as .gitlab-ci.yml includes it', 'gitlab'],
    ['Jenkins: gantryPipeline, as the Jenkinsfile calls it', 'jenkins'],
  ] as const)('%s: every computed tag pushed by digest, the release promoted', async (_name, platform) => {
    const outcome = outcomeOf(platform);
    expect(outcome.tags.map(tagOf).sort()).toEqual(expectedTags());
    expect(outcome.digest, platform).toMatch(/^sha256:[a-f0-9]{64}$/);
    const pushedTo = platform === 'gitlab' ? `${repository(platform)}/ci` : repository(platform);
    for (const tag of expectedTags()) {
      expect(await registryDigest(registry(), pushedTo, tag), `${platform} ${tag}`).toBe(outcome.digest);
    }
    expect(outcome.verdict, platform).toBe('promoted');
    expect(outcome.deployed, platform).toBe(`${registry()}/${repository(platform)}@${outcome.digest}`);
  });

  it('the same tags and the same scan verdict on all three', () => {
    const [github, gitlab, jenkins] = PLATFORMS.map(outcomeOf);
    expect(gitlab!.tags.map(tagOf).sort()).toEqual(github!.tags.map(tagOf).sort());
    expect(jenkins!.tags.map(tagOf).sort()).toEqual(github!.tags.map(tagOf).sort());
    expect(gitlab!.scan).toEqual(github!.scan);
    expect(jenkins!.scan).toEqual(github!.scan);
    expect(github!.scan.passed).toBe(true);
  });

  it('the last release (Jenkins, which ran last) is what runs, fully available, with no canary left', async () => {
    const deployment = await readDeployment(namespace, 'web');
    expect(imageOf(deployment)).toBe(outcomeOf('jenkins').deployed);
    expect(fullyAvailable(deployment)).toBe(true);
    expect(await readDeployment(namespace, 'web-canary')).toBeUndefined();
  });
});
