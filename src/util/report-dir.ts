import { mkdir, stat } from 'node:fs/promises';
import { InputError } from './errors.js';

/**
 * Checks before a rollout that its report can be written to `dir` (creating it when missing), so that a path
 * naming a file, or a folder that cannot be created, is bad input found before the cluster changes rather
 * than an error after the rollout.
 *
 * @throws InputError naming `input` (default `--report`).
 */
export async function prepareReportDir(dir: string, input = '--report'): Promise<void> {
  const existing = await stat(dir).catch(() => undefined);
  if (existing && !existing.isDirectory()) {
    throw new InputError(input, `"${dir}" is not a directory: the report is written into a folder`);
  }
  if (existing) return;
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(input, `cannot create the folder "${dir}"${code ? ` (${code})` : ''}`);
  }
}
