import { createHash } from 'node:crypto';
import { constants, readFileSync } from 'node:fs';
import { access, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { BuildContext, EnvMap } from '../context/types.js';
import { prepareAuthFile } from '../registry/auth.js';
import { resolveDigest } from '../registry/push.js';
import { imageStoreRoot } from '../store/oci-layout.js';
import { InputError } from '../util/errors.js';
import { log } from '../util/log.js';
import { VERSION } from '../version.js';
import { PREDICATE_TYPES, type Statement, statementFor } from './statement.js';

/**
 * SLSA provenance (v1, https://slsa.dev/spec/v1.0/provenance) for every build Gantry makes: which CI built
 * it (`runDetails.builder.id`), from which repository and commit and which base images
 * (`buildDefinition.resolvedDependencies`), with which parameters (`externalParameters`), written as an
 * in-toto Statement v1 about the image (`cosign attest --type slsaprovenance1` attaches the same shape).
 *
 * Build arguments are recorded by NAME only, never by value: a value may be a token passed the wrong way
 * (`--build-arg NPM_TOKEN=…`), and a provenance document is published next to the image.
 */

/**
 * Gantry's build type: what `externalParameters` and `internalParameters` mean is documented in
 * docs/supply-chain.md under this URI.
 */
export const GANTRY_BUILD_TYPE = 'urn:gantry:buildtype:container-image:v1';

export interface ResourceDescriptor {
  uri?: string;
  name?: string;
  digest?: Record<string, string>;
  annotations?: Record<string, unknown>;
}

export interface ProvenancePredicate {
  buildDefinition: {
    buildType: string;
    externalParameters: {
      /** The context directory, relative to the repository root. */
      context: string;
      /** The Dockerfile, relative to the repository root. */
      dockerfile: string;
      target?: string;
      platforms: string[];
      /** Names of the build arguments given; never their values. */
      buildArgs: string[];
      /** Names of the build secrets mounted; never their values. */
      secrets: string[];
      tags: string[];
    };
    internalParameters: { builder: 'buildah' | 'buildx'; gantryVersion: string; buildxDriver?: string };
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string; version?: Record<string, string> };
    metadata: { invocationId: string; startedOn: string; finishedOn: string };
  };
}

/** What a build knows when it ends, for its provenance. */
export interface ProvenanceInput {
  context: BuildContext;
  env: EnvMap;
  /** Absolute paths. */
  contextDir: string;
  dockerfile: string;
  /** The repository root (the git top level), to which paths are made relative; default the context dir. */
  repositoryRoot?: string;
  target?: string;
  platforms: string[];
  buildArgs: Record<string, string>;
  secretIds: string[];
  refs: string[];
  builder: 'buildah' | 'buildx';
  buildxDriver?: string;
  /** The base images (FROM) as resolved: their references and digests. */
  baseImages: ResourceDescriptor[];
  startedOn: Date;
  finishedOn: Date;
}

/** The SLSA v1 predicate of a build (pure). */
export function provenancePredicate(input: ProvenanceInput): ProvenancePredicate {
  const root = input.repositoryRoot ?? input.contextDir;
  const rel = (path: string) => relative(root, path) || '.';
  const source = sourceDependency(input.context);
  return {
    buildDefinition: {
      buildType: GANTRY_BUILD_TYPE,
      externalParameters: {
        context: rel(input.contextDir),
        dockerfile: rel(input.dockerfile),
        ...(input.target ? { target: input.target } : {}),
        platforms: input.platforms,
        buildArgs: Object.keys(input.buildArgs).sort(),
        secrets: [...input.secretIds].sort(),
        tags: input.refs,
      },
      internalParameters: {
        builder: input.builder,
        gantryVersion: VERSION,
        ...(input.buildxDriver ? { buildxDriver: input.buildxDriver } : {}),
      },
      resolvedDependencies: [...(source ? [source] : []), ...input.baseImages],
    },
    runDetails: {
      builder: { id: builderId(input.context, input.env), version: { gantry: VERSION } },
      metadata: {
        invocationId: invocationId(input.context),
        startedOn: input.startedOn.toISOString(),
        finishedOn: input.finishedOn.toISOString(),
      },
    },
  };
}

/** The provenance as an in-toto statement about `repository@sha256:…`. */
export function provenanceStatement(
  image: string,
  predicate: ProvenancePredicate,
): Statement<ProvenancePredicate> {
  return statementFor(image, PREDICATE_TYPES.slsaprovenance1, predicate);
}

