/**
 * The GitHub Actions adapter: reads an action's inputs, maps them onto Gantry's options (options.ts), and
 * writes back what GitHub shows — step outputs, the job summary, annotations and one failure line. It holds
 * no pipeline logic: the stages in ./github/ call the same core (and CLI command handlers) as `gantry`.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import type { BuildResult } from '../../build/index.js';
import type { CommandOptions } from '../../commands/outcome.js';
import type { RawInputs } from '../../config/load.js';
import { type CommandName, type OptionSpec, optionFor } from '../../config/options.js';
import { imageName, parseImageReference } from '../../context/reference.js';
import { formatDuration, markdownCode } from '../../report/format.js';
import { findingSummary } from '../../scan/report/common.js';
import { meetsThreshold, severityRank } from '../../scan/severity.js';
import { type ScanResult, SEVERITIES, type Severity } from '../../scan/types.js';
import { ExitCode, GantryError, InputError, messageOf, oneLine } from '../../util/errors.js';
import { setLogSink } from '../../util/log.js';
import { redact, registerSecret } from '../../util/secrets.js';
import { POST_STATE } from './entry.js';

// ---------------------------------------------------------------------------------------------------------
// Action specs

/** How one action input reaches Gantry. */
export interface InputSpec {
  /** The Gantry flag it sets (options.ts); also how core errors about that flag are renamed to this input. */
  flag?: string;
  /** Only for these commands (the pipeline action feeds several; `image` there is the build's, not deploy's). */
  commands?: readonly CommandName[];
  /** Mapped by the stage itself (tags, secrets, severity, …), not by {@link toRawInputs}. */
  custom?: boolean;
  /** Items may also be comma separated, as docker/build-push-action reads this input. */
  commas?: boolean;
  /** A credential: masked with `core.setSecret` before anything else runs. */
  secret?: boolean;
}

/** An action: its name in messages and every input its action.yml declares. */
export interface ActionSpec {
  /** `gantry/build`, `gantry` (the pipeline). */
  name: string;
  inputs: Record<string, InputSpec>;
}

/** The non-empty inputs of a step, by input name (values trimmed, as `core.getInput` returns them). */
export type Inputs = Record<string, string>;

// ---------------------------------------------------------------------------------------------------------
// Inputs

/**
 * Reads the step's inputs from its `INPUT_*` environment. An input the action does not declare fails the
 * step (GitHub itself only warns, and the value would be silently ignored).
 */
export function readInputs(spec: ActionSpec, env: NodeJS.ProcessEnv = process.env): Inputs {
  const declared = new Set(Object.keys(spec.inputs).map((name) => name.toUpperCase()));
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('INPUT_') || !value?.trim()) continue;
    const name = key.slice('INPUT_'.length);
    if (!declared.has(name)) throw unknownInput(spec, name.toLowerCase());
  }
  const inputs: Inputs = {};
  for (const [name, input] of Object.entries(spec.inputs)) {
    const value = env[`INPUT_${name.toUpperCase()}`]?.trim();
    if (!value) continue;
    if (input.secret) mask(value);
    inputs[name] = value;
  }
  return inputs;
}

function unknownInput(spec: ActionSpec, name: string): InputError {
  // Someone who knows the CLI writes `tag:` or `severity-threshold:`; point at the input that means that.
  const byFlag = Object.entries(spec.inputs).find(([, input]) => input.flag === name)?.[0];
  const hint = byFlag
    ? `; did you mean "${byFlag}"?`
    : `; known inputs: ${Object.keys(spec.inputs).join(', ')}`;
  return new InputError(`input "${name}"`, `unknown input for ${spec.name}${hint}`);
}

