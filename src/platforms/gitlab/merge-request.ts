/**
 * The rollout summary as a merge-request note (@gitbeaker/rest). GitLab renders Mermaid in notes but cannot
 * inline an SVG, so the note carries the Mermaid timeline (DESIGN.md, "Visible"), and links the report's files
 * (the SVG too) where the job's artifacts keep them. The environment's deployment is GitLab's own: the deploy
 * job has `environment:`, so GitLab records it and sets its status from the job's exit code (its API refuses to
 * update a deployment a job created); the note only says which status that is.
 */
import type { RolloutReport } from '../../deploy/types.js';
import { escapeMarkdown, markdownCode } from '../../report/format.js';
import { renderRolloutMarkdown } from '../../report/index.js';
import { InfraError, messageOf } from '../../util/errors.js';
import { redact, registerSecret } from '../../util/secrets.js';
import type { Env } from './inputs.js';

export interface MergeRequestNoteOptions {
  /** The GitLab instance, e.g. `https://gitlab.example.com` (`CI_SERVER_URL`). */
  host: string;
  /** Numeric id or `group/project` path (`CI_PROJECT_ID`). */
  projectId: string | number;
  /** The merge request's IID within the project (`CI_MERGE_REQUEST_IID`). */
  mrIid: number;
  /** A token allowed to comment (project or personal access token, `api` scope). Never logged. */
  token: string;
  body: string;
}

/** Where a note goes, read from a merge-request pipeline's predefined variables; undefined elsewhere. */
export function mergeRequestTarget(env: Env): { host: string; projectId: string; mrIid: number } | undefined {
  const mrIid = Number(env.CI_MERGE_REQUEST_IID);
  const projectId = env.CI_PROJECT_ID;
  const host = env.CI_SERVER_URL;
  if (!Number.isInteger(mrIid) || mrIid <= 0 || !projectId || !host) return undefined;
  return { host, projectId, mrIid };
}

export interface NoteContext {
  /** A link back to the job that ran the rollout (`CI_JOB_URL`); also the base of the report's artifact links. */
  jobUrl?: string;
  /** The GitLab environment the job deployed to (`CI_ENVIRONMENT_NAME`). */
  environment?: string;
  /** The environment's URL (`CI_ENVIRONMENT_URL`). */
  environmentUrl?: string;
  /**
   * The run report's files as the job keeps them in its artifacts, relative to the project directory
   * (e.g. `gantry-rollout/rollout.md`): linked as `<jobUrl>/artifacts/file/<path>` when `jobUrl` is known.
   */
  reportFiles?: readonly string[];
  /** The exit code the job ends with, which GitLab's deployment status follows. */
  exitCode?: number;
}

/**
 * The status GitLab gives the deployment of a job with `environment:`: it follows the job's result (exit 0 is
 * success, anything else failed). Without the exit code, the verdict's: the deploy job exits 0 only when the
 * rollout was promoted (a rollback exits 1, a failure 3 or 4).
 */
export function deploymentStatus(
  report: Pick<RolloutReport, 'verdict'>,
  exitCode?: number,
): 'success' | 'failed' {
  if (exitCode !== undefined) return exitCode === 0 ? 'success' : 'failed';
  return report.verdict === 'promoted' ? 'success' : 'failed';
}

/** A URL that stays one link target in Markdown: what would end `(url)` or split it is percent-encoded. */
export function markdownUrl(url: string): string {
  return url.replace(
    /[()\s<>[\]]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/**
 * Where GitLab shows one file of a job's artifacts (the artifacts browser's file view, the link the
 * merge-request widget uses for `artifacts:expose_as`): `<job URL>/artifacts/file/<path>`, each segment escaped.
 */
export function artifactFileUrl(jobUrl: string, path: string): string {
  const segments = path
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .map((segment) =>
      markdownUrl(encodeURIComponent(segment)).replace(
        /[!'*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    );
  return `${markdownUrl(jobUrl.replace(/\/+$/, ''))}/artifacts/file/${segments.join('/')}`;
}

/**
 * The note: a heading naming the rollout (and a hidden marker, so a later run or a bot can find it), the
 * environment's deployment status and the report's files as job-artifact links, then the run report as
 * `renderRolloutMarkdown` draws it with a Mermaid timeline.
 *
 * @example
 * ```ts
 * const body = mergeRequestNoteBody(report, { jobUrl: env.CI_JOB_URL, environment: 'production' });
 * ```
 */
export function mergeRequestNoteBody(report: RolloutReport, context: NoteContext = {}): string {
  const target = `${report.namespace}/${report.name}`;
  const where = context.environment ? ` to ${markdownCode(context.environment)}` : '';
  const job = context.jobUrl ? ` · [job log](${markdownUrl(context.jobUrl)})` : '';
  const facts: string[] = [];
  if (context.environment) {
    const open = context.environmentUrl ? ` · [open](${markdownUrl(context.environmentUrl)})` : '';
    facts.push(
      `Environment ${markdownCode(context.environment)}${open} · deployment **${deploymentStatus(report, context.exitCode)}**`,
    );
  }
  const files = context.jobUrl ? (context.reportFiles ?? []) : [];
  if (files.length > 0) {
    const links = files.map(
      (file) =>
        `[${escapeMarkdown(file.split('/').at(-1) ?? file)}](${artifactFileUrl(context.jobUrl!, file)})`,
    );
    facts.push(`Report (job artifacts): ${links.join(' · ')}`);
  }
  return [
    `<!-- gantry-rollout ${target.replace(/--/g, '- -')} -->`,
    `### Gantry rollout of ${markdownCode(target)}${where}${job}`,
    '',
    ...facts.flatMap((fact) => [fact, '']),
    renderRolloutMarkdown(report, { chart: 'mermaid' }).trimEnd(),
    '',
    `<sub>${escapeMarkdown(`Posted by Gantry for run ${report.runId}.`)}</sub>`,
    '',
  ].join('\n');
}

/**
 * Posts `body` as a note on the merge request. The token only travels in the `PRIVATE-TOKEN` header and is
 * registered as a secret first, so no error message or log line can show it.
 */
export async function postMergeRequestNote(options: MergeRequestNoteOptions): Promise<{ id: number }> {
  registerSecret(options.token);
  // @gitbeaker/rest is most of gantry-gitlab's bundle and only merge-request pipelines post a note: load it here.
  const { MergeRequestNotes } = await import('@gitbeaker/rest');
  const notes = new MergeRequestNotes({ host: options.host, token: options.token });
  try {
    const note = await notes.create(options.projectId, options.mrIid, options.body);
    return { id: note.id };
  } catch (error) {
    const status = (error as { cause?: { response?: { status?: number } } }).cause?.response?.status;
    throw new InfraError(
      redact(
        `merge request note on !${options.mrIid} failed${status ? ` (HTTP ${status})` : ''}: ${messageOf(error)}`,
      ),
      { cause: error },
    );
  }
}
