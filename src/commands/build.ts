import { buildImage } from '../../build/index.js';
import { type RawInputs, resolveConfig } from '../../config/load.js';
import type { GlobalOptions } from '../main.js';
import type { CommandOutcome } from '../output.js';

const STORES = {
  buildah: "buildah's storage",
  docker: 'the Docker daemon',
  'oci-layout': "Gantry's image store (an OCI layout)",
} as const;

export async function runBuildCommand(raw: RawInputs, globals: GlobalOptions): Promise<CommandOutcome> {
  const config = resolveConfig({ command: 'build', raw, configPath: globals.config });
  const result = await buildImage(config);
  const summary = [
    `built ${result.refs[0]} with ${result.builder} in ${(result.durationMs / 1000).toFixed(1)}s`,
    `  tags: ${result.tags.join(', ')}`,
    ...(config.build.platforms.length > 1 ? [`  platforms: ${config.build.platforms.join(', ')}`] : []),
    result.digest
      ? `  pushed: ${result.digest}`
      : `  not pushed (use --push); waiting in ${STORES[result.store]} for scan and push`,
  ].join('\n');
  return { exitCode: 0, result, summary };
}
