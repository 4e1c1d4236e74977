import { z } from 'zod';
import { duration } from '../../config/schema.js';
import { InputError } from '../../util/errors.js';
import { registerSecret } from '../../util/secrets.js';
import { readYamlFile } from '../../util/yaml-file.js';
import { describeAnalysisIssue } from '../analysis/spec.js';
import type { HookType } from '../types.js';

export type { HookType } from '../types.js';

/**
 * The points of a rollout where a hook runs:
 * - `confirm-rollout`: before anything of the new version exists; the rollout waits while it answers "not yet".
 * - `pre-rollout`: the new version is up but has no traffic (canary, blue-green preview; rolling: before the
 *   update); a failure rolls back before any request reached it.
 * - `rollout`: at every interval of every analysed step; a failure is a failed check.
 * - `confirm-promotion`: after the last step, before promotion (canary, blue-green); waits like confirm-rollout.
 * - `post-rollout`: after the rollout ended, with its verdict; never changes the verdict.
 * - `rollback`: asked at every interval of every analysed step; "yes" (2xx, exit 0) rolls back.
 */
export const HOOK_TYPES = [
  'confirm-rollout',
  'pre-rollout',
  'rollout',
  'confirm-promotion',
  'post-rollout',
  'rollback',
] as const satisfies readonly HookType[];

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');

const hookSchema = z
  .strictObject({
    /** Names the hook in the report, the summary and errors. */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'expected letters, digits, ".", "_", "-"'),
    type: z.enum(HOOK_TYPES),
    /** HTTP hook: POSTs the payload (JSON) here; a 2xx answer is "yes". */
    url: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }).optional(),
    /** HTTP hook whose URL is a secret (it carries a token): the environment variable holding it. */
    urlEnv: envName.optional(),
    /** Command hook: argv (no shell); the payload on stdin; exit 0 is "yes". */
    command: z.array(z.string().min(1)).min(1).optional(),
    /** One attempt's bound. */
    timeout: duration.default(10_000),
    /** Further attempts after a transport error (unreachable, reset, timed out), with backoff 0.5 s, 1 s, 2 s… */
    retries: z.number().int().min(0).max(10).default(2),
    /** rollout, rollback, confirm-*: how often it is asked. */
    interval: duration.default(10_000),
    /** rollout: failed answers tolerated before the rollout rolls back (0: the first failure). */
    failureLimit: z.number().int().min(0).default(0),
    /** HTTP hooks: the HMAC-SHA256 key, from this environment variable, signs each request. */
    secretEnv: envName.optional(),
    /** Extra fields passed through to the hook in `metadata`. */
    metadata: z.record(z.string(), z.string()).optional(),
  })
  .superRefine((hook, ctx) => {
    const targets = [hook.url, hook.urlEnv, hook.command].filter((t) => t !== undefined).length;
    if (targets !== 1)
      ctx.addIssue({
        code: 'custom',
        message: 'needs exactly one of url, urlEnv or command',
        input: undefined,
      });
    if (hook.secretEnv && hook.command)
      ctx.addIssue({
        code: 'custom',
        path: ['secretEnv'],
        message: 'signs HTTP requests; a command hook has none',
      });
    if (hook.interval < 100) ctx.addIssue({ code: 'custom', path: ['interval'], message: 'at least 100ms' });
    if (hook.timeout < 100) ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'at least 100ms' });
  });

const hooksFileSchema = z.strictObject({ hooks: z.array(hookSchema).min(1) }).superRefine((file, ctx) => {
  const seen = new Set<string>();
  for (const [i, hook] of file.hooks.entries()) {
    if (seen.has(hook.name))
      ctx.addIssue({ code: 'custom', path: ['hooks', i, 'name'], message: `"${hook.name}" is named twice` });
    seen.add(hook.name);
  }
});

export type HookSpec = z.output<typeof hookSchema>;

/** A hook ready to call: its target resolved (a secret URL and the signing key read, and masked). */
export interface Hook extends HookSpec {
  /** http: the URL (from `url` or `urlEnv`); command: undefined. */
  target?: string;
  /** The HMAC key, when `secretEnv` names one. */
  key?: string;
}

/** Parses a hooks document; the first problem is bad input naming `--hooks` and the field. */
export function parseHooks(data: unknown, env: NodeJS.ProcessEnv = process.env): Hook[] {
  const parsed = hooksFileSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) throw new InputError('--hooks', describeAnalysisIssue(parsed.error.issues[0]!));
  return parsed.data.hooks.map((hook, i) => {
    const field = (name: string) => `hooks[${i}].${name}`;
    let target = hook.url;
    if (hook.urlEnv) {
      target = env[hook.urlEnv]?.trim();
      if (!target) throw new InputError('--hooks', `${field('urlEnv')}: ${hook.urlEnv} is not set or empty`);
      registerSecret(target);
      if (!/^https?:\/\/[^\s]+$/.test(target))
        throw new InputError('--hooks', `${field('urlEnv')}: ${hook.urlEnv} does not hold an http(s) URL`);
    }
    let key: string | undefined;
    if (hook.secretEnv) {
      key = env[hook.secretEnv];
      if (!key)
        throw new InputError('--hooks', `${field('secretEnv')}: ${hook.secretEnv} is not set or empty`);
      registerSecret(key);
    }
    return { ...hook, target, key };
  });
}

/**
 * Reads a hooks file (YAML or JSON): `hooks:` a list of hooks (docs/hooks.md).
 * @throws InputError naming `--hooks` when the file cannot be read, is not YAML, or is invalid.
 */
export function loadHooksFile(path: string, env: NodeJS.ProcessEnv = process.env): Hook[] {
  return parseHooks(readYamlFile(path, '--hooks'), env);
}
