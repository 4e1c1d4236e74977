import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryDigest, registryTags, repoRoot, runCli } from '../helpers/cli.js';
import { type GitHubApi, startGitHubApi } from '../helpers/github-api.js';
import { writeImageContext } from '../helpers/images.js';
import {
  clients,
  createNamespace,
  deleteNamespace,
  fakeImage,
  fullyAvailable,
  imageOf,
  namespaceWithStableApp,
  readDeployment,
  writeAnalysis,
  writeApp,
} from '../helpers/kube.js';

// Every action runs as GitHub would run it: its action.yml's `main` (the committed dist bundle) under
// @github/local-action with INPUT_* from an env file, and — where a test needs to signal or kill the step
// as the runner does on cancellation — as `node <main>` directly. Outputs, state and the job summary are read
// back from the runner's files (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY).

const registry = () => {
  const value = process.env.REGISTRY;
  if (!value) throw new Error('REGISTRY is not set: the sandbox did not start (see test/global-setup.ts)');
  return value;
};
const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const ACTION_DIRS = ['.', 'build', 'scan', 'push', 'sign', 'verify', 'deploy', 'promote', 'abort'] as const;
type ActionName = (typeof ACTION_DIRS)[number];
const actionDir = (action: ActionName) => (action === '.' ? repoRoot : join(repoRoot, 'actions', action));
const mainOf = (action: ActionName): string =>
  (yaml.load(readFileSync(join(actionDir(action), 'action.yml'), 'utf8')) as { runs: { main: string } }).runs
    .main;

/** The default environment of a push to main on GitHub, as far as the actions read it. */
const GITHUB_CONTEXT = {
  CI: 'true',
  GITHUB_ACTIONS: 'true',
  GITHUB_ACTOR: 'octocat',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_RUN_ID: '9112345678',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_ACTION: 'gantry',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_REF_NAME: 'main',
  GITHUB_REF_TYPE: 'branch',
  GITHUB_SHA: '3f7c2a9e1b8d4c6f0a2e5b7d9c1f3a5e7b9d0c2e',
};

interface Step {
  work: string;
  env: Record<string, string>;
}

/** A step's runner files (outputs, state, summary) in a fresh RUNNER_TEMP, and its environment. */
function prepareStep(inputs: Record<string, string>, extra: Record<string, string> = {}): Step {
  const work = mkdtempSync(join(tmpdir(), 'gantry-gh-step-'));
  const files = {
    GITHUB_OUTPUT: join(work, 'output'),
    GITHUB_STATE: join(work, 'state'),
    GITHUB_STEP_SUMMARY: join(work, 'summary.md'),
  };
  for (const file of Object.values(files)) writeFileSync(file, '');
  const env: Record<string, string> = { ...GITHUB_CONTEXT, ...files, RUNNER_TEMP: work, ...extra };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  return { work, env };
}

interface StepResult {
  exitCode: number;
  stdout: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  /** `::error::` lines without properties: what `core.setFailed` wrote. */
  failures: string[];
  /** Annotations (`::error file=…::`, `::warning file=…::`). */
  annotations: string[];
}

/** The runner's `name<<delimiter` file-command format (GITHUB_OUTPUT, GITHUB_STATE). */
function readFileCommands(file: string): Record<string, string> {
  const lines = readFileSync(file, 'utf8').split('\n');
  const values: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!match) continue;
    const [, name, delimiter] = match;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
    values[name!] = value.join('\n');
  }
  return values;
}

/** Workflow command data as the runner unescapes it. */
const commandData = (text: string) => text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');

function resultOf(step: Step, exitCode: number | undefined, stdout: string): StepResult {
  const lines = stdout.split('\n');
  return {
    exitCode: exitCode ?? -1,
    stdout,
    outputs: readFileCommands(step.env.GITHUB_OUTPUT!),
    state: readFileCommands(step.env.GITHUB_STATE!),
    summary: readFileSync(step.env.GITHUB_STEP_SUMMARY!, 'utf8'),
    failures: lines
      .filter((l) => l.startsWith('::error::'))
      .map((l) => commandData(l.slice('::error::'.length))),
    annotations: lines.filter((l) => /^::(error|warning) .*file=/.test(l)),
  };
}

/**
 * Env-file lines for @github/local-action. dotenv reads `\n` as a new line inside double quotes and takes
 * single-quoted values as they are (the JSON state); it has no escape for either quote.
 */
function dotenv(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([key, value]) => {
      if (value.includes('\n')) return `${key}="${value.replace(/\n/g, '\\n')}"`;
      return value.includes('"') ? `${key}='${value}'` : `${key}="${value}"`;
    })
    .join('\n');
}

/** Runs an action's `main` with @github/local-action. */
async function runAction(
  action: ActionName,
  inputs: Record<string, string>,
  extra: Record<string, string> = {},
): Promise<StepResult> {
  const step = prepareStep(inputs, extra);
  const envFile = join(step.work, 'step.env');
  writeFileSync(envFile, dotenv(step.env));
  const result = await execa(
    process.execPath,
    [
      join(repoRoot, 'node_modules', '@github', 'local-action', 'bin', 'local-action.js'),
      'run',
      actionDir(action),
      mainOf(action),
      envFile,
    ],
    {
      cwd: repoRoot,
      env: { PATH: `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH}`, NO_COLOR: '1' },
      reject: false,
      timeout: 300_000,
    },
  );
  return resultOf(step, result.exitCode, String(result.stdout));
}

/** Starts an action's `main` as the runner does (`node <main>`), so the test can signal or kill it. */
function startAction(
  action: ActionName,
  inputs: Record<string, string>,
  extra: Record<string, string> = {},
): { step: Step; process: ResultPromise<{ reject: false }> } {
  const step = prepareStep(inputs, extra);
  const child = execa(process.execPath, [join(actionDir(action), mainOf(action))], {
    cwd: repoRoot,
    env: step.env,
    reject: false,
  });
  return { step, process: child };
}

