import { existsSync, readFileSync } from 'node:fs';
import { log } from '../util/log.js';
import { envValue, isoTimestamp } from './env.js';
import { type GitHubEvent, GitHubEventSchema, readGitHubContext } from './github.js';
import { readGitLabContext } from './gitlab.js';
import { type JenkinsContextOptions, readJenkinsContext } from './jenkins.js';
import { gitOutput, readLocalContext, repositoryRoot } from './local.js';
import type { BuildContext, EnvMap, Platform } from './types.js';

// ── The context module's public API ───────────────────────────────────────────────────────────────────────
export { parseRemoteUrl, repositoryName } from './git-url.js';
export {
  createdTimestamp,
  type LabelOptions,
  OCI_LABEL_PREFIX,
  ociLabels,
  parseLabelEntries,
} from './oci-labels.js';
export {
  formatImageReference,
  type ImageReference,
  imageName,
  isValidTag,
  parseImageReference,
  validateTag,
} from './reference.js';
export {
  DEFAULT_FLAVOR,
  DEFAULT_TAG_RULES,
  type Flavor,
  parseFlavor,
  parseTagRule,
  parseTagRules,
  type TagRule,
} from './rules.js';
export {
  computeTags,
  imageRefs,
  LOCAL_FALLBACK_TAG,
  sanitizeTag,
  type TagOptions,
  type TagResult,
} from './tags.js';
export type { BuildContext, EnvMap, Platform, ReadContextOptions, RefType } from './types.js';
export { readGitHubContext, readGitLabContext, readJenkinsContext, readLocalContext, repositoryRoot };

export interface BuildContextOptions extends JenkinsContextOptions {
  /** Forces a platform instead of detecting it from the environment. */
  platform?: Platform;
  /** The directory of the git checkout. Default: the process's working directory. */
  cwd?: string;
  /** Local runs: the run id. Default: `GANTRY_RUN_ID`, else `local-<UTC timestamp>`. */
  runId?: string;
  /**
   * Where the platform does not say when the commit was made (Jenkins; GitHub outside push events), ask the
   * checkout with `git show`, so `created` stays reproducible. Default true.
   */
  readCommitTimestampFromGit?: boolean;
}

/**
 * The CI platform this process runs on: `GITHUB_ACTIONS=true` → github, `GITLAB_CI=true` → gitlab,
 * `JENKINS_URL` set or `BUILD_TAG` starting with `jenkins-` → jenkins, anything else → local.
 */
export function detectPlatform(env: EnvMap): Platform {
  if (envValue(env, 'GITHUB_ACTIONS') === 'true') return 'github';
  if (envValue(env, 'GITLAB_CI') === 'true') return 'gitlab';
  if (envValue(env, 'JENKINS_URL') !== undefined || envValue(env, 'BUILD_TAG')?.startsWith('jenkins-'))
    return 'jenkins';
  return 'local';
}

/**
 * Reads the build context for the platform found in `env` (pass `process.env`; tests pass fixtures).
 *
 * @example
 * const context = await readBuildContext(process.env);
 * const { tags, version } = computeTags(context, { rules: config.tags });
 * const labels = ociLabels(context, { version });
 */
export async function readBuildContext(
  env: EnvMap,
  options: BuildContextOptions = {},
): Promise<BuildContext> {
  const platform = options.platform ?? detectPlatform(env);
  let context: BuildContext;
  switch (platform) {
    case 'github':
      context = readGitHubContext(env, readGitHubEvent(envValue(env, 'GITHUB_EVENT_PATH')), options);
      break;
    case 'gitlab':
      context = readGitLabContext(env, options);
      break;
    case 'jenkins':
      context = readJenkinsContext(env, options);
      break;
    case 'local':
      return readLocalContext(env, { ...options, runId: options.runId ?? localRunId(env) });
  }
  if (context.commitTimestamp === undefined && context.sha && options.readCommitTimestampFromGit !== false) {
    const committed = await gitOutput(
      ['show', '--no-patch', '--format=%cI', context.sha],
      options.cwd ?? process.cwd(),
    );
    const commitTimestamp = isoTimestamp(committed);
    if (commitTimestamp) context = { ...context, commitTimestamp };
  }
  return context;
}

/**
 * Reads the workflow's event payload. A missing, unreadable or unexpected file is not fatal — the environment
 * still describes the run — so it only costs a warning and the payload's extras (PR head SHA, default branch).
 */
export function readGitHubEvent(path: string | undefined): GitHubEvent | undefined {
  if (!path || !existsSync(path)) return undefined;
  try {
    const parsed = GitHubEventSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (parsed.success) return parsed.data;
    log.warn(
      `GITHUB_EVENT_PATH ${path}: unexpected payload (${parsed.error.issues[0]?.message}); ignoring it`,
    );
  } catch (error) {
    log.warn(`GITHUB_EVENT_PATH ${path}: cannot read it (${(error as Error).message}); ignoring it`);
  }
  return undefined;
}

function localRunId(env: EnvMap): string {
  return envValue(env, 'GANTRY_RUN_ID') ?? `local-${new Date().toISOString().replace(/[-:.]/g, '')}`;
}
