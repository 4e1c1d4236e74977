#!/usr/bin/env node
// Bundles every entry point into dist/ with esbuild. `--check` bundles into a temporary directory and fails
// when the committed dist/ differs (stale or hand-edited), the way docker/build-push-action's CI does.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** entry source → output file under dist/ */
export const entries = {
  'src/cli/index.ts': 'cli.js',
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
  rmSync(join(repo, 'dist'), { recursive: true, force: true });
  mkdirSync(join(repo, 'dist'), { recursive: true });
  await bundleInto(join(repo, 'dist'));
  console.error(
    `bundled ${Object.keys(entries).length} entry points into dist/ in ${Date.now() - started} ms`,
  );
}
