import { buildImage } from '../../build/index.js';
import { type RawInputs, resolveConfig } from '../../config/load.js';
import type { GlobalOptions } from '../main.js';
import type { CommandOutcome } from '../output.js';

export async function runBuildCommand(raw: RawInputs, globals: GlobalOptions): Promise<CommandOutcome> {
  const config = resolveConfig({ command: 'build', raw, configPath: globals.config });
  const result = await buildImage(config);
  const summary = [
    `built ${result.refs[0]} with ${result.builder} in ${(result.durationMs / 1000).toFixed(1)}s`,
    `  tags: ${result.tags.join(', ')}`,
    result.digest ? `  pushed: ${result.digest}` : '  not pushed (use --push)',
  ].join('\n');
  return { exitCode: 0, result, summary };
}
