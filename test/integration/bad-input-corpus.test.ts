import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot, runCli } from '../helpers/cli.js';
import { buildTestImage, pushTestImage, removeTestImage, writeImageContext } from '../helpers/images.js';
import {
  clients,
  createNamespace,
  deleteNamespace,
  fakeImage,
  writeAnalysis,
  writeApp,
} from '../helpers/kube.js';

// A corpus of bad inputs for every command and every platform wrapper (issue 5). Each one must end with exit 2
// and exactly one error line naming the input at fault, leave the registry (catalog and tags) and the cluster
// (resourceVersions in the namespace, the namespace list) exactly as they were, and never reach a shell:
// injection attempts try to create a marker file, which must never exist.
// test/integration/deploy-bad-input.test.ts holds 17 more deploy cases; none is repeated here.
// Jenkins: the steps check their map keys and value types in Groovy before any `sh` runs, and pass every value
// to the CLI in an environment variable referenced as "$GANTRY_ARG_n"; jenkins/test/.../StepInputTest.groovy
// (unknown option, wrong types, missing required options: one line, nothing ran) and CliCallTest.groovy
// (`$(…)`, backticks, quotes, newlines reach the CLI verbatim, a PWNED marker file is never created) cover that
// mapping under the Maven harness; a value the CLI rejects ends the step with the CLI's own line (exit 2).
// The GitLab entry's lines name flags (`--image`) where gantry found the fault: the components' inputs carry
// the flags' names.

const registry = () => {
  const value = process.env.REGISTRY;
  if (!value) throw new Error('REGISTRY is not set: the sandbox did not start (see test/global-setup.ts)');
  return value;
};

const work = mkdtempSync(join(tmpdir(), 'gantry-corpus-'));
/** Created only if some shell ran an injected command. */
const MARKER = join(work, 'pwned');
const touch = `touch ${MARKER}`;

let ns: string;
let app: string;
let sourceImage: string;
const localTag = `localhost/gantry-corpus-${Date.now().toString(36)}:1`;

