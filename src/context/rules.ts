import { z } from 'zod';
import { InputError } from '../util/errors.js';
import { templateNames } from './template.js';

/**
 * Tag rules and flavor in docker/metadata-action's syntax (`type=semver,pattern={{version}}`), so that a
 * workflow moving from that action to Gantry keeps its `tags:` and `flavor:` lines and gets the same tags.
 */

export const TAG_RULE_TYPES = ['schedule', 'semver', 'match', 'edge', 'ref', 'raw', 'sha'] as const;
export type TagRuleType = (typeof TAG_RULE_TYPES)[number];

/** metadata-action's default priorities: higher first; the first tag produced is the image's version. */
export const DEFAULT_PRIORITIES: Readonly<Record<TagRuleType, number>> = {
  schedule: 1000,
  semver: 900,
  match: 800,
  edge: 700,
  ref: 600,
  raw: 200,
  sha: 100,
};

/**
 * Gantry's default rules: a tag per branch and per PR, the release version and its `major.minor` on a semver
 * Git tag, and `sha-<7 hex>` always. With `latest=auto`, `latest` follows a release tag (not a pre-release).
 */
export const DEFAULT_TAG_RULES: readonly string[] = [
  'type=ref,event=branch',
  'type=ref,event=pr',
  'type=semver,pattern={{version}}',
  'type=semver,pattern={{major}}.{{minor}}',
  'type=sha',
];
export const DEFAULT_FLAVOR: readonly string[] = ['latest=auto'];

/** Names usable in `value`, `prefix`, `suffix`, `enable` and schedule patterns. */
export const GLOBAL_EXPRESSIONS = [
  'branch',
  'tag',
  'sha',
  'base_ref',
  'is_default_branch',
  'date',
  'commit_date',
];
/** Names usable in a `type=semver` pattern. */
export const SEMVER_PATTERN_NAMES = ['raw', 'version', 'major', 'minor', 'patch', 'prerelease', 'build'];

const text = z.string();
const common = {
  enable: text.default('true'),
  priority: z
    .string()
    .regex(/^-?\d{1,9}$/, 'an integer')
    .transform(Number)
    .optional(),
  prefix: text.optional(),
  suffix: text.optional(),
};
const TagRuleSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('schedule'), pattern: text.default('nightly'), ...common }),
  z.strictObject({ type: z.literal('semver'), pattern: text.min(1), value: text.default(''), ...common }),
  z.strictObject({
    type: z.literal('match'),
    pattern: text.min(1),
    group: z
      .string()
      .regex(/^\d{1,3}$/, 'a group number')
      .transform(Number)
      .default(0),
    value: text.default(''),
    ...common,
  }),
  z.strictObject({ type: z.literal('edge'), branch: text.default(''), ...common }),
  z.strictObject({ type: z.literal('ref'), event: z.enum(['branch', 'tag', 'pr']), ...common }),
  z.strictObject({ type: z.literal('raw'), value: text, ...common }),
  z.strictObject({ type: z.literal('sha'), format: z.enum(['short', 'long']).default('short'), ...common }),
]);

/** A parsed rule, with its defaults filled in and the text it came from. */
export type TagRule = z.output<typeof TagRuleSchema> & { priority: number; source: string };

export interface Flavor {
  latest: 'auto' | 'true' | 'false';
  prefix: string;
  /** Whether `prefix` also goes on `latest`. */
  prefixLatest: boolean;
  suffix: string;
  suffixLatest: boolean;
}

/**
 * Parses one rule such as `type=ref,event=branch` or `type=raw,value=stable,enable={{is_default_branch}}`.
 * Fields are comma-separated (double quotes protect a comma); a field without `=` is the `value`; no `type`
 * means `raw`. Unlike metadata-action, unknown attributes are errors rather than silently ignored.
 *
 * @throws InputError naming `--tag-rule`, quoting the rule and saying what was expected.
 */
export function parseTagRule(source: string): TagRule {
  const fail = (why: string): never => {
    throw new InputError('--tag-rule', `${JSON.stringify(source)}: ${why}`);
  };
  const attributes = parseAttributes(source, fail);
  attributes.type ??= 'raw';
  if (attributes.type === 'pep440') fail('type=pep440 is not supported; use type=semver or type=match');
  const result = TagRuleSchema.safeParse(attributes);
  if (!result.success) return fail(describeIssue(result.error.issues[0], attributes));
  const rule = result.data;
  if (rule.type === 'ref' && rule.event === 'pr' && rule.prefix === undefined) rule.prefix = 'pr-';
  if (rule.type === 'sha' && rule.prefix === undefined) rule.prefix = 'sha-';

  const checkNames = (template: string | undefined, allowed: readonly string[], field: string): void => {
    const unknown = templateNames(template ?? '').find((name) => !allowed.includes(name));
    if (unknown !== undefined) {
      fail(`${field} uses unknown expression {{${unknown}}}; expected one of ${allowed.join(', ')}`);
    }
  };
  for (const field of ['enable', 'prefix', 'suffix', 'value'] as const) {
    checkNames((rule as Record<string, unknown>)[field] as string | undefined, GLOBAL_EXPRESSIONS, field);
  }
  if (rule.type === 'semver') checkNames(rule.pattern, SEMVER_PATTERN_NAMES, 'pattern');
  if (rule.type === 'schedule') checkNames(rule.pattern, GLOBAL_EXPRESSIONS, 'pattern');
  if (rule.type === 'match') regexOf(rule.pattern, source);
  return { ...rule, priority: rule.priority ?? DEFAULT_PRIORITIES[rule.type], source };
}

