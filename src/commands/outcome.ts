import type { WatchLine } from '../deploy/watch-lines.js';

/**
 * The use-case layer: one function per command (build, scan, push, sign, verify, deploy, status, promote, abort), each
 * taking the raw inputs of any front end and returning a typed outcome. The CLI (src/cli), the GitHub actions
 * (src/platforms/github) and, through the CLI, the GitLab and Jenkins wrappers call these and nothing below
 * them, so every front end gets the same validation, the same rules and the same results.
 */

/**
 * What a command hands back to its front end: the typed result (the JSON contract in DESIGN.md), a summary a
 * person reads in a terminal, and the exit code (0, or 1 when a gate said no).
 */
export interface CommandOutcome<T extends object = object> {
  result: T;
  summary: string;
  exitCode: 0 | 1;
  /**
   * Deploy (and status --watch, which ends with the rollout's code): an infrastructure (3) or rollback (4)
   * failure whose result is still a full report.
   */
  forceExitCode?: number;
  /** The front end already wrote the output line by line (status --watch): it writes nothing more. */
  streamed?: boolean;
}

/** What every command takes besides its inputs. */
export interface CommandOptions {
  /** gantry.yml to read defaults from (default ./gantry.yml when present). */
  configPath?: string;
  /** status --watch: each line as it happens, as an object (for --json) and as the text a person reads. */
  onWatchLine?: (line: WatchLine, text: string) => void;
}
