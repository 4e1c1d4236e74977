import { redact } from '../util/secrets.js';

/**
 * What a command hands back to the CLI: the JSON result (the contract in DESIGN.md), a human summary for
 * the terminal, and the exit code (0, or 1 when a gate said no).
 */
export interface CommandOutcome<T extends object = object> {
  result: T;
  summary: string;
  exitCode: 0 | 1;
  /** Deploy only: an infrastructure (3) or rollback (4) failure whose JSON result is still a full report. */
  forceExitCode?: number;
}

/** Writes exactly one JSON object to stdout (secrets masked). */
export function writeJson(value: object): void {
  process.stdout.write(`${redact(JSON.stringify(value, null, 2))}\n`);
}

export function writeSummary(text: string): void {
  process.stdout.write(`${redact(text)}\n`);
}
