import { z } from 'zod';
import { HELM_RELEASE_NAME } from '../deploy/helm.js';
import { SCAN_KINDS, SEVERITIES } from '../scan/types.js';
import { parseDuration } from '../util/duration.js';

/**
 * The one schema for `gantry.yml` and for every flag and wrapper input. Flags, GitHub action inputs,
 * GitLab `spec:inputs` and Jenkins map keys are all mapped onto this shape (see options.ts) and validated
 * here, so every entry point gets the same defaults and the same error for the same mistake.
 */

const nonEmpty = (what: string) => z.string().trim().min(1, `expected ${what}, got an empty value`);

const keyValueMap = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'expected KEY=value'),
  z.string(),
);

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
  .refine((s) => Boolean(s.src) !== Boolean(s.env), {
    message: 'a secret needs exactly one of src= or env=',
  });
export type BuildSecret = z.infer<typeof buildSecretSchema>;

export const buildSchema = z.strictObject({
  context: nonEmpty('a directory').default('.'),
  file: z.string().min(1).optional(),
  builder: z.enum(['auto', 'buildah', 'buildx']).default('auto'),
  target: z.string().min(1).optional(),
  /** Network mode for RUN instructions (`host`, `none`); the builder's default when unset. */
  network: z
    .string()
    .regex(/^[a-z][a-z0-9:_./-]*$/, 'expected a network mode such as host or none')
    .optional(),
  buildArgs: keyValueMap.default({}),
  labels: keyValueMap.default({}),
  platforms: z
    .array(z.string().regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, 'expected os/arch[/variant]'))
    .default([]),
  secrets: z.array(buildSecretSchema).default([]),
  /** A registry repository used as layer cache (`--cache-from`/`--cache-to` both point at it). */
  cacheRef: z.string().min(1).optional(),
  cacheFrom: z.array(z.string().min(1)).default([]),
  cacheTo: z.array(z.string().min(1)).default([]),
  push: z.boolean().default(false),
  /** Write Gantry's SLSA v1 provenance statement for the build (docs/supply-chain.md). */
  provenance: z.boolean().default(true),
  /** Where the provenance goes; default Gantry's image store (`<store>/provenance/<image>-<hash>.intoto.json`). */
  provenanceOutput: z.string().min(1).optional(),
  /** buildx builders other than the docker driver: also attach BuildKit's `--provenance=mode=max`. */
  buildxProvenance: z.boolean().default(false),
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
  scanners: z.array(z.enum(SCAN_KINDS)).min(1).default(['vuln', 'secret']),
  sarif: z.string().min(1).optional(),
  gitlabReport: z.string().min(1).optional(),
  junit: z.string().min(1).optional(),
  markdown: z.string().min(1).optional(),
  /**
   * Honour a `.trivyignore` / `.trivyignore.yaml` in the build context and the repository root (as trivy and
   * trivy-action do), besides the ignore file.
   */
  trivyignore: z.boolean().default(true),
});

