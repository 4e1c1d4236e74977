import { describe, expect, it } from 'vitest';
import { computeTags, imageRefs, sanitizeTag, type TagOptions } from '../../../src/context/tags.js';
import type { BuildContext } from '../../../src/context/types.js';
import { HEAD_SHA } from './fixtures.js';

const NOW = new Date('2024-05-15T03:04:05.678Z');

function context(overrides: Partial<BuildContext>): BuildContext {
  return {
    platform: 'github',
    sha: HEAD_SHA,
    refType: 'branch',
    ref: 'refs/heads/main',
    branch: 'main',
    defaultBranch: 'main',
    isDefaultBranch: true,
    eventName: 'push',
    repository: 'acme/shop',
    runId: '1',
    commitTimestamp: '2024-05-14T09:30:00.000Z',
    ...overrides,
  };
}

const feature = context({
  ref: 'refs/heads/feature/Login-Page',
  branch: 'feature/Login-Page',
  isDefaultBranch: false,
});
const pr = context({
  refType: 'pr',
  ref: 'refs/pull/42/merge',
  branch: 'feature/Login-Page',
  prNumber: 42,
  baseRef: 'main',
  isDefaultBranch: false,
  eventName: 'pull_request',
});
const tag = (name: string): BuildContext =>
  context({
    refType: 'tag',
    ref: `refs/tags/${name}`,
    branch: undefined,
    tag: name,
    isDefaultBranch: false,
    baseRef: 'main',
  });
const schedule = context({ eventName: 'schedule' });

describe('computeTags with the default rules', () => {
  it.each<[string, BuildContext, string[]]>([
    ['push to main', context({}), ['main', 'sha-3f7c2a9']],
    ['push to a feature branch', feature, ['feature-Login-Page', 'sha-3f7c2a9']],
    ['pull request', pr, ['pr-42', 'sha-3f7c2a9']],
    ['release tag', tag('v1.2.3'), ['1.2.3', '1.2', 'sha-3f7c2a9', 'latest']],
    ['release tag without v', tag('1.2.3'), ['1.2.3', '1.2', 'sha-3f7c2a9', 'latest']],
    ['pre-release tag', tag('v2.0.0-rc.1'), ['2.0.0-rc.1', 'sha-3f7c2a9']],
    ['tag with build metadata', tag('v1.2.3+build.7'), ['1.2.3', '1.2', 'sha-3f7c2a9', 'latest']],
    ['tag that is not semver', tag('release-2024'), ['sha-3f7c2a9']],
    ['tag with a leading zero', tag('v1.02.3'), ['sha-3f7c2a9']],
    ['scheduled build', schedule, ['main', 'sha-3f7c2a9']],
    [
      'no sha, unknown ref',
      context({ sha: undefined, refType: 'unknown', ref: undefined, branch: undefined }),
      [],
    ],
  ])('%s', (_situation, ctx, expected) => {
    expect(computeTags(ctx, { now: NOW }).tags).toEqual(expected);
  });

  it('reports the first tag as the version, and whether latest was added', () => {
    expect(computeTags(tag('v1.2.3'))).toEqual({
      tags: ['1.2.3', '1.2', 'sha-3f7c2a9', 'latest'],
      version: '1.2.3',
      latest: true,
    });
    expect(computeTags(pr)).toEqual({ tags: ['pr-42', 'sha-3f7c2a9'], version: 'pr-42', latest: false });
  });

  it('falls back to "dev" for a local build without git, never to latest', () => {
    const local = context({
      platform: 'local',
      sha: undefined,
      refType: 'unknown',
      ref: undefined,
      branch: undefined,
    });
    expect(computeTags(local)).toEqual({ tags: ['dev'], version: 'dev', latest: false });
  });

  it('marks the sha tag of a dirty local tree', () => {
    expect(computeTags(context({ platform: 'local', dirty: true })).tags).toEqual([
      'main',
      'sha-3f7c2a9-dirty',
    ]);
  });
});

