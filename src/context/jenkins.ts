import {
  commitSha,
  envValue,
  positiveInteger,
  requiredEnvValue,
  sourceDateEpoch,
  withoutUndefined,
} from './env.js';
import { parseRemoteUrl } from './git-url.js';
import { branchFields, isDefaultBranchBuild, type RefFields, TAG_REF_PREFIX, tagFields } from './refs.js';
import { type BuildContext, DEFAULT_BRANCH_FALLBACK, type EnvMap, type ReadContextOptions } from './types.js';

export interface JenkinsContextOptions extends ReadContextOptions {
  /** The git remote name the git plugin prefixes `GIT_BRANCH` with (`origin/main`). Default `origin`. */
  remoteName?: string;
}

/** EnvInject's `BUILD_CAUSE` values that have a GitHub-named equivalent. */
const BUILD_CAUSE_EVENTS: Record<string, string> = {
  TIMERTRIGGER: 'schedule',
  MANUALTRIGGER: 'workflow_dispatch',
  SCMTRIGGER: 'push',
};

/**
 * Reads the context of a Jenkins build from the variables of the git plugin (`GIT_COMMIT`, `GIT_BRANCH`,
 * `GIT_URL`) and of multibranch projects (`BRANCH_NAME`, `TAG_NAME`, `CHANGE_*`, `BRANCH_IS_PRIMARY`).
 *
 * Jenkins does not export the repository's default branch: it is the branch being built when
 * `BRANCH_IS_PRIMARY=true`, otherwise `options.defaultBranch` (default `main`). Nor does it export why the
 * build ran: EnvInject's `BUILD_CAUSE` is used when present, `options.eventName` (the Gantry library passes it
 * from `currentBuild.getBuildCauses()`) wins, and otherwise a non-PR build counts as a `push`.
 *
 * For a PR built with the "merge with target branch" strategy, `GIT_COMMIT` is the merge commit and the head
 * commit is not in the environment; use the "current pull request revision" strategy for head-commit tags
 * that match GitHub's and GitLab's.
 */
export function readJenkinsContext(env: EnvMap, options: JenkinsContextOptions = {}): BuildContext {
  const sha = commitSha(
    requiredEnvValue(env, 'GIT_COMMIT', 'the Jenkins git plugin (checkout scm)'),
    'GIT_COMMIT',
  );
  const changeId = envValue(env, 'CHANGE_ID');
  const prNumber = positiveInteger(changeId);
  const remote = parseRemoteUrl(envValue(env, 'GIT_URL'));

  let refs: RefFields;
  let baseRef: string | undefined;
  if (changeId !== undefined) {
    refs = { ref: `refs/pull/${changeId}/head`, refType: 'pr', branch: envValue(env, 'CHANGE_BRANCH') };
    baseRef = envValue(env, 'CHANGE_TARGET');
  } else {
    const tag = envValue(env, 'TAG_NAME');
    refs = tag ? tagFields(tag) : refFromBranchVariables(env, options.remoteName ?? 'origin');
  }

  const primaryBranch = envValue(env, 'BRANCH_IS_PRIMARY') === 'true' ? refs.branch : undefined;
  const defaultBranch = primaryBranch ?? options.defaultBranch ?? DEFAULT_BRANCH_FALLBACK;
  const buildCause = envValue(env, 'BUILD_CAUSE');
  const causeEvent = buildCause
    ?.split(',')
    .map((cause) => BUILD_CAUSE_EVENTS[cause.trim()])
    .find(Boolean);
  const eventName = options.eventName ?? (changeId !== undefined ? 'pull_request' : (causeEvent ?? 'push'));
  const jobName = envValue(env, 'JOB_NAME');
  const buildNumber = envValue(env, 'BUILD_NUMBER');
  const runId =
    envValue(env, 'BUILD_TAG') ??
    (jobName && buildNumber ? `jenkins-${jobName.replaceAll('/', '-')}-${buildNumber}` : undefined) ??
    requiredEnvValue(env, 'BUILD_TAG', 'Jenkins');
  return withoutUndefined({
    platform: 'jenkins' as const,
    sha,
    ...refs,
    prNumber,
    baseRef,
    defaultBranch,
    isDefaultBranch: isDefaultBranchBuild({ ...refs, defaultBranch }),
    eventName,
    platformEventName: buildCause,
    repository:
      remote?.repository ?? repositoryFromJobName(jobName, envValue(env, 'BRANCH_NAME')) ?? 'unknown',
    repositoryUrl: remote?.webUrl,
    runId,
    runUrl: envValue(env, 'BUILD_URL'),
    actor: envValue(env, 'BUILD_USER_ID') ?? envValue(env, 'CHANGE_AUTHOR'),
    sourceDateEpoch: sourceDateEpoch(env),
  });
}

/**
 * The branch from `BRANCH_NAME` (multibranch), `GIT_LOCAL_BRANCH` (git plugin's "check out to local branch")
 * or `GIT_BRANCH`, which the git plugin reports as `<remote>/<branch>` or as a full ref.
 */
function refFromBranchVariables(env: EnvMap, remoteName: string): RefFields {
  const name = envValue(env, 'BRANCH_NAME') ?? envValue(env, 'GIT_LOCAL_BRANCH');
  if (name) return branchFields(name);
  const gitBranch = envValue(env, 'GIT_BRANCH');
  if (!gitBranch || gitBranch === 'detached') return { refType: 'unknown' };
  if (gitBranch.startsWith(TAG_REF_PREFIX)) return tagFields(gitBranch.slice(TAG_REF_PREFIX.length));
  const branch = gitBranch
    .replace(/^refs\/heads\//, '')
    .replace(/^(?:refs\/)?remotes\//, '')
    .replace(new RegExp(`^${escapeRegExp(remoteName)}/`), '');
  return branch ? branchFields(branch) : { refType: 'unknown' };
}

/** A multibranch job is named `<folder>/<project>/<branch>`; the project path is the repository's best name. */
function repositoryFromJobName(
  jobName: string | undefined,
  branchName: string | undefined,
): string | undefined {
  if (!jobName) return undefined;
  const segments = jobName.split('/');
  return branchName && segments.length > 1 ? segments.slice(0, -1).join('/') : jobName;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