/** Not one credential outside the runner's own `::add-mask::` commands. */
function expectMasked(stdout: string, ...secrets: string[]): void {
  const printed = stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
  for (const secret of secrets) expect(printed).not.toContain(secret);
}

function makeContext(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-gh-ctx-'));
  writeFileSync(join(dir, 'hello.txt'), `${content}\n`);
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
  return dir;
}

describe('action.yml files', () => {
  it.each(ACTION_DIRS)('%s/action.yml passes action-validator and runs on node24', async (action) => {
    const file = join(actionDir(action), 'action.yml');
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^ {2}using: node24$/m);
    // action-validator 0.6.0 (the latest) bundles a schema older than node24, its only complaint about these
    // files; it validates everything else against the copy that says node20.
    const copy = join(mkdtempSync(join(tmpdir(), 'gantry-gh-yml-')), 'action.yml');
    writeFileSync(copy, text.replace(/^ {2}using: node24$/m, '  using: node20'));
    const result = await execa(join(repoRoot, 'node_modules', '.bin', 'action-validator'), [copy], {
      reject: false,
    });
    expect(result.exitCode, String(result.stdout) + String(result.stderr)).toBe(0);
    expect(existsSync(join(actionDir(action), mainOf(action)))).toBe(true);
  });
});

describe('build, scan and push actions against the sandbox registry', () => {
  const repository = () => `${registry()}/gh-it/app-${id}`;
  const password = `registry-pa55-${id}`;
  const token = `ghs_${id}TokenValue0123456789`;
  let pinned: string;

  it('build pushes every tag and outputs tags, digest and metadata; credentials stay masked', async () => {
    const run = await runAction('build', {
      image: repository(),
      context: makeContext(`hello ${id}`),
      tags: `one\n${repository()}:two`,
      labels: 'team=platform\ntier=web',
      push: 'true',
      'insecure-registry': registry(),
      registry: registry(),
      'registry-username': 'ci',
      'registry-password': password,
      'github-token': token,
    });
    expect(run.exitCode, run.stdout).toBe(0);
    const { outputs } = run;
    expect(outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(await registryDigest(registry(), `gh-it/app-${id}`, 'one')).toBe(outputs.digest);
    expect(await registryDigest(registry(), `gh-it/app-${id}`, 'two')).toBe(outputs.digest);
    // Tags from the git context (a push to main) plus the two given; full references, one per line.
    expect(outputs.tags!.split('\n')).toEqual(
      expect.arrayContaining([`${repository()}:main`, `${repository()}:one`, `${repository()}:two`]),
    );
    expect(outputs.image).toBe(repository());
    expect(outputs.ref).toBe(`${repository()}@${outputs.digest}`);
    expect(outputs.imageid).toMatch(/^sha256:/);
    const metadata = JSON.parse(outputs.metadata!);
    expect(metadata.labels).toMatchObject({
      team: 'platform',
      'org.opencontainers.image.source': 'https://github.com/acme/shop',
    });
    expect(run.summary).toContain(`### Image built: \`${repository()}\``);
    expect(run.summary).toContain(outputs.digest);
    expect(run.stdout).toContain(`::add-mask::${password}`);
    expectMasked(run.stdout + run.summary + JSON.stringify(run.outputs), password, token);
    pinned = outputs.ref!;
  });

  it('scan passes a clean image from the registry and writes SARIF for code scanning', async () => {
    const run = await runAction('scan', { 'image-ref': pinned, 'insecure-registry': registry() });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs).toMatchObject({ passed: 'true', critical: '0', high: '0', findings: '0' });
    const sarif = JSON.parse(readFileSync(run.outputs.sarif!, 'utf8'));
    expect(sarif.version).toBe('2.1.0');
    expect(run.summary).toContain('**Scan passed**');
    expect(run.failures).toEqual([]);
  });

  it('scan fails on lodash 4.17.20: one failure line, annotations, the findings in the summary', async () => {
    const lodash = `${registry()}/gh-it/lodash-${id}`;
    const context = writeImageContext(
      { 'app/node_modules/lodash/package.json': '{"name":"lodash","version":"4.17.20","license":"MIT"}\n' },
      ['USER 65532'],
    );
    // Built locally and not pushed: the scan exports it from the local store, as in the pipeline.
    const build = await runAction('build', {
      image: lodash,
      context,
      file: join(context, 'Containerfile'),
      tags: 'x',
    });
    expect(build.exitCode, build.stdout).toBe(0);
    expect(build.outputs.digest).toBeUndefined();
    const junit = join(mkdtempSync(join(tmpdir(), 'gantry-gh-junit-')), 'junit.xml');
    const run = await runAction('scan', {
      'image-ref': `${lodash}:x`,
      severity: 'CRITICAL,HIGH',
      format: 'junit',
      output: junit,
      file: 'app/Containerfile',
    });
    expect(run.exitCode).not.toBe(0);
    expect(run.failures).toEqual([
      `scan failed: 1 finding at or above high in ${lodash}:x (critical 0, high 1, medium 1, low 0)`,
    ]);
    expect(run.outputs).toMatchObject({ passed: 'false', critical: '0', high: '1', medium: '1', junit });
    expect(existsSync(junit)).toBe(true);
    expect(run.annotations).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^::error title=CVE-2021-23337 \(high\),file=app\/Containerfile::HIGH CVE-2021-23337 in lodash@4\.17\.20/,
        ),
        expect.stringMatching(/^::warning title=CVE-2020-28500 \(medium\),file=app\/Containerfile::/),
      ]),
    );
    expect(run.summary).toContain('**Scan failed**');
    expect(run.summary).toMatch(
      /\| ❌ \| high \| \S*CVE-2021-23337\S* \| lodash \| 4\.17\.20 \| 4\.17\.21 \|/,
    );
  });

  it('push copies the image by digest to several repositories', async () => {
    const to = [`${registry()}/gh-it/copy-${id}:v1`, `${registry()}/gh-it/mirror-${id}:v1`];
    const run = await runAction('push', {
      image: pinned,
      to: to.join('\n'),
      'insecure-registry': registry(),
    });
    expect(run.exitCode, run.stdout).toBe(0);
    const digest = pinned.split('@')[1];
    expect(run.outputs).toEqual({ digest, refs: to.join('\n') });
    expect(await registryDigest(registry(), `gh-it/mirror-${id}`, 'v1')).toBe(digest);
    expect(run.summary).toContain(`### Image pushed: \`${digest}\``);
  });
});

