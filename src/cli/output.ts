import { redact } from '../util/secrets.js';

/** Writes exactly one JSON object to stdout (secrets masked). */
export function writeJson(value: object): void {
  process.stdout.write(`${redact(JSON.stringify(value, null, 2))}\n`);
}

export function writeSummary(text: string): void {
  process.stdout.write(`${redact(text)}\n`);
}
