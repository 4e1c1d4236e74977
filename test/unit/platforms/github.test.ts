import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/load.js';
import type { CommandName } from '../../../src/config/options.js';
import { ACTIONS } from '../../../src/platforms/github/actions.js';
import {
  booleanInput,
  failureLine,
  type Inputs,
  readInputs,
  renameInputError,
  reportInputs,
  secretInputs,
  severityThreshold,
  splitList,
  tagInputs,
  toRawInputs,
  useCredentials,
} from '../../../src/platforms/github/adapter.js';

const { build: BUILD, scan: SCAN } = ACTIONS;
type SpecName = keyof typeof ACTIONS;

import { GantryError, InputError } from '../../../src/util/errors.js';
import { redact } from '../../../src/util/secrets.js';

const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
};

describe('readInputs', () => {
  it('reads the declared inputs from INPUT_*, trimmed, leaving out empty ones', () => {
    const inputs = readInputs(BUILD, {
      INPUT_CONTEXT: ' ./app \n',
      'INPUT_BUILD-ARGS': 'A=1\nB=2',
      INPUT_TARGET: '',
      PATH: '/bin',
    });
    expect(inputs).toEqual({ context: './app', 'build-args': 'A=1\nB=2' });
  });

  it.each([
    ['build', 'INPUT_TAG', 'input "tag": unknown input for gantry/actions/build; did you mean "tags"?'],
    [
      'scan',
      'INPUT_SEVERITY-THRESHOLD',
      'input "severity-threshold": unknown input for gantry/actions/scan; did you mean "severity"?',
    ],
    [
      'scan',
      'INPUT_IMAGE',
      'input "image": unknown input for gantry/actions/scan; did you mean "image-ref"?',
    ],
    [
      'deploy',
      'INPUT_WEIGHTS',
      'input "weights": unknown input for gantry/actions/deploy; known inputs: manifests, images,',
    ],
  ] as const)('fails on an undeclared input (%s, %s) with one line', (spec, key, message) => {
    const text = messageOf(() => readInputs(ACTIONS[spec], { [key]: 'x' }));
    expect(text.startsWith(message)).toBe(true);
    expect(text).not.toContain('\n');
  });

  it('masks credential inputs the moment they are read', () => {
    readInputs(BUILD, { 'INPUT_REGISTRY-PASSWORD': 'hunter2-registry-password' });
    expect(redact('login with hunter2-registry-password')).toBe('login with ***');
  });
});

