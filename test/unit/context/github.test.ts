import { describe, expect, it } from 'vitest';
import { type GitHubEvent, GitHubEventSchema, readGitHubContext } from '../../../src/context/github.js';
import type { EnvMap } from '../../../src/context/types.js';
import { HEAD_SHA, loadEnvFixture, loadGitHubEvent, MERGE_SHA } from './fixtures.js';

function read(name: string, options = {}) {
  const env = loadEnvFixture('github', name);
  return readGitHubContext(env, GitHubEventSchema.parse(loadGitHubEvent(env)), options);
}

const common = {
  platform: 'github',
  repository: 'acme/shop',
  repositoryUrl: 'https://github.com/acme/shop',
  runId: '9112345678',
  runAttempt: 1,
  runUrl: 'https://github.com/acme/shop/actions/runs/9112345678',
  actor: 'octocat',
  defaultBranch: 'main',
};

describe('readGitHubContext', () => {
  it.each([
    [
      'push-main',
      {
        sha: HEAD_SHA,
        ref: 'refs/heads/main',
        refType: 'branch',
        branch: 'main',
        isDefaultBranch: true,
        eventName: 'push',
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
        sha: HEAD_SHA,
        mergeCommitSha: MERGE_SHA,
        ref: 'refs/pull/42/merge',
        refType: 'pr',
        prNumber: 42,
        branch: 'feature/Login-Page',
        baseRef: 'main',
        isDefaultBranch: false,
        eventName: 'pull_request',
      },
    ],
    [
      'tag-v1.2.3',
      { ref: 'refs/tags/v1.2.3', refType: 'tag', tag: 'v1.2.3', baseRef: 'main', isDefaultBranch: false },
    ],
    ['tag-v2.0.0-rc.1', { refType: 'tag', tag: 'v2.0.0-rc.1', isDefaultBranch: false }],
    ['schedule-main', { refType: 'branch', branch: 'main', isDefaultBranch: true, eventName: 'schedule' }],
  ])('%s', (name, expected) => {
    expect(read(name)).toMatchObject({ ...common, ...expected });
  });

  it('omits what it does not know instead of setting it to undefined', () => {
    const context = read('pr-42');
    expect(Object.values(context)).not.toContain(undefined);
    expect(context).not.toHaveProperty('commitTimestamp');
    expect(context).not.toHaveProperty('tag');
  });

  it('uses the merge commit for a PR when asked (metadata-action default)', () => {
    const context = read('pr-42', { pullRequestSha: 'merge' });
    expect(context.sha).toBe(MERGE_SHA);
    expect(context).not.toHaveProperty('mergeCommitSha');
  });

  it('reads a PR without its event payload from the environment alone', () => {
    const env = loadEnvFixture('github', 'pr-42');
    expect(readGitHubContext(env, undefined)).toMatchObject({
      sha: MERGE_SHA,
      refType: 'pr',
      prNumber: 42,
      branch: 'feature/Login-Page',
      baseRef: 'main',
    });
  });

  it('treats pull_request_target as the PR, not as the base branch it runs on', () => {
    const env: EnvMap = {
      ...loadEnvFixture('github', 'pr-42'),
      GITHUB_EVENT_NAME: 'pull_request_target',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SHA: 'b'.repeat(40),
    };
    const event = GitHubEventSchema.parse(loadGitHubEvent(env));
    expect(readGitHubContext(env, event)).toMatchObject({
      refType: 'pr',
      ref: 'refs/pull/42/head',
      sha: HEAD_SHA,
      prNumber: 42,
    });
  });

  it('falls back to the default-branch option without a repository in the payload', () => {
    const env = loadEnvFixture('github', 'push-main');
    expect(readGitHubContext(env, {}, { defaultBranch: 'trunk' })).toMatchObject({
      defaultBranch: 'trunk',
      isDefaultBranch: false,
    });
    expect(readGitHubContext(env, {})).toMatchObject({ defaultBranch: 'main', isDefaultBranch: true });
  });

  it('points the run URL at the attempt of a re-run, honours GHES and SOURCE_DATE_EPOCH', () => {
    const env: EnvMap = {
      ...loadEnvFixture('github', 'push-main'),
      GITHUB_RUN_ATTEMPT: '3',
      GITHUB_SERVER_URL: 'https://github.acme.example/',
      SOURCE_DATE_EPOCH: '1715679000',
    };
    expect(readGitHubContext(env, undefined)).toMatchObject({
      runAttempt: 3,
      runUrl: 'https://github.acme.example/acme/shop/actions/runs/9112345678/attempts/3',
      repositoryUrl: 'https://github.acme.example/acme/shop',
      sourceDateEpoch: 1715679000,
    });
  });

  it('lets options override the event name', () => {
    const env = loadEnvFixture('github', 'push-main');
    expect(readGitHubContext(env, undefined, { eventName: 'schedule' })).toMatchObject({
      eventName: 'schedule',
      platformEventName: 'push',
    });
  });

  it.each<[string, EnvMap, RegExp]>([
    [
      'GITHUB_SHA unset',
      { GITHUB_SHA: undefined },
      /^GITHUB_SHA: expected GitHub Actions to set it, found it unset$/,
    ],
    [
      'GITHUB_SHA short',
      { GITHUB_SHA: '3f7c2a9' },
      /^GITHUB_SHA: expected a full 40-character hex commit SHA, found "3f7c2a9"$/,
    ],
    [
      'GITHUB_REPOSITORY blank',
      { GITHUB_REPOSITORY: ' ' },
      /^GITHUB_REPOSITORY: expected GitHub Actions to set it/,
    ],
    [
      'SOURCE_DATE_EPOCH not a number',
      { SOURCE_DATE_EPOCH: 'yesterday' },
      /^SOURCE_DATE_EPOCH: expected whole seconds/,
    ],
  ])('rejects an environment with %s', (_case, overrides, why) => {
    const env = { ...loadEnvFixture('github', 'push-main'), ...overrides };
    expect(() => readGitHubContext(env, undefined)).toThrow(why);
  });

  it('rejects a malformed head SHA in the payload', () => {
    const env = loadEnvFixture('github', 'pr-42');
    const event: GitHubEvent = { pull_request: { number: 42, head: { sha: 'nope' } } };
    expect(() => readGitHubContext(env, event)).toThrow(
      /pull_request\.head\.sha: expected a full 40-character/,
    );
  });
});