function file(name: string, text: string): string {
  const dir = mkdtempSync(join(work, 'f-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const dir = () => mkdtempSync(join(work, 'd-'));

const context = mkdtempSync(join(work, 'ctx-'));
writeFileSync(join(context, 'hello.txt'), 'corpus\n');
writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
const goodImage = () => `${registry()}/corpus/app`;
const digestImage = (name = 'app') => `${name}=${fakeImage('corpus')}`;
const analysisWith = (query: string) => writeAnalysis({ query });
const analysisText = (text: string) => file('analysis.yaml', text);

// ---------------------------------------------------------------------------------------------------------
// Runners: the CLI as users run it, GitHub actions as the runner runs them, the GitLab job entry

interface Outcome {
  exitCode: number;
  /** Error lines: `gantry: …` / `gantry-gitlab: …` on stderr, `::error::…` on a GitHub step's stdout. */
  errors: string[];
  /** Everything printed, for the failure message. */
  output: string;
  /** --json / GitLab result file, when there is one. */
  json?: Record<string, unknown>;
}

async function cli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Outcome> {
  const run = await runCli(['--json', ...args], {
    cwd: options.cwd ?? work,
    env: { ...process.env, ...options.env },
  });
  return {
    exitCode: run.exitCode,
    errors: run.stderr.split('\n').filter((l) => l.startsWith('gantry:')),
    output: `${run.stdout}\n${run.stderr}`,
    json: run.json,
  };
}

const ACTION_MAIN: Record<string, string> = {
  pipeline: join(repoRoot, 'dist', 'actions', 'pipeline.js'),
  build: join(repoRoot, 'dist', 'actions', 'build.js'),
  scan: join(repoRoot, 'dist', 'actions', 'scan.js'),
  push: join(repoRoot, 'dist', 'actions', 'push.js'),
  deploy: join(repoRoot, 'dist', 'actions', 'deploy.js'),
  promote: join(repoRoot, 'dist', 'actions', 'promote.js'),
  abort: join(repoRoot, 'dist', 'actions', 'abort.js'),
};

/** An action's `main` as the runner starts it: `node <main>` with INPUT_<NAME> variables and its file commands. */
async function github(action: keyof typeof ACTION_MAIN, inputs: Record<string, string>): Promise<Outcome> {
  const step = mkdtempSync(join(work, 'gh-'));
  const files = {
    GITHUB_OUTPUT: join(step, 'output'),
    GITHUB_STATE: join(step, 'state'),
    GITHUB_STEP_SUMMARY: join(step, 'summary.md'),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const env: Record<string, string | undefined> = {
    ...process.env,
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
    RUNNER_TEMP: step,
    ...files,
  };
  // The runner names an input's variable INPUT_ + its name upper-cased, spaces to "_", dashes kept.
  for (const [name, value] of Object.entries(inputs))
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  const run = await execa(process.execPath, [ACTION_MAIN[action]!], {
    cwd: work,
    env,
    extendEnv: false,
    reject: false,
    timeout: 120_000,
  });
  const stdout = String(run.stdout);
  return {
    exitCode: run.exitCode ?? -1,
    errors: stdout
      .split('\n')
      .filter((l) => l.startsWith('::error'))
      .map((l) =>
        l
          .replace(/^::error::/, '')
          .replace(/%0A/g, '\n')
          .replace(/%0D/g, '\r')
          .replace(/%25/g, '%'),
      ),
    output: `${stdout}\n${String(run.stderr)}\nsummary: ${readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8')}`,
  };
}

/** A `gantry` on PATH, as the tool image or a shell runner provides it. */
const bin = join(work, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'gantry'), `#!/bin/sh\nexec '${process.execPath}' '${cliPath}' "$@"\n`);
chmodSync(join(bin, 'gantry'), 0o755);

/** `gantry-gitlab <command>` as a GitLab job runs it, with the GANTRY_INPUT_* variables a template sets. */
async function gitlab(command: string, inputs: Record<string, string>): Promise<Outcome> {
  const project = mkdtempSync(join(work, 'gl-'));
  const env: Record<string, string | undefined> = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    GITLAB_CI: 'true',
    CI: 'true',
    CI_PROJECT_DIR: project,
    CI_JOB_ID: '4242',
    CI_PIPELINE_ID: '777',
    CI_PROJECT_PATH: 'acme/shop',
    CI_COMMIT_SHA: '3f7c2a9e1b8d4c6f0a2e5b7d9c1f3a5e7b9d0c2e',
    CI_COMMIT_BRANCH: 'main',
    CI_COMMIT_REF_NAME: 'main',
    CI_DEFAULT_BRANCH: 'main',
  };
  for (const [name, value] of Object.entries(inputs))
    env[`GANTRY_INPUT_${name.toUpperCase().replace(/-/g, '_')}`] = value;
  const run = await execa(process.execPath, [join(repoRoot, 'dist', 'gitlab.js'), command], {
    cwd: project,
    env,
    extendEnv: false,
    reject: false,
    timeout: 120_000,
  });
  const resultFile = join(project, `gantry-${command}.json`);
  const dotenv = join(project, `gantry-${command}.env`);
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(readFileSync(resultFile, 'utf8'));
  } catch {
    json = undefined;
  }
  const stderr = String(run.stderr);
  return {
    exitCode: run.exitCode ?? -1,
    errors: stderr
      .split('\n')
      .filter((l) => /^gantry(-gitlab)?: /.test(l) && !/^gantry-gitlab: warning/.test(l)),
    output: `${String(run.stdout)}\n${stderr}\n${existsSync(dotenv) ? readFileSync(dotenv, 'utf8') : '(no dotenv)'}`,
    json,
  };
}

// ---------------------------------------------------------------------------------------------------------
// What must not change

async function registrySnapshot(): Promise<string> {
  const catalog = (await (await fetch(`http://${registry()}/v2/_catalog?n=10000`)).json()) as {
    repositories?: string[];
  };
  const repos = (catalog.repositories ?? []).sort();
  const tags = await Promise.all(
    repos.map(async (repo) => {
      const response = await fetch(`http://${registry()}/v2/${repo}/tags/list`);
      const body = response.ok ? ((await response.json()) as { tags?: string[] | null }) : {};
      return [repo, (body.tags ?? []).sort()];
    }),
  );
  return JSON.stringify(tags);
}

async function clusterSnapshot(): Promise<string> {
  const { apps, core, coordination } = clients();
  const [namespaces, deployments, services, leases, configMaps] = await Promise.all([
    core.listNamespace(),
    apps.listNamespacedDeployment({ namespace: ns }),
    core.listNamespacedService({ namespace: ns }),
    coordination.listNamespacedLease({ namespace: ns }),
    core.listNamespacedConfigMap({ namespace: ns }),
  ]);
  const versions = (items: { metadata?: { name?: string; resourceVersion?: string } }[]) =>
    items.map((i) => [i.metadata?.name, i.metadata?.resourceVersion]);
  return JSON.stringify([
    // A namespace another suite deleted just before this one started may vanish at any moment: only live
    // ones count.
    namespaces.items
      .filter((n) => n.status?.phase !== 'Terminating')
      .map((n) => n.metadata?.name)
      .sort(),
    versions(deployments.items),
    versions(services.items),
    versions(leases.items),
    versions(configMaps.items),
  ]);
}

// ---------------------------------------------------------------------------------------------------------
// The corpus: [name, run, the one error line]

type Case = [string, () => Promise<Outcome>, RegExp];

const build = (extra: string[]) =>
  cli([
    'build',
    '--context',
    context,
    '--image',
    goodImage(),
    '--tag',
    'v1',
    '--builder',
    'buildah',
    ...extra,
  ]);
const buildWithImage = (image: string, extra: string[] = []) =>
  cli(['build', '--context', context, '--image', image, '--tag', 'v1', ...extra]);
const scan = (extra: string[]) => cli(['scan', '--image', sourceImage, ...extra]);
const push = (extra: string[]) => cli(['push', ...extra]);
const deploy = (extra: string[], image = digestImage()) =>
  cli(['deploy', '--manifests', app, '--image', image, '--namespace', ns, '--timeout', '30s', ...extra]);
const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const privateKeyFile = file(
  'signing.pem',
  signing.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
);
const publicKeyFile = file(
  'signing.pub',
  signing.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
);
const sign = (extra: string[]) => cli(['sign', '--image', sourceImage, ...extra]);
const verify = (extra: string[]) => cli(['verify', '--image', sourceImage, ...extra]);
const withConfig = (text: string, args: string[]) => {
  const cwd = dir();
  writeFileSync(join(cwd, 'gantry.yml'), text);
  return cli(args, { cwd });
};

const cliCases: Case[] = [
  // build: references and injection
  [
    'build: image with ";" and a command',
    () => buildWithImage(`${goodImage()};${touch}`),
    /^--image: invalid image reference .*whitespace or a control character/,
  ],
  [
    'build: image as $(…)',
    () => buildWithImage(`$(${touch})`),
    /^--image: invalid image reference "\$\(touch /,
  ],
  [
    'build: image with upper-case path',
    () => buildWithImage(`${registry()}/Corpus/App`),
    /^--image: .*must be lowercase$/,
  ],
  [
    'build: tag with backticks',
    () => build(['--tag', `\`${touch}\``]),
    /^--tag: invalid image reference .*(whitespace|character "`")/,
  ],
  ['build: tag starting with "-"', () => build(['--tag', '-rc1']), /^--tag: .*starts with "-"/],
  [
    'build: tag of 129 characters',
    () => build(['--tag', 'a'.repeat(129)]),
    /^--tag: .*129 characters; at most 128/,
  ],
  [
    'build: tag with a newline',
    () => build(['--tag', `v2\n${touch}`]),
    /^--tag: .*whitespace or a control character/,
  ],
  // build: paths
  [
    'build: context that does not exist',
    () => build(['--context', join(work, 'nope')]),
    /^--context: no such directory/,
  ],
  [
    'build: context that is a file',
    () => build(['--context', join(context, 'Dockerfile')]),
    /^--context: no such directory/,
  ],
  [
    'build: Dockerfile that does not exist',
    () => build(['--file', join(work, 'nope', 'Dockerfile')]),
    /^--file: no such file/,
  ],
  [
    'build: Dockerfile that is a directory',
    () => build(['--file', context]),
    /^--file: cannot read Dockerfile/,
  ],
  [
    'build: Dockerfile without FROM',
    () => build(['--file', file('Dockerfile', 'COPY a /a\n')]),
    /^--file: .* line 1: expected FROM before COPY$/,
  ],
  [
    'build: Dockerfile path traversing to /etc/passwd',
    () => build(['--file', '../../../../../../../etc/passwd']),
    /^--file: \/etc\/passwd line 1: unknown instruction "root:x:0:0:.{0,40}"$/,
  ],
  [
    'build: Dockerfile with an unknown instruction',
    () => build(['--file', file('Dockerfile', 'FROM scratch\nCOPPY a /a\n')]),
    /^--file: .* line 2: unknown instruction "COPPY"$/,
  ],
  [
    'build: secret file that does not exist',
    () => build(['--secret', `id=npm,src=${join(work, 'nope')}`]),
    /^--secret: secret "npm": no such file/,
  ],
  // build: types and ranges
  [
    'build: unknown builder',
    () => build(['--builder', 'docker']),
    /^--builder: expected one of auto\|buildah\|buildx, got "docker"$/,
  ],
  [
    'build: platform without arch',
    () => build(['--platform', 'linux']),
    /^--platform: expected os\/arch\[\/variant\], got "linux"$/,
  ],
  [
    'build: build-arg without a key',
    () => build(['--build-arg', '=x']),
    /^--build-arg: expected KEY=value, got "=x"$/,
  ],
  [
    'build: label key with a space',
    () => build(['--label', 'a b=c']),
    /^--label: expected KEY=value, got "a b"$/,
  ],
  [
    'build: secret with neither src nor env',
    () => build(['--secret', 'id=npm']),
    /^--secret: a secret needs exactly one of src= or env=/,
  ],
  [
    'build: secret from an unset variable',
    () => build(['--secret', 'id=npm,env=GANTRY_CORPUS_UNSET']),
    /^--secret: secret "npm": environment variable GANTRY_CORPUS_UNSET is not set$/,
  ],
  [
    'build: unknown tag rule type',
    () => build(['--tag-rule', 'type=bogus']),
    /^--tag-rule: "type=bogus": unknown type "bogus"/,
  ],
  ['build: retries above 10', () => build(['--retries', '99']), /^--retries: .*<=10, got 99$/],
  [
    'build: retries not a number',
    () => build(['--retries', 'abc']),
    /^--retries: expected a number, got "abc"$/,
  ],
  [
    'build: latest not a boolean',
    () => build(['--latest', 'maybe']),
    /^--latest: expected one of auto\|true\|false, got "maybe"$/,
  ],
  [
    'build: target that is no stage, with a command',
    () => build(['--target', `a;${touch}`]),
    /^--target: no stage "a;touch .*; it has no named stages$/,
  ],
  [
    'build: cache ref with a space',
    () => build(['--cache-ref', 'x y']),
    /^--cache-ref: invalid image reference "x y"/,
  ],
  [
    'build: cache-to type=gha (the Actions cache service)',
    () => build(['--cache-to', 'type=gha,mode=max']),
    /^--cache-to: type=gha is not supported: it needs the GitHub Actions cache service, which Gantry does not use/,
  ],
  [
    'build: cache-from of an unknown type',
    () => build(['--cache-from', 'type=s3,bucket=x']),
    /^--cache-from: cache type "s3" is not supported; use type=registry,ref=<repository>$/,
  ],
  [
    'build: cache-from without ref',
    () => build(['--cache-from', 'type=registry,mode=max']),
    /^--cache-from: type=registry needs ref=<repository>/,
  ],
  [
    'build: buildah with a local cache directory',
    () => build(['--builder', 'buildah', '--cache-to', 'type=local,dest=/tmp/c']),
    /^--cache-to: buildah keeps layer cache in a registry only/,
  ],
  [
    'build: network with a command',
    () => build(['--network', `host;${touch}`]),
    /^--network: expected a network mode such as host or none/,
  ],
  [
    'build: unknown flag',
    () => build(['--squash']),
    /^--squash: unknown option '--squash' \(Did you mean --push\?\)$/,
  ],
  [
    'build: value given to a boolean flag',
    () => build(['--push', 'yes']),
    /^--push: takes no value, got "yes"/,
  ],
  // gantry.yml
  [
    'gantry.yml: not YAML',
    () => build(['--config', file('gantry.yml', 'build: [oops\n')]),
    /^--config: ".*gantry\.yml" is not valid YAML: .*\(line 2\)$/,
  ],
  ['gantry.yml: a directory', () => build(['--config', dir()]), /^--config: cannot read ".*": EISDIR/],
  [
    'gantry.yml: missing',
    () => build(['--config', join(work, 'nope.yml')]),
    /^--config: cannot read ".*nope\.yml": no such file$/,
  ],
  [
    'gantry.yml: a list, not a mapping',
    () => build(['--config', file('gantry.yml', '- a\n- b\n')]),
    /^--config: ".*" must be a YAML mapping of settings$/,
  ],
  [
    'gantry.yml: unknown setting',
    () => withConfig('buidl: {}\n', ['build', '--context', context, '--image', goodImage(), '--tag', 'v1']),
    /^.*gantry\.yml: \(top level\): unknown setting "buidl"$/,
  ],
  [
    'gantry.yml: wrong type',
    () =>
      withConfig('build:\n  push: "yes"\n', [
        'build',
        '--context',
        context,
        '--image',
        goodImage(),
        '--tag',
        'v1',
      ]),
    /^.*gantry\.yml: build\.push: expected boolean, got "yes"$/,
  ],
  [
    'gantry.yml: steps out of range',
    () =>
      withConfig('deploy:\n  steps: [10, 100]\n', [
        'deploy',
        '--manifests',
        app,
        '--image',
        digestImage(),
        '--namespace',
        ns,
      ]),
    /^.*gantry\.yml: deploy\.steps\.1: expected weights from 1 to 99/,
  ],
  // scan
  ['scan: no image', () => cli(['scan']), /^--image: required/],
  [
    'scan: digest too short',
    () => scan(['--image', `${goodImage()}@sha256:abc`]),
    /^--image: .*a sha256 digest needs 64 lowercase hex characters, found 3/,
  ],
  [
    'scan: image with a newline and a command',
    () => scan(['--image', `${goodImage()}:1\n${touch}`]),
    /^--image: .*whitespace or a control character/,
  ],
  [
    'scan: image that is not in the registry',
    () => scan(['--image', `${registry()}/corpus/nothing-here:1`]),
    /^--image: ".*\/corpus\/nothing-here:1" does not exist in the registry/,
  ],
  [
    'scan: unknown scanner',
    () => scan(['--scanner', 'clair']),
    /^--scanner: expected one of trivy\|grype, got "clair"$/,
  ],
  [
    'scan: unknown severity',
    () => scan(['--severity-threshold', 'severe']),
    /^--severity-threshold: expected one of critical\|high\|medium\|low\|unknown\|none, got "severe"$/,
  ],
  [
    'scan: unknown scanner kind',
    () => scan(['--scanners', 'vuln,virus']),
    /^--scanners: expected one of vuln\|secret\|misconfig, got "virus"$/,
  ],
  [
    'scan: value given to --ignore-unfixed',
    () => scan(['--ignore-unfixed', 'maybe']),
    /^--ignore-unfixed: takes no value, got "maybe"/,
  ],
  [
    'scan: ignore file missing',
    () => scan(['--ignore-file', join(work, 'nope.yml')]),
    /^--ignore-file: cannot read ".*": no such file$/,
  ],
  [
    'scan: ignore file is a directory',
    () => scan(['--ignore-file', dir()]),
    /^--ignore-file: cannot read ".*": EISDIR/,
  ],
  [
    'scan: ignore file not YAML',
    () => scan(['--ignore-file', file('ignore.yml', '- id: [\n')]),
    /^--ignore-file: ".*" is not valid YAML/,
  ],
  [
    'scan: ignore entry without a reason',
    () => scan(['--ignore-file', file('ignore.yml', '- id: CVE-2024-1\n')]),
    /^--ignore-file: ".*" entry 1 field "reason"/,
  ],
  [
    'scan: ignore file not a list',
    () => scan(['--ignore-file', file('ignore.yml', 'id: CVE-2024-1\n')]),
    /^--ignore-file: ".*" must be a YAML list/,
  ],
  [
    'scan: SARIF path is a directory',
    () => scan(['--sarif', dir()]),
    /^--sarif: cannot write the sarif report to ".*"/,
  ],
  // push
  [
    'push: no destination',
    () => push(['--image', sourceImage]),
    /^--to: required: at least one destination reference$/,
  ],
  ['push: no image', () => push(['--to', `${goodImage()}:x`]), /^--image: required/],
  [
    'push: destination with ";" and a command',
    () => push(['--image', sourceImage, '--to', `${goodImage()}:1;${touch}`]),
    /^--to: invalid image reference/,
  ],
  [
    'push: destination with $(…)',
    () => push(['--image', sourceImage, '--to', `${registry()}/corpus/$(${touch})`]),
    /^--to: invalid image reference/,
  ],
  [
    'push: destination tag starting with "-"',
    () => push(['--image', sourceImage, '--to', `${goodImage()}:-bad`]),
    /^--to: .*starts with "-"/,
  ],
  [
    'push: destination digest not hex',
    () => push(['--image', sourceImage, '--to', `${goodImage()}@sha256:${'z'.repeat(64)}`]),
    /^--to: .*digest/,
  ],
  [
    'push: destination host not a host',
    () => push(['--image', sourceImage, '--to', 'bad_host:99999999/x:1']),
    /^--to: invalid image reference/,
  ],
  [
    'push: a file path as image',
    () => push(['--image', '/etc/passwd', '--to', `${goodImage()}:x`]),
    /^--image: invalid image reference "\/etc\/passwd"/,
  ],
  [
    'push: traversal as image',
    () => push(['--image', '../../etc/shadow', '--to', `${goodImage()}:x`]),
    /^--image: invalid image reference "\.\.\/\.\.\/etc\/shadow"/,
  ],
  [
    'push: source tag not in the registry',
    () => push(['--image', `${registry()}/corpus/nothing-here:1`, '--to', `${goodImage()}:copied`]),
    /^--image: ".*nothing-here:1" does not exist in the registry/,
  ],
  [
    'push: source digest not in the registry',
    () =>
      push(['--image', fakeImage('absent', `${registry()}/corpus/base`), '--to', `${goodImage()}:copied`]),
    /^--image: ".*@sha256:.*" does not exist in the registry/,
  ],
  [
    'push: negative retries',
    () => push(['--image', sourceImage, '--to', `${goodImage()}:x`, '--retries', '-1']),
    /^--retries: .*>=0, got -1$/,
  ],
  // sign, verify
  ['sign: no image', () => cli(['sign', '--key-file', privateKeyFile]), /^--image: required/],
  ['sign: no key', () => sign([]), /^--key-file: required: --key-file or --key-env$/],
  [
    'sign: key file that does not exist',
    () => sign(['--key-file', join(work, 'nope.key')]),
    /^--key-file: cannot read ".*nope.key": no such file$/,
  ],
  [
    'sign: a public key as the signing key',
    () => sign(['--key-file', publicKeyFile]),
    /^--key-file: the key in .* is a PEM "PUBLIC KEY", not a private key/,
  ],
  [
    'sign: key variable that is not set',
    () => sign(['--key-env', 'GANTRY_CORPUS_UNSET_KEY']),
    /^--key-env: environment variable GANTRY_CORPUS_UNSET_KEY is not set or empty$/,
  ],
  [
    'sign: image with $(…)',
    () => cli(['sign', '--image', `${goodImage()}:$(${touch})`, '--key-file', privateKeyFile]),
    /^--image: invalid image reference/,
  ],
  [
    'sign: attestation that is not JSON',
    () => sign(['--key-file', privateKeyFile, '--attest', file('statement.json', 'not json')]),
    /^--attest: ".*statement.json" is not JSON$/,
  ],
  [
    'sign: attestation about another digest',
    () =>
      sign([
        '--key-file',
        privateKeyFile,
        '--attest',
        file(
          'other.json',
          JSON.stringify({
            _type: 'https://in-toto.io/Statement/v1',
            subject: [{ name: 'x', digest: { sha256: '0'.repeat(64) } }],
            predicateType: 'https://slsa.dev/provenance/v1',
            predicate: {},
          }),
        ),
      ]),
    /^--attest: attestation 1 \(https:\/\/slsa.dev\/provenance\/v1\) is about sha256:0{64}, not sha256:/,
  ],
  ['verify: no public key', () => verify([]), /^--public-key-file: required/],
  [
    'verify: a private key as the public key',
    () => verify(['--public-key-file', privateKeyFile]),
    /^--public-key-file: the key in .* is a private key: give the public key \(cosign.pub\)$/,
  ],
  [
    'verify: unknown attestation type',
    () => verify(['--public-key-file', publicKeyFile, '--require', 'provenance']),
    /^--require: unknown attestation type "provenance"/,
  ],
  [
    'verify: tag not in the registry',
    () =>
      cli(['verify', '--image', `${registry()}/corpus/nothing-here:1`, '--public-key-file', publicKeyFile]),
    /^--image: ".*nothing-here:1" does not exist in the registry/,
  ],
  // deploy (the 17 cases of deploy-bad-input.test.ts are not repeated)
  [
    'deploy: manifests that do not exist',
    () => deploy(['--manifests', join(work, 'nope')]),
    /^--manifests: no such file or directory/,
  ],
  [
    'deploy: a manifests folder with no manifests',
    () => deploy(['--manifests', dir()]),
    /^--manifests: no \.yaml, \.yml or \.json files in/,
  ],
  [
    'deploy: manifests path traversing to /etc/passwd',
    () => deploy(['--manifests', '../../../../../../../etc/passwd']),
    /^--manifests: .*etc\/passwd document 1 is not a Kubernetes object$/,
  ],
  [
    'deploy: manifest without kind',
    () => deploy(['--manifests', file('m.yaml', 'apiVersion: v1\nmetadata: {name: x}\n')]),
    /^--manifests: .* needs apiVersion and kind$/,
  ],
  [
    'deploy: analysis file missing',
    () => deploy(['--analysis', join(work, 'nope.yaml')]),
    /^--analysis: cannot read ".*": no such file$/,
  ],
  [
    'deploy: analysis file is a directory',
    () => deploy(['--analysis', dir()]),
    /^--analysis: cannot read ".*": it is a directory$/,
  ],
  [
    'deploy: analysis not YAML',
    () => deploy(['--analysis', analysisText('interval: [\n')]),
    /^--analysis: ".*" is not valid YAML/,
  ],
  [
    'deploy: analysis with an unknown field',
    () =>
      deploy([
        '--analysis',
        analysisText('interval: 1s\nbogus: 1\nmetrics:\n  - {name: m, query: up, max: 1}\n'),
      ]),
    /^--analysis: unknown field "bogus"$/,
  ],
  [
    'deploy: analysis without metrics',
    () => deploy(['--analysis', analysisText('interval: 1s\nmetrics: []\n')]),
    /^--analysis: metrics: expected at least one metric$/,
  ],
  [
    'deploy: analysis interval not a duration',
    () =>
      deploy(['--analysis', analysisText('interval: never\nmetrics:\n  - {name: m, query: up, max: 1}\n')]),
    /^--analysis: interval: expected a duration/,
  ],
  [
    'deploy: analysis negative failure limit',
    () =>
      deploy([
        '--analysis',
        analysisText('interval: 1s\nfailureLimit: -1\nmetrics:\n  - {name: m, query: up, max: 1}\n'),
      ]),
    /^--analysis: failureLimit: expected 0 or more, got -1$/,
  ],
  [
    'deploy: metric without a threshold',
    () => deploy(['--analysis', analysisText('interval: 1s\nmetrics:\n  - {name: m, query: up}\n')]),
    /^--analysis: metrics\[0\]: needs at least one of min, max, compare or sequential$/,
  ],
  [
    'deploy: sequential latency without the smallest regression that matters',
    () =>
      deploy([
        '--analysis',
        analysisText(
          'interval: 1s\nmetrics:\n  - name: latency\n    sequential: {latency: "sum by (le) (b)"}\n',
        ),
      ]),
    /^--analysis: metrics\[0\]\.sequential\.minShift: required with latency: the smallest regression that matters, e\.g\. 50ms$/,
  ],
  [
    'deploy: sequential latency from a provider without buckets by le',
    () =>
      deploy([
        '--analysis',
        analysisText(
          'interval: 1s\nprovider: {type: graphite, url: "http://127.0.0.1:9"}\nmetrics:\n  - name: latency\n    sequential: {latency: "sumSeries(a.b)", minShift: 50ms}\n',
        ),
      ]),
    /^--analysis: metric "latency": a sequential latency metric reads a histogram's buckets by le, which only a Prometheus-compatible provider returns \(provider: graphite\)$/,
  ],
  [
    'PromQL: aggregation without parentheses',
    () => deploy(['--analysis', analysisWith('sum by (x) up')]),
    /^--analysis: metric "error-rate": query does not parse: .*unexpected identifier "up"/,
  ],
  [
    'PromQL: unknown function',
    () => deploy(['--analysis', analysisWith('nosuchfunc(up)')]),
    /^--analysis: metric "error-rate": query does not parse: .*unknown function with name "nosuchfunc"$/,
  ],
  [
    'PromQL: regex that does not compile',
    () => deploy(['--analysis', analysisWith('up{job=~"("}')]),
    /^--analysis: metric "error-rate": query does not parse: .*missing closing \)/,
  ],
  [
    'PromQL: a range vector, not a number',
    () => deploy(['--analysis', analysisWith('http_requests_total[5m]')]),
    /^--analysis: metric "error-rate": query returns a range vector/,
  ],
  [
    'PromQL: a string literal',
    () => deploy(['--analysis', analysisWith('"just a string"')]),
    /^--analysis: metric "error-rate": query (does not parse|returns a string)/,
  ],
  [
    'PromQL: a shell command after ";"',
    () => deploy(['--analysis', analysisWith(`up; ${touch}`)]),
    /^--analysis: metric "error-rate": query does not parse: .*unexpected character: ';'$/,
  ],
  [
    'PromQL: $(…) in the query',
    () => deploy(['--analysis', analysisWith(`up{job="$(${touch})"} +`)]),
    /^--analysis: metric "error-rate": query does not parse/,
  ],
  [
    'PromQL: unknown placeholder',
    () => deploy(['--analysis', analysisWith('up{app="{{app}}"}')]),
    /^--analysis: metric "error-rate": unknown placeholder \{\{app\}\}/,
  ],
  [
    'PromQL: unbalanced placeholder',
    () => deploy(['--analysis', analysisWith('up{app="{{name}"}')]),
    /^--analysis: metric "error-rate": unbalanced "\{\{" or "\}\}" in the query$/,
  ],
  [
    'deploy: Prometheus URL that is no URL',
    () => deploy(['--prometheus-url', 'not a url']),
    /^--prometheus-url: expected a URL like http:\/\/127\.0\.0\.1:9090, got "not a url"$/,
  ],
  [
    'deploy: lease duration below 3',
    () => deploy(['--lease-duration', '1']),
    /^--lease-duration: .*>=3, got 1$/,
  ],
  ['deploy: weight 0', () => deploy(['--steps', '0,50']), /^--steps: expected weights from 1 to 99, got 0$/],
  ['deploy: fractional weight', () => deploy(['--steps', '12.5,50']), /^--steps: expected whole percentages/],
  [
    "deploy: a zero timeout (every wait, the rollback's too, would fail)",
    () => deploy(['--timeout', '0s']),
    /^--timeout: expected at least 1s, got "0s"$/,
  ],
  [
    'deploy: a zero ready timeout (left a canary behind, exit 4)',
    () => deploy(['--ready-timeout', '0']),
    /^--ready-timeout: expected at least 1s, got "0"$/,
  ],
  [
    'deploy: negative ready timeout',
    () => deploy(['--ready-timeout', '-5s']),
    /^--ready-timeout: expected a duration like 30s, 500ms or 2m, got "-5s"$/,
  ],
  [
    'deploy: report path that is a file',
    () => deploy(['--report', file('report', 'x')]),
    /^--report: ".*report" is not a directory/,
  ],
  [
    'deploy: name with ";"',
    () => deploy(['--name', `web;${touch}`]),
    /^--name: expected a Deployment name: lower-case letters, digits and "-", got "web;touch /,
  ],
  [
    'deploy: strategy with a newline and a command',
    () => deploy(['--strategy', `canary\n${touch}`]),
    /^--strategy: expected one of rolling\|canary\|blue-green, got "canary\\ntouch /,
  ],
  [
    'deploy: image as $(…)',
    () => deploy([], `app=$(${touch})@sha256:${'a'.repeat(64)}`),
    /^--image: invalid image reference "\$\(touch /,
  ],
  [
    'deploy: image digest in upper case',
    () => deploy([], `app=${registry()}/corpus/app@sha256:${'A'.repeat(64)}`),
    /^--image: .*a sha256 digest needs 64 lowercase hex characters/,
  ],
  [
    'deploy: image without "="',
    () => deploy([], fakeImage('corpus')),
    /^--image: expected name=ref@sha256:digest/,
  ],
  [
    'deploy: value given to --resume',
    () => deploy(['--resume', 'no']),
    /^--resume: takes no value, got "no"/,
  ],
  [
    'deploy: kubeconfig that is not YAML (quotes none of it)',
    () =>
      deploy([
        '--kubeconfig',
        file(
          'kubeconfig',
          'apiVersion: v1\nusers:\n- name: u\n  user:\n    token: corpus-kube-token-7f3a\n   oops: [x\n',
        ),
      ]),
    /^--kubeconfig: not a valid kubeconfig: invalid YAML: .*\(line \d+, column \d+\)$/,
  ],
  [
    'deploy: kubeconfig without a cluster',
    () => deploy(['--kubeconfig', file('kubeconfig', 'apiVersion: v1\nkind: Config\n')]),
    /^--kubeconfig: no current cluster in the kubeconfig$/,
  ],
  // status, promote, abort
  ['status: no name', () => cli(['status', '--namespace', ns]), /^--name: required/],
  [
    'status: name in upper case',
    () => cli(['status', '--name', 'Web', '--namespace', ns]),
    /^--name: expected a Deployment name/,
  ],
  [
    'status: namespace with ";"',
    () => cli(['status', '--name', 'web', '--namespace', `a;${touch}`]),
    /^--namespace: expected a namespace name/,
  ],
  [
    'status: kubeconfig missing',
    () => cli(['status', '--name', 'web', '--namespace', ns, '--kubeconfig', join(work, 'nope')]),
    /^--kubeconfig: no such file/,
  ],
  [
    'status: kubeconfig is a directory',
    () => cli(['status', '--name', 'web', '--namespace', ns, '--kubeconfig', dir()]),
    /^--kubeconfig: not a valid kubeconfig: EISDIR/,
  ],
  [
    'promote: name as $(…)',
    () => cli(['promote', '--name', `$(${touch})`, '--namespace', ns]),
    /^--name: expected a Deployment name/,
  ],
  [
    'promote: a flag it does not have',
    () => cli(['promote', '--name', 'web', '--namespace', ns, '--timeout', '5s']),
    /^--timeout: unknown option '--timeout'$/,
  ],
  [
    'promote: a Deployment with no rollout in progress',
    () => cli(['promote', '--name', 'web', '--namespace', ns]),
    /^--name: no rollout of web is in progress in /,
  ],
  [
    'abort: timeout not a duration',
    () => cli(['abort', '--name', 'web', '--namespace', ns, '--timeout', 'forever']),
    /^--timeout: expected a duration like 30s, 500ms or 2m, got "forever"$/,
  ],
  [
    'abort: a flag it does not have',
    () => cli(['abort', '--name', 'web', '--namespace', ns, '--strategy', 'canary']),
    /^--strategy: unknown option '--strategy'$/,
  ],
  [
    'abort: namespace with a newline',
    () => cli(['abort', '--name', 'web', '--namespace', `${ns}\n${touch}`]),
    /^--namespace: expected a namespace name/,
  ],
  ['no such command', () => cli(['rollback', '--name', 'web']), /^unknown command 'rollback'$/],
];

