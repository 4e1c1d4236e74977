import { redact } from './secrets.js';

/**
 * Human-readable progress goes to stderr, so that stdout stays free for the single `--json` result.
 * Platform adapters replace the sink (GitHub groups, GitLab sections, Jenkins echo) through {@link setLogSink}.
 */
export interface LogSink {
  info(line: string): void;
  warn(line: string): void;
  startGroup(title: string): void;
  endGroup(): void;
}

const stderrSink: LogSink = {
  info: (line) => process.stderr.write(`${line}\n`),
  warn: (line) => process.stderr.write(`warning: ${line}\n`),
  startGroup: (title) => process.stderr.write(`▶ ${title}\n`),
  endGroup: () => {},
};

let sink: LogSink = stderrSink;
let quiet = false;

export function setLogSink(next: LogSink): void {
  sink = next;
}

/** Silences info lines (warnings still print). Used by `--quiet`. */
export function setQuiet(value: boolean): void {
  quiet = value;
}

export const log = {
  info(line: string): void {
    if (!quiet) sink.info(redact(line));
  },
  warn(line: string): void {
    sink.warn(redact(line));
  },
  /** Runs `fn` inside a titled, collapsible group and reports how long it took. */
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    if (!quiet) sink.startGroup(redact(title));
    const started = performance.now();
    try {
      return await fn();
    } finally {
      if (!quiet) {
        sink.info(`  (${title}: ${((performance.now() - started) / 1000).toFixed(1)}s)`);
        sink.endGroup();
      }
    }
  },
};
