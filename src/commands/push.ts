import { type RawInputs, resolveConfig } from '../config/load.js';
import { parseImageReference } from '../context/reference.js';
import { type PushResult, pushImage } from '../registry/push.js';
import { InputError } from '../util/errors.js';
import type { CommandOptions, CommandOutcome } from './outcome.js';

export async function runPushCommand(
  raw: RawInputs,
  options: CommandOptions,
): Promise<CommandOutcome<PushResult & { durationMs: number }>> {
  const config = resolveConfig({ command: 'push', raw, configPath: options.configPath });
  if (!config.image)
    throw new InputError('--image', 'required: the local image or registry reference to push');
  if (config.push.to.length === 0)
    throw new InputError('--to', 'required: at least one destination reference');
  parseImageReference(config.image, '--image');
  for (const destination of config.push.to) parseImageReference(destination, '--to');
  const started = Date.now();
  const result = await pushImage({
    source: config.image,
    destinations: config.push.to,
    insecureRegistries: config.registry.insecure,
    retry: { retries: config.registry.retries, delayMs: config.registry.retryDelayMs },
  });
  const durationMs = Date.now() - started;
  return {
    exitCode: 0,
    result: { ...result, durationMs },
    summary: [`pushed ${result.digest}`, ...result.refs.map((ref) => `  ${ref}`)].join('\n'),
  };
}
