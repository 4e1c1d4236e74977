import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLocalContext } from '../../../src/context/local.js';
import { computeTags } from '../../../src/context/tags.js';

const COMMIT_DATE = '2024-05-14T11:30:00+02:00';
const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_AUTHOR_DATE: COMMIT_DATE,
  GIT_COMMITTER_DATE: COMMIT_DATE,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

let root: string;
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();
}
function newRepository(name: string): string {
  const dir = join(root, name);
  execFileSync('git', ['init', '--quiet', '--initial-branch=main', dir], { env: gitEnv });
  return dir;
}
function commit(dir: string, file = 'README.md'): string {
  writeFileSync(join(dir, file), `${Math.random()}\n`);
  git(dir, 'add', file);
  git(dir, 'commit', '--quiet', '-m', 'change');
  return git(dir, 'rev-parse', 'HEAD');
}

const ceiling = process.env.GIT_CEILING_DIRECTORIES;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'gantry-context-'));
  // Keeps git from finding an enclosing repository when the temporary directory happens to sit inside one.
  process.env.GIT_CEILING_DIRECTORIES = root;
});
afterAll(() => {
  if (ceiling === undefined) delete process.env.GIT_CEILING_DIRECTORIES;
  else process.env.GIT_CEILING_DIRECTORIES = ceiling;
  rmSync(root, { recursive: true, force: true });
});

describe('readLocalContext', () => {
  it('reads a branch checkout with its remote, commit time and default branch', async () => {
    const dir = newRepository('branch');
    const sha = commit(dir);
    git(dir, 'remote', 'add', 'origin', 'git@github.com:acme/shop.git');
    git(dir, 'checkout', '--quiet', '-b', 'feature/Login-Page');
    const context = await readLocalContext({ USER: 'alice' }, { cwd: dir, runId: 'local-1' });
    expect(context).toEqual({
      platform: 'local',
      runId: 'local-1',
      actor: 'alice',
      sha,
      ref: 'refs/heads/feature/Login-Page',
      refType: 'branch',
      branch: 'feature/Login-Page',
      defaultBranch: 'main',
      isDefaultBranch: false,
      repository: 'acme/shop',
      repositoryUrl: 'https://github.com/acme/shop',
      commitTimestamp: '2024-05-14T09:30:00.000Z',
      dirty: false,
    });
    expect(computeTags(context).tags).toEqual(['feature-Login-Page', `sha-${sha.slice(0, 7)}`]);
  });

  it('takes the default branch from origin/HEAD when the clone knows it', async () => {
    const dir = newRepository('origin-head');
    const sha = commit(dir);
    git(dir, 'update-ref', 'refs/remotes/origin/trunk', sha);
    git(dir, 'symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/trunk');
    const context = await readLocalContext({}, { cwd: dir, runId: 'r', defaultBranch: 'ignored' });
    expect(context).toMatchObject({ defaultBranch: 'trunk', branch: 'main', isDefaultBranch: false });
  });

  it('reads a detached checkout of a tag as a tag build', async () => {
    const dir = newRepository('tag');
    commit(dir);
    git(dir, 'tag', 'v1.2.3');
    git(dir, 'checkout', '--quiet', '--detach', 'v1.2.3');
    const context = await readLocalContext({}, { cwd: dir, runId: 'r' });
    expect(context).toMatchObject({
      refType: 'tag',
      tag: 'v1.2.3',
      ref: 'refs/tags/v1.2.3',
      isDefaultBranch: false,
    });
    expect(computeTags(context).tags.slice(0, 2)).toEqual(['1.2.3', '1.2']);
  });

  it('reads a detached checkout elsewhere as unknown, and a modified tree as dirty', async () => {
    const dir = newRepository('detached');
    commit(dir);
    const sha = commit(dir);
    git(dir, 'checkout', '--quiet', '--detach', 'HEAD~1');
    writeFileSync(join(dir, 'README.md'), 'edited\n');
    const context = await readLocalContext({}, { cwd: dir, runId: 'r' });
    expect(context).toMatchObject({ refType: 'unknown', dirty: true, repository: 'detached' });
    expect(context.sha).not.toBe(sha);
    expect(context).not.toHaveProperty('ref');
    expect(computeTags(context).tags).toEqual([`sha-${context.sha?.slice(0, 7)}-dirty`]);
  });

  it('reads a repository without commits as having no sha', async () => {
    const dir = newRepository('empty');
    const context = await readLocalContext({}, { cwd: dir, runId: 'r' });
    expect(context).toMatchObject({ refType: 'unknown', repository: 'empty' });
    expect(context).not.toHaveProperty('sha');
  });

  it('falls back without a git repository: no sha, no ref, and the dev tag', async () => {
    const dir = mkdtempSync(join(root, 'plain-'));
    const context = await readLocalContext(
      { SOURCE_DATE_EPOCH: '0' },
      { cwd: dir, runId: 'r', eventName: 'push' },
    );
    expect(context).toEqual({
      platform: 'local',
      runId: 'r',
      eventName: 'push',
      sourceDateEpoch: 0,
      refType: 'unknown',
      defaultBranch: 'main',
      isDefaultBranch: false,
      repository: basename(dir),
    });
    expect(computeTags(context).tags).toEqual(['dev']);
  });
});
