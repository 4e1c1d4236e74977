import { describe, expect, it } from 'vitest';
import { BuildahBuilder } from '../../../src/build/buildah.js';
import { BuildxBuilder } from '../../../src/build/buildx.js';
import type { BuildRequest } from '../../../src/build/types.js';
import { buildahPushArgs, skopeoCopyArgs } from '../../../src/registry/push.js';

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
      'secrets as files',
      { secrets: [{ id: 'npm', src: '/tmp/s/npm' }] },
      ['--secret', 'id=npm,src=/tmp/s/npm'],
    ],
    [
      'registry cache',
      { cacheFrom: ['reg.example.com/team/cache'], cacheTo: ['reg.example.com/team/cache'] },
      ['--cache-from', 'reg.example.com/team/cache', '--cache-to', 'reg.example.com/team/cache'],
    ],
    [
      'loopback cache skips TLS',
      { cacheFrom: ['127.0.0.1:5000/cache'] },
      ['--cache-from', '127.0.0.1:5000/cache', '--tls-verify=false'],
    ],
  ])('%s', (_name, overrides, expected) => {
    const args = builder.buildArgs({ ...base, ...overrides }, '/tmp/iid');
    expect(args.slice(0, 2)).toEqual(['bud', '--isolation']);
    expect(args).toEqual(
      expect.arrayContaining(['--file', '/ctx/Dockerfile', '--iidfile', '/tmp/iid', '--layers']),
    );
    const joined = args.join('\u0000');
    expect(joined).toContain(expected.join('\u0000'));
    expect(args.at(-1)).toBe('/ctx');
  });

  it('never puts a secret value on argv, only the file path', () => {
    const args = builder.buildArgs({ ...base, secrets: [{ id: 'tok', src: '/run/secret/tok' }] });
    expect(args.filter((a) => a.includes('tok'))).toEqual(['id=tok,src=/run/secret/tok']);
  });
});

describe('buildx argument mapping', () => {
  const builder = new BuildxBuilder();
  it.each<[string, Partial<BuildRequest>, string[]]>([
    ['minimal', {}, ['buildx', 'build', '--file', '/ctx/Dockerfile', '--load']],
    [
      'platforms joined',
      { platforms: ['linux/amd64', 'linux/arm64'] },
      ['--platform', 'linux/amd64,linux/arm64'],
    ],
    [
      'registry cache',
      { cacheFrom: ['r/c'], cacheTo: ['r/c'] },
      ['--cache-from', 'type=registry,ref=r/c', '--cache-to', 'type=registry,ref=r/c,mode=max'],
    ],
    ['secrets', { secrets: [{ id: 'a', src: '/s/a' }] }, ['--secret', 'id=a,src=/s/a']],
  ])('%s', (_name, overrides, expected) => {
    const joined = builder.buildArgs({ ...base, ...overrides }).join('\u0000');
    expect(joined).toContain(expected.join('\u0000'));
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