const githubCases: Case[] = [
  [
    'GitHub build: image with ";" and a command',
    () => github('build', { image: `${goodImage()};${touch}`, context, tags: 'v1' }),
    /^input "image": invalid image reference/,
  ],
  [
    'GitHub build: tags with backticks',
    () => github('build', { image: goodImage(), context, tags: `\`${touch}\`` }),
    /^input "tags": invalid image reference/,
  ],
  [
    'GitHub build: tags in another repository',
    () => github('build', { image: goodImage(), context, tags: `${registry()}/other/app:1` }),
    /^input "tags": ".*other\/app:1" is not in repository /,
  ],
  [
    'GitHub build: a CLI flag name as input',
    () => github('build', { image: goodImage(), context, tag: 'v1' }),
    /^input "tag": unknown input for gantry\/actions\/build; did you mean "tags"\?$/,
  ],
  [
    'GitHub build: push not a boolean',
    () => github('build', { image: goodImage(), context, tags: 'v1', push: 'maybe' }),
    /^input "push": expected true or false, got "maybe"$/,
  ],
  [
    'GitHub build: username without password',
    () => github('build', { image: goodImage(), context, tags: 'v1', 'registry-username': 'ci' }),
    /^input "registry-password": required with "registry-username"$/,
  ],
  [
    'GitHub build: secrets line without "="',
    () => github('build', { image: goodImage(), context, tags: 'v1', secrets: 'just-a-value' }),
    /^input "secrets": expected id=value lines$/,
  ],
  [
    'GitHub build: context that does not exist',
    () => github('build', { image: goodImage(), context: join(work, 'nope'), tags: 'v1' }),
    /^input "context": no such directory/,
  ],
  [
    'GitHub build: platforms without arch',
    () => github('build', { image: goodImage(), context, tags: 'v1', platforms: 'linux/amd64,linux' }),
    /^input "platforms": expected os\/arch/,
  ],
  [
    'GitHub build: cache-to type=gha',
    () => github('build', { image: goodImage(), context, tags: 'v1', 'cache-to': 'type=gha' }),
    /^input "cache-to": type=gha is not supported/,
  ],
  [
    'GitHub scan: image-ref as $(…)',
    () => github('scan', { 'image-ref': `$(${touch})` }),
    /^input "image-ref": invalid image reference/,
  ],
  [
    'GitHub scan: severity list with an unknown level',
    () => github('scan', { 'image-ref': sourceImage, severity: 'CRITICAL,BOGUS' }),
    /^input "severity": expected severities like CRITICAL,HIGH/,
  ],
  [
    'GitHub scan: unknown format',
    () => github('scan', { 'image-ref': sourceImage, format: 'pdf', output: 'x.pdf' }),
    /^input "format": expected sarif, gitlab, junit or markdown, got "pdf"$/,
  ],
  [
    'GitHub scan: output without format',
    () => github('scan', { 'image-ref': sourceImage, output: 'x.sarif' }),
    /^input "output": needs "format"/,
  ],
  [
    'GitHub scan: ignore file missing',
    () => github('scan', { 'image-ref': sourceImage, 'ignore-file': join(work, 'nope.yml') }),
    /^input "ignore-file": cannot read/,
  ],
  [
    'GitHub push: destination with backticks',
    () => github('push', { image: sourceImage, to: `${goodImage()}:\`${touch}\`` }),
    /^input "to": invalid image reference/,
  ],
  [
    'GitHub push: retries not a number',
    () => github('push', { image: sourceImage, to: `${goodImage()}:x`, retries: 'three' }),
    /^input "retries": expected a number, got "three"$/,
  ],
  [
    'GitHub push: password without registry',
    () =>
      github('push', {
        image: sourceImage,
        to: `${goodImage()}:x`,
        'registry-username': 'ci',
        'registry-password': 'corpus-password-1',
      }),
    /^input "registry-password": needs "registry" \(host\) and "registry-username"$/,
  ],
  [
    'GitHub deploy: manifests missing',
    () => github('deploy', { manifests: join(work, 'nope'), images: digestImage(), namespace: ns }),
    /^input "manifests": no such file or directory/,
  ],
  [
    'GitHub deploy: weights not increasing',
    () => github('deploy', { manifests: app, images: digestImage(), namespace: ns, steps: '50,25' }),
    /^input "steps": expected strictly increasing weights/,
  ],
  [
    'GitHub deploy: a query that does not parse',
    () =>
      github('deploy', {
        manifests: app,
        images: digestImage(),
        namespace: ns,
        analysis: analysisWith('rate(x[5m]'),
        'prometheus-url': process.env.PROMETHEUS_URL ?? '',
      }),
    /^input "analysis": metric "error-rate": query does not parse/,
  ],
  [
    'GitHub deploy: image without digest',
    () => github('deploy', { manifests: app, images: `app=${goodImage()}:latest`, namespace: ns }),
    /^input "images": .*has no digest/,
  ],
  [
    'GitHub deploy: resume not a boolean',
    () => github('deploy', { manifests: app, images: digestImage(), namespace: ns, resume: 'perhaps' }),
    /^input "resume": expected true or false, got "perhaps"$/,
  ],
  [
    'GitHub promote: name in upper case',
    () => github('promote', { name: 'Web', namespace: ns }),
    /^input "name": expected a Deployment name/,
  ],
  [
    'GitHub abort: namespace with a newline and a command',
    () => github('abort', { name: 'web', namespace: `${ns}\n${touch}` }),
    /^input "namespace": expected a namespace name/,
  ],
  [
    'GitHub abort: timeout of 0s',
    () => github('abort', { name: 'web', namespace: ns, timeout: '0s' }),
    /^input "timeout": expected at least 1s, got "0s"$/,
  ],
  [
    'GitHub abort: timeout not a duration',
    () => github('abort', { name: 'web', namespace: ns, timeout: 'soon' }),
    /^input "timeout": expected a duration/,
  ],
  [
    'GitHub pipeline: unknown input',
    () => github('pipeline', { image: goodImage(), context, bogus: '1' }),
    /^input "bogus": unknown input for gantry; known inputs: /,
  ],
  [
    'GitHub pipeline: lease duration not a number',
    () =>
      github('pipeline', {
        image: goodImage(),
        context,
        tags: 'v1',
        manifests: app,
        'lease-duration': 'abc',
      }),
    /^input "lease-duration": expected a number, got "abc"$/,
  ],
  [
    'GitHub pipeline: config not YAML',
    () =>
      github('pipeline', { image: goodImage(), context, tags: 'v1', config: file('gantry.yml', 'a: [\n') }),
    /^input "config": ".*" is not valid YAML|^--config: ".*" is not valid YAML/,
  ],
];