describe('bad input fails the step with one clear line, before anything runs', () => {
  it.each<[ActionName, Record<string, string>, string]>([
    [
      'build',
      { tag: 'v1', image: 'r.example.com/a' },
      'input "tag": unknown input for gantry/actions/build; did you mean "tags"?',
    ],
    ['build', { image: 'r.example.com/a', push: 'yes' }, 'input "push": expected true or false, got "yes"'],
    [
      'build',
      { image: 'r.example.com/a', platforms: 'linux' },
      'input "platforms": expected os/arch[/variant], got "linux"',
    ],
    [
      'scan',
      { 'image-ref': 'r.example.com/a:1', severity: 'severe' },
      'input "severity": expected one of critical|high|medium|low|unknown|none, got "severe"',
    ],
    [
      'deploy',
      { manifests: 'k8s/', steps: '10,abc' },
      'input "steps": expected a weight (25), weight:pause (25:10m, 50:until-promoted) or {weight, pause}, or a match: header=NAME:VALUE[:pause], cookie=NAME[:pause] or {match, pause}, got "abc"',
    ],
    [
      'deploy',
      { manifests: 'k8s/', 'lease-duration': 'ten' },
      'input "lease-duration": expected a number, got "ten"',
    ],
    [
      'deploy',
      { manifests: 'k8s/', chart: 'charts/web' },
      'input "chart": a chart and manifests are mutually exclusive: give one or the other',
    ],
    ['deploy', { manifests: 'k8s/', set: 'a=1' }, 'input "set": only with a chart'],
    [
      '.',
      { image: 'r.example.com/a', manifests: 'k8s/', push: 'false' },
      'input "push": must be true with "manifests": images are deployed by digest',
    ],
    [
      '.',
      { image: 'r.example.com/a', 'registry-password': 'only-the-password' },
      'input "registry-password": needs "registry" (host) and "registry-username"',
    ],
  ])('%s %j', async (action, inputs, message) => {
    const run = await runAction(action, inputs);
    expect(run.exitCode).not.toBe(0);
    expect(run.failures).toEqual([message]);
    expect(run.outputs).toEqual({});
  });
});

