#!/usr/bin/env node
// Build and push figures on the local sandbox (printed, never asserted):
//   - cold build (empty image store) vs warm rebuild of an unchanged context, median of N runs each, with
//     buildah and with docker buildx (the daemon's docker driver, and the remote BuildKit builder, whose cold
//     build is also timed reading only the registry cache written with type=registry,mode=max);
//   - bytes uploaded to the registry when an image is pushed the first time and when it is pushed again
//     unchanged (goal: 0), counted by a proxy in front of the real registry.
// Usage: node scripts/bench-build-push.mjs [--runs 5]
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startRegistryProxy } from '../test/bed/registry-proxy.mjs';

const execFileAsync = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const cli = join(repo, 'dist', 'cli.js');
const sandbox = Object.fromEntries(
  execFileSync(process.execPath, [join(repo, 'scripts', 'testbed.mjs'), 'up'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      GANTRY_TESTBED_COMPONENTS: process.env.GANTRY_TESTBED_COMPONENTS ?? 'registry,buildah,docker,trivy',
    },
  })
    .trim()
    .split('\n')
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);

/** A context with a few layers: a busybox base, a RUN that writes 4 MB, and the app files. */
function makeContext() {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-bench-'));
  copyFileSync('/bin/busybox', join(dir, 'busybox'));
  mkdirSync(join(dir, 'app'));
  for (let i = 0; i < 20; i++) writeFileSync(join(dir, 'app', `file-${i}.txt`), `content ${i}\n`.repeat(500));
  writeFileSync(
    join(dir, 'Dockerfile'),
    [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
      'RUN dd if=/dev/urandom of=/data.bin bs=1M count=4 2>/dev/null',
      'COPY app/ /app/',
      'USER 65532',
      '',
    ].join('\n'),
  );
  return dir;
}

function freshStore() {
  const root = mkdtempSync(join(tmpdir(), 'gantry-bench-store-'));
  const conf = join(root, 'storage.conf');
  writeFileSync(conf, `[storage]\ndriver = "vfs"\ngraphroot = "${root}/storage"\nrunroot = "${root}/run"\n`);
  return { root, conf };
}