const gitlabCases: Case[] = [
  [
    'GitLab build: image with ";" and a command',
    () => gitlab('build', { image: `${goodImage()};${touch}`, context, tag: '["v1"]' }),
    /^gantry: --image: invalid image reference/,
  ],
  [
    'GitLab build: tags array with $(…)',
    () => gitlab('build', { image: goodImage(), context, tag: `["v1","$(${touch})"]` }),
    /^gantry: --tag: invalid image reference/,
  ],
  [
    'GitLab build: push not a boolean',
    () => gitlab('build', { image: goodImage(), context, push: 'yes' }),
    /^gantry-gitlab: input "push": expected true or false, got "yes"$/,
  ],
  [
    'GitLab scan: ignore-unfixed not a boolean',
    () => gitlab('scan', { image: sourceImage, 'ignore-unfixed': 'maybe' }),
    /^gantry-gitlab: input "ignore-unfixed": expected true or false, got "maybe"$/,
  ],
  [
    'GitLab scan: unknown severity',
    () => gitlab('scan', { image: sourceImage, 'severity-threshold': 'extreme' }),
    /^gantry: --severity-threshold: expected one of/,
  ],
  [
    'GitLab push: destination with backticks',
    () => gitlab('push', { image: sourceImage, to: `["${goodImage()}:\`${touch}\`"]` }),
    /^gantry: --to: invalid image reference/,
  ],
  [
    'GitLab push: retries not a number',
    () => gitlab('push', { image: sourceImage, to: `["${goodImage()}:x"]`, retries: 'lots' }),
    /^gantry-gitlab: input "retries": expected a number, got "lots"$/,
  ],
  [
    'GitLab deploy: steps array with a word',
    () =>
      gitlab('deploy', {
        manifests: JSON.stringify([app]),
        image: JSON.stringify([digestImage()]),
        namespace: ns,
        steps: '["10","x"]',
      }),
    /^gantry: --steps: expected a weight \(25\), weight:pause \(25:10m, 50:until-promoted\) or \{weight, pause\}, or a match: header=NAME:VALUE\[:pause\], cookie=NAME\[:pause\] or \{match, pause\}, got "x"$/,
  ],
  [
    'GitLab deploy: manifests array that is not JSON',
    () => gitlab('deploy', { manifests: `["${app}"`, namespace: ns }),
    /^gantry-gitlab: input "manifests": expected an array/,
  ],
  [
    'GitLab deploy: array of objects',
    () => gitlab('deploy', { manifests: `[{"path":"${app}"}]`, namespace: ns }),
    /^gantry-gitlab: input "manifests": expected an array of strings/,
  ],
  [
    'GitLab deploy: analysis that is not YAML',
    () =>
      gitlab('deploy', {
        manifests: JSON.stringify([app]),
        image: JSON.stringify([digestImage()]),
        namespace: ns,
        analysis: analysisText('metrics: {\n'),
        'prometheus-url': process.env.PROMETHEUS_URL ?? '',
      }),
    /^gantry: --analysis: ".*" is not valid YAML/,
  ],
  [
    'GitLab status: name as $(…)',
    () => gitlab('status', { name: `$(${touch})`, namespace: ns }),
    /^gantry: --name: expected a Deployment name/,
  ],
  [
    'GitLab promote: namespace with a space',
    () => gitlab('promote', { name: 'web', namespace: 'a b' }),
    /^gantry: --namespace: expected a namespace name/,
  ],
  [
    'GitLab abort: timeout not a duration',
    () => gitlab('abort', { name: 'web', namespace: ns, timeout: 'forever' }),
    /^gantry: --timeout: expected a duration/,
  ],
  [
    'GitLab: unknown command',
    () => gitlab('rollback', {}),
    /^gantry-gitlab: expected one command \(build\|scan\|push\|sign\|verify\|deploy\|status\|promote\|abort\), got "rollback"$/,
  ],
];

