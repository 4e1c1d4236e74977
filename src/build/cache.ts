import { parseImageReference } from '../context/reference.js';
import { InputError } from '../util/errors.js';

/**
 * A layer cache location, written either as Gantry's plain registry repository (`registry/team/app-cache`) or
 * in buildx's and docker/build-push-action's syntax (`type=registry,ref=registry/team/app-cache,mode=max`).
 */
export interface CacheSpec {
  type: 'registry' | 'local';
  /** The repository (registry) or directory (local: `src=` for reading, `dest=` for writing). */
  ref: string;
  /** buildx's other attributes (`mode=max`, `compression=zstd`, …), passed through as written. */
  attributes: Record<string, string>;
}

/**
 * Parses one `--cache-from`/`--cache-to`/`--cache-ref` value.
 * @throws InputError naming `input` for a malformed value or a cache type Gantry cannot use.
 */
export function parseCacheSpec(value: string, input: string): CacheSpec {
  const text = value.trim();
  if (!text.includes('=')) {
    parseImageReference(text, input);
    return { type: 'registry', ref: text, attributes: {} };
  }
  const attributes: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new InputError(input, `expected key=value pairs (type=registry,ref=…), got "${part}"`);
    attributes[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const { type = 'registry', ref, src, dest, ...rest } = attributes;
  switch (type) {
    case 'registry':
      if (!ref) throw new InputError(input, `type=registry needs ref=<repository>, got "${text}"`);
      parseImageReference(ref, input);
      return { type, ref, attributes: rest };
    case 'local': {
      const path = src ?? dest;
      if (!path) throw new InputError(input, `type=local needs src=<dir> or dest=<dir>, got "${text}"`);
      return { type, ref: path, attributes: rest };
    }
    case 'gha':
      throw new InputError(
        input,
        'type=gha is not supported: it needs the GitHub Actions cache service, which Gantry does not use; use type=registry,ref=<repository> (works on every CI system)',
      );
    default:
      throw new InputError(
        input,
        `cache type "${type}" is not supported; use type=registry,ref=<repository>`,
      );
  }
}

/** The buildx form of a cache spec, for reading (`--cache-from`) or writing (`--cache-to`). */
export function buildxCacheArg(spec: CacheSpec, direction: 'from' | 'to'): string {
  const location =
    spec.type === 'registry'
      ? `ref=${spec.ref}`
      : direction === 'from'
        ? `src=${spec.ref}`
        : `dest=${spec.ref}`;
  const attributes = { ...spec.attributes };
  // Gantry's plain form writes every layer, as docker/build-push-action users expect of a cache repository.
  if (direction === 'to' && !attributes.mode) attributes.mode = 'max';
  if (direction === 'from') delete attributes.mode;
  const extra = Object.entries(attributes).map(([key, val]) => `${key}=${val}`);
  return [`type=${spec.type}`, location, ...extra].join(',');
}
