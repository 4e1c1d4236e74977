import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { RolloutReport } from '../../../src/deploy/types.js';
import { renderSvgTimeline } from '../../../src/report/svg.js';
import { type FixtureName, fixture } from './helpers.js';

type Attributes = Record<string, string>;

interface SvgTree {
  svg: Attributes & { line?: Attributes[]; text?: Array<Attributes & { '#text'?: string }> };
}

function parse(svg: string): SvgTree {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    parseTagValue: false,
    isArray: (name, _path, _leaf, isAttribute) => !isAttribute && name !== 'svg',
  });
  return parser.parse(svg) as SvgTree;
}

function texts(svg: string): Array<Attributes & { '#text'?: string }> {
  return parse(svg).svg.text ?? [];
}

function linesOfClass(svg: string, cls: string): Attributes[] {
  return (parse(svg).svg.line ?? []).filter((line) => line.class?.split(' ').includes(cls));
}

const fixtures: FixtureName[] = ['promoted', 'rolled-back', 'inconclusive'];

describe('renderSvgTimeline', () => {
  it.each(fixtures)('%s: is well-formed XML, standalone, titled', (name) => {
    const svg = renderSvgTimeline(fixture(name));
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).not.toMatch(/<script|<style|@import|href=|url\(/);
  });

  it('draws the failed metric, titled with the service', () => {
    const svg = renderSvgTimeline(fixture('rolled-back'));
    expect(texts(svg)[1]!['#text']).toBe('web — error-rate');
    expect(svg).toContain('<title id="gantry-title">web — error-rate</title>');
  });

  it('draws a dashed threshold line with its label', () => {
    const svg = renderSvgTimeline(fixture('rolled-back'));
    const [threshold] = linesOfClass(svg, 'threshold');
    expect(threshold).toMatchObject({ 'stroke-dasharray': '6 4' });
    expect(threshold!.y1).toBe(threshold!.y2);
    expect(texts(svg).map((t) => t['#text'])).toContain('max 0.05');
  });

  it('draws both bounds when the metric has two', () => {
    const report = fixture('rolled-back');
    for (const check of report.checks) if (check.metric === 'error-rate') check.min = 0.001;
    const svg = renderSvgTimeline(report);
    expect(linesOfClass(svg, 'threshold')).toHaveLength(2);
    expect(texts(svg).map((t) => t['#text'])).toEqual(expect.arrayContaining(['max 0.05', 'min 0.001']));
  });

  it('marks each step with a boundary and its weight', () => {
    const svg = renderSvgTimeline(fixture('promoted'));
    expect(linesOfClass(svg, 'step-boundary')).toHaveLength(3);
    const labels = texts(svg)
      .filter((t) => t.class === 'step-label')
      .map((t) => t['#text']);
    expect(labels).toEqual(['step 1 · 10%', 'step 2 · 25%', 'step 3 · 50%']);
  });

  it('shortens step labels to the weight when the step is narrow', () => {
    const svg = renderSvgTimeline(fixture('promoted'), { width: 360 });
    const labels = texts(svg)
      .filter((t) => t.class === 'step-label')
      .map((t) => t['#text']);
    expect(labels).toEqual(['10%', '25%', '50%']);
  });

  it('marks the abort and the restoration of traffic', () => {
    const svg = renderSvgTimeline(fixture('rolled-back'));
    const abort = linesOfClass(svg, 'marker-abort');
    const restored = linesOfClass(svg, 'marker-traffic-restored');
    expect(abort).toHaveLength(1);
    expect(restored).toHaveLength(1);
    expect(Number(restored[0]!.x1)).toBeGreaterThan(Number(abort[0]!.x1));
    expect(texts(svg).map((t) => t['#text'])).toEqual(expect.arrayContaining(['abort', 'traffic restored']));
    expect(linesOfClass(renderSvgTimeline(fixture('promoted')), 'marker-abort')).toHaveLength(0);
    expect(linesOfClass(renderSvgTimeline(fixture('promoted')), 'marker-promoted')).toHaveLength(1);
  });

  it('marks failed checks in red, pins the off-scale breach to the edge and labels its value', () => {
    const svg = renderSvgTimeline(fixture('rolled-back'));
    expect(svg).toMatch(/<polygon points="[^"]+" fill="#cf222e" class="point point-fail off-scale">/);
    expect(texts(svg).map((t) => t['#text'])).toContain('0.43');
    // The rest of the values keep a readable scale: the axis stops well below the outlier.
    const ticks = texts(svg).filter(
      (t) => t['text-anchor'] === 'end' && !t['font-weight'] && /^[\d.]+$/.test(t['#text'] ?? ''),
    );
    expect(Math.max(...ticks.map((t) => Number(t['#text'])))).toBeLessThan(0.1);
  });

  it('draws a failed check inside the scale as a red dot', () => {
    const report = fixture('rolled-back');
    report.checks.find((c) => c.value === 0.43)!.value = 0.06;
    const svg = renderSvgTimeline(report);
    expect(svg).toMatch(/<circle [^>]*fill="#cf222e"[^>]*class="point point-fail">/);
  });

  it('draws checks without data as hollow points and breaks the line there', () => {
    const svg = renderSvgTimeline(fixture('inconclusive'));
    expect(svg.match(/class="point point-inconclusive"/g)).toHaveLength(3);
    expect(svg).toMatch(/<circle [^>]*fill="#ffffff"[^>]*class="point point-inconclusive">/);
    expect(svg).not.toContain('<polyline');
    const gappy = fixture('rolled-back');
    Object.assign(gappy.checks.find((c) => c.metric === 'error-rate' && c.step === 1)!, {
      value: null,
      result: 'inconclusive',
    });
    expect(renderSvgTimeline(gappy).match(/<polyline /g)).toHaveLength(2);
  });

  it('escapes text from the report', () => {
    const report = fixture('rolled-back');
    report.name = `<script>alert("x")</script> & 'co'`;
    const svg = renderSvgTimeline(report);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).not.toContain('<script');
    expect(svg).toContain(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;co&apos; — error-rate',
    );
  });

  it('honours the size and the metric asked for', () => {
    const svg = renderSvgTimeline(fixture('rolled-back'), { metric: 'p95-latency', width: 640, height: 300 });
    expect(parse(svg).svg).toMatchObject({ width: '640', height: '300', viewBox: '0 0 640 300' });
    expect(svg).toContain('<title id="gantry-title">web — p95-latency</title>');
  });

  it('says so when there is nothing to draw', () => {
    const report: RolloutReport = { ...fixture('inconclusive'), checks: [] };
    const svg = renderSvgTimeline(report);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain('No analysis checks in this run');
    expect(renderSvgTimeline(fixture('inconclusive'))).toContain('p95-latency returned no data (3 checks)');
  });

  it.each(fixtures.flatMap((name) => [360, 800].map((width) => [name, width] as const)))(
    '%s at %i px: no text runs off the image',
    (name, width) => {
      const svg = renderSvgTimeline(fixture(name), { width });
      for (const text of texts(svg)) {
        const content = text['#text'] ?? '';
        const x = Number(text.x);
        // Estimated as the renderer does, with the widest glyphs of the font in mind.
        const extent = [...content].length * Number(text['font-size']) * 0.6;
        const start =
          text['text-anchor'] === 'end' ? x - extent : text['text-anchor'] === 'middle' ? x - extent / 2 : x;
        expect.soft(start, content).toBeGreaterThanOrEqual(0);
        expect.soft(start + extent, content).toBeLessThanOrEqual(width);
      }
    },
  );

  it('gives the same bytes for the same report', async () => {
    const svg = renderSvgTimeline(fixture('rolled-back'));
    expect(renderSvgTimeline(fixture('rolled-back'))).toBe(svg);
    await expect(svg).toMatchFileSnapshot('./__snapshots__/rolled-back.svg');
  });
});

