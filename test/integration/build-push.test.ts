import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistryProxy } from '../bed/registry-proxy.mjs';
import { registryDigest, registryTags, runCli } from '../helpers/cli.js';

const registry = () => {
  const value = process.env.REGISTRY;
  if (!value) throw new Error('REGISTRY is not set: the sandbox did not start (see test/global-setup.ts)');
  return value;
};

/** A tiny build context: a FROM scratch image with one file whose content makes the image unique. */
function makeContext(content: string, dockerfile = 'FROM scratch\nCOPY hello.txt /hello.txt\n'): string {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-it-ctx-'));
  writeFileSync(join(dir, 'hello.txt'), `${content}\n`);
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

describe('build and push against the real registry with buildah', () => {
  it('builds, pushes every tag, and reports the digest the registry serves', async () => {
    const id = unique();
    const context = makeContext(`hello ${id}`);
    const run = await runCli([
      'build',
      '--json',
      '--image',
      `${registry()}/it/app-${id}`,
      '--context',
      context,
      '--tag',
      'one',
      '--tag',
      'two',
      '--label',
      'team=platform',
      '--push',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const result = run.json!;
    expect(result.builder).toBe('buildah');
    expect(result.tags).toEqual(expect.arrayContaining(['one', 'two']));
    expect(result.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(await registryDigest(registry(), `it/app-${id}`, 'one')).toBe(result.digest);
    expect(await registryDigest(registry(), `it/app-${id}`, 'two')).toBe(result.digest);
    expect((result.labels as Record<string, string>).team).toBe('platform');
  });

  it('passes a secret from an environment variable without it reaching argv, logs or the image', async () => {
    const id = unique();
    const marker = `s3cr3t-${id}-marker`;
    const context = makeContext(id, 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    const run = await runCli(
      [
        'build',
        '--json',
        '--image',
        `${registry()}/it/secret-${id}`,
        '--context',
        context,
        '--tag',
        'x',
        '--secret',
        'id=token,env=GANTRY_IT_TOKEN',
        '--push',
      ],
      { env: { GANTRY_IT_TOKEN: marker } },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(marker);
  });

  it('copies an image by digest to several destinations', async () => {
    const id = unique();
    const build = await runCli([
      'build',
      '--json',
      '--image',
      `${registry()}/it/src-${id}`,
      '--context',
      makeContext(id),
      '--tag',
      'v1',
      '--push',
    ]);
    expect(build.exitCode, build.stderr).toBe(0);
    // Only in the registry now, so the push must copy registry to registry.
    await execa('buildah', ['rmi', `${registry()}/it/src-${id}:v1`]);
    const push = await runCli([
      'push',
      '--json',
      '--image',
      `${registry()}/it/src-${id}:v1`,
      '--to',
      `${registry()}/it/copy-a-${id}:v1`,
      '--to',
      `${registry()}/it/copy-b-${id}:stable`,
    ]);
    expect(push.exitCode, push.stderr).toBe(0);
    expect(push.json!.digest).toBe(build.json!.digest);
    expect(push.json!.sourceKind).toBe('registry');
    expect(await registryDigest(registry(), `it/copy-a-${id}`, 'v1')).toBe(build.json!.digest);
    expect(await registryDigest(registry(), `it/copy-b-${id}`, 'stable')).toBe(build.json!.digest);
  });

  it('pushes a local image that was built without --push', async () => {
    const id = unique();
    const build = await runCli([
      'build',
      '--json',
      '--image',
      `${registry()}/it/local-${id}`,
      '--context',
      makeContext(id),
      '--tag',
      'l1',
    ]);
    expect(build.exitCode, build.stderr).toBe(0);
    expect(build.json!.digest).toBeUndefined();
    expect(await registryTags(registry(), `it/local-${id}`)).toEqual([]);
    const push = await runCli([
      'push',
      '--json',
      '--image',
      `${registry()}/it/local-${id}:l1`,
      '--to',
      `${registry()}/it/local-${id}:l1`,
    ]);
    expect(push.exitCode, push.stderr).toBe(0);
    expect(push.json!.sourceKind).toBe('local');
    expect(await registryDigest(registry(), `it/local-${id}`, 'l1')).toBe(push.json!.digest);
  });
});

describe('registry layer cache, build args and target', () => {
  it('writes layers to --cache-ref and a build in an empty store pulls them instead of running RUN again', async () => {
    const id = unique();
    const context = mkdtempSync(join(tmpdir(), 'gantry-it-cache-'));
    copyFileSync('/bin/busybox', join(context, 'busybox'));
    writeFileSync(
      join(context, 'Dockerfile'),
      `FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox","--install","-s","/bin"]\nRUN echo ${id} > /id\n`,
    );
    const cacheRef = `${registry()}/it/cache-${id}`;
    const first = await runCli([
      'build',
      '--json',
      '--image',
      `${registry()}/it/cached-${id}`,
      '--context',
      context,
      '--tag',
      'a',
      '--cache-ref',
      cacheRef,
    ]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect((await registryTags(registry(), `it/cache-${id}`)).length).toBeGreaterThan(0);
    // A fresh image store, as on a new CI runner: the RUN layers come from the registry cache.
    const store = mkdtempSync(join(tmpdir(), 'gantry-it-store-'));
    writeFileSync(
      join(store, 'storage.conf'),
      `[storage]\ndriver = "vfs"\ngraphroot = "${store}/s"\nrunroot = "${store}/r"\n`,
    );
    const second = await runCli(
      [
        'build',
        '--json',
        '--image',
        `${registry()}/it/cached-${id}`,
        '--context',
        context,
        '--tag',
        'b',
        '--cache-ref',
        cacheRef,
      ],
      { env: { CONTAINERS_STORAGE_CONF: join(store, 'storage.conf') } },
    );
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr.match(/Cache pulled from remote/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    rmSync(store, { recursive: true, force: true });
  });

  it('passes build args and stops at the target stage', async () => {
    const id = unique();
    const context = mkdtempSync(join(tmpdir(), 'gantry-it-args-'));
    copyFileSync('/bin/busybox', join(context, 'busybox'));
    writeFileSync(
      join(context, 'Dockerfile'),
      [
        'FROM scratch AS base',
        'COPY busybox /bin/busybox',
        'ARG GREETING=unset',
        'RUN ["/bin/busybox","sh","-c","echo $GREETING > /greeting"]',
        'FROM base AS final',
        'LABEL stage=final',
        '',
      ].join('\n'),
    );
    const run = await runCli([
      'build',
      '--json',
      '--image',
      `${registry()}/it/args-${id}`,
      '--context',
      context,
      '--tag',
      't',
      '--build-arg',
      `GREETING=hello-${id}`,
      '--target',
      'base',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const ref = `${registry()}/it/args-${id}:t`;
    const inspect = await execa('buildah', ['inspect', '--type', 'image', ref]);
    const config = JSON.parse(inspect.stdout) as { OCIv1: { config: { Labels?: Record<string, string> } } };
    expect(config.OCIv1.config.Labels?.stage).toBeUndefined();
    const mount = await execa('buildah', ['from', ref]);
    const container = mount.stdout.trim();
    const greeting = await execa('buildah', ['run', container, '/bin/busybox', 'cat', '/greeting']);
    await execa('buildah', ['rm', container]);
    expect(greeting.stdout.trim()).toBe(`hello-${id}`);
  });
});

describe('retries against a registry that fails', () => {
  let proxy: { url: string; close: () => Promise<void> };
  const control = (path: string, body?: object) =>
    fetch(`http://${proxy.url}/__gantry/${path}`, {
      method: body ? 'POST' : 'GET',
      body: body ? JSON.stringify(body) : undefined,
    }).then((r) => r.json());

  beforeAll(async () => {
    proxy = await startRegistryProxy({ target: registry() });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('retries a push through 500s and succeeds, with the same digest', async () => {
    const id = unique();
    const build = await runCli([
      'build',
      '--json',
      '--image',
      `${registry()}/it/retry-${id}`,
      '--context',
      makeContext(id),
      '--tag',
      'r1',
    ]);
    expect(build.exitCode, build.stderr).toBe(0);
    await control('reset', {});
    await control('faults', { status: 500, count: 2, match: 'PUT|PATCH|POST' });
    const push = await runCli([
      'push',
      '--json',
      '--image',
      `${registry()}/it/retry-${id}:r1`,
      '--to',
      `${proxy.url}/it/retry-${id}:r1`,
      '--retries',
      '4',
    ]);
    expect(push.exitCode, push.stderr).toBe(0);
    expect(push.stderr).toMatch(/retry 1\/4/);
    const stats = (await control('stats')) as { faultsInjected: number };
    expect(stats.faultsInjected).toBe(2);
    expect(await registryDigest(registry(), `it/retry-${id}`, 'r1')).toBe(push.json!.digest);
  });

  it('retries through 429 Too Many Requests', async () => {
    const id = unique();
    const build = await runCli([
      'build',
      '--json',
      '--image',
      `${registry()}/it/rl-${id}`,
      '--context',
      makeContext(id),
      '--tag',
      'r1',
    ]);
    expect(build.exitCode, build.stderr).toBe(0);
    await control('reset', {});
    await control('faults', { status: 429, count: 1, match: 'PUT|PATCH|POST' });
    const push = await runCli([
      'push',
      '--json',
      '--image',
      `${registry()}/it/rl-${id}:r1`,
      '--to',
      `${proxy.url}/it/rl-${id}:r1`,
    ]);
    expect(push.exitCode, push.stderr).toBe(0);
    expect(await registryDigest(registry(), `it/rl-${id}`, 'r1')).toBe(push.json!.digest);
  });

  it('gives up on a registry that keeps failing: exit 3, one line, nothing reported as pushed', async () => {
    const id = unique();
    const build = await runCli([
      'build',
      '--json',
      '--image',
      `${registry()}/it/down-${id}`,
      '--context',
      makeContext(id),
      '--tag',
      'r1',
    ]);
    expect(build.exitCode, build.stderr).toBe(0);
    await control('reset', {});
    await control('faults', { status: 503, count: 100_000, match: 'PUT|PATCH|POST' });
    const push = await runCli([
      'push',
      '--json',
      '--image',
      `${registry()}/it/down-${id}:r1`,
      '--to',
      `${proxy.url}/it/down-${id}:r1`,
      '--retries',
      '1',
    ]);
    await control('reset', {});
    expect(push.exitCode).toBe(3);
    expect(push.json!.error).toMatch(/push to .* failed.*nothing was pushed/);
    expect(push.json!.digest).toBeUndefined();
    expect(
      push.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('gantry:')),
    ).toHaveLength(1);
    expect(push.stderr).toMatch(/retry 1\/1/);
    expect(await registryTags(registry(), `it/down-${id}`)).toEqual([]);
  });
});

describe('bad input: one line, exit 2, nothing pushed', () => {
  const cases: [string, (ctx: string, reg: string) => string[], RegExp][] = [
    [
      'missing context',
      (_c, r) => ['build', '--image', `${r}/it/bad`, '--context', '/nonexistent/ctx', '--push'],
      /^gantry: --context: no such directory/,
    ],
    [
      'Dockerfile that does not parse',
      (c, r) => ['build', '--image', `${r}/it/bad`, '--context', c, '--file', join(c, 'Broken'), '--push'],
      /^gantry: --file: .*line 2: unknown instruction "COPPY"/,
    ],
    [
      'upper-case image',
      (c, r) => ['build', '--image', `${r}/it/BadName`, '--context', c, '--push'],
      /^gantry: --image: /,
    ],
    [
      'space in image',
      (c, r) => ['build', '--image', `${r}/it/bad name`, '--context', c, '--push'],
      /^gantry: --image: /,
    ],
    [
      'semicolon in image',
      (c, r) => ['build', '--image', `${r}/it/bad;rm`, '--context', c, '--push'],
      /^gantry: --image: /,
    ],
    [
      'empty tag',
      (_c, r) => ['push', '--image', `${r}/it/bad:`, '--to', `${r}/it/bad:x`],
      /^gantry: --image: /,
    ],
    [
      'bad tag',
      (c, r) => ['build', '--image', `${r}/it/bad`, '--context', c, '--tag', 'has space', '--push'],
      /^gantry: --tag: /,
    ],
    [
      'unknown builder',
      (c, r) => ['build', '--image', `${r}/it/bad`, '--context', c, '--builder', 'kaniko'],
      /^gantry: --builder: expected one of auto\|buildah\|buildx, got "kaniko"/,
    ],
    [
      'unknown flag',
      (c, r) => ['build', '--image', `${r}/it/bad`, '--context', c, '--colour', 'red'],
      /^gantry: --colour: unknown option/,
    ],
    [
      'build-arg without =',
      (c, r) => ['build', '--image', `${r}/it/bad`, '--context', c, '--build-arg', 'NOVALUE'],
      /^gantry: --build-arg: expected KEY=value/,
    ],
    [
      'retries not a number',
      (_c, r) => ['push', '--image', `${r}/it/a:1`, '--to', `${r}/it/b:1`, '--retries', 'many'],
      /^gantry: --retries: expected a number/,
    ],
    ['missing --to', (_c, r) => ['push', '--image', `${r}/it/a:1`], /^gantry: --to: required/],
    [
      'secret env not set',
      (c, r) => [
        'build',
        '--image',
        `${r}/it/bad`,
        '--context',
        c,
        '--secret',
        'id=x,env=GANTRY_NOT_SET_ANYWHERE',
      ],
      /^gantry: --secret: secret "x": environment variable/,
    ],
  ];

  it.each(cases)('%s', async (_name, argsOf, expected) => {
    const context = makeContext('bad');
    writeFileSync(join(context, 'Broken'), 'FROM scratch\nCOPPY hello.txt /\n');
    const before = await registryTags(registry(), 'it/bad');
    const run = await runCli(argsOf(context, registry()));
    expect(run.exitCode, run.stderr).toBe(2);
    const errorLines = run.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('gantry:'));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(expected);
    expect(await registryTags(registry(), 'it/bad')).toEqual(before);
  });

  it('an unreachable registry is an infrastructure error (exit 3) and nothing is pushed', async () => {
    const context = makeContext('unreachable');
    mkdirSync(join(context, 'sub'));
    const run = await runCli([
      'build',
      '--json',
      '--image',
      '127.0.0.1:9/it/app',
      '--context',
      context,
      '--tag',
      'x',
      '--push',
    ]);
    expect(run.exitCode).toBe(3);
    expect(run.json!.error).toMatch(/registry 127\.0\.0\.1:9 is unreachable.*nothing was pushed/);
  });
});

// buildx, with a real Docker daemon and a remote BuildKit builder, is tested in buildx.test.ts.
describe('without a Docker daemon', () => {
  it('--builder auto picks buildah', async () => {
    const id = unique();
    const run = await runCli(
      [
        'build',
        '--json',
        '--builder',
        'auto',
        '--image',
        `${registry()}/it/auto-${id}`,
        '--context',
        makeContext(`auto ${id}`),
      ],
      { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json!.builder).toBe('buildah');
  });
});
