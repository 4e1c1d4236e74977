import { InputError } from '../util/errors.js';
import { type ImageTarget, listReferrers, parseManifest, resolveTarget } from './attachments.js';
import {
  BUNDLE_MEDIA_TYPE_PREFIX,
  COSIGN_SIGN_PREDICATE_TYPE,
  type DecodedStatement,
  DSSE_LAYER_MEDIA_TYPE,
  decodeStatement,
  digestTag,
  LEGACY_SIGNATURE_ANNOTATION,
  OCI_MANIFEST,
  parseBundle,
  SIMPLE_SIGNING_MEDIA_TYPE,
  simpleSigningDigest,
  subjectDigests,
} from './bundle.js';
import { type Envelope, envelopeVerifies, parseEnvelope, rawVerify } from './dsse.js';
import type { PublicKey } from './keys.js';
import { PREDICATE_TYPES, predicateName, predicateTypeOf } from './statement.js';

export interface VerifyRequest {
  /** `repo@sha256:…` or `repo:tag` (resolved to its digest first; the digest is what is verified). */
  image: string;
  publicKey: PublicKey;
  insecureRegistries: string[];
  /** Attestation types that must verify too: cosign's `--type` names (`slsaprovenance1`, …) or URIs. */
  require?: string[];
  input?: string;
}

/** Where a signature or attestation was read: a referrer bundle, or a layer of a legacy tag. */
export type Format = 'bundle' | 'legacy';

export interface VerifiedSignature {
  format: Format;
  /** `host/repo@sha256:…` (a referrer manifest) or `host/repo:sha256-….sig` */
  ref: string;
}

export interface VerifiedAttestation {
  predicateType: string;
  /** cosign's short name for the predicate type, when it has one. */
  type?: string;
  format: Format;
  ref: string;
  statement: DecodedStatement;
}

export interface Refused {
  kind: 'signature' | 'attestation';
  predicateType?: string;
  format: Format;
  ref: string;
  /** `key`: no signature verifies with the key; `digest`: verified, but about another image; `format`: unreadable */
  why: 'key' | 'digest' | 'format';
  /** For `digest`: the digests the payload names. */
  names?: string[];
  detail: string;
}

export interface VerifyResult {
  image: string;
  digest: string;
  resolvedFrom?: string;
  verified: boolean;
  /** The first reason for refusal, one line; every reason in `reasons`. */
  reason?: string;
  reasons: string[];
  signatures: VerifiedSignature[];
  attestations: VerifiedAttestation[];
  refused: Refused[];
  referrers: 'api' | 'tag';
}

/** cosign's short name of a predicate type URI, or the URI. */
export const typeName = predicateName;

/** The predicate types behind `--require` values, refusing unknown names up front. */
export function requiredTypes(values: readonly string[], input = '--require'): string[] {
  return values.map((value) => {
    const uri = predicateTypeOf(value);
    if (!uri)
      throw new InputError(
        input,
        `unknown attestation type "${value}" (one of ${Object.keys(PREDICATE_TYPES).join(', ')}, or a predicate type URI)`,
      );
    return uri;
  });
}

/**
 * Verifies an image's signatures and attestations with a public key, reading what cosign v3 writes by default
 * (bundles as OCI referrers: the referrers API or the `sha256-<hex>` tag index) and what it writes with
 * `--new-bundle-format=false` (the `sha256-<hex>.sig` and `.att` tags). Each is checked for a valid signature
 * with the key over exactly the stored payload, and for a payload that names this digest. Verified when at
 * least one signature verifies and every required attestation type has a verified attestation.
 */
