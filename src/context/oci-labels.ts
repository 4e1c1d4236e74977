import { InputError } from '../util/errors.js';
import { repositoryName } from './git-url.js';
import type { BuildContext } from './types.js';

export const OCI_LABEL_PREFIX = 'org.opencontainers.image.';

export interface LabelOptions {
  /** The image version: the `version` that `computeTags` returned (the first tag). */
  version?: string;
  /** An explicit creation time; see {@link createdTimestamp} for the default. */
  created?: Date | string;
  /** Default: the repository's name (`acme/shop` → `shop`). */
  title?: string;
  description?: string;
  /** An SPDX expression, e.g. `Apache-2.0`. */
  licenses?: string;
  /** More labels, or overrides of the generated ones (an empty value removes a label). */
  extra?: Readonly<Record<string, string>>;
  /** The time used when nothing better is known. Default: now. */
  now?: Date;
}

/**
 * The OCI image labels (also usable as manifest annotations) for a build, filled as docker/metadata-action fills
 * them: `title` (repository name), `url` and `source` (repository web URL), `version` (the first tag),
 * `created`, `revision` (full commit SHA), and `description`/`licenses` when given. They come from the build
 * context and Gantry's inputs only — never from platform-specific APIs — so one commit gets the same labels on
 * every platform. Unlike metadata-action, labels without a value are left out instead of set to `""`.
 * `org.opencontainers.image.ref.name` is not set: the OCI spec reserves it for image layouts' index entries.
 *
 * Keys come out sorted, so the label set of a build is stable.
 */
export function ociLabels(context: BuildContext, options: LabelOptions = {}): Record<string, string> {
  const generated: Record<string, string | undefined> = {
    title: options.title ?? repositoryName(context.repository),
    description: options.description,
    url: context.repositoryUrl,
    source: context.repositoryUrl,
    version: options.version,
    created: createdTimestamp(context, options.created, options.now),
    revision: context.sha,
    licenses: options.licenses,
  };
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(generated)) {
    if (value) labels[`${OCI_LABEL_PREFIX}${key}`] = value;
  }
  for (const [key, value] of Object.entries(options.extra ?? {})) {
    if (value === '') delete labels[key];
    else labels[key] = value;
  }
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The `created` timestamp, ISO 8601 in UTC. In order: an explicit value; `SOURCE_DATE_EPOCH`; the commit's
 * timestamp (so a rebuild of the same commit is reproducible); the current time.
 */
export function createdTimestamp(
  context: BuildContext,
  explicit?: Date | string,
  now: Date = new Date(),
): string {
  if (explicit !== undefined) {
    const date = new Date(explicit);
    if (Number.isNaN(date.getTime())) {
      throw new InputError(
        '--created',
        `expected an ISO 8601 timestamp, found ${JSON.stringify(String(explicit))}`,
      );
    }
    return date.toISOString();
  }
  if (context.sourceDateEpoch !== undefined) return new Date(context.sourceDateEpoch * 1000).toISOString();
  return context.commitTimestamp ?? now.toISOString();
}

/**
 * Parses `key=value` label entries (`--label`); the value may contain `=`.
 * @throws InputError naming `inputName` for an entry without `=` or with an empty or spaced key.
 */
export function parseLabelEntries(entries: readonly string[], inputName = '--label'): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    const key = equals > 0 ? entry.slice(0, equals).trim() : '';
    if (key === '' || /\s/.test(key)) {
      throw new InputError(
        inputName,
        `expected key=value with a non-empty key, found ${JSON.stringify(entry)}`,
      );
    }
    labels[key] = entry.slice(equals + 1);
  }
  return labels;
}