describe('deploy, promote and abort actions against the sandbox cluster', () => {
  const namespaces: string[] = [];
  const V1 = fakeImage('gh-v1');
  const V2 = fakeImage('gh-v2');
  afterAll(async () => {
    await Promise.all(namespaces.map(deleteNamespace));
  });

  async function stableNamespace(): Promise<string> {
    const ns = await createNamespace('gh');
    namespaces.push(ns);
    const run = await runAction('deploy', {
      manifests: writeApp(),
      images: `app=${V1}`,
      namespace: ns,
      strategy: 'rolling',
      'ready-timeout': '60s',
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs.verdict).toBe('promoted');
    return ns;
  }

  const canary = (ns: string, image: string, extra: Record<string, string> = {}) => ({
    manifests: writeApp(extra.errorRate ? { errorRate: Number(extra.errorRate) } : {}),
    images: `app=${image}`,
    namespace: ns,
    strategy: 'canary',
    steps: '20,50',
    pause: '6s',
    analysis: writeAnalysis(),
    'ready-timeout': '60s',
    ...Object.fromEntries(Object.entries(extra).filter(([key]) => key !== 'errorRate')),
  });

  /** Until a running step holds the lease and its canary (of `image`) takes traffic. */
  async function waitForCanary(ns: string, image: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const canary = await readDeployment(ns, 'web-canary');
      const lease = await clients()
        .coordination.readNamespacedLease({ namespace: ns, name: 'gantry-web' })
        .catch(() => undefined);
      if (
        lease?.spec?.holderIdentity &&
        imageOf(canary) === image &&
        (canary?.status?.readyReplicas ?? 0) > 0
      )
        return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error('the canary never received traffic');
  }

  async function expectRolledBack(ns: string, stableImage: string): Promise<void> {
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
    const stable = await readDeployment(ns, 'web');
    expect(imageOf(stable)).toBe(stableImage);
    expect(fullyAvailable(stable)).toBe(true);
    const lease = await clients().coordination.readNamespacedLease({ namespace: ns, name: 'gantry-web' });
    expect(lease.spec?.holderIdentity ?? '').toBe('');
  }

  let ns: string;
  beforeAll(async () => {
    ns = await stableNamespace();
  });

  it('promotes a healthy canary: outputs, report files and a summary with the Mermaid timeline', async () => {
    const run = await runAction('deploy', canary(ns, V2));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs).toMatchObject({ verdict: 'promoted', 'previous-image': V1 });
    expect(Number(run.outputs.revision)).toBeGreaterThan(1);
    expect(readFileSync(run.outputs.report!, 'utf8')).toContain('**Promoted**');
    expect(JSON.parse(readFileSync(run.outputs['report-json']!, 'utf8')).verdict).toBe('promoted');
    expect(run.summary).toContain('### Rollout');
    expect(run.summary).toContain('```mermaid');
    expect(run.summary).toContain('xychart-beta');
    expect(run.summary).toMatch(/<summary><b>Step 1 · 20%<\/b> · passed/);
    expect(run.summary).toMatch(/<summary><b>Step 2 · 50%<\/b> · passed/);
    expect(run.summary).toContain('| error-rate |');
    expect(run.state).toMatchObject({ isPost: 'true', rollout: '' });
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(V2);
  });

  it('rolls a bad canary back and fails the step with the verdict line', async () => {
    const run = await runAction('deploy', canary(ns, fakeImage('gh-bad'), { errorRate: '0.5' }));
    expect(run.exitCode).not.toBe(0);
    expect(run.failures).toHaveLength(1);
    expect(run.failures[0]).toMatch(
      /^Rolled back web in gh-[^:]+: error-rate \S+ above max 0\.05 at step 1 \(20%\)/,
    );
    expect(run.outputs.verdict).toBe('rolled-back');
    expect(run.summary).toContain('**FAIL**');
    await expectRolledBack(ns, V2);
  });

  it('promote and abort act on a rollout a running deploy step holds', async () => {
    // A fresh namespace: the bad canary's 5xx would still be in the error-rate window here.
    const fresh = await stableNamespace();
    // Promotion ends the current step at once and skips the rest.
    const promoted = startAction('deploy', canary(fresh, V2, { pause: '15s' }));
    await waitForCanary(fresh, V2);
    const promote = await runAction('promote', { name: 'web', namespace: fresh });
    expect(promote.exitCode, promote.stdout).toBe(0);
    expect(promote.outputs.phase).toBe('idle');
    const promotedRun = await promoted.process;
    expect(promotedRun.exitCode, String(promotedRun.stdout)).toBe(0);
    expect(readFileCommands(promoted.step.env.GITHUB_OUTPUT!).verdict).toBe('promoted');
    expect(imageOf(await readDeployment(fresh, 'web'))).toBe(V2);

    const next = await stableNamespace();
    const aborted = startAction('deploy', canary(next, V2, { pause: '60s' }));
    await waitForCanary(next, V2);
    const abort = await runAction('abort', { name: 'web', namespace: next });
    expect(abort.exitCode, abort.stdout).toBe(0);
    expect(abort.outputs.phase).toBe('idle');
    expect((await aborted.process).exitCode).not.toBe(0);
    expect(readFileCommands(aborted.step.env.GITHUB_OUTPUT!).verdict).toBe('rolled-back');
    await expectRolledBack(next, V1);
  });

  it('the promote action releases a gate; the deploy step goes on with the next step', async () => {
    const ns = await stableNamespace();
    const gated = startAction(
      'deploy',
      canary(ns, V2, { steps: '20:until-promoted,50:3s', 'gate-timeout': '10m' }),
    );
    const deadline = Date.now() + 90_000;
    for (;;) {
      const status = await runCli(['status', '--json', '--name', 'web', '--namespace', ns]);
      if (status.json?.phase === 'waiting') break;
      if (Date.now() > deadline) throw new Error(`the rollout never waited at its gate: ${status.stdout}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const promote = await runAction('promote', { name: 'web', namespace: ns });
    expect(promote.exitCode, promote.stdout).toBe(0);
    expect(promote.outputs.phase).not.toBe('waiting');
    expect(promote.summary).toContain('### Gate released: promote done:');
    const result = await gated.process;
    expect(result.exitCode, String(result.stdout)).toBe(0);
    expect(String(result.stdout)).toContain(
      `step 1/2 waits at 20% for a person: run \`gantry promote --name web --namespace ${ns}\` to continue`,
    );
    expect(readFileCommands(gated.step.env.GITHUB_OUTPUT!).verdict).toBe('promoted');
    // Both steps ran: the promote released the gate, it did not skip step 2.
    const summary = readFileSync(gated.step.env.GITHUB_STEP_SUMMARY!, 'utf8');
    expect(summary).toMatch(/<summary><b>Step 1 · 20%<\/b> · passed/);
    expect(summary).toMatch(/<summary><b>Step 2 · 50%<\/b> · passed/);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(V2);
  });

  it('a cancelled job (SIGINT) rolls back in the main step; the post step then has nothing to do', async () => {
    const cancelled = await stableNamespace();
    const { step, process: child } = startAction('deploy', canary(cancelled, V2, { pause: '60s' }));
    await waitForCanary(cancelled, V2);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).not.toBe(0);
    // The runner's `node dist/actions/deploy.js`: the step header is the first line, before the step loads.
    expect(String(result.stdout).split('\n')[0]).toMatch(
      /^gantry\/actions\/deploy \d+\.\d+\.\d+\S* \(node v[\d.]+\)$/,
    );
    expect(readFileCommands(step.env.GITHUB_OUTPUT!).verdict).toBe('rolled-back');
    const state = readFileCommands(step.env.GITHUB_STATE!);
    expect(state.rollout).toBe('');
    await expectRolledBack(cancelled, V1);
    const post = await runAction('deploy', {}, { STATE_isPost: 'true', STATE_rollout: state.rollout! });
    expect(post.exitCode, post.stdout).toBe(0);
    expect(post.stdout).not.toContain('aborting it');
  });

  it('a step killed mid-canary leaves its rollout running; the post step aborts it', async () => {
    const killed = await stableNamespace();
    const { step, process: child } = startAction(
      'deploy',
      canary(killed, V2, { pause: '60s', 'lease-duration': '3' }),
    );
    await waitForCanary(killed, V2);
    child.kill('SIGKILL');
    await child;
    expect(await readDeployment(killed, 'web-canary')).toBeDefined();
    const state = readFileCommands(step.env.GITHUB_STATE!);
    expect(JSON.parse(state.rollout!)).toMatchObject({ namespace: killed, name: 'web' });
    const post = await runAction('deploy', {}, { STATE_isPost: 'true', STATE_rollout: state.rollout! });
    expect(post.exitCode, post.stdout).toBe(0);
    expect(post.stdout).toMatch(
      /::warning::the job stopped during the rollout of gh-\S+\/web \(run \S+\): aborting it/,
    );
    expect(post.stdout).toMatch(/^gantry\/actions\/deploy \d+\.\d+\.\d+\S* \(node v[\d.]+, post step\)$/m);
    expect(post.summary).toContain('### Rollout aborted by the post step');
    await expectRolledBack(killed, V1);
  });
});

