import { describe, expect, it } from 'vitest';
import { platformsOf } from '../../../src/registry/manifest.js';
import { choosePlatforms } from '../../../src/scan/image.js';
import { mergePlatformFindings } from '../../../src/scan/index.js';
import type { Finding } from '../../../src/scan/types.js';

const finding = (id: string, pkg?: string): Finding => ({
  id,
  class: pkg ? 'vulnerability' : 'secret',
  severity: 'high',
  title: id,
  references: [],
  ...(pkg
    ? { package: { name: pkg, version: '1.0' } }
    : { location: { path: '/etc/app.txt', startLine: 1 } }),
});

describe('choosePlatforms', () => {
  const both = ['linux/amd64', 'linux/arm64'];
  it.each<[string[], string[], string[] | undefined]>([
    [[], [], undefined],
    [[], ['linux/arm64'], undefined],
    [both, [], both],
    [both, ['linux/arm64'], ['linux/arm64']],
  ])('available %o, asked %o → %o', (available, wanted, expected) => {
    expect(choosePlatforms('r/app:1', available, wanted)).toEqual(expected);
  });

  it('names the input and what the image has when asked for a platform it lacks', () => {
    expect(() => choosePlatforms('r/app:1', ['linux/amd64', 'linux/arm64'], ['linux/s390x'])).toThrow(
      '--platform: r/app:1 has no linux/s390x; it has linux/amd64, linux/arm64',
    );
  });
});

describe('mergePlatformFindings', () => {
  it('one finding per problem, listing the platforms it was found on', () => {
    const merged = mergePlatformFindings([
      { platform: 'linux/amd64', findings: [finding('CVE-1', 'lodash'), finding('aws-access-key-id')] },
      { platform: 'linux/arm64', findings: [finding('CVE-1', 'lodash'), finding('CVE-2', 'openssl')] },
    ]);
    expect(merged.map((f) => [f.id, f.platforms])).toEqual([
      ['CVE-1', ['linux/amd64', 'linux/arm64']],
      ['aws-access-key-id', ['linux/amd64']],
      ['CVE-2', ['linux/arm64']],
    ]);
  });

  it('keeps the same id in different packages apart', () => {
    const merged = mergePlatformFindings([
      { platform: 'linux/amd64', findings: [finding('CVE-1', 'a'), finding('CVE-1', 'b')] },
    ]);
    expect(merged).toHaveLength(2);
  });
});

describe('platformsOf a registry manifest', () => {
  it.each<[object, string[]]>([
    [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [] }, []],
    [
      {
        mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
        manifests: [
          { mediaType: 'x', digest: 'sha256:a', size: 1, platform: { os: 'linux', architecture: 'amd64' } },
          {
            mediaType: 'x',
            digest: 'sha256:b',
            size: 1,
            platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
          },
        ],
      },
      ['linux/amd64', 'linux/arm64/v8'],
    ],
    [
      {
        manifests: [
          { mediaType: 'x', digest: 'sha256:a', size: 1, platform: { os: 'linux', architecture: 'amd64' } },
          {
            mediaType: 'x',
            digest: 'sha256:c',
            size: 1,
            platform: { os: 'unknown', architecture: 'unknown' },
          },
        ],
      },
      ['linux/amd64'],
    ],
  ])('%#', (manifest, expected) => {
    expect(platformsOf(manifest)).toEqual(expected);
  });
});
