import { describe, expect, it } from 'vitest';
import {
  escapeMarkdown,
  escapeXml,
  formatDuration,
  formatNumber,
  formatOffset,
  formatSeconds,
  formatThreshold,
  markdownCode,
  mermaidNumber,
} from '../../../src/report/format.js';
import { niceScale, valueRange } from '../../../src/report/timeline.js';

describe('formatNumber', () => {
  it.each([
    [0, '0'],
    [-0, '0'],
    [0.43, '0.43'],
    [0.05, '0.05'],
    [0.012345, '0.01235'],
    [0.00001234567, '0.00001235'],
    [1, '1'],
    [99.99, '99.99'],
    [1234.5, '1235'],
    [123456, '123500'],
    [-0.5, '-0.5'],
    [1e25, '10000000000000000905969664'],
    [Number.POSITIVE_INFINITY, '∞'],
    [Number.NaN, 'NaN'],
  ])('%s → %s', (value, expected) => {
    expect(formatNumber(value)).toBe(expected);
  });

  it('never writes exponents (Mermaid rejects them)', () => {
    expect(mermaidNumber(1e-7)).toBe('0.0000001');
    expect(mermaidNumber(2.5e-9)).toMatch(/^0\.0+25$/);
    expect(mermaidNumber(Number.NaN)).toBe('0');
  });
});

describe('formatThreshold', () => {
  it.each([
    [{ max: 0.05 }, '≤ 0.05'],
    [{ min: 0.99 }, '≥ 0.99'],
    [{ min: 0.01, max: 0.05 }, '0.01–0.05'],
    [{ min: 0, max: 250 }, '0–250'],
    [{}, '—'],
  ])('%j → %s', (bounds, expected) => {
    expect(formatThreshold(bounds)).toBe(expected);
  });
});

describe('durations and offsets', () => {
  it.each([
    [1700, '1.7 s'],
    [42_400, '42 s'],
    [Number.NaN, '—'],
  ])('formatSeconds(%s) → %s', (ms, expected) => {
    expect(formatSeconds(ms)).toBe(expected);
  });

  it.each([
    [29_100, '29 s'],
    [218_300, '3m 38s'],
    [3_725_000, '1h 02m'],
  ])('formatDuration(%s) → %s', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });

  it.each([
    [0, '+0s'],
    [8_200, '+8s'],
    [60_000, '+1m'],
    [88_200, '+1m28s'],
    [3_725_000, '+1h02m'],
    [-3_000, '-3s'],
    [Number.NaN, '?'],
  ])('formatOffset(%s) → %s', (ms, expected) => {
    expect(formatOffset(ms)).toBe(expected);
  });
});

describe('escaping', () => {
  it('escapes what would break a table cell or open Markdown syntax', () => {
    expect(escapeMarkdown('a|b')).toBe('a\\|b');
    expect(escapeMarkdown('p95_latency *ms* [x](y) <b> `c` ~d~ $e$ &amp; #1')).toBe(
      'p95\\_latency \\*ms\\* \\[x\\](y) \\<b\\> \\`c\\` \\~d\\~ \\$e\\$ \\&amp; \\#1',
    );
    expect(escapeMarkdown('line one\nline two')).toBe('line one line two');
    expect(escapeMarkdown('error-rate')).toBe('error-rate');
  });

  it('wraps code spans with a fence longer than any backtick run, and escapes pipes', () => {
    expect(markdownCode('registry/web:1.0')).toBe('`registry/web:1.0`');
    expect(markdownCode('a`b')).toBe('``a`b``');
    expect(markdownCode('a|b')).toBe('`a\\|b`');
  });

  it('escapes XML text and attributes and drops characters XML forbids', () => {
    expect(escapeXml(`<a href="x">'&'</a>\u0001`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;',
    );
  });
});

describe('scales', () => {
  it('rounds the ends and ticks', () => {
    expect(niceScale(0, 0.055, 5)).toEqual({ min: 0, max: 0.06, step: 0.02, ticks: [0, 0.02, 0.04, 0.06] });
    expect(niceScale(0.985, 1.001, 4).ticks).toEqual([0.985, 0.99, 0.995, 1, 1.005]);
  });

  it('keeps the threshold and the bulk readable, leaving a far outlier out', () => {
    const values = [0.004, 0.002, 0.004, 0.003, 0.005, 0.0098, 0.031, 0.43];
    const { low, high } = valueRange(values, { max: 0.05 });
    expect(low).toBe(0);
    expect(high).toBeGreaterThan(0.05);
    expect(high).toBeLessThan(0.43);
  });

  it('does not start at zero when the values live far from it', () => {
    const { low } = valueRange([0.995, 0.997, 0.996], { min: 0.99 });
    expect(low).toBeGreaterThan(0.9);
  });

  it('starts at zero for a threshold alone (every check without data)', () => {
    expect(valueRange([], { max: 0.5 }).low).toBe(0);
  });
});
