import { z } from 'zod';
import { hostOf } from '../registry/hosts.js';
import { imageNotFoundAsInput } from '../registry/not-found.js';
import { InfraError } from '../util/errors.js';
import { run } from '../util/exec.js';
import { detectArchiveFormat } from './archive.js';
import { compact, imagePath } from './finding.js';
import { normalizeSeverity } from './severity.js';
import type { Finding, ScanKind, Scanner, ScanTarget } from './types.js';

export interface GrypeScannerOptions {
  /** The grype executable. Default `grype` (on PATH). */
  binary?: string;
  /** Milliseconds before a scan is killed. Default 10 minutes. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/**
 * Runs `grype` and normalises its JSON report. Grype finds vulnerabilities only. Its settings come from
 * the environment (`GRYPE_DB_CACHE_DIR`, `GRYPE_DB_AUTO_UPDATE=false`, `GRYPE_DB_VALIDATE_AGE=false` to
 * run offline, …); an insecure registry is allowed through `GRYPE_REGISTRY_INSECURE_*`.
 */
export class GrypeScanner implements Scanner {
  readonly name = 'grype';
  readonly kinds: readonly ScanKind[] = ['vuln'];
  private readonly binary: string;
  private readonly timeoutMs: number;

  constructor(options: GrypeScannerOptions = {}) {
    this.binary = options.binary ?? 'grype';
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Grype's version (`0.104.0`), from `grype version -o json`. */
  async version(): Promise<string> {
    const { stdout } = await run(this.binary, ['version', '-o', 'json'], { timeoutMs: 60_000 });
    return parseGrypeVersion(stdout);
  }

  /** Scans the image for vulnerable packages. */
  async scan(target: ScanTarget, options: { kinds: readonly ScanKind[] }): Promise<Finding[]> {
    if (!options.kinds.includes('vuln')) return [];
    const source = target.archive
      ? `${await detectArchiveFormat(target.archive)}:${target.archive}`
      : undefined;
    const { stdout } = await run(this.binary, getGrypeScanArgs(target, source), {
      timeoutMs: this.timeoutMs,
      env: getGrypeEnv(target),
    }).catch((error) => {
      throw source ? error : imageNotFoundAsInput(error, target.ref, '--image');
    });
    return parseGrypeReport(stdout);
  }
}

/**
 * The grype arguments for a target: `<source> -o json -q --by-cve`. The source is `docker-archive:`,
 * `oci-archive:` or `oci-dir:` plus the path for a local archive (`archiveSource`, as detected), or
 * `registry:<ref>` to pull from a registry. `--by-cve` reports a GitHub advisory under its CVE id when it
 * has one, as trivy does, so ignore files and reports name the same ids whichever scanner ran.
 */
export function getGrypeScanArgs(target: ScanTarget, archiveSource?: string): string[] {
  const source = target.archive
    ? (archiveSource ?? `docker-archive:${target.archive}`)
    : `registry:${target.ref}`;
  return [
    source,
    '-o',
    'json',
    '-q',
    '--by-cve',
    ...(target.platform ? ['--platform', target.platform] : []),
  ];
}

/** Environment for a grype run: plain HTTP and unverified TLS for an insecure registry. */
export function getGrypeEnv(target: ScanTarget): Record<string, string> {
  if (target.archive) return {};
  const env: Record<string, string> = target.insecure
    ? { GRYPE_REGISTRY_INSECURE_USE_HTTP: 'true', GRYPE_REGISTRY_INSECURE_SKIP_TLS_VERIFY: 'true' }
    : {};
  if (target.credentials) {
    env.GRYPE_REGISTRY_AUTH_AUTHORITY = hostOf(target.ref);
    env.GRYPE_REGISTRY_AUTH_USERNAME = target.credentials.username;
    env.GRYPE_REGISTRY_AUTH_PASSWORD = target.credentials.password;
  }
  return env;
}

// --- grype's JSON report, only the fields Gantry reads --------------------------------------------------

const cvssSchema = z.object({
  source: z.string().nullish(),
  version: z.string().nullish(),
  vector: z.string().nullish(),
  metrics: z.object({ baseScore: z.number() }).nullish(),
});

const vulnerabilitySchema = z.object({
  id: z.string(),
  dataSource: z.string().nullish(),
  severity: z.string().nullish(),
  urls: z.array(z.string()).nullish(),
  description: z.string().nullish(),
  cvss: z.array(cvssSchema).nullish(),
  fix: z.object({ versions: z.array(z.string()).nullish(), state: z.string() }).nullish(),
});

const matchSchema = z.object({
  vulnerability: vulnerabilitySchema,
  relatedVulnerabilities: z.array(vulnerabilitySchema).nullish(),
  artifact: z.object({
    name: z.string(),
    version: z.string(),
    type: z.string().nullish(),
    language: z.string().nullish(),
    purl: z.string().nullish(),
    locations: z.array(z.object({ path: z.string() })).nullish(),
  }),
});

const reportSchema = z.object({
  matches: z.array(matchSchema),
  distro: z.object({ name: z.string().nullish(), version: z.string().nullish() }).nullish(),
});

type GrypeVulnerability = z.infer<typeof vulnerabilitySchema>;

/** How grype's CVSS sources map to the source names trivy uses (and reports show). */
const CVSS_SOURCES: Record<string, string> = {
  'nvd@nist.gov': 'nvd',
  'security-advisories@github.com': 'ghsa',
};

/**
 * Parses `grype -o json` output into findings, one per match. Grype has no titles, so the title is the
 * first sentence of the description (for GitHub advisories, the summary). Related vulnerabilities (the GHSA
 * of a CVE, or the reverse) become aliases and lend their CVSS when the match has none.
 * Throws an {@link InfraError} naming the first field that does not match grype's report format.
 */
export function parseGrypeReport(json: string): Finding[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new InfraError(`grype printed something that is not JSON: ${(error as Error).message}`);
  }
  const parsed = reportSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InfraError(
      `grype's report does not match its JSON format: ${issue?.path.join('.') || 'report'}: ${issue?.message}`,
    );
  }
  const distro = parsed.data.distro;
  const operatingSystem = distro?.name ? `${distro.name} ${distro.version ?? ''}`.trim() : undefined;
  return parsed.data.matches.map(({ vulnerability: v, relatedVulnerabilities, artifact }) => {
    const related = relatedVulnerabilities ?? [];
    const cvss = pickCvss([v, ...related]);
    const fixedVersions = v.fix?.state === 'fixed' ? (v.fix.versions ?? []) : [];
    const path = artifact.locations?.[0]?.path;
    const aliases = [...new Set(related.map((r) => r.id))].filter((id) => id !== v.id);
    const description = v.description ?? related.find((r) => r.description)?.description ?? undefined;
    return compact({
      id: v.id,
      aliases: aliases.length > 0 ? aliases : undefined,
      class: 'vulnerability',
      severity: normalizeSeverity(v.severity),
      title: titleOf(description, v.id),
      description,
      package: compact({
        name: artifact.name,
        version: artifact.version,
        fixedVersion: fixedVersions.length > 0 ? fixedVersions.join(', ') : undefined,
        type: artifact.type ?? undefined,
        purl: artifact.purl ?? undefined,
      }),
      location: path ? { path: imagePath(path) } : undefined,
      target: artifact.language || artifact.type || undefined,
      primaryUrl: v.dataSource ?? undefined,
      references: [
        ...new Set([...(v.urls ?? []), ...related.flatMap((r) => [r.dataSource ?? '', ...(r.urls ?? [])])]),
      ].filter(Boolean),
      cvssScore: cvss?.score,
      cvssVector: cvss?.vector,
      cvssSource: cvss?.source,
      operatingSystem,
    } satisfies Finding);
  });
}

