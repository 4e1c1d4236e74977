import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The layering docs/architecture.md describes, checked on the source: every relative import of every file in
// src/ (static and dynamic), as a graph.
const src = resolve(import.meta.dirname, '..', '..', '..', 'src');
const files: string[] = [];
const walk = (dir: string) => {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.ts')) files.push(path);
  }
};
walk(src);
const graph = new Map<string, string[]>(
  files.map((file) => {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:from\s+|import\()\s*['"](\.[^'"]+)['"]/g)].map((m) =>
      resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')),
    );
    return [file, targets.filter((t) => files.includes(t))];
  }),
);
const name = (file: string) => relative(src, file);

/** Every import cycle: the strongly connected groups of more than one file (Tarjan). */
function cycles(): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(name(w));
      } while (w !== v);
      if (group.length > 1) found.push(group);
    }
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return found;
}

const importsFrom = (from: string, to: string) =>
  files
    .filter((f) => name(f).startsWith(`${from}/`))
    .flatMap((f) =>
      graph
        .get(f)!
        .filter((t) => name(t).startsWith(`${to}/`))
        .map((t) => `${name(f)} -> ${name(t)}`),
    );

describe('the layering of src/', () => {
  it('reads a graph worth checking', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(importsFrom('cli', 'commands').length).toBeGreaterThan(0);
  });

  it('has no import cycle', () => {
    expect(cycles()).toEqual([]);
  });

  it.each([
    ['platforms', 'cli', 'front ends call the use cases in src/commands, never the CLI'],
    ['commands', 'cli', 'use cases know no front end'],
    ['commands', 'platforms', 'use cases know no front end'],
    ['deploy', 'report', 'the rollout engine hands reports a result; it does not write them'],
    ['deploy', 'commands', 'the core does not call up into the use cases'],
    ['build', 'commands', 'the core does not call up into the use cases'],
    ['scan', 'commands', 'the core does not call up into the use cases'],
    ['registry', 'commands', 'the core does not call up into the use cases'],
  ])('nothing in src/%s imports src/%s (%s)', (from, to) => {
    expect(importsFrom(from, to)).toEqual([]);
  });
});
