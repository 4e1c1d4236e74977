import { run } from '../util/exec.js';
import type { Builder, BuildOutput, BuildRequest } from './types.js';

/**
 * Docker buildx, for runners with a Docker daemon (GitHub's hosted runners). The image is loaded into the
 * daemon (`--load`); pushing goes through the same registry stage as buildah images.
 */
export class BuildxBuilder implements Builder {
  readonly name = 'buildx' as const;

  async available(): Promise<boolean> {
    // The client answering is not enough: buildx needs a daemon (docker info fails without one).
    const version = await run('docker', ['buildx', 'version'], { allowFailure: true }).catch(() => undefined);
    if (version?.exitCode !== 0) return false;
    const info = await run('docker', ['info', '--format', '{{.ServerVersion}}'], {
      allowFailure: true,
      timeoutMs: 10_000,
    }).catch(() => undefined);
    return info?.exitCode === 0 && info.stdout.trim() !== '';
  }

  buildArgs(request: BuildRequest): string[] {
    const args = ['buildx', 'build', '--file', request.dockerfile, '--load', '--provenance=false'];
    for (const ref of request.refs) args.push('--tag', ref);
    for (const [key, value] of Object.entries(request.buildArgs)) args.push('--build-arg', `${key}=${value}`);
    for (const [key, value] of Object.entries(request.labels)) args.push('--label', `${key}=${value}`);
    if (request.target) args.push('--target', request.target);
    if (request.platforms.length > 0) args.push('--platform', request.platforms.join(','));
    for (const secret of request.secrets) args.push('--secret', `id=${secret.id},src=${secret.src}`);
    for (const repo of request.cacheFrom) args.push('--cache-from', `type=registry,ref=${repo}`);
    for (const repo of request.cacheTo) args.push('--cache-to', `type=registry,ref=${repo},mode=max`);
    args.push(request.context);
    return args;
  }

  async build(request: BuildRequest): Promise<BuildOutput> {
    await run('docker', this.buildArgs(request), { stream: true });
    const inspect = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', request.refs[0]!]);
    return { builder: this.name, imageId: inspect.stdout.trim() };
  }
}
