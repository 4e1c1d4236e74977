/**
 * GitLab component inputs → `gantry` arguments.
 *
 * A template never puts an input into its `script:`: GitLab interpolates `$[[ inputs.x ]]` as text when the
 * pipeline is created, so a value placed in a script would be parsed by the shell. Each input goes into a job
 * variable instead (`GANTRY_INPUT_<FLAG>`), and this module turns those variables into an argument array that is
 * handed to `gantry` without a shell. The options table (src/config/options.ts) says which flags a command has
 * and of what type, so there is no second list of flags here.
 */
import { type CommandName, type OptionSpec, optionsFor } from '../../config/options.js';
import { configSchema } from '../../config/schema.js';
import { InputError } from '../../util/errors.js';

export type Env = Record<string, string | undefined>;

/** `severity-threshold` → `GANTRY_INPUT_SEVERITY_THRESHOLD`: the job variable a template sets for an input. */
export function inputVariable(input: string): string {
  return `GANTRY_INPUT_${input.toUpperCase().replace(/-/g, '_')}`;
}

/** How errors name an input: the way the user wrote it in `include: inputs:`. */
const spell = (input: string) => `input "${input}"`;

/**
 * Expands `$VAR` and `${VAR}` the way GitLab expands variables (`$$` is a literal `$`; an unset variable is
 * empty). Used for array items: their job variable is declared `expand: false`, because GitLab would otherwise
 * expand inside the JSON text, and a value with a quote in it would break the array apart.
 */
export function expandVariables(text: string, env: Env): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced?: string, bare?: string) => {
      if (match === '$$') return '$';
      return env[(braced ?? bare)!] ?? '';
    },
  );
}

/**
 * An array input as its job variable holds it: the JSON text GitLab writes for an array interpolated into a
 * string (`["a","b"]`). A value that is not JSON is read as one item per line, so the same variable can be set
 * by hand. Items are expanded (see {@link expandVariables}); empty items are dropped.
 */
export function parseArrayInput(input: string, text: string, env: Env): string[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let items: unknown[];
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new InputError(spell(input), `expected an array, got ${JSON.stringify(trimmed)}`);
    }
    if (!Array.isArray(parsed)) {
      throw new InputError(spell(input), `expected an array, got ${JSON.stringify(trimmed)}`);
    }
    items = parsed;
  } else {
    items = trimmed.split('\n');
  }
  return items
    .map((item, index) => {
      if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') {
        throw new InputError(
          spell(input),
          `expected an array of strings, got ${JSON.stringify(item)} at position ${index + 1}`,
        );
      }
      return expandVariables(String(item), env).trim();
    })
    .filter((item) => item !== '');
}

let defaults: unknown;
/** Gantry's own default for a setting (`registry.retries` → 3), from the one schema. */
function builtInDefault(path: string): unknown {
  defaults ??= configSchema.parse({});
  let node = defaults;
  for (const key of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[key];
  return node;
}

/**
 * The flags one input becomes. Strings and arrays are passed when not empty; booleans and numbers only when
 * they differ from Gantry's own default — so an input left at its default never overrides gantry.yml.
 */
export function flagsForInput(option: OptionSpec, raw: string, env: Env): string[] {
  const flag = `--${option.flag}`;
  switch (option.type) {
    case 'string': {
      return raw === '' ? [] : [flag, raw];
    }
    case 'boolean': {
      const value = raw.trim();
      if (value !== 'true' && value !== 'false' && value !== '') {
        throw new InputError(spell(option.flag), `expected true or false, got ${JSON.stringify(raw)}`);
      }
      if (value === '' || (value === 'true') === builtInDefault(option.path)) return [];
      return value === 'true' ? [flag] : [`--no-${option.flag}`];
    }
    case 'number': {
      const value = raw.trim();
      if (value === '') return [];
      const number = Number(value);
      if (!Number.isFinite(number)) {
        throw new InputError(spell(option.flag), `expected a number, got ${JSON.stringify(raw)}`);
      }
      return number === builtInDefault(option.path) ? [] : [flag, value];
    }
    case 'list':
    case 'map':
      return parseArrayInput(option.flag, raw, env).flatMap((item) => [flag, item]);
  }
}

/**
 * The argument array for `gantry <command> --json …` from the `GANTRY_INPUT_*` variables a template set.
 * A variable that is not set counts as an input left empty.
 */
export function gantryArgs(command: CommandName, env: Env): string[] {
  const args: string[] = [command, '--json'];
  const config = env[inputVariable('config')] ?? '';
  if (config !== '') args.push('--config', config);
  for (const option of optionsFor(command)) {
    const raw = env[inputVariable(option.flag)];
    if (raw === undefined) continue;
    args.push(...flagsForInput(option, raw, env));
  }
  return args;
}

/**
 * The command line as a person would type it, for the job log. Values are shell-quoted for reading only;
 * the command itself is never run through a shell.
 */
export function displayCommand(file: string, args: readonly string[]): string {
  const quote = (arg: string) =>
    /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
  return [file, ...args].map(quote).join(' ');
}