/** `gantry sbom`: the document's format and file. */
export const sbomSchema = z.strictObject({
  format: z.enum(['cyclonedx', 'spdx-json']).default('cyclonedx'),
  output: z.string().min(1).optional(),
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

/** `gantry sign`: the private key (a file or an environment variable, never a value) and what to attach. */
export const signSchema = z.strictObject({
  keyFile: z.string().min(1).optional(),
  keyEnv: z.string().min(1).optional(),
  /** The variable holding an encrypted key's password. */
  keyPasswordEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
    .default('COSIGN_PASSWORD'),
  /** Statement files, or `type=file` predicate files. */
  attest: z.array(z.string().min(1)).default([]),
  /** Keyless signing (Fulcio + Rekor) with the job's OIDC token. */
  keyless: z.boolean().default(false),
  identityTokenEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
    .optional(),
  fulcioUrl: z.url().optional(),
  rekorUrl: z.url().optional(),
  /** Generate a CycloneDX SBOM with trivy and attach it. */
  sbom: z.boolean().default(false),
  sbomOutput: z.string().min(1).optional(),
  /** Gantry's provenance statement from the build, re-issued about the signed digest. */
  provenance: z.string().min(1).optional(),
  /** `gantry scan --json`'s result, attached as a vuln attestation. */
  scanResult: z.string().min(1).optional(),
});

/** `gantry verify`: the public key and the attestation types that must verify with it. */
export const verifySchema = z.strictObject({
  publicKeyFile: z.string().min(1).optional(),
  publicKeyEnv: z.string().min(1).optional(),
  require: z.array(z.string().min(1)).default([]),
  /** The deploy policy's limits on the newest verified vuln attestation. */
  maxCritical: z.number().int().min(0).optional(),
  maxHigh: z.number().int().min(0).optional(),
  /** The source repository a verified provenance must name. */
  source: z.string().min(1).optional(),
  /** What a verified provenance's builder id must start with. */
  builderId: z.string().min(1).optional(),
});

/**
 * A duration as `500ms`, `30s`, `2m`, `1h`, `1m30s` or a number of seconds (util/duration.ts, the parser every
 * duration goes through); parsed to milliseconds. With `minMs`, a
 * shorter one is refused: a bound on cluster waits of 0s fails every wait, the rollback's included.
 */
const durationAtLeast = (minMs: number, min: string, max?: { ms: number; text: string }) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const parsed = parseDuration(value);
    if (parsed === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration like 30s, 500ms or 2m, got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    const ms = Math.round(parsed);
    if (ms < minMs) {
      ctx.addIssue({ code: 'custom', message: `expected at least ${min}, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    if (max && ms > max.ms) {
      ctx.addIssue({ code: 'custom', message: `expected at most ${max.text}, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return ms;
  });

export const duration = durationAtLeast(0, '0s');

/** The pause of a step that waits for a person: `gantry promote` continues, `gantry abort` rolls back. */
export const UNTIL_PROMOTED = 'until-promoted';
/** Longest gate timeout: a week (a timer cannot wait much longer than 24 days). */
const MAX_GATE_MS = 7 * 24 * 3_600_000;

/** A step's pause: a duration (in milliseconds once parsed), or `until-promoted`. */
const stepPause = z.union([z.string(), z.number()]).transform((value, ctx) => {
  if (value === UNTIL_PROMOTED) return UNTIL_PROMOTED;
  const parsed = parseDuration(value);
  if (parsed === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration like 30s or 2m, or ${UNTIL_PROMOTED}, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return Math.round(parsed);
});

const STEP_SYNTAX =
  `expected a weight (25), weight:pause (25:10m, 50:${UNTIL_PROMOTED}) or {weight, pause}, ` +
  'or a match: header=NAME:VALUE[:pause], cookie=NAME[:pause] or {match, pause}';

/**
 * `25`, `"25"`, `"25:10m"`, `"50:until-promoted"` (the short forms a flag or a wrapper gives) → `{weight, pause}`;
 * `"header=x-canary:always[:pause]"` → `{match: {header: {x-canary: always}}, pause}`,
 * `"cookie=canary[:pause]"` → `{match: {cookie: canary}, pause}`; anything else is left for the object schema
 * to refuse.
 */
export function stepFromShortForm(value: unknown): unknown {
  if (typeof value === 'number') return { weight: value };
  if (typeof value !== 'string') return value;
  const header = /^\s*header=([^:\s]+):([^:\s]+)(?::(\S+))?\s*$/.exec(value);
  if (header) return withPause({ match: { header: { [header[1]!]: header[2]! } } }, header[3]);
  const cookie = /^\s*cookie=([^:\s]+)(?::(\S+))?\s*$/.exec(value);
  if (cookie) return withPause({ match: { cookie: cookie[1]! } }, cookie[2]);
  const match = /^\s*([^:\s]+)\s*(?::\s*(\S+)\s*)?$/.exec(value);
  if (!match) return value;
  const weight = Number(match[1]);
  if (!Number.isFinite(weight)) return value;
  return withPause({ weight }, match[2]);
}

function withPause(step: Record<string, unknown>, pause: string | undefined): Record<string, unknown> {
  return pause === undefined ? step : { ...step, pause };
}

/** A weight's problem, in the words the flat list of weights always used; undefined when it is fine. */
function weightProblem(weight: number): string | undefined {
  if (!Number.isInteger(weight)) return 'expected whole percentages';
  if (weight < 1) return 'expected weights from 1 to 99';
  if (weight > 99) return 'expected weights from 1 to 99 (promotion sends 100%)';
  return undefined;
}

/** A header name as every router takes it (Istio wants lower case; HTTP names are case-insensitive). */
const HEADER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
/** Header values and cookie names: plain tokens, the same on every router and safe inside a regex. */
const MATCH_TOKEN = /^[A-Za-z0-9._~+/=-]+$/;

/**
 * What a match step sends to the canary: requests with the header `name: value`, or with the cookie
 * `name=always` (NGINX's canary-by-cookie convention, followed by every router).
 */
const stepMatch = z
  .strictObject(
    {
      header: z
        .record(
          z.string().regex(HEADER_NAME, 'expected a header name: letters, digits and "-"'),
          z.string().regex(MATCH_TOKEN, 'expected a header value: letters, digits and ._~+/=-'),
        )
        .refine((headers) => Object.keys(headers).length === 1, { message: 'expected exactly one header' })
        .optional(),
      cookie: z.string().regex(MATCH_TOKEN, 'expected a cookie name: letters, digits and ._~+/=-').optional(),
    },
    { error: 'expected {header: {NAME: VALUE}} or {cookie: NAME}' },
  )
  .refine((match) => (match.header === undefined) !== (match.cookie === undefined), {
    message: 'expected exactly one of header or cookie',
  })
  .transform((match): StepMatchConfig => {
    if (match.cookie !== undefined) return { kind: 'cookie', name: match.cookie };
    const [name, value] = Object.entries(match.header!)[0]!;
    return { kind: 'header', name: name.toLowerCase(), value };
  });
/** The same shape as the routers' `StepMatch` (src/deploy/routers/types.ts). */
export type StepMatchConfig =
  | { kind: 'header'; name: string; value: string }
  | { kind: 'cookie'; name: string };

// The weight is checked on the step rather than on its field, so that an error names the step
// (`deploy.steps.1`) whichever form it was written in. A match step routes no weight: its weight is 0.
const canaryStep = z.preprocess(
  stepFromShortForm,
  z
    .strictObject(
      {
        weight: z.number({ error: 'expected a weight from 1 to 99' }).optional(),
        /** Requests that match go to the canary, no others (instead of a weight). */
        match: stepMatch.optional(),
        /** Default: `deploy.pause`. */
        pause: stepPause.optional(),
      },
      { error: STEP_SYNTAX },
    )
    .superRefine((step, ctx) => {
      if (step.match !== undefined) {
        if (step.weight !== undefined)
          ctx.addIssue({
            code: 'custom',
            message: 'a step has a weight or a match, not both',
            input: undefined,
          });
        return;
      }
      if (step.weight === undefined) {
        ctx.addIssue({ code: 'custom', path: ['weight'], message: 'expected a weight from 1 to 99' });
        return;
      }
      const problem = weightProblem(step.weight);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: step.weight });
    })
    .transform(
      ({ weight, match, pause }): { weight: number; match?: StepMatchConfig; pause?: typeof pause } => ({
        weight: match ? 0 : weight!,
        ...(match ? { match } : {}),
        ...(pause === undefined ? {} : { pause }),
      }),
    ),
);
export type CanaryStepConfig = z.infer<typeof canaryStep>;

const dns1123 = (what: string) =>
  z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `expected a ${what}: lower-case letters, digits and "-"`)
    .max(63, `expected a ${what} of at most 63 characters`);

/** Helm's rule for release names (it refuses anything else). */
const helmReleaseName = z
  .string()
  .regex(HELM_RELEASE_NAME, 'expected a Helm release name: lower-case letters, digits, "-" and "."')
  .max(53, 'expected a Helm release name of at most 53 characters');

export const deploySchema = z
  .strictObject({
    /** Files, directories (every .yaml/.yml/.json), kustomization directories, or "-" for stdin. */
    manifests: z.array(z.string().min(1)).default([]),
    /**
     * A Helm chart (directory, packaged .tgz, `repo/name` or `oci://` reference), rendered with `helm template`
     * and then deployed like manifests. Exclusive with `manifests`.
     */
    chart: z.string().trim().min(1, 'expected a chart directory or reference, got an empty value').optional(),
    /** Values files for the chart (`helm template --values`), later ones win. */
    values: z.array(z.string().min(1)).default([]),
    /** `key=value` in Helm's `--set` syntax, passed on unchanged; win over `values`. Not for secrets. */
    set: z.array(z.string().regex(/^[^=]+=/, "expected key=value in Helm's --set syntax")).default([]),
    /** The release name the chart is rendered with; default: `name`, else the chart's name. */
    release: helmReleaseName.optional(),
    /** `name=ref@sha256:…`: the image for containers with that name or image repository. */
    images: z.array(z.string().min(1)).default([]),
    namespace: dns1123('namespace name').default('default'),
    /** The Deployment to roll out; default: the only Deployment in the manifests. */
    name: dns1123('Deployment name').optional(),
    strategy: z.enum(['rolling', 'canary', 'blue-green']).default('canary'),
    router: z.enum(['replicas', 'gateway-api', 'istio', 'nginx']).default('replicas'),
    /**
     * Canary steps, each a traffic weight (whole percent, 1–99, strictly increasing; promotion is the last step)
     * with its own pause: `[10, 25, 50]`, `[{weight: 5, pause: 2m}, {weight: 50, pause: until-promoted}]`, or
     * the flag's items `5:2m`, `50:until-promoted`. A step without a pause lasts `pause`. A match step sends the
     * requests with a header or cookie to the canary instead of a weight (`{match: {header: {x-canary: always}}}`,
     * `header=x-canary:always:5m`, `cookie=canary`); not with the replicas router.
     */
    steps: z
      .array(canaryStep)
      .min(1)
      .superRefine((steps, ctx) => {
        const weights = steps.filter((step) => !step.match).map((step) => step.weight);
        if (!weights.every((weight, i) => i === 0 || weight > weights[i - 1]!))
          ctx.addIssue({ code: 'custom', message: 'expected strictly increasing weights', input: weights });
      })
      .default([{ weight: 10 }, { weight: 25 }, { weight: 50 }]),
    /** How long each step lasts (analysis runs during it), unless the step says otherwise. */
    pause: duration.default(30_000),
    /** How long a step with `pause: until-promoted` waits for `gantry promote` or `gantry abort`. */
    gateTimeout: durationAtLeast(1000, '1s', { ms: MAX_GATE_MS, text: '168h (a week)' }).default(1_800_000),
    /** What a gate does when nobody decided within the gate timeout: roll back, or continue as if promoted. */
    onGateTimeout: z.enum(['rollback', 'promote']).default('rollback'),
    /** Analysis file (YAML): interval, failureLimit, inconclusiveLimit, metrics[]. */
    analysis: z.string().min(1).optional(),
    /** Hooks file (YAML): pre-rollout, rollout, confirm-*, post-rollout and rollback hooks (docs/hooks.md). */
    hooks: z.string().min(1).optional(),
    prometheusUrl: z.url({ message: 'expected a URL like http://127.0.0.1:9090' }).optional(),
    /** Bound for every wait on the cluster (rollback included). */
    timeout: durationAtLeast(1000, '1s').default(600_000),
    /** Pods of the new version not ready after this long: the version is bad (fail fast). */
    readyTimeout: durationAtLeast(1000, '1s').default(120_000),
    /** Blue-green: how long the old version is kept after the switch, with analysis running. */
    blueGreenDelay: duration.default(30_000),
    /** How long to wait for another rollout of the same service before failing. */
    lockTimeout: duration.default(300_000),
    /** Seconds without renewal after which a run's lease counts as stale (its runner died). */
    leaseDuration: z.number().int().min(3).max(300).default(15),
    /** On a stale lease, continue the orphaned rollout instead of rolling it back. */
    resume: z.boolean().default(false),
    kubeconfig: z.string().min(1).optional(),
    /** Directory for the run report (JSON, Markdown, SVG). */
    report: z.string().min(1).optional(),
  })
  .superRefine((deploy, ctx) => {
    if (
      deploy.strategy === 'canary' &&
      deploy.router === 'replicas' &&
      deploy.steps.some((step) => step.match)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['steps'],
        message:
          'a match step (header=… or cookie=…) needs a router that routes by request: --router gateway-api, istio or nginx (replicas routes by pod count)',
        input: undefined,
      });
    }
    if (deploy.chart !== undefined && deploy.manifests.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['chart'],
        message: 'a chart and manifests are mutually exclusive: give one or the other',
        // Never echo the settings (`set` may hold values) into the error.
        input: undefined,
      });
    }
    if (deploy.chart === undefined) {
      for (const key of ['values', 'set', 'release'] as const) {
        const value = deploy[key];
        if (value !== undefined && value.length > 0) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'only with a chart',
            input: undefined,
          });
        }
      }
    }
  });

