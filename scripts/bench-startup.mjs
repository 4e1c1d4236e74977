#!/usr/bin/env node
// Cold-start figures of the bundles in dist/ (printed, never asserted), with the Node that GitHub runs actions
// with (node24: node_modules/node when installed, else the node running this script):
//   - for each entry (cli.js, gitlab.js, actions/*.js): the time from spawning `node <entry>` to its first line
//     of output (stdout or stderr), median of N runs after one discarded warm-up run. Actions get realistic
//     INPUT_* variables and runner files, so the first line is what the step would print first on GitHub; the
//     cluster is an unreachable loopback port, so a rollout entry prints its first line once it has loaded
//     everything it needs to talk to the cluster (no sandbox needed);
//   - each entry's size: the file itself, what node loads before the first line can be printed (the file and
//     the chunks it imports statically) and everything it can load (plus chunks imported on demand).
// Each is run cold (Node's compile cache off, as on a fresh runner) and warm (the bundles keep V8's compiled
// code in Node's compile cache; a second run on the machine reuses it).
// Goals (issue 5): first line ≤ 150 ms (cold) and ≤ 3 MB per entry; an action's first line is its step header,
// so the time to the first line after it (the step's own first work line) is printed beside it and judged too.
// Figures are noisy on a shared machine: the median is the figure to read, min and max show the spread.
// Usage: node scripts/bench-startup.mjs [--runs 10] [--only cli.js,actions/deploy.js] [--dist DIR]
// (--dist: another build's dist/, e.g. a commit's: git archive <commit> dist | tar -x -C /tmp/before)
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = process.argv.includes('--dist')
  ? resolve(process.argv[process.argv.indexOf('--dist') + 1])
  : join(repo, 'dist');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 10;
const only = process.argv.includes('--only')
  ? process.argv[process.argv.indexOf('--only') + 1].split(',')
  : null;
const GOAL_MS = 150;
const GOAL_BYTES = 3_000_000;

/** The Node GitHub runs node24 actions with: the pinned `node` devDependency when installed. */
const node =
  [join(repo, 'node_modules', 'node', 'bin', 'node'), join(repo, 'node_modules', '.bin', 'node')].find(
    existsSync,
  ) ?? process.execPath;
const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();

if (!existsSync(join(dist, 'cli.js'))) {
  console.error(`no ${join(dist, 'cli.js')}: run \`npm run build\` first`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------------------
// Sizes: an entry, the chunks it imports statically (loaded before it runs) and on demand (import()).

const STATIC_IMPORT =
  /(?:^|[;}\s])(?:import|export)\s*(?:[\w$\s{},*]*?\bfrom\s*)?["'](\.\.?\/[^"']+\.js)["']/g;
const DYNAMIC_IMPORT = /\bimport\(\s*["'](\.\.?\/[^"']+\.js)["']\s*\)/g;

function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const at = (re) => [...text.matchAll(re)].map((m) => resolve(dirname(file), m[1]));
  return { static: at(STATIC_IMPORT), dynamic: at(DYNAMIC_IMPORT) };
}

function closure(entry, withDynamic) {
  const seen = new Set([entry]);
  const queue = [entry];
  while (queue.length) {
    const { static: eager, dynamic } = importsOf(queue.shift());
    for (const next of withDynamic ? [...eager, ...dynamic] : eager) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return [...seen].reduce((sum, f) => sum + statSync(f).size, 0);
}

// ---------------------------------------------------------------------------------------------------------
// What each entry is run with.

const work = mkdtempSync(join(tmpdir(), 'gantry-bench-startup-'));
const closedPort = await new Promise((done) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    server.close(() => done(port));
  });
});
const kubeconfig = join(work, 'kubeconfig');
writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
clusters: [{ name: bench, cluster: { server: "https://127.0.0.1:${closedPort}", insecure-skip-tls-verify: true } }]
users: [{ name: bench, user: { token: bench-token } }]
contexts: [{ name: bench, context: { cluster: bench, user: bench, namespace: bench } }]
current-context: bench
`,
  { mode: 0o600 },
);
const manifests = join(work, 'app.yaml');
writeFileSync(
  manifests,
  `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, labels: { app: web } }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: app, image: placeholder }] }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80 }] }
