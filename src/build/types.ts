import type { CacheSpec } from './cache.js';

/** Everything a builder needs, already validated and resolved (full tag references, secret files). */
export interface BuildRequest {
  context: string;
  /** Absolute path of the Dockerfile/Containerfile. */
  dockerfile: string;
  /** Full references (`registry/repo:tag`); the first one is the primary name. */
  refs: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  target?: string;
  /** Network mode for RUN instructions (`host`, `none`). */
  network?: string;
  platforms: string[];
  /** Secrets as files on disk (env secrets are written to 0600 temp files first). */
  secrets: { id: string; src: string }[];
  cacheFrom: CacheSpec[];
  cacheTo: CacheSpec[];
  /** Registries to reach without TLS verification (host[:port]). */
  insecureRegistries: string[];
  /**
   * buildx only: attach BuildKit's own SLSA provenance (`--provenance=mode=max`) where the builder can (not the
   * `docker` driver, which cannot store attestations). Default: none (`--provenance=false`).
   */
  buildxProvenance?: boolean;
}

export interface BuildOutput {
  builder: 'buildah' | 'buildx';
  /**
   * The image's local id: the config digest in buildah's storage or the Docker daemon; the manifest (or, for
   * several platforms, index) digest of an OCI layout, which the registry will serve once it is pushed.
   */
  imageId?: string;
  /** Where the image waits for scan and push (see src/store/). */
  store: 'buildah' | 'docker' | 'oci-layout';
  /** buildx: the builder's driver (`docker`, `docker-container`, `remote`, …). */
  driver?: string;
}

/** A builder turns a context into a local image: in buildah's storage, the Docker daemon or an OCI layout. */
export interface Builder {
  readonly name: 'buildah' | 'buildx';
  /** True when this builder can run here (its binary answers; for buildx, a daemon too). */
  available(): Promise<boolean>;
  /** The exact argv the builder runs — pure, so the mapping of inputs to arguments is unit-tested. */
  buildArgs(request: BuildRequest): string[];
  build(request: BuildRequest): Promise<BuildOutput>;
}

/**
 * The flags buildah bud and docker buildx build spell alike: build args, labels, target, network, platforms
 * and secrets (secrets by file, never by value).
 */
export function commonBuildFlags(request: BuildRequest): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(request.buildArgs)) args.push('--build-arg', `${key}=${value}`);
  for (const [key, value] of Object.entries(request.labels)) args.push('--label', `${key}=${value}`);
  if (request.target) args.push('--target', request.target);
  if (request.network) args.push('--network', request.network);
  if (request.platforms.length > 0) args.push('--platform', request.platforms.join(','));
  for (const secret of request.secrets) args.push('--secret', `id=${secret.id},src=${secret.src}`);
  return args;
}
