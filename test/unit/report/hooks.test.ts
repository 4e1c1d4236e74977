import { describe, expect, it } from 'vitest';
import type { Check, HookResult } from '../../../src/deploy/types.js';
import { renderJson } from '../../../src/report/json.js';
import { renderRolloutMarkdown } from '../../../src/report/markdown.js';
import { chartMetric } from '../../../src/report/timeline.js';
import { describeBreach, verdictLine } from '../../../src/report/verdict.js';
import { fixture } from './helpers.js';

const hook = (over: Partial<HookResult>): HookResult => ({
  hook: 'smoke',
  type: 'pre-rollout',
  at: '2026-01-01T00:00:05.000Z',
  result: 'pass',
  attempts: 1,
  durationMs: 420,
  message: 'exit 0: smoke passed',
  ...over,
});

describe('hooks in the report', () => {
  it('lists each answer in a Hooks section: who, when in the rollout, what it did and said', () => {
    const report = fixture('promoted');
    report.hooks = [
      hook({}),
      hook({
        hook: 'freeze',
        type: 'confirm-promotion',
        attempts: 3,
        durationMs: 12_400,
        message: 'HTTP 200',
      }),
      hook({
        hook: 'audit',
        type: 'post-rollout',
        result: 'fail',
        message: 'unreachable: ECONNREFUSED (3 attempts)',
      }),
    ];
    const markdown = renderRolloutMarkdown(report, { chart: 'none' });
    const section = markdown.slice(markdown.indexOf('### Hooks'));
    expect(section.trimEnd().split('\n').slice(2)).toEqual([
      '| Hook | Type | Result | Asked | Took | Answer |',
      '|---|---|---|---|---|---|',
      '| `smoke` | pre-rollout | passed | 1 | 0.4 s | exit 0: smoke passed |',
      '| `freeze` | confirm-promotion | confirmed | 3 | 12 s | HTTP 200 |',
      '| `audit` | post-rollout | failed (verdict unchanged) | 1 | 0.4 s | unreachable: ECONNREFUSED (3 attempts) |',
    ]);
  });

  it('has no Hooks section without hooks', () => {
    expect(renderRolloutMarkdown(fixture('promoted'), { chart: 'none' })).not.toContain('### Hooks');
  });

  it('keeps the JSON key order: hooks after checks, each hook in the contract order', () => {
    const report = fixture('promoted');
    report.hooks = [hook({})];
    const json = renderJson(report);
    expect(json.indexOf('"checks"')).toBeLessThan(json.indexOf('"hooks"'));
    expect(json.indexOf('"hooks"')).toBeLessThan(json.indexOf('"timings"'));
    expect(Object.keys(JSON.parse(json).hooks[0])).toEqual([
      'hook',
      'type',
      'at',
      'result',
      'attempts',
      'durationMs',
      'message',
    ]);
  });

  it('blames a failed rollout hook with what it answered, not "no data"', () => {
    const check: Check = {
      metric: 'hook load',
      step: 0,
      at: '2026-01-01T00:00:05.000Z',
      value: null,
      result: 'fail',
      message: 'HTTP 500: p99 2.4s > 1s',
    };
    expect(describeBreach(check)).toBe('hook load: HTTP 500: p99 2.4s > 1s');
    expect(describeBreach({ ...check, result: 'inconclusive' })).toBe('hook load had no data');
  });

  it('charts a metric, never a hook (hooks have no values)', () => {
    const report = fixture('rolled-back');
    const first = report.checks[0]!;
    report.checks.unshift({
      ...first,
      metric: 'hook load',
      value: null,
      result: 'fail',
      message: 'HTTP 500',
    });
    expect(chartMetric(report)).not.toBe('hook load');
    report.checks = report.checks.filter((c) => c.metric === 'hook load');
    expect(chartMetric(report)).toBeUndefined();
    expect(verdictLine(report)).toBeDefined();
  });
});
