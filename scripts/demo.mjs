#!/usr/bin/env node
// `npm run demo`: Gantry's main job on the local sandbox, told step by step.
//   1. build the demo service with buildah, tags from the git context;
//   2. scan it with trivy against the sandbox's vulnerability database: it passes the gate;
//   3. push it to the sandbox registry by digest;
//   4. build a release that ships a vulnerable lodash: the scan gate stops it, nothing is pushed.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(repo, 'dist', 'cli.js');
const out = mkdtempSync(join(tmpdir(), 'gantry-demo-'));
const started = Date.now();

const say = (line) => process.stderr.write(`\n\x1b[1m== ${line}\x1b[0m\n`);

say('starting the local sandbox (registry, buildah store, trivy database)');
const envText = execFileSync(process.execPath, [join(repo, 'scripts', 'testbed.mjs'), 'up'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
const sandbox = Object.fromEntries(
  envText
    .trim()
    .split('\n')
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);
const env = { ...process.env, ...sandbox };
const image = `${sandbox.REGISTRY}/demo/app`;

/** Runs one gantry command with live progress on stderr and returns its JSON result and exit code. */
function gantry(args) {
  process.stderr.write(`$ gantry ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [cli, ...args, '--json'], {
    cwd: repo,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { code: result.status, json: JSON.parse(result.stdout || '{}') };
}

function expect(condition, message) {
  if (!condition) {
    process.stderr.write(`demo: ${message}\n`);
    process.exit(1);
  }
}

const rows = [];
say('1/4 build the demo service');
const build = gantry(['build', '--image', image, '--context', 'examples/demo-app', '--tag', 'demo']);
expect(build.code === 0, `build failed: ${build.json.error}`);
rows.push([
  'build',
  `${build.json.refs.length} tags: ${build.json.tags.join(', ')}`,
  `${(build.json.durationMs / 1000).toFixed(1)}s`,
]);

say('2/4 scan it (gate: high)');
const scan = gantry([
  'scan',
  '--image',
  `${image}:demo`,
  '--severity-threshold',
  'high',
  '--sarif',
  join(out, 'scan.sarif'),
  '--gitlab-report',
  join(out, 'gl-container-scanning.json'),
  '--junit',
  join(out, 'scan-junit.xml'),
  '--markdown',
  join(out, 'scan.md'),
]);
expect(scan.code === 0, `scan of the good release failed: ${scan.json.error ?? 'findings above threshold'}`);
const c = scan.json.counts;
rows.push([
  'scan',
  `passed — critical ${c.critical}, high ${c.high}, medium ${c.medium}, low ${c.low}`,
  `${(scan.json.durationMs / 1000).toFixed(1)}s`,
]);

say('3/4 push it by digest');
const push = gantry([
  'push',
  '--image',
  `${image}:demo`,
  ...build.json.tags.flatMap((t) => ['--to', `${image}:${t}`]),
]);
expect(push.code === 0, `push failed: ${push.json.error}`);
rows.push([
  'push',
  `${push.json.digest.slice(0, 19)}… → ${push.json.refs.length} refs`,
  `${(push.json.durationMs / 1000).toFixed(1)}s`,
]);

say('4/4 a release with a vulnerable lodash: the gate must stop it');
const badBuild = gantry([
  'build',
  '--image',
  `${sandbox.REGISTRY}/demo/app-vulnerable`,
  '--context',
  'examples/demo-app-vulnerable',
  '--tag',
  'demo',
]);
expect(badBuild.code === 0, `build of the vulnerable release failed: ${badBuild.json.error}`);
const badScan = gantry([
  'scan',
  '--image',
  `${sandbox.REGISTRY}/demo/app-vulnerable:demo`,
  '--severity-threshold',
  'high',
]);
expect(badScan.code === 1, 'the vulnerable release was not stopped by the scan gate');
const ids = badScan.json.findings.map((f) => `${f.id} (${f.severity})`).join(', ');
rows.push(['gate', `vulnerable release blocked: ${ids}`, 'exit 1']);

say('summary');
const width = Math.max(...rows.map((r) => r[1].length));
process.stdout.write(`${['stage'.padEnd(6), 'result'.padEnd(width), 'time'].join('  ')}\n`);
for (const [stage, result, time] of rows)
  process.stdout.write(`${stage.padEnd(6)}  ${result.padEnd(width)}  ${time}\n`);
process.stdout.write(
  `\nreports: ${out}\nthe sandbox is still running: \`npm run testbed -- down\` stops it.\n`,
);
process.stdout.write(`demo finished in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
