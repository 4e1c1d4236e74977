/**
 * Formatting shared by the Markdown, Mermaid and SVG renderers: numbers, thresholds, durations, offsets,
 * and escaping for Markdown and XML. Everything here is pure and deterministic.
 */

// ---------------------------------------------------------------------------------------------------------
// Numbers

const SIGNIFICANT_DIGITS = 4;

/**
 * A measurement as a person reads it: 4 significant digits, never exponent notation, no trailing zeros,
 * no unit assumed (a value of 0.43 is printed as `0.43`, not `43%`: the query decides what it means).
 *
 * @example formatNumber(0.012345) // '0.01235'
 * @example formatNumber(1234.5) // '1235'
 */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '∞';
  if (value === Number.NEGATIVE_INFINITY) return '-∞';
  if (value === 0) return '0';
  const rounded = Number(value.toPrecision(SIGNIFICANT_DIGITS));
  return plainDecimal(rounded, SIGNIFICANT_DIGITS);
}

/** `value` written out without exponent, with at most `significant` significant digits after rounding. */
function plainDecimal(value: number, significant: number): string {
  if (value === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  if (Math.abs(value) >= 1e21) {
    // toFixed falls back to exponent notation from 1e21 on; integers that large are whole anyway.
    return BigInt(Math.round(value)).toString();
  }
  const decimals = Math.min(100, Math.max(0, significant - 1 - magnitude));
  const text = value.toFixed(decimals);
  const trimmed = text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  return trimmed === '-0' ? '0' : trimmed;
}

/**
 * A number for a chart axis or a Mermaid data list: like {@link formatNumber} but with enough digits to tell
 * ticks apart (ticks such as 0.0125 and 0.015 need 3 decimals whatever their magnitude).
 */
export function formatTick(value: number, step: number): string {
  if (value === 0 || Math.abs(value) < Math.abs(step) * 1e-9) return '0';
  const stepDecimals = Math.max(0, -Math.floor(Math.log10(Math.abs(step))) + 1);
  const text = value.toFixed(Math.min(20, stepDecimals));
  const trimmed = text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  return trimmed === '-0' ? '0' : trimmed;
}

/**
 * A number in the grammar Mermaid's xychart accepts (`[+-]?(\d+(\.\d+)?|\.\d+)`: no exponent, no `∞`).
 * Up to 6 significant digits so the line sits where the value is.
 */
export function mermaidNumber(value: number): string {
  if (!Number.isFinite(value) || value === 0) return '0';
  return plainDecimal(Number(value.toPrecision(6)), 6);
}

// ---------------------------------------------------------------------------------------------------------
// Thresholds

/** Bounds of a check or metric: the measurement fails below `min` or above `max` (inclusive bounds pass). */
export interface Bounds {
  min?: number | undefined;
  max?: number | undefined;
}

/**
 * The bounds as a person writes them: `≤ 0.05`, `≥ 0.99`, `0.01–0.05`, or `—` when there are none.
 */
export function formatThreshold(bounds: Bounds): string {
  const { min, max } = bounds;
  if (min !== undefined && max !== undefined) return `${formatNumber(min)}–${formatNumber(max)}`;
  if (max !== undefined) return `≤ ${formatNumber(max)}`;
  if (min !== undefined) return `≥ ${formatNumber(min)}`;
  return '—';
}

// ---------------------------------------------------------------------------------------------------------
// Time

/** Milliseconds since the epoch for an ISO timestamp; NaN when missing or unparseable. */
export function parseTime(iso: string | null | undefined): number {
  if (iso === null || iso === undefined || iso === '') return Number.NaN;
  return Date.parse(iso);
}

/** Milliseconds from `from` to `to`; NaN when either is missing. */
export function millisBetween(from: string | null | undefined, to: string | null | undefined): number {
  return parseTime(to) - parseTime(from);
}

/**
 * A short span in seconds, for the rollback timings: `0.8 s`, `2.4 s`, `42 s`, `125 s`; `—` when unknown.
 * One decimal below 10 s, where a second more or less matters.
 */
export function formatSeconds(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const seconds = Math.max(0, ms) / 1000;
  return seconds < 10 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds)} s`;
}

/** A duration: `42.5 s` below a minute, then `3m 05s`, then `1h 02m`; `—` when unknown. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const totalSeconds = Math.max(0, ms) / 1000;
  if (totalSeconds < 60)
    return totalSeconds < 10 ? `${totalSeconds.toFixed(1)} s` : `${Math.round(totalSeconds)} s`;
  const rounded = Math.round(totalSeconds);
  const hours = Math.floor(rounded / 3600);
  const minutes = Math.floor((rounded % 3600) / 60);
  const seconds = rounded % 60;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m`;
  return `${minutes}m ${String(seconds).padStart(2, '0')}s`;
}

/**
 * An offset from the rollout's start, compact enough for a table column or an axis: `+0s`, `+45s`,
 * `+1m05s`, `+1h02m`; `?` when unknown.
 */
export function formatOffset(ms: number, sign = '+'): string {
  if (!Number.isFinite(ms)) return '?';
  const negative = ms < 0;
  const total = Math.round(Math.abs(ms) / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  let text: string;
  if (hours > 0) text = `${hours}h${String(minutes).padStart(2, '0')}m`;
  else if (minutes > 0)
    text = seconds === 0 ? `${minutes}m` : `${minutes}m${String(seconds).padStart(2, '0')}s`;
  else text = `${seconds}s`;
  return `${negative ? '-' : sign}${text}`;
}

// ---------------------------------------------------------------------------------------------------------
// Escaping

/**
 * Text safe to place inline in GitHub-flavoured Markdown, including a table cell: whatever could open
 * emphasis, code, a link, HTML, an entity, math or strikethrough, or split a cell (`|`), is backslash-escaped,
 * and line breaks become spaces.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/[\\`*_[\]<>#|~&$]/g, (character) => `\\${character}`)
    .replace(/^(\s*)-/, '$1\\-');
}

/**
 * Text as a Markdown code span (`` `…` ``), safe inside a table cell: the fence grows past any run of
 * backticks in the text, and `|` is escaped (GFM splits cells before it parses code spans).
 */
export function markdownCode(text: string): string {
  const flat = text.replace(/\r\n|\r|\n/g, ' ');
  const longestRun = Math.max(0, ...Array.from(flat.matchAll(/`+/g), (match) => match[0].length));
  const fence = '`'.repeat(longestRun + 1);
  const padded = flat.startsWith('`') || flat.endsWith('`') ? ` ${flat} ` : flat;
  return `${fence}${padded.replace(/\|/g, '\\|')}${fence}`;
}

/** Text safe in XML character data and in attribute values (either quote). */
export function escapeXml(text: string): string {
  return (
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
      // Control characters other than tab and line breaks are not allowed in XML 1.0 at all.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
  );
}

/** A step as a person counts it: index 0 at 10% is `step 1 (10%)`. */
export function formatStep(index: number, weight: number | undefined): string {
  return weight === undefined ? `step ${index + 1}` : `step ${index + 1} (${formatNumber(weight)}%)`;
}