export async function verifyImage(request: VerifyRequest): Promise<VerifyResult> {
  const required = requiredTypes(request.require ?? []);
  const target = await resolveTarget(request.image, request.insecureRegistries, request.input ?? '--image');
  const key = request.publicKey;
  const signatures: VerifiedSignature[] = [];
  const attestations: VerifiedAttestation[] = [];
  const refused: Refused[] = [];

  const judgeStatement = (
    envelope: Envelope,
    format: Format,
    ref: string,
    predicateHint: string | undefined,
  ): void => {
    const statement = decodeStatement(envelope);
    const predicateType = statement?.predicateType ?? predicateHint;
    const kind = predicateType === COSIGN_SIGN_PREDICATE_TYPE ? 'signature' : 'attestation';
    const base = {
      kind,
      format,
      ref,
      ...(kind === 'attestation' && predicateType ? { predicateType } : {}),
    } as const;
    if (!envelopeVerifies(envelope, key.publicKey)) {
      refused.push({ ...base, why: 'key', detail: `does not verify with ${key.describe}` });
      return;
    }
    if (!statement) {
      refused.push({ ...base, why: 'format', detail: 'its payload is not an in-toto statement' });
      return;
    }
    const names = subjectDigests(statement);
    if (!names.includes(target.digest)) {
      refused.push({ ...base, why: 'digest', names, detail: `is for ${names.join(', ') || 'no digest'}` });
      return;
    }
    if (kind === 'signature') signatures.push({ format, ref });
    else {
      const type = typeName(statement.predicateType);
      attestations.push({
        predicateType: statement.predicateType,
        ...(type !== statement.predicateType ? { type } : {}),
        format,
        ref,
        statement,
      });
    }
  };

  // 1. Bundles, as referrers.
  const referrers = await listReferrers(target.client, target.repository, target.digest);
  for (const descriptor of referrers.manifests) {
    if (descriptor.artifactType && !descriptor.artifactType.startsWith(BUNDLE_MEDIA_TYPE_PREFIX)) continue;
    const ref = `${target.name}@${descriptor.digest}`;
    const fetched = await target.client.getManifest(target.repository, descriptor.digest, OCI_MANIFEST);
    const manifest = fetched && parseManifest(fetched.bytes);
    const layer = manifest?.layers.length === 1 ? manifest.layers[0] : undefined;
    if (!layer?.mediaType.startsWith(BUNDLE_MEDIA_TYPE_PREFIX)) continue; // not a sigstore referrer
    const hint = manifest?.annotations?.['dev.sigstore.bundle.predicateType'];
    const bundle = parseBundle(await blob(target, layer.digest));
    if (!bundle?.dsseEnvelope) {
      refused.push({
        kind: hint === COSIGN_SIGN_PREDICATE_TYPE ? 'signature' : 'attestation',
        format: 'bundle',
        ref,
        why: 'format',
        detail: 'is not a sigstore bundle with a DSSE envelope',
      });
      continue;
    }
    judgeStatement(bundle.dsseEnvelope, 'bundle', ref, hint);
  }

  // 2. Legacy signatures: simple-signing payloads, the signature in a layer annotation.
  const sigTag = digestTag(target.digest, '.sig');
  const sigManifest = await legacyManifest(target, sigTag);
  for (const layer of sigManifest?.layers ?? []) {
    if (layer.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) continue;
    const ref = `${target.name}:${sigTag}`;
    const payload = await blob(target, layer.digest);
    const signature = layer.annotations?.[LEGACY_SIGNATURE_ANNOTATION] ?? '';
    if (!rawVerify(payload, signature, key.publicKey)) {
      refused.push({
        kind: 'signature',
        format: 'legacy',
        ref,
        why: 'key',
        detail: `does not verify with ${key.describe}`,
      });
      continue;
    }
    const named = simpleSigningDigest(payload);
    if (named !== target.digest) {
      refused.push({
        kind: 'signature',
        format: 'legacy',
        ref,
        why: named ? 'digest' : 'format',
        ...(named ? { names: [named] } : {}),
        detail: named ? `is for ${named}` : 'its payload names no image digest',
      });
      continue;
    }
    signatures.push({ format: 'legacy', ref });
  }

  // 3. Legacy attestations: DSSE envelopes as layers.
  const attTag = digestTag(target.digest, '.att');
  const attManifest = await legacyManifest(target, attTag);
  for (const layer of attManifest?.layers ?? []) {
    if (layer.mediaType !== DSSE_LAYER_MEDIA_TYPE) continue;
    const ref = `${target.name}:${attTag}`;
    let envelope: Envelope | undefined;
    try {
      envelope = parseEnvelope(JSON.parse((await blob(target, layer.digest)).toString('utf8')));
    } catch {
      envelope = undefined;
    }
    if (!envelope) {
      refused.push({
        kind: 'attestation',
        format: 'legacy',
        ref,
        why: 'format',
        ...(layer.annotations?.predicateType ? { predicateType: layer.annotations.predicateType } : {}),
        detail: 'is not a DSSE envelope',
      });
      continue;
    }
    judgeStatement(envelope, 'legacy', ref, layer.annotations?.predicateType);
  }

  const reasons = verdict(
    target,
    key,
    required,
    signatures,
    attestations,
    refused,
    referrers.manifests.length > 0 || !!sigManifest,
  );
  return {
    image: `${target.name}@${target.digest}`,
    digest: target.digest,
    ...(target.resolvedFrom ? { resolvedFrom: target.resolvedFrom } : {}),
    verified: reasons.length === 0,
    ...(reasons.length ? { reason: reasons[0] } : {}),
    reasons,
    signatures,
    attestations,
    refused,
    referrers: referrers.via,
  };
}

