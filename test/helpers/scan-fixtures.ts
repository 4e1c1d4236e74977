import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { evaluatePolicy, type PolicyIgnore } from '../../src/scan/policy.js';
import { parseTrivyReport } from '../../src/scan/trivy.js';
import type { Finding, ReportContext, ScanSummary, SeverityThreshold } from '../../src/scan/types.js';

/** The folder of recorded scanner outputs (see its README for how each was recorded). */
export const scanFixtures = resolve(import.meta.dirname, '..', 'fixtures', 'scan');

/** The text of a recorded fixture, e.g. `trivy-lodash.json`. */
export function readScanFixture(name: string): string {
  return readFileSync(resolve(scanFixtures, name), 'utf8');
}

/** Findings of every recorded trivy image scan, in fixture order. */
export function allTrivyFindings(): Finding[] {
  return [
    'trivy-clean.json',
    'trivy-lodash.json',
    'trivy-minimist.json',
    'trivy-secret.json',
    'trivy-envsecret.json',
    'trivy-alpine.json',
  ].flatMap((name) => parseTrivyReport(readScanFixture(name)));
}

export const reportContext: ReportContext = { gantryVersion: '0.1.0', dockerfile: 'Dockerfile' };

/** A scan summary as scanImage builds it, from findings and a policy, with a pinned clock. */
export function summaryOf(
  findings: Finding[],
  options: {
    threshold?: SeverityThreshold;
    ignores?: PolicyIgnore[];
    ignoreUnfixed?: boolean;
    image?: string;
  } = {},
): ScanSummary {
  const outcome = evaluatePolicy(findings, {
    threshold: options.threshold ?? 'high',
    ignoreUnfixed: options.ignoreUnfixed ?? false,
    ignores: options.ignores ?? [],
    now: new Date('2025-06-01T12:00:00Z'),
  });
  return {
    image: options.image ?? '127.0.0.1:5000/team/app:1.2.3',
    scanner: 'trivy',
    scannerVersion: '0.65.0',
    threshold: options.threshold ?? 'high',
    ...outcome,
    startedAt: '2025-06-01T12:00:00.000Z',
    finishedAt: '2025-06-01T12:00:02.500Z',
    durationMs: 2500,
  };
}
