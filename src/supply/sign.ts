import { InputError } from '../util/errors.js';
import { log } from '../util/log.js';
import { type ImageTarget, putReferrer, resolveTarget } from './attachments.js';
import {
  asStatement,
  COSIGN_SIGN_PREDICATE_TYPE,
  EMPTY_JSON,
  makeBundle,
  referrerManifest,
  signaturePayload,
  subjectDigests,
} from './bundle.js';
import type { BundleSigner } from './keyless.js';
import type { SigningKey } from './keys.js';
import type { Statement } from './statement.js';

export interface SignRequest {
  /** `repo@sha256:…` (a tag is resolved to its digest first; the digest is what is signed). */
  image: string;
  /** A private key, or a keyless signer (./keyless.ts). */
  key: SigningKey | BundleSigner;
  /** in-toto statements to attach as attestations; each must be about this digest. */
  attestations: Statement[];
  insecureRegistries: string[];
  /** The input the image came from, for errors. */
  input?: string;
}

export interface SignResult {
  /** `host/repo@sha256:…`: what was signed. */
  image: string;
  digest: string;
  /** The tag the digest was resolved from, when a tag was given. */
  resolvedFrom?: string;
  /** `host/repo@sha256:…` of the referrer manifest holding the signature bundle. */
  signature: string;
  attestations: { predicateType: string; ref: string }[];
  /** How the referrers are found: the registry's referrers API, or the `sha256-<hex>` tag index. */
  referrers: 'api' | 'tag';
}

/**
 * Signs an image's digest and attaches each statement as an attestation, as cosign v3.1.3 does by default:
 * each is a sigstore bundle v0.3 (DSSE envelope, key hint, no transparency-log entry) stored as an OCI
 * referrer of the image (with the referrers tag index where the registry has no referrers API).
 * `cosign verify --key cosign.pub --insecure-ignore-tlog=true IMAGE` and `cosign verify-attestation --key
 * cosign.pub --insecure-ignore-tlog=true --type <type> IMAGE` accept the result.
 */
export async function signImage(request: SignRequest): Promise<SignResult> {
  const input = request.input ?? '--image';
  const target = await resolveTarget(request.image, request.insecureRegistries, input);
  for (const [i, statement] of request.attestations.entries()) checkStatement(statement, target, i);
  const signature = await attach(
    target,
    request.key,
    signaturePayload(target.digest),
    COSIGN_SIGN_PREDICATE_TYPE,
  );
  log.info(`signed ${target.name}@${target.digest} (${request.key.describe})`);
  const attestations: SignResult['attestations'] = [];
  for (const statement of request.attestations) {
    const payload = Buffer.from(JSON.stringify(statement));
    const stored = await attach(target, request.key, payload, statement.predicateType);
    attestations.push({ predicateType: statement.predicateType, ref: `${target.name}@${stored.digest}` });
    log.info(`attached attestation ${statement.predicateType}`);
  }
  return {
    image: `${target.name}@${target.digest}`,
    digest: target.digest,
    ...(target.resolvedFrom ? { resolvedFrom: target.resolvedFrom } : {}),
    signature: `${target.name}@${signature.digest}`,
    attestations,
    referrers: signature.via,
  };
}

async function attach(
  target: ImageTarget,
  key: SigningKey | BundleSigner,
  payload: Buffer,
  predicateType: string,
) {
  const bundle =
    'bundle' in key
      ? await key.bundle(payload)
      : Buffer.from(JSON.stringify(makeBundle(payload, key.privateKey, key.publicKey)));
  const manifest = referrerManifest(target.descriptor, bundle, predicateType);
  return putReferrer(target.client, target.repository, manifest, [EMPTY_JSON, bundle]);
}

/** A statement to attach must be an in-toto statement about this image's digest. */
function checkStatement(statement: Statement, target: ImageTarget, index: number): void {
  const decoded = asStatement(statement);
  const name = `attestation ${index + 1}${statement?.predicateType ? ` (${statement.predicateType})` : ''}`;
  if (!decoded)
    throw new InputError('--attest', `${name} is not an in-toto statement (_type, subject, predicateType)`);
  const digests = subjectDigests(decoded);
  if (!digests.includes(target.digest)) {
    throw new InputError(
      '--attest',
      `${name} is about ${digests.join(', ') || 'no sha256 digest'}, not ${target.digest} (${target.name})`,
    );
  }
}
