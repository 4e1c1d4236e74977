/**
 * The supply-chain stages of the actions — sign, verify: inputs → the use cases (src/commands/supply.ts) →
 * outputs and job summary. Keys reach the core through environment variables, never argv: `signing-key` (the
 * PEM) as GANTRY_SIGNING_KEY, `key-password` as GANTRY_SIGNING_KEY_PASSWORD, `public-key` as
 * GANTRY_VERIFY_PUBLIC_KEY.
 */
import { resolve } from 'node:path';
import { runSignCommand, runVerifyCommand } from '../../commands/supply.js';
import { type RawInputs, resolveConfig } from '../../config/load.js';
import { markdownCode } from '../../report/format.js';
import { DEFAULT_SBOM_FILES } from '../../supply/sbom.js';
import type { SignResult } from '../../supply/sign.js';
import type { VerifyResult } from '../../supply/verify.js';
import { ExitCode, GantryError, InputError } from '../../util/errors.js';
import {
  type ActionSpec,
  appendSummary,
  commandOptions,
  type Inputs,
  mask,
  stage,
  toRawInputs,
  useCredentials,
} from './adapter.js';

/** Where the action puts the key PEM of `signing-key` for the core (`--key-env`). */
export const SIGNING_KEY_ENV = 'GANTRY_SIGNING_KEY';
/** Where the action puts `key-password` for the core (`--key-password-env`). */
export const SIGNING_KEY_PASSWORD_ENV = 'GANTRY_SIGNING_KEY_PASSWORD';
/** Where the verify action puts `public-key` for the core (`--public-key-env`). */
export const PUBLIC_KEY_ENV = 'GANTRY_VERIFY_PUBLIC_KEY';

/** True when the inputs give a signing key (the root action signs only then; gantry.yml's sign.* too). */
export function hasSigningKeyInput(inputs: Inputs): boolean {
  return ['signing-key', 'key-file', 'key-env'].some((name) => inputs[name] !== undefined);
}

/**
 * The signing key inputs as sign's raw inputs: `signing-key` (masked) into {@link SIGNING_KEY_ENV},
 * `key-password` (masked) into {@link SIGNING_KEY_PASSWORD_ENV}.
 */
export function signingKeyInputs(inputs: Inputs, env: NodeJS.ProcessEnv = process.env): RawInputs {
  const raw: RawInputs = {};
  const pem = inputs['signing-key'];
  if (pem !== undefined) {
    for (const other of ['key-file', 'key-env']) {
      if (inputs[other] !== undefined)
        throw new InputError('input "signing-key"', `give one of "signing-key" and "${other}"`);
    }
    mask(pem);
    env[SIGNING_KEY_ENV] = pem;
    raw['key-env'] = SIGNING_KEY_ENV;
  }
  const password = inputs['key-password'];
  if (password !== undefined) {
    if (inputs['key-password-env'] !== undefined)
      throw new InputError('input "key-password"', 'give one of "key-password" and "key-password-env"');
    mask(password);
    env[SIGNING_KEY_PASSWORD_ENV] = password;
    raw['key-password-env'] = SIGNING_KEY_PASSWORD_ENV;
  }
  return raw;
}

/** The sign result, and the SBOM file when one was generated (`sbom`, or gantry.yml's sign.sbom). */
/**
 * A core error about the environment variables the action itself filled is about the input the user gave:
 * `--key-env` → input "signing-key", `--key-password-env` → "key-password", `--public-key-env` → "public-key".
 */
export function renameKeyError(error: unknown, inputs: Inputs): unknown {
  if (!(error instanceof InputError)) return error;
  const renames: [string, string, string][] = [
    ['--key-env', 'signing-key', SIGNING_KEY_ENV],
    ['--key-password-env', 'key-password', SIGNING_KEY_PASSWORD_ENV],
    ['--public-key-env', 'public-key', PUBLIC_KEY_ENV],
  ];
  for (const [flag, input, variable] of renames) {
    if (error.input !== flag || inputs[input] === undefined) continue;
    const message = error.message
      .slice(error.input.length + 2)
      .replaceAll(`$${variable}`, `input "${input}"`)
      .replaceAll(variable, `input "${input}"`);
    return new InputError(`input "${input}"`, message, { cause: error });
  }
  return error;
}

/** Runs `fn`, naming the input behind a key the action handed over in the environment. */
export async function withKeyInputs<T>(inputs: Inputs, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw renameKeyError(error, inputs);
  }
}

export type SignOutcome = SignResult & { durationMs: number; sbom?: string };

/** Signs an image (`image`, or what the pipeline pushed) and attaches the attestations. */
export function signStage(spec: ActionSpec, inputs: Inputs, extra: RawInputs = {}): Promise<SignOutcome> {
  return stage(spec, 'sign', () =>
    withKeyInputs(inputs, async () => {
      useCredentials(inputs);
      const raw: RawInputs = { ...toRawInputs('sign', spec, inputs), ...signingKeyInputs(inputs), ...extra };
      const { sign } = resolveConfig({ command: 'sign', raw, configPath: inputs.config });
      const { result } = await runSignCommand(raw, commandOptions(inputs));
      await appendSummary(
        [
          `### Image signed: ${markdownCode(result.image)}`,
          '',
          `- signature ${markdownCode(result.signature)}`,
          ...result.attestations.map(
            (a) => `- attestation ${markdownCode(a.predicateType)}: ${markdownCode(a.ref)}`,
          ),
          '',
        ].join('\n'),
      );
      return sign.sbom
        ? { ...result, sbom: resolve(sign.sbomOutput ?? DEFAULT_SBOM_FILES.cyclonedx) }
        : result;
    }),
  );
}

/** Verifies an image against the policy; the outcome, verified or refused (the caller fails a refusal). */
export function verifyStage(spec: ActionSpec, inputs: Inputs): Promise<VerifyResult> {
  return stage(spec, 'verify', () =>
    withKeyInputs(inputs, async () => {
      useCredentials(inputs);
      const raw: RawInputs = toRawInputs('verify', spec, inputs);
      const pem = inputs['public-key'];
      if (pem !== undefined) {
        for (const other of ['public-key-file', 'public-key-env']) {
          if (inputs[other] !== undefined)
            throw new InputError('input "public-key"', `give one of "public-key" and "${other}"`);
        }
        process.env[PUBLIC_KEY_ENV] = pem;
        raw['public-key-env'] = PUBLIC_KEY_ENV;
      }
      const { result } = await runVerifyCommand(raw, commandOptions(inputs));
      await appendSummary(
        result.verified
          ? [
              `### Image verified: ${markdownCode(result.image)}`,
              '',
              ...result.signatures.map((s) => `- signature ${markdownCode(s.ref)}`),
              ...result.attestations.map(
                (a) => `- attestation ${markdownCode(a.type ?? a.predicateType)}: ${markdownCode(a.ref)}`,
              ),
              '',
            ].join('\n')
          : `### Image refused: ${markdownCode(result.image)}\n\n${result.reason ?? ''}\n`,
      );
      return result;
    }),
  );
}

/** The failure of a refused verification: exit 1 with the reason, as `gantry verify`. */
export function refusal(result: VerifyResult): GantryError {
  return new GantryError(`refused ${result.image}: ${result.reason ?? 'not verified'}`, ExitCode.gate);
}