describe('GitHub Deployments and the pull-request comment, against a local GitHub API', () => {
  // The deploy step as it runs on a pull_request event, its API calls going to a local server
  // (GITHUB_API_URL), through the same bundle and Octokit as on GitHub.
  const TOKEN = `ghs_${id}DeployToken0123456789`;
  const PR = 31;
  const HEAD_SHA = '8c1e4b2a9d7f3e5c0b6a4d2f8e1c3b5a7d9f0e2c';
  let api: GitHubApi;
  let ns: string;
  let prEnv: Record<string, string>;
  beforeAll(async () => {
    api = await startGitHubApi(TOKEN);
    ns = await namespaceWithStableApp('gh-dep', 'ghd-v1');
    const event = join(mkdtempSync(join(tmpdir(), 'gantry-gh-event-')), 'event.json');
    writeFileSync(
      event,
      JSON.stringify({ number: PR, pull_request: { number: PR, head: { sha: HEAD_SHA } } }),
    );
    prEnv = {
      GITHUB_API_URL: api.url,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: event,
      GITHUB_REF: `refs/pull/${PR}/merge`,
      GITHUB_REF_NAME: `${PR}/merge`,
    };
  });
  afterAll(async () => {
    await api?.close();
    if (ns) await deleteNamespace(ns);
  });

  const rolling = (seed: string, extra: Record<string, string> = {}) => ({
    manifests: writeApp(),
    images: `app=${fakeImage(seed)}`,
    namespace: ns,
    strategy: 'rolling',
    'ready-timeout': '60s',
    'github-token': TOKEN,
    environment: 'preview',
    'environment-url': 'https://preview.shop.example.com',
    ...extra,
  });
  const marker = () => `<!-- gantry-rollout:${ns}/web -->`;
  // Warnings about the GitHub API (the rollout may warn of other things).
  const warnings = (run: StepResult) =>
    run.stdout
      .split('\n')
      .filter((l) => l.startsWith('::warning::') && /GitHub Deployment|pull request/.test(l));

  it('a deploy on a pull request: a deployment in_progress → success, one comment; a rerun updates it', async () => {
    const first = await runAction('deploy', rolling('ghd-v2'), prEnv);
    expect(first.exitCode, first.stdout).toBe(0);
    expect(first.outputs.verdict).toBe('promoted');
    expect(warnings(first)).toEqual([]);
    expect(api.deployments).toHaveLength(1);
    const [deployment] = api.deployments;
    expect(deployment!).toMatchObject({ owner: 'acme', repo: 'shop' });
    expect(deployment!.body).toMatchObject({
      ref: HEAD_SHA,
      environment: 'preview',
      auto_merge: false,
      required_contexts: [],
      payload: { image: fakeImage('ghd-v2'), digest: fakeImage('ghd-v2').split('@')[1], namespace: ns },
    });
    expect(deployment!.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    for (const status of deployment!.statuses) {
      expect(status).toMatchObject({
        log_url: 'https://github.com/acme/shop/actions/runs/9112345678',
        environment_url: 'https://preview.shop.example.com',
        environment: 'preview',
      });
      expect(String(status.description).length).toBeLessThanOrEqual(140);
    }
    expect(deployment!.statuses[1]!.description).toMatch(/^Promoted web in /);
    expect(api.comments).toHaveLength(1);
    expect(api.comments[0]!.issue).toBe(PR);
    expect(api.comments[0]!.body.startsWith(marker())).toBe(true);
    expect(api.comments[0]!.body).toContain('**Promoted**');
    for (const request of api.requests) {
      expect(request.authorization).toBe(`token ${TOKEN}`);
      if (request.method !== 'GET') expect(request.contentType).toMatch(/^application\/json/);
    }
    expectMasked(first.stdout, TOKEN);

    const firstBody = api.comments[0]!.body;
    const second = await runAction('deploy', rolling('ghd-v3'), prEnv);
    expect(second.exitCode, second.stdout).toBe(0);
    expect(api.comments).toHaveLength(1);
    expect(api.comments[0]!.body).not.toBe(firstBody);
    expect(api.comments[0]!.body).toContain(fakeImage('ghd-v3'));
    expect(api.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    expect(api.deployments).toHaveLength(2);
    expect(api.deployments[1]!.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
  });

  it('a rolled-back canary ends its deployment in failure and says so in the comment', async () => {
    const run = await runAction(
      'deploy',
      rolling('ghd-bad', {
        manifests: writeApp({ errorRate: 0.5 }),
        strategy: 'canary',
        steps: '20,50',
        pause: '6s',
        analysis: writeAnalysis(),
      }),
      prEnv,
    );
    expect(run.exitCode).toBe(1);
    expect(run.outputs.verdict).toBe('rolled-back');
    expect(warnings(run)).toEqual([]);
    const deployment = api.deployments.at(-1)!;
    expect(deployment.body.payload).toMatchObject({ image: fakeImage('ghd-bad') });
    expect(deployment.statuses.map((s) => s.state)).toEqual(['in_progress', 'failure']);
    expect(deployment.statuses[1]!.description).toMatch(/^Rolled back web in /);
    expect(api.comments).toHaveLength(1);
    expect(api.comments[0]!.body).toContain('**Rolled back**');
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(fakeImage('ghd-v3'));
  });

  it('an API answering 500 only warns: the rollout and its verdict are unchanged', async () => {
    const before = api.requests.length;
    const deployments = api.deployments.length;
    api.failWith = 500;
    let run: StepResult;
    try {
      run = await runAction('deploy', rolling('ghd-v4'), prEnv);
    } finally {
      api.failWith = undefined;
    }
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs.verdict).toBe('promoted');
    expect(run.failures).toEqual([]);
    expect(warnings(run)).toEqual([
      expect.stringMatching(/could not create the GitHub Deployment \(HTTP 500\)/),
      expect.stringMatching(/could not comment on pull request #31 \(HTTP 500\)/),
    ]);
    // Each call was tried twice (one retry on a 5xx): the deployment, and the comment lookup.
    expect(api.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /repos/acme/shop/deployments',
      'POST /repos/acme/shop/deployments',
      `GET /repos/acme/shop/issues/${PR}/comments`,
      `GET /repos/acme/shop/issues/${PR}/comments`,
    ]);
    expect(api.deployments).toHaveLength(deployments);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(fakeImage('ghd-v4'));
    expectMasked(run.stdout, TOKEN);
  });

  it('a step killed mid-canary: the post step rolls it back and ends its deployment in error', async () => {
    const before = api.deployments.length;
    const { step, process: child } = startAction(
      'deploy',
      rolling('ghd-killed', {
        strategy: 'canary',
        steps: '20,50',
        pause: '60s',
        analysis: writeAnalysis(),
        'lease-duration': '3',
      }),
      prEnv,
    );
    // Until the canary takes traffic and the deployment is in progress (the step saved its id).
    const deadline = Date.now() + 60_000;
    const inProgress = () =>
      api.deployments.length > before &&
      api.deployments.at(-1)!.statuses.some((s) => s.state === 'in_progress');
    while (Date.now() < deadline) {
      const canary = await readDeployment(ns, 'web-canary');
      if (
        inProgress() &&
        imageOf(canary) === fakeImage('ghd-killed') &&
        (canary?.status?.readyReplicas ?? 0) > 0
      )
        break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(inProgress()).toBe(true);
    child.kill('SIGKILL');
    await child;
    const state = readFileCommands(step.env.GITHUB_STATE!);
    const deployment = api.deployments.at(-1)!;
    expect(JSON.parse(state.githubDeployment!)).toEqual({ id: deployment.id, environment: 'preview' });
    const post = await runAction(
      'deploy',
      { 'github-token': TOKEN },
      {
        ...prEnv,
        STATE_isPost: 'true',
        STATE_rollout: state.rollout!,
        STATE_githubDeployment: state.githubDeployment!,
      },
    );
    expect(post.exitCode, post.stdout).toBe(0);
    expect(post.summary).toContain('### Rollout aborted by the post step');
    expect(deployment.statuses.map((s) => s.state)).toEqual(['in_progress', 'error']);
    expect(deployment.statuses[1]).toMatchObject({
      environment: 'preview',
      log_url: 'https://github.com/acme/shop/actions/runs/9112345678',
    });
    expect(deployment.statuses[1]!.description).toMatch(/^The job stopped during the rollout of /);
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(fakeImage('ghd-v4'));
  });

  it('github-deployment: false and pr-comment: false post nothing; a bad environment-url fails as bad input', async () => {
    const before = api.requests.length;
    const off = await runAction(
      'deploy',
      rolling('ghd-v5', { 'github-deployment': 'false', 'pr-comment': 'false' }),
      prEnv,
    );
    expect(off.exitCode, off.stdout).toBe(0);
    expect(api.requests.length).toBe(before);
    const bad = await runAction('deploy', rolling('ghd-v6', { 'environment-url': 'preview.shop' }), prEnv);
    expect(bad.exitCode).toBe(2);
    expect(bad.failures).toEqual([
      expect.stringMatching(/^input "environment-url": expected an http\(s\) URL/),
    ]);
    expect(api.requests.length).toBe(before);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(fakeImage('ghd-v5'));
  });
});

describe('the root action: build → scan → push → deploy', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await namespaceWithStableApp('gh-pipe', 'pipe-v1');
  });
  afterAll(() => deleteNamespace(ns));

  it('ships a clean image: pushed by digest after the scan, rolled out as a canary', async () => {
    const image = `${registry()}/gh-it/pipe-${id}`;
    const run = await runAction('.', {
      image,
      context: makeContext(`pipeline ${id}`),
      tags: 'release',
      'insecure-registry': registry(),
      severity: 'high',
      manifests: writeApp(),
      container: 'app',
      namespace: ns,
      steps: '50',
      pause: '4s',
      analysis: writeAnalysis(),
      'ready-timeout': '60s',
    });
    expect(run.exitCode, run.stdout).toBe(0);
    const { outputs } = run;
    expect(outputs).toMatchObject({ passed: 'true', verdict: 'promoted', ref: `${image}@${outputs.digest}` });
    expect(await registryDigest(registry(), `gh-it/pipe-${id}`, 'release')).toBe(outputs.digest);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(`${image}@${outputs.digest}`);
    // One summary, the stages in order.
    const positions = ['### Image built', '### Image scan', '### Image pushed', '### Rollout'].map(
      (section) => run.summary.indexOf(section),
    );
    expect(positions.every((position, i) => position > (positions[i - 1] ?? -1))).toBe(true);
    expect(run.summary).toContain('```mermaid');
  });

  it('stops a vulnerable image at the scan: nothing pushed, nothing deployed', async () => {
    const image = `${registry()}/gh-it/pipe-bad-${id}`;
    const context = writeImageContext(
      { 'app/node_modules/lodash/package.json': '{"name":"lodash","version":"4.17.20","license":"MIT"}\n' },
      ['USER 65532'],
    );
    const before = imageOf(await readDeployment(ns, 'web'));
    const run = await runAction('.', {
      image,
      context,
      file: join(context, 'Containerfile'),
      tags: 'release',
      'insecure-registry': registry(),
      manifests: writeApp(),
      container: 'app',
      namespace: ns,
    });
    expect(run.exitCode).not.toBe(0);
    expect(run.failures).toEqual([expect.stringMatching(/^scan failed: 1 finding at or above high/)]);
    expect(run.outputs.passed).toBe('false');
    expect(run.outputs.verdict).toBeUndefined();
    expect(await registryTags(registry(), `gh-it/pipe-bad-${id}`)).toEqual([]);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(before);
  });
});

