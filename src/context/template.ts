import { InputError } from '../util/errors.js';

/**
 * The small subset of Handlebars that docker/metadata-action's tag rules use: `{{name}}` and helper calls with
 * quoted arguments and `key='value'` options (`{{date 'YYYYMMDD' tz='Europe/Paris'}}`). Values are inserted as
 * they are: no HTML escaping, since every result is sanitized into a tag afterwards anyway.
 */
export type TemplateValue = string | number | ((args: string[], options: Record<string, string>) => string);
export type TemplateScope = Readonly<Record<string, TemplateValue>>;

const EXPRESSION = /\{\{\s*([^{}]*?)\s*\}\}/g;
const TOKEN = /([A-Za-z_][\w-]*)=(?:'([^']*)'|"([^"]*)")|'([^']*)'|"([^"]*)"|([A-Za-z_][\w-]*)|(\S+)/g;

/** The names a template refers to (`{{major}}.{{minor}}` → `major`, `minor`). */
export function templateNames(template: string): string[] {
  return [...template.matchAll(EXPRESSION)].map((match) => (match[1] ?? '').split(/\s+/)[0] ?? '');
}

/**
 * Renders a template against a scope.
 * @param source the rule the template belongs to, quoted in errors.
 * @throws InputError naming `--tag-rule` for an unknown name, a malformed expression or an unclosed `{{`.
 */
export function renderTemplate(template: string, scope: TemplateScope, source: string): string {
  const fail = (why: string): never => {
    throw new InputError('--tag-rule', `${JSON.stringify(source)}: ${why}`);
  };
  const rendered = template.replace(EXPRESSION, (_whole, body: string) => {
    const [name, args, options] = parseExpression(body, fail);
    const value = Object.hasOwn(scope, name) ? scope[name] : undefined;
    if (value === undefined) {
      return fail(`unknown expression {{${name}}}; expected one of ${Object.keys(scope).join(', ')}`);
    }
    if (typeof value === 'function') return value(args, options);
    if (args.length > 0 || Object.keys(options).length > 0) fail(`{{${name}}} takes no arguments`);
    return String(value);
  });
  const outside = template.replace(EXPRESSION, '');
  if (outside.includes('{{') || outside.includes('}}')) fail('unbalanced "{{" or "}}"');
  return rendered;
}

function parseExpression(
  body: string,
  fail: (why: string) => never,
): [string, string[], Record<string, string>] {
  const args: string[] = [];
  const options: Record<string, string> = {};
  let name: string | undefined;
  for (const token of body.matchAll(TOKEN)) {
    const [, key, keySingle, keyDouble, single, double, word, other] = token;
    if (other !== undefined) fail(`cannot read ${JSON.stringify(other)} in {{${body}}}`);
    if (key !== undefined) options[key] = keySingle ?? keyDouble ?? '';
    else if (name === undefined && word !== undefined) name = word;
    else args.push(single ?? double ?? word ?? '');
  }
  if (name === undefined) return fail(`empty or malformed expression {{${body}}}`);
  return [name, args, options];
}

const DATE_TOKEN = /\[[^\]]*\]|YYYY|YY|SSS|MM|M|DD|D|HH|H|hh|h|mm|m|ss|s/g;

/**
 * Formats a date with the moment.js tokens tag rules use (`YYYY YY MM M DD D HH H hh h mm m ss s SSS`,
 * `[literal]`), in UTC or in the IANA time zone `timeZone`.
 */
export function formatDate(date: Date, format: string, timeZone = 'UTC', source = format): string {
  let parts: Record<string, string>;
  try {
    parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      })
        .formatToParts(date)
        .map((part) => [part.type, part.value]),
    );
  } catch {
    throw new InputError(
      '--tag-rule',
      `${JSON.stringify(source)}: unknown time zone ${JSON.stringify(timeZone)}`,
    );
  }
  const number = (type: string): number => Number(parts[type]);
  const hour = number('hour') % 24;
  const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
  const tokens: Record<string, string> = {
    YYYY: pad(number('year'), 4),
    YY: pad(number('year') % 100),
    MM: pad(number('month')),
    M: String(number('month')),
    DD: pad(number('day')),
    D: String(number('day')),
    HH: pad(hour),
    H: String(hour),
    hh: pad(hour % 12 || 12),
    h: String(hour % 12 || 12),
    mm: pad(number('minute')),
    m: String(number('minute')),
    ss: pad(number('second')),
    s: String(number('second')),
    SSS: pad(date.getUTCMilliseconds(), 3),
  };
  return format.replace(DATE_TOKEN, (token) =>
    token.startsWith('[') ? token.slice(1, -1) : (tokens[token] ?? token),
  );
}

/** A `{{date 'FORMAT' tz='Zone'}}`-style helper for a fixed date. */
export function dateHelper(date: Date, source: string): TemplateValue {
  return (args, options) => {
    const unknown = Object.keys(options).filter((key) => key !== 'tz');
    if (unknown.length > 0)
      throw new InputError('--tag-rule', `${JSON.stringify(source)}: unknown date option ${unknown[0]}`);
    if (args.length !== 1)
      throw new InputError(
        '--tag-rule',
        `${JSON.stringify(source)}: a date needs one format, like {{date 'YYYYMMDD'}}`,
      );
    return formatDate(date, args[0]!, options.tz ?? 'UTC', source);
  };
}
