import { describe, expect, it } from 'vitest';
import {
  compareFindings,
  countBySeverity,
  meetsThreshold,
  normalizeSeverity,
  severityRank,
} from '../../../src/scan/severity.js';
import type { Finding, Severity, SeverityThreshold } from '../../../src/scan/types.js';

describe('meetsThreshold', () => {
  it.each<[Severity, SeverityThreshold, boolean]>([
    ['critical', 'high', true],
    ['high', 'high', true],
    ['medium', 'high', false],
    ['unknown', 'low', false],
    ['low', 'low', true],
    ['unknown', 'unknown', true],
    ['low', 'unknown', true],
    ['critical', 'critical', true],
    ['high', 'critical', false],
    ['critical', 'none', false],
  ])('%s at threshold %s → %s', (severity, threshold, expected) => {
    expect(meetsThreshold(severity, threshold)).toBe(expected);
  });
});

describe('normalizeSeverity', () => {
  it.each<[string | undefined, Severity]>([
    ['CRITICAL', 'critical'],
    ['High', 'high'],
    ['moderate', 'medium'],
    [' low ', 'low'],
    ['Negligible', 'unknown'],
    ['', 'unknown'],
    [undefined, 'unknown'],
  ])('%j → %s', (raw, expected) => {
    expect(normalizeSeverity(raw)).toBe(expected);
  });
});

describe('ordering and counts', () => {
  const finding = (id: string, severity: Severity, pkg?: string): Finding => ({
    id,
    class: 'vulnerability',
    severity,
    title: id,
    references: [],
    ...(pkg ? { package: { name: pkg, version: '1' } } : {}),
  });

  it('ranks critical first and unknown last', () => {
    expect(severityRank('critical')).toBeLessThan(severityRank('high'));
    expect(severityRank('low')).toBeLessThan(severityRank('unknown'));
  });

  it('sorts worst first, then by id, then by package', () => {
    const sorted = [
      finding('B', 'low'),
      finding('A', 'high', 'zlib'),
      finding('A', 'high', 'curl'),
      finding('C', 'critical'),
    ]
      .sort(compareFindings)
      .map((f) => `${f.id}/${f.package?.name ?? ''}`);
    expect(sorted).toEqual(['C/', 'A/curl', 'A/zlib', 'B/']);
  });

  it('counts every severity, zero included', () => {
    expect(countBySeverity([finding('A', 'high'), finding('B', 'high'), finding('C', 'unknown')])).toEqual({
      critical: 0,
      high: 2,
      medium: 0,
      low: 0,
      unknown: 1,
    });
  });
});