/**
 * Where a notifier's webhook URL comes from: the name of an environment variable holding it, or a file whose
 * content it is. Never the URL itself: a webhook URL is a secret (whoever has it can post to the channel).
 */
const webhookSource = z
  .strictObject({
    // A URL given here by mistake is a secret: the error never echoes the value.
    urlEnv: z
      .string()
      .superRefine((name, ctx) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
          ctx.addIssue({
            code: 'custom',
            message: 'expected the name of an environment variable holding the URL (its name, not the URL)',
            input: undefined,
          });
      })
      .optional(),
    urlFile: z.string().min(1).optional(),
  })
  .superRefine((source, ctx) => {
    if (Boolean(source.urlEnv) === Boolean(source.urlFile))
      ctx.addIssue({
        code: 'custom',
        path: [source.urlEnv ? 'urlFile' : 'urlEnv'],
        message: 'expected exactly one of urlEnv (an environment variable) or urlFile (a file) for the URL',
        input: undefined,
      });
  });
export type WebhookSource = z.infer<typeof webhookSource>;

export const NOTIFIERS = ['slack', 'teams', 'webhook'] as const;
export type NotifierType = (typeof NOTIFIERS)[number];

/** Rollout notifications: Slack, Microsoft Teams, a generic JSON webhook; none unless configured. */
export const notifySchema = z.strictObject({
  slack: webhookSource.optional(),
  teams: webhookSource.optional(),
  webhook: webhookSource.optional(),
  /** One message per canary step besides the start and the end. */
  steps: z.boolean().default(false),
  /** Bound for each request (one retry after a 5xx or a transport error). */
  timeout: durationAtLeast(100, '100ms', { ms: 60_000, text: '60s' }).default(5000),
});

/** `gantry status`: follow the rollout (`--watch`) instead of printing its state once. */
export const statusSchema = z.strictObject({
  /** Follow the rollout: one line per change until it ends; the exit code is the rollout's. */
  watch: z.boolean().default(false),
  /** With watch and no rollout in progress: how long to wait for one to start (0: print the state, exit 0). */
  waitStart: duration.default(0),
});

export const configSchema = z.strictObject({
  /** The image repository to build and push, without a tag (`registry.example.com/team/app`). */
  image: z.string().min(1).optional(),
  build: buildSchema.default(buildSchema.parse({})),
  tags: tagsSchema.default(tagsSchema.parse({})),
  scan: scanSchema.default(scanSchema.parse({})),
  push: pushSchema.default(pushSchema.parse({})),
  sbom: sbomSchema.default(sbomSchema.parse({})),
  sign: signSchema.default(signSchema.parse({})),
  verify: verifySchema.default(verifySchema.parse({})),
  registry: registrySchema.default(registrySchema.parse({})),
  deploy: deploySchema.default(deploySchema.parse({})),
  notify: notifySchema.default(notifySchema.parse({})),
  status: statusSchema.default(statusSchema.parse({})),
});

export type GantryConfig = z.infer<typeof configSchema>;
