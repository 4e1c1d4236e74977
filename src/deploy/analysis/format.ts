/**
 * Numbers as a person reads them in checks and reasons: integers as they are, others with four significant
 * digits (0.43, 0.0012, 1235), tiny p-values in exponent form (1.2e-7).
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

/** A p-value with two significant digits (0.041, 0.0012, 3.4e-9). */
export function formatP(value: number): string {
  if (value === 0 || value === 1) return String(value);
  return String(Number(value.toPrecision(2)));
}
