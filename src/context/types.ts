/**
 * The build context: what was built, from which commit, on which CI system. Every platform reader produces the
 * same shape, so that tags, labels and rollout state come out identical on GitHub, GitLab, Jenkins and locally.
 */

export const PLATFORMS = ['github', 'gitlab', 'jenkins', 'local'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** What kind of ref triggered the build. `unknown`: a detached HEAD not at a tag, or no git repository. */
export type RefType = 'branch' | 'tag' | 'pr' | 'unknown';

/** An environment map: `process.env` in production, a recorded fixture in tests. */
export type EnvMap = Readonly<Record<string, string | undefined>>;

export interface BuildContext {
  platform: Platform;
  /**
   * The full commit SHA the image is tagged and labelled with. For pull/merge requests this is the **head**
   * commit of the source branch (the commit the author pushed), not the synthetic merge commit some platforms
   * check out; see {@link BuildContext.mergeCommitSha}. Undefined only locally without a git repository.
   */
  sha?: string;
  /**
   * The synthetic merge commit a platform built for a pull/merge request (GitHub `pull_request`, GitLab merged
   * results pipelines), when it differs from {@link BuildContext.sha}.
   */
  mergeCommitSha?: string;
  /** The full ref: `refs/heads/main`, `refs/tags/v1.2.3`, `refs/pull/12/merge`, `refs/merge-requests/12/head`. */
  ref?: string;
  refType: RefType;
  /** The branch built; for a pull/merge request, its source branch. */
  branch?: string;
  tag?: string;
  prNumber?: number;
  /** For a pull/merge request, the branch it targets; for a tag push, the branch the platform reports for it. */
  baseRef?: string;
  defaultBranch?: string;
  /** True when a branch (not a tag or PR) is built and it is the repository's default branch. */
  isDefaultBranch: boolean;
  /**
   * What started the run, in GitHub's vocabulary so rules read the same everywhere: `push`, `pull_request`,
   * `schedule`, `workflow_dispatch` (a manual run), or the platform's own name for anything else.
   */
  eventName?: string;
  /** The platform's own name for the event (`merge_request_event`, `TIMERTRIGGER`, …), for logs. */
  platformEventName?: string;
  /** `owner/name` (GitHub, Jenkins), `group/subgroup/project` (GitLab), or a directory name locally. */
  repository: string;
  /** The repository's web URL, without credentials or `.git`. */
  repositoryUrl?: string;
  /** Identifies this pipeline run on its platform (GitHub run id, GitLab pipeline id, Jenkins BUILD_TAG). */
  runId: string;
  /** The attempt of a re-run (GitHub `GITHUB_RUN_ATTEMPT`), when the platform counts them. */
  runAttempt?: number;
  runUrl?: string;
  actor?: string;
  /** The commit's committer date, ISO 8601 in UTC. */
  commitTimestamp?: string;
  /** `SOURCE_DATE_EPOCH` (seconds), when set: the reproducible-builds timestamp, preferred for `created`. */
  sourceDateEpoch?: number;
  /** Local only: the working tree has uncommitted changes to tracked files, so it is not exactly `sha`. */
  dirty?: boolean;
}

/** Options every reader accepts; the CLI and the platform wrappers fill them from flags and config. */
export interface ReadContextOptions {
  /**
   * The default branch where the platform does not report it (Jenkins, local without `origin/HEAD`, a GitHub
   * event payload without `repository`). Default `main`.
   */
  defaultBranch?: string;
  /**
   * Overrides the detected event. The Jenkins library passes `schedule` when the build cause is a timer, since
   * Jenkins puts no build cause in the environment without the EnvInject plugin.
   */
  eventName?: string;
  /**
   * Which commit stands for a pull/merge request: `head` (default) — the source branch's commit, the same on
   * every platform and present in history; `merge` — the synthetic merge commit where the platform built one
   * (docker/metadata-action's default on GitHub; its `DOCKER_METADATA_PR_HEAD_SHA=true` gives `head`).
   */
  pullRequestSha?: 'head' | 'merge';
}

export const DEFAULT_BRANCH_FALLBACK = 'main';
