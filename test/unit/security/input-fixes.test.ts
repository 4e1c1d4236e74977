import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDockerfile, checkTarget } from '../../../src/build/dockerfile.js';
import { strayArgument } from '../../../src/cli/main.js';
import { resolveConfig } from '../../../src/config/load.js';
import { kubeconfigProblem } from '../../../src/deploy/kube.js';
import { failureExitCode } from '../../../src/platforms/github/adapter.js';
import { registryCredentials } from '../../../src/registry/auth.js';
import { imageNotFoundAsInput, isImageNotFound } from '../../../src/registry/not-found.js';
import { prepareReportDir } from '../../../src/report/index.js';
import { getGrypeEnv, getGrypeScanArgs } from '../../../src/scan/grype.js';
import { getTrivyEnv, getTrivyScanArgs } from '../../../src/scan/trivy.js';
import { GantryError, InfraError, InputError } from '../../../src/util/errors.js';

const temp = () => mkdtempSync(join(tmpdir(), 'gantry-fixes-'));

function dockerfile(text: string): string {
  const path = join(temp(), 'Dockerfile');
  writeFileSync(path, text);
  return path;
}

describe('build --target must name a stage', () => {
  it('collects the named stages, lower-cased', () => {
    const path = dockerfile(
      'FROM scratch AS Base\nFROM --platform=linux/amd64 base as final\nFROM scratch\n',
    );
    expect(checkDockerfile(path).stages).toEqual(['base', 'final']);
  });

  it('accepts a stage, whatever its case', () => {
    const path = dockerfile('FROM scratch AS build\n');
    expect(() => checkTarget('BUILD', checkDockerfile(path), path)).not.toThrow();
    expect(() => checkTarget(undefined, checkDockerfile(path), path)).not.toThrow();
  });

  it('rejects anything else as --target, listing the stages', () => {
    const path = dockerfile('FROM scratch AS build\nFROM scratch AS run\n');
    expect(() => checkTarget('a;b', checkDockerfile(path), path)).toThrow(
      `--target: no stage "a;b" in ${path}; its stages: build, run`,
    );
    const plain = dockerfile('FROM scratch\n');
    expect(() => checkTarget('x', checkDockerfile(plain), plain)).toThrow('it has no named stages');
  });

  it('quotes at most 40 characters of an unknown instruction (a wrong --file prints no file content)', () => {
    const secretish = `root:x:0:0:${'y'.repeat(80)}`;
    const path = dockerfile(`${secretish}\n`);
    expect(() => checkDockerfile(path)).toThrow(`unknown instruction "${secretish.slice(0, 40)}…"`);
  });
});

describe('a reference that names no image is bad input', () => {
  it.each([
    'trivy image failed (exit 1): * remote error: GET http://r/v2/a/manifests/1: MANIFEST_UNKNOWN: manifest unknown; map[Tag:1]',
    'skopeo inspect failed (exit 1): reading manifest 1 in r/nope/x: manifest unknown',
    'GET http://r/v2/nope/manifests/1: NAME_UNKNOWN: repository name not known to registry',
  ])('%s', (message) => {
    expect(isImageNotFound(message)).toBe(true);
    const error = imageNotFoundAsInput(new InfraError(message), 'r/nope/x:1', '--image');
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(
      '--image: "r/nope/x:1" does not exist in the registry (manifest unknown)',
    );
  });

  it('leaves every other failure alone', () => {
    const error = new InfraError('skopeo inspect failed (exit 1): unauthorized: authentication required');
    expect(imageNotFoundAsInput(error, 'r/x:1', '--image')).toBe(error);
    expect(isImageNotFound('dial tcp 127.0.0.1:1: connect: connection refused')).toBe(false);
  });
});

describe('kubeconfig errors never quote the file', () => {
  it('keeps only the reason and position of a YAML error', () => {
    const error = Object.assign(
      new Error('bad indentation (7:4)\n 6 |     token: SECRET-TOKEN\n 7 |    bad: [x'),
      {
        reason: 'bad indentation of a mapping entry',
        mark: { line: 6, column: 3 },
      },
    );
    const message = kubeconfigProblem(error);
    expect(message).toBe('invalid YAML: bad indentation of a mapping entry (line 7, column 4)');
    expect(message).not.toContain('SECRET-TOKEN');
  });

  it('cuts an excerpt off any other message', () => {
    expect(kubeconfigProblem(new Error('something odd (2:1) 1 | token: SECRET 2 | -^'))).toBe(
      'something odd (2:1)',
    );
  });
});

describe('GitHub actions exit with gantry exit codes', () => {
  it.each([
    [new InputError('input "image"', 'bad'), 2],
    [new GantryError('scan failed', 1), 1],
    [new InfraError('registry down'), 3],
    [new GantryError('rollback failed', 4), 4],
    [new Error('boom'), 3],
  ])('%s → %i', (error, code) => {
    expect(failureExitCode(error)).toBe(code);
  });
});

