import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { prepareAuthFile, registryCredentials } from '../registry/auth.js';
import { hostOf, isInsecure } from '../registry/hosts.js';
import { remotePlatforms } from '../registry/manifest.js';
import { imageNotFoundAsInput } from '../registry/not-found.js';
import { resolveDigest } from '../registry/push.js';
import { choosePlatforms } from '../scan/image.js';
import { getTrivyEnv } from '../scan/trivy.js';
import type { ScanTarget } from '../scan/types.js';
import { exportForScan, exportPlatform, locateLocalImage } from '../store/index.js';
import { describeLayout } from '../store/oci-layout.js';
import { InfraError, InputError } from '../util/errors.js';
import { run } from '../util/exec.js';
import { log } from '../util/log.js';
import { PREDICATE_TYPES, type Statement, statementFor } from './statement.js';

/**
 * SBOMs of built images, written by trivy (`trivy image --format cyclonedx|spdx-json`) from wherever the image
 * waits: the same local stores `gantry scan` reads (buildah's storage, the Docker daemon, Gantry's OCI layout
 * store), else the registry. The document is kept as a report artifact (a file) and returned as an in-toto
 * statement whose predicate is the document itself, as `cosign attest --type cyclonedx|spdxjson` attaches it.
 */

export const SBOM_FORMATS = ['cyclonedx', 'spdx-json'] as const;
export type SbomFormat = (typeof SBOM_FORMATS)[number];

/** The predicate type of each format: the URIs cosign's `--type cyclonedx` and `--type spdxjson` stand for. */
export const SBOM_PREDICATE_TYPES: Record<SbomFormat, string> = {
  cyclonedx: PREDICATE_TYPES.cyclonedx,
  'spdx-json': PREDICATE_TYPES.spdxjson,
};

/** The file an SBOM goes to when no `--output` is given. */
export const DEFAULT_SBOM_FILES: Record<SbomFormat, string> = {
  cyclonedx: 'sbom.cdx.json',
  'spdx-json': 'sbom.spdx.json',
};

export interface SbomRequest {
  /** The image, a local name or a registry reference (as `gantry scan --image` takes it). */
  ref: string;
  format: SbomFormat;
  /** Where the document is written (its folder is created). */
  output: string;
  insecureRegistries: string[];
  /** A multi-platform image: the platform to describe (default its first); of several, the first. */
  platforms?: string[];
  /** The trivy executable. Default `trivy`. */
  binary?: string;
}

export interface SbomResult {
  image: string;
  format: SbomFormat;
  /** The file the document was written to. */
  file: string;
  /** Packages the document lists (CycloneDX components, nested ones included; SPDX packages but the image's own). */
  components: number;
  /**
   * The image's manifest (or index) digest, when it is known without pushing: a registry image, or a local one
   * exported as an OCI layout (buildah's storage, Gantry's store). A Docker daemon image has none until pushed.
   */
  digest?: string;
  /** The platform described, for a multi-platform image. */
  platform?: string;
  predicateType: string;
  /** The document as an in-toto statement about `repository@digest`; only when the digest is known. */
  statement?: Statement<Record<string, unknown>>;
}

/**
 * Writes the SBOM of an image with trivy and returns what it holds.
 * @throws InputError naming `--platform` (one the image lacks), `--output` (cannot be
 *   written) or `--image` (no such image in the registry)
 * @throws InfraError when trivy cannot run or prints something that is not the requested document
 */
