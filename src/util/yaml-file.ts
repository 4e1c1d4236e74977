import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { InputError } from './errors.js';

/** Why a file could not be read, in a few words: `no such file`, `it is a directory`, or the system's reason. */
export function unreadable(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? 'no such file'
    : code === 'EISDIR'
      ? 'it is a directory'
      : (error as Error).message;
}

/**
 * Reads a YAML (or JSON) file given as `input` (`--analysis`, `--hooks`); its data, not yet validated.
 * @throws InputError naming `input` when the file cannot be read or is not YAML (with the line).
 */
export function readYamlFile(path: string, input: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(input, `cannot read "${path}": ${unreadable(error)}`);
  }
  try {
    return yaml.load(text, { schema: yaml.JSON_SCHEMA, filename: path });
  } catch (error) {
    const reason = (error as yaml.YAMLException).reason ?? (error as Error).message;
    const mark = (error as yaml.YAMLException).mark;
    throw new InputError(
      input,
      `"${path}" is not valid YAML: ${reason}${mark ? ` (line ${mark.line + 1})` : ''}`,
    );
  }
}
