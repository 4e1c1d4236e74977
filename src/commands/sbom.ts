import { type RawInputs, resolveConfig } from '../config/load.js';
import { parseImageReference } from '../context/reference.js';
import { DEFAULT_SBOM_FILES, generateSbom, type SbomResult } from '../supply/sbom.js';
import { InputError } from '../util/errors.js';
import type { CommandOptions, CommandOutcome } from './outcome.js';

/** `gantry sbom`'s JSON result: the SBOM's file and what it holds (the in-toto statement stays in memory). */
export type SbomCommandResult = Omit<SbomResult, 'statement'> & { durationMs: number };

/** Writes the SBOM of `--image` (local or in a registry) with trivy: CycloneDX JSON, or SPDX JSON. */
export async function runSbomCommand(
  raw: RawInputs,
  options: CommandOptions,
): Promise<CommandOutcome<SbomCommandResult>> {
  const config = resolveConfig({ command: 'sbom', raw, configPath: options.configPath });
  if (!config.image)
    throw new InputError('--image', 'required: the local image or registry reference to describe');
  parseImageReference(config.image, '--image');
  const started = Date.now();
  const { statement: _statement, ...result } = await generateSbom({
    ref: config.image,
    format: config.sbom.format,
    output: config.sbom.output ?? DEFAULT_SBOM_FILES[config.sbom.format],
    insecureRegistries: config.registry.insecure,
    platforms: config.build.platforms,
  });
  const durationMs = Date.now() - started;
  return {
    exitCode: 0,
    result: { ...result, durationMs },
    summary: [
      `${result.format} SBOM of ${result.image}${result.platform ? ` (${result.platform})` : ''}: ${result.components} component(s) in ${result.file}`,
      result.digest ? `  digest: ${result.digest}` : '  digest: unknown until the image is pushed',
    ].join('\n'),
  };
}
