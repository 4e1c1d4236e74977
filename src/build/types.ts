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
  platforms: string[];
  /** Secrets as files on disk (env secrets are written to 0600 temp files first). */
  secrets: { id: string; src: string }[];
  cacheFrom: string[];
  cacheTo: string[];
  /** Registries to reach without TLS verification (host[:port]). */
  insecureRegistries: string[];
}

export interface BuildOutput {
  builder: 'buildah' | 'buildx';
  /** Local image id (config digest) when the builder keeps the image locally. */
  imageId?: string;
}

/** A builder turns a context into a local image (buildah) or a pushed one (buildx with --push). */
export interface Builder {
  readonly name: 'buildah' | 'buildx';
  /** True when this builder can run here (its binary answers; for buildx, a daemon too). */
  available(): Promise<boolean>;
  /** The exact argv the builder runs — pure, so the mapping of inputs to arguments is unit-tested. */
  buildArgs(request: BuildRequest): string[];
  build(request: BuildRequest): Promise<BuildOutput>;
}
