import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import yaml from 'js-yaml';
import { InputError } from '../util/errors.js';
import type { PolicyIgnore } from './policy.js';

/**
 * trivy's own ignore files, read by Gantry so that they apply to every scanner and every ignored finding is
 * reported (trivy itself would drop the findings silently; Gantry runs it with `--ignorefile /dev/null`).
 *
 * Where: `.trivyignore` and `.trivyignore.yaml` in the build context, in the repository root and in the
 * working directory (where trivy itself looks), every one found, each once (the context's first). trivy reads `./.trivyignore` from its working directory, which trivy-action
 * runs in the repository root (GITHUB_WORKSPACE); its `trivyignores` input adds further files. The YAML form is
 * read by trivy only when named with `--ignorefile`; Gantry reads it where it finds it.
 *
 * - `.trivyignore`: one id per line, optionally followed by `exp:YYYY-MM-DD` (the entry stops applying after
 *   that day, as trivy 0.65 does); `#` starts a comment.
 * - `.trivyignore.yaml`: `vulnerabilities:`, `misconfigurations:`, `secrets:` lists of
 *   `{id, paths?, purls?, expired_at?, statement?}` (`licenses:` is not scanned by Gantry, so not read).
 */
export const TRIVYIGNORE_FILES = ['.trivyignore', '.trivyignore.yaml'] as const;

/** The trivyignore files that exist in `dirs` (in that order, each once). */
export function findTrivyignoreFiles(dirs: readonly (string | undefined)[]): string[] {
  const found: string[] = [];
  for (const dir of dirs) {
    if (!dir) continue;
    for (const name of TRIVYIGNORE_FILES) {
      const path = resolve(join(dir, name));
      if (existsSync(path) && !found.includes(path)) found.push(path);
    }
  }
  return found;
}

/** A file as reports and errors name it: relative to the working directory. */
export const displayPath = (path: string): string => relative(process.cwd(), path) || path;

/** Reads each trivyignore file. @throws InputError naming `--trivyignore` and the file for a bad line. */
export function loadTrivyignoreFiles(
  paths: readonly string[],
  display: (path: string) => string = displayPath,
): PolicyIgnore[] {
  return paths.flatMap((path) => {
    const text = readFileSync(path, 'utf8');
    const name = display(path);
    return path.endsWith('.yaml') || path.endsWith('.yml')
      ? parseTrivyignoreYaml(text, name)
      : parseTrivyignore(text, name);
  });
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Parses a plain `.trivyignore`; `source` names it in reasons and errors. */
export function parseTrivyignore(text: string, source: string): PolicyIgnore[] {
  const entries: PolicyIgnore[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const [id, ...rest] = line.split(/\s+/);
    let expires: string | undefined;
    for (const word of rest) {
      const exp = /^exp:(.*)$/.exec(word);
      if (!exp) continue;
      if (!DATE.test(exp[1]!) || Number.isNaN(Date.parse(`${exp[1]}T00:00:00Z`))) {
        throw new InputError(
          '--trivyignore',
          `${source} line ${index + 1}: expected exp:YYYY-MM-DD after the id, got ${JSON.stringify(clip(line))}`,
        );
      }
      expires = exp[1];
    }
    entries.push({ id: id!, reason: `listed in ${source}`, source, ...(expires ? { expires } : {}) });
  }
  return entries;
}

/** Parses a `.trivyignore.yaml`; `source` names it in reasons and errors. */
export function parseTrivyignoreYaml(text: string, source: string): PolicyIgnore[] {
  let data: unknown;
  try {
    data = yaml.load(text, { schema: yaml.CORE_SCHEMA, filename: source });
  } catch (error) {
    throw new InputError(
      '--trivyignore',
      `${source} is not valid YAML: ${(error as yaml.YAMLException).reason}`,
    );
  }
  if (data === null || data === undefined) return [];
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new InputError(
      '--trivyignore',
      `${source}: expected a mapping of vulnerabilities/misconfigurations/secrets lists`,
    );
  }
  const entries: PolicyIgnore[] = [];
  for (const section of ['vulnerabilities', 'misconfigurations', 'secrets'] as const) {
    const list = (data as Record<string, unknown>)[section];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new InputError('--trivyignore', `${source}: ${section} must be a list`);
    for (const [index, item] of list.entries()) {
      const where = `${source} ${section}[${index}]`;
      const entry = (item ?? {}) as Record<string, unknown>;
      if (typeof entry.id !== 'string' || !entry.id.trim()) {
        throw new InputError('--trivyignore', `${where}: expected an id`);
      }
      const expiredAt = entry.expired_at;
      if (expiredAt !== undefined && (typeof expiredAt !== 'string' || !DATE.test(expiredAt))) {
        throw new InputError('--trivyignore', `${where}: expired_at must be a date as YYYY-MM-DD`);
      }
      const strings = (key: string) => {
        const value = entry[key];
        if (value === undefined) return undefined;
        if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
          throw new InputError('--trivyignore', `${where}: ${key} must be a list of strings`);
        }
        return value as string[];
      };
      const paths = strings('paths');
      const purls = strings('purls');
      entries.push({
        id: entry.id.trim(),
        reason:
          typeof entry.statement === 'string' && entry.statement.trim()
            ? entry.statement.trim()
            : `listed in ${source}`,
        source,
        ...(expiredAt ? { expires: expiredAt as string } : {}),
        ...(paths ? { paths } : {}),
        ...(purls ? { purls } : {}),
      });
    }
  }
  return entries;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