/**
 * Parses rules and orders them by priority, highest first; rules of equal priority keep their written order.
 * An empty list means {@link DEFAULT_TAG_RULES}.
 */
export function parseTagRules(sources: readonly string[]): TagRule[] {
  const lines = sources.map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  const rules = (lines.length > 0 ? lines : DEFAULT_TAG_RULES).map(parseTagRule);
  return rules.sort((a, b) => b.priority - a.priority);
}

/**
 * Parses flavor entries (`latest=auto`, `prefix=app-,onlatest=true`, `suffix=-alpine`). `onlatest` applies to
 * the `prefix` or `suffix` just before it.
 * @throws InputError naming `--flavor`.
 */
export function parseFlavor(entries: readonly string[]): Flavor {
  const flavor: Flavor = { latest: 'auto', prefix: '', prefixLatest: false, suffix: '', suffixLatest: false };
  for (const entry of entries.map((line) => line.trim()).filter(Boolean)) {
    const fail = (why: string): never => {
      throw new InputError('--flavor', `${JSON.stringify(entry)}: ${why}`);
    };
    let lastAffix: 'prefix' | 'suffix' | undefined;
    for (const field of splitFields(entry, fail)) {
      const [key, value] = keyValue(field);
      if (value === undefined) fail(`expected key=value, found ${JSON.stringify(field)}`);
      if (key === 'latest') {
        if (value !== 'auto' && value !== 'true' && value !== 'false')
          fail(`latest must be auto, true or false, found ${JSON.stringify(value)}`);
        flavor.latest = value as Flavor['latest'];
      } else if (key === 'prefix' || key === 'suffix') {
        flavor[key] = value ?? '';
        lastAffix = key;
      } else if (key === 'onlatest') {
        if (value !== 'true' && value !== 'false')
          fail(`onlatest must be true or false, found ${JSON.stringify(value)}`);
        if (lastAffix === undefined) fail('onlatest must follow prefix= or suffix= in the same entry');
        flavor[lastAffix === 'prefix' ? 'prefixLatest' : 'suffixLatest'] = value === 'true';
      } else {
        fail(`unknown flavor ${JSON.stringify(key)}; expected latest, prefix, suffix or onlatest`);
      }
    }
  }
  return flavor;
}

/** Compiles a `type=match` pattern: `/regex/flags` or a bare regex. */
export function regexOf(pattern: string, source: string): RegExp {
  const literal = /^\/(.+)\/([a-z]*)$/.exec(pattern);
  try {
    return literal ? new RegExp(literal[1]!, literal[2]) : new RegExp(pattern);
  } catch (error) {
    throw new InputError(
      '--tag-rule',
      `${JSON.stringify(source)}: pattern is not a valid regular expression (${(error as Error).message})`,
    );
  }
}

function parseAttributes(source: string, fail: (why: string) => never): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const field of splitFields(source, fail)) {
    const [key, value] = keyValue(field);
    const name = value === undefined ? 'value' : key.toLowerCase();
    if (Object.hasOwn(attributes, name)) fail(`${name} is given twice`);
    attributes[name] = value === undefined ? key : value;
  }
  return attributes;
}

/** Splits on commas outside double quotes; `""` inside quotes is a literal quote. Empty fields are dropped. */
function splitFields(source: string, fail: (why: string) => never): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '"' && quoted && source[i + 1] === '"') {
      current += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === ',' && !quoted) {
      fields.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  if (quoted) fail('a double quote is not closed');
  fields.push(current);
  return fields.map((field) => field.trim()).filter((field) => field !== '');
}

/** `key=value` split at the first `=`; the value is undefined when there is no `=`. */
function keyValue(field: string): [string, string | undefined] {
  const equals = field.indexOf('=');
  if (equals < 0) return [field, undefined];
  return [field.slice(0, equals).trim(), field.slice(equals + 1).trim()];
}

function describeIssue(issue: z.core.$ZodIssue | undefined, attributes: Record<string, string>): string {
  const type = attributes.type;
  const key = String(issue?.path[0] ?? '');
  if (key !== '' && attributes[key] === undefined) {
    const choices = issue?.code === 'invalid_value' ? issue.values.join('|') : '…';
    return `type=${type} needs ${key}=${choices}`;
  }
  switch (issue?.code) {
    case 'invalid_union':
      return `unknown type ${JSON.stringify(type)}; expected one of ${TAG_RULE_TYPES.join(', ')}`;
    case 'unrecognized_keys':
      return `type=${type} has no attribute ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_value':
      return `${key} must be one of ${issue.values.join(', ')}, found ${JSON.stringify(attributes[key])}`;
    case 'too_small':
      return `${key} must not be empty`;
    case 'invalid_format':
      return `${key} must be ${issue.message ?? 'well-formed'}, found ${JSON.stringify(attributes[key])}`;
    default:
      return issue?.message ?? 'invalid rule';
  }
}
