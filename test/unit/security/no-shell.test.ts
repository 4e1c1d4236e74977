import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// No input ever reaches a shell: every process Gantry starts is started from an argument array. This reads
// every source file and fails on each way Node or execa could hand a string to /bin/sh.

const root = join(import.meta.dirname, '..', '..', '..');
const src = join(root, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|mts|cts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Code only: comments and string contents blanked, so a doc comment that says "shell: true" is no hit. */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:\\])\/\/.*$/gm, '$1');
}

const FORBIDDEN: [string, RegExp][] = [
  ['shell: true (or any shell option)', /\bshell\s*:/],
  ['child_process exec / execSync (a command string run by /bin/sh)', /\bexec(Sync)?\s*\(/],
  [
    'importing exec or execSync from child_process',
    /import\s*\{[^}]*\bexec(Sync)?\b[^}]*\}\s*from\s*['"](node:)?child_process['"]/,
  ],
  [
    'execa command strings (execaCommand, $`…`)',
    /\bexecaCommand(Sync)?\b|(?:^|[\s=(,;:!&|])\$(\(\s*\{[^}]*\}\s*\))?\s*`/,
  ],
  ['spawn/execFile of a shell', /\b(spawn|execFile|execa|run)(Sync)?\s*\(\s*['"](\/bin\/)?(ba|da|z)?sh['"]/],
  ['eval or new Function', /\beval\s*\(|new\s+Function\s*\(/],
];

describe('no input reaches a shell', () => {
  const files = sources(src);

  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it.each(FORBIDDEN)('src/ never uses %s', (_what, pattern) => {
    const hits = files.flatMap((file) =>
      code(readFileSync(file, 'utf8'))
        .split('\n')
        .flatMap((line, index) =>
          pattern.test(line.replace(/\.exec\(/g, '.regexExec('))
            ? [`${relative(root, file)}:${index + 1}: ${line.trim()}`]
            : [],
        ),
    );
    expect(hits).toEqual([]);
  });

  it('starts processes only through the argument-array helpers', () => {
    const starters = files.filter((file) =>
      // A static import or an import() (src/util/exec.ts loads execa with its first tool run).
      /(from\s*|import\(\s*)['"]((node:)?child_process|execa)['"]/.test(readFileSync(file, 'utf8')),
    );
    expect(starters.map((file) => relative(root, file)).sort()).toEqual([
      'src/cli/main.ts',
      'src/platforms/gitlab/job.ts',
      'src/util/exec.ts',
    ]);
  });

  it('the pattern catches what it is meant to', () => {
    const hit = (line: string) => FORBIDDEN.some(([, p]) => p.test(line.replace(/\.exec\(/g, '.regexExec(')));
    expect(hit("spawn('ls', [], { shell: true })")).toBe(true);
    expect(hit('execSync(`buildah push $REF`)')).toBe(true);
    expect(hit("exec('ls')")).toBe(true);
    expect(hit('await $`ls $DIR`')).toBe(true);
    expect(hit('const sh = $({ cwd })`ls $DIR`')).toBe(true);
    expect(hit('new RegExp(`^a{1,5}$`)')).toBe(false);
    expect(hit("run('sh', ['-c', cmd])")).toBe(true);
    expect(hit('const m = /x/.exec(text)')).toBe(false);
    expect(hit("run('buildah', ['push', ref])")).toBe(false);
  });
});