/** Every reason to refuse, one line each; empty when verified. */
function verdict(
  target: ImageTarget,
  key: PublicKey,
  required: string[],
  signatures: VerifiedSignature[],
  attestations: VerifiedAttestation[],
  refused: Refused[],
  anythingAttached: boolean,
): string[] {
  const reasons: string[] = [];
  const digest = target.digest;
  if (signatures.length === 0) {
    const tried = refused.filter((r) => r.kind === 'signature');
    const wrongDigest = tried.find((r) => r.why === 'digest');
    if (tried.length === 0) {
      reasons.push(
        anythingAttached
          ? `no signature for ${digest} in ${target.name}`
          : `no signature for ${digest}: nothing is attached to it in ${target.name} (no referrers, no .sig tag)`,
      );
    } else if (wrongDigest && tried.every((r) => r.why !== 'key')) {
      reasons.push(
        `signature ${wrongDigest.ref} is for ${wrongDigest.names?.join(', ') || 'no digest'} not ${digest}`,
      );
    } else {
      reasons.push(
        `no signature for ${digest} verifies with ${key.describe} (${tried.length} found, ${count(tried, 'key')} signed with another key)`,
      );
    }
  }
  for (const type of required) {
    if (attestations.some((a) => a.predicateType === type)) continue;
    const name = typeName(type);
    const tried = refused.filter((r) => r.kind === 'attestation' && r.predicateType === type);
    const wrongDigest = tried.find((r) => r.why === 'digest');
    if (wrongDigest)
      reasons.push(
        `attestation ${name} is for ${wrongDigest.names?.join(', ') || 'no digest'} not ${digest}`,
      );
    else if (tried.length > 0)
      reasons.push(
        `no attestation ${name} for ${digest} verifies with ${key.describe} (${tried[0]!.detail})`,
      );
    else reasons.push(`no attestation ${name} for ${digest}`);
  }
  return reasons;
}

const count = (refused: Refused[], why: Refused['why']) => refused.filter((r) => r.why === why).length;

async function blob(target: ImageTarget, digest: string): Promise<Buffer> {
  return target.client.getBlob(target.repository, digest);
}

async function legacyManifest(target: ImageTarget, tag: string) {
  const fetched = await target.client.getManifest(target.repository, tag);
  return fetched ? parseManifest(fetched.bytes) : undefined;
}
