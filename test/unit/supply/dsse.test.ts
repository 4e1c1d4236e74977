import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  envelopeVerifies,
  pae,
  parseEnvelope,
  publicKeyHint,
  rawVerify,
  signEnvelope,
} from '../../../src/supply/dsse.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'cosign');
const cosignPub = createPublicKey(readFileSync(join(fixtures, 'cosign.pub'), 'utf8'));
const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('DSSE pre-authentication encoding', () => {
  it("is the protocol's example byte for byte", () => {
    // github.com/secure-systems-lab/dsse protocol.md: PAE("http://example.com/HelloWorld", "hello world")
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  it('counts bytes, not characters', () => {
    expect(pae('t', Buffer.from('é')).toString()).toBe('DSSEv1 1 t 2 é');
  });
});

describe('DSSE envelopes', () => {
  it('verifies what it signed, with that key only', () => {
    const { privateKey, publicKey } = p256();
    const envelope = signEnvelope(Buffer.from('{"a":1}'), 'application/vnd.in-toto+json', privateKey);
    expect(envelope.signatures).toHaveLength(1);
    expect(envelope.signatures[0]).not.toHaveProperty('keyid');
    expect(envelopeVerifies(envelope, publicKey)).toBe(true);
    expect(envelopeVerifies(envelope, p256().publicKey)).toBe(false);
  });

  it('refuses a changed payload or payload type (the PAE covers both)', () => {
    const { privateKey, publicKey } = p256();
    const envelope = signEnvelope(Buffer.from('{"a":1}'), 'application/vnd.in-toto+json', privateKey);
    expect(
      envelopeVerifies({ ...envelope, payload: Buffer.from('{"a":2}').toString('base64') }, publicKey),
    ).toBe(false);
    expect(envelopeVerifies({ ...envelope, payloadType: 'text/plain' }, publicKey)).toBe(false);
    expect(envelopeVerifies({ ...envelope, signatures: [{ sig: 'bm90IGEgc2lnbmF0dXJl' }] }, publicKey)).toBe(
      false,
    );
  });

  it('verifies the envelopes cosign v3.1.3 wrote (bundle and legacy attestation)', () => {
    for (const file of ['sign-bundle.json', 'attest-cyclonedx-bundle.json']) {
      const bundle = JSON.parse(readFileSync(join(fixtures, file), 'utf8'));
      expect(envelopeVerifies(parseEnvelope(bundle.dsseEnvelope)!, cosignPub), file).toBe(true);
    }
    const legacy = parseEnvelope(
      JSON.parse(readFileSync(join(fixtures, 'legacy-att-envelope.json'), 'utf8')),
    )!;
    expect(envelopeVerifies(legacy, cosignPub)).toBe(true);
  });

  it("verifies cosign's legacy simple-signing signature over the payload bytes", () => {
    const manifest = JSON.parse(readFileSync(join(fixtures, 'legacy-sig-manifest.json'), 'utf8'));
    const signature = manifest.layers[0].annotations['dev.cosignproject.cosign/signature'];
    const payload = readFileSync(join(fixtures, 'legacy-sig-payload.json'));
    expect(rawVerify(payload, signature, cosignPub)).toBe(true);
    expect(rawVerify(Buffer.concat([payload, Buffer.from(' ')]), signature, cosignPub)).toBe(false);
  });

  it('hints the key as cosign does: base64 SHA-256 of the DER public key', () => {
    const bundle = JSON.parse(readFileSync(join(fixtures, 'sign-bundle.json'), 'utf8'));
    expect(publicKeyHint(cosignPub)).toBe(bundle.verificationMaterial.publicKey.hint);
  });

  it('parses only what has the shape of an envelope', () => {
    expect(parseEnvelope(null)).toBeUndefined();
    expect(parseEnvelope({ payload: 'x', payloadType: 'y' })).toBeUndefined();
    expect(
      parseEnvelope({ payload: 'x', payloadType: 'y', signatures: [{ sig: 'z' }, { nope: 1 }] }),
    ).toEqual({
      payload: 'x',
      payloadType: 'y',
      signatures: [{ sig: 'z' }],
    });
  });
});
