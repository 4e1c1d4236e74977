/**
 * The timeline as a Mermaid `xychart-beta` block, for the places that render Mermaid but not an inline SVG
 * (GitHub job summaries, GitLab merge-request notes). It draws the same story as the SVG, within what the
 * xychart grammar allows: a categorical x axis, and lines without gaps or per-point colours.
 */
import type { RolloutReport } from '../deploy/types.js';
import { type Bounds, escapeMarkdown, formatNumber, formatTick, mermaidNumber } from './format.js';
import { buildTimeline, chartMetric, niceScale, type TimelinePoint } from './timeline.js';

/** Beyond this many x categories Mermaid's labels run into each other (it neither rotates nor thins them). */
export const MERMAID_MAX_POINTS = 24;

const VALUE_COLOUR = '#2563eb';
const THRESHOLD_COLOUR = '#dc2626';

/**
 * Renders `metric` (default: the first that failed, else the first) as a fenced ```` ```mermaid ```` block:
 * one line for the values and one flat line per threshold, over seconds since the rollout started. Checks
 * without data cannot be drawn (xychart lines have no gaps); the title says how many there were. With more
 * than {@link MERMAID_MAX_POINTS} checks, neighbours are merged, keeping the worst value of each group so a
 * breach is never smoothed away. When the metric has no value at all, returns a one-line Markdown note
 * instead of an empty chart.
 */
export function renderMermaidTimeline(report: RolloutReport, metric?: string): string {
  const chosen = metric ?? chartMetric(report);
  if (chosen === undefined) return '_No analysis checks: there is no timeline to draw._';
  const timeline = buildTimeline(report, chosen);
  const measured = timeline.points.filter(
    (point): point is TimelinePoint & { value: number } => point.value !== null,
  );
  const withoutData = timeline.points.length - measured.length;
  if (timeline.points.length === 0)
    return `_No checks of ${escapeMarkdown(chosen)} in this run: there is no timeline to draw._`;
  if (measured.length === 0) {
    const noun = withoutData === 1 ? 'check' : 'checks';
    return `_${escapeMarkdown(chosen)}: no data in ${withoutData} ${noun}, so there is no timeline to draw._`;
  }

  const points = thin(measured, timeline.bounds, MERMAID_MAX_POINTS);
  const useMinutes = timeline.endSeconds >= 600;
  const labels = uniqueLabels(
    points.map((point) => (useMinutes ? (point.seconds / 60).toFixed(1) : String(Math.round(point.seconds)))),
  );

  const thresholds: Array<[string, number]> = [];
  if (timeline.bounds.min !== undefined)
    thresholds.push([`min ${formatNumber(timeline.bounds.min)}`, timeline.bounds.min]);
  if (timeline.bounds.max !== undefined)
    thresholds.push([`max ${formatNumber(timeline.bounds.max)}`, timeline.bounds.max]);

  // Unlike the SVG, Mermaid cannot pin an outlier to the edge, so the axis takes in every value.
  const everything = [...points.map((point) => point.value), ...thresholds.map(([, value]) => value)];
  const low = Math.min(...everything);
  const high = Math.max(...everything);
  const scale = niceScale(low >= 0 && low <= (high - low) * 1.5 ? 0 : low, high + (high - low) * 0.05, 5);

  const title = `${report.name} — ${chosen}${withoutData > 0 ? ` (${withoutData} without data, not drawn)` : ''}`;
  const palette = [VALUE_COLOUR, ...thresholds.map(() => THRESHOLD_COLOUR)].join(', ');
  const lines = [
    '```mermaid',
    `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${palette}"}}}}%%`,
    'xychart-beta',
    `    title ${quote(title)}`,
    `    x-axis ${quote(useMinutes ? 'minutes since start' : 'seconds since start')} [${labels.map(quote).join(', ')}]`,
    `    y-axis ${quote(chosen)} ${formatTick(scale.min, scale.step)} --> ${formatTick(scale.max, scale.step)}`,
    `    line ${quote(chosen)} [${points.map((point) => mermaidNumber(point.value)).join(', ')}]`,
    ...thresholds.map(
      ([name, value]) => `    line ${quote(name)} [${points.map(() => mermaidNumber(value)).join(', ')}]`,
    ),
    '```',
  ];
  return lines.join('\n');
}

/**
 * A double-quoted xychart string. The grammar has no escape inside strings, so `"` becomes `'`; line breaks
 * and `%%` (a comment to Mermaid) are flattened too.
 */
function quote(text: string): string {
  return `"${text
    .replace(/"/g, "'")
    .replace(/[\r\n]+/g, ' ')
    .replace(/%%/g, '%')}"`;
}

/** Categories must differ, or Mermaid's band scale folds them into one. */
function uniqueLabels(labels: string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map((label) => {
    const count = (seen.get(label) ?? 0) + 1;
    seen.set(label, count);
    return count === 1 ? label : `${label} (${count})`;
  });
}

/** How far outside its bounds a value is, relative to the bound; higher is worse. */
function badness(value: number, bounds: Bounds): number {
  const scores: number[] = [];
  if (bounds.max !== undefined) scores.push((value - bounds.max) / (Math.abs(bounds.max) || 1));
  if (bounds.min !== undefined) scores.push((bounds.min - value) / (Math.abs(bounds.min) || 1));
  return scores.length === 0 ? value : Math.max(...scores);
}

/** At most `limit` points: consecutive groups, each represented by its worst point (failures first). */
function thin<T extends TimelinePoint & { value: number }>(points: T[], bounds: Bounds, limit: number): T[] {
  if (points.length <= limit) return points;
  const groupSize = Math.ceil(points.length / limit);
  const kept: T[] = [];
  for (let start = 0; start < points.length; start += groupSize) {
    const group = points.slice(start, start + groupSize);
    const worst = group.reduce((a, b) => {
      const aFail = a.result === 'fail' ? 1 : 0;
      const bFail = b.result === 'fail' ? 1 : 0;
      if (aFail !== bFail) return bFail > aFail ? b : a;
      return badness(b.value, bounds) > badness(a.value, bounds) ? b : a;
    });
    kept.push(worst);
  }
  return kept;
}
