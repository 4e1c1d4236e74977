import type { Finding, ReportContext, ScannerName } from '../types.js';

/** Display name, home page and vendor of each scanner, for the reports' tool sections. */
export const SCANNER_INFO: Record<ScannerName, { title: string; url: string; vendor: string }> = {
  trivy: { title: 'Trivy', url: 'https://github.com/aquasecurity/trivy', vendor: 'Aqua Security' },
  grype: { title: 'Grype', url: 'https://github.com/anchore/grype', vendor: 'Anchore' },
};

/**
 * The file a finding points at: its file in the image (package manifest, file with the secret), or, for
 * findings about the image's configuration or without a known file, the project's Dockerfile.
 */
export function findingPath(finding: Finding, context: ReportContext): string {
  return finding.location?.path ?? context.dockerfile;
}

/** `lodash@4.17.20`, or the file for findings without a package. */
export function findingSubject(finding: Finding): string {
  if (finding.package) return `${finding.package.name}@${finding.package.version}`;
  return finding.location?.path ?? finding.target ?? 'image';
}

/** One line saying what was found and how to fix it, for messages and test-case failures. */
export function findingSummary(finding: Finding): string {
  const fix = finding.package
    ? finding.package.fixedVersion
      ? ` Fixed in ${finding.package.fixedVersion}.`
      : ' No fixed version yet.'
    : '';
  const line = finding.location?.startLine ? ` line ${finding.location.startLine}` : '';
  return `${finding.severity.toUpperCase()} ${finding.id} in ${findingSubject(finding)}${line}: ${finding.title}.${fix}`;
}

/** The image reference without tag or digest (`registry:5000/team/app`): stable across builds. */
export function imageRepository(ref: string): string {
  const withoutDigest = ref.split('@')[0] ?? ref;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
}

/** Web references only (some advisories list git URLs or bare text). */
export function webLinks(urls: readonly (string | undefined)[]): string[] {
  return [...new Set(urls.filter((url): url is string => !!url && /^https?:\/\/\S+$/.test(url)))];
}
