import { describe, expect, it } from 'vitest';
import { parseAttestArgument } from '../../../src/commands/supply.js';
import { requiredTypes, typeName } from '../../../src/supply/verify.js';

describe('attestation types', () => {
  it("takes cosign's --type names and URIs, refusing anything else in one line", () => {
    expect(requiredTypes(['slsaprovenance1', 'cyclonedx', 'spdxjson', 'https://example.com/p/v1'])).toEqual([
      'https://slsa.dev/provenance/v1',
      'https://cyclonedx.org/bom',
      'https://spdx.dev/Document',
      'https://example.com/p/v1',
    ]);
    expect(() => requiredTypes(['slsa'])).toThrow(
      /^--require: unknown attestation type "slsa" \(one of slsaprovenance1, cyclonedx, spdxjson, vuln, or a predicate type URI\)$/,
    );
  });

  it('names a predicate type by its short name when it has one', () => {
    expect(typeName('https://cyclonedx.org/bom')).toBe('cyclonedx');
    expect(typeName('https://example.com/p/v1')).toBe('https://example.com/p/v1');
  });

  it('reads --attest as a statement file, or type=file for a predicate', () => {
    expect(parseAttestArgument('statement.json')).toEqual({ file: 'statement.json' });
    expect(parseAttestArgument('cyclonedx=bom.json')).toEqual({
      type: 'https://cyclonedx.org/bom',
      file: 'bom.json',
    });
    expect(parseAttestArgument('https://example.com/p/v1=p.json')).toEqual({
      type: 'https://example.com/p/v1',
      file: 'p.json',
    });
    // An unknown name before "=" is part of a file name.
    expect(parseAttestArgument('dir/a=b.json')).toEqual({ file: 'dir/a=b.json' });
    expect(parseAttestArgument('nope=b.json')).toEqual({ file: 'nope=b.json' });
  });
});
