/**
 * Exit codes of the `gantry` CLI (DESIGN.md, "The CLI contract"). Every wrapper maps them back to its
 * platform's notion of a failed step, so they are part of the public contract.
 */
export const ExitCode = {
  ok: 0,
  /** A gate said no: scan above threshold, rollout rolled back on analysis. */
  gate: 1,
  /** Invalid input or config; nothing was changed. */
  input: 2,
  /** Cluster, registry, builder or metrics unreachable or failing (after best-effort rollback). */
  infra: 3,
  /** The rollback itself failed: a person must look. */
  rollbackFailed: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that knows which exit code it stands for. Its message is one line. */
export class GantryError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    options?: { cause?: unknown },
  ) {
    super(oneLine(message), options);
    this.name = new.target.name;
  }
}

/** Bad input: names the input at fault (`--tag`, `scan.ignoreFile`, …) and what was expected. */
export class InputError extends GantryError {
  constructor(
    readonly input: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${input}: ${message}`, ExitCode.input, options);
  }
}

/** Infrastructure failure: a registry, builder, scanner, cluster or metrics server did not do its part. */
export class InfraError extends GantryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.infra, options);
  }
}

/** Folds a message onto one line so that every error the user sees is exactly one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** The message of anything thrown, as one line. */
export function messageOf(error: unknown): string {
  return oneLine(error instanceof Error ? error.message : String(error));
}
