import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostOf, isInsecure } from '../registry/hosts.js';
import { addToStore, forgetRefs } from '../store/oci-layout.js';
import { InputError } from '../util/errors.js';
import { run } from '../util/exec.js';
import { log } from '../util/log.js';
import { type Builder, type BuildOutput, type BuildRequest, commonBuildFlags } from './types.js';

/**
 * Daemon-less builds with buildah. Isolation defaults to `chroot`, which works inside unprivileged CI
 * containers; BUILDAH_ISOLATION and the containers storage configuration (CONTAINERS_STORAGE_CONF,
 * STORAGE_DRIVER) are honoured as buildah itself honours them.
 */
export class BuildahBuilder implements Builder {
  readonly name = 'buildah' as const;

  async available(): Promise<boolean> {
    const result = await run('buildah', ['version'], { allowFailure: true }).catch(() => undefined);
    return result?.exitCode === 0;
  }

  buildArgs(request: BuildRequest, iidfile = 'IIDFILE'): string[] {
    const args = ['bud', '--isolation', process.env.BUILDAH_ISOLATION ?? 'chroot'];
    args.push('--file', request.dockerfile);
    // Several platforms make a manifest list named by the first ref (buildList() gives a name of its own):
    // buildah 1.28 would give --tag to the last platform's image only, and has no single image id to write.
    // Nor --layers: with --manifest it stores a list whose instances `buildah images` can no longer resolve
    // ("locating item named manifest-sha256:…"), which breaks every later listing of the store.
    if (request.platforms.length > 1) args.push('--manifest', request.refs[0]!);
    else {
      args.push('--layers', '--iidfile', iidfile);
      for (const ref of request.refs) args.push('--tag', ref);
    }
    args.push(...commonBuildFlags(request));
    // buildah 1.28 takes one registry repository for each of --cache-from/--cache-to.
    for (const [flag, specs] of [
      ['--cache-from', request.cacheFrom],
      ['--cache-to', request.cacheTo],
    ] as const) {
      const local = specs.find((spec) => spec.type !== 'registry');
      if (local)
        throw new InputError(
          flag,
          `buildah keeps layer cache in a registry only: use type=registry,ref=<repository>, not type=${local.type}`,
        );
    }
    const cacheRepos = [...request.cacheFrom.slice(0, 1), ...request.cacheTo.slice(0, 1)].map(
      (spec) => spec.ref,
    );
    if (request.cacheFrom[0]) args.push('--cache-from', request.cacheFrom[0].ref);
    if (request.cacheTo[0]) args.push('--cache-to', request.cacheTo[0].ref);
    if (cacheRepos.some((repo) => isInsecure(hostOf(repo), request.insecureRegistries))) {
      args.push('--tls-verify=false');
    }
    args.push(request.context);
    return args;
  }

  async build(request: BuildRequest): Promise<BuildOutput> {
    if (request.cacheFrom.length > 1 || request.cacheTo.length > 1) {
      log.warn(
        'buildah reads one --cache-from and writes one --cache-to repository; using the first of each',
      );
    }
    if (request.platforms.length > 1) return this.buildList(request);
    const dir = await mkdtemp(join(tmpdir(), 'gantry-build-'));
    try {
      const iidfile = join(dir, 'iid');
      await run('buildah', this.buildArgs(request, iidfile), { stream: true });
      await forgetRefs(request.refs);
      const imageId = (await readFile(iidfile, 'utf8')).trim();
      return { builder: this.name, imageId, store: 'buildah' };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Several platforms: buildah builds a manifest list under a name of its own, which is exported with every
   * platform to an OCI layout in Gantry's image store (where scan and push read it, as for buildx builders
   * without a store) and then dropped. A manifest list kept in buildah 1.28's storage breaks `buildah images`
   * once a list of the same images is built again ("locating item named manifest-sha256:…").
   */
  private async buildList(request: BuildRequest): Promise<BuildOutput> {
    const list = `localhost/gantry-build-${randomBytes(6).toString('hex')}:list`;
    try {
      const imageId = await addToStore(request.refs, async (dest) => {
        await run('buildah', this.buildArgs({ ...request, refs: [list] }), { stream: true });
        await run('buildah', ['manifest', 'push', '--all', list, `oci:${dest}`], { timeoutMs: 30 * 60_000 });
      });
      return { builder: this.name, imageId, store: 'oci-layout' };
    } finally {
      await run('buildah', ['manifest', 'rm', list], { allowFailure: true });
    }
  }
}