// ---------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  ns = await createNamespace('corpus');
  // A service already running in the namespace: a bad rollout of it must leave it exactly as it is.
  app = writeApp({ replicas: 2 });
  const first = await runCli(
    ['deploy', '--manifests', app, '--image', digestImage(), '--namespace', ns, '--strategy', 'rolling'],
    { env: process.env },
  );
  expect(first.exitCode, first.stderr).toBe(0);
  // An image in the registry for scan and push to read.
  await buildTestImage(writeImageContext({ 'base.txt': 'corpus base\n' }), localTag);
  sourceImage = `${registry()}/corpus/base:1`;
  await pushTestImage(localTag, sourceImage);
}, 180_000);

afterAll(async () => {
  await deleteNamespace(ns);
  await removeTestImage(localTag);
});

const all: [string, Case[]][] = [
  ['the gantry CLI', cliCases],
  ['the GitHub actions', githubCases],
  ['the GitLab job entry', gitlabCases],
];

describe('bad input: exit 2, one line naming the input, nothing changed, no shell', () => {
  it('has at least 60 cases, across every command and wrapper', () => {
    const total = all.reduce((n, [, cases]) => n + cases.length, 0);
    expect(total).toBeGreaterThanOrEqual(60);
    for (const command of ['build', 'scan', 'push', 'deploy', 'status', 'promote', 'abort']) {
      expect(
        cliCases.some(([name]) => name.startsWith(`${command}:`)),
        command,
      ).toBe(true);
      expect(
        gitlabCases.some(([name]) => name.startsWith(`GitLab ${command}:`)),
        command,
      ).toBe(true);
    }
    for (const action of ['build', 'scan', 'push', 'deploy', 'promote', 'abort', 'pipeline']) {
      expect(
        githubCases.some(([name]) => name.startsWith(`GitHub ${action}:`)),
        action,
      ).toBe(true);
    }
  });

  for (const [where, cases] of all) {
    describe(where, () => {
      it.each(cases)('%s', async (_name, run, expected) => {
        const [registryBefore, clusterBefore] = await Promise.all([registrySnapshot(), clusterSnapshot()]);
        const outcome = await run();
        expect(outcome.exitCode, outcome.output).toBe(2);
        expect(outcome.errors, outcome.output).toHaveLength(1);
        const line = outcome.errors[0]!.replace(where === 'the gantry CLI' ? /^gantry: / : /^$/, '');
        expect(line).toMatch(expected);
        if (where === 'the gantry CLI') expect(outcome.json).toEqual({ error: line, exitCode: 2 });
        if (where === 'the GitLab job entry' && outcome.json) expect(outcome.json.exitCode).toBe(2);
        expect(existsSync(MARKER), `a shell ran an injected command: ${MARKER} exists`).toBe(false);
        const [registryAfter, clusterAfter] = await Promise.all([registrySnapshot(), clusterSnapshot()]);
        expect(registryAfter, 'the registry changed').toBe(registryBefore);
        expect(clusterAfter, 'the cluster changed').toBe(clusterBefore);
      });
    });
  }

  it('no injected command ever ran', () => {
    expect(existsSync(MARKER)).toBe(false);
  });
});