describe('sign and verify: actions/sign, actions/verify and the root action with a signing key', () => {
  const cosign = process.env.GANTRY_COSIGN ?? 'cosign';
  const keyPair = () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return {
      key: String(pair.privateKey.export({ type: 'pkcs8', format: 'pem' })),
      pub: String(pair.publicKey.export({ type: 'spki', format: 'pem' })),
    };
  };
  const signer = keyPair();
  const other = keyPair();
  const keys = mkdtempSync(join(tmpdir(), 'gantry-gh-keys-'));
  const pubFile = join(keys, 'cosign.pub');
  writeFileSync(pubFile, signer.pub);
  /** The base64 lines of the private key: none may be printed anywhere but in `::add-mask::`. */
  const keyLines = signer.key.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
  const cosignVerify = (args: string[]) =>
    execa(cosign, [...args, '--key', pubFile, '--insecure-ignore-tlog=true'], {
      env: { HOME: keys },
      reject: false,
      timeout: 120_000,
    });
  let ns: string;
  beforeAll(async () => {
    ns = await namespaceWithStableApp('gh-sign', 'ghs-v1');
  });
  afterAll(() => deleteNamespace(ns));

  it('actions/sign signs the pushed digest with the SBOM and the build provenance; cosign and actions/verify accept it', async () => {
    const image = `${registry()}/gh-it/signed-${id}`;
    const build = await runAction('build', {
      image,
      context: makeContext(`signed ${id}`),
      tags: 'one',
      push: 'true',
      'insecure-registry': registry(),
    });
    expect(build.exitCode, build.stdout).toBe(0);
    expect(existsSync(build.outputs.provenance!)).toBe(true);
    const sign = await runAction('sign', {
      image: `${image}:one`,
      'signing-key': signer.key,
      sbom: 'true',
      'sbom-output': join(keys, 'sbom.cdx.json'),
      provenance: build.outputs.provenance!,
      'insecure-registry': registry(),
    });
    expect(sign.exitCode, sign.stdout).toBe(0);
    expect(sign.outputs).toMatchObject({ digest: build.outputs.digest, image: build.outputs.ref });
    expect(sign.outputs.signature).toMatch(/@sha256:[a-f0-9]{64}$/);
    const types = (JSON.parse(sign.outputs.attestations!) as { predicateType: string }[]).map(
      (a) => a.predicateType,
    );
    expect(types.sort()).toEqual(['https://cyclonedx.org/bom', 'https://slsa.dev/provenance/v1']);
    expect(JSON.parse(readFileSync(sign.outputs.sbom!, 'utf8')).bomFormat).toBe('CycloneDX');
    expect(sign.summary).toContain('### Image signed');
    expectMasked(sign.stdout + sign.summary + JSON.stringify(sign.outputs), ...keyLines);
    // The real cosign, offline, with the public key.
    const verified = await cosignVerify(['verify', build.outputs.ref!]);
    expect(verified.exitCode, verified.stderr).toBe(0);
    const attested = await cosignVerify([
      'verify-attestation',
      '--type',
      'slsaprovenance1',
      build.outputs.ref!,
    ]);
    expect(attested.exitCode, attested.stderr).toBe(0);

    const verify = await runAction('verify', {
      image: `${image}:one`,
      'public-key': signer.pub,
      'require-attestations': 'slsaprovenance1,cyclonedx',
      'source-repository': 'https://github.com/acme/shop',
      'insecure-registry': registry(),
    });
    expect(verify.exitCode, verify.stdout).toBe(0);
    expect(verify.outputs).toMatchObject({ verified: 'true', digest: build.outputs.digest });

    const refused = await runAction('verify', {
      image: build.outputs.ref!,
      'public-key': other.pub,
      'insecure-registry': registry(),
    });
    expect(refused.exitCode).toBe(1);
    expect(refused.outputs.verified).toBe('false');
    expect(refused.outputs.reason).toBeTruthy();
    expect(refused.failures).toEqual([expect.stringMatching(/^refused .*@sha256:/)]);
  });

  it('a signing key that is no key fails actions/sign naming the input, nothing signed', async () => {
    const run = await runAction('sign', {
      image: `${registry()}/gh-it/never-${id}:1`,
      'signing-key': 'not a key',
      'insecure-registry': registry(),
    });
    expect(run.exitCode).toBe(2);
    expect(run.failures).toHaveLength(1);
    expect(run.failures[0]).toMatch(/^input "signing-key": /);
    expect(run.failures[0]).not.toContain('GANTRY_SIGNING_KEY');
    expectMasked(run.stdout + run.summary, 'not a key');
  });

  it('root action with a signing key: signed after the push, before a deploy whose policy verifies it', async () => {
    const image = `${registry()}/gh-it/pipe-signed-${id}`;
    const run = await runAction('.', {
      image,
      context: makeContext(`pipeline signed ${id}`),
      tags: 'release',
      'insecure-registry': registry(),
      'signing-key': signer.key,
      manifests: writeApp(),
      container: 'app',
      namespace: ns,
      strategy: 'rolling',
      'ready-timeout': '60s',
      'public-key-file': pubFile,
      'require-attestations': 'slsaprovenance1,cyclonedx,vuln',
      'max-critical': '0',
      'source-repository': 'https://github.com/acme/shop',
    });
    expect(run.exitCode, run.stdout).toBe(0);
    const { outputs } = run;
    expect(outputs.signature).toMatch(/@sha256:[a-f0-9]{64}$/);
    expect(JSON.parse(readFileSync(outputs.sbom!, 'utf8')).bomFormat).toBe('CycloneDX');
    expect(JSON.parse(readFileSync(outputs.provenance!, 'utf8')).predicateType).toBe(
      'https://slsa.dev/provenance/v1',
    );
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(`${image}@${outputs.digest}`);
    const positions = ['### Image pushed', '### Image signed', '### Rollout'].map((section) =>
      run.summary.indexOf(section),
    );
    expect(positions.every((position, i) => position > (positions[i - 1] ?? -1))).toBe(true);
    expectMasked(run.stdout + run.summary + JSON.stringify(run.outputs), ...keyLines);
    const attested = await cosignVerify([
      'verify-attestation',
      '--type',
      'vuln',
      `${image}@${outputs.digest}`,
    ]);
    expect(attested.exitCode, attested.stderr).toBe(0);
  });

  it('root action with a deploy policy and no signing key: the pushed image is refused, nothing applied', async () => {
    const image = `${registry()}/gh-it/pipe-unsigned-${id}`;
    const before = imageOf(await readDeployment(ns, 'web'));
    const run = await runAction('.', {
      image,
      context: makeContext(`pipeline unsigned ${id}`),
      tags: 'release',
      'insecure-registry': registry(),
      manifests: writeApp(),
      container: 'app',
      namespace: ns,
      strategy: 'rolling',
      'public-key-file': pubFile,
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.signature).toBeUndefined();
    expect(run.failures).toHaveLength(1);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(before);
  });
});

