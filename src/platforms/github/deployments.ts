/**
 * Where a rollout shows on GitHub (issue 16): a GitHub Deployment of the environment, created when the rollout
 * starts (once pre-flight passed), with the status `in_progress` while it rolls out and `success`, `failure`
 * or `error` at the end; and, when the workflow runs for a pull request, one comment with the rollout summary
 * that later runs of the same rollout update in place (found by a hidden marker). Through @actions/github
 * (Octokit, `GITHUB_API_URL`, the runner's proxy settings) with the step's `github-token`.
 *
 * Every API failure is a warning: the rollout's verdict and the step's exit code never depend on GitHub
 * answering. The token only travels in the `authorization` header and is masked like every input marked secret.
 */
import * as core from '@actions/core';
import type { RolloutReport } from '../../deploy/types.js';
import { markdownCode } from '../../report/format.js';
import { renderRolloutMarkdown, verdictLine } from '../../report/index.js';
import { ExitCode, messageOf, oneLine } from '../../util/errors.js';
import { redact, registerSecret } from '../../util/secrets.js';
import { sleep } from '../../util/sleep.js';
import type { VisibilitySettings } from './visibility-inputs.js';

export { type VisibilitySettings, visibilitySettings } from './visibility-inputs.js';

/** GitHub's limit for a deployment status description. */
export const MAX_DESCRIPTION = 140;
/** GitHub's limit for a comment body. */
export const MAX_COMMENT = 65_536;
/** Attempts per API request: one retry after a 5xx, a 429 or a dropped connection. */
const ATTEMPTS = 2;
const RETRY_DELAY_MS = 1_000;
/** One request never holds the step longer than this (GitHub answers in well under a second). */
const REQUEST_TIMEOUT_MS = 30_000;

/** A description GitHub accepts: one line, at most 140 characters (cut with an ellipsis). */
export function statusDescription(text: string): string {
  const line = oneLine(text);
  return line.length <= MAX_DESCRIPTION ? line : `${line.slice(0, MAX_DESCRIPTION - 1)}…`;
}

/** The final deployment state of a rollout: `success`, `failure` (a gate said no) or `error` (infrastructure). */
export function finalState(exitCode: number): 'success' | 'failure' | 'error' {
  if (exitCode === 0) return 'success';
  return exitCode === ExitCode.gate ? 'failure' : 'error';
}

/** The hidden marker that finds this rollout's comment on a pull request again. */
export function commentMarker(namespace: string, name: string): string {
  // `--` would end the HTML comment early.
  return `<!-- gantry-rollout:${`${namespace}/${name}`.replace(/--/g, '- -')} -->`;
}

/** The run's page: `GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID`. */
export function runUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const { GITHUB_SERVER_URL: server = 'https://github.com', GITHUB_REPOSITORY: repository } = env;
  const runId = env.GITHUB_RUN_ID;
  if (!repository || !runId) return undefined;
  return `${server.replace(/\/+$/, '')}/${repository}/actions/runs/${runId}`;
}

/** The event's pull request number, when the workflow runs for one. */
export function pullRequestNumber(eventName: string | undefined, payload: EventPayload): number | undefined {
  if (eventName !== 'pull_request' && eventName !== 'pull_request_target') return undefined;
  const number = payload.pull_request?.number;
  return typeof number === 'number' && number > 0 ? number : undefined;
}

/** The commit deployed: on a pull request its head commit (where GitHub shows it), else `GITHUB_SHA`. */
export function deploymentRef(
  eventName: string | undefined,
  payload: EventPayload,
  sha: string | undefined,
): string | undefined {
  if (pullRequestNumber(eventName, payload) !== undefined) {
    const head = payload.pull_request?.head?.sha;
    if (typeof head === 'string' && head !== '') return head;
  }
  return sha || undefined;
}

/** The parts of the webhook event payload read here. */
export interface EventPayload {
  pull_request?: { number?: number; head?: { sha?: string } };
  [key: string]: unknown;
}

export interface CommentContext {
  environment: string;
  runUrl?: string;
}

/**
 * The pull-request comment: the hidden marker, a heading naming the rollout, the environment and the run, then
 * the run report as the job summary shows it (GitHub renders its Mermaid timeline in comments too).
 */
