import { describe, expect, it } from 'vitest';
import type { ScanSummary } from '../../../src/scan/types.js';
import { judgeEvidence, normaliseSource } from '../../../src/supply/policy.js';
import { PREDICATE_TYPES, type Statement, statementFor } from '../../../src/supply/statement.js';
import { vulnCounts, vulnPredicate } from '../../../src/supply/vuln.js';

const IMAGE = `registry.test/shop/api@sha256:${'a'.repeat(64)}`;

function provenance(source: string, builder: string): Statement {
  return statementFor(IMAGE, PREDICATE_TYPES.slsaprovenance1, {
    buildDefinition: {
      buildType: 'https://gantry.dev/build/v1',
      externalParameters: {},
      resolvedDependencies: [
        { uri: source, digest: { gitCommit: 'b'.repeat(40) } },
        { uri: 'pkg:docker/busybox@1.36', digest: { sha256: 'c'.repeat(64) } },
      ],
    },
    runDetails: { builder: { id: builder } },
  });
}

function scan(counts: Partial<ScanSummary['counts']>, finishedAt = '2026-12-07T10:00:00Z'): Statement {
  return statementFor(
    IMAGE,
    PREDICATE_TYPES.vuln,
    vulnPredicate({
      scanner: 'trivy',
      scannerVersion: '0.65.0',
      threshold: 'high',
      passed: true,
      counts: { critical: 0, high: 0, medium: 0, low: 0, unknown: 0, ...counts },
      findings: [],
      ignored: [],
      startedAt: finishedAt,
      finishedAt,
    }),
  );
}

const SBOM = statementFor(IMAGE, PREDICATE_TYPES.cyclonedx, { bomFormat: 'CycloneDX', specVersion: '1.6' });
const GITHUB = 'https://github.com/acme/shop/.github/workflows/deploy.yml@refs/heads/main';

describe('judgeEvidence', () => {
  it('allows an image carrying every attestation the policy asks for', () => {
    const statements = [provenance('git+https://github.com/acme/shop@refs/heads/main', GITHUB), SBOM];
    expect(judgeEvidence({ attestations: ['slsaprovenance1', 'cyclonedx'] }, statements)).toEqual({
      allowed: true,
    });
  });

  it('refuses an image missing an attestation, naming it', () => {
    expect(judgeEvidence({ attestations: ['slsaprovenance1', 'cyclonedx'] }, [SBOM])).toEqual({
      allowed: false,
      reason: 'no verified slsaprovenance1 attestation',
    });
    expect(judgeEvidence({ attestations: ['https://example.com/custom/v1'] }, [SBOM]).allowed).toBe(false);
  });

  it('refuses provenance that names another source repository or builder', () => {
    const statements = [provenance('git+https://github.com/evil/shop@refs/heads/main', GITHUB)];
    expect(judgeEvidence({ attestations: [], source: 'https://github.com/acme/shop' }, statements)).toEqual({
      allowed: false,
      reason: 'the provenance names source https://github.com/evil/shop, not https://github.com/acme/shop',
    });
    const other = [
      provenance('git+https://github.com/acme/shop', 'https://gitlab.example/acme/shop/-/jobs/7'),
    ];
    expect(judgeEvidence({ attestations: [], builder: 'https://github.com/acme/' }, other)).toEqual({
      allowed: false,
      reason:
        'the provenance names builder https://gitlab.example/acme/shop/-/jobs/7, not https://github.com/acme/',
    });
    expect(judgeEvidence({ attestations: [], builder: 'https://github.com/acme/' }, statements)).toEqual({
      allowed: true,
    });
  });

  it('compares sources without case, git+ prefix, .git suffix or ref', () => {
    const statements = [provenance('git+https://github.com/Acme/Shop.git@refs/heads/main', GITHUB)];
    expect(
      judgeEvidence({ attestations: [], source: 'https://github.com/acme/shop.git' }, statements).allowed,
    ).toBe(true);
    expect(normaliseSource(`git+https://gitlab.example/a/b@${'f'.repeat(40)}`)).toBe(
      'https://gitlab.example/a/b',
    );
  });

  it('refuses a source check without provenance', () => {
    expect(judgeEvidence({ attestations: [], source: 'https://github.com/acme/shop' }, [SBOM])).toEqual({
      allowed: false,
      reason: 'no verified slsaprovenance1 attestation to check the source against',
    });
  });

  it('applies scan limits to the newest attached scan', () => {
    const policy = { attestations: [], maxFindings: { critical: 0 } };
    expect(judgeEvidence(policy, [scan({ critical: 0, high: 3 })])).toEqual({ allowed: true });
    expect(judgeEvidence(policy, [scan({ critical: 2 })])).toEqual({
      allowed: false,
      reason: 'the attached scan found 2 critical (at most 0 allowed)',
    });
    // An older clean scan does not outvote a newer one that finds a critical.
    const older = scan({}, '2026-12-01T00:00:00Z');
    const newer = scan({ critical: 1 }, '2026-12-07T00:00:00Z');
    expect(judgeEvidence(policy, [older, newer]).allowed).toBe(false);
    expect(judgeEvidence(policy, [scan({ critical: 1 }, '2026-12-01T00:00:00Z'), scan({})]).allowed).toBe(
      true,
    );
    expect(judgeEvidence(policy, [SBOM])).toEqual({
      allowed: false,
      reason: 'no verified vuln attestation to check the scan limits against',
    });
  });
});

describe('vulnCounts', () => {
  it("reads Gantry's own result and a trivy JSON report", () => {
    expect(vulnCounts(scan({ high: 4 }).predicate)).toMatchObject({ critical: 0, high: 4 });
    const trivy = {
      scanner: {
        result: {
          Results: [
            { Vulnerabilities: [{ Severity: 'CRITICAL' }, { Severity: 'HIGH' }, { Severity: 'WEIRD' }] },
            { Vulnerabilities: null },
          ],
        },
      },
    };
    expect(vulnCounts(trivy)).toEqual({ critical: 1, high: 1, medium: 0, low: 0, unknown: 1 });
    expect(vulnCounts({ scanner: { result: 'nothing' } })).toBeUndefined();
    expect(vulnCounts(undefined)).toBeUndefined();
  });
});
