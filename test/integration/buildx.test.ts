import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthRegistry, startAuthRegistry } from '../helpers/auth-registry.js';
import { registryDigest, registryTags, runCli } from '../helpers/cli.js';

// The path GitHub-hosted runners take: a real Docker daemon and real buildx (the sandbox's docker component,
// test/bed/components/docker.mjs), with the daemon's own builder (docker driver: the image is loaded into the
// daemon) and a BuildKit daemon registered as a `remote` builder (no local store: the image goes to an OCI
// layout in Gantry's image store). Each build is scanned before it is pushed, from where it was built, and
// multi-platform images are checked in the registry with `skopeo inspect --raw`.

const need = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the sandbox's docker component did not start`);
  return value;
};
const registry = () => need('REGISTRY');
const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** Gantry's image store for this file only, so nothing another suite built is found. */
const store = mkdtempSync(join(tmpdir(), 'gantry-it-store-'));
/** The daemon's own builder (docker driver), as on a GitHub-hosted runner without setup-buildx-action. */
const dockerDriver = () => ({
  DOCKER_HOST: need('GANTRY_TESTBED_DOCKER_HOST'),
  DOCKER_CONFIG: need('GANTRY_TESTBED_DOCKER_CONFIG'),
  GANTRY_IMAGE_STORE: store,
});
/** A builder of its own, with no local store (what docker/setup-buildx-action's builder is to Gantry). */
const remoteDriver = () => ({ ...dockerDriver(), BUILDX_BUILDER: need('GANTRY_TESTBED_BUILDX_REMOTE') });

/** A context whose file differs per platform: `arm64.txt` holds an AWS key (a critical secret finding). */
function platformContext(id: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-it-bx-'));
  writeFileSync(join(dir, 'amd64.txt'), `plain ${id}\n`);
  writeFileSync(
    join(dir, 'arm64.txt'),
    `aws_access_key_id = AKIAIOSFODNN7EXAMPLF\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ\n# ${id}\n`,
  );
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nARG TARGETARCH\nCOPY $TARGETARCH.txt /etc/app.txt\n');
  return dir;
}

/** A context built FROM busybox (the sandbox registry mirrors docker.io) with a RUN step. */
function runContext(id: string, extra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-it-bx-'));
  writeFileSync(join(dir, 'hello.txt'), `hello ${id}\n${extra}`);
  writeFileSync(
    join(dir, 'Dockerfile'),
    'FROM busybox\nCOPY hello.txt /hello.txt\nRUN echo ran-step-$((6*7)) && cp /hello.txt /copied.txt\n',
  );
  return dir;
}

/** `skopeo inspect --raw`: the manifest, list or index exactly as the registry serves it. */
async function rawManifest(ref: string): Promise<{ text: string; json: Record<string, unknown> }> {
  const result = await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  return { text: String(result.stdout), json: JSON.parse(String(result.stdout)) };
}

/** `gantry build --json --builder buildx` of `context` into `image`, with the builder `env` selects. */
const buildxBuild = (image: string, context: string, extra: string[], env: Record<string, string>) =>
  runCli(['build', '--json', '--builder', 'buildx', '--image', image, '--context', context, ...extra], {
    env,
  });

const platformsIn = (index: Record<string, unknown>) =>
  (index.manifests as { platform: { os: string; architecture: string } }[])
    .map((m) => `${m.platform.os}/${m.platform.architecture}`)
    .sort();

