import { readFileSync } from 'node:fs';
import { InputError } from '../util/errors.js';

const INSTRUCTIONS = new Set([
  'FROM',
  'RUN',
  'CMD',
  'LABEL',
  'MAINTAINER',
  'EXPOSE',
  'ENV',
  'ADD',
  'COPY',
  'ENTRYPOINT',
  'VOLUME',
  'USER',
  'WORKDIR',
  'ARG',
  'ONBUILD',
  'STOPSIGNAL',
  'HEALTHCHECK',
  'SHELL',
]);

/**
 * A syntax check of the Dockerfile before any builder runs, so that a Dockerfile that does not parse is
 * reported as bad input (exit 2) naming the line, not as a builder failure. It checks what every builder
 * agrees on: each instruction is known, and FROM comes first (after ARGs). Builders still do the full parse.
 * Hand-written rather than a parser dependency: the rules are these few lines, and the builders themselves
 * remain the authority on everything else.
 */
export function checkDockerfile(path: string, inputName = '--file'): DockerfileInfo {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InputError(inputName, `cannot read Dockerfile "${path}"`);
  }
  let escapeChar = '\\';
  let sawFrom = false;
  let sawInstruction = false;
  let continuation = false;
  let heredocEnd: string | undefined;
  const stages: string[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    const lineNo = index + 1;
    if (heredocEnd !== undefined) {
      if (line === heredocEnd) heredocEnd = undefined;
      continue;
    }
    if (!sawInstruction) {
      const directive = /^#\s*escape\s*=\s*(\S)/i.exec(line);
      if (directive) escapeChar = directive[1]!;
    }
    if (line === '' || line.startsWith('#')) continue;
    const wasContinuation = continuation;
    continuation = line.endsWith(escapeChar);
    if (wasContinuation) continue;
    const keyword = /^(\S+)/.exec(line)![1]!.toUpperCase();
    if (!INSTRUCTIONS.has(keyword)) {
      throw new InputError(
        inputName,
        `${path} line ${lineNo}: unknown instruction ${JSON.stringify(clip(/^(\S+)/.exec(line)![1]!))}`,
      );
    }
    if (!sawFrom && keyword !== 'ARG' && keyword !== 'FROM') {
      throw new InputError(inputName, `${path} line ${lineNo}: expected FROM before ${keyword}`);
    }
    if (keyword === 'FROM') {
      const words = line.split(/\s+/);
      if (words.length < 2) throw new InputError(inputName, `${path} line ${lineNo}: FROM needs an image`);
      const as = words.findIndex((word, i) => i > 1 && word.toUpperCase() === 'AS');
      if (as > 0 && words[as + 1]) stages.push(words[as + 1]!.toLowerCase());
      sawFrom = true;
    }
    sawInstruction = true;
    const heredoc = /<<-?["']?([A-Za-z_][A-Za-z0-9_]*)["']?/.exec(line);
    if (heredoc && (keyword === 'RUN' || keyword === 'COPY')) heredocEnd = heredoc[1];
  }
  if (continuation) throw new InputError(inputName, `${path}: ends in the middle of a continued line`);
  if (!sawFrom) throw new InputError(inputName, `${path}: no FROM instruction`);
  return { stages };
}

/** What the syntax check learned about a Dockerfile. */
export interface DockerfileInfo {
  /** Named stages (`FROM … AS name`), lower-cased as builders compare them. */
  stages: string[];
}

/**
 * A build target must name a stage of the Dockerfile; checked before any builder runs (exit 2, not a
 * builder failure after the fact).
 */
export function checkTarget(target: string | undefined, info: DockerfileInfo, path: string): void {
  if (target === undefined) return;
  if (info.stages.includes(target.toLowerCase())) return;
  const known =
    info.stages.length > 0 ? `; its stages: ${info.stages.join(', ')}` : '; it has no named stages';
  throw new InputError('--target', `no stage ${JSON.stringify(target)} in ${path}${known}`);
}

/** A piece of a file quoted in an error: short, so a wrong path does not print the file's content. */
function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
