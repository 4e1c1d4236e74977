import {
  commitSha,
  envValue,
  firstEnvValue,
  isoTimestamp,
  positiveInteger,
  requiredEnvValue,
  sourceDateEpoch,
  withoutUndefined,
} from './env.js';
import { branchFields, isDefaultBranchBuild, type RefFields, tagFields } from './refs.js';
import { type BuildContext, DEFAULT_BRANCH_FALLBACK, type EnvMap, type ReadContextOptions } from './types.js';

/** `CI_PIPELINE_SOURCE` values that have a GitHub-named equivalent; the others pass through unchanged. */
const PIPELINE_SOURCE_EVENTS: Record<string, string> = {
  push: 'push',
  merge_request_event: 'pull_request',
  external_pull_request_event: 'pull_request',
  schedule: 'schedule',
  web: 'workflow_dispatch',
};

/**
 * Reads the context of a GitLab CI job from its predefined variables.
 *
 * Merge request pipelines report the MR's IID as `prNumber`. In merged results pipelines and merge trains
 * `CI_COMMIT_SHA` is a merge commit; the source branch's head (`CI_MERGE_REQUEST_SOURCE_BRANCH_SHA`) becomes
 * `sha`, unless `pullRequestSha: 'merge'`. External pull request pipelines (GitHub repositories run on GitLab CI)
 * are read the same way from their `CI_EXTERNAL_PULL_REQUEST_*` variables.
 */
export function readGitLabContext(env: EnvMap, options: ReadContextOptions = {}): BuildContext {
  const pipelineSha = commitSha(requiredEnvValue(env, 'CI_COMMIT_SHA', 'GitLab CI'), 'CI_COMMIT_SHA');
  const repository = requiredEnvValue(env, 'CI_PROJECT_PATH', 'GitLab CI');
  const runId = requiredEnvValue(env, 'CI_PIPELINE_ID', 'GitLab CI');
  const platformEventName = envValue(env, 'CI_PIPELINE_SOURCE');
  const eventName =
    options.eventName ??
    (platformEventName && (PIPELINE_SOURCE_EVENTS[platformEventName] ?? platformEventName));

  const mergeRequestIid = positiveInteger(envValue(env, 'CI_MERGE_REQUEST_IID'));
  const externalPullRequestIid = positiveInteger(envValue(env, 'CI_EXTERNAL_PULL_REQUEST_IID'));
  const prNumber = mergeRequestIid ?? externalPullRequestIid;

  let refs: RefFields;
  let sha = pipelineSha;
  let mergeCommitSha: string | undefined;
  let baseRef: string | undefined;
  let commitTimestamp = isoTimestamp(envValue(env, 'CI_COMMIT_TIMESTAMP'));
  if (prNumber !== undefined) {
    const prefix = mergeRequestIid !== undefined ? 'CI_MERGE_REQUEST' : 'CI_EXTERNAL_PULL_REQUEST';
    const defaultRef =
      mergeRequestIid !== undefined ? `refs/merge-requests/${prNumber}/head` : `refs/pull/${prNumber}/head`;
    refs = {
      ref: envValue(env, 'CI_MERGE_REQUEST_REF_PATH') ?? defaultRef,
      refType: 'pr',
      branch: envValue(env, `${prefix}_SOURCE_BRANCH_NAME`),
    };
    baseRef = envValue(env, `${prefix}_TARGET_BRANCH_NAME`);
    const sourceSha = envValue(env, `${prefix}_SOURCE_BRANCH_SHA`);
    if ((options.pullRequestSha ?? 'head') === 'head' && sourceSha) {
      sha = commitSha(sourceSha, `${prefix}_SOURCE_BRANCH_SHA`);
      if (sha !== pipelineSha) {
        mergeCommitSha = pipelineSha;
        // CI_COMMIT_TIMESTAMP then dates the merge commit, not the head commit now in `sha`.
        commitTimestamp = undefined;
      }
    }
  } else {
    const tag = envValue(env, 'CI_COMMIT_TAG');
    // CI_COMMIT_BRANCH is unset in tag and MR pipelines; CI_COMMIT_REF_NAME covers GitLab before 12.6.
    const branch = firstEnvValue(env, 'CI_COMMIT_BRANCH', 'CI_COMMIT_REF_NAME');
    refs = tag ? tagFields(tag) : branch ? branchFields(branch) : { refType: 'unknown' };
  }

  const defaultBranch =
    envValue(env, 'CI_DEFAULT_BRANCH') ?? options.defaultBranch ?? DEFAULT_BRANCH_FALLBACK;
  const serverUrl = envValue(env, 'CI_SERVER_URL') ?? 'https://gitlab.com';
  return withoutUndefined({
    platform: 'gitlab' as const,
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
    repositoryUrl: envValue(env, 'CI_PROJECT_URL') ?? `${serverUrl.replace(/\/+$/, '')}/${repository}`,
    runId,
    runUrl: firstEnvValue(env, 'CI_JOB_URL', 'CI_PIPELINE_URL'),
    actor: envValue(env, 'GITLAB_USER_LOGIN'),
    commitTimestamp,
    sourceDateEpoch: sourceDateEpoch(env),
  });
}
