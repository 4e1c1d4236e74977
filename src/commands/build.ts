import { type BuildResult, buildImage } from '../build/index.js';
import { type RawInputs, resolveConfig } from '../config/load.js';
import type { CommandOptions, CommandOutcome } from './outcome.js';

const STORES = {
  buildah: "buildah's storage",
  docker: 'the Docker daemon',
  'oci-layout': "Gantry's image store (an OCI layout)",
} as const;

export async function runBuildCommand(
  raw: RawInputs,
  options: CommandOptions,
): Promise<CommandOutcome<BuildResult>> {
  const config = resolveConfig({ command: 'build', raw, configPath: options.configPath });
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