/** The version from `grype version -o json`. */
export function parseGrypeVersion(json: string): string {
  try {
    const version = (JSON.parse(json) as { version?: unknown }).version;
    if (typeof version === 'string' && version) return version;
  } catch {
    // fall through to the error below
  }
  throw new InfraError(
    `grype version: expected JSON with a "version" field, got ${JSON.stringify(json.slice(0, 80))}`,
  );
}

/** The first CVSS v3 (else any) score, from the match itself before its related records. */
function pickCvss(
  records: GrypeVulnerability[],
): { score: number; vector?: string; source?: string } | undefined {
  const all = records.flatMap((record) => record.cvss ?? []).filter((c) => c.metrics?.baseScore);
  const chosen = all.find((c) => c.version?.startsWith('3')) ?? all[0];
  if (!chosen?.metrics) return undefined;
  const source = chosen.source ? (CVSS_SOURCES[chosen.source] ?? chosen.source) : undefined;
  return { score: chosen.metrics.baseScore, vector: chosen.vector ?? undefined, source };
}

/** First sentence of a description, at most 120 characters; the id when there is no description. */
function titleOf(description: string | undefined, id: string): string {
  const first = description?.split(/(?<=\.)\s|\n/)[0]?.trim();
  if (!first) return id;
  return first.length <= 120 ? first.replace(/\.$/, '') : `${first.slice(0, 119)}…`;
}
