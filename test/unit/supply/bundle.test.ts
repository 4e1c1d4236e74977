import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  asStatement,
  BUNDLE_MEDIA_TYPE,
  COSIGN_SIGN_PREDICATE_TYPE,
  decodeStatement,
  digestTag,
  makeBundle,
  parseBundle,
  referrerDescriptor,
  referrerManifest,
  signaturePayload,
  simpleSigningDigest,
  subjectDigests,
  withReferrer,
} from '../../../src/supply/bundle.js';
import { envelopeVerifies } from '../../../src/supply/dsse.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'cosign');
const read = (file: string) => readFileSync(join(fixtures, file));
const json = (file: string) => JSON.parse(read(file).toString('utf8'));
const digest = read('image-digest.txt').toString().trim();
const sha = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** The shape of a JSON value: its keys, recursively, with leaves as their types. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, shape(v)]),
    );
  return typeof value;
}

describe('the bundle Gantry writes', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('has exactly the fields of the bundle cosign v3.1.3 writes for `sign --key`', () => {
    const ours = makeBundle(signaturePayload(digest), privateKey, publicKey);
    expect(shape(ours)).toEqual(shape(json('sign-bundle.json')));
    expect(ours.mediaType).toBe(BUNDLE_MEDIA_TYPE);
    expect(envelopeVerifies(ours.dsseEnvelope!, publicKey)).toBe(true);
  });

  it('signs the statement cosign signs: subject the digest, predicate type cosign/sign/v1, empty predicate', () => {
    const theirs = decodeStatement(json('sign-bundle.json').dsseEnvelope)!;
    const ours = JSON.parse(signaturePayload(digest).toString());
    expect(ours.predicateType).toBe(COSIGN_SIGN_PREDICATE_TYPE);
    expect(ours.predicateType).toBe(theirs.predicateType);
    expect(ours.predicate).toEqual({});
    expect(ours.subject).toEqual([{ digest: { sha256: digest.slice('sha256:'.length) } }]);
    expect(subjectDigests(theirs)).toEqual([digest]);
  });

  it("is stored in a referrer manifest shaped as cosign's, subject the image", () => {
    const image = read('image-manifest.json');
    const subject = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha(image),
      size: image.length,
    };
    expect(subject.digest).toBe(digest);
    const bundle = read('sign-bundle.json');
    const ours = referrerManifest(
      subject,
      bundle,
      COSIGN_SIGN_PREDICATE_TYPE,
      new Date('2026-01-02T03:04:05.678Z'),
    );
    const theirs = json('sign-manifest.json');
    // cosign (go-containerregistry) also copies artifactType into the config descriptor; readers ignore it.
    delete theirs.config.artifactType;
    expect(shape(ours)).toEqual(shape(theirs));
    expect({
      ...ours,
      annotations: { ...ours.annotations, 'org.opencontainers.image.created': 'x' },
    }).toEqual({
      ...theirs,
      annotations: { ...theirs.annotations, 'org.opencontainers.image.created': 'x' },
    });
    expect(ours.annotations!['org.opencontainers.image.created']).toBe('2026-01-02T03:04:05Z');
  });
});

describe('the referrers tag schema', () => {
  it("names the index sha256-<hex> and cosign's legacy tags .sig / .att", () => {
    expect(digestTag(digest)).toBe(digest.replace('sha256:', 'sha256-'));
    expect(digestTag(digest, '.sig')).toBe(`${digest.replace(':', '-')}.sig`);
    expect(digestTag(digest, '.att')).toBe(`${digest.replace(':', '-')}.att`);
  });

  it('lists what cosign put there: each referrer manifest by its digest', () => {
    const index = json('referrers-index.json');
    const digests = ['sign-manifest.json', 'attest-cyclonedx-manifest.json'].map((f) => sha(read(f)));
    expect(index.manifests.map((m: { digest: string }) => m.digest).sort()).toEqual(digests.sort());
    for (const file of ['sign-manifest.json', 'attest-cyclonedx-manifest.json']) {
      const descriptor = referrerDescriptor(read(file), json(file));
      const listed = index.manifests.find((m: { digest: string }) => m.digest === descriptor.digest);
      expect(descriptor).toMatchObject(listed);
    }
  });

  it('adds a referrer once and keeps the list sorted by digest', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((x) => ({
      mediaType: 'm',
      digest: `sha256:${x.repeat(64)}`,
      size: 1,
    }));
    const index = withReferrer(withReferrer(withReferrer(undefined, c!), a!), b!);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.schemaVersion).toBe(2);
    expect(index.manifests.map((m) => m.digest)).toEqual([a!.digest, b!.digest, c!.digest]);
    expect(withReferrer(index, b!).manifests).toHaveLength(3);
  });
});

describe('reading what cosign wrote', () => {
  it('parses v0.3 bundles with a DSSE envelope, nothing else', () => {
    expect(parseBundle(read('sign-bundle.json'))?.dsseEnvelope?.payloadType).toBe(
      'application/vnd.in-toto+json',
    );
    expect(parseBundle(Buffer.from('{"mediaType":"application/json"}'))).toBeUndefined();
    expect(parseBundle(Buffer.from('not json'))).toBeUndefined();
    expect(
      parseBundle(Buffer.from(JSON.stringify({ mediaType: BUNDLE_MEDIA_TYPE, messageSignature: {} }))),
    ).toBeUndefined();
  });

  it('decodes attestations as in-toto statements, v0.1 (what cosign attest writes) and v1', () => {
    const bundled = decodeStatement(json('attest-cyclonedx-bundle.json').dsseEnvelope)!;
    expect(bundled.predicateType).toBe('https://cyclonedx.org/bom');
    expect(bundled._type).toBe('https://in-toto.io/Statement/v0.1');
    expect(subjectDigests(bundled)).toEqual([digest]);
    const legacy = decodeStatement(json('legacy-att-envelope.json'))!;
    expect(subjectDigests(legacy)).toEqual([digest]);
    expect(
      asStatement({ _type: 'https://example.com/Other', subject: [], predicateType: 'x' }),
    ).toBeUndefined();
    expect(
      decodeStatement({
        payload: Buffer.from('{}').toString('base64'),
        payloadType: 'text/plain',
        signatures: [],
      }),
    ).toBeUndefined();
  });

  it('reads the digest a legacy simple-signing payload names', () => {
    expect(simpleSigningDigest(read('legacy-sig-payload.json'))).toBe(digest);
    expect(simpleSigningDigest(Buffer.from('{}'))).toBeUndefined();
    expect(simpleSigningDigest(Buffer.from('nope'))).toBeUndefined();
  });
});
