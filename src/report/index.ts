/**
 * The run report of a rollout (DESIGN.md, "Visible"): JSON for machines, Markdown for job summaries and
 * merge-request notes (with a Mermaid timeline), and an SVG timeline for artifacts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RolloutReport } from '../deploy/types.js';
import { InputError } from '../util/errors.js';
import { renderJson } from './json.js';
import { type MarkdownOptions, renderRolloutMarkdown } from './markdown.js';
import { renderSvgTimeline } from './svg.js';

// ---------------------------------------------------------------------------------------------------------
// Renderers (pure)

export { formatNumber, formatThreshold } from './format.js';
export { renderJson } from './json.js';
export { type MarkdownOptions, renderRolloutMarkdown } from './markdown.js';
export { MERMAID_MAX_POINTS, renderMermaidTimeline } from './mermaid.js';
export { renderSvgTimeline, type SvgOptions } from './svg.js';
export { chartMetric } from './timeline.js';
export { decisiveCheck, VERDICT_STATUS, type VerdictParts, verdictLine, verdictParts } from './verdict.js';

// ---------------------------------------------------------------------------------------------------------
// Files

export interface WriteReportsOptions {
  /** Directory to write into; created when missing. */
  dir: string;
  /** File name without extension: `<basename>.json`, `.md`, `.svg`. */
  basename: string;
  /** The Markdown's chart (default `mermaid`); `svg-link` links the SVG written beside it. */
  chart?: MarkdownOptions['chart'];
  /** The metric to chart; by default the one that failed, else the first. */
  metric?: string;
}

export interface ReportPaths {
  json: string;
  markdown: string;
  svg: string;
}

export { prepareReportDir } from '../util/report-dir.js';

/**
 * Writes the report as `<dir>/<basename>.json`, `.md` and `.svg` and returns the three paths.
 *
 * @example
 * ```ts
 * const paths = await writeReports(report, { dir: 'gantry-reports', basename: `rollout-${report.runId}` });
 * ```
 */
export async function writeReports(
  report: RolloutReport,
  options: WriteReportsOptions,
): Promise<ReportPaths> {
  const { dir, basename } = options;
  if (!basename || /[/\\]/.test(basename) || basename === '.' || basename === '..') {
    throw new InputError('report basename', `expected a file name without directories, got "${basename}"`);
  }
  const paths: ReportPaths = {
    json: join(dir, `${basename}.json`),
    markdown: join(dir, `${basename}.md`),
    svg: join(dir, `${basename}.svg`),
  };
  const chart = options.chart ?? 'mermaid';
  const markdown = renderRolloutMarkdown(report, {
    chart,
    ...(chart === 'svg-link' ? { svgPath: `${basename}.svg` } : {}),
    ...(options.metric === undefined ? {} : { metric: options.metric }),
  });
  const svg = renderSvgTimeline(report, options.metric === undefined ? {} : { metric: options.metric });
  await mkdir(dir, { recursive: true });
  await writeFile(paths.json, renderJson(report));
  await writeFile(paths.markdown, markdown);
  await writeFile(paths.svg, svg);
  return paths;
}
