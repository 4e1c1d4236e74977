import { createHash, type KeyObject } from 'node:crypto';
import { type Envelope, INTOTO_PAYLOAD_TYPE, parseEnvelope, publicKeyHint, signEnvelope } from './dsse.js';

/**
 * The formats cosign v3.1.3 writes and reads, as data (no I/O here):
 *
 * - **Sigstore bundle v0.3** (`application/vnd.dev.sigstore.bundle.v0.3+json`, the protobuf-specs JSON form): a
 *   DSSE envelope over an in-toto statement plus the verification material. Key-based and offline: the public
 *   key's hint only, no transparency-log entry, no timestamp (cosign accepts that with `--key …
 *   --insecure-ignore-tlog=true`, which then needs no trusted root, TUF or network).
 * - **Referrer manifest** (OCI 1.1): an image manifest whose `subject` is the signed image, `artifactType` and a
 *   single layer of the bundle media type, an empty config, and the annotations cosign sets
 *   (`dev.sigstore.bundle.content`, `dev.sigstore.bundle.predicateType`, `org.opencontainers.image.created`).
 *   It is found through the registry's referrers API, or, where the registry has none (distribution 2.8), the
 *   referrers tag schema: an OCI index tagged `sha256-<hex>` listing the referrers, sorted by digest.
 * - **Legacy** (`cosign sign|attest --new-bundle-format=false`): tags `sha256-<hex>.sig` (simple-signing
 *   payloads, the signature in the layer annotation `dev.cosignproject.cosign/signature`) and
 *   `sha256-<hex>.att` (DSSE envelopes as layers, annotation `predicateType`).
 */
export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const BUNDLE_MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.bundle';
/** The predicate type of cosign v3's image signature: an in-toto statement with an empty predicate. */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';
export const STATEMENT_TYPES = ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'];

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const OCI_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const EMPTY_JSON = Buffer.from('{}');

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const DSSE_LAYER_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
export const LEGACY_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const ANNOTATION_PREDICATE_TYPE = 'dev.sigstore.bundle.predicateType';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface Index {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

export interface SigstoreBundle {
  mediaType: string;
  verificationMaterial: { publicKey?: { hint?: string } } & Record<string, unknown>;
  dsseEnvelope?: Envelope;
  messageSignature?: unknown;
}

/** A loose in-toto statement as read back (v1 or v0.1; any predicate). */
export interface DecodedStatement {
  _type: string;
  subject: { name?: string; digest: Record<string, string> }[];
  predicateType: string;
  predicate: unknown;
}

export const sha256 = (data: Uint8Array) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** The payload cosign v3 signs for an image: an in-toto v1 statement, subject the digest, empty predicate. */
export function signaturePayload(digest: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ digest: { sha256: hexOf(digest) } }],
      predicateType: COSIGN_SIGN_PREDICATE_TYPE,
      predicate: {},
    }),
  );
}

/** A bundle v0.3 of a DSSE envelope over `payload` (an in-toto statement), signed with `key`. */
export function makeBundle(payload: Uint8Array, key: KeyObject, publicKey: KeyObject): SigstoreBundle {
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: publicKeyHint(publicKey) } },
    dsseEnvelope: signEnvelope(payload, INTOTO_PAYLOAD_TYPE, key),
  };
}

/** Parses a bundle's JSON; undefined when it is not a v0.3+ bundle carrying a DSSE envelope. */
export function parseBundle(bytes: Uint8Array): SigstoreBundle | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const b = value as Record<string, unknown>;
  if (typeof b.mediaType !== 'string' || !b.mediaType.startsWith(BUNDLE_MEDIA_TYPE_PREFIX)) return undefined;
  const envelope = parseEnvelope(b.dsseEnvelope);
  if (!envelope) return undefined;
  return {
    mediaType: b.mediaType,
    verificationMaterial: (b.verificationMaterial ?? {}) as SigstoreBundle['verificationMaterial'],
    dsseEnvelope: envelope,
  };
}

