import { basename } from 'node:path';
import { InfraError } from '../util/errors.js';
import { run } from '../util/exec.js';
import { log } from '../util/log.js';
import { commitSha, envValue, isoTimestamp, sourceDateEpoch, withoutUndefined } from './env.js';
import { parseRemoteUrl } from './git-url.js';
import { isDefaultBranchBuild, type RefFields, refFields, tagFields } from './refs.js';
import { type BuildContext, DEFAULT_BRANCH_FALLBACK, type EnvMap, type ReadContextOptions } from './types.js';

export interface LocalContextOptions extends ReadContextOptions {
  /** The working directory whose git repository is read. Default: the process's. */
  cwd?: string;
  /** Identifies this run; the caller generates one (`local-<time>`) when it has none. */
  runId: string;
}

/**
 * Reads the context of a run outside the three CI platforms from the git repository in `cwd`.
 *
 * - On a branch: a branch build. Detached at a tag (`git checkout v1.2.3`): a tag build. Detached elsewhere:
 *   `unknown`, so only commit-based rules (`type=sha`) produce tags.
 * - The default branch is `origin/HEAD` when the clone knows it, else `options.defaultBranch`, else `main`.
 * - Uncommitted changes to tracked files set `dirty`, and the sha tag rule then marks its tag `-dirty`: an
 *   image built from a modified tree must not claim to be exactly that commit.
 * - Without git or outside a repository there is no sha and no ref: the default rules produce no tag at all
 *   and `computeTags` falls back to `dev` (never `latest`, which a developer's machine must not overwrite).
 */
export async function readLocalContext(env: EnvMap, options: LocalContextOptions): Promise<BuildContext> {
  const cwd = options.cwd ?? process.cwd();
  const base = {
    platform: 'local' as const,
    runId: options.runId,
    actor: envValue(env, 'USER') ?? envValue(env, 'USERNAME'),
    eventName: options.eventName,
    sourceDateEpoch: sourceDateEpoch(env),
  };
  const topLevel = await gitOutput(['rev-parse', '--show-toplevel'], cwd);
  if (topLevel === undefined) {
    const defaultBranch = options.defaultBranch ?? DEFAULT_BRANCH_FALLBACK;
    return withoutUndefined({
      ...base,
      refType: 'unknown' as const,
      defaultBranch,
      isDefaultBranch: false,
      repository: basename(cwd),
    });
  }

  const [head, symbolicRef, exactTag, remoteUrl, committed, originHead, status] = await Promise.all([
    gitOutput(['rev-parse', '--verify', '--quiet', 'HEAD'], cwd),
    gitOutput(['symbolic-ref', '--quiet', 'HEAD'], cwd),
    gitOutput(['describe', '--tags', '--exact-match', 'HEAD'], cwd),
    gitOutput(['config', '--get', 'remote.origin.url'], cwd),
    gitOutput(['show', '--no-patch', '--format=%cI', 'HEAD'], cwd),
    gitOutput(['symbolic-ref', '--quiet', 'refs/remotes/origin/HEAD'], cwd),
    gitOutput(['status', '--porcelain', '--untracked-files=no'], cwd),
  ]);
  const sha = head ? commitSha(head, 'git rev-parse HEAD') : undefined;
  // A branch without commits yet still has a symbolic ref; it is not yet something to build.
  const refs: RefFields =
    symbolicRef && sha ? refFields(symbolicRef) : exactTag ? tagFields(exactTag) : { refType: 'unknown' };
  const remote = parseRemoteUrl(remoteUrl);
  const defaultBranch =
    originHead?.replace(/^refs\/remotes\/origin\//, '') ?? options.defaultBranch ?? DEFAULT_BRANCH_FALLBACK;
  return withoutUndefined({
    ...base,
    sha,
    ...refs,
    defaultBranch,
    isDefaultBranch: isDefaultBranchBuild({ ...refs, defaultBranch }),
    repository: remote?.repository ?? basename(topLevel),
    repositoryUrl: remote?.webUrl,
    commitTimestamp: isoTimestamp(committed),
    dirty: sha ? status !== undefined && status !== '' : undefined,
  });
}

/** Runs one read-only git command; its trimmed stdout, or undefined when it fails or git is missing. */
export async function gitOutput(args: readonly string[], cwd: string): Promise<string | undefined> {
  try {
    const result = await run('git', args, {
      cwd,
      allowFailure: true,
      timeoutMs: 30_000,
      // Reading must never take the index lock another git process (an IDE, a hook) may hold.
      env: { GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' },
    });
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  } catch (error) {
    if (!(error instanceof InfraError)) throw error;
    log.warn(`cannot read the git repository (${error.message}); continuing without commit information`);
    return undefined;
  }
}

/** The top level of the git checkout `cwd` is in; undefined outside a repository or without git. */
export async function repositoryRoot(cwd: string): Promise<string | undefined> {
  return gitOutput(['rev-parse', '--show-toplevel'], cwd);
}
