import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostOf, isInsecure } from '../registry/hosts.js';
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
    const args = ['bud', '--isolation', process.env.BUILDAH_ISOLATION ?? 'chroot', '--layers'];
    args.push('--file', request.dockerfile, '--iidfile', iidfile);
    for (const ref of request.refs) args.push('--tag', ref);
    for (const [key, value] of Object.entries(request.buildArgs)) args.push('--build-arg', `${key}=${value}`);
    for (const [key, value] of Object.entries(request.labels)) args.push('--label', `${key}=${value}`);
    if (request.target) args.push('--target', request.target);
    for (const platform of request.platforms) args.push('--platform', platform);
    for (const secret of request.secrets) args.push('--secret', `id=${secret.id},src=${secret.src}`);
    // buildah 1.28 takes one repository for each of --cache-from/--cache-to.
    const cacheRepos = [...request.cacheFrom.slice(0, 1), ...request.cacheTo.slice(0, 1)];
    if (request.cacheFrom[0]) args.push('--cache-from', request.cacheFrom[0]);
    if (request.cacheTo[0]) args.push('--cache-to', request.cacheTo[0]);
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
    const dir = await mkdtemp(join(tmpdir(), 'gantry-build-'));
    try {
      const iidfile = join(dir, 'iid');
      await run('buildah', this.buildArgs(request, iidfile), { stream: true });
      const imageId = (await readFile(iidfile, 'utf8')).trim();
      return { builder: this.name, imageId };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** Writes a local buildah image to an OCI archive (what scanners read for an image not pushed yet). */
export async function exportOciArchive(image: string, archivePath: string): Promise<void> {
  await run('buildah', ['push', '--quiet', image, `oci-archive:${archivePath}`]);
}
