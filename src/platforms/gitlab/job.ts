/**
 * One GitLab job: inputs → `gantry <command> --json` → result file, dotenv report, merge-request note.
 * The templates' `script:` is this one step, so that no input value is ever read by a shell.
 */
import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { CommandName } from '../../config/options.js';
import type { RolloutReport } from '../../deploy/types.js';
import { ExitCode, GantryError, messageOf } from '../../util/errors.js';
import { redact, registerSecret } from '../../util/secrets.js';
import { displayCommand, type Env, gantryArgs, inputVariable } from './inputs.js';
import { mergeRequestNoteBody, mergeRequestTarget, postMergeRequestNote } from './merge-request.js';
import { outputsFor, renderDotenv } from './outputs.js';

/** `gantry-build.json`: the command's JSON result, kept as an artifact. */
export const resultFile = (command: CommandName) => `gantry-${command}.json`;
/** `gantry-build.env`: the `reports: dotenv` file. */
export const dotenvFile = (command: CommandName) => `gantry-${command}.env`;

export interface JobOptions {
  env: Env;
  /** Where the job runs (`CI_PROJECT_DIR`); result and dotenv files are written here. */
  cwd: string;
  /** The CLI to run; default `gantry` from PATH (the tool image, or a runner with gantry installed). */
  gantry?: string;
  /** Where progress lines go (default stderr). */
  write?: (line: string) => void;
}

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** Runs gantry with stdout captured and stderr streamed; a cancelled job's signal is passed on, not obeyed. */
function runGantry(
  file: string,
  args: string[],
  options: JobOptions,
): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    // gantry has no use for the merge-request token, so it does not get it.
    const env = { ...options.env, [inputVariable('gitlab-token')]: undefined };
    const child = spawn(file, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    // GitLab cancels a job with SIGTERM: gantry deploy aborts and rolls back on it, so the wrapper forwards it
    // and waits for gantry to finish instead of dying first and orphaning the rollout.
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const signal of SIGNALS) process.on(signal, forward);
    const done = () => {
      for (const signal of SIGNALS) process.off(signal, forward);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      done();
      reject(
        error.code === 'ENOENT'
          ? new GantryError(
              `"${file}" is not on PATH: run the job in the tool image (input gantry-image) or install gantry on the runner`,
              ExitCode.infra,
            )
          : error,
      );
    });
    child.on('close', (code, signal) => {
      done();
      const stdout = Buffer.concat(chunks).toString('utf8');
      resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15), stdout });
    });
  });
}

function parseResult(stdout: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(stdout);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs one command as a GitLab job and returns the exit code the job should end with: gantry's own
 * (0 ok, 1 gate, 2 input, 3 infrastructure, 4 rollback failed). The result and dotenv files are written
 * whatever the outcome, so `artifacts: when: always` keeps them for a failed job too.
 */
export async function runGitLabJob(command: CommandName, options: JobOptions): Promise<number> {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { env, cwd } = options;
  const token = env[inputVariable('gitlab-token')]?.trim() ?? '';
  registerSecret(token);

  let code: number;
  let result: Record<string, unknown> | undefined;
  let stdout: string;
  try {
    const args = gantryArgs(command, env);
    const file = options.gantry ?? 'gantry';
    write(redact(`$ ${displayCommand(file, args)}`));
    ({ code, stdout } = await runGantry(file, args, options));
    result = parseResult(stdout);
    if (!result) write(`gantry-gitlab: warning: gantry printed no JSON result (exit ${code})`);
  } catch (error) {
    const exitCode = error instanceof GantryError ? error.exitCode : ExitCode.infra;
    const line = redact(messageOf(error));
    write(`gantry-gitlab: ${line}`);
    code = exitCode;
    result = { error: line, exitCode };
    stdout = `${JSON.stringify(result, null, 2)}\n`;
  }

  await writeFile(join(cwd, resultFile(command)), stdout);
  const outputs = result ? outputsFor(command, result) : {};
  await writeFile(join(cwd, dotenvFile(command)), renderDotenv(outputs));
  // An error was already printed as one line; its GANTRY_ERROR output needs no second mention.
  if (Object.keys(outputs).length > 0 && outputs.GANTRY_ERROR === undefined) {
    write(
      `outputs (${dotenvFile(command)}): ${redact(
        Object.entries(outputs)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      )}`,
    );
  }

  if (command === 'deploy' && token !== '' && result && typeof result.verdict === 'string') {
    await noteOnMergeRequest(result as unknown as RolloutReport, token, { env, cwd, code }, write);
  }
  return code;
}

/** The job's URL: `CI_JOB_URL`, else `CI_PROJECT_URL/-/jobs/CI_JOB_ID`; undefined outside GitLab. */
export function jobUrlOf(env: Env): string | undefined {
  if (env.CI_JOB_URL) return env.CI_JOB_URL;
  if (env.CI_PROJECT_URL && env.CI_JOB_ID)
    return `${env.CI_PROJECT_URL.replace(/\/+$/, '')}/-/jobs/${env.CI_JOB_ID}`;
  return undefined;
}

/** The report's files in the order a reader wants them: the Markdown, the SVG timeline, the JSON, then the rest. */
const REPORT_ORDER = ['.md', '.svg', '.json'];

/**
 * The files of the run report (the `report` input's directory, `gantry-rollout` in the template), relative to
 * the project directory as the job's artifacts keep them; none when the directory lies outside it or is missing.
 */
export async function reportFiles(env: Env, cwd: string): Promise<string[]> {
  const dir = env[inputVariable('report')]?.trim();
  if (!dir) return [];
  const path = relative(cwd, resolve(cwd, dir));
  if (path === '' || path.startsWith('..') || isAbsolute(path)) return [];
  const rank = (name: string) => {
    const at = REPORT_ORDER.findIndex((ext) => name.endsWith(ext));
    return at === -1 ? REPORT_ORDER.length : at;
  };
  try {
    const entries = await readdir(join(cwd, path), { withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
      .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
      .map((name) => `${path.split(/[\\/]/).join('/')}/${name}`);
  } catch {
    return [];
  }
}

/** Optional: a failure to comment is a warning, never the job's outcome. */
async function noteOnMergeRequest(
  report: RolloutReport,
  token: string,
  { env, cwd, code }: { env: Env; cwd: string; code: number },
  write: (line: string) => void,
): Promise<void> {
  const target = mergeRequestTarget(env);
  if (!target) {
    write('gantry-gitlab: not a merge-request pipeline, so no note is posted (input gitlab-token is set)');
    return;
  }
  try {
    const body = mergeRequestNoteBody(report, {
      jobUrl: jobUrlOf(env),
      environment: env.CI_ENVIRONMENT_NAME,
      environmentUrl: env.CI_ENVIRONMENT_URL,
      reportFiles: await reportFiles(env, cwd),
      exitCode: code,
    });
    const note = await postMergeRequestNote({ ...target, token, body });
    write(`gantry-gitlab: rollout summary posted on !${target.mrIid} (note ${note.id})`);
  } catch (error) {
    write(`gantry-gitlab: warning: ${redact(messageOf(error))}`);
  }
}
