import { readFileSync } from 'node:fs';
import { type RawInputs, resolveConfig } from '../config/load.js';
import { parseImageReference } from '../context/reference.js';
import { resolveTarget } from '../supply/attachments.js';
import { asStatement } from '../supply/bundle.js';
import { verifyWithPolicy } from '../supply/gate.js';
import { loadPublicKey, loadSigningKey } from '../supply/keys.js';
import { type SignResult, signImage } from '../supply/sign.js';
import { predicateTypeOf, type Statement, statementFor } from '../supply/statement.js';
import type { VerifyResult } from '../supply/verify.js';
import { InputError } from '../util/errors.js';
import type { CommandOptions, CommandOutcome } from './outcome.js';

/** An `--attest` value: a statement file, or `type=file` (a predicate file and its type). */
export function parseAttestArgument(value: string): { type?: string; file: string } {
  const match = /^([a-z0-9]+|https?:\/\/[^=]+)=(.+)$/.exec(value);
  if (match && predicateTypeOf(match[1]!)) return { type: predicateTypeOf(match[1]!)!, file: match[2]! };
  return { file: value };
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError('--attest', `cannot read "${file}"${code === 'ENOENT' ? ': no such file' : ''}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError('--attest', `"${file}" is not JSON`);
  }
}

/**
 * `gantry sign`: signs the image's digest (a tag is resolved first) and attaches the attestations, in the
 * format cosign v3 writes by default. Every input is checked before anything is written.
 */
export async function runSignCommand(
  raw: RawInputs,
  options: CommandOptions,
): Promise<CommandOutcome<SignResult & { durationMs: number }>> {
  const config = resolveConfig({ command: 'sign', raw, configPath: options.configPath });
  if (!config.image) throw new InputError('--image', 'required: the registry image to sign');
  parseImageReference(config.image, '--image');
  const key = loadSigningKey(
    { file: config.sign.keyFile, env: config.sign.keyEnv },
    config.sign.keyPasswordEnv,
  );
  const attestArgs = config.sign.attest.map(parseAttestArgument);
  const documents = attestArgs.map((a) => ({ ...a, value: readJson(a.file) }));
  for (const doc of documents) {
    if (!doc.type && !asStatement(doc.value)) {
      throw new InputError(
        '--attest',
        `"${doc.file}" is not an in-toto statement (_type, subject, predicateType); for a predicate alone write type=${doc.file}`,
      );
    }
  }
  const started = Date.now();
  let image = config.image;
  let resolvedFrom: string | undefined;
  if (documents.some((d) => d.type)) {
    // Predicates become statements about the digest: resolve it once, and sign exactly that digest.
    const target = await resolveTarget(config.image, config.registry.insecure, '--image');
    image = `${target.name}@${target.digest}`;
    resolvedFrom = target.resolvedFrom;
  }
  const statements: Statement[] = documents.map((d) =>
    d.type ? statementFor(image, d.type, d.value) : (d.value as Statement),
  );
  const result = await signImage({
    image,
    key,
    attestations: statements,
    insecureRegistries: config.registry.insecure,
  });
  if (resolvedFrom) result.resolvedFrom = resolvedFrom;
  const summary = [
    `signed ${result.image}${result.resolvedFrom ? ` (tag ${result.resolvedFrom} resolved to this digest; the digest is what was signed)` : ''}`,
    `  signature    ${result.signature}`,
    ...result.attestations.map((a) => `  attestation  ${a.predicateType}  ${a.ref}`),
  ].join('\n');
  return { exitCode: 0, result: { ...result, durationMs: Date.now() - started }, summary };
}

/**
 * `gantry verify`: exit 0 when a signature of the image's digest verifies with the public key, every
 * `--require`d attestation type too, and what the attestations say meets the policy (`--max-critical`,
 * `--source`, …); 1 with the reason in one line when not.
 */
export async function runVerifyCommand(
  raw: RawInputs,
  options: CommandOptions,
): Promise<CommandOutcome<VerifyResult>> {
  const config = resolveConfig({ command: 'verify', raw, configPath: options.configPath });
  if (!config.image) throw new InputError('--image', 'required: the registry image to verify');
  parseImageReference(config.image, '--image');
  const publicKey = loadPublicKey({ file: config.verify.publicKeyFile, env: config.verify.publicKeyEnv });
  const result = await verifyWithPolicy(config.image, config.verify, publicKey, config.registry.insecure);
  const resolved = result.resolvedFrom
    ? ` (tag ${result.resolvedFrom} resolved to this digest; the digest is what was verified)`
    : '';
  const summary = result.verified
    ? [
        `verified ${result.image} with ${publicKey.describe}${resolved}`,
        ...result.signatures.map((s) => `  signature    ${s.format.padEnd(7)} ${s.ref}`),
        ...result.attestations.map(
          (a) => `  attestation  ${a.format.padEnd(7)} ${a.type ?? a.predicateType}  ${a.ref}`,
        ),
      ].join('\n')
    : `refused ${result.image}${resolved}: ${result.reason}`;
  return { exitCode: result.verified ? 0 : 1, result, summary };
}
