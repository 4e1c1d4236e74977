import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostOf, isInsecure } from '../registry/hosts.js';
import { forgetRefs } from '../store/oci-layout.js';
import { InputError } from '../util/errors.js';
import { run } from '../util/exec.js';
import { log } from '../util/log.js';
import type { Builder, BuildOutput, BuildRequest } from './types.js';

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
    // Several platforms make a manifest list, named by the first ref (the others are tagged after the build);
    // buildah 1.28 would give --tag to the last platform's image only, and has no single image id to write.
    // Nor --layers: with --manifest it stores a list whose instances `buildah images` can no longer resolve
    // ("locating item named manifest-sha256:…"), which breaks every later listing of the store.
    if (request.platforms.length > 1) args.push('--manifest', request.refs[0]!);
    else {
      args.push('--layers', '--iidfile', iidfile);
      for (const ref of request.refs) args.push('--tag', ref);
    }
    for (const [key, value] of Object.entries(request.buildArgs)) args.push('--build-arg', `${key}=${value}`);
    for (const [key, value] of Object.entries(request.labels)) args.push('--label', `${key}=${value}`);
    if (request.target) args.push('--target', request.target);
    if (request.network) args.push('--network', request.network);
    if (request.platforms.length > 0) args.push('--platform', request.platforms.join(','));
    for (const secret of request.secrets) args.push('--secret', `id=${secret.id},src=${secret.src}`);
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
    const args = this.buildArgs(request, 'IIDFILE');
    const list = request.platforms.length > 1;
    // --manifest adds to a list of that name if there is one: start from none, so a rebuild replaces it.
    if (list) await removeLocal(request.refs);
    const dir = await mkdtemp(join(tmpdir(), 'gantry-build-'));
    try {
      const iidfile = join(dir, 'iid');
      await run(
        'buildah',
        args.map((arg) => (arg === 'IIDFILE' ? iidfile : arg)),
        { stream: true },
      );
      if (list) for (const ref of request.refs.slice(1)) await run('buildah', ['tag', request.refs[0]!, ref]);
      await forgetRefs(request.refs);
      // A list's digest is known only once it is pushed (buildah converts it to an OCI index on the way).
      const imageId = list ? undefined : (await readFile(iidfile, 'utf8')).trim();
      return { builder: this.name, imageId, store: 'buildah' };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** Removes images and manifest lists of these names from buildah's storage; missing ones are not an error. */
async function removeLocal(refs: readonly string[]): Promise<void> {
  for (const ref of refs) {
    await run('buildah', ['manifest', 'rm', ref], { allowFailure: true });
    await run('buildah', ['rmi', '--force', ref], { allowFailure: true });
  }
}
