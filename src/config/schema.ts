import { z } from 'zod';
import { SCAN_KINDS, SEVERITIES } from '../scan/types.js';

/**
 * The one schema for `gantry.yml` and for every flag and wrapper input. Flags, GitHub action inputs,
 * GitLab `spec:inputs` and Jenkins map keys are all mapped onto this shape (see options.ts) and validated
 * here, so every entry point gets the same defaults and the same error for the same mistake.
 */

const nonEmpty = (what: string) => z.string().trim().min(1, `expected ${what}, got an empty value`);

const keyValueMap = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'expected KEY=value'), z.string());

export const buildSecretSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'secret id must be letters, digits, ".", "_" or "-"'),
    /** A file whose content is the secret. */
    src: z.string().min(1).optional(),
    /** The name of an environment variable holding the secret (never its value). */
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
      .optional(),
  })
  .refine((s) => Boolean(s.src) !== Boolean(s.env), { message: 'a secret needs exactly one of src= or env=' });
export type BuildSecret = z.infer<typeof buildSecretSchema>;

export const buildSchema = z.strictObject({
  context: nonEmpty('a directory').default('.'),
  file: z.string().min(1).optional(),
  builder: z.enum(['auto', 'buildah', 'buildx']).default('auto'),
  target: z.string().min(1).optional(),
  buildArgs: keyValueMap.default({}),
  labels: keyValueMap.default({}),
  platforms: z.array(z.string().regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, 'expected os/arch[/variant]')).default([]),
  secrets: z.array(buildSecretSchema).default([]),
  /** A registry repository used as layer cache (`--cache-from`/`--cache-to` both point at it). */
  cacheRef: z.string().min(1).optional(),
  cacheFrom: z.array(z.string().min(1)).default([]),
  cacheTo: z.array(z.string().min(1)).default([]),
  push: z.boolean().default(false),
});

export const tagsSchema = z.strictObject({
  /** Tag rules in docker/metadata-action syntax (`type=semver,pattern={{version}}`); defaults when empty. */
  rules: z.array(z.string().min(1)).default([]),
  /** Explicit tags, added to what the rules produce. */
  extra: z.array(z.string().min(1)).default([]),
  latest: z.enum(['auto', 'true', 'false']).default('auto'),
  prefix: z.string().default(''),
  suffix: z.string().default(''),
});

export const scanSchema = z.strictObject({
  scanner: z.enum(['trivy', 'grype']).default('trivy'),
  severityThreshold: z.enum([...SEVERITIES, 'none']).default('high'),
  ignoreUnfixed: z.boolean().default(false),
  ignoreFile: z.string().min(1).optional(),
  scanners: z.array(z.enum(SCAN_KINDS)).min(1).default(['vuln', 'secret', 'misconfig']),
  sarif: z.string().min(1).optional(),
  gitlabReport: z.string().min(1).optional(),
  junit: z.string().min(1).optional(),
  markdown: z.string().min(1).optional(),
});

export const registrySchema = z.strictObject({
  /** Registries reached over plain HTTP or without TLS verification (host[:port]). */
  insecure: z.array(z.string().min(1)).default([]),
  /** Attempts for a push or copy that fails with a 5xx, a 429 or a dropped connection. */
  retries: z.number().int().min(0).max(10).default(3),
  /** First backoff delay in milliseconds; doubles on each retry (with jitter). */
  retryDelayMs: z.number().int().min(0).max(60_000).default(1000),
});

export const pushSchema = z.strictObject({
  to: z.array(z.string().min(1)).default([]),
});

export const configSchema = z.strictObject({
  /** The image repository to build and push, without a tag (`registry.example.com/team/app`). */
  image: z.string().min(1).optional(),
  build: buildSchema.default(buildSchema.parse({})),
  tags: tagsSchema.default(tagsSchema.parse({})),
  scan: scanSchema.default(scanSchema.parse({})),
  push: pushSchema.default(pushSchema.parse({})),
  registry: registrySchema.default(registrySchema.parse({})),
});

export type GantryConfig = z.infer<typeof configSchema>;