export async function generateSbom(request: SbomRequest): Promise<SbomResult> {
  if ((request.platforms ?? []).length > 1) {
    // gantry.yml's build.platforms lists every platform built: the SBOM describes the first of them.
    log.info(
      `an SBOM describes one platform: ${request.platforms![0]} (of ${request.platforms!.join(', ')})`,
    );
  }
  await checkWritable(request.output);
  const work = await mkdtemp(join(tmpdir(), 'gantry-sbom-'));
  try {
    const { target, digest, platform } = await locate(request, work);
    const args = trivySbomArgs(target, request.format);
    log.info(`trivy ${request.format} SBOM of ${request.ref}${platform ? ` (${platform})` : ''}`);
    const { stdout } = await run(request.binary ?? 'trivy', args, {
      timeoutMs: 10 * 60_000,
      env: getTrivyEnv(target),
    }).catch((error) => {
      throw target.archive ? error : imageNotFoundAsInput(error, request.ref, '--image');
    });
    const document = parseSbomDocument(stdout, request.format);
    nameImage(document, request.format, request.ref);
    await writeFile(request.output, `${JSON.stringify(document, null, 2)}\n`);
    const predicateType = SBOM_PREDICATE_TYPES[request.format];
    return {
      image: request.ref,
      format: request.format,
      file: request.output,
      components: countComponents(document, request.format),
      ...(digest ? { digest } : {}),
      ...(platform ? { platform } : {}),
      predicateType,
      ...(digest
        ? { statement: statementFor(`${repositoryOf(request.ref)}@${digest}`, predicateType, document) }
        : {}),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Where trivy reads the image from, its digest when known, and the platform chosen. */
async function locate(
  request: SbomRequest,
  work: string,
): Promise<{ target: ScanTarget; digest?: string; platform?: string }> {
  const { ref, insecureRegistries } = request;
  const wanted = (request.platforms ?? []).slice(0, 1);
  const local = await locateLocalImage(ref);
  if (local) {
    log.info(`exporting local image ${ref} (${local.store}) for its SBOM`);
    const input = await exportForScan(local, work);
    // A docker-archive (the Docker daemon) carries no manifest digest; an OCI layout names its image's.
    const digest = input.path.endsWith('.tar') ? undefined : (await describeLayout(input.path)).digest;
    const chosen = choosePlatforms(
      ref,
      input.platforms.map((entry) => entry.platform),
      wanted,
    );
    if (!chosen?.length) return { target: { ref, archive: input.path }, digest };
    // trivy reads only the first platform of an index given with --input: hand it the one platform.
    const platform = chosen[0]!;
    const archive = await exportPlatform(input.path, platform, join(work, 'platform'));
    return { target: { ref, archive }, digest, platform };
  }
  const host = hostOf(ref);
  const insecure = isInsecure(host, insecureRegistries);
  const chosen = choosePlatforms(ref, await remotePlatforms(ref, insecureRegistries), wanted);
  const platform = chosen?.[0];
  const digest = await registryDigest(ref, insecureRegistries);
  return {
    target: {
      ref,
      insecure,
      credentials: await registryCredentials(host),
      ...(platform ? { platform } : {}),
    },
    digest,
    platform,
  };
}

async function registryDigest(ref: string, insecureRegistries: string[]): Promise<string> {
  const pinned = /@(sha256:[a-f0-9]{64})$/.exec(ref)?.[1];
  if (pinned) return pinned;
  const auth = await prepareAuthFile();
  try {
    return await resolveDigest(ref, auth.path, insecureRegistries, { retries: 2, delayMs: 1000 });
  } finally {
    await auth.dispose();
  }
}

/**
 * The `trivy image` arguments for an SBOM, e.g. `image --format cyclonedx --quiet --input /tmp/oci`, or for a
 * registry image `image --format spdx-json --quiet --image-src remote --insecure registry:5000/app:1`.
 */
export function trivySbomArgs(target: ScanTarget, format: SbomFormat): string[] {
  const args = ['image', '--format', format, '--quiet'];
  if (target.platform) args.push('--platform', target.platform);
  if (target.archive) return [...args, '--input', target.archive];
  return [...args, '--image-src', 'remote', ...(target.insecure ? ['--insecure'] : []), target.ref];
}

/**
 * Parses trivy's document and checks it is the format asked for.
 * @throws InfraError when it is not JSON or not a CycloneDX BOM / SPDX document
 */
export function parseSbomDocument(text: string, format: SbomFormat): Record<string, unknown> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new InfraError(`trivy printed an SBOM that is not JSON: ${(error as Error).message}`);
  }
  const record = (document ?? {}) as Record<string, unknown>;
  const ok =
    typeof document === 'object' &&
    document !== null &&
    (format === 'cyclonedx'
      ? record.bomFormat === 'CycloneDX'
      : typeof record.spdxVersion === 'string' && record.spdxVersion.startsWith('SPDX-'));
  if (!ok) {
    throw new InfraError(
      `trivy printed no ${format === 'cyclonedx' ? 'CycloneDX BOM (bomFormat "CycloneDX")' : 'SPDX document (spdxVersion "SPDX-…")'}`,
    );
  }
  return record;
}

/**
 * trivy names a local image by the temporary path it read it from; the document names the image as the user
 * did instead (trivy already does for a registry image).
 */
function nameImage(document: Record<string, unknown>, format: SbomFormat, ref: string): void {
  if (format === 'cyclonedx') {
    const component = (document.metadata as { component?: { name?: string } } | undefined)?.component;
    if (component && component.name !== ref) component.name = ref;
  }
}

/** How many packages a document lists (not counting the image itself). */
export function countComponents(document: Record<string, unknown>, format: SbomFormat): number {
  if (format === 'cyclonedx') {
    const count = (components: unknown): number =>
      Array.isArray(components)
        ? components.reduce((sum: number, c: { components?: unknown }) => sum + 1 + count(c?.components), 0)
        : 0;
    return count(document.components);
  }
  const packages = Array.isArray(document.packages) ? (document.packages as { SPDXID?: string }[]) : [];
  const relationships = Array.isArray(document.relationships)
    ? (document.relationships as {
        spdxElementId?: string;
        relationshipType?: string;
        relatedSpdxElement?: string;
      }[])
    : [];
  const described = new Set([
    ...(Array.isArray(document.documentDescribes) ? (document.documentDescribes as string[]) : []),
    ...relationships
      .filter((r) => r.spdxElementId === 'SPDXRef-DOCUMENT' && r.relationshipType === 'DESCRIBES')
      .map((r) => r.relatedSpdxElement ?? ''),
  ]);
  return packages.filter((p) => !described.has(p.SPDXID ?? '')).length;
}

/** `registry:5000/team/app:1.2@sha256:…` → `registry:5000/team/app`. */
export function repositoryOf(ref: string): string {
  return ref.replace(/@sha256:[a-f0-9]+$/, '').replace(/:([^:/]+)$/, '');
}

async function checkWritable(path: string): Promise<void> {
  try {
    if ((await stat(path).catch(() => undefined))?.isDirectory()) throw new Error('it is a directory');
    await mkdir(dirname(path), { recursive: true });
    await access(dirname(path), constants.W_OK);
  } catch (error) {
    throw new InputError('--output', `cannot write the SBOM to "${path}": ${(error as Error).message}`);
  }
}
