#!/usr/bin/env node
// Writes what is generated from the options table (src/config/options.ts) and what each front end declares
// (scripts/inputs-reference.ts): docs/inputs.md, the inputs reference, and the CLI table of the Jenkins
// library's Options.groovy; and the GitLab components' jobs (scripts/gitlab-templates.ts): the job of each stage
// template from its spec:inputs, and pipeline.yml from the four stage templates. `--check` fails instead when a
// committed file differs (CI runs it). The repository has no TypeScript runner, so the modules are bundled with
// esbuild first, as scripts/bundle.mjs bundles dist/.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const scripts = dirname(fileURLToPath(import.meta.url));
const repo = resolve(scripts, '..');
const dir = mkdtempSync(join(tmpdir(), 'gantry-docs-'));
try {
  await build({
    entryPoints: [join(scripts, 'inputs-reference.ts'), join(scripts, 'gitlab-templates.ts')],
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    logLevel: 'warning',
    // The module finds the repository from its own directory; the bundle lives elsewhere.
    define: { 'import.meta.dirname': JSON.stringify(scripts) },
  });
  const generator = await import(pathToFileURL(join(dir, 'inputs-reference.mjs')).href);
  const gitlab = await import(pathToFileURL(join(dir, 'gitlab-templates.mjs')).href);
  // Each generated file: its path and what it must contain, rendered in this order from what is on disk then
  // (the reference reads pipeline.yml's inputs, which come from the stage templates).
  const outputs = [
    ...gitlab.COMPONENTS.map((stage) => [
      gitlab.templateFile(stage),
      () => gitlab.renderStageTemplate(stage),
    ]),
    [gitlab.PIPELINE_FILE, () => gitlab.renderPipeline()],
    [generator.REFERENCE_FILE, () => generator.renderInputsReference()],
    [
      generator.JENKINS_OPTIONS_FILE,
      () => generator.renderJenkinsOptions(readFileSync(join(repo, generator.JENKINS_OPTIONS_FILE), 'utf8')),
    ],
    ...['.', 'build', 'scan', 'push', 'sign', 'verify', 'deploy', 'promote', 'abort'].map((action) => {
      const path = generator.actionFile(action);
      return [path, () => generator.renderActionInputs(action, readFileSync(join(repo, path), 'utf8'))];
    }),
  ];
  let stale = false;
  for (const [path, render] of outputs) {
    const file = join(repo, path);
    const text = render();
    let committed = '';
    try {
      committed = readFileSync(file, 'utf8');
    } catch {}
    if (process.argv.includes('--check')) {
      if (committed !== text) {
        process.stderr.write(`${path} is stale: run npm run docs\n`);
        stale = true;
      } else process.stderr.write(`${path} is up to date\n`);
    } else if (committed !== text) {
      writeFileSync(file, text);
      process.stderr.write(`wrote ${path}\n`);
    } else process.stderr.write(`${path} is up to date\n`);
  }
  if (stale) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
