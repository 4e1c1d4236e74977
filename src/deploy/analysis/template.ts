import { InputError } from '../../util/errors.js';

/**
 * The values a metric query may refer to. `track` is the value of the track label being measured;
 * `canary` and `stable` are the track values of the new and the old version (`canary`/`preview`, `stable`; a
 * rolling update's new pods are the stable Deployment's, so for it `canary` is `stable` too);
 * `interval` is the analysis interval as a Prometheus duration (`30s`, `500ms`), handy as a `rate()` window;
 * `step` is the 0-based rollout step; `run` is the run label (`gantry.dev/run-id`) of the pods measured: this
 * rollout's own on the new version's pods, and empty when the stable track is measured (stable pods carry
 * none, and PromQL's `run=""` selects series without the label), so `track="{{track}}",run="{{run}}"` selects
 * this rollout's canary, never the samples a previous canary left in the same window.
 */
export interface QueryVars {
  namespace: string;
  name: string;
  track: string;
  canary: string;
  stable: string;
  interval: string;
  step: number;
  run: string;
}

export const PLACEHOLDERS = [
  'namespace',
  'name',
  'track',
  'canary',
  'stable',
  'interval',
  'step',
  'run',
] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

/** The input a bad value came from, so the error names what the user can fix. */
const SOURCE: Record<Placeholder, string> = {
  namespace: '--namespace',
  name: '--name',
  canary: '--analysis',
  stable: '--analysis',
  track: '--analysis',
  interval: '--analysis',
  step: '--analysis',
  run: '--analysis',
};

/** Placeholders whose empty value means something: `run` of the stable track selects unlabelled series. */
const MAY_BE_EMPTY: ReadonlySet<Placeholder> = new Set(['run']);

const EXPRESSION = /\{\{\s*([^{}]*?)\s*\}\}/g;
/**
 * Characters that could end or escape a PromQL string literal (double-, single- or back-quoted) or start a
 * new line: a value holding one could change what the query selects, so it is refused rather than escaped.
 */
const UNSAFE = /["'`\\\r\n]/;

/**
 * Fills the placeholders of a metric query. Values go in verbatim (they are Kubernetes names, label values and
 * fixed words), so each one used is checked to be a safe label value first.
 * @param metricName named in every error.
 * @throws InputError for an unknown placeholder (`--analysis`), an unbalanced `{{`/`}}`, or an unsafe or
 *   empty value (naming the input it came from, e.g. `--namespace`).
 */
export function renderQuery(template: string, vars: QueryVars, metricName: string): string {
  const outside = template.replace(EXPRESSION, '');
  if (outside.includes('{{') || outside.includes('}}')) {
    throw new InputError('--analysis', `metric "${metricName}": unbalanced "{{" or "}}" in the query`);
  }
  return template.replace(EXPRESSION, (_whole, body: string) => {
    if (!(PLACEHOLDERS as readonly string[]).includes(body)) {
      throw new InputError(
        '--analysis',
        `metric "${metricName}": unknown placeholder {{${body}}}; expected one of ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`,
      );
    }
    const placeholder = body as Placeholder;
    const value = String(vars[placeholder]);
    if ((value === '' && !MAY_BE_EMPTY.has(placeholder)) || UNSAFE.test(value)) {
      const why = value === '' ? 'is empty' : 'contains a quote, backslash or line break';
      throw new InputError(
        SOURCE[placeholder],
        `${JSON.stringify(value)} cannot be used as {{${placeholder}}} in metric "${metricName}": it ${why}`,
      );
    }
    return value;
  });
}

/** Milliseconds as a Prometheus duration in the largest exact unit: 30000 → `30s`, 90000 → `90s`, 500 → `500ms`. */
export function formatPromDuration(ms: number): string {
  const whole = Math.round(ms);
  if (whole > 0 && whole % 3_600_000 === 0) return `${whole / 3_600_000}h`;
  if (whole > 0 && whole % 60_000 === 0) return `${whole / 60_000}m`;
  if (whole > 0 && whole % 1000 === 0) return `${whole / 1000}s`;
  return `${whole}ms`;
}
