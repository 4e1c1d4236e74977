import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  analysisSchema,
  loadAnalysisFile,
  parseAnalysis,
  parseDuration,
} from '../../../src/deploy/analysis/spec.js';
import { InputError } from '../../../src/util/errors.js';

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gantry-analysis-')), 'analysis.yml');
  writeFileSync(path, text);
  return path;
}

const errorOf = (fn: () => unknown): InputError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
};

const metric = { name: 'error-rate', query: 'sum(rate(x[1m]))', max: 0.05 };

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['2.5s', 2500],
    ['10', 10_000],
    [30, 30_000],
    [0.5, 500],
  ] as const)('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'abc', '5 s', '-1s', '1d', 's', Number.NaN])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('parseAnalysis', () => {
  it('applies the documented defaults', () => {
    expect(parseAnalysis({ metrics: [metric] })).toEqual({
      intervalMs: 30_000,
      failureLimit: 0,
      inconclusiveLimit: 1,
      metrics: [metric],
    });
  });

  it('reads every field, with compare defaults filled in', () => {
    const spec = parseAnalysis({
      interval: '5s',
      failureLimit: 2,
      inconclusiveLimit: 3,
      metrics: [
        metric,
        { name: 'latency-p99', query: 'q', min: 0, compare: { worse: 'increase', alpha: 0.01 } },
      ],
    });
    expect(spec.intervalMs).toBe(5000);
    expect(spec.failureLimit).toBe(2);
    expect(spec.inconclusiveLimit).toBe(3);
    expect(spec.metrics[1]).toEqual({
      name: 'latency-p99',
      query: 'q',
      min: 0,
      compare: { worse: 'increase', alpha: 0.01, minEffectSize: 0.3, minSamples: 5 },
    });
  });

  it('takes an interval as a number of seconds', () => {
    expect(parseAnalysis({ interval: 2, metrics: [metric] }).intervalMs).toBe(2000);
  });

  it.each([
    [{ metrics: [{ ...metric, max: '5%' }] }, '--analysis: metrics[0].max: expected a number, got "5%"'],
    [
      { metrics: [metric, { ...metric, name: 'b', min: '0.1' }] },
      '--analysis: metrics[1].min: expected a number, got "0.1"',
    ],
    [
      { metrics: [{ name: 'x', query: 'q' }] },
      '--analysis: metrics[0]: needs at least one of min, max, compare or sequential',
    ],
    [{ metrics: [{ ...metric, min: 1, max: 0.5 }] }, '--analysis: metrics[0].min: min 1 is above max 0.5'],
    [{ metrics: [{ ...metric, threshold: 1 }] }, '--analysis: metrics[0]: unknown field "threshold"'],
    [{ metrics: [{ name: 'x', max: 1 }] }, '--analysis: metrics[0].query: required'],
    [
      { metrics: [{ ...metric, query: '  ' }] },
      '--analysis: metrics[0].query: expected a query, got an empty value',
    ],
    [{ metrics: [metric, metric] }, '--analysis: metrics[1].name: duplicate metric name "error-rate"'],
    [{ metrics: [] }, '--analysis: metrics: expected at least one metric'],
    [{}, '--analysis: metrics: required'],
    [
      { interval: 'soon', metrics: [metric] },
      '--analysis: interval: expected a duration like 30s, 500ms or 1m, or a number of seconds, got "soon"',
    ],
    [
      { interval: '10ms', metrics: [metric] },
      '--analysis: interval: expected an interval between 100ms and 1h, got "10ms"',
    ],
    [{ failureLimit: 1.5, metrics: [metric] }, '--analysis: failureLimit: expected a whole number, got 1.5'],
    [
      { inconclusiveLimit: -1, metrics: [metric] },
      '--analysis: inconclusiveLimit: expected 0 or more, got -1',
    ],
    [
      { metrics: [{ ...metric, compare: { worse: 'up' } }] },
      '--analysis: metrics[0].compare.worse: expected increase or decrease, got "up"',
    ],
    [
      { metrics: [{ ...metric, compare: { worse: 'increase', minSamples: 2 } }] },
      '--analysis: metrics[0].compare.minSamples: expected at least 3, got 2',
    ],
    [
      { metrics: [{ ...metric, name: 'error rate' }] },
      '--analysis: metrics[0].name: expected letters, digits, ".", "_" or "-" (at most 63), got "error rate"',
    ],
  ])('rejects %j with one line naming the field', (data, message) => {
    const error = errorOf(() => parseAnalysis(data));
    expect(error.message).toBe(message);
    expect(error.exitCode).toBe(2);
    expect(error.input).toBe('--analysis');
  });

  it('names the input it was given (the inline section of gantry.yml)', () => {
    expect(errorOf(() => parseAnalysis({ metrics: [] }, 'gantry.yml: deploy.analysis')).message).toBe(
      'gantry.yml: deploy.analysis: metrics: expected at least one metric',
    );
  });

  it('exports a schema that another schema can embed', () => {
    const config = z.object({ analysis: analysisSchema.optional() });
    expect(config.parse({ analysis: { interval: '1m', metrics: [metric] } }).analysis?.intervalMs).toBe(
      60_000,
    );
  });
});

describe('loadAnalysisFile', () => {
  it('reads YAML', () => {
    const path = file(
      [
        'interval: 500ms',
        'failureLimit: 1',
        'metrics:',
        '  - name: error-rate',
        '    query: |',
        '      sum(rate(http_requests_total{namespace="{{namespace}}",track="{{track}}",code=~"5.."}[5s]))',
        '    max: 0.05',
        '',
      ].join('\n'),
    );
    const spec = loadAnalysisFile(path);
    expect(spec).toMatchObject({ intervalMs: 500, failureLimit: 1, inconclusiveLimit: 1 });
    expect(spec.metrics[0]?.query).toContain('track="{{track}}"');
  });

  it('rejects a threshold written as a percentage', () => {
    const path = file('metrics:\n  - name: e\n    query: q\n    max: 5%\n');
    expect(errorOf(() => loadAnalysisFile(path)).message).toBe(
      '--analysis: metrics[0].max: expected a number, got "5%"',
    );
  });

  it.each([
    ['/nonexistent/analysis.yml', /^--analysis: cannot read "\/nonexistent\/analysis.yml": no such file$/],
    [tmpdir(), /^--analysis: cannot read ".*": it is a directory$/],
  ])('cannot read %s', (path, message) => {
    expect(errorOf(() => loadAnalysisFile(path)).message).toMatch(message);
  });

  it.each([
    ['metrics: [\n', /^--analysis: ".*" is not valid YAML: .* \(line \d+\)$/],
    ['- a\n- b\n', /^--analysis: ".*" must be a YAML mapping/],
    ['', /^--analysis: ".*" must be a YAML mapping/],
  ])('rejects %j', (text, message) => {
    expect(errorOf(() => loadAnalysisFile(file(text))).message).toMatch(message);
  });
});
