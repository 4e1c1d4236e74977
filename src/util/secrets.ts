/**
 * A process-wide register of secret values. Everything Gantry prints (logs, errors, reports, JSON results)
 * passes through {@link redact}, so a credential registered here never reaches the user's screen or a file,
 * even when a tool echoes it back in an error message.
 */
const secrets = new Set<string>();

/** Registers a value to be masked from all output. Short values are ignored to avoid masking noise. */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 4) return;
  secrets.add(value);
  // Tools often print credentials base64-encoded (docker config.json "auth" fields).
  secrets.add(Buffer.from(value).toString('base64'));
}

/** Every registered secret, longest first so that overlapping values are masked whole. */
export function registeredSecrets(): string[] {
  return [...secrets].sort((a, b) => b.length - a.length);
}

/** Replaces every registered secret in `text` with `***`. */
export function redact(text: string): string {
  let out = text;
  for (const secret of registeredSecrets()) out = out.split(secret).join('***');
  return out;
}
