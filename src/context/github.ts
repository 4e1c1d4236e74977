import { z } from 'zod';
import {
  commitSha,
  envValue,
  isoTimestamp,
  positiveInteger,
  requiredEnvValue,
  sourceDateEpoch,
  withoutUndefined,
} from './env.js';
import { isDefaultBranchBuild, type RefFields, refFields, withoutBranchPrefix } from './refs.js';
import { type BuildContext, DEFAULT_BRANCH_FALLBACK, type EnvMap, type ReadContextOptions } from './types.js';

/**
 * The few fields of the workflow's event payload (the JSON file at `GITHUB_EVENT_PATH`) that the environment
 * lacks. Everything is optional: payloads differ per event, and a missing field only costs a fallback.
 */
export const GitHubEventSchema = z.looseObject({
  number: z.number().int().positive().nullish(),
  base_ref: z.string().nullish(),
  head_commit: z.looseObject({ timestamp: z.string().nullish() }).nullish(),
  pull_request: z
    .looseObject({
      number: z.number().int().positive().nullish(),
      head: z.looseObject({ sha: z.string().nullish(), ref: z.string().nullish() }).nullish(),
      base: z.looseObject({ ref: z.string().nullish() }).nullish(),
    })
    .nullish(),
  repository: z.looseObject({ default_branch: z.string().nullish() }).nullish(),
});
export type GitHubEvent = z.infer<typeof GitHubEventSchema>;

const PULL_REF = /^refs\/pull\/(\d+)\/(?:merge|head)$/;

/**
 * Reads the context of a GitHub Actions run from its default environment variables and event payload.
 *
 * For pull requests GitHub checks out (and sets `GITHUB_SHA` to) a synthetic merge commit; Gantry tags and
 * labels the PR's head commit instead (`pullRequestSha: 'head'`, the default), because that commit exists in
 * history and is what GitLab and Jenkins report for the same PR. The merge commit is kept in `mergeCommitSha`.
 *
 * @param event the parsed event payload, or undefined when `GITHUB_EVENT_PATH` is unset or unreadable.
 */
export function readGitHubContext(
  env: EnvMap,
  event: GitHubEvent | undefined,
  options: ReadContextOptions = {},
): BuildContext {
  const workflowSha = commitSha(requiredEnvValue(env, 'GITHUB_SHA', 'GitHub Actions'), 'GITHUB_SHA');
  const repository = requiredEnvValue(env, 'GITHUB_REPOSITORY', 'GitHub Actions');
  const runId = requiredEnvValue(env, 'GITHUB_RUN_ID', 'GitHub Actions');
  const serverUrl = (envValue(env, 'GITHUB_SERVER_URL') ?? 'https://github.com').replace(/\/+$/, '');
  const platformEventName = envValue(env, 'GITHUB_EVENT_NAME');
  const eventName = options.eventName ?? platformEventName;
  const githubRef = envValue(env, 'GITHUB_REF');

  const prNumber =
    event?.pull_request?.number ??
    (eventName?.startsWith('pull_request') ? event?.number : undefined) ??
    positiveInteger(PULL_REF.exec(githubRef ?? '')?.[1]);

  let refs: RefFields;
  let sha = workflowSha;
  let mergeCommitSha: string | undefined;
  let baseRef: string | undefined;
  if (prNumber !== undefined) {
    // pull_request_target runs on the base branch's ref; the PR's own ref is still the meaningful one.
    const ref = PULL_REF.test(githubRef ?? '') ? githubRef : `refs/pull/${prNumber}/head`;
    const branch = envValue(env, 'GITHUB_HEAD_REF') ?? event?.pull_request?.head?.ref ?? undefined;
    refs = { ref, refType: 'pr', branch };
    baseRef = envValue(env, 'GITHUB_BASE_REF') ?? event?.pull_request?.base?.ref ?? undefined;
    const headSha = event?.pull_request?.head?.sha;
    if ((options.pullRequestSha ?? 'head') === 'head' && headSha) {
      sha = commitSha(headSha, 'GITHUB_EVENT_PATH pull_request.head.sha');
      if (sha !== workflowSha) mergeCommitSha = workflowSha;
    }
  } else {
    refs = refFields(githubRef);
    if (refs.refType === 'tag' && event?.base_ref) baseRef = withoutBranchPrefix(event.base_ref);
  }

  // Scheduled workflows always run on the default branch, whose name the schedule payload does not carry.
  const defaultBranch =
    event?.repository?.default_branch ??
    (eventName === 'schedule' && refs.branch ? refs.branch : undefined) ??
    options.defaultBranch ??
    DEFAULT_BRANCH_FALLBACK;
  const runAttempt = positiveInteger(envValue(env, 'GITHUB_RUN_ATTEMPT'));
  const attemptPath = runAttempt && runAttempt > 1 ? `/attempts/${runAttempt}` : '';
  return withoutUndefined({
    platform: 'github' as const,
    sha,
    mergeCommitSha,
    ...refs,
    prNumber,
    baseRef,
    defaultBranch,
    isDefaultBranch: isDefaultBranchBuild({ ...refs, defaultBranch }),
    eventName,
    platformEventName,
    repository,
    repositoryUrl: `${serverUrl}/${repository}`,
    runId,
    runAttempt,
    runUrl: `${serverUrl}/${repository}/actions/runs/${runId}${attemptPath}`,
    actor: envValue(env, 'GITHUB_TRIGGERING_ACTOR') ?? envValue(env, 'GITHUB_ACTOR'),
    commitTimestamp: isoTimestamp(event?.head_commit?.timestamp ?? undefined),
    sourceDateEpoch: sourceDateEpoch(env),
  });
}
