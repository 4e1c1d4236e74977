#!/usr/bin/env node
// Bundles every entry point into dist/ with esbuild. `--check` bundles into a temporary directory and fails
// when the committed dist/ differs (stale or hand-edited), the way docker/build-push-action's CI does.
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
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** entry source → output file under dist/ */
export const entries = {
  'src/cli/index.ts': 'cli.js',
  'src/platforms/gitlab/main.ts': 'gitlab.js',
  'src/platforms/github/pipeline.ts': 'actions/pipeline.js',
  'src/platforms/github/build.ts': 'actions/build.js',
  'src/platforms/github/scan.ts': 'actions/scan.js',
  'src/platforms/github/push.ts': 'actions/push.js',
  'src/platforms/github/deploy.ts': 'actions/deploy.js',
  'src/platforms/github/promote.ts': 'actions/promote.js',
  'src/platforms/github/abort.ts': 'actions/abort.js',
};

/** The Jenkins shared library loads the CLI with libraryResource, so it carries a copy of dist/cli.js. */
const jenkinsCopies = {
  'cli.js': 'jenkins/resources/dev/gantry/cli.js',
  'cli.js.LEGAL.txt': 'jenkins/resources/dev/gantry/cli.js.LEGAL.txt',
};

async function bundleInto(outDir) {
  for (const [source, out] of Object.entries(entries)) {
    await build({
      entryPoints: [join(repo, source)],
      outfile: join(outDir, out),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      minify: true,
      legalComments: 'linked',
      logLevel: 'warning',
      // Some dependencies are CommonJS and call require(); give the ESM bundle one.
      banner: {
        js: "#!/usr/bin/env node\nimport { createRequire as __gantryRequire } from 'node:module'; const require = __gantryRequire(import.meta.url);",
      },
    });
  }
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

const check = process.argv.includes('--check');
if (check) {
  const temp = mkdtempSync(join(tmpdir(), 'gantry-dist-'));
  try {
    await bundleInto(temp);
    const fresh = listFiles(temp);
    const committed = listFiles(join(repo, 'dist'));
    const stale = fresh.filter(
      (f) =>
        !committed.includes(f) || !readFileSync(join(temp, f)).equals(readFileSync(join(repo, 'dist', f))),
    );
    const extra = committed.filter((f) => !fresh.includes(f));
    for (const [f, copy] of Object.entries(jenkinsCopies)) {
      const at = join(repo, copy);
      if (
        existsSync(join(temp, f)) &&
        (!existsSync(at) || !readFileSync(at).equals(readFileSync(join(temp, f))))
      ) {
        stale.push(f);
        console.error(`${copy} is stale: run \`npm run build\` and commit it`);
      }
    }
    if (stale.length || extra.length) {
      for (const f of stale) console.error(`dist/${f} is stale: run \`npm run build\` and commit dist/`);
      for (const f of extra) console.error(`dist/${f} is not produced by the build: remove it`);
      process.exit(1);
    }
    console.error(`dist/ is up to date (${fresh.length} files)`);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
} else {
  const started = Date.now();
  // Bundle beside dist/ and swap it in, so a CLI run from dist/ never sees a half-written bundle.
  const fresh = mkdtempSync(join(repo, '.dist-'));
  try {
    await bundleInto(fresh);
    const old = `${fresh}-old`;
    if (existsSync(join(repo, 'dist'))) renameSync(join(repo, 'dist'), old);
    renameSync(fresh, join(repo, 'dist'));
    rmSync(old, { recursive: true, force: true });
    for (const [f, copy] of Object.entries(jenkinsCopies)) {
      if (existsSync(join(repo, 'dist', f))) copyFileSync(join(repo, 'dist', f), join(repo, copy));
    }
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
  console.error(
    `bundled ${Object.keys(entries).length} entry points into dist/ in ${Date.now() - started} ms`,
  );
}
