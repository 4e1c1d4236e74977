import { describe, expect, it } from 'vitest';
import { parseRemoteUrl, repositoryName } from '../../../src/context/git-url.js';
import { parseSemanticVersion } from '../../../src/context/semver.js';

describe('parseRemoteUrl', () => {
  it.each([
    ['https://github.com/acme/shop.git', 'https://github.com/acme/shop', 'acme/shop'],
    ['https://github.com/acme/shop', 'https://github.com/acme/shop', 'acme/shop'],
    [
      'https://x-access-token:ghs_secret@github.com/acme/shop.git',
      'https://github.com/acme/shop',
      'acme/shop',
    ],
    [
      'https://oauth2:glpat-secret@gitlab.com/acme/platform/shop.git',
      'https://gitlab.com/acme/platform/shop',
      'acme/platform/shop',
    ],
    ['http://git.acme.internal:8080/acme/shop.git', 'http://git.acme.internal:8080/acme/shop', 'acme/shop'],
    ['git@github.com:acme/shop.git', 'https://github.com/acme/shop', 'acme/shop'],
    ['github.com:acme/shop', 'https://github.com/acme/shop', 'acme/shop'],
    [
      'ssh://git@gitlab.acme.example:2222/acme/shop.git',
      'https://gitlab.acme.example/acme/shop',
      'acme/shop',
    ],
    ['git://GitHub.com/acme/shop.git/', 'https://github.com/acme/shop', 'acme/shop'],
  ])('%s', (url, webUrl, repository) => {
    expect(parseRemoteUrl(url)).toEqual({ webUrl, repository });
  });

  it.each([
    undefined,
    '',
    '/srv/git/shop.git',
    'file:///srv/git/shop.git',
    'C:\\repos\\shop',
    'https://github.com/',
    'not a url',
  ])('has no remote location for %j', (url) => {
    expect(parseRemoteUrl(url)).toBeUndefined();
  });

  it('names a repository after its last path segment', () => {
    expect(repositoryName('acme/platform/shop')).toBe('shop');
    expect(repositoryName('shop')).toBe('shop');
  });
});

describe('parseSemanticVersion', () => {
  it.each([
    ['1.2.3', { version: '1.2.3', major: 1, minor: 2, patch: 3, prerelease: '', build: '' }],
    ['v1.2.3', { raw: 'v1.2.3', version: '1.2.3' }],
    ['v2.0.0-rc.1', { version: '2.0.0-rc.1', prerelease: 'rc.1' }],
    ['1.0.0-alpha-1.0+exp.sha.5114f85', { version: '1.0.0-alpha-1.0', build: 'exp.sha.5114f85' }],
    ['0.0.0', { major: 0, minor: 0, patch: 0 }],
  ])('parses %s', (text, expected) => {
    expect(parseSemanticVersion(text)).toMatchObject(expected);
  });

  it.each([
    '1.2',
    'v1',
    '01.2.3',
    '1.2.3-01',
    'V1.2.3',
    '1.2.3.4',
    'release-1.2.3',
    '1.2.3-',
    '99999999999999999.0.0',
  ])('rejects %s', (text) => {
    expect(parseSemanticVersion(text)).toBeUndefined();
  });
});
