#!/usr/bin/env node
// Writes docs/inputs.md, the inputs reference, from the options table and what each front end declares
// (scripts/inputs-reference.ts). `--check` fails instead when the committed file differs. The repository has
// no TypeScript runner, so the module is bundled with esbuild first, as scripts/bundle.mjs bundles dist/.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const scripts = dirname(fileURLToPath(import.meta.url));
const repo = resolve(scripts, '..');
const dir = mkdtempSync(join(tmpdir(), 'gantry-docs-'));
try {
  const outfile = join(dir, 'inputs-reference.mjs');
  await build({
    entryPoints: [join(scripts, 'inputs-reference.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    logLevel: 'warning',
    // The module finds the repository from its own directory; the bundle lives elsewhere.
    define: { 'import.meta.dirname': JSON.stringify(scripts) },
  });
  const { renderInputsReference, REFERENCE_FILE } = await import(pathToFileURL(outfile).href);
  const file = join(repo, REFERENCE_FILE);
  const text = renderInputsReference();
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(file, 'utf8');
    } catch {}
    if (committed !== text) {
      process.stderr.write(`${REFERENCE_FILE} is stale: run npm run docs\n`);
      process.exit(1);
    }
    process.stderr.write(`${REFERENCE_FILE} is up to date\n`);
  } else {
    writeFileSync(file, text);
    process.stderr.write(`wrote ${REFERENCE_FILE}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
