import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  commentBody,
  commentMarker,
  deploymentRef,
  finalState,
  GitHubVisibility,
  MAX_COMMENT,
  MAX_DESCRIPTION,
  pullRequestNumber,
  runUrl,
  statusDescription,
  visibilitySettings,
} from '../../../src/platforms/github/deployments.js';
import { InputError } from '../../../src/util/errors.js';
import { type GitHubApi, startGitHubApi } from '../../helpers/github-api.js';
import { fixture } from '../report/helpers.js';

const errorOf = (fn: () => unknown): InputError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
};

describe('visibilitySettings', () => {
  it('defaults to a deployment and a comment, with the token when given', () => {
    expect(visibilitySettings({})).toEqual({ deployment: true, comment: true });
    expect(
      visibilitySettings({
        'github-token': 'ghs_x',
        'github-deployment': 'FALSE',
        'pr-comment': 'True',
        environment: 'production',
        'environment-url': 'https://shop.example.com',
      }),
    ).toEqual({
      token: 'ghs_x',
      deployment: false,
      comment: true,
      environment: 'production',
      environmentUrl: 'https://shop.example.com',
    });
  });

  it('names the input at fault', () => {
    expect(errorOf(() => visibilitySettings({ 'github-deployment': 'yes' })).message).toMatch(
      /^input "github-deployment": expected true or false/,
    );
    expect(errorOf(() => visibilitySettings({ 'pr-comment': '1' })).input).toBe('input "pr-comment"');
    expect(errorOf(() => visibilitySettings({ 'environment-url': 'shop.example.com' })).message).toMatch(
      /^input "environment-url": expected an http\(s\) URL/,
    );
    expect(errorOf(() => visibilitySettings({ 'environment-url': 'javascript:alert(1)' })).input).toBe(
      'input "environment-url"',
    );
    expect(errorOf(() => visibilitySettings({ environment: 'x'.repeat(256) })).input).toBe(
      'input "environment"',
    );
  });
});

describe('what is sent', () => {
  it('status descriptions are one line of at most 140 characters', () => {
    expect(statusDescription('Promoted web in shop')).toBe('Promoted web in shop');
    const long = statusDescription(`Rolled back\n${'x'.repeat(300)}`);
    expect(long).toHaveLength(MAX_DESCRIPTION);
    expect(long.endsWith('…')).toBe(true);
    expect(long).not.toContain('\n');
  });

  it('maps exit codes to deployment states: a gate is a failure, everything else an error', () => {
    expect([0, 1, 2, 3, 4].map(finalState)).toEqual(['success', 'failure', 'error', 'error', 'error']);
  });

  it('the run URL, the pull request and the commit come from the event', () => {
    expect(
      runUrl({
        GITHUB_SERVER_URL: 'https://ghe.example/',
        GITHUB_REPOSITORY: 'acme/shop',
        GITHUB_RUN_ID: '42',
      }),
    ).toBe('https://ghe.example/acme/shop/actions/runs/42');
    expect(runUrl({ GITHUB_REPOSITORY: 'acme/shop' })).toBeUndefined();
    const pr = { pull_request: { number: 7, head: { sha: 'abc' } } };
    expect(pullRequestNumber('pull_request', pr)).toBe(7);
    expect(pullRequestNumber('pull_request_target', pr)).toBe(7);
    expect(pullRequestNumber('push', pr)).toBeUndefined();
    expect(deploymentRef('pull_request', pr, 'merge')).toBe('abc');
    expect(deploymentRef('push', {}, 'sha1')).toBe('sha1');
    expect(deploymentRef('push', {}, undefined)).toBeUndefined();
  });

  it('the comment carries its marker, the environment, the run link and the report', () => {
    const report = fixture('rolled-back');
    const body = commentBody(report, {
      environment: 'prod',
      runUrl: 'https://github.com/a/b/actions/runs/1',
    });
    expect(body.startsWith(`${commentMarker(report.namespace, report.name)}\n`)).toBe(true);
    expect(body).toContain(`### Gantry rollout of \`${report.namespace}/${report.name}\` to \`prod\``);
    expect(body).toContain('[run](https://github.com/a/b/actions/runs/1)');
    expect(body).toContain('```mermaid');
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT);
    expect(commentMarker('a--b', 'c')).toBe('<!-- gantry-rollout:a- -b/c -->');
  });
});