describe('buildx with the docker driver: the image is loaded into the daemon', () => {
  it('build → scan from a docker save archive → push to two repositories by digest', async () => {
    const id = unique();
    const image = `${registry()}/bx/docker-${id}`;
    const build = await buildxBuild(
      image,
      runContext(id),
      ['--tag', 'one', '--network', 'host'],
      dockerDriver(),
    );
    expect(build.exitCode, build.stderr).toBe(0);
    expect(build.json).toMatchObject({ builder: 'buildx', store: 'docker', pushed: false });
    expect(build.stderr).toMatch(/buildx builder "default" \(docker driver\)/);
    // In the daemon, not in the registry.
    const inDaemon = await execa('docker', ['image', 'inspect', `${image}:one`], {
      env: dockerDriver(),
      reject: false,
    });
    expect(inDaemon.exitCode).toBe(0);
    expect(await registryTags(registry(), `bx/docker-${id}`)).toEqual([]);

    const scan = await runCli(['scan', '--json', '--image', `${image}:one`], { env: dockerDriver() });
    expect(scan.exitCode, scan.stderr).toBe(0);
    expect(scan.stderr).toContain(`exporting local image ${image}:one (docker)`);
    expect(scan.json).toMatchObject({ passed: true });
    expect(await registryTags(registry(), `bx/docker-${id}`)).toEqual([]);

    const push = await runCli(
      [
        'push',
        '--json',
        '--image',
        `${image}:one`,
        '--to',
        `${image}:one`,
        '--to',
        `${registry()}/bx/docker-copy-${id}:x`,
      ],
      { env: dockerDriver() },
    );
    expect(push.exitCode, push.stderr).toBe(0);
    expect(push.json).toMatchObject({ sourceKind: 'local', store: 'docker' });
    const digest = push.json!.digest as string;
    expect(await registryDigest(registry(), `bx/docker-${id}`, 'one')).toBe(digest);
    expect(await registryDigest(registry(), `bx/docker-copy-${id}`, 'x')).toBe(digest);
    // What the RUN step wrote is in the pushed image.
    const layers = (await rawManifest(`${image}@${digest}`)).json.layers as unknown[];
    expect(layers.length).toBeGreaterThanOrEqual(3);
  });

  it('a secret in the image fails the scan before anything is pushed', async () => {
    const id = unique();
    const image = `${registry()}/bx/docker-secret-${id}`;
    const context = runContext(
      id,
      'aws_access_key_id = AKIAIOSFODNN7EXAMPLF\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ\n',
    );
    const build = await buildxBuild(image, context, ['--tag', 'one', '--network', 'host'], dockerDriver());
    expect(build.exitCode, build.stderr).toBe(0);
    const scan = await runCli(['scan', '--json', '--image', `${image}:one`], { env: dockerDriver() });
    expect(scan.exitCode).toBe(1);
    expect(scan.json!.passed).toBe(false);
    expect((scan.json!.findings as { id: string }[]).map((f) => f.id)).toContain('aws-access-key-id');
    expect(await registryTags(registry(), `bx/docker-secret-${id}`)).toEqual([]);
  });

  it('--builder auto picks buildx where a daemon answers, and builds with --push', async () => {
    const id = unique();
    const image = `${registry()}/bx/auto-${id}`;
    const build = await runCli(
      ['build', '--json', '--image', image, '--context', platformContext(id), '--tag', 'one', '--push'],
      { env: dockerDriver() },
    );
    expect(build.exitCode, build.stderr).toBe(0);
    expect(build.json).toMatchObject({ builder: 'buildx', store: 'docker', pushed: true });
    expect(await registryDigest(registry(), `bx/auto-${id}`, 'one')).toBe(build.json!.digest);
  });

  it('several platforms are refused with one line naming --platform, and nothing is built or pushed', async () => {
    const id = unique();
    const build = await buildxBuild(
      `${registry()}/bx/multi-docker-${id}`,
      platformContext(id),
      ['--tag', 'one', '--platform', 'linux/amd64,linux/arm64', '--push'],
      dockerDriver(),
    );
    expect(build.exitCode).toBe(2);
    expect(build.stderr.trim().split('\n').at(-1)).toMatch(
      /^gantry: --platform: buildx builder "default" uses the docker driver, which loads a single platform/,
    );
    expect(await registryTags(registry(), `bx/multi-docker-${id}`)).toEqual([]);
  });
});

