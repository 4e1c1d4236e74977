import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type RawInputs, resolveConfig } from '../config/load.js';
import { parseImageReference } from '../context/reference.js';
import { type ImageTarget, resolveTarget } from '../supply/attachments.js';
import { asStatement } from '../supply/bundle.js';
import { verifyWithPolicy } from '../supply/gate.js';
import { identityToken, keylessSigner } from '../supply/keyless.js';
import { loadPublicKey, loadSigningKey } from '../supply/keys.js';
import { resubject } from '../supply/provenance.js';
import { slsaProvenanceStatementSchema } from '../supply/provenance-schema.js';
import { DEFAULT_SBOM_FILES, generateSbom } from '../supply/sbom.js';
import { type SignResult, signImage } from '../supply/sign.js';
import { PREDICATE_TYPES, predicateTypeOf, type Statement, statementFor } from '../supply/statement.js';
import type { VerifyResult } from '../supply/verify.js';
import { vulnPredicate } from '../supply/vuln.js';
import { InputError } from '../util/errors.js';
import type { CommandOptions, CommandOutcome } from './outcome.js';

/** An `--attest` value: a statement file, or `type=file` (a predicate file and its type). */
export function parseAttestArgument(value: string): { type?: string; file: string } {
  const match = /^([a-z0-9]+|https?:\/\/[^=]+)=(.+)$/.exec(value);
  if (match && predicateTypeOf(match[1]!)) return { type: predicateTypeOf(match[1]!)!, file: match[2]! };
  return { file: value };
}

function readJson(file: string, input = '--attest'): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(input, `cannot read "${file}"${code === 'ENOENT' ? ': no such file' : ''}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(input, `"${file}" is not JSON`);
  }
}

/** The provenance statement `gantry build` wrote, checked against the SLSA v1 structure. */
function readProvenance(file: string): Statement {
  const value = readJson(file, '--provenance');
  const parsed = slsaProvenanceStatementSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(
      '--provenance',
      `"${file}" is not a SLSA v1 provenance statement: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  return value as Statement;
}

/** `gantry scan --json`'s result, as far as the vuln attestation needs it. */
function readScanResult(file: string): Parameters<typeof vulnPredicate>[0] {
  const value = readJson(file, '--scan-result') as Record<string, unknown>;
  const fields = [
    'scanner',
    'scannerVersion',
    'threshold',
    'passed',
    'counts',
    'findings',
    'startedAt',
    'finishedAt',
  ];
  const missing = fields.filter((field) => value?.[field] === undefined);
  if (missing.length > 0 || !Array.isArray(value.findings)) {
    throw new InputError(
      '--scan-result',
      `"${file}" is not a \`gantry scan --json\` result (no ${missing.join(', ') || 'findings list'})`,
    );
  }
  return { ignored: [], ...value } as unknown as Parameters<typeof vulnPredicate>[0];
}

/**
 * A provenance is attached about the signed digest only when its subject is this image: the digest itself, or,
 * for an image built into a local store (buildah, the Docker daemon) before it had a manifest in a registry,
 * the image's config digest — of the image, or of one of its platforms.
 */
async function checkProvenanceSubject(
  target: ImageTarget,
  provenance: Statement,
  file: string,
): Promise<void> {
  const subjects = provenance.subject.map((s) => `sha256:${s.digest.sha256}`);
  if (subjects.includes(target.digest)) return;
  const configs: string[] = [];
  const manifestOf = async (reference: string) => {
    const fetched = await target.client.getManifest(target.repository, reference);
    return fetched ? (JSON.parse(fetched.bytes.toString()) as Record<string, unknown>) : undefined;
  };
  const top = await manifestOf(target.digest);
  const platforms = Array.isArray(top?.manifests) ? (top.manifests as { digest: string }[]) : [];
  for (const manifest of platforms.length > 0
    ? await Promise.all(platforms.map((m) => manifestOf(m.digest)))
    : [top]) {
    const config = (manifest?.config as { digest?: string } | undefined)?.digest;
    if (config) configs.push(config);
  }
  if (subjects.some((subject) => configs.includes(subject))) return;
  throw new InputError(
    '--provenance',
    `"${file}" is about ${subjects.join(', ')}, which is neither ${target.digest} nor its image config`,
  );
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
  if (config.sign.keyless && (config.sign.keyFile || config.sign.keyEnv))
    throw new InputError('--keyless', 'sign with a key (--key-file/--key-env) or --keyless, not both');
  const key = config.sign.keyless
    ? keylessSigner(await identityToken(config.sign), config.sign)
    : loadSigningKey({ file: config.sign.keyFile, env: config.sign.keyEnv }, config.sign.keyPasswordEnv);
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
  const provenance = config.sign.provenance ? readProvenance(config.sign.provenance) : undefined;
  const scan = config.sign.scanResult ? readScanResult(config.sign.scanResult) : undefined;
  const started = Date.now();
  let image = config.image;
  let resolvedFrom: string | undefined;
  const statements: Statement[] = [];
  if (documents.some((d) => d.type) || provenance || scan || config.sign.sbom) {
    // Predicates become statements about the digest: resolve it once, and sign exactly that digest.
    const target = await resolveTarget(config.image, config.registry.insecure, '--image');
    image = `${target.name}@${target.digest}`;
    resolvedFrom = target.resolvedFrom;
    if (provenance) {
      await checkProvenanceSubject(target, provenance, config.sign.provenance!);
      statements.push(resubject(provenance, image));
    }
    if (scan) statements.push(statementFor(image, PREDICATE_TYPES.vuln, vulnPredicate(scan)));
    if (config.sign.sbom) {
      const sbom = await generateSbom({
        ref: image,
        format: 'cyclonedx',
        output: config.sign.sbomOutput ?? DEFAULT_SBOM_FILES.cyclonedx,
        insecureRegistries: config.registry.insecure,
      });
      const document = JSON.parse(await readFile(sbom.file, 'utf8'));
      statements.push(statementFor(image, sbom.predicateType, document));
    }
  }
  statements.unshift(
    ...documents.map((d) => (d.type ? statementFor(image, d.type, d.value) : (d.value as Statement))),
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