// The API client against a local server: the same code path (and @actions/github's Octokit) as on GitHub.
describe('GitHubVisibility against a local GitHub API', () => {
  const TOKEN = 'ghs_unitTokenValue0123456789';
  const saved = { ...process.env };
  let api: GitHubApi;
  let output: string[];

  beforeAll(async () => {
    api = await startGitHubApi(TOKEN);
    const dir = mkdtempSync(join(tmpdir(), 'gantry-gh-event-'));
    const event = join(dir, 'event.json');
    writeFileSync(event, JSON.stringify({ pull_request: { number: 12, head: { sha: 'headsha' } } }));
    // @actions/github reads these when it loads (lazily, on the first create()).
    Object.assign(process.env, {
      GITHUB_API_URL: api.url,
      GITHUB_REPOSITORY: 'acme/shop',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: event,
      GITHUB_SHA: 'mergesha',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_RUN_ID: '77',
    });
  });
  afterAll(async () => {
    await api.close();
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const capture = () => {
    output = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      output.push(String(chunk));
      return true;
    });
  };
  const warnings = () => output.filter((line) => line.startsWith('::warning::'));
  const planned = { namespace: 'shop', name: 'web', runId: 'r1', image: 'reg/app@sha256:abc' };

  it('does nothing without a token or with both turned off', async () => {
    expect(await GitHubVisibility.create({ deployment: true, comment: true })).toBeUndefined();
    expect(
      await GitHubVisibility.create({ token: TOKEN, deployment: false, comment: false }),
    ).toBeUndefined();
    expect(api.requests).toHaveLength(0);
  });

  it('creates a deployment, in_progress then success, and one comment a second run updates', async () => {
    capture();
    const report = fixture('promoted');
    const run = async () => {
      const visibility = await GitHubVisibility.create({
        token: TOKEN,
        deployment: true,
        comment: true,
        environmentUrl: 'https://shop.example.com',
      });
      visibility!.start({ ...planned, namespace: report.namespace, name: report.name });
      await visibility!.finish({ report, exitCode: 0 });
    };
    await run();
    expect(warnings()).toEqual([]);
    expect(api.deployments).toHaveLength(1);
    const [deployment] = api.deployments;
    expect(deployment!.owner).toBe('acme');
    expect(deployment!.body).toMatchObject({
      ref: 'headsha',
      environment: report.namespace,
      auto_merge: false,
      required_contexts: [],
      payload: { image: planned.image, digest: 'sha256:abc' },
    });
    expect(deployment!.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    for (const status of deployment!.statuses) {
      expect(status).toMatchObject({
        log_url: 'https://github.com/acme/shop/actions/runs/77',
        environment_url: 'https://shop.example.com',
      });
      expect(String(status.description).length).toBeLessThanOrEqual(MAX_DESCRIPTION);
    }
    expect(api.comments).toHaveLength(1);
    expect(api.comments[0]!.issue).toBe(12);
    for (const request of api.requests) {
      expect(request.authorization).toBe(`token ${TOKEN}`);
      if (request.method !== 'GET') expect(request.contentType).toMatch(/^application\/json/);
    }

    await run();
    expect(api.comments).toHaveLength(1);
    expect(api.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    expect(api.deployments).toHaveLength(2);
  });

  it('a rolled-back rollout ends in failure; a 502 is retried once', async () => {
    capture();
    const report = fixture('rolled-back');
    const visibility = await GitHubVisibility.create({ token: TOKEN, deployment: true, comment: false });
    const before = api.requests.length;
    api.failNext = 1;
    visibility!.start(planned);
    await visibility!.finish({ report, exitCode: 1 });
    expect(warnings()).toEqual([]);
    const deployment = api.deployments.at(-1)!;
    expect(deployment.statuses.map((s) => s.state)).toEqual(['in_progress', 'failure']);
    // create (502), create again, two statuses; no comment.
    expect(api.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /repos/acme/shop/deployments',
      'POST /repos/acme/shop/deployments',
      `POST /repos/acme/shop/deployments/${deployment.id}/statuses`,
      `POST /repos/acme/shop/deployments/${deployment.id}/statuses`,
    ]);
  });

  it('an API answering 500 gives warnings, never an error, and no token in them', async () => {
    capture();
    api.failWith = 500;
    try {
      const visibility = await GitHubVisibility.create({ token: TOKEN, deployment: true, comment: true });
      visibility!.start(planned);
      await expect(visibility!.finish({ report: fixture('promoted'), exitCode: 0 })).resolves.toBeUndefined();
    } finally {
      api.failWith = undefined;
    }
    expect(warnings()).toHaveLength(2);
    expect(warnings()[0]).toMatch(/could not create the GitHub Deployment \(HTTP 500\)/);
    expect(warnings()[1]).toMatch(/could not comment on pull request #12 \(HTTP 500\)/);
    expect(output.join('')).not.toContain(TOKEN);
  });
});
