import { InputError } from '../util/errors.js';

/**
 * An image reference split into its parts, following the OCI distribution grammar
 * (`[registry[:port]/]path[:tag][@digest]`). Nothing is normalized: no `docker.io`, no `library/`, no `latest`.
 */
export interface ImageReference {
  /** `registry.example.com:5000`, `localhost:5000`, `[::1]:5000`; undefined when the reference names none. */
  registry?: string;
  /** The repository path inside the registry: `acme/shop`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>`. */
  digest?: string;
}

export const MAX_TAG_LENGTH = 128;
const MAX_NAME_LENGTH = 255;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const REGISTRY = new RegExp(`^(?:${HOST_LABEL}(?:\\.${HOST_LABEL})*|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?$`);
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[A-Za-z0-9=_-]+$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };
/** Every character the grammar can use anywhere in a reference. */
const REFERENCE_CHARACTERS = /^[A-Za-z0-9._\-/:@[\]+=]*$/;

/**
 * Parses and validates an image reference such as `registry.example.com:5000/acme/shop:1.2.3@sha256:…`.
 *
 * Stricter than Docker in one way on purpose: a first path component is a registry only when it looks like a
 * host (contains `.` or `:`, is `localhost`, or is an IPv6 literal), so `Acme/shop` is reported as an
 * upper-case repository path instead of being taken for a registry host named `Acme`.
 *
 * @param inputName the flag or config key the reference came from, named in the error.
 * @throws InputError `invalid image reference "X": <why>` for anything the registry would reject.
 */
export function parseImageReference(reference: string, inputName: string): ImageReference {
  const fail = (why: string): never => {
    throw new InputError(inputName, `invalid image reference ${JSON.stringify(reference)}: ${why}`);
  };
  if (reference === '') fail('it is empty');
  if (/[\s\p{Cc}]/u.test(reference)) fail('it contains whitespace or a control character');
  if (!REFERENCE_CHARACTERS.test(reference)) {
    const bad = [...reference].find((c) => !REFERENCE_CHARACTERS.test(c));
    fail(`character ${JSON.stringify(bad)} is not allowed`);
  }

  const [nameAndTag = '', digest, ...extra] = reference.split('@');
  if (extra.length > 0) fail('it has more than one "@"');
  if (digest !== undefined) {
    const why = digestProblem(digest);
    if (why) fail(why);
  }

  let name = nameAndTag;
  let tag: string | undefined;
  const lastColon = nameAndTag.lastIndexOf(':');
  if (lastColon > nameAndTag.lastIndexOf('/') && !nameAndTag.endsWith(']')) {
    name = nameAndTag.slice(0, lastColon);
    tag = nameAndTag.slice(lastColon + 1);
    const why = tagProblem(tag);
    if (why) fail(why);
  }
  if (name.length > MAX_NAME_LENGTH)
    fail(`the name is ${name.length} characters; at most ${MAX_NAME_LENGTH} are allowed`);

  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first.startsWith('['));
  const registry = hasRegistry ? first : undefined;
  const repository = hasRegistry ? name.slice(slash + 1) : name;
  if (registry !== undefined && !REGISTRY.test(registry))
    fail(`registry ${JSON.stringify(registry)} is not a host[:port]`);
  const why = repositoryProblem(repository);
  if (why) fail(why);

  const parsed: ImageReference = { repository };
  if (registry !== undefined) parsed.registry = registry;
  if (tag !== undefined) parsed.tag = tag;
  if (digest !== undefined) parsed.digest = digest;
  return parsed;
}

/**
 * Validates one tag (OCI distribution: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`).
 * @throws InputError `invalid tag "X": <why>`.
 */
export function validateTag(tag: string, inputName: string): string {
  const why = tagProblem(tag);
  if (why) throw new InputError(inputName, `invalid tag ${JSON.stringify(tag)}: ${why}`);
  return tag;
}

/** True when `tag` is a valid OCI tag. */
export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** `registry/repository`, or just the repository: the reference without tag and digest. */
export function imageName(reference: ImageReference): string {
  return reference.registry ? `${reference.registry}/${reference.repository}` : reference.repository;
}

/** Formats a parsed reference back into its string form. */
export function formatImageReference(reference: ImageReference): string {
  const tag = reference.tag !== undefined ? `:${reference.tag}` : '';
  const digest = reference.digest !== undefined ? `@${reference.digest}` : '';
  return `${imageName(reference)}${tag}${digest}`;
}

function tagProblem(tag: string): string | undefined {
  if (tag === '') return 'the tag after ":" is empty';
  if (tag.length > MAX_TAG_LENGTH)
    return `the tag is ${tag.length} characters; at most ${MAX_TAG_LENGTH} are allowed`;
  if (/^[.-]/.test(tag))
    return `the tag ${JSON.stringify(tag)} starts with "${tag[0]}"; it must start with a letter, digit or "_"`;
  if (!TAG.test(tag))
    return `the tag ${JSON.stringify(tag)} may only contain letters, digits, "_", "." and "-"`;
  return undefined;
}

function repositoryProblem(repository: string): string | undefined {
  if (repository === '') return 'the repository path is empty';
  if (/[A-Z]/.test(repository)) return `the repository path ${JSON.stringify(repository)} must be lowercase`;
  for (const component of repository.split('/')) {
    if (component === '') return `the repository path ${JSON.stringify(repository)} has an empty component`;
    if (!PATH_COMPONENT.test(component)) {
      return `path component ${JSON.stringify(component)} must be lowercase letters and digits separated by ".", "_", "__" or "-"`;
    }
  }
  return undefined;
}

function digestProblem(digest: string): string | undefined {
  if (!DIGEST.test(digest)) return `digest ${JSON.stringify(digest)} is not <algorithm>:<hex>`;
  const [algorithm = '', hex = ''] = digest.split(':');
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length !== undefined && !new RegExp(`^[0-9a-f]{${length}}$`).test(hex)) {
    return `a ${algorithm} digest needs ${length} lowercase hex characters, found ${hex.length} in ${JSON.stringify(hex)}`;
  }
  return undefined;
}
