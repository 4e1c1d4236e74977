/**
 * The one duration parser: every duration Gantry reads (`--pause`, `--timeout`, an analysis `interval`, …)
 * is written `500ms`, `30s`, `2m`, `1h`, `1m30s`, or as a number of seconds.
 */
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `5s`, `1m`, `1m30s` → milliseconds; a bare number is seconds. Undefined when unreadable. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value * 1000 : undefined;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text) * 1000;
  if (!DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) ms += Number(amount) * UNIT_MS[unit!]!;
  return ms;
}

/** Milliseconds as a person reads them, in the syntax {@link parseDuration} reads: `30m`, `1h30m`, `1m5s`, `2.5s`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 100) / 10);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = Math.round((total % 60) * 10) / 10;
  const parts = [hours ? `${hours}h` : '', minutes ? `${minutes}m` : '', seconds ? `${seconds}s` : ''];
  return parts.join('') || '0s';
}
