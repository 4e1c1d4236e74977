import { describe, expect, it } from 'vitest';
import { MERMAID_MAX_POINTS, renderMermaidTimeline } from '../../../src/report/mermaid.js';
import { fixture } from './helpers.js';

interface ParsedChart {
  title: string;
  xTitle: string;
  categories: string[];
  yAxis: string;
  lines: Array<{ name: string; values: number[] }>;
}

/** Reads back the parts of the block this renderer writes; fails the test on anything else. */
function parseChart(block: string): ParsedChart {
  const lines = block.split('\n');
  expect(lines[0]).toBe('```mermaid');
  expect(lines[1]).toMatch(
    /^%%\{init: \{"themeVariables": \{"xyChart": \{"plotColorPalette": "[#0-9a-f, ]+"\}\}\}\}%%$/,
  );
  expect(lines[2]).toBe('xychart-beta');
  expect(lines.at(-1)).toBe('```');
  const body = lines.slice(3, -1);
  const title = body[0]!.match(/^ {4}title "([^"]*)"$/)![1]!;
  const [, xTitle, categoryList] = body[1]!.match(/^ {4}x-axis "([^"]*)" \[(.*)\]$/)!;
  const categories = [...categoryList!.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
  const yAxis = body[2]!;
  // Only numbers the xychart grammar accepts: no exponent, no NaN.
  const number = /^[+-]?(?:\d+(?:\.\d+)?|\.\d+)$/;
  expect(yAxis).toMatch(/^ {4}y-axis "[^"]*" [+-]?[\d.]+ --> [+-]?[\d.]+$/);
  const series = body.slice(3).map((line) => {
    const [, name, values] = line.match(/^ {4}line "([^"]*)" \[(.*)\]$/)!;
    const items = values!.split(', ');
    for (const item of items) expect(item).toMatch(number);
    return { name: name!, values: items.map(Number) };
  });
  return { title, xTitle: xTitle!, categories, yAxis, lines: series };
}

describe('renderMermaidTimeline', () => {
  it('draws the failed metric and its threshold over seconds since the start', () => {
    const chart = parseChart(renderMermaidTimeline(fixture('rolled-back')));
    expect(chart.title).toBe('web — error-rate');
    expect(chart.xTitle).toBe('seconds since start');
    expect(chart.categories.slice(-4)).toEqual(['73', '78', '83', '88']);
    expect(chart.lines.map((line) => line.name)).toEqual(['error-rate', 'max 0.05']);
    expect(chart.lines[0]!.values.slice(-4)).toEqual([0.0052, 0.0098, 0.031, 0.43]);
    expect(new Set(chart.lines[1]!.values)).toEqual(new Set([0.05]));
    for (const line of chart.lines) expect(line.values).toHaveLength(chart.categories.length);
    expect(chart.yAxis).toBe('    y-axis "error-rate" 0 --> 0.5');
  });

  it('picks whichever metric failed, not the first one', () => {
    const report = fixture('rolled-back');
    for (const check of report.checks) {
      if (check.metric === 'error-rate' && check.result === 'fail')
        Object.assign(check, { value: 0.04, result: 'pass' });
      if (check.metric === 'p95-latency' && check.value === 0.44)
        Object.assign(check, { value: 0.81, result: 'fail' });
    }
    expect(parseChart(renderMermaidTimeline(report)).title).toBe('web — p95-latency');
  });

  it('draws the metric asked for', () => {
    const chart = parseChart(renderMermaidTimeline(fixture('rolled-back'), 'p95-latency'));
    expect(chart.lines.map((line) => line.name)).toEqual(['p95-latency', 'max 0.5']);
  });

  it('draws a line per bound when there are two', () => {
    const report = fixture('rolled-back');
    for (const check of report.checks) if (check.metric === 'p95-latency') check.min = 0.1;
    const chart = parseChart(renderMermaidTimeline(report, 'p95-latency'));
    expect(chart.lines.map((line) => line.name)).toEqual(['p95-latency', 'min 0.1', 'max 0.5']);
  });

  it('merges neighbours past the point limit, keeping the worst value', () => {
    const report = fixture('promoted');
    const tolerated = report.checks.find((check) => check.metric === 'error-rate' && check.step === 1)!;
    Object.assign(tolerated, { value: 0.061, result: 'fail' });
    const chart = parseChart(renderMermaidTimeline(report, 'error-rate'));
    expect(chart.categories.length).toBeLessThanOrEqual(MERMAID_MAX_POINTS);
    expect(chart.lines[0]!.values).toContain(0.061);
    expect(new Set(chart.categories).size).toBe(chart.categories.length);
  });

  it('leaves checks without data out of the line and says so', () => {
    const report = fixture('rolled-back');
    const check = report.checks.find((c) => c.metric === 'error-rate' && c.step === 1)!;
    Object.assign(check, { value: null, result: 'inconclusive' });
    const chart = parseChart(renderMermaidTimeline(report));
    expect(chart.title).toBe('web — error-rate (1 without data, not drawn)');
    expect(chart.categories).not.toContain('73');
  });

  it('returns a note, not an empty chart, when the metric has no data at all', () => {
    expect(renderMermaidTimeline(fixture('inconclusive'))).toBe(
      '_p95-latency: no data in 3 checks, so there is no timeline to draw._',
    );
    expect(renderMermaidTimeline(fixture('inconclusive'), 'success_rate')).toBe(
      '_No checks of success\\_rate in this run: there is no timeline to draw._',
    );
    const errorRate = parseChart(renderMermaidTimeline(fixture('inconclusive'), 'error-rate'));
    expect(errorRate.lines[0]!.values).toHaveLength(3);
  });

  it('keeps names within the grammar: no double quotes inside strings', () => {
    const report = fixture('rolled-back');
    report.name = 'web "blue"';
    const block = renderMermaidTimeline(report);
    expect(parseChart(block).title).toBe("web 'blue' — error-rate");
  });

  it('writes tiny values without exponents', () => {
    const report = fixture('rolled-back');
    for (const check of report.checks)
      if (check.metric === 'error-rate') check.value = (check.value ?? 0) * 1e-6;
    for (const value of parseChart(renderMermaidTimeline(report)).lines[0]!.values)
      expect(value).toBeLessThan(1e-6);
  });

  it('is the same every time', () => {
    expect(renderMermaidTimeline(fixture('promoted'))).toBe(renderMermaidTimeline(fixture('promoted')));
  });
});
