import { describe, expect, it } from 'vitest';
import { readGitLabContext } from '../../../src/context/gitlab.js';
import type { EnvMap } from '../../../src/context/types.js';
import { HEAD_SHA, loadEnvFixture, MERGE_SHA } from './fixtures.js';

const common = {
  platform: 'gitlab',
  sha: HEAD_SHA,
  repository: 'acme/shop',
  repositoryUrl: 'https://gitlab.com/acme/shop',
  runId: '1289012345',
  runUrl: 'https://gitlab.com/acme/shop/-/jobs/6823456789',
  actor: 'octocat',
  defaultBranch: 'main',
};

describe('readGitLabContext', () => {
  it.each([
    [
      'push-main',
      {
        ref: 'refs/heads/main',
        refType: 'branch',
        branch: 'main',
        isDefaultBranch: true,
        eventName: 'push',
        platformEventName: 'push',
        commitTimestamp: '2024-05-14T09:30:00.000Z',
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
        ref: 'refs/merge-requests/42/head',
        refType: 'pr',
        prNumber: 42,
        branch: 'feature/Login-Page',
        baseRef: 'main',
        isDefaultBranch: false,
        eventName: 'pull_request',
        platformEventName: 'merge_request_event',
      },
    ],
    [
      'tag-v1.2.3',
      { ref: 'refs/tags/v1.2.3', refType: 'tag', tag: 'v1.2.3', isDefaultBranch: false, eventName: 'push' },
    ],
    ['tag-v2.0.0-rc.1', { ref: 'refs/tags/v2.0.0-rc.1', refType: 'tag', tag: 'v2.0.0-rc.1' }],
    ['schedule-main', { refType: 'branch', branch: 'main', isDefaultBranch: true, eventName: 'schedule' }],
  ])('%s', (name, expected) => {
    expect(readGitLabContext(loadEnvFixture('gitlab', name))).toMatchObject({ ...common, ...expected });
  });

  it('uses the source branch head in a merged results pipeline, and drops the merge commit timestamp', () => {
    const context = readGitLabContext(loadEnvFixture('gitlab', 'pr-42-merged-results'));
    expect(context).toMatchObject({ sha: HEAD_SHA, mergeCommitSha: MERGE_SHA, refType: 'pr', prNumber: 42 });
    expect(context).not.toHaveProperty('commitTimestamp');
    const merge = readGitLabContext(loadEnvFixture('gitlab', 'pr-42-merged-results'), {
      pullRequestSha: 'merge',
    });
    expect(merge).toMatchObject({ sha: MERGE_SHA, commitTimestamp: '2024-05-14T10:02:00.000Z' });
  });

  it('reads an external pull request pipeline', () => {
    const env: EnvMap = {
      ...loadEnvFixture('gitlab', 'push-feature'),
      CI_PIPELINE_SOURCE: 'external_pull_request_event',
      CI_COMMIT_BRANCH: undefined,
      CI_EXTERNAL_PULL_REQUEST_IID: '42',
      CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME: 'feature/Login-Page',
      CI_EXTERNAL_PULL_REQUEST_TARGET_BRANCH_NAME: 'main',
      CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_SHA: HEAD_SHA,
    };
    expect(readGitLabContext(env)).toMatchObject({
      refType: 'pr',
      ref: 'refs/pull/42/head',
      prNumber: 42,
      branch: 'feature/Login-Page',
      baseRef: 'main',
      eventName: 'pull_request',
    });
  });

  it.each([
    ['web', 'workflow_dispatch'],
    ['api', 'api'],
    ['trigger', 'trigger'],
    ['parent_pipeline', 'parent_pipeline'],
  ])('names pipeline source %s as event %s', (source, event) => {
    const env = { ...loadEnvFixture('gitlab', 'push-main'), CI_PIPELINE_SOURCE: source };
    expect(readGitLabContext(env).eventName).toBe(event);
  });

  it('falls back to CI_COMMIT_REF_NAME, CI_SERVER_URL and CI_PIPELINE_URL', () => {
    const env: EnvMap = {
      ...loadEnvFixture('gitlab', 'push-feature'),
      CI_COMMIT_BRANCH: undefined,
      CI_PROJECT_URL: undefined,
      CI_JOB_URL: undefined,
      CI_SERVER_URL: 'https://gitlab.acme.example',
      CI_DEFAULT_BRANCH: undefined,
    };
    expect(readGitLabContext(env, { defaultBranch: 'develop' })).toMatchObject({
      branch: 'feature/Login-Page',
      repositoryUrl: 'https://gitlab.acme.example/acme/shop',
      runUrl: 'https://gitlab.com/acme/shop/-/pipelines/1289012345',
      defaultBranch: 'develop',
    });
  });

  it.each<[string, EnvMap, RegExp]>([
    [
      'CI_COMMIT_SHA unset',
      { CI_COMMIT_SHA: undefined },
      /^CI_COMMIT_SHA: expected GitLab CI to set it, found it unset$/,
    ],
    [
      'CI_COMMIT_SHA not hex',
      { CI_COMMIT_SHA: 'z'.repeat(40) },
      /^CI_COMMIT_SHA: expected a full 40-character hex commit SHA/,
    ],
    ['CI_PROJECT_PATH unset', { CI_PROJECT_PATH: '' }, /^CI_PROJECT_PATH: expected GitLab CI to set it/],
    ['CI_PIPELINE_ID unset', { CI_PIPELINE_ID: undefined }, /^CI_PIPELINE_ID: expected GitLab CI to set it/],
  ])('rejects an environment with %s', (_case, overrides, why) => {
    expect(() => readGitLabContext({ ...loadEnvFixture('gitlab', 'push-main'), ...overrides })).toThrow(why);
  });
});