describe('deploy --report is checked before the rollout', () => {
  it('creates a missing folder', async () => {
    const dir = join(temp(), 'a', 'b');
    await prepareReportDir(dir);
    await expect(prepareReportDir(dir)).resolves.toBeUndefined();
  });

  it('rejects a file, naming --report', async () => {
    const file = join(temp(), 'file');
    writeFileSync(file, 'x');
    await expect(prepareReportDir(file)).rejects.toThrow(`--report: "${file}" is not a directory`);
    await expect(prepareReportDir(join(file, 'sub'))).rejects.toThrow(/^--report: cannot create the folder/);
  });
});

describe('an argument that belongs to no flag names the flag before it', () => {
  it.each([
    [
      ['scan', '--image', 'a/b:1', '--ignore-unfixed', 'maybe'],
      '--ignore-unfixed: takes no value, got "maybe" (write --ignore-unfixed or --no-ignore-unfixed)',
    ],
    [
      ['--json', 'deploy', '--no-resume', 'x'],
      '--no-resume: takes no value, got "x" (write --resume or --no-resume)',
    ],
    [
      ['--config', 'g.yml', 'scan', 'foo'],
      'unexpected argument "foo": every value follows its flag (--flag value)',
    ],
    [
      ['build', '--tag', 'v1', '--push', 'yes'],
      '--push: takes no value, got "yes" (write --push or --no-push)',
    ],
  ])('%j', (argv, message) => {
    expect(strayArgument(argv)).toBe(message);
  });

  it('finds nothing in a well-formed command line', () => {
    expect(strayArgument(['deploy', '--steps', '10', '--resume', '--name=web'])).toBeUndefined();
  });
});

describe('zod issues keep the schema wording', () => {
  it('a record key', () => {
    expect(() => resolveConfig({ command: 'build', raw: { label: ['a b=c'] }, cwd: temp() })).toThrow(
      '--label: expected KEY=value, got "a b"',
    );
  });

  it('a whole number', () => {
    expect(() => resolveConfig({ command: 'deploy', raw: { steps: '12.5,50' }, cwd: temp() })).toThrow(
      '--steps: expected whole percentages, got 12.5',
    );
  });
});

describe('scanners get registry credentials in their environment, never on argv', () => {
  const credentials = { username: 'robot', password: 'scan-password-marker' };

  it('trivy: TRIVY_USERNAME / TRIVY_PASSWORD for a remote image only', () => {
    const target = { ref: 'registry.example.com/app:1', credentials };
    expect(getTrivyEnv(target)).toEqual({ TRIVY_USERNAME: 'robot', TRIVY_PASSWORD: 'scan-password-marker' });
    expect(getTrivyEnv({ ...target, archive: '/tmp/image.tar' })).toEqual({});
    expect(getTrivyScanArgs(target, ['vuln']).join(' ')).not.toContain('scan-password-marker');
  });

  it('grype: GRYPE_REGISTRY_AUTH_* for the image host', () => {
    const target = { ref: '127.0.0.1:5000/app:1', insecure: true, credentials };
    expect(getGrypeEnv(target)).toMatchObject({
      GRYPE_REGISTRY_AUTH_AUTHORITY: '127.0.0.1:5000',
      GRYPE_REGISTRY_AUTH_USERNAME: 'robot',
      GRYPE_REGISTRY_AUTH_PASSWORD: 'scan-password-marker',
      GRYPE_REGISTRY_INSECURE_USE_HTTP: 'true',
    });
    expect(getGrypeScanArgs(target).join(' ')).not.toContain('scan-password-marker');
  });

  it('registryCredentials reads the same sources as the auth file', async () => {
    const env = {
      DOCKER_CONFIG: temp(),
      GANTRY_REGISTRY: 'registry.example.com',
      GANTRY_REGISTRY_USERNAME: 'robot',
      GANTRY_REGISTRY_PASSWORD: 'pa:ss',
      CI_REGISTRY: 'gitlab.example.com:5050',
      CI_REGISTRY_USER: 'gitlab-ci-token',
      CI_REGISTRY_PASSWORD: 'job-token',
    };
    expect(await registryCredentials('registry.example.com', env)).toEqual({
      username: 'robot',
      password: 'pa:ss',
    });
    expect(await registryCredentials('gitlab.example.com:5050', env)).toEqual({
      username: 'gitlab-ci-token',
      password: 'job-token',
    });
    expect(await registryCredentials('other.example.com', env)).toBeUndefined();
  });
});

describe('cluster wait bounds must be at least 1s', () => {
  it.each([
    ['timeout', '0s'],
    ['timeout', '500ms'],
    ['ready-timeout', '0'],
  ])('--%s %s', (flag, value) => {
    expect(() => resolveConfig({ command: 'deploy', raw: { [flag]: value }, cwd: temp() })).toThrow(
      `--${flag}: expected at least 1s, got ${JSON.stringify(value)}`,
    );
  });

  it('accepts 1s and up; other durations may still be 0', () => {
    const config = resolveConfig({
      command: 'deploy',
      raw: { timeout: '1s', 'ready-timeout': '2m', pause: '0s', 'lock-timeout': '0' },
      cwd: temp(),
    });
    expect(config.deploy).toMatchObject({ timeout: 1000, readyTimeout: 120_000, pause: 0, lockTimeout: 0 });
  });
});
