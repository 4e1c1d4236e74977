#!/usr/bin/env node
// Bundles every entry point into dist/ with esbuild, and the Jenkins library's single-file CLI. `--check`
// bundles into a temporary directory and fails when the committed files differ (stale or hand-edited), the way
// docker/build-push-action's CI does. `--jenkins` (with or without --check) does the Jenkins CLI only.
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * entry source → output file under dist/. All entries are bundled together with code splitting: each entry
 * file holds its own code and imports what it shares with the others from dist/chunks/, and code that only
 * some of an entry's work needs (a CLI command's handler, the rollout engine with the Kubernetes client, the
 * GitLab merge-request client) is imported when that work starts. Startup then parses and runs only what it
 * uses (issue 5: `gantry --version` went from ~2.8 MB parsed to ~0.1 MB). An action's entry
 * (src/platforms/github/entries/) holds only its step header and imports the step itself on demand, so the step
 * log starts before the adapter and its dependencies load. dist/ is used as a whole: the GitHub actions point
 * into it, npm's `bin` links to it, the GitLab tool image copies it.
 */
export const entries = {
  'src/cli/index.ts': 'cli.js',
  'src/platforms/gitlab/main.ts': 'gitlab.js',
  'src/platforms/github/entries/pipeline.ts': 'actions/pipeline.js',
  'src/platforms/github/entries/build.ts': 'actions/build.js',
  'src/platforms/github/entries/scan.ts': 'actions/scan.js',
  'src/platforms/github/entries/push.ts': 'actions/push.js',
  'src/platforms/github/entries/sign.ts': 'actions/sign.js',
  'src/platforms/github/entries/verify.ts': 'actions/verify.js',
  'src/platforms/github/entries/deploy.ts': 'actions/deploy.js',
  'src/platforms/github/entries/promote.ts': 'actions/promote.js',
  'src/platforms/github/entries/abort.ts': 'actions/abort.js',
};

/**
 * The Jenkins shared library loads the CLI with libraryResource and writes it to the agent as one file, so it
 * carries its own bundle of the CLI: the same source, one self-contained file (no chunks).
 */
const jenkinsDir = 'jenkins/resources/dev/gantry';
const jenkinsFiles = ['cli.js', 'cli.js.LEGAL.txt'];

/**
 * Modules of dependencies that nothing in Gantry can reach at run time, replaced by small stand-ins so that no
 * entry parses and evaluates them at startup. Each is unreachable whatever the input or the kubeconfig:
 *   - zod's `locales` namespace (every translation of its messages, ~260 kB): zod registers English from
 *     locales/en.js itself, and only `z.config(z.locales.xx())` would reach another one; Gantry never calls
 *     it. The stand-in keeps `locales.en`.
 *   - @actions/http-client under @actions/core (and undici 6 behind it, ~420 kB): @actions/core uses it only
 *     in `core.getIDToken()` (OIDC tokens), which Gantry never calls. The stand-in throws if it ever were.
 * Nothing of @kubernetes/client-node is replaced: its auth providers, proxy agents and HTTP stack are all
 * reachable from some kubeconfig, so they stay.
 */
