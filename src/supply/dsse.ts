import { createHash, type KeyObject, sign, verify } from 'node:crypto';

/**
 * DSSE (Dead Simple Signing Envelope, github.com/secure-systems-lab/dsse, protocol v1): the signature covers
 * the pre-authentication encoding of the payload type and the payload, never the JSON around them. cosign
 * wraps every in-toto statement in one (attestations, and v3's signatures, whose payload is an in-toto
 * statement with the predicate type `https://sigstore.dev/cosign/sign/v1`).
 */
export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface Envelope {
  /** base64 (standard alphabet, padded) of the payload bytes */
  payload: string;
  payloadType: string;
  signatures: { sig: string; keyid?: string }[];
}

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal of bytes. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    payload,
  ]);
}

/**
 * Signs `payload` into an envelope with an ECDSA P-256 key: SHA-256 over the PAE, the signature ASN.1 DER
 * encoded and base64'd (what cosign and sigstore-go write and read). No keyid, as cosign writes none.
 */
export function signEnvelope(payload: Uint8Array, payloadType: string, key: KeyObject): Envelope {
  const sig = sign('sha256', pae(payloadType, payload), key);
  return {
    payload: Buffer.from(payload).toString('base64'),
    payloadType,
    signatures: [{ sig: sig.toString('base64') }],
  };
}

/** True when one of the envelope's signatures verifies with `publicKey` over the PAE. */
export function envelopeVerifies(envelope: Envelope, publicKey: KeyObject): boolean {
  const payload = Buffer.from(envelope.payload, 'base64');
  const message = pae(envelope.payloadType, payload);
  return envelope.signatures.some((s) => rawVerify(message, s.sig, publicKey));
}

/** ECDSA/SHA-256 check of a base64 DER signature over `message`; a malformed signature does not verify. */
export function rawVerify(message: Uint8Array, signatureBase64: string, publicKey: KeyObject): boolean {
  try {
    return verify('sha256', message, publicKey, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}

/** Parses an envelope from JSON text or an object; undefined when it is not one. */
export function parseEnvelope(value: unknown): Envelope | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Record<string, unknown>;
  if (typeof e.payload !== 'string' || typeof e.payloadType !== 'string' || !Array.isArray(e.signatures))
    return undefined;
  const signatures = e.signatures.filter(
    (s): s is { sig: string; keyid?: string } =>
      typeof s === 'object' && s !== null && typeof (s as { sig?: unknown }).sig === 'string',
  );
  return { payload: e.payload, payloadType: e.payloadType, signatures };
}

/** base64 of the SHA-256 of the public key's DER (SubjectPublicKeyInfo): the hint cosign puts in a bundle. */
export function publicKeyHint(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}