/** Items of a list input: one per line (and per comma where `commas`), trimmed, empties dropped. */
export function splitList(value: string | undefined, commas = false): string[] {
  if (!value) return [];
  return value
    .split(commas ? /[\n,]/ : /\n/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * The raw inputs of one Gantry command, from the step's inputs: each mapped input under its flag, lists and
 * maps split into items, booleans as GitHub writes them (`True`, `FALSE`) lower-cased. Type errors are left
 * to the core, which names the input through {@link inputLabel}.
 */
export function toRawInputs(command: CommandName, spec: ActionSpec, inputs: Inputs): RawInputs {
  const raw: RawInputs = {};
  for (const [name, input] of Object.entries(spec.inputs)) {
    const value = inputs[name];
    if (value === undefined || !input.flag || input.custom) continue;
    if (input.commands && !input.commands.includes(command)) continue;
    const option = optionFor(command, input.flag);
    if (option) raw[input.flag] = convert(option, input, value);
  }
  return raw;
}

function convert(option: OptionSpec, input: InputSpec, value: string): string | string[] {
  if (option.type === 'list' || option.type === 'map') return splitList(value, input.commas);
  if (option.type === 'boolean' && /^(true|false)$/i.test(value)) return value.toLowerCase();
  return value;
}

/** A boolean input the stage reads itself (`push` in the pipeline); `fallback` when not given. */
export function booleanInput(inputs: Inputs, name: string, fallback: boolean): boolean {
  const value = inputs[name];
  if (value === undefined) return fallback;
  if (/^true$/i.test(value)) return true;
  if (/^false$/i.test(value)) return false;
  throw new InputError(`input "${name}"`, `expected true or false, got ${JSON.stringify(value)}`);
}

/** How an error names the input behind a flag: `input "tags"` for `--tag` in the build action. */
export function inputLabel(spec: ActionSpec, command: CommandName, flag: string): string {
  const match =
    Object.entries(spec.inputs).find(
      ([, input]) => input.flag === flag && (!input.commands || input.commands.includes(command)),
    ) ?? Object.entries(spec.inputs).find(([name]) => name === flag);
  return `input "${match?.[0] ?? flag}"`;
}

/** Renames a core InputError about `--flag` to the action input the user actually wrote. */
export function renameInputError(error: unknown, spec: ActionSpec, command: CommandName): unknown {
  if (!(error instanceof InputError) || !error.input.startsWith('--')) return error;
  const label = inputLabel(spec, command, error.input.slice(2));
  return new InputError(label, error.message.slice(error.input.length + 2), { cause: error });
}

/** Options the CLI command handlers take: the JSON result is what the wrapper maps to outputs. */
export function commandOptions(inputs: Inputs): CommandOptions {
  return { configPath: inputs.config };
}

// ---------------------------------------------------------------------------------------------------------
// Input translations where the docker and trivy actions say it differently

/**
 * `tags` as docker/build-push-action takes them — full references (`ghcr.io/acme/app:1.2.3`, what
 * docker/metadata-action outputs) — or bare tags (`1.2.3`). Gantry builds one repository: references give it
 * when `image` does not, and must all name it.
 */
export function tagInputs(
  tags: string | undefined,
  image: string | undefined,
): { image?: string; tag?: string[] } {
  let repository = image ? imageName(parseImageReference(image, 'input "image"')) : undefined;
  const bare: string[] = [];
  for (const item of splitList(tags, true)) {
    if (!/[/:@]/.test(item)) {
      bare.push(item);
      continue;
    }
    const reference = parseImageReference(item, 'input "tags"');
    const name = imageName(reference);
    repository ??= name;
    if (name !== repository) {
      throw new InputError(
        'input "tags"',
        `"${item}" is not in repository ${repository}: one build pushes one repository; copy to others with gantry/actions/push`,
      );
    }
    if (reference.tag) bare.push(reference.tag);
  }
  return {
    ...(image !== undefined ? { image } : repository !== undefined ? { image: repository } : {}),
    ...(bare.length > 0 ? { tag: bare } : {}),
  };
}

/**
 * Build secrets as docker/build-push-action takes them: `secrets` (`id=value`, the value itself),
 * `secret-envs` (`id=ENV_VAR`) and `secret-files` (`id=path`). Values are masked and handed over in
 * environment variables (`GANTRY_BUILD_SECRET_<n>`), never on argv.
 */
export function secretInputs(inputs: Inputs, env: NodeJS.ProcessEnv = process.env): string[] {
  const pairs = (name: string) =>
    splitList(inputs[name]).map((line) => {
      const eq = line.indexOf('=');
      if (eq <= 0) throw new InputError(`input "${name}"`, 'expected id=value lines');
      return [line.slice(0, eq).trim(), line.slice(eq + 1).trim()] as const;
    });
  const secrets: string[] = [];
  pairs('secrets').forEach(([id, value], index) => {
    const variable = `GANTRY_BUILD_SECRET_${index}`;
    mask(value);
    env[variable] = value;
    secrets.push(`id=${id},env=${variable}`);
  });
  for (const [id, variable] of pairs('secret-envs')) secrets.push(`id=${id},env=${variable}`);
  for (const [id, path] of pairs('secret-files')) secrets.push(`id=${id},src=${path}`);
  return secrets;
}

/**
 * `severity` as trivy-action takes it — the severities to report, `CRITICAL,HIGH` — or as Gantry's gate,
 * one threshold (`high`, `none`). A list gates on its mildest severity: `CRITICAL,HIGH` fails on high and up.
 */
export function severityThreshold(value: string): string {
  const items = splitList(value, true).map((item) => item.toLowerCase());
  if (items.length <= 1) return items[0] ?? value;
  const unknown = items.find((item) => !(SEVERITIES as readonly string[]).includes(item));
  if (unknown !== undefined) {
    throw new InputError(
      'input "severity"',
      `expected severities like CRITICAL,HIGH or one threshold (critical|high|medium|low|unknown|none), got ${JSON.stringify(unknown)}`,
    );
  }
  return (items as Severity[]).reduce((mildest, item) =>
    severityRank(item) > severityRank(mildest) ? item : mildest,
  );
}

const REPORT_FLAGS: Record<string, string> = {
  sarif: 'sarif',
  gitlab: 'gitlab-report',
  junit: 'junit',
  markdown: 'markdown',
};

/** trivy-action's `format` + `output` pair: one report of that format written to that file. */
export function reportInputs(inputs: Inputs): RawInputs {
  const { format, output } = inputs;
  if (format === undefined) {
    if (output !== undefined)
      throw new InputError('input "output"', 'needs "format" (sarif, gitlab, junit, markdown)');
    return {};
  }
  const flag = REPORT_FLAGS[format.toLowerCase()];
  if (!flag)
    throw new InputError(
      'input "format"',
      `expected sarif, gitlab, junit or markdown, got ${JSON.stringify(format)}`,
    );
  if (output === undefined)
    throw new InputError('input "output"', `required with format "${format}": the file to write`);
  const direct = Object.keys(REPORT_FLAGS).find((name) => REPORT_FLAGS[name] === flag);
  if (inputs[flag] !== undefined) {
    throw new InputError(
      'input "output"',
      `"format: ${direct}" and "${flag}" both name the ${direct} report; give one`,
    );
  }
  return { [flag]: output };
}

// ---------------------------------------------------------------------------------------------------------
// Credentials

/** Masks a credential in GitHub's log and in everything Gantry prints (each line too, for multi-line ones). */
export function mask(value: string): void {
  for (const part of [value, ...value.split(/\r?\n/)]) {
    if (part.trim() === '') continue;
    core.setSecret(part);
    registerSecret(part);
  }
}

/**
 * Hands the registry credentials to the core through its environment (never argv): `registry`,
 * `registry-username`, `registry-password` as GANTRY_REGISTRY*, and `github-token` as GITHUB_TOKEN (used
 * for ghcr.io as GITHUB_ACTOR).
 */
export function useCredentials(inputs: Inputs, env: NodeJS.ProcessEnv = process.env): void {
  const token = inputs['github-token'];
  if (token) env.GITHUB_TOKEN = token;
  const { registry, 'registry-username': username, 'registry-password': password } = inputs;
  if (!password) {
    if (username) throw new InputError('input "registry-password"', 'required with "registry-username"');
    return;
  }
  if (!registry || !username) {
    throw new InputError('input "registry-password"', 'needs "registry" (host) and "registry-username"');
  }
  mask(Buffer.from(`${username}:${password}`).toString('base64'));
  env.GANTRY_REGISTRY = registry.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  env.GANTRY_REGISTRY_USERNAME = username;
  env.GANTRY_REGISTRY_PASSWORD = password;
}

// ---------------------------------------------------------------------------------------------------------
// Running a step

/** Gantry's progress log as GitHub shows it: collapsible groups, warnings as annotations. */
const githubLog = {
  info: (line: string) => core.info(line),
  warn: (line: string) => core.warning(line),
  startGroup: (title: string) => core.startGroup(title),
  endGroup: () => core.endGroup(),
};

/**
 * Runs one action step: reads and checks the inputs, runs `main` (or `post`, in the post step of an action
 * that has one), and turns any error into exactly one failure line. Exit-code semantics survive as the
 * message: an input error names the input, a gate says what failed, a failed rollback says to page someone.
 */
export async function runAction(
  spec: ActionSpec,
  main: (inputs: Inputs) => Promise<void>,
  post?: (inputs: Inputs) => Promise<void>,
): Promise<void> {
  setLogSink(githubLog);
  try {
    if (post && core.getState(POST_STATE) === 'true') {
      // The runner gives the post step the main step's inputs again.
      await post(readInputs(spec));
      return;
    }
    if (post) core.saveState(POST_STATE, 'true');
    await main(readInputs(spec));
  } catch (error) {
    core.setFailed(failureLine(error));
    process.exitCode = failureExitCode(error);
  }
}

/**
 * The exit code of a failed step: Gantry's own (2 bad input, 1 gate, 3 infrastructure, 4 rollback failed),
 * as `gantry` would exit, rather than the 1 that `core.setFailed` sets for every failure; any non-zero code
 * fails the step the same way, and a wrapper or test can still tell the cases apart.
 */
export function failureExitCode(error: unknown): number {
  return error instanceof GantryError ? error.exitCode : ExitCode.infra;
}

/** One line for `core.setFailed`, secrets masked. */
export function failureLine(error: unknown): string {
  const message = error instanceof GantryError ? error.message : `internal error: ${messageOf(error)}`;
  return redact(oneLine(message));
}

/** Runs a stage of `command`, renaming core errors about `--flag` to the action's input names. */
export async function stage<T>(spec: ActionSpec, command: CommandName, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw renameInputError(error, spec, command);
  }
}

/** A directory for this step's files (reports), under RUNNER_TEMP so later steps of the job can read them. */
export function stepDirectory(): string {
  const step = (process.env.GITHUB_ACTION ?? 'step').replace(/[^A-Za-z0-9_.-]/g, '_');
  return join(process.env.RUNNER_TEMP ?? tmpdir(), `gantry-${step}-${process.pid}`);
}

// ---------------------------------------------------------------------------------------------------------
// Outputs, summary, annotations

/** Sets step outputs; undefined values are left unset. */
export function setOutputs(outputs: Record<string, string | number | boolean | undefined>): void {
  for (const [name, value] of Object.entries(outputs)) {
    if (value !== undefined) core.setOutput(name, redact(String(value)));
  }
}

/** Appends Markdown to the job summary (skipped where there is none, e.g. a local run). */
export async function appendSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary.addRaw(redact(markdown), true).write();
}

