import { z } from 'zod';
import { imageNotFoundAsInput } from '../registry/not-found.js';
import { InfraError } from '../util/errors.js';
import { run } from '../util/exec.js';
import { prepareArchive } from './archive.js';
import { compact, imagePath } from './finding.js';
import { normalizeSeverity } from './severity.js';
import { type Finding, SCAN_KINDS, type ScanKind, type Scanner, type ScanTarget } from './types.js';

export interface TrivyScannerOptions {
  /** The trivy executable. Default `trivy` (on PATH). */
  binary?: string;
  /** Milliseconds before a scan is killed. Default 10 minutes. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/**
 * Runs `trivy image` and normalises its JSON report.
 *
 * Trivy's own settings come from the environment, which is passed through untouched: `TRIVY_CACHE_DIR`,
 * `TRIVY_SKIP_DB_UPDATE`, `TRIVY_OFFLINE_SCAN`, … (the sandbox sets them to run fully offline against its
 * own database). Secret rules and misconfiguration checks are embedded in the binary: with
 * `TRIVY_SKIP_CHECK_UPDATE=true` no download is tried; without it an offline trivy tries to fetch the checks
 * bundle, logs an error and falls back to the embedded checks, with the same findings.
 */
export class TrivyScanner implements Scanner {
  readonly name = 'trivy';
  readonly kinds: readonly ScanKind[] = ['vuln', 'secret', 'misconfig'];
  private readonly binary: string;
  private readonly timeoutMs: number;