describe('renderSvgTimeline: the judge says why', () => {
  const reasonTexts = (svg: string) =>
    texts(svg)
      .filter((t) => t.class === 'judge-reason')
      .map((t) => t['#text']);

  it("shows a sequential judge's verdict line under the verdict, wrapped, and pushes the plot down", () => {
    const report = fixture('rolled-back');
    const message =
      'errors 30% vs 0.5% on stable: a regression, conclusive after 40 canary and 160 stable requests (false-rollback risk < 1%)';
    for (const check of report.checks) {
      if (check.metric !== 'error-rate') continue;
      delete check.max;
      Object.assign(check, { kind: 'sequential' });
      if (check.result === 'fail') check.message = message;
    }
    const svg = renderSvgTimeline(report);
    const lines = reasonTexts(svg);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.join(' ')).toBe(`sequential judge: ${message}`);
    expect(svg).toContain(`<desc id="gantry-desc">error-rate of web`);
    expect(svg).toMatch(/rolled-back\. sequential judge: errors 30% vs 0\.5% on stable: a regression/);
    // The verdict above it says only where; no threshold to speak of.
    expect(texts(svg)[2]!['#text']).toBe('error-rate failed at step 2 (25%) · shop · canary via replicas');
    // The step labels moved down with the plot, below the reason.
    const stepLabel = texts(svg).find((t) => t.class === 'step-label')!;
    expect(Number(stepLabel.y)).toBeGreaterThan(68 + 16 * (lines.length - 1));
  });

  it("shows the last verdict of a promoted rollout's Mann-Whitney metric", () => {
    const report = fixture('promoted');
    const metric = report.checks[0]!.metric;
    const mine = report.checks.filter((check) => check.metric === metric);
    Object.assign(mine.at(-1)!, {
      kind: 'compare',
      message: 'canary median 21 vs stable 20: no significant increase (p = 0.41)',
    });
    const svg = renderSvgTimeline(report, { metric });
    expect(reasonTexts(svg)).toEqual([
      'Mann-Whitney: canary median 21 vs stable 20: no significant increase (p = 0.41)',
    ]);
  });

  it.each(fixtures)('%s: threshold metrics get no such line (the chart shows their bound)', (name) => {
    expect(reasonTexts(renderSvgTimeline(fixture(name)))).toEqual([]);
  });
});