/**
 * The source as a resolved dependency: `git+<repository URL>@<ref>` with `{gitCommit: sha}` (SLSA's
 * convention for git sources). None without a commit (a build outside any repository).
 */
export function sourceDependency(context: BuildContext): ResourceDescriptor | undefined {
  if (!context.sha) return undefined;
  const url = context.repositoryUrl ?? context.repository;
  const base = /^[a-z][a-z0-9+.-]*:\/\//.test(url) ? url : `file:${url}`;
  return {
    uri: `git+${base}${context.ref ? `@${context.ref}` : ''}`,
    digest: { gitCommit: context.sha },
    ...(context.dirty ? { annotations: { dirty: true } } : {}),
  };
}

/**
 * Who built it: the GitHub workflow file at its ref (`https://github.com/o/r/.github/workflows/ci.yml@refs/heads/main`,
 * from GITHUB_WORKFLOW_REF), the GitLab job's URL, the Jenkins build's URL, or `urn:gantry:builder:local`.
 */
export function builderId(context: BuildContext, env: EnvMap): string {
  switch (context.platform) {
    case 'github': {
      const server = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '');
      const workflowRef = env.GITHUB_WORKFLOW_REF;
      return workflowRef ? `${server}/${workflowRef}` : (context.runUrl ?? `${server}/${context.repository}`);
    }
    case 'gitlab':
    case 'jenkins':
      return context.runUrl ?? `urn:gantry:builder:${context.platform}:${context.runId}`;
    case 'local':
      return 'urn:gantry:builder:local';
  }
}

/** This run on its platform: its URL (a GitHub run with its attempt, a GitLab job, a Jenkins build), else its id. */
export function invocationId(context: BuildContext): string {
  return context.runUrl ?? context.runId;
}

// --- base images ---------------------------------------------------------------------------------------

/**
 * The external images a Dockerfile's FROM lines name, in order: `scratch` and earlier stages are left out,
 * `${ARG}`s are replaced by the global ARGs' defaults or the build args given.
 */
export function baseImagesOf(text: string, buildArgs: Record<string, string> = {}): string[] {
  const args: Record<string, string> = {};
  const stages = new Set<string>();
  const images: string[] = [];
  let sawFrom = false;
  for (const line of logicalLines(text)) {
    const words = line.split(/\s+/);
    const keyword = words[0]?.toUpperCase();
    if (keyword === 'ARG' && !sawFrom) {
      for (const word of words.slice(1)) {
        const eq = word.indexOf('=');
        const name = eq < 0 ? word : word.slice(0, eq);
        const value = buildArgs[name] ?? (eq < 0 ? undefined : unquote(word.slice(eq + 1)));
        if (value !== undefined) args[name] = value;
      }
    }
    if (keyword !== 'FROM') continue;
    sawFrom = true;
    const rest = words.slice(1).filter((word) => !word.startsWith('--'));
    const image = substitute(rest[0] ?? '', args);
    const as = rest.findIndex((word, i) => i > 0 && word.toUpperCase() === 'AS');
    if (image && image !== 'scratch' && !stages.has(image.toLowerCase()) && !images.includes(image)) {
      images.push(image);
    }
    if (as > 0 && rest[as + 1]) stages.add(rest[as + 1]!.toLowerCase());
  }
  return images;
}

function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#') && current === '') continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push((current + line).trim());
    current = '';
  }
  if (current) lines.push(current.trim());
  return lines.filter(Boolean);
}