  constructor(options: TrivyScannerOptions = {}) {
    this.binary = options.binary ?? 'trivy';
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Trivy's version (`0.65.0`), from `trivy version --format json`. */
  async version(): Promise<string> {
    const { stdout } = await run(this.binary, ['version', '--format', 'json'], { timeoutMs: 60_000 });
    return parseTrivyVersion(stdout);
  }

  /** Scans the image and returns every vulnerability, secret and failed misconfiguration check found. */
  async scan(target: ScanTarget, options: { kinds: readonly ScanKind[] }): Promise<Finding[]> {
    const archive = target.archive ? await prepareArchive(target.archive) : undefined;
    try {
      const args = getTrivyScanArgs(target, options.kinds, archive?.path);
      const { stdout } = await run(this.binary, args, {
        timeoutMs: this.timeoutMs,
        env: getTrivyEnv(target),
      }).catch((error) => {
        throw target.archive ? error : imageNotFoundAsInput(error, target.ref, '--image');
      });
      return parseTrivyReport(stdout);
    } finally {
      await archive?.cleanup();
    }
  }
}

/**
 * The `trivy image` arguments for a target, e.g.
 * `image --format json --quiet --scanners vuln,secret --image-config-scanners secret --input /tmp/x.tar`.
 * A local archive is read with `--input`; `inputPath`, when given, replaces the archive's own path (trivy
 * cannot read an oci-archive tarball, only a docker-archive or an OCI layout directory: see archive.ts).
 * A registry reference is pulled with `--image-src remote`, and `--insecure` allows plain HTTP or an
 * unverified certificate.
 */
export function getTrivyScanArgs(
  target: ScanTarget,
  kinds: readonly ScanKind[],
  inputPath?: string,
): string[] {
  if (kinds.length === 0) throw new Error('getTrivyScanArgs: at least one scan kind is required');
  const unique = SCAN_KINDS.filter((kind) => kinds.includes(kind));
  // Ignore files are Gantry's to apply (so every ignored finding is reported): trivy must not read the
  // `.trivyignore` of its working directory on its own.
  const args = [
    'image',
    '--format',
    'json',
    '--quiet',
    '--ignorefile',
    '/dev/null',
    '--scanners',
    unique.join(','),
  ];
  // `--scanners` looks at the image's files; the image's configuration (ENV, USER, build history) is
  // checked only through `--image-config-scanners`: that is where "runs as root" and secrets baked into
  // ENV are found, so misconfig and secret scanning cover both.
  const configKinds = unique.filter((kind) => kind !== 'vuln');
  if (configKinds.length > 0) args.push('--image-config-scanners', configKinds.join(','));
  if (target.platform) args.push('--platform', target.platform);
  if (target.archive) return [...args, '--input', inputPath ?? target.archive];
  return [...args, '--image-src', 'remote', ...(target.insecure ? ['--insecure'] : []), target.ref];
}

/** Registry credentials for a remote image, in the variables trivy reads (never on its command line). */
export function getTrivyEnv(target: ScanTarget): Record<string, string> {
  if (target.archive || !target.credentials) return {};
  return { TRIVY_USERNAME: target.credentials.username, TRIVY_PASSWORD: target.credentials.password };
}

// --- trivy's JSON report (schema version 2), only the fields Gantry reads -------------------------------

const cvssSchema = z.object({
  V2Vector: z.string().optional(),
  V2Score: z.number().optional(),
  V3Vector: z.string().optional(),
  V3Score: z.number().optional(),
  V40Vector: z.string().optional(),
  V40Score: z.number().optional(),
});

const vulnerabilitySchema = z.object({
  VulnerabilityID: z.string(),
  VendorIDs: z.array(z.string()).nullish(),
  PkgName: z.string(),
  PkgPath: z.string().nullish(),
  PkgIdentifier: z.object({ PURL: z.string().optional() }).nullish(),
  InstalledVersion: z.string(),
  FixedVersion: z.string().nullish(),
  SeveritySource: z.string().nullish(),
  PrimaryURL: z.string().nullish(),
  Title: z.string().nullish(),
  Description: z.string().nullish(),
  Severity: z.string(),
  CVSS: z.record(z.string(), cvssSchema).nullish(),
  References: z.array(z.string()).nullish(),
});

const secretSchema = z.object({
  RuleID: z.string(),
  Category: z.string().nullish(),
  Severity: z.string(),
  Title: z.string(),
  StartLine: z.number().nullish(),
  EndLine: z.number().nullish(),
});

const misconfigurationSchema = z.object({
  ID: z.string(),
  AVDID: z.string().nullish(),
  Title: z.string(),
  Description: z.string().nullish(),
  Message: z.string().nullish(),
  Resolution: z.string().nullish(),
  Severity: z.string(),
  PrimaryURL: z.string().nullish(),
  References: z.array(z.string()).nullish(),
  Status: z.string(),
  CauseMetadata: z.object({ StartLine: z.number().optional(), EndLine: z.number().optional() }).nullish(),
});

const resultSchema = z.object({
  Target: z.string(),
  Class: z.string(),
  Type: z.string().nullish(),
  Vulnerabilities: z.array(vulnerabilitySchema).nullish(),
  Secrets: z.array(secretSchema).nullish(),
  Misconfigurations: z.array(misconfigurationSchema).nullish(),
});

const reportSchema = z.object({
  SchemaVersion: z.literal(2),
  ArtifactName: z.string().optional(),
  Metadata: z.object({ OS: z.object({ Family: z.string(), Name: z.string() }).nullish() }).nullish(),
  Results: z.array(resultSchema).nullish(),
});

type TrivyResult = z.infer<typeof resultSchema>;

/** What every finding of one report shares. */
interface ResultContext {
  operatingSystem?: string;
  /** The image as trivy names it; results for the image's configuration carry it as their target. */
  artifactName?: string;
}

/** The target of findings in the image's configuration (ENV, USER, history) rather than in a file. */
export const IMAGE_CONFIG_TARGET = 'image config';

function isImageConfig(result: TrivyResult, context: ResultContext): boolean {
  return context.artifactName !== undefined && result.Target === context.artifactName;
}
type TrivyVulnerability = z.infer<typeof vulnerabilitySchema>;

/** Where each OS's package database lives in an image: the file an OS package finding points at. */
const OS_PACKAGE_DATABASES: Record<string, string> = {
  alpine: 'lib/apk/db/installed',
  wolfi: 'lib/apk/db/installed',
  chainguard: 'lib/apk/db/installed',
  debian: 'var/lib/dpkg/status',
  ubuntu: 'var/lib/dpkg/status',
};

/**
 * Parses trivy's `--format json` output into findings. Failed misconfiguration checks become findings;
 * passed ones are dropped. Secret findings never carry the matched text (trivy masks it anyway).
 * Throws an {@link InfraError} naming the first field that does not match trivy's report format.
 */
export function parseTrivyReport(json: string): Finding[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new InfraError(`trivy printed something that is not JSON: ${(error as Error).message}`);
  }
  const parsed = reportSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InfraError(
      `trivy's report does not match its JSON format (schema version 2): ${issue?.path.join('.') || 'report'}: ${issue?.message}`,
    );
  }
  const os = parsed.data.Metadata?.OS;
  const context: ResultContext = {
    operatingSystem: os ? `${os.Family} ${os.Name}` : undefined,
    artifactName: parsed.data.ArtifactName,
  };
  return (parsed.data.Results ?? []).flatMap((result) => [
    ...(result.Vulnerabilities ?? []).map((v) => vulnerabilityFinding(result, v, context)),
    ...(result.Secrets ?? []).map((s) => secretFinding(result, s, context)),
    ...(result.Misconfigurations ?? [])
      .filter((m) => m.Status === 'FAIL')
      .map((m) => misconfigurationFinding(result, m, context)),
  ]);
}

/** The version from `trivy version --format json`. */
export function parseTrivyVersion(json: string): string {
  try {
    const version = (JSON.parse(json) as { Version?: unknown }).Version;
    if (typeof version === 'string' && version) return version;
  } catch {
    // fall through to the error below
  }
  throw new InfraError(
    `trivy version: expected JSON with a "Version" field, got ${JSON.stringify(json.slice(0, 80))}`,
  );
}