/**
 * The referrer manifest cosign writes for a bundle: `subject` the image, one layer (the bundle), an empty
 * config, the artifact type and annotations. `created` is RFC 3339 without fractions, as cosign writes it.
 */
export function referrerManifest(
  subject: Descriptor,
  bundleBytes: Uint8Array,
  predicateType: string,
  created: Date = new Date(),
): Manifest {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: BUNDLE_MEDIA_TYPE,
    config: { mediaType: OCI_EMPTY, digest: sha256(EMPTY_JSON), size: EMPTY_JSON.length },
    layers: [{ mediaType: BUNDLE_MEDIA_TYPE, digest: sha256(bundleBytes), size: bundleBytes.length }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: {
      'dev.sigstore.bundle.content': 'dsse-envelope',
      [ANNOTATION_PREDICATE_TYPE]: predicateType,
      'org.opencontainers.image.created': created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
  };
}

/**
 * The referrers tag schema's index with `entry` added (once), sorted by digest as go-containerregistry keeps
 * it; `current` is the index under the `sha256-<hex>` tag, if any.
 */
export function withReferrer(current: Index | undefined, entry: Descriptor): Index {
  const manifests = [...(current?.manifests ?? [])];
  if (!manifests.some((m) => m.digest === entry.digest)) manifests.push(entry);
  manifests.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  return { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
}

/** The descriptor of a referrer manifest as it goes into a referrers index. */
export function referrerDescriptor(manifestBytes: Uint8Array, manifest: Manifest): Descriptor {
  return {
    mediaType: manifest.mediaType ?? OCI_MANIFEST,
    digest: sha256(manifestBytes),
    size: manifestBytes.length,
    artifactType: manifest.artifactType ?? manifest.config.mediaType,
    ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
  };
}

/** `sha256:<hex>` → `sha256-<hex>`: the referrers fallback tag; with a suffix, cosign's legacy tags. */
export function digestTag(digest: string, suffix: '' | '.sig' | '.att' = ''): string {
  return `${digest.replace(':', '-')}${suffix}`;
}

export function hexOf(digest: string): string {
  const match = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!match) throw new Error(`not a sha256 digest: ${digest}`);
  return match[1]!;
}

/** Decodes an envelope's payload as an in-toto statement; undefined when it is not one. */
export function decodeStatement(envelope: Envelope): DecodedStatement | undefined {
  if (envelope.payloadType !== INTOTO_PAYLOAD_TYPE) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  return asStatement(value);
}

/** `value` as an in-toto statement (v1 or v0.1) when it has the shape of one. */
export function asStatement(value: unknown): DecodedStatement | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const s = value as Record<string, unknown>;
  if (typeof s._type !== 'string' || !STATEMENT_TYPES.includes(s._type)) return undefined;
  if (typeof s.predicateType !== 'string' || !Array.isArray(s.subject)) return undefined;
  const subject = s.subject.filter(
    (x): x is DecodedStatement['subject'][number] =>
      typeof x === 'object' && x !== null && typeof (x as { digest?: unknown }).digest === 'object',
  );
  return { _type: s._type, subject, predicateType: s.predicateType, predicate: s.predicate };
}

/** The sha256 digests a statement is about, as `sha256:<hex>`. */
export function subjectDigests(statement: DecodedStatement): string[] {
  return statement.subject
    .map((s) => s.digest?.sha256)
    .filter((d): d is string => typeof d === 'string')
    .map((hex) => `sha256:${hex.toLowerCase()}`);
}

/** The simple-signing payload of a legacy `.sig` layer: the digest it names (undefined when malformed). */
export function simpleSigningDigest(payload: Uint8Array): string | undefined {
  try {
    const value = JSON.parse(Buffer.from(payload).toString('utf8')) as {
      critical?: { image?: { 'docker-manifest-digest'?: unknown }; type?: unknown };
    };
    const digest = value.critical?.image?.['docker-manifest-digest'];
    return typeof digest === 'string' ? digest : undefined;
  } catch {
    return undefined;
  }
}
