import { existsSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { GantryConfig } from '../config/schema.js';
import {
  computeTags,
  ociLabels,
  parseImageReference,
  readBuildContext,
  repositoryRoot,
} from '../context/index.js';
import { pushImage } from '../registry/push.js';
import {
  buildStatement,
  defaultProvenancePath,
  type ProvenanceInput,
  prepareStatementPath,
  provenancePredicate,
  resolveBaseImages,
  writeStatement,
} from '../supply/provenance.js';
import { InfraError, InputError } from '../util/errors.js';
import { log } from '../util/log.js';
import { registerSecret } from '../util/secrets.js';
import { BuildahBuilder } from './buildah.js';
import { BuildxBuilder } from './buildx.js';
import { type CacheSpec, parseCacheSpec } from './cache.js';
import { checkDockerfile, checkTarget } from './dockerfile.js';
import type { Builder, BuildRequest } from './types.js';

/**
 * Writes the build's SLSA provenance statement (base images resolved to digests first); returns the file and
 * what its subject digest is. Its path was checked writable before the build ran (prepareStatementPath).
 */
async function writeProvenance(
  path: string,
  input: ProvenanceInput & {
    repository: string;
    manifestDigest?: string;
    imageId?: string;
    insecureRegistries: string[];
  },
): Promise<Pick<BuildResult, 'provenance' | 'provenanceSubject'>> {
  const { repository, manifestDigest, imageId, insecureRegistries, ...rest } = input;
  const baseImages = await resolveBaseImages(rest.dockerfile, rest.buildArgs, insecureRegistries);
  const root = await repositoryRoot(rest.contextDir);
  const predicate = provenancePredicate({ ...rest, baseImages, repositoryRoot: root ?? rest.contextDir });
  const statement = buildStatement(repository, { manifest: manifestDigest, imageId }, predicate);
  if (!statement) {
    log.warn('provenance: the image has no digest yet (no image id was reported); no statement written');
    return {};
  }
  await writeStatement(path, statement);
  log.info(`provenance: ${path}`);
  return { provenance: path, provenanceSubject: manifestDigest ? 'manifest' : 'image-config' };
}

export interface BuildResult {
  image: string;
  tags: string[];
  /** Full references, `image:tag`, in tag order. */
  refs: string[];
  /** The manifest digest in the registry, when pushed. */
  digest?: string;
  builder: 'buildah' | 'buildx';
  imageId?: string;
  /** Where the built image waits for scan and push: buildah's storage, the Docker daemon, or an OCI layout. */
  store: 'buildah' | 'docker' | 'oci-layout';
  labels: Record<string, string>;
  pushed: boolean;
  /** The file of Gantry's SLSA v1 provenance statement (unless `--no-provenance`). */
  provenance?: string;
  /**
   * What the provenance's subject digest is: the image's manifest (or index) digest when the build knows it
   * (pushed, or an OCI layout), else the local image id (`image-config`), to re-issue once pushed.
   */
  provenanceSubject?: 'manifest' | 'image-config';
  durationMs: number;
}

/** The factory: one switch from name to builder; `auto` prefers buildx where a daemon answers. */
export async function createBuilder(name: GantryConfig['build']['builder']): Promise<Builder> {
  switch (name) {
    case 'buildah':
      return new BuildahBuilder();
    case 'buildx':
      return new BuildxBuilder();
    case 'auto': {
      const buildx = new BuildxBuilder();
      if (await buildx.available()) return buildx;
      const buildah = new BuildahBuilder();
      if (await buildah.available()) return buildah;
      throw new InfraError(
        'no builder available: install buildah, or docker with buildx and a running daemon',
      );
    }
  }
}

/**
 * The build stage: validate every input first (nothing runs on bad input), compute tags and OCI labels
 * from the git/CI context, build, and push when asked.
 */
export async function buildImage(
  config: GantryConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BuildResult> {
  const started = Date.now();
  if (!config.image)
    throw new InputError(
      '--image',
      'required: the image repository to build, e.g. registry.example.com/team/app',
    );
  const reference = parseImageReference(config.image, '--image');
  const repository = config.image.replace(/(@sha256:[a-f0-9]+)$/, '').replace(/:([^:/]+)$/, '');
  const contextDir = resolve(config.build.context);
  if (!existsSync(contextDir) || !statSync(contextDir).isDirectory()) {
    throw new InputError('--context', `no such directory "${config.build.context}"`);
  }
  const dockerfile = resolve(config.build.file ?? join(contextDir, 'Dockerfile'));
  if (!existsSync(dockerfile))
    throw new InputError(
      '--file',
      `no such file "${config.build.file ?? join(config.build.context, 'Dockerfile')}"`,
    );
  checkTarget(config.build.target, checkDockerfile(dockerfile), dockerfile);

  const context = await readBuildContext(env, { cwd: contextDir });
  const computed = computeTags(context, {
    rules: config.tags.rules.length > 0 ? config.tags.rules : undefined,
    flavor: { latest: config.tags.latest, prefix: config.tags.prefix, suffix: config.tags.suffix },
  });
  const tags = [...computed.tags, ...config.tags.extra, ...(reference.tag ? [reference.tag] : [])].filter(
    (tag, index, all) => all.indexOf(tag) === index,
  );
  if (tags.length === 0)
    throw new InputError('--tag', 'no tag: the git context gave none and no --tag was given');
  const refs = tags.map((tag) => `${repository}:${tag}`);
  for (const ref of refs) parseImageReference(ref, '--tag');
  const labels = ociLabels(context, { version: computed.version, extra: config.build.labels });
  const cacheRef = config.build.cacheRef ? [parseCacheSpec(config.build.cacheRef, '--cache-ref')] : [];
  const cacheFrom: CacheSpec[] = [
    ...cacheRef,
    ...config.build.cacheFrom.map((value) => parseCacheSpec(value, '--cache-from')),
  ];
  const cacheTo: CacheSpec[] = [
    ...cacheRef,
    ...config.build.cacheTo.map((value) => parseCacheSpec(value, '--cache-to')),
  ];

  const provenancePath = config.build.provenance
    ? resolve(config.build.provenanceOutput ?? defaultProvenancePath(refs[0]!, env))
    : undefined;
  if (provenancePath)
    await prepareStatementPath(
      provenancePath,
      config.build.provenanceOutput ? '--provenance-output' : '--provenance',
    );

  const builder = await createBuilder(config.build.builder);
  const secretDir = await mkdtemp(join(tmpdir(), 'gantry-secrets-'));
  try {
    await chmod(secretDir, 0o700);
    const secrets = await Promise.all(
      config.build.secrets.map(async (secret) => {
        if (secret.src) {
          if (!existsSync(secret.src))
            throw new InputError('--secret', `secret "${secret.id}": no such file "${secret.src}"`);
          return { id: secret.id, src: resolve(secret.src) };
        }
        const value = env[secret.env!];
        if (value === undefined) {
          throw new InputError(
            '--secret',
            `secret "${secret.id}": environment variable ${secret.env} is not set`,
          );
        }
        registerSecret(value);
        const file = join(secretDir, secret.id);
        await writeFile(file, value, { mode: 0o600 });
        return { id: secret.id, src: file };
      }),
    );
    const request: BuildRequest = {
      context: contextDir,
      dockerfile,
      refs,
      buildArgs: config.build.buildArgs,
      labels,
      target: config.build.target,
      network: config.build.network,
      platforms: config.build.platforms,
      secrets,
      cacheFrom,
      cacheTo,
      insecureRegistries: config.registry.insecure,
      buildxProvenance: config.build.buildxProvenance,
    };
    const buildStarted = new Date();
    const output = await log.group(`build ${refs[0]} with ${builder.name}`, () => builder.build(request));
    const buildFinished = new Date();
    let digest: string | undefined;
    if (config.build.push) {
      const pushed = await log.group(`push ${refs.length} tag(s)`, () =>
        pushImage({
          source: refs[0]!,
          destinations: refs,
          insecureRegistries: config.registry.insecure,
          retry: { retries: config.registry.retries, delayMs: config.registry.retryDelayMs },
        }),
      );
      digest = pushed.digest;
    }
    const provenance = provenancePath
      ? await log.group('provenance', () =>
          writeProvenance(provenancePath, {
            context,
            env,
            contextDir,
            dockerfile,
            repositoryRoot: undefined,
            target: config.build.target,
            platforms: config.build.platforms,
            buildArgs: config.build.buildArgs,
            secretIds: config.build.secrets.map((secret) => secret.id),
            refs,
            builder: output.builder,
            buildxDriver: output.driver,
            baseImages: [],
            startedOn: buildStarted,
            finishedOn: buildFinished,
            repository,
            manifestDigest: digest ?? (output.store === 'oci-layout' ? output.imageId : undefined),
            imageId: output.imageId,
            insecureRegistries: config.registry.insecure,
          }),
        )
      : undefined;
    return {
      image: repository,
      tags,
      refs,
      digest,
      builder: output.builder,
      imageId: output.imageId,
      store: output.store,
      labels,
      pushed: config.build.push,
      ...(provenance ?? {}),
      durationMs: Date.now() - started,
    };
  } finally {
    await rm(secretDir, { recursive: true, force: true });
  }
}
