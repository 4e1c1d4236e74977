import { InfraError, oneLine } from './errors.js';
import { log } from './log.js';
import { redact } from './secrets.js';

export interface RunOptions {
  /** Written to the child's stdin; the only way credentials are handed to a tool. */
  input?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Milliseconds before the child is killed. */
  timeoutMs?: number;
  /** Streams each stderr/stdout line to the log as it arrives (long-running tools: builds, scans). */
  stream?: boolean;
  /** Returns the result instead of throwing when the exit code is not 0. */
  allowFailure?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs a tool with an argument array — never through a shell, so nothing in an input can become a command.
 * Failures become an {@link InfraError} whose single line carries the tool's last meaningful stderr line,
 * with every registered secret masked.
 */
export async function run(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  // execa (~110 kB with its dependencies) loads with the first tool a command runs, not at startup: a step
  // that fails on its input or talks only HTTP (registry, Kubernetes, Prometheus) never parses it.
  const { execa } = await import('execa');
  const child = execa(file, args, {
    input: options.input ?? '',
    env: options.env,
    extendEnv: true,
    cwd: options.cwd,
    timeout: options.timeoutMs,
    reject: false,
    all: false,
    stripFinalNewline: true,
    maxBuffer: 256 * 1024 * 1024,
    stdout: options.stream ? ['pipe', streamLines] : 'pipe',
    stderr: options.stream ? ['pipe', streamLines] : 'pipe',
  });
  const result = await child;
  if (result.failed && (result as { code?: string }).code === 'ENOENT') {
    throw new InfraError(
      `${file} is not installed or not on PATH (run \`npm run setup\` for the sandbox tools)`,
    );
  }
  if (result.timedOut)
    throw new InfraError(`${file} ${args[0] ?? ''} timed out after ${options.timeoutMs} ms`);
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  const exitCode = result.exitCode ?? 1;
  if (exitCode !== 0 && !options.allowFailure) {
    throw new InfraError(`${file} ${args[0] ?? ''} failed (exit ${exitCode}): ${lastLine(stderr || stdout)}`);
  }
  return { stdout, stderr, exitCode };
}

function* streamLines(line: unknown): Generator<string> {
  log.info(`  ${String(line)}`);
  yield String(line);
}

/** The last non-empty line of a tool's output, redacted: usually the one that says what went wrong. */
export function lastLine(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  return redact(oneLine(lines.at(-1) ?? 'no output'));
}
