import { describe, expect, it } from 'vitest';
import { BuildahBuilder } from '../../../src/build/buildah.js';
import { BuildxBuilder } from '../../../src/build/buildx.js';
import { type CacheSpec, parseCacheSpec } from '../../../src/build/cache.js';
import type { BuildRequest } from '../../../src/build/types.js';
import { buildahPushArgs, skopeoCopyArgs } from '../../../src/registry/push.js';

const registryCache = (ref: string): CacheSpec => ({ type: 'registry', ref, attributes: {} });

const base: BuildRequest = {
  context: '/ctx',
  dockerfile: '/ctx/Dockerfile',
  refs: ['reg.example.com/team/app:1.2.3', 'reg.example.com/team/app:latest'],
  buildArgs: {},
  labels: {},
  platforms: [],
  secrets: [],
  cacheFrom: [],
  cacheTo: [],
  insecureRegistries: [],
};

describe('buildah argument mapping', () => {
  const builder = new BuildahBuilder();
  it.each<[string, Partial<BuildRequest>, string[]]>([
    [
      'minimal',
      {},
      ['--tag', 'reg.example.com/team/app:1.2.3', '--tag', 'reg.example.com/team/app:latest', '/ctx'],
    ],
    [
      'build args and labels',
      { buildArgs: { A: '1' }, labels: { team: 'x' } },
      ['--build-arg', 'A=1', '--label', 'team=x'],
    ],
    [
      'target and platform',
      { target: 'prod', platforms: ['linux/arm64'] },
      ['--target', 'prod', '--platform', 'linux/arm64'],
    ],
    [
      'several platforms make a manifest list named by the first ref, not tags',
      { platforms: ['linux/amd64', 'linux/arm64'] },
      ['--manifest', 'reg.example.com/team/app:1.2.3'],
    ],
    [
      'several platforms in one flag',
      { platforms: ['linux/amd64', 'linux/arm64'] },
      ['--platform', 'linux/amd64,linux/arm64'],
    ],
    [
      'secrets as files',
      { secrets: [{ id: 'npm', src: '/tmp/s/npm' }] },
      ['--secret', 'id=npm,src=/tmp/s/npm'],
    ],
    [
      'registry cache',
      {
        cacheFrom: [registryCache('reg.example.com/team/cache')],
        cacheTo: [registryCache('reg.example.com/team/cache')],
      },
      ['--cache-from', 'reg.example.com/team/cache', '--cache-to', 'reg.example.com/team/cache'],
    ],
    [
      'loopback cache skips TLS',
      { cacheFrom: [registryCache('127.0.0.1:5000/cache')] },
      ['--cache-from', '127.0.0.1:5000/cache', '--tls-verify=false'],
    ],
  ])('%s', (_name, overrides, expected) => {
    const args = builder.buildArgs({ ...base, ...overrides }, '/tmp/iid');
    expect(args.slice(0, 2)).toEqual(['bud', '--isolation']);
    expect(args).toEqual(expect.arrayContaining(['--file', '/ctx/Dockerfile']));
    // A manifest list (several platforms) has no single image id to write, and --layers with --manifest
    // leaves buildah 1.28's store unlistable.
    const list = (overrides.platforms?.length ?? 0) > 1;
    expect(args.includes('--iidfile')).toBe(!list);
    expect(args.includes('--layers')).toBe(!list);
    const joined = args.join('\u0000');
    expect(joined).toContain(expected.join('\u0000'));
    expect(args.at(-1)).toBe('/ctx');
  });

  it('never puts a secret value on argv, only the file path', () => {
    const args = builder.buildArgs({ ...base, secrets: [{ id: 'tok', src: '/run/secret/tok' }] });
    expect(args.filter((a) => a.includes('tok'))).toEqual(['id=tok,src=/run/secret/tok']);
  });

  it('tags a single-platform build and does not make a list', () => {
    const args = builder.buildArgs({ ...base, platforms: ['linux/arm64'] });
    expect(args).not.toContain('--manifest');
    expect(args.filter((a) => a === '--tag')).toHaveLength(2);
  });

  it('refuses a local cache directory with one line naming the input', () => {
    const local: CacheSpec = { type: 'local', ref: '/tmp/cache', attributes: {} };
    expect(() => builder.buildArgs({ ...base, cacheTo: [local] })).toThrow(
      /^--cache-to: buildah keeps layer cache in a registry only/,
    );
  });
});

