import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  renderJson,
  renderRolloutMarkdown,
  renderSvgTimeline,
  writeReports,
} from '../../../src/report/index.js';
import { fixture } from './helpers.js';

describe('renderJson', () => {
  it('keeps the contract key order whatever order the object was built in', () => {
    const report = fixture('rolled-back');
    const shuffled = Object.fromEntries(Object.entries(report).reverse()) as typeof report;
    shuffled.timings = Object.fromEntries(Object.entries(report.timings).reverse()) as typeof report.timings;
    const json = renderJson(shuffled);
    expect(json).toBe(renderJson(report));
    expect(Object.keys(JSON.parse(json))).toEqual([
      'verdict',
      'name',
      'namespace',
      'strategy',
      'router',
      'runId',
      'revision',
      'previousImage',
      'image',
      'reason',
      'steps',
      'checks',
      'timings',
    ]);
    expect(Object.keys(JSON.parse(json).checks[0])).toEqual([
      'metric',
      'step',
      'at',
      'value',
      'max',
      'result',
      'message',
    ]);
  });

  it('indents by 2, ends with a newline, and loses nothing', () => {
    const report = fixture('promoted');
    const json = renderJson(report);
    expect(json.split('\n')[1]).toBe('  "verdict": "promoted",');
    expect(json.endsWith('}\n')).toBe(true);
    expect(JSON.parse(json)).toEqual(report);
  });

  it('puts the versioned config after the image, each entry kind, name, version, previous', () => {
    const report = {
      ...fixture('promoted'),
      config: [
        { previous: null, version: 'web-config-0123456789', name: 'web-config', kind: 'ConfigMap' as const },
      ],
    };
    const parsed = JSON.parse(renderJson(report));
    expect(Object.keys(parsed).slice(8, 11)).toEqual(['image', 'config', 'reason']);
    expect(Object.keys(parsed.config[0])).toEqual(['kind', 'name', 'version', 'previous']);
  });

  it('puts fields outside the contract after it, alphabetically', () => {
    const report = { ...fixture('inconclusive'), zeta: 1, alpha: 2 };
    expect(Object.keys(JSON.parse(renderJson(report))).slice(-3)).toEqual(['timings', 'alpha', 'zeta']);
  });
});

describe('writeReports', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes the JSON, the Markdown and the SVG side by side', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-report-'));
    const report = fixture('rolled-back');
    const paths = await writeReports(report, { dir: join(dir, 'nested'), basename: 'rollout-web' });
    expect(paths).toEqual({
      json: join(dir, 'nested', 'rollout-web.json'),
      markdown: join(dir, 'nested', 'rollout-web.md'),
      svg: join(dir, 'nested', 'rollout-web.svg'),
    });
    expect(await readFile(paths.json, 'utf8')).toBe(renderJson(report));
    expect(await readFile(paths.markdown, 'utf8')).toBe(renderRolloutMarkdown(report));
    expect(await readFile(paths.svg, 'utf8')).toBe(renderSvgTimeline(report));
  });

  it('links the SVG from the Markdown when asked', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-report-'));
    const paths = await writeReports(fixture('promoted'), { dir, basename: 'run', chart: 'svg-link' });
    expect(await readFile(paths.markdown, 'utf8')).toContain('](run.svg)');
  });

  it.each(['', '../escape', 'a/b', '..'])('refuses the basename %j', async (basename) => {
    await expect(writeReports(fixture('promoted'), { dir: tmpdir(), basename })).rejects.toThrow(
      /report basename/,
    );
  });
});