describe('the Docker path, as on a GitHub-hosted runner: buildx and a Docker daemon', () => {
  const daemon = () => {
    const host = process.env.GANTRY_TESTBED_DOCKER_HOST;
    const config = process.env.GANTRY_TESTBED_DOCKER_CONFIG;
    if (!host || !config) throw new Error('the sandbox docker component did not start');
    return { DOCKER_HOST: host, DOCKER_CONFIG: config };
  };
  /** A builder of its own (what docker/setup-buildx-action gives a job): no local image store. */
  const ownBuilder = () => ({ ...daemon(), BUILDX_BUILDER: process.env.GANTRY_TESTBED_BUILDX_REMOTE ?? '' });
  let ns: string;
  beforeAll(async () => {
    ns = await namespaceWithStableApp('gh-bx', 'bx-v1');
  });
  afterAll(() => deleteNamespace(ns));

  it.each([
    ['the daemon’s builder (docker driver)', 'docker', () => daemon(), ''],
    ['a builder of its own, two platforms', 'remote', () => ownBuilder(), 'linux/amd64,linux/arm64'],
  ])(
    'root action with %s: built, scanned, pushed, rolled out by digest',
    async (_name, kind, env, platforms) => {
      const image = `${registry()}/gh-it/bx-${kind}-${id}`;
      const run = await runAction(
        '.',
        {
          image,
          context: makeContext(`buildx ${kind} ${id}`),
          builder: 'buildx',
          platforms,
          tags: 'release',
          'insecure-registry': registry(),
          manifests: writeApp(),
          container: 'app',
          namespace: ns,
          steps: '50',
          pause: '2s',
          analysis: writeAnalysis(),
          'ready-timeout': '60s',
        },
        env(),
      );
      expect(run.exitCode, run.stdout).toBe(0);
      const { outputs } = run;
      expect(outputs).toMatchObject({
        passed: 'true',
        verdict: 'promoted',
        ref: `${image}@${outputs.digest}`,
      });
      expect(JSON.parse(outputs.metadata!)).toMatchObject({
        builder: 'buildx',
        store: kind === 'docker' ? 'docker' : 'oci-layout',
      });
      expect(await registryDigest(registry(), `gh-it/bx-${kind}-${id}`, 'release')).toBe(outputs.digest);
      expect(imageOf(await readDeployment(ns, 'web'))).toBe(`${image}@${outputs.digest}`);
      if (platforms) {
        // The deployment names the index: each node pulls its own platform from it.
        const raw = await execa('skopeo', [
          'inspect',
          '--raw',
          '--tls-verify=false',
          `docker://${image}@${outputs.digest}`,
        ]);
        const index = JSON.parse(String(raw.stdout)) as {
          mediaType: string;
          manifests: { platform: { architecture: string } }[];
        };
        expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
        expect(index.manifests.map((m) => m.platform.architecture).sort()).toEqual(['amd64', 'arm64']);
      }
    },
  );

  it('build (not pushed) → scan → push as separate steps of one job (one RUNNER_TEMP)', async () => {
    const runnerTemp = mkdtempSync(join(tmpdir(), 'gantry-gh-runner-temp-'));
    const env = { ...ownBuilder(), RUNNER_TEMP: runnerTemp };
    const image = `${registry()}/gh-it/bx-stages-${id}`;
    const build = await runAction(
      'build',
      { image, context: makeContext(`stages ${id}`), builder: 'buildx', tags: 'v1', push: 'false' },
      env,
    );
    expect(build.exitCode, build.stdout).toBe(0);
    expect(build.outputs.digest).toBeUndefined();
    expect(await registryTags(registry(), `gh-it/bx-stages-${id}`)).toEqual([]);
    const scan = await runAction('scan', { 'image-ref': `${image}:v1` }, env);
    expect(scan.exitCode, scan.stdout).toBe(0);
    expect(scan.outputs.passed).toBe('true');
    const push = await runAction(
      'push',
      { image: `${image}:v1`, to: `${image}:v1`, 'insecure-registry': registry() },
      env,
    );
    expect(push.exitCode, push.stdout).toBe(0);
    expect(push.outputs.digest).toBe(JSON.parse(build.outputs.metadata!).imageId);
    expect(await registryDigest(registry(), `gh-it/bx-stages-${id}`, 'v1')).toBe(push.outputs.digest);
  });
});