describe('toRawInputs', () => {
  it.each<[string, CommandName, SpecName, Inputs, Record<string, unknown>]>([
    [
      'lists and maps split on newlines',
      'build',
      'build',
      { 'build-args': 'A=1\n\nB=x,y', labels: 'team=web', 'cache-from': 'r/a,b' },
      { 'build-arg': ['A=1', 'B=x,y'], label: ['team=web'], 'cache-from': ['r/a,b'] },
    ],
    [
      'platforms split on commas too, as docker/build-push-action does',
      'build',
      'build',
      { platforms: 'linux/amd64, linux/arm64\nlinux/arm/v7' },
      { platform: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'] },
    ],
    ['booleans as YAML writes them', 'build', 'build', { push: 'True' }, { push: 'true' }],
    ['a bad boolean is left for the core to name', 'build', 'build', { push: 'yes' }, { push: 'yes' }],
    ['custom inputs are left to the stage', 'build', 'build', { tags: 'a', secrets: 'x=y' }, {}],
    ['image-ref is the scan image', 'scan', 'scan', { 'image-ref': 'r/app:1' }, { image: 'r/app:1' }],
    [
      'scanners keep their commas for the core',
      'scan',
      'scan',
      { scanners: 'vuln,secret' },
      { scanners: ['vuln,secret'] },
    ],
    [
      'deploy inputs under their flags',
      'deploy',
      'deploy',
      { images: 'app=r/a@sha256:1\nside=r/b@sha256:2', steps: '10,50', 'lease-duration': '20' },
      { image: ['app=r/a@sha256:1', 'side=r/b@sha256:2'], steps: ['10,50'], 'lease-duration': '20' },
    ],
    [
      'steps with their own pauses and a gate, and the gate timeout',
      'deploy',
      'deploy',
      { steps: '5:2m,25:until-promoted,50', 'gate-timeout': '1h', 'on-gate-timeout': 'promote' },
      { steps: ['5:2m,25:until-promoted,50'], 'gate-timeout': '1h', 'on-gate-timeout': 'promote' },
    ],
    [
      'the pipeline feeds its build image to build only',
      'deploy',
      '.',
      { image: 'r/app', images: 'app=r/a@sha256:1', namespace: 'shop', severity: 'high' },
      { image: ['app=r/a@sha256:1'], namespace: 'shop' },
    ],
    [
      'the pipeline feeds only what each command knows',
      'build',
      '.',
      { context: '.', namespace: 'shop', retries: '5', push: 'true' },
      { context: '.', retries: '5' },
    ],
  ])('%s', (_name, command, spec, inputs, raw) => {
    expect(toRawInputs(command, ACTIONS[spec], inputs)).toEqual(raw);
  });
});

describe('tagInputs', () => {
  it.each<[string | undefined, string | undefined, ReturnType<typeof tagInputs>]>([
    ['1.2.3\nedge', 'ghcr.io/acme/shop', { image: 'ghcr.io/acme/shop', tag: ['1.2.3', 'edge'] }],
    [
      'ghcr.io/acme/shop:1.2.3\nghcr.io/acme/shop:latest',
      undefined,
      { image: 'ghcr.io/acme/shop', tag: ['1.2.3', 'latest'] },
    ],
    [
      'localhost:5000/shop:1,localhost:5000/shop:2',
      undefined,
      { image: 'localhost:5000/shop', tag: ['1', '2'] },
    ],
    ['ghcr.io/acme/shop:1.2.3', 'ghcr.io/acme/shop:dev', { image: 'ghcr.io/acme/shop:dev', tag: ['1.2.3'] }],
    [undefined, 'ghcr.io/acme/shop', { image: 'ghcr.io/acme/shop' }],
    [undefined, undefined, {}],
  ])('tags %j with image %j', (tags, image, expected) => {
    expect(tagInputs(tags, image)).toEqual(expected);
  });

  it.each([
    [
      'ghcr.io/acme/shop:1\ndocker.io/acme/shop:1',
      undefined,
      'input "tags": "docker.io/acme/shop:1" is not in repository ghcr.io/acme/shop',
    ],
    ['ghcr.io/acme/Shop:1', undefined, 'input "tags": invalid image reference'],
    ['1.0', 'ghcr.io/acme/shop:', 'input "image": invalid image reference'],
  ])('rejects %j', (tags, image, message) => {
    expect(messageOf(() => tagInputs(tags, image))).toContain(message);
  });
});

describe('severityThreshold', () => {
  it.each([
    ['high', 'high'],
    ['HIGH', 'high'],
    ['none', 'none'],
    ['CRITICAL,HIGH', 'high'],
    ['CRITICAL, HIGH, MEDIUM', 'medium'],
    ['UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL', 'unknown'],
    ['critical\nlow', 'low'],
    ['severe', 'severe'],
  ])('%j gates on %j', (value, threshold) => {
    expect(severityThreshold(value)).toBe(threshold);
  });

  it('names the input for a bad list item', () => {
    expect(messageOf(() => severityThreshold('CRITICAL,SEVERE'))).toMatch(
      /^input "severity": expected severities/,
    );
  });

  it('leaves a bad single value to the core, which names the input', () => {
    const raw = { 'severity-threshold': severityThreshold('severe') };
    const error = (() => {
      try {
        resolveConfig({ command: 'scan', raw, cwd: mkdtempSync(join(tmpdir(), 'gh-')) });
      } catch (e) {
        return renameInputError(e, SCAN, 'scan');
      }
    })() as Error;
    expect(error.message).toBe(
      'input "severity": expected one of critical|high|medium|low|unknown|none, got "severe"',
    );
  });
});

describe('reportInputs', () => {
  it.each<[Inputs, Record<string, string>]>([
    [{}, {}],
    [{ format: 'sarif', output: 'trivy.sarif' }, { sarif: 'trivy.sarif' }],
    [{ format: 'GitLab', output: 'gl.json' }, { 'gitlab-report': 'gl.json' }],
    [{ format: 'junit', output: 'junit.xml', sarif: 'x.sarif' }, { junit: 'junit.xml' }],
  ])('%j → %j', (inputs, raw) => {
    expect(reportInputs(inputs)).toEqual(raw);
  });

  it.each<[Inputs, string]>([
    [
      { format: 'table', output: 'x' },
      'input "format": expected sarif, gitlab, junit or markdown, got "table"',
    ],
    [{ format: 'sarif' }, 'input "output": required with format "sarif": the file to write'],
    [{ output: 'x.json' }, 'input "output": needs "format"'],
    [{ format: 'sarif', output: 'a', sarif: 'b' }, 'input "output": "format: sarif" and "sarif" both name'],
  ])('%j fails: %s', (inputs, message) => {
    expect(messageOf(() => reportInputs(inputs))).toContain(message);
  });
});

describe('secretInputs', () => {
  it('hands values over in the environment and names env vars and files as they are', () => {
    const env: NodeJS.ProcessEnv = {};
    const secrets = secretInputs(
      {
        secrets: 'npm=s3cret-npm-token-value\ngh=tok=with=equals',
        'secret-envs': 'aws=AWS_SECRET',
        'secret-files': 'cert=./certs/ca.pem',
      },
      env,
    );
    expect(secrets).toEqual([
      'id=npm,env=GANTRY_BUILD_SECRET_0',
      'id=gh,env=GANTRY_BUILD_SECRET_1',
      'id=aws,env=AWS_SECRET',
      'id=cert,src=./certs/ca.pem',
    ]);
    expect(env).toEqual({
      GANTRY_BUILD_SECRET_0: 's3cret-npm-token-value',
      GANTRY_BUILD_SECRET_1: 'tok=with=equals',
    });
    expect(redact('s3cret-npm-token-value')).toBe('***');
  });

  it('rejects a line without id=', () => {
    expect(messageOf(() => secretInputs({ 'secret-files': 'just-a-path' }, {}))).toBe(
      'input "secret-files": expected id=value lines',
    );
  });
});

describe('useCredentials', () => {
  it('hands registry credentials and the token to the core through the environment', () => {
    const env: NodeJS.ProcessEnv = {};
    useCredentials(
      {
        registry: 'https://registry.example.com/',
        'registry-username': 'ci',
        'registry-password': 'pa55-registry-word',
        'github-token': 'ghs_token_value_0001',
      },
      env,
    );
    expect(env).toEqual({
      GITHUB_TOKEN: 'ghs_token_value_0001',
      GANTRY_REGISTRY: 'registry.example.com',
      GANTRY_REGISTRY_USERNAME: 'ci',
      GANTRY_REGISTRY_PASSWORD: 'pa55-registry-word',
    });
    expect(redact(Buffer.from('ci:pa55-registry-word').toString('base64'))).toBe('***');
  });

  it.each<[Inputs, string]>([
    [
      { 'registry-password': 'x' },
      'input "registry-password": needs "registry" (host) and "registry-username"',
    ],
    [
      { registry: 'r', 'registry-username': 'u' },
      'input "registry-password": required with "registry-username"',
    ],
  ])('%j fails: %s', (inputs, message) => {
    expect(messageOf(() => useCredentials(inputs, {}))).toBe(message);
  });
});

describe('input errors name the action input', () => {
  const cwd = () => mkdtempSync(join(tmpdir(), 'gh-'));
  const resolveRenamed = (command: CommandName, spec: SpecName, inputs: Inputs): string =>
    messageOf(() => {
      try {
        resolveConfig({ command, raw: toRawInputs(command, ACTIONS[spec], inputs), cwd: cwd() });
      } catch (error) {
        throw renameInputError(error, ACTIONS[spec], command);
      }
    });

  it.each<[CommandName, SpecName, Inputs, string]>([
    ['build', 'build', { push: 'yes' }, 'input "push": expected true or false, got "yes"'],
    ['build', 'build', { retries: 'three' }, 'input "retries": expected a number, got "three"'],
    ['build', 'build', { platforms: 'linux' }, 'input "platforms": expected os/arch[/variant], got "linux"'],
    [
      'build',
      'build',
      { 'build-args': 'NOEQUALS' },
      'input "build-args": expected KEY=value, got "NOEQUALS"',
    ],
    [
      'deploy',
      'deploy',
      { steps: '10,abc' },
      'input "steps": expected a weight (25), weight:pause (25:10m, 50:until-promoted) or {weight, pause}, or a match: header=NAME:VALUE[:pause], cookie=NAME[:pause] or {match, pause}, got "abc"',
    ],
    [
      'deploy',
      'deploy',
      { steps: '50,10' },
      'input "steps": expected strictly increasing weights, got [50,10]',
    ],
    [
      'deploy',
      'deploy',
      { strategy: 'big-bang' },
      'input "strategy": expected one of rolling|canary|blue-green, got "big-bang"',
    ],
    [
      'deploy',
      'deploy',
      { pause: 'soon' },
      'input "pause": expected a duration like 30s, 500ms or 2m, got "soon"',
    ],
    ['deploy', '.', { 'lease-duration': 'ten' }, 'input "lease-duration": expected a number, got "ten"'],
    [
      'deploy',
      'deploy',
      { steps: '5:2m,25:later' },
      'input "steps": expected a duration like 30s or 2m, or until-promoted, got "later"',
    ],
    ['deploy', 'deploy', { 'gate-timeout': '0s' }, 'input "gate-timeout": expected at least 1s, got "0s"'],
    [
      'deploy',
      '.',
      { 'on-gate-timeout': 'continue' },
      'input "on-gate-timeout": expected one of rollback|promote, got "continue"',
    ],
  ])('%s %j', (command, spec, inputs, message) => {
    expect(resolveRenamed(command, spec, inputs)).toBe(message);
  });

  it.each<[string, SpecName, CommandName, string]>([
    ['--tag', 'build', 'build', 'input "tags": no tag'],
    ['--secret', 'build', 'build', 'input "secrets": no tag'],
    ['--image', 'scan', 'scan', 'input "image-ref": no tag'],
    ['--image', '.', 'build', 'input "image": no tag'],
    ['--image', '.', 'deploy', 'input "images": no tag'],
    ['--config', 'deploy', 'deploy', 'input "config": no tag'],
    ['KUBECONFIG', 'deploy', 'deploy', 'KUBECONFIG: no tag'],
  ])('core errors about %s', (flag, spec, command, message) => {
    expect((renameInputError(new InputError(flag, 'no tag'), ACTIONS[spec], command) as Error).message).toBe(
      message,
    );
  });
});

describe('booleanInput, splitList, failureLine', () => {
  it.each<[string | undefined, boolean]>([
    [undefined, true],
    ['false', false],
    ['FALSE', false],
    ['True', true],
  ])('push %j → %s', (value, expected) => {
    expect(booleanInput(value === undefined ? {} : { push: value }, 'push', true)).toBe(expected);
  });

  it('names a bad boolean', () => {
    expect(messageOf(() => booleanInput({ push: 'maybe' }, 'push', true))).toBe(
      'input "push": expected true or false, got "maybe"',
    );
  });

  it('splits lists', () => {
    expect(splitList(' a \n\n b,c ')).toEqual(['a', 'b,c']);
    expect(splitList('a,b\nc', true)).toEqual(['a', 'b', 'c']);
    expect(splitList(undefined)).toEqual([]);
  });

  it('makes one masked line of any error', () => {
    readInputs(BUILD, { 'INPUT_REGISTRY-PASSWORD': 'leaky-password-value' });
    expect(failureLine(new GantryError('push failed:\n  denied for leaky-password-value', 3))).toBe(
      'push failed: denied for ***',
    );
    expect(failureLine(new TypeError('x is undefined'))).toBe('internal error: x is undefined');
  });
});