`,
);
const context = join(work, 'context');
mkdirSync(context);
writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
writeFileSync(join(context, 'hello.txt'), 'hello\n');
const image = `127.0.0.1:${closedPort}/bench/web`;
const pinned = `${image}@sha256:${'ab'.repeat(32)}`;

/** The environment of a push to main on GitHub, plus the runner's files for one step. */
function githubStep(inputs) {
  const dir = mkdtempSync(join(work, 'step-'));
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTOR: 'octocat',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_RUN_ID: '9112345678',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTION: 'gantry',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_REF_TYPE: 'branch',
    GITHUB_SHA: '3f7c2a9e1b8d4c6f0a2e5b7d9c1f3a5e7b9d0c2e',
    GITHUB_WORKSPACE: context,
    RUNNER_TEMP: dir,
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary.md'),
  };
  for (const file of [env.GITHUB_OUTPUT, env.GITHUB_STATE, env.GITHUB_STEP_SUMMARY]) writeFileSync(file, '');
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  return { env, cwd: context };
}

const deployInputs = {
  manifests,
  images: `app=${pinned}`,
  namespace: 'bench',
  kubeconfig,
  strategy: 'canary',
  steps: '10,50',
  pause: '5s',
};
const localEnv = { PATH: process.env.PATH, HOME: process.env.HOME };

/** entry (relative to dist/) → how it is run: argv, env, cwd, and what the first line is. */
const scenarios = {
  'cli.js': [
    { label: 'gantry --version', args: ['--version'], env: localEnv, cwd: work },
    {
      label: 'gantry deploy (first line)',
      args: [
        'deploy',
        '--manifests',
        manifests,
        '--image',
        `app=${pinned}`,
        '--namespace',
        'bench',
        '--kubeconfig',
        kubeconfig,
      ],
      env: localEnv,
      cwd: work,
    },
  ],
  'gitlab.js': [
    {
      label: 'gantry-gitlab deploy (first line)',
      args: ['deploy'],
      env: {
        ...localEnv,
        GITLAB_CI: 'true',
        CI_PROJECT_DIR: work,
        GANTRY_INPUT_MANIFESTS: manifests,
        GANTRY_INPUT_IMAGE: `app=${pinned}`,
        GANTRY_INPUT_NAMESPACE: 'bench',
        GANTRY_INPUT_KUBECONFIG: kubeconfig,
      },
      cwd: work,
    },
  ],
  'actions/build.js': [{ label: 'build step', ...githubStep({ image, context, push: 'false' }) }],
  'actions/scan.js': [{ label: 'scan step', ...githubStep({ 'image-ref': pinned, severity: 'high' }) }],
  'actions/push.js': [{ label: 'push step', ...githubStep({ image: pinned, to: `${image}:copy` }) }],
  'actions/deploy.js': [{ label: 'deploy step', ...githubStep(deployInputs) }],
  'actions/promote.js': [
    { label: 'promote step', ...githubStep({ name: 'web', namespace: 'bench', kubeconfig }) },
  ],
  'actions/abort.js': [
    { label: 'abort step', ...githubStep({ name: 'web', namespace: 'bench', kubeconfig }) },
  ],
  'actions/pipeline.js': [
    { label: 'pipeline step', ...githubStep({ image, context, ...deployInputs, images: '' }) },
  ],
};

// ---------------------------------------------------------------------------------------------------------
// Timing

/**
 * CPU time a process has used so far, all its threads (ms, from /proc/<pid>/task/<tid>/schedstat): unlike the
 * wall-clock time it does not grow when other work on a busy machine keeps the process waiting for a core.
 */
function cpuMs(pid) {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`))
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    return ns / 1e6;
  } catch {
    return Number.NaN;
  }
}