function vulnerabilityFinding(result: TrivyResult, v: TrivyVulnerability, context: ResultContext): Finding {
  const cvss = pickCvss(v);
  const packagePath =
    v.PkgPath ?? (result.Class === 'os-pkgs' ? OS_PACKAGE_DATABASES[result.Type ?? ''] : undefined);
  return compact({
    id: v.VulnerabilityID,
    aliases: aliasesOf(v),
    class: 'vulnerability',
    severity: normalizeSeverity(v.Severity),
    title: v.Title || v.VulnerabilityID,
    description: v.Description ?? undefined,
    package: compact({
      name: v.PkgName,
      version: v.InstalledVersion,
      fixedVersion: v.FixedVersion || undefined,
      type: result.Type ?? undefined,
      purl: v.PkgIdentifier?.PURL,
    }),
    location: packagePath ? { path: imagePath(packagePath) } : undefined,
    target: result.Target,
    primaryUrl: v.PrimaryURL ?? undefined,
    references: v.References ?? [],
    cvssScore: cvss?.score,
    cvssVector: cvss?.vector,
    cvssSource: cvss?.source,
    operatingSystem: context.operatingSystem,
  });
}

function secretFinding(
  result: TrivyResult,
  s: z.infer<typeof secretSchema>,
  context: ResultContext,
): Finding {
  const kind = `${s.Title} (${s.Category ?? 'secret'})`;
  if (isImageConfig(result, context)) {
    // Line numbers here count lines of the image's JSON configuration: meaningless to a reader.
    return compact({
      id: s.RuleID,
      class: 'secret',
      severity: normalizeSeverity(s.Severity),
      title: s.Title,
      description: `${kind} found in the image configuration (ENV or build history). Remove it from the build and rotate it.`,
      target: IMAGE_CONFIG_TARGET,
      references: [],
      operatingSystem: context.operatingSystem,
    });
  }
  const path = imagePath(result.Target);
  const line = s.StartLine ? ` at line ${s.StartLine}` : '';
  return compact({
    id: s.RuleID,
    class: 'secret',
    severity: normalizeSeverity(s.Severity),
    title: s.Title,
    description: `${kind} found in ${path}${line}. Remove it from the image and rotate it.`,
    location: compact({ path, startLine: s.StartLine ?? undefined, endLine: s.EndLine ?? undefined }),
    target: result.Target,
    references: [],
    operatingSystem: context.operatingSystem,
  });
}

function misconfigurationFinding(
  result: TrivyResult,
  m: z.infer<typeof misconfigurationSchema>,
  context: ResultContext,
): Finding {
  // Checks of the image's configuration run against a Dockerfile trivy rebuilds from the history; it is not
  // a file in the image, so those findings carry no location and reports point at the project's Dockerfile.
  const imageConfig = isImageConfig(result, context);
  return compact({
    id: m.ID,
    aliases: m.AVDID ? [m.AVDID] : undefined,
    class: 'misconfiguration',
    severity: normalizeSeverity(m.Severity),
    title: m.Title,
    description: [m.Message, m.Description, m.Resolution && `Resolution: ${m.Resolution}`]
      .filter(Boolean)
      .join(' '),
    location: imageConfig
      ? undefined
      : compact({
          path: imagePath(result.Target),
          startLine: m.CauseMetadata?.StartLine,
          endLine: m.CauseMetadata?.EndLine,
        }),
    target: imageConfig ? IMAGE_CONFIG_TARGET : result.Target,
    primaryUrl: m.PrimaryURL ?? undefined,
    references: m.References ?? [],
    operatingSystem: context.operatingSystem,
  });
}

/** The CVSS of the source trivy took the severity from, else NVD's, else any. v3 first, then v4, then v2. */
function pickCvss(v: TrivyVulnerability): { score: number; vector?: string; source: string } | undefined {
  const all = v.CVSS ?? {};
  const sources = [...new Set([v.SeveritySource, 'nvd', ...Object.keys(all)])];
  for (const source of sources) {
    const cvss = source ? all[source] : undefined;
    if (!source || !cvss) continue;
    if (cvss.V3Score) return { score: cvss.V3Score, vector: cvss.V3Vector, source };
    if (cvss.V40Score) return { score: cvss.V40Score, vector: cvss.V40Vector, source };
    if (cvss.V2Score) return { score: cvss.V2Score, vector: cvss.V2Vector, source };
  }
  return undefined;
}

/** Vendor ids trivy reports, plus the GHSA id of a GitHub advisory among the references. */
function aliasesOf(v: TrivyVulnerability): string[] | undefined {
  const ghsa = (v.References ?? []).flatMap(
    (url) => /github\.com\/advisories\/(GHSA-[\w-]+)/.exec(url)?.[1] ?? [],
  );
  const aliases = [...new Set([...(v.VendorIDs ?? []), ...ghsa])].filter((id) => id !== v.VulnerabilityID);
  return aliases.length > 0 ? aliases : undefined;
}
