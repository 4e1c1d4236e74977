import { InputError } from '../util/errors.js';
import { log } from '../util/log.js';
import { withoutUndefined } from './env.js';
import { imageName, MAX_TAG_LENGTH, parseImageReference, validateTag } from './reference.js';
import { DEFAULT_FLAVOR, type Flavor, parseFlavor, parseTagRules, regexOf, type TagRule } from './rules.js';
import { parseSemanticVersion } from './semver.js';
import { dateHelper, renderTemplate, type TemplateScope } from './template.js';
import type { BuildContext } from './types.js';

export interface TagOptions {
  /** Rules in metadata-action syntax, or already parsed; empty or absent: `DEFAULT_TAG_RULES`. */
  rules?: readonly string[] | readonly TagRule[];
  /**
   * Flavor entries in metadata-action syntax (`latest=auto`, `prefix=app-,onlatest=true`), or the flavor as
   * fields (from gantry.yml); missing fields take their defaults (`latest=auto`, no prefix, no suffix).
   */
  flavor?: readonly string[] | Partial<Flavor>;
  /** The time `{{date}}` formats, and `{{commit_date}}` when the commit time is unknown. Default: now. */
  now?: Date;
}

export interface TagResult {
  /** Ordered (the highest-priority rule's tag first, `latest` last) and without duplicates. */
  tags: string[];
  /** The first tag: what the `org.opencontainers.image.version` label and the `version` output carry. */
  version?: string;
  latest: boolean;
}

/** The tag a local build gets when no rule produced one (no git repository): never `latest`. */
export const LOCAL_FALLBACK_TAG = 'dev';
const SHORT_SHA_LENGTH = 7;

/**
 * Computes image tags from a build context with docker/metadata-action's semantics:
 *
 * - Rules run in priority order (schedule 1000, semver 900, match 800, edge 700, ref 600, raw 200, sha 100);
 *   each enabled rule that applies yields one value, with its own `prefix`/`suffix` or else the flavor's.
 *   `ref,event=pr` and `sha` carry their own prefixes (`pr-`, `sha-`), so the flavor's prefix skips them.
 * - `semver` applies to tags that parse as SemVer (a leading `v` is dropped by `{{version}}`); a pre-release
 *   only ever yields `{{version}}` (or `{{raw}}` for a pattern that is exactly `{{raw}}`), never `{{major}}`.
 * - Values are sanitized: each run of characters outside `[A-Za-z0-9._-]` becomes `-`; case is kept
 *   (`feature/Login-Page` → `feature-Login-Page`). Where metadata-action would pass an invalid tag on, Gantry
 *   repairs it: leading `.`/`-` are dropped and the tag is cut to 128 characters.
 * - `latest=auto`: `latest` is added when the first rule that produced a value was a release `semver`, a
 *   `match` or a `ref,event=tag`; `latest=true|false` forces it on every build or none.
 *
 * @throws InputError naming `--tag-rule` or `--flavor` for a bad rule, expression or `enable` value.
 */
export function computeTags(context: BuildContext, options: TagOptions = {}): TagResult {
  const rules = isParsed(options.rules) ? options.rules : parseTagRules(options.rules ?? []);
  const flavor = isFlavorFields(options.flavor)
    ? { ...parseFlavor(DEFAULT_FLAVOR), ...withoutUndefined(options.flavor) }
    : parseFlavor(options.flavor ?? DEFAULT_FLAVOR);
  const now = options.now ?? new Date();
  const globals = globalScope(context, now);

  let version: string | undefined;
  const partial: string[] = [];
  let latest: boolean | undefined;
  for (const rule of rules) {
    const enabled = renderTemplate(rule.enable, globals, rule.source);
    if (enabled !== 'true' && enabled !== 'false') {
      throw new InputError(
        '--tag-rule',
        `${JSON.stringify(rule.source)}: enable must be true or false, found ${JSON.stringify(enabled)}`,
      );
    }
    if (enabled === 'false') continue;
    const produced = evaluateRule(rule, context, globals);
    if (produced === undefined) continue;
    const prefix = rule.prefix ?? flavor.prefix;
    const suffix = rule.suffix ?? flavor.suffix;
    const tag = sanitizeTag(
      `${renderTemplate(prefix, globals, rule.source)}${produced.value}${renderTemplate(suffix, globals, rule.source)}`,
    );
    if (tag === '') continue;
    if (version === undefined) version = tag;
    else if (tag !== version && !partial.includes(tag)) partial.push(tag);
    latest ??= flavor.latest === 'auto' ? produced.latestWhenAuto : flavor.latest === 'true';
  }

  const tags = version === undefined ? [] : [version, ...partial];
  if (latest && version !== undefined) {
    const latestTag = sanitizeTag(
      `${flavor.prefixLatest ? renderTemplate(flavor.prefix, globals, 'flavor prefix') : ''}latest${
        flavor.suffixLatest ? renderTemplate(flavor.suffix, globals, 'flavor suffix') : ''
      }`,
    );
    if (!tags.includes(latestTag)) tags.push(latestTag);
  }
  if (tags.length === 0 && context.platform === 'local') {
    return { tags: [LOCAL_FALLBACK_TAG], version: LOCAL_FALLBACK_TAG, latest: false };
  }
  return { tags, ...(version !== undefined ? { version } : {}), latest: latest ?? false };
}

