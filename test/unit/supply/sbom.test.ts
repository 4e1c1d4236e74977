import { describe, expect, it } from 'vitest';
import {
  countComponents,
  parseSbomDocument,
  repositoryOf,
  SBOM_PREDICATE_TYPES,
  trivySbomArgs,
} from '../../../src/supply/sbom.js';
import { PREDICATE_TYPES } from '../../../src/supply/statement.js';
import { InfraError } from '../../../src/util/errors.js';

describe('trivySbomArgs', () => {
  it.each([
    [
      'a local image, exported',
      { ref: 'app:1', archive: '/tmp/oci' },
      'cyclonedx' as const,
      ['image', '--format', 'cyclonedx', '--quiet', '--input', '/tmp/oci'],
    ],
    [
      'a registry image over plain HTTP, one platform',
      { ref: '127.0.0.1:5000/app:1', insecure: true, platform: 'linux/arm64' },
      'spdx-json' as const,
      [
        'image',
        '--format',
        'spdx-json',
        '--quiet',
        '--platform',
        'linux/arm64',
        '--image-src',
        'remote',
        '--insecure',
        '127.0.0.1:5000/app:1',
      ],
    ],
  ])('%s', (_name, target, format, expected) => {
    expect(trivySbomArgs(target, format)).toEqual(expected);
  });

  it('never puts registry credentials on the command line', () => {
    const args = trivySbomArgs(
      { ref: 'r.example/app:1', credentials: { username: 'u', password: 'p4ss' } },
      'cyclonedx',
    );
    expect(args.join(' ')).not.toContain('p4ss');
  });
});

describe('parseSbomDocument', () => {
  it('takes a CycloneDX BOM and an SPDX document', () => {
    expect(parseSbomDocument('{"bomFormat":"CycloneDX","specVersion":"1.6"}', 'cyclonedx').specVersion).toBe(
      '1.6',
    );
    expect(parseSbomDocument('{"spdxVersion":"SPDX-2.3"}', 'spdx-json').spdxVersion).toBe('SPDX-2.3');
  });
  it.each([
    ['not JSON', 'oops', 'cyclonedx' as const, /not JSON/],
    ['the other format', '{"spdxVersion":"SPDX-2.3"}', 'cyclonedx' as const, /no CycloneDX BOM/],
    ['a trivy report', '{"SchemaVersion":2}', 'spdx-json' as const, /no SPDX document/],
  ])('refuses %s', (_name, text, format, message) => {
    expect(() => parseSbomDocument(text, format)).toThrow(InfraError);
    expect(() => parseSbomDocument(text, format)).toThrow(message);
  });
});

describe('countComponents', () => {
  it('counts CycloneDX components, nested ones too', () => {
    const bom = { components: [{ name: 'a' }, { name: 'b', components: [{ name: 'c' }] }] };
    expect(countComponents(bom, 'cyclonedx')).toBe(3);
    expect(countComponents({}, 'cyclonedx')).toBe(0);
  });
  it('counts SPDX packages but the one the document describes (the image)', () => {
    const doc = {
      packages: [{ SPDXID: 'SPDXRef-Image' }, { SPDXID: 'SPDXRef-a' }, { SPDXID: 'SPDXRef-b' }],
      relationships: [
        {
          spdxElementId: 'SPDXRef-DOCUMENT',
          relationshipType: 'DESCRIBES',
          relatedSpdxElement: 'SPDXRef-Image',
        },
        { spdxElementId: 'SPDXRef-Image', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-a' },
      ],
    };
    expect(countComponents(doc, 'spdx-json')).toBe(2);
  });
});

describe('the statement types', () => {
  it("are cosign's --type cyclonedx and spdxjson", () => {
    expect(SBOM_PREDICATE_TYPES.cyclonedx).toBe(PREDICATE_TYPES.cyclonedx);
    expect(SBOM_PREDICATE_TYPES['spdx-json']).toBe(PREDICATE_TYPES.spdxjson);
  });
  it.each([
    ['127.0.0.1:5000/team/app:1.2', '127.0.0.1:5000/team/app'],
    [`r.example/app@sha256:${'a'.repeat(64)}`, 'r.example/app'],
    ['localhost/app', 'localhost/app'],
  ])('repositoryOf(%s) is %s', (ref, expected) => {
    expect(repositoryOf(ref)).toBe(expected);
  });
});