export function commentBody(report: RolloutReport, context: CommentContext): string {
  const target = `${report.namespace}/${report.name}`;
  const run = context.runUrl ? ` · [run](${context.runUrl.replace(/[()\s]/g, encodeURIComponent)})` : '';
  const head = [
    commentMarker(report.namespace, report.name),
    `### Gantry rollout of ${markdownCode(target)} to ${markdownCode(context.environment)}${run}`,
    '',
  ].join('\n');
  const foot = `\n<sub>Posted by Gantry for run ${markdownCode(report.runId)}; updated on every run of this rollout.</sub>\n`;
  let body = renderRolloutMarkdown(report, { chart: 'mermaid' }).trimEnd();
  if (head.length + body.length + foot.length > MAX_COMMENT) {
    body = renderRolloutMarkdown(report, { chart: 'none', maxChecksPerMetric: 3 }).trimEnd();
  }
  if (head.length + body.length + foot.length > MAX_COMMENT) {
    body = `${body.slice(0, MAX_COMMENT - head.length - foot.length - 200)}\n\n… (cut: the job summary has the whole report)`;
  }
  return redact(`${head}${body}\n${foot}`);
}

// ---------------------------------------------------------------------------------------------------------
// The API side

type Octokit = ReturnType<typeof import('@actions/github')['getOctokit']>;

interface Target {
  owner: string;
  repo: string;
  ref: string | undefined;
  pullRequest: number | undefined;
  runUrl: string | undefined;
}

/** The rollout as it starts: what `onPlanned` hands over. */
export interface PlannedRollout {
  namespace: string;
  name: string;
  runId: string;
  image: string;
}

/**
 * The GitHub side of one rollout: {@link GitHubVisibility.start} when pre-flight passed, then
 * {@link GitHubVisibility.finish} with the outcome. Neither throws.
 */
export class GitHubVisibility {
  private started: Promise<void> | undefined;
  private deploymentId: number | undefined;
  private environment = '';

  private constructor(
    private readonly octokit: Octokit,
    private readonly target: Target,
    private readonly settings: VisibilitySettings,
  ) {}

