import { existsSync, readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import type { z } from 'zod';
import { InputError } from '../util/errors.js';
import { type CommandName, OPTIONS, type OptionSpec, optionsFor } from './options.js';
import { buildSecretSchema, configSchema, type GantryConfig } from './schema.js';

/** Raw values as a front end received them: flag name (with dashes) → value(s). */
export type RawInputs = Record<string, string | boolean | number | string[] | undefined>;

/** Where a value came from, so an error can name the input the user actually wrote. */
interface Origin {
  configFile?: string;
  flags: Set<string>;
  /** How the front end spells an input (`--tag`, `input "tag"`, `cfg.tag`). */
  spell: (flag: string) => string;
}

const DEFAULT_CONFIG_FILE = 'gantry.yml';

/** Reads gantry.yml (the explicit path, or ./gantry.yml when present). Returns {} when there is none. */
export function readConfigFile(
  path: string | undefined,
  cwd = process.cwd(),
): { data: unknown; file?: string } {
  const explicit = path !== undefined;
  const file = path ?? `${cwd}/${DEFAULT_CONFIG_FILE}`;
  if (!existsSync(file)) {
    if (explicit) throw new InputError('--config', `cannot read "${path}": no such file`);
    return { data: {} };
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError('--config', `cannot read "${file}": ${(error as Error).message}`);
  }
  try {
    const data = yaml.load(text, { schema: yaml.JSON_SCHEMA, filename: file }) ?? {};
    if (typeof data !== 'object' || Array.isArray(data)) {
      throw new InputError('--config', `"${file}" must be a YAML mapping of settings`);
    }
    return { data, file };
  } catch (error) {
    if (error instanceof InputError) throw error;
    const reason = (error as yaml.YAMLException).reason ?? (error as Error).message;
    const mark = (error as yaml.YAMLException).mark;
    throw new InputError(
      '--config',
      `"${file}" is not valid YAML: ${reason}${mark ? ` (line ${mark.line + 1})` : ''}`,
    );
  }
}

/**
 * Turns raw front-end inputs into a partial config, converting each by its declared type.
 * Unknown inputs are rejected here (one line naming the input), before anything runs.
 */
export function inputsToPartial(
  command: CommandName,
  raw: RawInputs,
  spell: (flag: string) => string,
): { partial: Record<string, unknown>; given: Set<string> } {
  const known = new Map(optionsFor(command).map((o) => [o.flag, o]));
  const partial: Record<string, unknown> = {};
  const given = new Set<string>();
  for (const [flag, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const option = known.get(flag);
    if (!option) throw new InputError(spell(flag), `unknown input for "${command}"`);
    if (Array.isArray(value) && value.length === 0) continue;
    setPath(partial, option.path, convert(option, value, spell(flag)));
    given.add(flag);
  }
  return { partial, given };
}

function convert(option: OptionSpec, value: string | boolean | number | string[], name: string): unknown {
  const values = Array.isArray(value) ? value : [value];
  switch (option.type) {
    case 'string':
      if (typeof value !== 'string')
        throw new InputError(name, `expected a string, got ${JSON.stringify(value)}`);
      return value;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true') return true;
      if (value === 'false') return false;
      throw new InputError(name, `expected true or false, got ${JSON.stringify(value)}`);
    case 'number': {
      const number = typeof value === 'number' ? value : Number(String(value).trim());
      if (String(value).trim() === '' || !Number.isFinite(number)) {
        throw new InputError(name, `expected a number, got ${JSON.stringify(value)}`);
      }
      return number;
    }
    case 'list': {
      const items = values.flatMap((v) =>
        option.commaSeparated ? String(v).split(',') : String(v).split('\n'),
      );
      const trimmed = items.map((v) => v.trim()).filter((v) => v !== '');
      // Canary steps (`10`, `25:10m`, `50:until-promoted`) are read by the schema, which takes every form.
      return option.flag === 'secret' ? trimmed.map((v) => parseSecret(v, name)) : trimmed;
    }
    case 'map': {
      const record: Record<string, string> = {};
      for (const item of values.map(String)) {
        const eq = item.indexOf('=');
        if (eq <= 0) throw new InputError(name, `expected KEY=value, got ${JSON.stringify(item)}`);
        record[item.slice(0, eq)] = item.slice(eq + 1);
      }
      return record;
    }
  }
}

/** `id=npm,src=./npmrc` or `id=token,env=NPM_TOKEN` → a secret reference (the value itself is never here). */
export function parseSecret(text: string, name: string): z.infer<typeof buildSecretSchema> {
  const fields: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new InputError(name, `expected id=ID,src=FILE or id=ID,env=VAR, got ${JSON.stringify(text)}`);
    const key = part.slice(0, eq).trim();
    if (!['id', 'src', 'env'].includes(key)) {
      throw new InputError(name, `unknown secret field "${key}" (expected id, src or env)`);
    }
    fields[key] = part.slice(eq + 1).trim();
  }
  const parsed = buildSecretSchema.safeParse(fields);
  if (!parsed.success) throw new InputError(name, parsed.error.issues[0]?.message ?? 'invalid secret');
  return parsed.data;
}

/**
 * Merges gantry.yml with the inputs a front end received (inputs win) and validates the result with the
 * one schema. Errors name the input where the bad value came from: the flag/input when it was given there,
 * else `gantry.yml: path`.
 */
export function resolveConfig(options: {
  command: CommandName;
  raw: RawInputs;
  configPath?: string;
  cwd?: string;
  spell?: (flag: string) => string;
}): GantryConfig {
  const spell = options.spell ?? ((flag: string) => `--${flag}`);
  const { data, file } = readConfigFile(options.configPath, options.cwd);
  const { partial, given } = inputsToPartial(options.command, options.raw, spell);
  const merged = deepMerge(data as Record<string, unknown>, partial);
  const parsed = configSchema.safeParse(merged, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new InputError(nameFor(issue.path, { configFile: file, flags: given, spell }), describeIssue(issue));
}

function nameFor(path: readonly PropertyKey[], origin: Origin): string {
  const dotted = path.map(String).join('.');
  const option = [...OPTIONS]
    .filter((o) => origin.flags.has(o.flag))
    .sort((a, b) => b.path.length - a.path.length)
    .find((o) => dotted === o.path || dotted.startsWith(`${o.path}.`));
  if (option && origin.flags.has(option.flag)) return origin.spell(option.flag);
  return `${origin.configFile ?? 'gantry.yml'}: ${dotted || '(top level)'}`;
}

/** One readable sentence per zod issue: what was expected and what was found. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const got = 'input' in issue && issue.input !== undefined ? `, got ${JSON.stringify(issue.input)}` : '';
  switch (issue.code) {
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join('|')}${got}`;
    case 'invalid_type':
      // A schema's own wording ("expected whole percentages") says more than the type's name.
      return issue.message.startsWith('Invalid input')
        ? `expected ${issue.expected}${got}`
        : `${issue.message}${got}`;
    case 'unrecognized_keys':
      return `unknown setting${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_key':
      return `${issue.issues[0]?.message ?? issue.message}${got}`;
    case 'too_small':
    case 'too_big':
      return `${issue.message}${got}`;
    default:
      return issue.message.includes(', got ') ? issue.message : `${issue.message}${got}`;
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    node[key] = (node[key] as Record<string, unknown> | undefined) ?? {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      isPlainObject(current) && isPlainObject(value) && !Array.isArray(value)
        ? deepMerge(current, value)
        : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