describe('computeTags rule by rule (docker/metadata-action semantics)', () => {
  it.each<[string, BuildContext, TagOptions, string[]]>([
    // type=ref
    [
      'ref branch keeps case, replaces "/"',
      feature,
      { rules: ['type=ref,event=branch'] },
      ['feature-Login-Page'],
    ],
    ['ref branch on a tag build yields nothing', tag('v1.2.3'), { rules: ['type=ref,event=branch'] }, []],
    ['ref tag keeps the v', tag('v1.2.3'), { rules: ['type=ref,event=tag'] }, ['v1.2.3', 'latest']],
    [
      'ref tag of a pre-release still brings latest',
      tag('v2.0.0-rc.1'),
      { rules: ['type=ref,event=tag'] },
      ['v2.0.0-rc.1', 'latest'],
    ],
    ['ref pr', pr, { rules: ['type=ref,event=pr'] }, ['pr-42']],
    ['ref pr with own prefix', pr, { rules: ['type=ref,event=pr,prefix=mr-'] }, ['mr-42']],
    [
      'ref pr ignores the flavor prefix',
      pr,
      { rules: ['type=ref,event=pr'], flavor: ['prefix=app-'] },
      ['pr-42'],
    ],
    [
      'ref branch takes the flavor prefix',
      feature,
      { rules: ['type=ref,event=branch'], flavor: ['prefix=app-'] },
      ['app-feature-Login-Page'],
    ],
    // type=semver
    ['semver major', tag('v1.2.3'), { rules: ['type=semver,pattern={{major}}'] }, ['1', 'latest']],
    [
      'semver v-prefixed pattern',
      tag('v1.2.3'),
      { rules: ['type=semver,pattern=v{{major}}.{{minor}}.{{patch}}'] },
      ['v1.2.3', 'latest'],
    ],
    ['semver raw', tag('v1.2.3'), { rules: ['type=semver,pattern={{raw}}'] }, ['v1.2.3', 'latest']],
    [
      'semver pre-release never gets major',
      tag('v2.0.0-rc.1'),
      { rules: ['type=semver,pattern={{major}}'] },
      ['2.0.0-rc.1'],
    ],
    [
      'semver pre-release with raw keeps v',
      tag('v2.0.0-rc.1'),
      { rules: ['type=semver,pattern={{raw}}'] },
      ['v2.0.0-rc.1'],
    ],
    [
      'semver major 0',
      tag('v0.3.1'),
      { rules: ['type=semver,pattern={{major}}', 'type=semver,pattern={{major}}.{{minor}}'] },
      ['0', '0.3', 'latest'],
    ],
    [
      'semver from value on a branch',
      context({}),
      { rules: ['type=semver,pattern={{major}}.{{minor}},value=3.4.5'] },
      ['3.4', 'latest'],
    ],
    ['semver on a branch without value', context({}), { rules: ['type=semver,pattern={{version}}'] }, []],
    ['semver of a slashed tag', tag('release/1.2.3'), { rules: ['type=semver,pattern={{version}}'] }, []],
    // type=match
    ['match group', tag('v1.2.3'), { rules: ['type=match,pattern=v(\\d+).\\d+,group=1'] }, ['1', 'latest']],
    ['match whole', tag('app-20240514'), { rules: ['type=match,pattern=\\d{8}'] }, ['20240514', 'latest']],
    ['match not matching', tag('v1.2.3'), { rules: ['type=match,pattern=^x'] }, []],
    // type=sha
    ['sha long', context({}), { rules: ['type=sha,format=long'] }, [`sha-${HEAD_SHA}`]],
    ['sha without prefix', context({}), { rules: ['type=sha,prefix='] }, ['3f7c2a9']],
    [
      'sha ignores the flavor prefix',
      context({}),
      { rules: ['type=sha'], flavor: ['prefix=app-'] },
      ['sha-3f7c2a9'],
    ],
    [
      'sha takes the flavor suffix',
      context({}),
      { rules: ['type=sha'], flavor: ['suffix=-alpine'] },
      ['sha-3f7c2a9-alpine'],
    ],
    // type=edge
    ['edge on the default branch', context({}), { rules: ['type=edge'] }, ['edge']],
    ['edge on another branch', feature, { rules: ['type=edge'] }, []],
    ['edge on a named branch', feature, { rules: ['type=edge,branch=feature/Login-Page'] }, ['edge']],
    // type=raw and expressions
    [
      'raw on the default branch',
      context({}),
      { rules: ['type=raw,value=stable,enable={{is_default_branch}}'] },
      ['stable'],
    ],
    [
      'raw disabled off the default branch',
      feature,
      { rules: ['type=raw,value=stable,enable={{is_default_branch}}'] },
      [],
    ],
    [
      'raw disabled on a tag',
      tag('v1.2.3'),
      { rules: ['type=raw,value=stable,enable={{is_default_branch}}'] },
      [],
    ],
    [
      'raw with branch and sha',
      feature,
      { rules: ['type=raw,value={{branch}}-{{sha}}'] },
      ['feature-Login-Page-3f7c2a9'],
    ],
    ['raw branch is empty on a PR', pr, { rules: ['type=raw,value={{branch}}'] }, []],
    ['raw base_ref on a PR', pr, { rules: ['type=raw,value=into-{{base_ref}}'] }, ['into-main']],
    ['raw tag', tag('v1.2.3'), { rules: ['type=raw,value=release-{{tag}}'] }, ['release-v1.2.3']],
    ['raw date', context({}), { rules: ["type=raw,value={{date 'YYYYMMDD-HHmmss'}}"] }, ['20240515-030405']],
    [
      'raw date in a time zone',
      context({}),
      { rules: ["type=raw,value={{date 'YYYY-MM-DD[T]HH' tz='Asia/Tokyo'}}"] },
      ['2024-05-15T12'],
    ],
    [
      'raw commit date',
      context({}),
      { rules: ["type=raw,value={{commit_date 'YYYYMMDD.hh.mm.ss.SSS'}}"] },
      ['20240514.09.30.00.000'],
    ],
    [
      'raw latest is not duplicated',
      tag('v1.2.3'),
      { rules: ['type=semver,pattern={{version}}', 'type=raw,value=latest'] },
      ['1.2.3', 'latest'],
    ],
    ['raw empty value yields nothing', context({}), { rules: ['type=raw,value={{tag}}'] }, []],
    ['raw sanitized', context({}), { rules: ['type=raw,value=a b/c  d'] }, ['a-b-c-d']],
    // type=schedule
    ['schedule default pattern', schedule, { rules: ['type=schedule'] }, ['nightly']],
    [
      'schedule date pattern',
      schedule,
      { rules: ["type=schedule,pattern={{date 'YYYYMMDD'}}"] },
      ['20240515'],
    ],
    ['schedule on a push', context({}), { rules: ['type=schedule'] }, []],
    // priorities and flavor
    [
      'priority reorders',
      tag('v1.2.3'),
      { rules: ['type=sha,priority=2000', 'type=semver,pattern={{version}}'] },
      ['sha-3f7c2a9', '1.2.3'],
    ],
    [
      'latest follows the first producing rule',
      tag('v1.2.3'),
      { rules: ['type=raw,value=x,priority=1000', 'type=semver,pattern={{version}}'] },
      ['x', '1.2.3'],
    ],
    ['latest=false', tag('v1.2.3'), { flavor: ['latest=false'] }, ['1.2.3', '1.2', 'sha-3f7c2a9']],
    [
      'latest=true on a branch',
      feature,
      { flavor: ['latest=true'] },
      ['feature-Login-Page', 'sha-3f7c2a9', 'latest'],
    ],
    [
      'latest=true on a pre-release',
      tag('v2.0.0-rc.1'),
      { flavor: ['latest=true'] },
      ['2.0.0-rc.1', 'sha-3f7c2a9', 'latest'],
    ],
    [
      'flavor prefix and suffix onlatest',
      tag('v1.2.3'),
      {
        rules: ['type=semver,pattern={{version}}'],
        flavor: ['prefix=app-,onlatest=true', 'suffix=-slim,onlatest=true'],
      },
      ['app-1.2.3-slim', 'app-latest-slim'],
    ],
    [
      'flavor prefix not on latest by default',
      tag('v1.2.3'),
      { rules: ['type=semver,pattern={{version}}'], flavor: ['prefix=app-'] },
      ['app-1.2.3', 'latest'],
    ],
    [
      'flavor as fields',
      tag('v1.2.3'),
      { rules: ['type=semver,pattern={{version}}'], flavor: { latest: 'false', suffix: '-slim' } },
      ['1.2.3-slim'],
    ],
    [
      'rule suffix beats flavor suffix',
      feature,
      { rules: ['type=ref,event=branch,suffix='], flavor: ['suffix=-slim'] },
      ['feature-Login-Page'],
    ],
    [
      'duplicates removed',
      context({}),
      { rules: ['type=raw,value=main', 'type=ref,event=branch', 'type=raw,value=x', 'type=raw,value=x'] },
      ['main', 'x'],
    ],
  ])('%s', (_case, ctx, options, expected) => {
    expect(computeTags(ctx, { now: NOW, ...options }).tags).toEqual(expected);
  });

  it.each<[string, BuildContext, TagOptions, RegExp]>([
    [
      'enable that is not a boolean',
      context({}),
      { rules: ['type=raw,value=x,enable={{branch}}'] },
      /enable must be true or false, found "main"/,
    ],
    [
      'unknown time zone',
      context({}),
      { rules: ["type=raw,value={{date 'YYYY' tz='Mars/Base'}}"] },
      /unknown time zone "Mars\/Base"/,
    ],
    ['date without a format', context({}), { rules: ['type=raw,value={{date}}'] }, /a date needs one format/],
    ['unbalanced braces', context({}), { rules: ['type=raw,value={{branch'] }, /unbalanced "\{\{" or "\}\}"/],
  ])('rejects %s', (_case, ctx, options, why) => {
    expect(() => computeTags(ctx, options)).toThrow(why);
    expect(() => computeTags(ctx, options)).toThrow(/^--tag-rule: /);
  });
});

