import { describe, expect, it } from 'vitest';
import { formatPromDuration, type QueryVars, renderQuery } from '../../../src/deploy/analysis/template.js';
import { InputError } from '../../../src/util/errors.js';

const vars: QueryVars = {
  namespace: 'shop',
  name: 'checkout',
  track: 'canary',
  canary: 'canary',
  stable: 'stable',
  interval: '30s',
  step: 2,
  run: '7-0a1b2c3d',
};

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('renderQuery', () => {
  it('fills every placeholder, with or without spaces inside the braces', () => {
    const query =
      'sum(rate(http_requests_total{namespace="{{namespace}}",app="{{ name }}",track="{{track}}"}[{{interval}}]))' +
      ' / on() sum(rate(http_requests_total{track=~"{{canary}}|{{stable}}"}[1m])) # step {{step}}';
    expect(renderQuery(query, vars, 'error-rate')).toBe(
      'sum(rate(http_requests_total{namespace="shop",app="checkout",track="canary"}[30s]))' +
        ' / on() sum(rate(http_requests_total{track=~"canary|stable"}[1m])) # step 2',
    );
  });

  it('leaves PromQL braces alone', () => {
    expect(renderQuery('up{job="x"}', vars, 'm')).toBe('up{job="x"}');
  });

  it('rejects an unknown placeholder, naming it and the metric', () => {
    const error = errorOf(() => renderQuery('up{pod="{{pod}}"}', vars, 'error-rate'));
    expect(error.message).toBe(
      '--analysis: metric "error-rate": unknown placeholder {{pod}}; expected one of {{namespace}}, {{name}}, {{track}}, {{canary}}, {{stable}}, {{interval}}, {{step}}, {{run}}',
    );
    expect(error.exitCode).toBe(2);
  });

  it('rejects an unbalanced placeholder', () => {
    expect(errorOf(() => renderQuery('up{ns="{{namespace"}', vars, 'm')).message).toBe(
      '--analysis: metric "m": unbalanced "{{" or "}}" in the query',
    );
  });

  it.each([
    ['namespace', 'shop"} or vector(1) #', '--namespace'],
    ['namespace', "a'b", '--namespace'],
    ['name', 'a\\b', '--name'],
    ['name', 'a\nb', '--name'],
    ['name', 'a`b', '--name'],
    ['canary', '', '--analysis'],
  ] as const)('refuses an unsafe {{%s}} value %j, naming %s', (placeholder, value, input) => {
    const error = errorOf(() =>
      renderQuery(`up{x="{{${placeholder}}}"}`, { ...vars, [placeholder]: value }, 'm'),
    );
    expect(error.input).toBe(input);
    expect(error.message).toContain(`cannot be used as {{${placeholder}}} in metric "m"`);
    expect(error.message).not.toMatch(/\n/);
  });

  it('fills {{run}}, and lets it be empty (the stable track: series without the label)', () => {
    const query = 'up{track="{{track}}",run="{{run}}"}';
    expect(renderQuery(query, vars, 'm')).toBe('up{track="canary",run="7-0a1b2c3d"}');
    expect(renderQuery(query, { ...vars, track: 'stable', run: '' }, 'm')).toBe('up{track="stable",run=""}');
  });

  it('refuses an unsafe {{run}} value, naming --analysis', () => {
    const error = errorOf(() => renderQuery('up{run="{{run}}"}', { ...vars, run: 'a"b' }, 'm'));
    expect(error.input).toBe('--analysis');
    expect(error.message).toContain('cannot be used as {{run}} in metric "m"');
  });

  it('only checks the values the query uses', () => {
    expect(renderQuery('up{ns="{{namespace}}"}', { ...vars, name: 'bad"name' }, 'm')).toBe('up{ns="shop"}');
  });
});

describe('formatPromDuration', () => {
  it.each([
    [500, '500ms'],
    [1000, '1s'],
    [30_000, '30s'],
    [90_000, '90s'],
    [60_000, '1m'],
    [7_200_000, '2h'],
    [1500, '1500ms'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatPromDuration(ms)).toBe(text);
  });
});
