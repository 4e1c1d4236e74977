import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectPlatform, readBuildContext, readGitHubEvent } from '../../../src/context/index.js';
import type { EnvMap } from '../../../src/context/types.js';
import { HEAD_SHA, loadEnvFixture } from './fixtures.js';

let root: string;
const ceiling = process.env.GIT_CEILING_DIRECTORIES;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'gantry-context-index-'));
  process.env.GIT_CEILING_DIRECTORIES = root;
});
afterAll(() => {
  if (ceiling === undefined) delete process.env.GIT_CEILING_DIRECTORIES;
  else process.env.GIT_CEILING_DIRECTORIES = ceiling;
  rmSync(root, { recursive: true, force: true });
});

describe('detectPlatform', () => {
  it.each<[EnvMap, string]>([
    [{ GITHUB_ACTIONS: 'true', CI: 'true' }, 'github'],
    [{ GITLAB_CI: 'true', CI: 'true' }, 'gitlab'],
    [{ JENKINS_URL: 'https://ci.acme.example/' }, 'jenkins'],
    [{ BUILD_TAG: 'jenkins-shop-7' }, 'jenkins'],
    [{ BUILD_TAG: 'circleci-7', CI: 'true' }, 'local'],
    [{ GITHUB_ACTIONS: 'false' }, 'local'],
    [{ GITLAB_CI: '' }, 'local'],
    [{}, 'local'],
  ])('%j → %s', (env, platform) => {
    expect(detectPlatform(env)).toBe(platform);
  });

  it.each(['github', 'gitlab', 'jenkins'] as const)('detects every %s fixture', (platform) => {
    expect(detectPlatform(loadEnvFixture(platform, 'push-main'))).toBe(platform);
  });
});

describe('readGitHubEvent', () => {
  it('ignores a missing, unreadable or unexpected payload', () => {
    const broken = join(root, 'broken.json');
    writeFileSync(broken, '{ not json');
    const unexpected = join(root, 'unexpected.json');
    writeFileSync(unexpected, JSON.stringify({ pull_request: { number: 'forty-two' } }));
    expect(readGitHubEvent(undefined)).toBeUndefined();
    expect(readGitHubEvent(join(root, 'absent.json'))).toBeUndefined();
    expect(readGitHubEvent(broken)).toBeUndefined();
    expect(readGitHubEvent(unexpected)).toBeUndefined();
  });
});

describe('readBuildContext', () => {
  it('reads the GitHub event payload from GITHUB_EVENT_PATH', async () => {
    const context = await readBuildContext(loadEnvFixture('github', 'pr-42'), {
      readCommitTimestampFromGit: false,
    });
    expect(context).toMatchObject({ platform: 'github', sha: HEAD_SHA, prNumber: 42 });
  });

  it('fills a missing commit timestamp from the checkout', async () => {
    const dir = join(root, 'checkout');
    const date = '2024-05-14T09:30:00+00:00';
    const env = {
      ...process.env,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@e',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@e',
    };
    execFileSync('git', ['init', '--quiet', dir], { env });
    execFileSync('git', ['commit', '--quiet', '--allow-empty', '-m', 'x'], { cwd: dir, env });
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
    const jenkins = { ...loadEnvFixture('jenkins', 'push-main'), GIT_COMMIT: sha };

    expect(await readBuildContext(jenkins, { cwd: dir })).toMatchObject({
      sha,
      commitTimestamp: '2024-05-14T09:30:00.000Z',
    });
    expect(
      await readBuildContext(jenkins, { cwd: dir, readCommitTimestampFromGit: false }),
    ).not.toHaveProperty('commitTimestamp');
    // A commit the checkout does not have leaves the timestamp unknown.
    expect(await readBuildContext(loadEnvFixture('jenkins', 'push-main'), { cwd: dir })).not.toHaveProperty(
      'commitTimestamp',
    );
  });

  it('reads the local repository outside CI, with a run id from GANTRY_RUN_ID or the clock', async () => {
    const dir = mkdtempSync(join(root, 'plain-'));
    expect(await readBuildContext({ GANTRY_RUN_ID: 'run-7' }, { cwd: dir })).toMatchObject({
      platform: 'local',
      runId: 'run-7',
    });
    expect((await readBuildContext({}, { cwd: dir })).runId).toMatch(/^local-\d{8}T\d{9}Z$/);
  });

  it('lets options force the platform', async () => {
    const env = { ...loadEnvFixture('gitlab', 'push-main'), GITLAB_CI: undefined };
    expect(detectPlatform(env)).toBe('local');
    expect(await readBuildContext(env, { platform: 'gitlab' })).toMatchObject({
      platform: 'gitlab',
      branch: 'main',
    });
  });
});