describe('sanitizeTag', () => {
  it.each([
    ['feature/Login-Page', 'feature-Login-Page'],
    ['dependabot/npm_and_yarn/lodash-4.17.21', 'dependabot-npm_and_yarn-lodash-4.17.21'],
    ['fix:bug#12', 'fix-bug-12'],
    ['über/größe', 'ber-gr-e'],
    ['--leading', 'leading'],
    ['.dot', 'dot'],
    ['x'.repeat(200), 'x'.repeat(128)],
    ['///', ''],
  ])('%s → %s', (input, expected) => {
    expect(sanitizeTag(input)).toBe(expected);
  });
});

describe('imageRefs', () => {
  it('joins the image with every tag', () => {
    expect(imageRefs('ghcr.io/acme/shop', ['1.2.3', 'latest'])).toEqual([
      'ghcr.io/acme/shop:1.2.3',
      'ghcr.io/acme/shop:latest',
    ]);
    expect(imageRefs('localhost:5000/shop', ['dev'])).toEqual(['localhost:5000/shop:dev']);
  });

  it.each([
    [
      'ghcr.io/acme/shop:1',
      ['x'],
      /^--image: expected an image name without tag or digest, found "ghcr.io\/acme\/shop:1"/,
    ],
    ['ghcr.io/Acme/shop', ['x'], /^--image: invalid image reference .* must be lowercase/],
    ['ghcr.io/acme/shop', ['-bad'], /^--tag: invalid tag "-bad"/],
  ])('rejects %s %j', (image, tags, why) => {
    expect(() => imageRefs(image, tags)).toThrow(why);
  });
});