/** Runs node <entry> to its end (at most 60 s): Node writes its compile cache when the process exits. */
function runToEnd(entry, scenario) {
  return new Promise((done) => {
    const child = spawn(node, [entry, ...(scenario.args ?? [])], {
      cwd: scenario.cwd,
      env: { ...scenario.env, ...scenario.extraEnv },
      stdio: 'ignore',
      detached: true,
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, 60_000);
    child.on('close', () => {
      clearTimeout(timer);
      done();
    });
  });
}

/**
 * An action's step header (src/platforms/github/entry.ts: `gantry/actions/deploy 0.1.0 (node v24.1.0)`), the
 * line an action entry prints before it loads its step. The first line after it is the step's own first line.
 */
const HEADER = /^gantry\S* \d+\.\d+\.\d+\S* \(node v/;

/**
 * Spawns node <entry>; resolves with ms (and CPU ms) to the first output line and that line, and ms to the
 * first line of the step's work (the first line that is not the step header; the first line itself when
 * there is no header) and that line; then stops the process group.
 */
function firstLine(entry, scenario) {
  return new Promise((done, fail) => {
    const started = process.hrtime.bigint();
    const child = spawn(node, [...(scenario.nodeArgs ?? []), entry, ...(scenario.args ?? [])], {
      cwd: scenario.cwd,
      env: { ...scenario.env, ...scenario.extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so whatever it started (buildah, gantry) stops with it
    });
    let buffered = '';
    let first = null;
    let finished = false;
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
    const onLine = (line) => {
      if (finished) return;
      const ms = elapsed();
      if (!first) {
        first = { ms, cpu: cpuMs(child.pid), line };
        scenario.onFirstLine?.();
        if (HEADER.test(line)) return;
      }
      finished = true;
      scenario.onWorkLine?.();
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      done({ ...first, workMs: ms, workLine: line });
    };
    const onData = (chunk) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\n'); end >= 0 && !finished; end = buffered.indexOf('\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        onLine(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', fail);
    child.on('close', (code) => {
      if (finished) return;
      if (buffered) onLine(buffered);
      if (finished) return;
      if (first) done({ ...first, workMs: Number.NaN, workLine: '(nothing after the header)' });
      else fail(new Error(`${relative(repo, entry)} exited ${code} without printing anything`));
    });
  });
}

/**
 * The files of dist/ an entry has loaded by the time it prints its first line, and by its first work line:
 * one more run of the scenario (untimed) with a module load hook that appends each URL node loads to a file.
 */
async function loadedBeforeFirstLine(file, scenario) {
  const list = join(work, 'loaded.txt');
  writeFileSync(list, '');
  const hook = `import { appendFileSync } from 'node:fs'; import { registerHooks } from 'node:module';
registerHooks({ load(url, context, next) { appendFileSync(${JSON.stringify(list)}, url + '\\n'); return next(url, context); } });`;
  const bytes = () => {
    const urls = readFileSync(list, 'utf8')
      .split('\n')
      .filter((url) => url.startsWith('file:'));
    const files = [...new Set(urls.map((url) => fileURLToPath(url)))].filter((f) => f.startsWith(dist));
    return files.reduce((sum, f) => sum + statSync(f).size, 0);
  };
  const loaded = { first: 0, work: 0 };
  await firstLine(file, {
    ...scenario,
    nodeArgs: ['--import', `data:text/javascript,${encodeURIComponent(hook)}`],
    onFirstLine: () => {
      loaded.first = bytes();
    },
    onWorkLine: () => {
      loaded.work = bytes();
    },
  });
  return loaded;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const mb = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;

// The floor: node itself, printing one line and nothing loaded.
const floor = [];
for (let i = 0; i <= runs; i++) {
  const { ms, cpu } = await firstLine('-p', { args: ['1'], env: localEnv, cwd: work, extraEnv: {} });
  if (i > 0) floor.push({ ms, cpu });
}

const entries = [
  'cli.js',
  'gitlab.js',
  ...readdirSync(join(dist, 'actions'))
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((f) => `actions/${f}`),
].filter((e) => !only || only.includes(e));

const rows = [];
for (const entry of entries) {
  const file = join(dist, entry);
  const size = statSync(file).size;
  const total = closure(file, true);
  for (const scenario of scenarios[entry] ?? [{ label: entry, args: [], env: localEnv, cwd: work }]) {
    // Cold: Node's compile cache off, as on a fresh runner. Warm: a compile cache of its own that the warm-up
    // run fills, as on the second run on a machine (the post step, a persistent runner, the CLI).
    const cold = { ...scenario, extraEnv: { NODE_DISABLE_COMPILE_CACHE: '1' } };
    const cacheHome = mkdtempSync(join(work, 'cache-'));
    const warm = { ...scenario, extraEnv: { TMPDIR: cacheHome } };
    const times = [];
    const cpu = [];
    const workTimes = [];
    const warmTimes = [];
    let line = '';
    let workLine = '';
    await runToEnd(file, warm);
    for (let i = 0; i <= runs; i++) {
      const result = await firstLine(file, cold);
      if (i > 0) {
        times.push(result.ms);
        cpu.push(result.cpu);
        workTimes.push(result.workMs);
      }
      line = result.line;
      workLine = result.workLine;
      const again = await firstLine(file, warm);
      if (i > 0) warmTimes.push(again.ms);
    }
    const loaded = await loadedBeforeFirstLine(file, cold);
    rows.push({
      entry,
      scenario: scenario.label,
      size,
      loaded: loaded.first,
      loadedAtWork: loaded.work,
      total,
      times,
      cpu,
      workTimes,
      warmTimes,
      line,
      workLine,
    });
    process.stderr.write(
      `${entry} (${scenario.label}): median ${median(times).toFixed(0)} ms to the first line: ${line.slice(0, 100)}\n` +
        (HEADER.test(line)
          ? `  median ${median(workTimes).toFixed(0)} ms to the first work line: ${workLine.slice(0, 100)}\n`
          : ''),
    );
  }
}
rmSync(work, { recursive: true, force: true });

console.log(
  `startup figures (${relative(repo, dist) || dist}): ${nodeVersion} (${relative(repo, node) || node}), median of ${runs} runs after a warm-up, first output line; goals ≤ ${GOAL_MS} ms and ≤ ${mb(GOAL_BYTES)} per entry`,
);
console.log(
  `  node itself (node -p 1): median ${median(floor.map((f) => f.ms)).toFixed(0)} ms, cpu ${median(floor.map((f) => f.cpu)).toFixed(0)} ms`,
);
const ms = (value) => `${value.toFixed(0)} ms`;
console.log(
  `  ${'entry'.padEnd(20)} ${'scenario'.padEnd(34)} ${'file'.padStart(9)} ${'loaded'.padStart(9)} ${'all'.padStart(9)} ${'median'.padStart(8)} ${'min'.padStart(6)} ${'max'.padStart(6)} ${'cpu'.padStart(7)} ${'warm'.padStart(7)} ${'work'.padStart(7)} ${'loaded'.padStart(9)}  goals`,
);
for (const r of rows) {
  const sizes = r.loaded <= GOAL_BYTES && r.total <= GOAL_BYTES;
  const first = median(r.times) <= GOAL_MS && sizes;
  const work = median(r.workTimes) <= GOAL_MS && sizes;
  console.log(
    [
      `  ${r.entry.padEnd(20)}`,
      r.scenario.padEnd(34),
      mb(r.size).padStart(9),
      mb(r.loaded).padStart(9),
      mb(r.total).padStart(9),
      ms(median(r.times)).padStart(8),
      Math.min(...r.times)
        .toFixed(0)
        .padStart(6),
      Math.max(...r.times)
        .toFixed(0)
        .padStart(6),
      ms(median(r.cpu)).padStart(7),
      ms(median(r.warmTimes)).padStart(7),
      ms(median(r.workTimes)).padStart(7),
      mb(r.loadedAtWork).padStart(9),
      ` first line ${first ? 'met' : 'MISSED'}, work line ${work ? 'met' : 'MISSED'}`,
    ].join(' '),
  );
}
console.log(
  '  file: the entry file; loaded: what it has loaded from dist/ when it prints its first line; all: everything it can load (the chunks it imports, at once or on demand)',
);
console.log(
  "  median/min/max: wall clock to the first line, compile cache off (a fresh runner); cpu: median CPU time of the process by then (all threads), steadier on a busy machine; warm: median wall clock with Node's compile cache filled by an earlier run (goals judged on the cold figures)",
);
console.log(
  "  work, loaded: an action prints its step header (action, version, Node) before it loads its step; work is the median wall clock (cold) to the first line after the header, the step's own first line, and loaded what it has loaded from dist/ by then (the same as the first line for entries without a header)",
);