const unreachable = {
  name: 'gantry-unreachable-modules',
  setup(b) {
    // A module outside the file namespace is named by its path as given here, and esbuild hashes that name into
    // the chunk names: an absolute path would make dist/ differ with the checkout's folder (CI clones elsewhere),
    // so the name is relative to the repository and the folder travels in pluginData.
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      const dir = dirname(join(dirname(args.importer), args.path));
      return { path: relative(repo, join(dir, 'index.js')), namespace: 'zod-locales', pluginData: { dir } };
    });
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: "export { default as en } from './en.js';\n",
      resolveDir: args.pluginData.dir,
    }));
    b.onResolve({ filter: /^@actions\/http-client(\/lib\/auth)?$/ }, (args) =>
      /[\\/]node_modules[\\/]@actions[\\/]core[\\/]/.test(args.importer)
        ? { path: args.path, namespace: 'actions-http-client' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'actions-http-client' }, () => ({
      contents: [
        'const missing = () => { throw new Error("@actions/http-client is not bundled with Gantry (core.getIDToken is not used)"); };',
        'export class HttpClient { constructor() { missing(); } }',
        'export class BearerCredentialHandler { constructor() { missing(); } }',
        '',
      ].join('\n'),
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  legalComments: 'linked',
  logLevel: 'warning',
  plugins: [unreachable],
  // Some dependencies are CommonJS and call require(); give the ESM bundle one. And keep V8's compiled code
  // of the chunks loaded on demand (the Kubernetes client's ~2 MB above all) in Node's compile cache
  // (os.tmpdir()/node-compile-cache, Node ≥ 22.1; NODE_DISABLE_COMPILE_CACHE=1 turns it off), as tsc does: the
  // first run on a machine compiles, later ones (the post step, the next job on a persistent runner, every
  // CLI call) skip most of it.
  banner: {
    // Every output file (entries and chunks) starts with this, so whichever module Node evaluates first
    // refuses a Node older than 22 with one line instead of a stack trace from deep in a dependency.
    js: "#!/usr/bin/env node\nimport * as __gantryModule from 'node:module'; if (Number(process.versions.node.split('.')[0]) < 22) { process.stderr.write('gantry: needs Node.js 22 or newer; this is ' + process.version + '\\n'); process.exit(3); } const require = __gantryModule.createRequire(import.meta.url); __gantryModule.enableCompileCache?.();",
  },
};

async function bundleInto(outDir) {
  await build({
    ...common,
    entryPoints: Object.entries(entries).map(([source, out]) => ({
      in: join(repo, source),
      out: out.replace(/\.js$/, ''),
    })),
    outdir: outDir,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
  });
}

/** The Jenkins library's single-file CLI (dynamic imports stay in the file, evaluated when reached). */
async function bundleJenkinsInto(outDir) {
  await build({ ...common, entryPoints: [join(repo, 'src/cli/index.ts')], outfile: join(outDir, 'cli.js') });
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

const check = process.argv.includes('--check');
const jenkinsOnly = process.argv.includes('--jenkins');
if (check) {
  const temp = mkdtempSync(join(tmpdir(), 'gantry-dist-'));
  try {
    const stale = [];
    const extra = [];
    if (!jenkinsOnly) {
      await bundleInto(join(temp, 'dist'));
      const fresh = listFiles(join(temp, 'dist'));
      const committed = listFiles(join(repo, 'dist'));
      for (const f of fresh) {
        if (
          !committed.includes(f) ||
          !readFileSync(join(temp, 'dist', f)).equals(readFileSync(join(repo, 'dist', f)))
        )
          stale.push(`dist/${f}`);
      }
      for (const f of committed) if (!fresh.includes(f)) extra.push(`dist/${f}`);
    }
    await bundleJenkinsInto(join(temp, 'jenkins'));
    for (const f of jenkinsFiles) {
      const at = join(repo, jenkinsDir, f);
      if (!existsSync(at) || !readFileSync(at).equals(readFileSync(join(temp, 'jenkins', f))))
        stale.push(`${jenkinsDir}/${f}`);
    }
    if (stale.length || extra.length) {
      for (const f of stale) console.error(`${f} is stale: run \`npm run build\` and commit it`);
      for (const f of extra) console.error(`${f} is not produced by the build: remove it`);
      process.exit(1);
    }
    console.error(
      jenkinsOnly ? `${jenkinsDir}/cli.js is up to date` : 'dist/ and the Jenkins CLI are up to date',
    );
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
} else {
  const started = Date.now();
  // Bundle beside dist/ and swap it in, so a CLI run from dist/ never sees a half-written bundle. (A run that
  // started before the swap and imports a chunk afterwards finds the new dist/; if that chunk's name changed, the
  // import fails. A released dist/ never changes under its runs; don't rebuild under running tests.)
  const fresh = mkdtempSync(join(repo, '.dist-'));
  try {
    if (!jenkinsOnly) await bundleInto(join(fresh, 'dist'));
    await bundleJenkinsInto(join(fresh, 'jenkins'));
    if (!jenkinsOnly) {
      const old = `${fresh}-old`;
      if (existsSync(join(repo, 'dist'))) renameSync(join(repo, 'dist'), old);
      renameSync(join(fresh, 'dist'), join(repo, 'dist'));
      rmSync(old, { recursive: true, force: true });
    }
    for (const f of jenkinsFiles) copyFileSync(join(fresh, 'jenkins', f), join(repo, jenkinsDir, f));
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
  console.error(
    jenkinsOnly
      ? `bundled the Jenkins CLI into ${jenkinsDir}/cli.js in ${Date.now() - started} ms`
      : `bundled ${Object.keys(entries).length} entry points into dist/ and the Jenkins CLI in ${Date.now() - started} ms`,
  );
}