/** Runs gantry asynchronously (the counting proxy lives in this process and must keep answering). */
async function gantry(args, env) {
  const started = process.hrtime.bigint();
  const { stdout } = await execFileAsync(process.execPath, [cli, ...args, '--json', '--quiet'], {
    encoding: 'utf8',
    env: { ...process.env, ...sandbox, ...env },
  }).catch((error) => {
    throw new Error(`gantry ${args[0]} failed: ${error.stdout}${error.stderr}`);
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, json: JSON.parse(stdout) };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const context = makeContext();
const cold = [];
const warm = [];
for (let i = 0; i < runs; i++) {
  const store = freshStore();
  const env = { CONTAINERS_STORAGE_CONF: store.conf };
  const image = `${sandbox.REGISTRY}/bench/app`;
  cold.push((await gantry(['build', '--image', image, '--context', context, '--tag', `run${i}`], env)).ms);
  warm.push((await gantry(['build', '--image', image, '--context', context, '--tag', `run${i}`], env)).ms);
  rmSync(store.root, { recursive: true, force: true });
}

// buildx: the builder's own cache is emptied before each cold build.
const daemon = {
  DOCKER_HOST: sandbox.GANTRY_TESTBED_DOCKER_HOST,
  DOCKER_CONFIG: sandbox.GANTRY_TESTBED_DOCKER_CONFIG,
};
const builders = {
  'buildx, docker driver': { ...daemon },
  'buildx, remote builder': { ...daemon, BUILDX_BUILDER: sandbox.GANTRY_TESTBED_BUILDX_REMOTE },
};
const buildx = {};
for (const [name, builderEnv] of Object.entries(builders)) {
  const env = { ...builderEnv, GANTRY_IMAGE_STORE: mkdtempSync(join(tmpdir(), 'gantry-bench-images-')) };
  const figures = { cold: [], warm: [], registryCache: [] };
  const remote = Boolean(builderEnv.BUILDX_BUILDER);
  const cache = `${sandbox.REGISTRY}/bench/buildx-cache-${Date.now()}`;
  for (let i = 0; i < runs; i++) {
    const image = `${sandbox.REGISTRY}/bench/buildx`;
    // The daemon's builder has no bridge in the sandbox: its RUN steps take the host's network (the remote
    // builder runs every step in it already).
    const network = remote ? [] : ['--network', 'host'];
    const args = [
      'build',
      '--builder',
      'buildx',
      ...network,
      '--image',
      image,
      '--context',
      context,
      '--tag',
      `run${i}`,
    ];
    const prune = () =>
      execFileAsync('docker', ['buildx', 'prune', '--all', '--force'], { env: { ...process.env, ...env } });
    await prune();
    const withCache = remote ? ['--cache-to', `type=registry,ref=${cache},mode=max`] : [];
    figures.cold.push((await gantry([...args, ...withCache], env)).ms);
    figures.warm.push((await gantry(args, env)).ms);
    if (remote) {
      await prune();
      figures.registryCache.push(
        (await gantry([...args, '--cache-from', `type=registry,ref=${cache}`], env)).ms,
      );
    }
  }
  buildx[name] = figures;
  rmSync(env.GANTRY_IMAGE_STORE, { recursive: true, force: true });
}

const proxy = await startRegistryProxy({ target: sandbox.REGISTRY });
const store = freshStore();
const env = { CONTAINERS_STORAGE_CONF: store.conf };
const local = `${sandbox.REGISTRY}/bench/push`;
await gantry(['build', '--image', local, '--context', context, '--tag', 'v1'], env);
const first = await gantry(
  ['push', '--image', `${local}:v1`, '--to', `${proxy.url}/bench/push-${Date.now()}:v1`],
  env,
);
const firstStats = { ...proxy.stats() };
const target = first.json.refs[0];
const before = proxy.stats().uploadedBytes;
const again = await gantry(['push', '--image', `${local}:v1`, '--to', target], env);
const againBytes = proxy.stats().uploadedBytes - before;
const beforeTag = proxy.stats().uploadedBytes;
await gantry(['push', '--image', `${local}:v1`, '--to', target.replace(/:v1$/, ':v1-again')], env);
const tagBytes = proxy.stats().uploadedBytes - beforeTag;
await proxy.close();
rmSync(store.root, { recursive: true, force: true });
rmSync(context, { recursive: true, force: true });

const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
console.log(`build/push figures (${runs} runs each, medians; buildah vfs store, sandbox registry)`);
console.log(`  cold build (empty store)          median ${fmt(median(cold))}  [${cold.map(fmt).join(', ')}]`);
console.log(`  warm rebuild (unchanged context)  median ${fmt(median(warm))}  [${warm.map(fmt).join(', ')}]`);
console.log(`  warm / cold                       ${(median(warm) / median(cold)).toFixed(2)}`);
for (const [name, figures] of Object.entries(buildx)) {
  console.log(`  ${name}:`);
  console.log(
    `    cold build (builder cache emptied) median ${fmt(median(figures.cold))}  [${figures.cold.map(fmt).join(', ')}]`,
  );
  console.log(
    `    warm rebuild (unchanged context)   median ${fmt(median(figures.warm))}  [${figures.warm.map(fmt).join(', ')}]`,
  );
  console.log(
    `    warm / cold                        ${(median(figures.warm) / median(figures.cold)).toFixed(2)}`,
  );
  if (figures.registryCache.length > 0) {
    const hit = median(figures.registryCache);
    console.log(
      `    cold, registry cache only          median ${fmt(hit)}  [${figures.registryCache.map(fmt).join(', ')}]`,
    );
    console.log(`    registry cache / cold              ${(hit / median(figures.cold)).toFixed(2)}`);
  }
}
console.log(`  first push: ${firstStats.uploadedBytes} layer bytes uploaded in ${fmt(first.ms)}`);
console.log(`  same image pushed again: ${againBytes} layer bytes uploaded in ${fmt(again.ms)} (goal: 0)`);
console.log(`  same image under a new tag: ${tagBytes} layer bytes uploaded`);