describe('buildx with a remote builder: no local store, the image goes to an OCI layout', () => {
  it('build → scan → push: the pushed digest is the one the build reported', async () => {
    const id = unique();
    const image = `${registry()}/bx/remote-${id}`;
    const build = await buildxBuild(image, runContext(id), ['--tag', 'one'], remoteDriver());
    expect(build.exitCode, build.stderr).toBe(0);
    expect(build.json).toMatchObject({ builder: 'buildx', store: 'oci-layout' });
    expect(build.stderr).toMatch(/buildx builder "gantry-remote" \(remote driver\)/);
    const inDaemon = await execa('docker', ['image', 'inspect', `${image}:one`], {
      env: dockerDriver(),
      reject: false,
    });
    expect(inDaemon.exitCode, 'nothing was loaded into the daemon').not.toBe(0);

    const scan = await runCli(['scan', '--json', '--image', `${image}:one`], { env: remoteDriver() });
    expect(scan.exitCode, scan.stderr).toBe(0);
    expect(scan.stderr).toContain(`exporting local image ${image}:one (oci-layout)`);
    expect(await registryTags(registry(), `bx/remote-${id}`)).toEqual([]);

    const push = await runCli(
      ['push', '--json', '--image', `${image}:one`, '--to', `${image}:one`, '--to', `${image}:two`],
      {
        env: remoteDriver(),
      },
    );
    expect(push.exitCode, push.stderr).toBe(0);
    expect(push.json).toMatchObject({ store: 'oci-layout', digest: build.json!.imageId });
    expect(await registryDigest(registry(), `bx/remote-${id}`, 'two')).toBe(build.json!.imageId);
  });

  it('two platforms: one OCI index, scanned per platform, pushed whole and copied across repositories by digest', async () => {
    const id = unique();
    const image = `${registry()}/bx/multi-${id}`;
    const build = await buildxBuild(
      image,
      platformContext(id),
      ['--tag', 'one', '--platform', 'linux/amd64,linux/arm64'],
      remoteDriver(),
    );
    expect(build.exitCode, build.stderr).toBe(0);

    // Scanned before the push, each platform on its own: the key is in the arm64 image only.
    const scan = await runCli(['scan', '--json', '--image', `${image}:one`, '--scanners', 'secret'], {
      env: remoteDriver(),
    });
    expect(scan.exitCode).toBe(1);
    expect(scan.json!.platforms).toEqual([
      { platform: 'linux/amd64', passed: true, counts: expect.objectContaining({ critical: 0 }) },
      { platform: 'linux/arm64', passed: false, counts: expect.objectContaining({ critical: 1 }) },
    ]);
    expect(scan.json!.findings).toEqual([
      expect.objectContaining({ id: 'aws-access-key-id', platforms: ['linux/arm64'] }),
    ]);
    const amd64 = await runCli(
      ['scan', '--json', '--image', `${image}:one`, '--scanners', 'secret', '--platform', 'linux/amd64'],
      {
        env: remoteDriver(),
      },
    );
    expect(amd64.exitCode, amd64.stderr).toBe(0);
    const missing = await runCli(['scan', '--image', `${image}:one`, '--platform', 'linux/s390x'], {
      env: remoteDriver(),
    });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr.trim().split('\n').at(-1)).toBe(
      `gantry: --platform: ${image}:one has no linux/s390x; it has linux/amd64, linux/arm64`,
    );

    const push = await runCli(['push', '--json', '--image', `${image}:one`, '--to', `${image}:one`], {
      env: remoteDriver(),
    });
    expect(push.exitCode, push.stderr).toBe(0);
    const digest = push.json!.digest as string;
    expect(digest).toBe(build.json!.imageId);
    const index = await rawManifest(`${image}:one`);
    expect(index.json.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(platformsIn(index.json)).toEqual(['linux/amd64', 'linux/arm64']);

    // A registry-to-registry copy by digest keeps the index and every platform, byte for byte.
    const copy = `${registry()}/bx/multi-copy-${id}:release`;
    const copied = await runCli(['push', '--json', '--image', `${image}@${digest}`, '--to', copy]);
    expect(copied.exitCode, copied.stderr).toBe(0);
    expect(copied.json).toMatchObject({ sourceKind: 'registry', digest });
    expect((await rawManifest(copy)).text).toBe(index.text);
    for (const entry of index.json.manifests as { digest: string }[]) {
      const child = await execa('skopeo', [
        'inspect',
        '--raw',
        '--tls-verify=false',
        `docker://${registry()}/bx/multi-copy-${id}@${entry.digest}`,
      ]);
      expect(child.exitCode).toBe(0);
    }

    // From the registry, per platform too.
    const remote = await runCli(['scan', '--json', '--image', `${image}@${digest}`, '--scanners', 'secret'], {
      env: remoteDriver(),
    });
    expect(remote.exitCode).toBe(1);
    expect(
      (remote.json!.platforms as { platform: string; passed: boolean }[]).map((p) => [p.platform, p.passed]),
    ).toEqual([
      ['linux/amd64', true],
      ['linux/arm64', false],
    ]);
  });

  it('registry cache in docker/build-push-action syntax: written with mode=max, read back after the builder forgot it', async () => {
    const id = unique();
    const image = `${registry()}/bx/cache-${id}`;
    const cache = `${registry()}/bx/cache-${id}-buildcache`;
    const context = runContext(id);
    const args = [
      'build',
      '--json',
      '--builder',
      'buildx',
      '--image',
      image,
      '--context',
      context,
      '--tag',
      'one',
      '--cache-from',
      `type=registry,ref=${cache}`,
      '--cache-to',
      `type=registry,ref=${cache},mode=max`,
    ];
    const cold = await runCli(args, { env: remoteDriver() });
    expect(cold.exitCode, cold.stderr).toBe(0);
    expect(cold.stderr).toContain('ran-step-42');
    expect(await registryTags(registry(), `bx/cache-${id}-buildcache`)).toEqual(['latest']);
    // The builder's own cache is emptied: only the registry can make the RUN step a cache hit.
    await execa('docker', ['buildx', 'prune', '--all', '--force'], { env: remoteDriver() });
    const warm = await runCli(args, { env: remoteDriver() });
    expect(warm.exitCode, warm.stderr).toBe(0);
    expect(warm.stderr).toMatch(/importing cache manifest from .*buildcache/);
    expect(warm.stderr).toMatch(/COPY hello\.txt \/hello\.txt\n\s*#\d+ CACHED/);
    expect(warm.stderr, 'the RUN step came from the cache, it did not run').not.toContain('ran-step-42');
  });

  it('type=gha is explained in one line (exit 2) before anything runs', async () => {
    const run = await runCli(
      [
        'build',
        '--builder',
        'buildx',
        '--image',
        `${registry()}/bx/gha`,
        '--context',
        runContext('gha'),
        '--tag',
        'x',
        '--cache-to',
        'type=gha,mode=max',
      ],
      { env: remoteDriver() },
    );
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toMatch(
      /^gantry: --cache-to: type=gha is not supported: it needs the GitHub Actions cache service/,
    );
  });
});

describe('multi-platform with buildah: a manifest list, exported to an OCI layout, pushed with every platform', () => {
  it('build → scan per platform before the push → push: an OCI index with both platforms, the digest the build printed', async () => {
    const id = unique();
    const image = `${registry()}/bx/buildah-multi-${id}`;
    const context = platformContext(id);
    const build = await runCli([
      'build',
      '--json',
      '--builder',
      'buildah',
      '--image',
      image,
      '--context',
      context,
      '--tag',
      'one',
      '--tag',
      'two',
      '--platform',
      'linux/amd64,linux/arm64',
    ]);
    expect(build.exitCode, build.stderr).toBe(0);
    expect(build.json).toMatchObject({ builder: 'buildah', store: 'oci-layout' });
    const scan = await runCli(['scan', '--json', '--image', `${image}:two`, '--scanners', 'secret']);
    expect(scan.exitCode).toBe(1);
    // In the list's order, which buildah does not keep stable: compared sorted.
    const verdicts = (scan.json!.platforms as { platform: string; passed: boolean }[]).map((p) => [
      p.platform,
      p.passed,
    ]);
    expect(verdicts.sort()).toEqual([
      ['linux/amd64', true],
      ['linux/arm64', false],
    ]);
    const push = await runCli([
      'push',
      '--json',
      '--image',
      `${image}:one`,
      '--to',
      `${image}:one`,
      '--to',
      `${image}:two`,
    ]);
    expect(push.exitCode, push.stderr).toBe(0);
    const index = await rawManifest(`${image}:two`);
    expect(platformsIn(index.json)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(push.json!.digest).toBe(build.json!.imageId);
    expect(await registryDigest(registry(), `bx/buildah-multi-${id}`, 'one')).toBe(push.json!.digest);
    // A rebuild of the same names replaces the image rather than adding platforms to it.
    const again = await runCli([
      'build',
      '--json',
      '--builder',
      'buildah',
      '--image',
      image,
      '--context',
      context,
      '--tag',
      'three',
      '--platform',
      'linux/amd64,linux/arm64',
      '--push',
    ]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(platformsIn((await rawManifest(`${image}:three`)).json)).toEqual(['linux/amd64', 'linux/arm64']);
    // buildah's storage stays usable (a manifest list kept there broke `buildah images` after a rebuild).
    const images = await execa('buildah', ['images'], { reject: false });
    expect(images.exitCode, String(images.stderr)).toBe(0);
  });
});

describe('docker credential helpers (credHelpers, credsStore)', () => {
  const user = 'helper-robot';
  const password = `helper-pass-${unique()}`;
  let front: AuthRegistry;
  let bin: string;
  let source: string;
  beforeAll(async () => {
    front = await startAuthRegistry(registry(), user, password);
    // A helper as ECR/GCR/ACR logins install one: `get` reads the server on stdin, answers JSON.
    bin = mkdtempSync(join(tmpdir(), 'gantry-it-helper-'));
    const helper = join(bin, 'docker-credential-gantrytest');
    writeFileSync(
      helper,
      [
        '#!/bin/sh',
        'read server',
        'case "$1" in',
        `  list) printf '{"%s":"%s"}\\n' "${front.address}" "${user}" ;;`,
        `  get) if [ "$server" = "${front.address}" ]; then printf '{"ServerURL":"%s","Username":"${user}","Secret":"${password}"}\\n' "$server"; else echo "credentials not found in native keychain"; exit 1; fi ;;`,
        '  *) exit 1 ;;',
        'esac',
        '',
      ].join('\n'),
    );
    chmodSync(helper, 0o700);
    source = `${registry()}/bx/helper-src-${unique()}:one`;
    const built = await runCli([
      'build',
      '--json',
      '--builder',
      'buildah',
      '--image',
      source.replace(/:one$/, ''),
      '--context',
      platformContext('helper'),
      '--tag',
      'one',
      '--push',
    ]);
    expect(built.exitCode, built.stderr).toBe(0);
  });
  afterAll(() => front.close());

  const configWith = (config: object) => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-it-dockercfg-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    return { DOCKER_CONFIG: dir, PATH: `${bin}:${process.env.PATH}` };
  };

  it.each([
    ['credHelpers', () => ({ credHelpers: { [front.address]: 'gantrytest' } })],
    ['credsStore', () => ({ credsStore: 'gantrytest' })],
  ])(
    '%s: push and scan reach a registry that demands auth; the secret is printed nowhere',
    async (_name, config) => {
      const env = configWith(config());
      const destination = `${front.address}/bx/helper-${unique()}:one`;
      const push = await runCli(['push', '--json', '--image', source, '--to', destination], { env });
      expect(push.exitCode, push.stderr).toBe(0);
      const scan = await runCli(['scan', '--json', '--image', destination, '--scanners', 'secret'], { env });
      expect(scan.exitCode).toBe(0);
      for (const output of [push.stdout, push.stderr, scan.stdout, scan.stderr])
        expect(output).not.toContain(password);
    },
  );

  it('without credentials the same push is refused (exit 3, nothing pushed)', async () => {
    const push = await runCli(['push', '--image', source, '--to', `${front.address}/bx/helper-none:one`], {
      env: configWith({}),
    });
    expect(push.exitCode).toBe(3);
    expect(push.stderr.trim().split('\n').at(-1)).toMatch(
      /^gantry: push to .* failed: .*(unauthorized|authentication required).*\(nothing was pushed\)$/i,
    );
  });

  it('a helper that is not installed is named in a warning, and its registry gets no credentials', async () => {
    const push = await runCli(['push', '--image', source, '--to', `${front.address}/bx/helper-absent:one`], {
      env: configWith({ credHelpers: { [front.address]: 'absent' } }),
    });
    expect(push.exitCode).toBe(3);
    expect(push.stderr).toContain(
      `credential helper docker-credential-absent get ${front.address}: not installed or not on PATH`,
    );
  });
});
