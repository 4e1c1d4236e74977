import { addToStore, forgetRefs } from '../store/oci-layout.js';
import { InfraError, InputError } from '../util/errors.js';
import { run } from '../util/exec.js';
import { log } from '../util/log.js';
import { buildxCacheArg } from './cache.js';
import { type Builder, type BuildOutput, type BuildRequest, commonBuildFlags } from './types.js';

/**
 * Where a buildx build goes. The `docker` driver (a GitHub-hosted runner's default builder) can only load
 * the image into the daemon; every other driver (`docker-container`, as docker/setup-buildx-action creates,
 * `remote`, `kubernetes`) has no local store that scan and push could read, so the result is exported as an
 * OCI layout into Gantry's image store (src/store/).
 */
export type BuildxOutput = { type: 'load' } | { type: 'oci'; dest: string };

/**
 * Docker buildx, for runners with a Docker daemon or a buildx builder. The builder is buildx's current one:
 * `BUILDX_BUILDER`, else what `docker buildx use` chose, else the daemon's default (docker driver).
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

  /** The current builder's name and driver, from `docker buildx inspect`. */
  async inspect(): Promise<{ name: string; driver: string }> {
    const { stdout } = await run('docker', ['buildx', 'inspect'], { timeoutMs: 30_000 });
    return parseBuildxInspect(stdout);
  }

  buildArgs(request: BuildRequest, output: BuildxOutput = { type: 'load' }): string[] {
    // BuildKit's provenance only where it can be kept: an OCI layout output (not --load into the daemon).
    const provenance = request.buildxProvenance && output.type === 'oci' ? 'mode=max' : 'false';
    const args = ['buildx', 'build', '--file', request.dockerfile, `--provenance=${provenance}`];
    if (output.type === 'load') {
      args.push('--load');
      for (const ref of request.refs) args.push('--tag', ref);
    } else {
      // The refs name the image inside the layout; the tags are applied when it is pushed.
      args.push('--output', `type=oci,dest=${output.dest},tar=false,name=${request.refs[0]}`);
    }
    args.push(...commonBuildFlags(request));
    for (const spec of request.cacheFrom) args.push('--cache-from', buildxCacheArg(spec, 'from'));
    for (const spec of request.cacheTo) args.push('--cache-to', buildxCacheArg(spec, 'to'));
    args.push(request.context);
    return args;
  }

  async build(request: BuildRequest): Promise<BuildOutput> {
    const builder = await this.inspect();
    log.info(`buildx builder "${builder.name}" (${builder.driver} driver)`);
    if (builder.driver === 'docker') {
      if (request.buildxProvenance) {
        log.warn(
          `buildx builder "${builder.name}" uses the docker driver, which cannot keep BuildKit's provenance attestation; --buildx-provenance is skipped (Gantry's own provenance is still written)`,
        );
      }
      return { ...(await this.buildIntoDaemon(request, builder.name)), driver: builder.driver };
    }
    const imageId = await addToStore(request.refs, (dest) =>
      run('docker', this.buildArgs(request, { type: 'oci', dest }), { stream: true }),
    );
    return { builder: this.name, imageId, store: 'oci-layout', driver: builder.driver };
  }

  private async buildIntoDaemon(request: BuildRequest, builderName: string): Promise<BuildOutput> {
    if (request.platforms.length > 1) {
      throw new InputError(
        '--platform',
        `buildx builder "${builderName}" uses the docker driver, which loads a single platform into the daemon; build several platforms with a builder of its own (docker buildx create --driver docker-container, or docker/setup-buildx-action), or with --builder buildah`,
      );
    }
    if (request.cacheTo.length > 0) {
      log.warn(
        `buildx builder "${builderName}" uses the docker driver, which cannot export a layer cache; --cache-to is skipped (a docker-container or remote builder writes it)`,
      );
    }
    await run('docker', this.buildArgs({ ...request, cacheTo: [] }, { type: 'load' }), { stream: true });
    await forgetRefs(request.refs);
    const inspect = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', request.refs[0]!]);
    return { builder: this.name, imageId: inspect.stdout.trim(), store: 'docker' };
  }
}

/** Name and driver of the current builder from `docker buildx inspect`'s text (it has no JSON form). */
export function parseBuildxInspect(text: string): { name: string; driver: string } {
  const name = /^Name:\s+(\S+)/m.exec(text)?.[1];
  const driver = /^Driver:\s+(\S+)/m.exec(text)?.[1];
  if (!name || !driver)
    throw new InfraError(`cannot read the builder's name and driver from docker buildx inspect`);
  return { name, driver };
}