/**
 * Full references for each tag: `imageRefs('ghcr.io/acme/shop', ['1.2.3'])` → `['ghcr.io/acme/shop:1.2.3']`.
 * @throws InputError naming `inputName` when the image is invalid or already has a tag or digest, or naming
 *   `--tag` for an invalid tag.
 */
export function imageRefs(image: string, tags: readonly string[], inputName = '--image'): string[] {
  const reference = parseImageReference(image, inputName);
  if (reference.tag !== undefined || reference.digest !== undefined) {
    throw new InputError(
      inputName,
      `expected an image name without tag or digest, found ${JSON.stringify(image)}`,
    );
  }
  const name = imageName(reference);
  return tags.map((tag) => `${name}:${validateTag(tag, '--tag')}`);
}

/**
 * Turns any text into a valid tag: runs of characters outside `[A-Za-z0-9._-]` become one `-` (as
 * metadata-action does), then leading `.`/`-` are dropped and the result is cut to 128 characters.
 */
export function sanitizeTag(value: string): string {
  return value
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, MAX_TAG_LENGTH);
}

interface ProducedValue {
  value: string;
  /** Whether this value brings `latest` along under `latest=auto`. */
  latestWhenAuto: boolean;
}

function evaluateRule(
  rule: TagRule,
  context: BuildContext,
  globals: TemplateScope,
): ProducedValue | undefined {
  const render = (template: string): string => renderTemplate(template, globals, rule.source);
  switch (rule.type) {
    case 'schedule':
      return context.eventName === 'schedule'
        ? { value: render(rule.pattern), latestWhenAuto: false }
        : undefined;
    case 'semver': {
      if (context.refType !== 'tag' && rule.value === '') return undefined;
      const text = rule.value !== '' ? render(rule.value) : (context.tag ?? '').replaceAll('/', '-');
      const semver = parseSemanticVersion(text);
      if (!semver) {
        log.warn(
          `tag rule ${rule.source}: ${JSON.stringify(text)} is not a semantic version (https://semver.org); skipped`,
        );
        return undefined;
      }
      const scope: TemplateScope = { ...semver };
      if (semver.prerelease !== '') {
        const value = /^\{\{\s*raw\s*\}\}$/.test(rule.pattern.trim()) ? semver.raw : semver.version;
        return { value, latestWhenAuto: false };
      }
      return { value: renderTemplate(rule.pattern, scope, rule.source), latestWhenAuto: true };
    }
    case 'match': {
      if (context.refType !== 'tag' && rule.value === '') return undefined;
      const text = rule.value !== '' ? render(rule.value) : (context.tag ?? '');
      const match = regexOf(rule.pattern, rule.source).exec(text);
      const group = match?.[rule.group];
      if (group === undefined) {
        const why = match ? `has no group ${rule.group}` : `does not match ${JSON.stringify(text)}`;
        log.warn(`tag rule ${rule.source}: the pattern ${why}; skipped`);
        return undefined;
      }
      return { value: group, latestWhenAuto: true };
    }
    case 'edge': {
      const edgeBranch = rule.branch || context.defaultBranch;
      const applies = context.refType === 'branch' && context.branch === edgeBranch;
      return applies ? { value: 'edge', latestWhenAuto: false } : undefined;
    }
    case 'ref':
      if (rule.event === 'branch' && context.refType === 'branch' && context.branch) {
        return { value: context.branch, latestWhenAuto: false };
      }
      if (rule.event === 'tag' && context.refType === 'tag' && context.tag) {
        return { value: context.tag, latestWhenAuto: true };
      }
      if (rule.event === 'pr' && context.refType === 'pr' && context.prNumber !== undefined) {
        return { value: String(context.prNumber), latestWhenAuto: false };
      }
      return undefined;
    case 'raw':
      return { value: render(rule.value), latestWhenAuto: false };
    case 'sha': {
      if (!context.sha) return undefined;
      const sha = rule.format === 'long' ? context.sha : context.sha.slice(0, SHORT_SHA_LENGTH);
      return { value: context.dirty ? `${sha}-dirty` : sha, latestWhenAuto: false };
    }
  }
}

/** metadata-action's global expressions, computed from the context instead of GitHub's payload. */
function globalScope(context: BuildContext, now: Date): TemplateScope {
  const commitDate = context.commitTimestamp ? new Date(context.commitTimestamp) : now;
  return {
    branch: context.refType === 'branch' ? (context.branch ?? '') : '',
    tag: context.refType === 'tag' ? (context.tag ?? '') : '',
    sha: context.sha?.slice(0, SHORT_SHA_LENGTH) ?? '',
    base_ref: context.refType === 'tag' || context.refType === 'pr' ? (context.baseRef ?? '') : '',
    is_default_branch: String(context.isDefaultBranch),
    date: dateHelper(now, '{{date}}'),
    commit_date: dateHelper(commitDate, '{{commit_date}}'),
  };
}

function isParsed(rules: TagOptions['rules']): rules is readonly TagRule[] {
  return rules !== undefined && rules.length > 0 && typeof rules[0] !== 'string';
}

function isFlavorFields(flavor: TagOptions['flavor']): flavor is Partial<Flavor> {
  return flavor !== undefined && !Array.isArray(flavor);
}
