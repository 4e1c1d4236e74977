import { redact } from '../util/secrets.js';

/** Writes exactly one JSON object to stdout (secrets masked). */
export function writeJson(value: object): void {
  process.stdout.write(`${redact(JSON.stringify(value, null, 2))}\n`);
}

/** Writes one JSON object on one line (status --watch --json: one per change; secrets masked). */
export function writeJsonLine(value: object): void {
  process.stdout.write(`${redact(JSON.stringify(value))}\n`);
}

export function writeSummary(text: string): void {
  process.stdout.write(`${redact(text)}\n`);
}
