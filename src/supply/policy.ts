/**
 * The deploy policy: what an image must carry, verified, before a rollout may start. Pure: it judges the
 * statements that already passed signature verification (src/supply/verify.ts) and says, in one line, why an
 * image is refused.
 */
import type { SeverityCounts } from '../scan/types.js';
import { PREDICATE_TYPES, predicateName, predicateTypeOf, type Statement } from './statement.js';
import { vulnCounts } from './vuln.js';

export interface DeployPolicy {
  /** Predicate types (cosign's short names or URIs) that must be attached and verify. */
  attestations: string[];
  /** The most findings of each severity the attached scan may report (`critical: 0`). */
  maxFindings?: Partial<Pick<SeverityCounts, 'critical' | 'high'>>;
  /** The source repository the provenance must name (`https://github.com/acme/shop`; `git+` and `.git` ignored). */
  source?: string;
  /** What the provenance's `runDetails.builder.id` must start with. */
  builder?: string;
}

export type Judgement = { allowed: true } | { allowed: false; reason: string };

/** Judges the verified statements about one image against the policy. */
export function judgeEvidence(policy: DeployPolicy, statements: readonly Statement[]): Judgement {
  const byType = (uri: string) => statements.filter((statement) => statement.predicateType === uri);
  for (const wanted of policy.attestations) {
    const uri = predicateTypeOf(wanted) ?? wanted;
    if (byType(uri).length === 0) {
      return { allowed: false, reason: `no verified ${predicateName(uri)} attestation` };
    }
  }
  if (policy.source !== undefined || policy.builder !== undefined) {
    const provenance = byType(PREDICATE_TYPES.slsaprovenance1);
    if (provenance.length === 0) {
      return {
        allowed: false,
        reason: `no verified slsaprovenance1 attestation to check the ${policy.source !== undefined ? 'source' : 'builder'} against`,
      };
    }
    const refusals = provenance.map((statement) => provenanceRefusal(policy, statement.predicate));
    const accepted = refusals.some((reason) => reason === undefined);
    if (!accepted) return { allowed: false, reason: refusals[0] as string };
  }
  const limits = Object.entries(policy.maxFindings ?? {}).filter(([, max]) => max !== undefined) as [
    'critical' | 'high',
    number,
  ][];
  if (limits.length > 0) {
    const scans = byType(PREDICATE_TYPES.vuln);
    if (scans.length === 0) {
      return { allowed: false, reason: 'no verified vuln attestation to check the scan limits against' };
    }
    // The newest scan speaks for the image: a rescan with a newer database may find more, or fewer.
    const newest = [...scans].sort((a, b) => scanFinished(b) - scanFinished(a))[0] as Statement;
    const counts = vulnCounts(newest.predicate);
    if (!counts) return { allowed: false, reason: 'the vuln attestation holds no result Gantry can read' };
    for (const [severity, max] of limits) {
      if (counts[severity] > max) {
        return {
          allowed: false,
          reason: `the attached scan found ${counts[severity]} ${severity} (at most ${max} allowed)`,
        };
      }
    }
  }
  return { allowed: true };
}

function scanFinished(statement: Statement): number {
  const at = (statement.predicate as { metadata?: { scanFinishedOn?: string } })?.metadata?.scanFinishedOn;
  const time = at ? Date.parse(at) : Number.NaN;
  return Number.isNaN(time) ? 0 : time;
}

interface Provenance {
  buildDefinition?: { resolvedDependencies?: { uri?: string }[]; externalParameters?: unknown };
  runDetails?: { builder?: { id?: string } };
}

function provenanceRefusal(policy: DeployPolicy, predicate: unknown): string | undefined {
  const provenance = (predicate ?? {}) as Provenance;
  if (policy.builder !== undefined) {
    const id = provenance.runDetails?.builder?.id ?? '';
    if (!id.startsWith(policy.builder)) {
      return `the provenance names builder ${id || '(none)'}, not ${policy.builder}`;
    }
  }
  if (policy.source !== undefined) {
    const want = normaliseSource(policy.source);
    const sources = (provenance.buildDefinition?.resolvedDependencies ?? [])
      .map((dependency) => dependency.uri ?? '')
      .filter((uri) => uri.startsWith('git+') || /\.git(@|$)/.test(uri) || uri.startsWith('https://'));
    if (!sources.some((uri) => normaliseSource(uri) === want)) {
      const named = sources.map(normaliseSource).filter(Boolean);
      return `the provenance names source ${named[0] ?? '(none)'}, not ${want}`;
    }
  }
  return undefined;
}

/** `git+https://github.com/Acme/Shop.git@refs/heads/main` → `https://github.com/acme/shop`. */
export function normaliseSource(uri: string): string {
  return uri
    .replace(/^git\+/, '')
    .replace(/@(refs\/.*|[0-9a-f]{7,64})$/i, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}
