/**
 * A command's JSON result → GitLab `reports: dotenv` variables, for the jobs that come after.
 *
 * GitLab's dotenv parser (Ci::ParseDotenvArtifactService) reads `KEY=value` per line: every line needs an `=`
 * (no blank lines, no comments), key and value are stripped, quotes are kept as they are, a value cannot span
 * lines, and values are expanded like any variable — so `$` is written `$$`. A report holds at most 20
 * variables and 5 KB by default; each command here writes fewer than ten short values.
 */
import type { CommandName } from '../../config/options.js';
import { imageName, parseImageReference } from '../../context/reference.js';

export type Outputs = Record<string, string>;

const DOTENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** GitLab's default limit of variables per dotenv report (`dotenv_variables`). */
export const DOTENV_MAX_VARIABLES = 20;

interface BuildJson {
  image: string;
  tags: string[];
  refs: string[];
  digest?: string;
  builder: string;
  pushed?: boolean;
}
interface ScanJson {
  image: string;
  passed: boolean;
  threshold: string;
  counts: Record<'critical' | 'high' | 'medium' | 'low' | 'unknown', number>;
  findings: unknown[];
}
interface PushJson {
  digest: string;
  refs: string[];
}
interface SignJson {
  image: string;
  digest: string;
  signature: string;
  attestations: { predicateType: string }[];
}
interface VerifyJson {
  image: string;
  digest: string;
  verified: boolean;
  reason?: string;
}
interface DeployJson {
  verdict: string;
  name: string;
  namespace: string;
  revision: string | null;
  image: string;
  previousImage: string | null;
  reason: string;
}

/** The repository of a reference without tag or digest (`reg/team/app:1` → `reg/team/app`). */
function repositoryOf(ref: string): string {
  try {
    return imageName(parseImageReference(ref, 'ref'));
  } catch {
    return ref.replace(/@sha256:[a-f0-9]+$/, '').replace(/:[^:/]+$/, '');
  }
}

/**
 * The outputs of one command, from its `--json` result. A result that is an error (`{ error, exitCode }`)
 * gives `GANTRY_ERROR` and `GANTRY_EXIT_CODE` only.
 */
export function outputsFor(command: CommandName, result: Record<string, unknown>): Outputs {
  if (typeof result.error === 'string') {
    return { GANTRY_ERROR: result.error, GANTRY_EXIT_CODE: String(result.exitCode ?? '') };
  }
  switch (command) {
    case 'build': {
      const r = result as unknown as BuildJson;
      const out: Outputs = {
        GANTRY_IMAGE: r.image,
        GANTRY_TAGS: r.tags.join(','),
        GANTRY_REFS: r.refs.join(','),
        GANTRY_BUILDER: r.builder,
      };
      if (r.digest) out.GANTRY_DIGEST = r.digest;
      // What the next jobs should use: pinned by digest once pushed, else the local name.
      const first = r.refs[0];
      if (r.digest) out.GANTRY_IMAGE_REF = `${repositoryOf(first ?? r.image)}@${r.digest}`;
      else if (first) out.GANTRY_IMAGE_REF = first;
      return out;
    }
    case 'scan': {
      const r = result as unknown as ScanJson;
      return {
        GANTRY_SCAN_PASSED: String(r.passed),
        GANTRY_SCAN_THRESHOLD: r.threshold,
        GANTRY_SCAN_CRITICAL: String(r.counts.critical),
        GANTRY_SCAN_HIGH: String(r.counts.high),
        GANTRY_SCAN_MEDIUM: String(r.counts.medium),
        GANTRY_SCAN_LOW: String(r.counts.low),
        GANTRY_SCAN_UNKNOWN: String(r.counts.unknown),
      };
    }
    case 'push': {
      const r = result as unknown as PushJson;
      const first = r.refs[0];
      const out: Outputs = { GANTRY_DIGEST: r.digest, GANTRY_PUSH_REFS: r.refs.join(',') };
      if (first) {
        out.GANTRY_PUSH_REPOSITORY = repositoryOf(first);
        out.GANTRY_PUSH_IMAGE_REF = `${repositoryOf(first)}@${r.digest}`;
      }
      return out;
    }
    case 'sign': {
      const r = result as unknown as SignJson;
      return {
        GANTRY_SIGNED_IMAGE: r.image,
        GANTRY_DIGEST: r.digest,
        GANTRY_SIGNATURE: r.signature,
        GANTRY_ATTESTATIONS: r.attestations.map((a) => a.predicateType).join(','),
      };
    }
    case 'verify': {
      const r = result as unknown as VerifyJson;
      const out: Outputs = {
        GANTRY_VERIFIED: String(r.verified),
        GANTRY_VERIFIED_IMAGE: r.image,
        GANTRY_DIGEST: r.digest,
      };
      if (r.reason) out.GANTRY_VERIFY_REASON = r.reason;
      return out;
    }
    case 'deploy': {
      const r = result as unknown as DeployJson;
      const out: Outputs = {
        GANTRY_VERDICT: r.verdict,
        GANTRY_ROLLOUT: `${r.namespace}/${r.name}`,
        GANTRY_DEPLOYED_IMAGE: r.image,
        GANTRY_ROLLOUT_REASON: r.reason,
      };
      if (r.revision !== null && r.revision !== undefined) out.GANTRY_REVISION = String(r.revision);
      if (r.previousImage) out.GANTRY_PREVIOUS_IMAGE = r.previousImage;
      return out;
    }
    default:
      return {};
  }
}

/** Longest value written; with fewer than ten variables per command the report stays under 5 KB. */
export const DOTENV_MAX_VALUE_LENGTH = 400;

/** One value as GitLab's parser will read it back: one line, no surrounding blanks, `$` escaped. */
function dotenvValue(value: string): string {
  let line = value.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  if (line.length > DOTENV_MAX_VALUE_LENGTH) line = `${line.slice(0, DOTENV_MAX_VALUE_LENGTH - 1)}…`;
  return line.replace(/\$/g, '$$$$');
}

/**
 * Renders outputs as a dotenv report GitLab accepts: one `KEY=value` line each, long values shortened. Throws on
 * a key GitLab would reject or on too many variables — programming errors, not user input.
 */
export function renderDotenv(outputs: Outputs): string {
  const lines = Object.entries(outputs).map(([key, value]) => {
    if (!DOTENV_KEY.test(key)) throw new Error(`invalid dotenv key ${JSON.stringify(key)}`);
    return `${key}=${dotenvValue(value)}`;
  });
  if (lines.length > DOTENV_MAX_VARIABLES) {
    throw new Error(`${lines.length} dotenv variables: GitLab accepts at most ${DOTENV_MAX_VARIABLES}`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