  /**
   * Undefined (with an info line saying why) when there is nothing to do: no token, no repository in the
   * event, or both the deployment and the comment turned off.
   */
  static async create(
    settings: VisibilitySettings,
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<GitHubVisibility | undefined> {
    if (!settings.deployment && !settings.comment) return undefined;
    if (!settings.token) {
      core.info('no github-token: no GitHub Deployment and no pull-request comment');
      return undefined;
    }
    const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/');
    if (!owner || !repo) {
      core.info('no GITHUB_REPOSITORY: no GitHub Deployment and no pull-request comment');
      return undefined;
    }
    registerSecret(settings.token);
    // Octokit and its HTTP stack load only when a rollout is made visible on GitHub.
    const github = await import('@actions/github');
    const payload = github.context.payload as EventPayload;
    const octokit = github.getOctokit(settings.token);
    octokit.hook.wrap('request', retrying);
    return new GitHubVisibility(
      octokit,
      {
        owner,
        repo,
        ref: deploymentRef(github.context.eventName, payload, env.GITHUB_SHA),
        pullRequest: pullRequestNumber(github.context.eventName, payload),
        runUrl: runUrl(env),
      },
      settings,
    );
  }

  /**
   * The rollout starts: the deployment and its `in_progress` status, while the rollout goes on. `created`
   * hears the deployment's id (the post step sets its status when the runner killed this step).
   */
  start(rollout: PlannedRollout, created?: (deployment: { id: number; environment: string }) => void): void {
    this.environment = this.settings.environment ?? rollout.namespace;
    if (!this.settings.deployment) return;
    this.started = this.createDeployment(rollout, created).catch((error) =>
      warn('could not create the GitHub Deployment', error),
    );
  }

  /** The rollout ended (`report`, `exitCode`) or failed without a report (`error`). */
  async finish(outcome: { report?: RolloutReport; exitCode: number; error?: unknown }): Promise<void> {
    await this.started;
    if (this.deploymentId !== undefined) {
      const state = finalState(outcome.exitCode);
      const text = outcome.report
        ? verdictLine(outcome.report)
        : `rollout failed: ${messageOf(outcome.error)}`;
      await this.status(state, text).catch((error) =>
        warn(`could not set the GitHub Deployment status to ${state}`, error),
      );
    }
    if (this.settings.comment && this.target.pullRequest !== undefined && outcome.report) {
      await this.comment(outcome.report).catch((error) =>
        warn(`could not comment on pull request #${this.target.pullRequest}`, error),
      );
    }
  }

  /** The post step: the deployment of a main step the runner killed ends in `error`. Never throws. */
  async abandoned(deployment: { id: number; environment: string }, text: string): Promise<void> {
    if (!this.settings.deployment) return;
    this.deploymentId = deployment.id;
    this.environment = deployment.environment;
    await this.status('error', text).catch((error) =>
      warn('could not set the GitHub Deployment status to error', error),
    );
  }

  private async createDeployment(
    rollout: PlannedRollout,
    created?: (deployment: { id: number; environment: string }) => void,
  ): Promise<void> {
    const { owner, repo, ref } = this.target;
    if (!ref) {
      core.info('no commit sha (GITHUB_SHA): no GitHub Deployment');
      return;
    }
    const digest = rollout.image.includes('@') ? rollout.image.slice(rollout.image.indexOf('@') + 1) : '';
    const response = await this.octokit.rest.repos.createDeployment({
      owner,
      repo,
      ref,
      environment: this.environment,
      auto_merge: false,
      required_contexts: [],
      description: statusDescription(`Gantry: ${rollout.image} to ${rollout.namespace}/${rollout.name}`),
      payload: {
        image: rollout.image,
        digest,
        namespace: rollout.namespace,
        name: rollout.name,
        run: rollout.runId,
      },
    });
    const id = (response.data as { id?: unknown }).id;
    if (typeof id !== 'number') {
      throw new Error(`GitHub answered HTTP ${response.status} without a deployment id`);
    }
    this.deploymentId = id;
    created?.({ id, environment: this.environment });
    core.info(`GitHub Deployment ${id} of ${ref.slice(0, 12)} to environment ${this.environment}`);
    await this.status(
      'in_progress',
      `Rolling out ${rollout.image} to ${rollout.namespace}/${rollout.name}`,
    ).catch((error) => warn('could not set the GitHub Deployment status to in_progress', error));
  }

  private async status(state: 'in_progress' | 'success' | 'failure' | 'error', text: string): Promise<void> {
    const { owner, repo, runUrl: logUrl } = this.target;
    await this.octokit.rest.repos.createDeploymentStatus({
      owner,
      repo,
      deployment_id: this.deploymentId!,
      state,
      environment: this.environment,
      description: statusDescription(redact(text)),
      ...(logUrl ? { log_url: logUrl } : {}),
      ...(this.settings.environmentUrl ? { environment_url: this.settings.environmentUrl } : {}),
    });
  }

  private async comment(report: RolloutReport): Promise<void> {
    const { owner, repo, pullRequest: issue_number } = this.target;
    const body = commentBody(report, {
      environment: this.environment || report.namespace,
      ...(this.target.runUrl ? { runUrl: this.target.runUrl } : {}),
    });
    const marker = commentMarker(report.namespace, report.name);
    const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, {
      owner,
      repo,
      issue_number: issue_number!,
      per_page: 100,
    });
    const previous = comments.find((c) => c.body?.includes(marker));
    if (previous) {
      await this.octokit.rest.issues.updateComment({ owner, repo, comment_id: previous.id, body });
      core.info(`updated the rollout comment on pull request #${issue_number}`);
    } else {
      await this.octokit.rest.issues.createComment({ owner, repo, issue_number: issue_number!, body });
      core.info(`commented the rollout on pull request #${issue_number}`);
    }
  }
}

/** Retries a request once after a 5xx, a 429 or a dropped connection; bounds each attempt. */
async function retrying<O extends { request?: object }, R>(
  request: (options: O) => R | Promise<R>,
  options: O,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request({
        ...options,
        request: { ...options.request, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
      });
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      const retriable = typeof status !== 'number' || status >= 500 || status === 429;
      if (!retriable || attempt >= ATTEMPTS) throw error;
      await sleep(RETRY_DELAY_MS * attempt);
    }
  }
}

/** A failed API call: one warning, the HTTP status when there is one, the token never. */
function warn(what: string, error: unknown): void {
  const status = (error as { status?: unknown }).status;
  const http = typeof status === 'number' ? ` (HTTP ${status})` : '';
  core.warning(redact(oneLine(`${what}${http}: ${messageOf(error)}; the rollout's verdict is unchanged`)));
}