describe('buildx argument mapping', () => {
  const builder = new BuildxBuilder();
  it.each<[string, Partial<BuildRequest>, string[]]>([
    ['minimal', {}, ['buildx', 'build', '--file', '/ctx/Dockerfile', '--provenance=false', '--load']],
    [
      'platforms joined',
      { platforms: ['linux/amd64', 'linux/arm64'] },
      ['--platform', 'linux/amd64,linux/arm64'],
    ],
    [
      'registry cache',
      { cacheFrom: [registryCache('r/c')], cacheTo: [registryCache('r/c')] },
      ['--cache-from', 'type=registry,ref=r/c', '--cache-to', 'type=registry,ref=r/c,mode=max'],
    ],
    [
      'buildx cache attributes kept as written',
      {
        cacheFrom: [parseCacheSpec('type=registry,ref=r/c,mode=max', '--cache-from')],
        cacheTo: [parseCacheSpec('type=registry,ref=r/c,mode=min,compression=zstd', '--cache-to')],
      },
      [
        '--cache-from',
        'type=registry,ref=r/c',
        '--cache-to',
        'type=registry,ref=r/c,mode=min,compression=zstd',
      ],
    ],
    [
      'local cache directories',
      {
        cacheFrom: [parseCacheSpec('type=local,src=/c', '--cache-from')],
        cacheTo: [parseCacheSpec('type=local,dest=/c', '--cache-to')],
      },
      ['--cache-from', 'type=local,src=/c', '--cache-to', 'type=local,dest=/c,mode=max'],
    ],
    ['secrets', { secrets: [{ id: 'a', src: '/s/a' }] }, ['--secret', 'id=a,src=/s/a']],
  ])('%s', (_name, overrides, expected) => {
    const joined = builder.buildArgs({ ...base, ...overrides }).join('\u0000');
    expect(joined).toContain(expected.join('\u0000'));
  });

  it('loads into the daemon with every tag (docker driver)', () => {
    const args = builder.buildArgs(base, { type: 'load' });
    expect(args).toContain('--load');
    expect(args.filter((a) => a === '--tag')).toHaveLength(2);
  });

  it('exports an OCI layout directory for a builder without a local store, and loads nothing', () => {
    const args = builder.buildArgs(base, { type: 'oci', dest: '/store/build-1' });
    expect(args).not.toContain('--load');
    expect(args).not.toContain('--tag');
    expect(args).toEqual(
      expect.arrayContaining([
        '--output',
        'type=oci,dest=/store/build-1,tar=false,name=reg.example.com/team/app:1.2.3',
      ]),
    );
  });

  it("attaches BuildKit's provenance (mode=max) to an OCI layout build when asked", () => {
    const args = builder.buildArgs({ ...base, buildxProvenance: true }, { type: 'oci', dest: '/store/b' });
    expect(args).toContain('--provenance=mode=max');
    expect(args).not.toContain('--provenance=false');
  });

  it('never asks the docker driver (--load) for provenance it cannot keep', () => {
    const args = builder.buildArgs({ ...base, buildxProvenance: true }, { type: 'load' });
    expect(args).toContain('--provenance=false');
  });
});

describe('cache specs', () => {
  it.each<[string, CacheSpec]>([
    ['reg.example.com/team/cache', { type: 'registry', ref: 'reg.example.com/team/cache', attributes: {} }],
    [
      'type=registry,ref=reg.example.com/team/cache,mode=max',
      { type: 'registry', ref: 'reg.example.com/team/cache', attributes: { mode: 'max' } },
    ],
    ['ref=127.0.0.1:5000/c', { type: 'registry', ref: '127.0.0.1:5000/c', attributes: {} }],
    ['type=local,src=/tmp/c', { type: 'local', ref: '/tmp/c', attributes: {} }],
  ])('parses %s', (value, expected) => {
    expect(parseCacheSpec(value, '--cache-from')).toEqual(expected);
  });

  it.each<[string, RegExp]>([
    ['type=gha', /^--cache-to: type=gha is not supported: it needs the GitHub Actions cache service/],
    ['type=gha,scope=main', /^--cache-to: type=gha is not supported/],
    [
      'type=s3,bucket=x',
      /^--cache-to: cache type "s3" is not supported; use type=registry,ref=<repository>$/,
    ],
    ['type=registry,mode=max', /^--cache-to: type=registry needs ref=<repository>/],
    ['type=registry,ref=UPPER/case', /^--cache-to: /],
    ['type=local', /^--cache-to: type=local needs src=<dir> or dest=<dir>/],
    ['type=registry,,ref=r/c', /^--cache-to: expected key=value pairs/],
  ])('refuses %s with one line naming the input', (value, message) => {
    expect(() => parseCacheSpec(value, '--cache-to')).toThrow(message);
  });
});

describe('push argument mapping', () => {
  it('pushes from local storage with a digest file and no TLS only for loopback', () => {
    expect(buildahPushArgs('app:1', '127.0.0.1:5000/app:1', '/d', '/auth', [])).toEqual([
      'push',
      '--retry',
      '0',
      '--quiet',
      '--authfile',
      '/auth',
      '--tls-verify=false',
      '--digestfile',
      '/d',
      'app:1',
      'docker://127.0.0.1:5000/app:1',
    ]);
    expect(buildahPushArgs('app:1', 'ghcr.io/o/app:1', '/d', '/auth', [])).not.toContain(
      '--tls-verify=false',
    );
    expect(
      buildahPushArgs('app:1', 'reg.internal:5000/app:1', '/d', '/auth', ['reg.internal:5000']),
    ).toContain('--tls-verify=false');
  });

  it('copies by digest, preserving digests, with per-side TLS settings', () => {
    const args = skopeoCopyArgs('127.0.0.1:5000/a@sha256:abc', 'ghcr.io/o/a:1', '/d', '/auth', []);
    expect(args).toEqual(expect.arrayContaining(['--preserve-digests', '--src-tls-verify=false']));
    expect(args).not.toContain('--dest-tls-verify=false');
    expect(args.slice(-2)).toEqual(['docker://127.0.0.1:5000/a@sha256:abc', 'docker://ghcr.io/o/a:1']);
  });
});
