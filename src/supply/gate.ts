/**
 * Verification as a gate: `gantry verify` and a deploy with a public key run the same checks — a signature of
 * the digest that verifies with the key, the required attestations, and the policy on what those attestations
 * say (src/supply/policy.ts). A deploy checks every image of the Deployment before anything is applied.
 */
import type { GantryConfig } from '../config/schema.js';
import { ExitCode, GantryError, InputError } from '../util/errors.js';
import { log } from '../util/log.js';
import { loadPublicKey, type PublicKey } from './keys.js';
import { type DeployPolicy, judgeEvidence } from './policy.js';
import type { Statement } from './statement.js';
import { requiredTypes, type VerifyResult, verifyImage } from './verify.js';

type VerifySettings = GantryConfig['verify'];

/** An image the policy refused: exit 1, the reason in one line. */
export class VerificationRefused extends GantryError {
  constructor(message: string) {
    super(message, ExitCode.gate);
  }
}

/** Whether a public key is configured: then every deployed image must verify. */
export function verificationEnabled(settings: VerifySettings): boolean {
  return settings.publicKeyFile !== undefined || settings.publicKeyEnv !== undefined;
}

/** The policy the settings describe; its attestation types checked up front (exit 2 on an unknown one). */
export function policyOf(settings: VerifySettings): DeployPolicy {
  requiredTypes(settings.require);
  return {
    attestations: settings.require,
    maxFindings: {
      ...(settings.maxCritical !== undefined ? { critical: settings.maxCritical } : {}),
      ...(settings.maxHigh !== undefined ? { high: settings.maxHigh } : {}),
    },
    ...(settings.source !== undefined ? { source: settings.source } : {}),
    ...(settings.builderId !== undefined ? { builder: settings.builderId } : {}),
  };
}

/** A verification result with the policy applied: refused when the attestations say no. */
export function withPolicy(result: VerifyResult, policy: DeployPolicy): VerifyResult {
  if (!result.verified) return result;
  const judgement = judgeEvidence(
    policy,
    result.attestations.map((attestation) => attestation.statement as unknown as Statement),
  );
  if (judgement.allowed) return result;
  return { ...result, verified: false, reason: judgement.reason, reasons: [judgement.reason] };
}

/** Verifies one image and applies the policy. */
export async function verifyWithPolicy(
  image: string,
  settings: VerifySettings,
  publicKey: PublicKey,
  insecureRegistries: string[],
  input = '--image',
): Promise<VerifyResult> {
  const policy = policyOf(settings);
  const result = await verifyImage({
    image,
    publicKey,
    insecureRegistries,
    require: settings.require,
    input,
  });
  return withPolicy(result, policy);
}

/**
 * The deploy's gate: every image must be pinned by digest and verify; the first that does not stops the
 * rollout with exit 1 (bad settings: exit 2), before anything is applied.
 */
export async function verifyDeployImages(
  images: readonly string[],
  settings: VerifySettings,
  insecureRegistries: string[],
): Promise<VerifyResult[]> {
  if (!verificationEnabled(settings)) return [];
  const publicKey = loadPublicKey({ file: settings.publicKeyFile, env: settings.publicKeyEnv });
  policyOf(settings);
  const results: VerifyResult[] = [];
  for (const image of new Set(images)) {
    if (!/@sha256:[0-9a-f]{64}$/.test(image)) {
      throw new InputError(
        '--manifests',
        `image ${image} is not pinned by digest: with --public-key-file every image must be (ref@sha256:…)`,
      );
    }
    const result = await verifyWithPolicy(image, settings, publicKey, insecureRegistries, '--manifests');
    if (!result.verified) {
      throw new VerificationRefused(`refused ${image}: ${result.reason}; nothing was applied`);
    }
    log.info(
      `verified ${image} with ${publicKey.describe}: ${[
        `${result.signatures.length} signature(s)`,
        ...result.attestations.map((a) => a.type ?? a.predicateType),
      ].join(', ')}`,
    );
    results.push(result);
  }
  return results;
}
