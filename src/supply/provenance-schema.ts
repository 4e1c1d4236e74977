import { z } from 'zod';
import { PREDICATE_TYPES, STATEMENT_TYPE } from './statement.js';

/**
 * The required structure of an in-toto Statement v1 and of a SLSA v1 provenance predicate, as zod schemas.
 * Neither specification publishes an official JSON schema; each rule below cites the sentence of the spec it
 * encodes. Fields the specs leave open (`externalParameters`' content, extension fields) are left open.
 */

/**
 * TypeURI — "A URI, as defined by RFC 3986 … used to identify a type" (in-toto attestation
 * spec/v1/field_types.md#TypeURI). Checked as an RFC 3986 scheme followed by ':' and more.
 */
const typeUri = z.string().regex(/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/, 'expected a URI (RFC 3986)');

/**
 * DigestSet — "Set of one or more cryptographic digests … The key is the algorithm … the value is the digest,
 * hex-encoded … lowercase" (spec/v1/digest_set.md); `gitCommit` is one of the listed algorithms.
 */
const digestSet = z
  .record(z.string().min(1), z.string().regex(/^[a-f0-9]+$/, 'expected a lowercase hex digest'))
  .refine((set) => Object.keys(set).length > 0, 'a DigestSet has one or more digests')
  .refine((set) => set.sha256 === undefined || /^[a-f0-9]{64}$/.test(set.sha256), 'sha256: 64 hex digits');

/**
 * ResourceDescriptor (spec/v1/resource_descriptor.md): "At least one of uri, digest or content MUST be
 * specified"; `name` is a string, `uri` a ResourceURI, `annotations` a map to any JSON value.
 */
export const resourceDescriptorSchema = z
  .looseObject({
    uri: typeUri.optional(),
    digest: digestSet.optional(),
    content: z.string().optional(),
    name: z.string().min(1).optional(),
    downloadLocation: typeUri.optional(),
    mediaType: z.string().optional(),
    annotations: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((r) => r.uri !== undefined || r.digest !== undefined || r.content !== undefined, {
    message: 'a ResourceDescriptor needs at least one of uri, digest or content',
  });

/**
 * Statement v1 (spec/v1/statement.md): `_type` "REQUIRED … MUST be https://in-toto.io/Statement/v1";
 * `subject` "REQUIRED … Set of software artifacts that the attestation applies to … Each element MUST have
 * `digest` set"; `predicateType` "REQUIRED … URI identifying the type of the Predicate"; `predicate`
 * "OPTIONAL … additional parameters of the Predicate", an object.
 */
export const statementSchema = z.looseObject({
  _type: z.literal(STATEMENT_TYPE),
  subject: z
    .array(resourceDescriptorSchema.and(z.looseObject({ digest: digestSet })))
    .min(1, 'a Statement has at least one subject'),
  predicateType: typeUri,
  predicate: z.record(z.string(), z.unknown()).optional(),
});

/**
 * RFC 3339 timestamp in UTC — SLSA v1 "Timestamp: … a string in RFC 3339 format in UTC" (provenance v1,
 * `startedOn` / `finishedOn`).
 */
const timestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, 'expected an RFC 3339 UTC time');

/**
 * SLSA Provenance v1 predicate (https://slsa.dev/spec/v1.0/provenance):
 * - `buildDefinition` REQUIRED: `buildType` REQUIRED ("a URI indicating what type of build was performed"),
 *   `externalParameters` REQUIRED ("the parameters that are under external control"), `internalParameters`
 *   optional object, `resolvedDependencies` optional list of ResourceDescriptor;
 * - `runDetails` REQUIRED: `builder` REQUIRED with `id` REQUIRED ("URI indicating the transitive closure of the
 *   trusted build platform"), `version` optional map of string to string; `metadata` optional with
 *   `invocationId` (string), `startedOn`, `finishedOn` (Timestamps); `byproducts` optional.
 */
export const slsaProvenanceV1Schema = z.looseObject({
  buildDefinition: z.looseObject({
    buildType: typeUri,
    externalParameters: z.record(z.string(), z.unknown()),
    internalParameters: z.record(z.string(), z.unknown()).optional(),
    resolvedDependencies: z.array(resourceDescriptorSchema).optional(),
  }),
  runDetails: z.looseObject({
    builder: z.looseObject({
      id: typeUri,
      version: z.record(z.string(), z.string()).optional(),
      builderDependencies: z.array(resourceDescriptorSchema).optional(),
    }),
    metadata: z
      .looseObject({
        invocationId: z.string().optional(),
        startedOn: timestamp.optional(),
        finishedOn: timestamp.optional(),
      })
      .optional(),
    byproducts: z.array(resourceDescriptorSchema).optional(),
  }),
});

/** A Statement v1 whose predicate is SLSA provenance v1 (predicateType https://slsa.dev/provenance/v1). */
export const slsaProvenanceStatementSchema = statementSchema.extend({
  predicateType: z.literal(PREDICATE_TYPES.slsaprovenance1),
  predicate: slsaProvenanceV1Schema,
});

/** The first problem of a provenance statement, as `path: message`; undefined when it is valid. */
export function provenanceStatementProblem(value: unknown): string | undefined {
  const parsed = slsaProvenanceStatementSchema.safeParse(value);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0]!;
  return `${issue.path.join('.') || '(statement)'}: ${issue.message}`;
}
