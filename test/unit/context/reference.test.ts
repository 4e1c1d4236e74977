import { describe, expect, it } from 'vitest';
import {
  formatImageReference,
  type ImageReference,
  isValidTag,
  parseImageReference,
  validateTag,
} from '../../../src/context/reference.js';
import { InputError } from '../../../src/util/errors.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseImageReference', () => {
  it.each<[string, ImageReference]>([
    ['shop', { repository: 'shop' }],
    ['acme/shop', { repository: 'acme/shop' }],
    ['acme/shop:1.2.3', { repository: 'acme/shop', tag: '1.2.3' }],
    ['ghcr.io/acme/shop:sha-3f7c2a9', { registry: 'ghcr.io', repository: 'acme/shop', tag: 'sha-3f7c2a9' }],
    ['localhost:5000/shop', { registry: 'localhost:5000', repository: 'shop' }],
    ['localhost/shop:dev', { registry: 'localhost', repository: 'shop', tag: 'dev' }],
    ['127.0.0.1:5000/acme/shop:v1', { registry: '127.0.0.1:5000', repository: 'acme/shop', tag: 'v1' }],
    ['[::1]:5000/shop:1', { registry: '[::1]:5000', repository: 'shop', tag: '1' }],
    ['Registry.Example.com/acme/shop', { registry: 'Registry.Example.com', repository: 'acme/shop' }],
    ['registry.example.com/a/b/c/shop', { registry: 'registry.example.com', repository: 'a/b/c/shop' }],
    ['acme/my_shop__api-v2.x/svc--web', { repository: 'acme/my_shop__api-v2.x/svc--web' }],
    [`acme/shop@${DIGEST}`, { repository: 'acme/shop', digest: DIGEST }],
    [
      `ghcr.io/acme/shop:1.2.3@${DIGEST}`,
      { registry: 'ghcr.io', repository: 'acme/shop', tag: '1.2.3', digest: DIGEST },
    ],
    ['acme/shop:_private', { repository: 'acme/shop', tag: '_private' }],
    [`acme/shop:${'x'.repeat(128)}`, { repository: 'acme/shop', tag: 'x'.repeat(128) }],
    ['acme/shop:Feature-Login.Page_2', { repository: 'acme/shop', tag: 'Feature-Login.Page_2' }],
  ])('parses %s', (reference, expected) => {
    expect(parseImageReference(reference, '--image')).toEqual(expected);
    expect(formatImageReference(expected)).toBe(reference);
  });

  it.each<[string, string, RegExp]>([
    ['upper case path', 'Acme/Shop:1', /repository path "Acme\/Shop" must be lowercase/],
    ['upper case after registry', 'ghcr.io/acme/Shop', /repository path "acme\/Shop" must be lowercase/],
    ['empty', '', /it is empty/],
    ['space', 'acme/shop :1', /whitespace or a control character/],
    ['leading space', ' acme/shop', /whitespace or a control character/],
    ['tab', 'acme/shop\t', /whitespace or a control character/],
    ['newline', 'acme/shop:1\nrm -rf /', /whitespace or a control character/],
    ['carriage return', 'acme/shop\r', /whitespace or a control character/],
    ['NUL byte', 'acme/shop\u0000', /whitespace or a control character/],
    ['semicolon', 'acme/shop;rm', /character ";" is not allowed/],
    ['command substitution', 'acme/$(whoami):1', /character "\$" is not allowed/],
    ['backticks', 'acme/`id`', /character "`" is not allowed/],
    ['pipe', 'acme/shop|cat', /character "\|" is not allowed/],
    ['ampersand', 'acme/shop&&x', /character "&" is not allowed/],
    ['quote', "acme/shop'", /character "'" is not allowed/],
    ['non-ASCII', 'acme/shöp', /character "ö" is not allowed/],
    ['empty tag', 'acme/shop:', /the tag after ":" is empty/],
    ['empty tag after registry port', 'localhost:5000/shop:', /the tag after ":" is empty/],
    ['tag starting with a dot', 'acme/shop:.hidden', /starts with "\."/],
    ['tag starting with a dash', 'acme/shop:-rc', /starts with "-"/],
    ['tag too long', `acme/shop:${'x'.repeat(129)}`, /the tag is 129 characters; at most 128/],
    ['tag with a plus', 'acme/shop:1.0+build', /may only contain letters, digits/],
    ['two tags', 'acme/shop:1:2', /path component "shop:1"/],
    ['empty path component', 'acme//shop', /has an empty component/],
    ['trailing slash', 'acme/shop/', /has an empty component/],
    ['leading slash', '/shop', /has an empty component/],
    ['registry only', 'ghcr.io/', /the repository path is empty/],
    ['separator at the start', 'acme/-shop', /path component "-shop"/],
    ['separator at the end', 'acme/shop.', /path component "shop\."/],
    ['triple underscore', 'acme/a___b', /path component "a___b"/],
    ['bad registry', 'my-.registry.com/shop', /registry "my-\.registry\.com" is not a host\[:port\]/],
    ['bad registry port', 'registry.com:port/shop', /registry "registry\.com:port" is not a host\[:port\]/],
    ['two digests', `acme/shop@${DIGEST}@${DIGEST}`, /more than one "@"/],
    ['short digest', 'acme/shop@sha256:abc', /a sha256 digest needs 64 lowercase hex characters, found 3/],
    ['upper-case digest', `acme/shop@sha256:${'A'.repeat(64)}`, /needs 64 lowercase hex/],
    ['digest without algorithm', `acme/shop@${'a'.repeat(64)}`, /is not <algorithm>:<hex>/],
    ['name too long', `registry.example.com/${'a'.repeat(250)}`, /the name is 271 characters; at most 255/],
  ])('rejects %s', (_case, reference, why) => {
    let error: unknown;
    try {
      parseImageReference(reference, '--to');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    const inputError = error as InputError;
    expect(inputError.input).toBe('--to');
    expect(inputError.exitCode).toBe(2);
    expect(inputError.message).toMatch(/^--to: invalid image reference ".*": /);
    expect(inputError.message).toMatch(why);
    expect(inputError.message).not.toMatch(/\n/);
  });
});

describe('validateTag', () => {
  it.each(['latest', '1.2.3', 'sha-3f7c2a9', 'pr-42', 'feature-Login-Page', '_x', 'a'.repeat(128)])(
    'accepts %s',
    (tag) => {
      expect(validateTag(tag, '--tag')).toBe(tag);
      expect(isValidTag(tag)).toBe(true);
    },
  );

  it.each([
    ['', /the tag after ":" is empty/],
    ['.x', /starts with "\."/],
    ['-x', /starts with "-"/],
    ['a/b', /may only contain/],
    ['a b', /may only contain/],
    ['a'.repeat(129), /129 characters/],
  ])('rejects %j', (tag, why) => {
    expect(() => validateTag(tag, '--tag')).toThrow(why);
    expect(() => validateTag(tag, '--tag')).toThrow(/^--tag: invalid tag /);
    expect(isValidTag(tag)).toBe(false);
  });
});
