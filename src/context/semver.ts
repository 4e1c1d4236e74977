/** A version parsed by the Semantic Versioning 2.0.0 grammar, with what tag patterns can refer to. */
export interface SemanticVersion {
  /** The text as written, prefix and build metadata included: `v1.2.3-rc.1+build.5`. */
  raw: string;
  /** `major.minor.patch[-prerelease]`, without `v` and without build metadata: `1.2.3-rc.1`. */
  version: string;
  major: number;
  minor: number;
  patch: number;
  /** The pre-release identifiers joined by `.`, empty for a release. */
  prerelease: string;
  /** The build metadata identifiers joined by `.`, empty when absent. */
  build: string;
}

const NUMBER = '0|[1-9]\\d*';
const PRERELEASE_ID = `(?:${NUMBER}|\\d*[A-Za-z-][0-9A-Za-z-]*)`;
const BUILD_ID = '[0-9A-Za-z-]+';
const SEMVER = new RegExp(
  `^v?(${NUMBER})\\.(${NUMBER})\\.(${NUMBER})` +
    `(?:-(${PRERELEASE_ID}(?:\\.${PRERELEASE_ID})*))?` +
    `(?:\\+(${BUILD_ID}(?:\\.${BUILD_ID})*))?$`,
);

/**
 * Parses `1.2.3`, `v1.2.3`, `v2.0.0-rc.1`, `1.0.0+build.7` strictly (no leading zeros, three numbers), the
 * way docker/metadata-action's `type=semver` accepts a Git tag. Returns undefined for anything else.
 */
export function parseSemanticVersion(text: string): SemanticVersion | undefined {
  const trimmed = text.trim();
  if (trimmed.length > 256) return undefined;
  const match = SEMVER.exec(trimmed);
  if (!match) return undefined;
  const [major, minor, patch] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
  if (![major, minor, patch].every(Number.isSafeInteger)) return undefined;
  const prerelease = match[4] ?? '';
  return {
    raw: trimmed,
    version: `${major}.${minor}.${patch}${prerelease ? `-${prerelease}` : ''}`,
    major,
    minor,
    patch,
    prerelease,
    build: match[5] ?? '',
  };
}
