import { describe, expect, it } from 'vitest';
import { readJenkinsContext } from '../../../src/context/jenkins.js';
import type { EnvMap } from '../../../src/context/types.js';
import { HEAD_SHA, loadEnvFixture } from './fixtures.js';

const common = {
  platform: 'jenkins',
  sha: HEAD_SHA,
  repository: 'acme/shop',
  repositoryUrl: 'https://github.com/acme/shop',
  defaultBranch: 'main',
};

describe('readJenkinsContext', () => {
  it.each([
    [
      'push-main',
      {
        ref: 'refs/heads/main',
        refType: 'branch',
        branch: 'main',
        isDefaultBranch: true,
        eventName: 'push',
        runId: 'jenkins-acme-shop-main-17',
        runUrl: 'https://ci.acme.example/job/acme/job/shop/job/main/17/',
      },
    ],
    [
      'push-feature',
      {
        ref: 'refs/heads/feature/Login-Page',
        refType: 'branch',
        branch: 'feature/Login-Page',
        isDefaultBranch: false,
      },
    ],
    [
      'pr-42',
      {
        ref: 'refs/pull/42/head',
        refType: 'pr',
        prNumber: 42,
        branch: 'feature/Login-Page',
        baseRef: 'main',
        isDefaultBranch: false,
        eventName: 'pull_request',
        actor: 'octocat',
      },
    ],
    [
      'tag-v1.2.3',
      { ref: 'refs/tags/v1.2.3', refType: 'tag', tag: 'v1.2.3', isDefaultBranch: false, eventName: 'push' },
    ],
    ['tag-v2.0.0-rc.1', { refType: 'tag', tag: 'v2.0.0-rc.1' }],
    [
      'schedule-main',
      {
        refType: 'branch',
        branch: 'main',
        isDefaultBranch: true,
        eventName: 'schedule',
        platformEventName: 'TIMERTRIGGER',
      },
    ],
  ])('%s', (name, expected) => {
    expect(readJenkinsContext(loadEnvFixture('jenkins', name))).toMatchObject({ ...common, ...expected });
  });

  it('reads a freestyle job: strips the remote from GIT_BRANCH and turns an SSH URL into a web URL', () => {
    expect(readJenkinsContext(loadEnvFixture('jenkins', 'freestyle-feature'))).toMatchObject({
      refType: 'branch',
      branch: 'feature/Login-Page',
      repository: 'acme/shop',
      repositoryUrl: 'https://github.com/acme/shop',
      runId: 'jenkins-shop-image-88',
      actor: 'alice',
    });
  });

  it.each([
    ['origin/main', {}, { refType: 'branch', branch: 'main' }],
    ['refs/remotes/origin/release/1.x', {}, { refType: 'branch', branch: 'release/1.x' }],
    ['upstream/main', { remoteName: 'upstream' }, { refType: 'branch', branch: 'main' }],
    ['refs/heads/main', {}, { refType: 'branch', branch: 'main' }],
    ['refs/tags/v1.2.3', {}, { refType: 'tag', tag: 'v1.2.3' }],
    ['detached', {}, { refType: 'unknown' }],
  ])('reads GIT_BRANCH=%s', (gitBranch, options, expected) => {
    const env = { ...loadEnvFixture('jenkins', 'freestyle-feature'), GIT_BRANCH: gitBranch };
    expect(readJenkinsContext(env, options)).toMatchObject(expected);
  });

  it('never puts credentials from GIT_URL into the context', () => {
    const env = {
      ...loadEnvFixture('jenkins', 'push-main'),
      GIT_URL: 'https://x-access-token:ghs_s3cr3tT0ken@github.com/acme/shop.git',
    };
    const context = readJenkinsContext(env);
    expect(context.repositoryUrl).toBe('https://github.com/acme/shop');
    expect(JSON.stringify(context)).not.toContain('s3cr3t');
  });

  it('takes the default branch from the options where BRANCH_IS_PRIMARY is absent', () => {
    const env = {
      ...loadEnvFixture('jenkins', 'push-main'),
      BRANCH_IS_PRIMARY: undefined,
      BRANCH_NAME: 'trunk',
      GIT_BRANCH: 'trunk',
    };
    expect(readJenkinsContext(env)).toMatchObject({ defaultBranch: 'main', isDefaultBranch: false });
    expect(readJenkinsContext(env, { defaultBranch: 'trunk' })).toMatchObject({
      defaultBranch: 'trunk',
      isDefaultBranch: true,
    });
  });

  it('lets the library pass the event, and maps EnvInject causes', () => {
    const env = loadEnvFixture('jenkins', 'push-main');
    expect(readJenkinsContext(env, { eventName: 'schedule' }).eventName).toBe('schedule');
    expect(readJenkinsContext({ ...env, BUILD_CAUSE: 'MANUALTRIGGER' }).eventName).toBe('workflow_dispatch');
    expect(readJenkinsContext({ ...env, BUILD_CAUSE: 'UPSTREAMTRIGGER,TIMERTRIGGER' }).eventName).toBe(
      'schedule',
    );
  });

  it('names the repository after the job when there is no GIT_URL', () => {
    const env: EnvMap = { ...loadEnvFixture('jenkins', 'push-feature'), GIT_URL: undefined };
    expect(readJenkinsContext(env)).toMatchObject({ repository: 'acme/shop' });
    expect(readJenkinsContext(env)).not.toHaveProperty('repositoryUrl');
    const freestyle: EnvMap = { ...loadEnvFixture('jenkins', 'freestyle-feature'), GIT_URL: undefined };
    expect(readJenkinsContext(freestyle).repository).toBe('shop-image');
  });

  it('builds the run id from JOB_NAME and BUILD_NUMBER without BUILD_TAG', () => {
    const env: EnvMap = { ...loadEnvFixture('jenkins', 'push-main'), BUILD_TAG: undefined };
    expect(readJenkinsContext(env).runId).toBe('jenkins-acme-shop-main-17');
  });

  it.each<[string, EnvMap, RegExp]>([
    [
      'GIT_COMMIT unset',
      { GIT_COMMIT: undefined },
      /^GIT_COMMIT: expected the Jenkins git plugin \(checkout scm\) to set it, found it unset$/,
    ],
    [
      'GIT_COMMIT short',
      { GIT_COMMIT: 'abc' },
      /^GIT_COMMIT: expected a full 40-character hex commit SHA, found "abc"$/,
    ],
    [
      'no run id',
      { BUILD_TAG: undefined, BUILD_NUMBER: undefined },
      /^BUILD_TAG: expected Jenkins to set it/,
    ],
  ])('rejects an environment with %s', (_case, overrides, why) => {
    expect(() => readJenkinsContext({ ...loadEnvFixture('jenkins', 'push-main'), ...overrides })).toThrow(
      why,
    );
  });
});