/** The build stage's summary: what was built, its tags and digest. */
export function buildMarkdown(build: BuildResult): string {
  const rows: Array<[string, string]> = [
    ['Tags', build.refs.map(markdownCode).join('<br>')],
    ['Digest', build.digest ? markdownCode(build.digest) : 'not pushed'],
    ['Image ID', build.imageId ? markdownCode(build.imageId) : '—'],
    ['Builder', build.builder],
    ['Duration', formatDuration(build.durationMs)],
  ];
  return [
    `### Image built: ${markdownCode(build.image)}`,
    '',
    '| | |',
    '|---|---|',
    ...rows.map(([name, value]) => `| ${name} | ${value} |`),
    '',
  ].join('\n');
}

/** GitHub shows at most 10 error and 10 warning annotations per step; the job summary lists the rest. */
export const MAX_ANNOTATIONS = 10;

/**
 * One annotation per finding, on the Dockerfile the image was built from: findings that fail the gate as
 * errors, the others as warnings, worst first.
 */
export function annotateFindings(result: ScanResult, dockerfile: string): void {
  const counts = { error: 0, warning: 0 };
  for (const finding of result.findings) {
    const level = meetsThreshold(finding.severity, result.threshold) ? 'error' : 'warning';
    if (counts[level] >= MAX_ANNOTATIONS) continue;
    counts[level] += 1;
    const where = finding.location?.path ? ` (${finding.location.path} in the image)` : '';
    const annotate = level === 'error' ? core.error : core.warning;
    annotate(redact(`${findingSummary(finding)}${where}`), {
      title: `${finding.id} (${finding.severity})`,
      file: dockerfile,
    });
  }
}

/** One line for a failed scan gate. */
export function scanFailure(result: ScanResult): string {
  const c = result.counts;
  const n = result.failing.length;
  return `scan failed: ${n} finding${n === 1 ? '' : 's'} at or above ${result.threshold} in ${result.image} (critical ${c.critical}, high ${c.high}, medium ${c.medium}, low ${c.low})`;
}