const unquote = (value: string) => value.replace(/^(["'])(.*)\1$/, '$2');

function substitute(word: string, args: Record<string, string>): string {
  return word.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_, a, dflt, b) => {
      const name = (a ?? b) as string;
      return args[name] ?? (dflt as string | undefined) ?? '';
    },
  );
}

/**
 * Fully qualifies an image reference as registries see it: `alpine:3.20` → `docker.io/library/alpine:3.20`;
 * a reference without tag or digest gets `:latest`.
 */
export function qualify(ref: string): string {
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  const hasHost = first.includes('.') || first.includes(':') || first === 'localhost';
  let qualified = hasHost ? ref : `docker.io/${slash < 0 ? `library/${ref}` : ref}`;
  const name = qualified.replace(/@sha256:[a-f0-9]+$/, '');
  if (!/:[^:/]+$/.test(name) && !qualified.includes('@')) qualified = `${qualified}:latest`;
  return qualified;
}

/**
 * The base images as resolved dependencies: each with the digest its registry serves now (a reference already
 * pinned `@sha256:` keeps its own). An image that cannot be resolved (no network, a local-only image) is
 * recorded by name without a digest, and a warning says so.
 */
export async function resolveBaseImages(
  dockerfile: string,
  buildArgs: Record<string, string>,
  insecureRegistries: string[],
): Promise<ResourceDescriptor[]> {
  const images = baseImagesOf(readFileSync(dockerfile, 'utf8'), buildArgs);
  if (images.length === 0) return [];
  const auth = await prepareAuthFile();
  try {
    const resolved: ResourceDescriptor[] = [];
    for (const image of images) {
      const ref = qualify(image);
      const uri = `docker://${ref}`;
      const pinned = /@sha256:([a-f0-9]{64})$/.exec(ref)?.[1];
      if (pinned) {
        resolved.push({ uri, name: image, digest: { sha256: pinned } });
        continue;
      }
      const digest = await resolveDigest(ref, auth.path, insecureRegistries, {
        retries: 0,
        delayMs: 0,
      }).catch((error: Error) => {
        log.warn(`provenance: base image ${image} not resolved to a digest (${error.message})`);
        return undefined;
      });
      const sha256 = digest?.startsWith('sha256:') ? digest.slice('sha256:'.length) : undefined;
      resolved.push({ uri, name: image, ...(sha256 ? { digest: { sha256 } } : {}) });
    }
    return resolved;
  } finally {
    await auth.dispose();
  }
}

// --- where it is written ---------------------------------------------------------------------------------

/**
 * The default file of a build's provenance: next to the images Gantry keeps (its image store,
 * `GANTRY_IMAGE_STORE`), named after the image's first reference.
 */
export function defaultProvenancePath(ref: string, env: NodeJS.ProcessEnv = process.env): string {
  const hash = createHash('sha256').update(ref).digest('hex').slice(0, 16);
  const slug = ref.replace(/[^A-Za-z0-9._-]+/g, '_').slice(-80);
  return join(imageStoreRoot(env), 'provenance', `${slug}-${hash}.intoto.json`);
}

/**
 * Checks before the build that the provenance can be written to `path` (creating its folder), so a bad path
 * is bad input found before anything runs. @throws InputError naming `input`
 */
export async function prepareStatementPath(path: string, input = '--provenance-output'): Promise<void> {
  try {
    if ((await stat(path).catch(() => undefined))?.isDirectory()) throw new Error('it is a directory');
    await mkdir(dirname(path), { recursive: true });
    await access(dirname(path), constants.W_OK);
  } catch (error) {
    throw new InputError(input, `cannot write the provenance to "${path}": ${(error as Error).message}`);
  }
}

/** Writes a statement as JSON, creating the folder. @throws InputError naming `input` when it cannot. */
export async function writeStatement(
  path: string,
  statement: unknown,
  input = '--provenance-output',
): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${JSON.stringify(statement, null, 2)}\n`);
  } catch (error) {
    throw new InputError(input, `cannot write the provenance to "${path}": ${(error as Error).message}`);
  }
}

/**
 * A build's statement. Its subject is the image's manifest (or index) digest when the build knows it (pushed,
 * or exported as an OCI layout); otherwise the local image id (the config digest buildah and the Docker daemon
 * report; the build result says which, `provenanceSubject`): re-issue it with {@link resubject} once the image
 * is pushed, since signatures and attestations hang on the manifest digest.
 */
export function buildStatement(
  repository: string,
  digest: { manifest?: string; imageId?: string },
  predicate: ProvenancePredicate,
): Statement<ProvenancePredicate> | undefined {
  if (digest.manifest) return provenanceStatement(`${repository}@${digest.manifest}`, predicate);
  if (!digest.imageId?.startsWith('sha256:')) return undefined;
  return provenanceStatement(`${repository}@${digest.imageId}`, predicate);
}

/** The same statement about another image (`repository@sha256:…`), e.g. the pushed manifest. */
export function resubject<P>(statement: Statement<P>, image: string): Statement<P> {
  return statementFor(image, statement.predicateType, statement.predicate);
}
