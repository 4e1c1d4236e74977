/**
 * The timeline as a standalone SVG: one metric's values over the rollout, the threshold, the steps and
 * the moments the rollback happened. No scripts, no external fonts or styles; the same report always gives
 * the same bytes, so it can be snapshot-tested and diffed.
 */
import type { Check, RolloutReport } from '../deploy/types.js';
import { escapeXml, formatNumber, formatOffset, formatThreshold, formatTick } from './format.js';
import {
  buildTimeline,
  chartMetric,
  type MarkerKind,
  niceScale,
  type Timeline,
  type TimelineMarker,
  type TimelinePoint,
  valueRange,
} from './timeline.js';
import { verdictParts } from './verdict.js';

export interface SvgOptions {
  /** The metric to draw; by default the first that failed, else the first that had no data, else the first. */
  metric?: string;
  /** Pixels (default 800). */
  width?: number;
  /** Pixels (default 400). */
  height?: number;
}

const FONT = "system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', Helvetica, Arial, sans-serif";

// GitHub's Primer palette: readable on white, and red/green told apart by shape and dash too.
const COLOUR = {
  text: '#1f2328',
  muted: '#59636e',
  grid: '#d1d9e0',
  axis: '#59636e',
  band: '#f6f8fa',
  value: '#0969da',
  fail: '#cf222e',
  noData: '#59636e',
  threshold: '#cf222e',
  abort: '#cf222e',
  restored: '#1a7f37',
  promoted: '#1a7f37',
} as const;

const VERDICT_COLOUR = { promoted: '#1a7f37', 'rolled-back': '#cf222e', failed: '#9a6700' } as const;

const MARKER_STYLE: Record<MarkerKind, { colour: string; dash: string }> = {
  abort: { colour: COLOUR.abort, dash: '' },
  'traffic-restored': { colour: COLOUR.restored, dash: '4 3' },
  promoted: { colour: COLOUR.promoted, dash: '' },
};

/**
 * Renders the timeline of one metric as an SVG document.
 *
 * @example
 * ```ts
 * await fs.writeFile('rollout.svg', renderSvgTimeline(report, { metric: 'error-rate' }));
 * ```
 */
export function renderSvgTimeline(report: RolloutReport, options: SvgOptions = {}): string {
  const width = Math.max(320, Math.round(options.width ?? 800));
  const height = Math.max(200, Math.round(options.height ?? 400));
  const metric = options.metric ?? chartMetric(report) ?? '';
  const timeline = buildTimeline(report, metric);
  return new TimelineSvg(report, timeline, width, height).render();
}

// ---------------------------------------------------------------------------------------------------------
// Geometry helpers

/** Coordinates with one decimal: enough for a screen, and stable text for snapshots. */
function px(value: number): string {
  const text = (Math.round(value * 10) / 10).toFixed(1).replace(/\.0$/, '');
  return text === '-0' ? '0' : text;
}

/**
 * A generous estimate of text width (there are no font metrics without a browser): DejaVu Sans, the widest
 * common fallback, averages about 0.55 em a character and 0.64 em a digit; bold runs wider.
 */
function textWidth(text: string, fontSize: number, bold = false): number {
  return [...text].length * fontSize * (bold ? 0.66 : 0.6);
}

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Something a label should not cover, and how bad covering it is (text is worst, a stretch of line least). */
interface Obstacle extends Rect {
  weight: number;
}

const WEIGHT = { text: 20, point: 4, marker: 3, line: 1 } as const;

function overlapArea(a: Rect, b: Rect): number {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return width > 0 && height > 0 ? width * height : 0;
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

type Anchor = 'start' | 'middle' | 'end';

interface LabelCandidate {
  x: number;
  /** Baseline. */
  y: number;
  anchor: Anchor;
}

// ---------------------------------------------------------------------------------------------------------
// Renderer

class TimelineSvg {
  private readonly parts: string[] = [];
  /** Areas already covered by labels and points; later labels avoid them. */
  private readonly taken: Obstacle[] = [];
  private readonly plot: { left: number; right: number; top: number; bottom: number };
  private readonly yScale: { min: number; max: number; step: number; ticks: number[] };
  private readonly xMax: number;
  private readonly legendRows: LegendItem[][];
  /** The judge's own verdict line, wrapped (none for threshold metrics: the chart shows their bound). */
  private readonly reasonLines: string[];

  constructor(
    private readonly report: RolloutReport,
    private readonly timeline: Timeline,
    private readonly width: number,
    private readonly height: number,
  ) {
    const values = timeline.points.map((p) => p.value).filter((v): v is number => v !== null);
    const range = valueRange(values, timeline.bounds);
    this.yScale = niceScale(range.low, range.high, 5);
    const longestTick = Math.max(...this.yScale.ticks.map((t) => formatTick(t, this.yScale.step).length));
    const left = Math.max(48, Math.ceil(16 + textWidth('0'.repeat(longestTick), 11)));
    this.legendRows = layoutLegend(this.legendItems(), left, width - 16);
    const legendHeight = 18 * this.legendRows.length;
    const reason = judgeReason(report, timeline.metric);
    this.reasonLines = reason ? wrap(reason, width - 32, 12, 2) : [];
    const top = 84 + 16 * this.reasonLines.length;
    this.plot = { left, right: width - 24, top, bottom: height - 46 - legendHeight };
    // Room after the last event: a little so its marker is not drawn on the frame, and enough for the
    // labels of the last markers, which read best after the line they name.
    const plotWidth = this.plot.right - this.plot.left;
    const lastMarker = Math.max(0, ...timeline.markers.map((marker) => marker.seconds));
    const widestMarkerLabel = Math.max(
      0,
      ...timeline.markers.map((marker) => textWidth(marker.label, 11, true)),
    );
    const labelRoom = Math.min(plotWidth * 0.4, widestMarkerLabel + 10);
    this.xMax = Math.max(timeline.endSeconds * 1.02, (lastMarker * plotWidth) / (plotWidth - labelRoom));
  }

  private x(seconds: number): number {
    const { left, right } = this.plot;
    return left + (Math.min(Math.max(seconds, 0), this.xMax) / this.xMax) * (right - left);
  }

  private y(value: number): number {
    const { top, bottom } = this.plot;
    const { min, max } = this.yScale;
    return bottom - ((value - min) / (max - min)) * (bottom - top);
  }

  private isAbove(value: number): boolean {
    return value > this.yScale.max;
  }

  private isBelow(value: number): boolean {
    return value < this.yScale.min;
  }

  /** y of a value, pinned to the plot's edge when it lies outside the scale. */
  private yPinned(value: number): number {
    if (this.isAbove(value)) return this.plot.top;
    if (this.isBelow(value)) return this.plot.bottom;
    return this.y(value);
  }

  render(): string {
    const { report, timeline, width, height } = this;
    const title = `${report.name} — ${timeline.metric}`;
    const reason = judgeReason(report, timeline.metric);
    const description = `${timeline.metric} of ${report.name} in ${report.namespace} during the ${report.strategy} rollout, threshold ${formatThreshold(timeline.bounds)}: ${report.verdict}.${reason ? ` ${reason}.` : ''}`;
    this.parts.push(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="gantry-title gantry-desc" font-family="${escapeXml(FONT)}">`,
      `<title id="gantry-title">${escapeXml(title)}</title>`,
      `<desc id="gantry-desc">${escapeXml(description)}</desc>`,
      `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    );
    this.header(title);
    this.stepBands();
    this.valueAxis();
    this.timeAxis();
    this.thresholds();
    this.markerLines();
    this.values();
    this.markerLabels();
    this.frame();
    this.legend();
    const measured = timeline.points.filter((point) => point.value !== null).length;
    if (measured === 0) {
      const count = timeline.points.length;
      const text =
        count > 0
          ? `${timeline.metric} returned no data (${count} ${count === 1 ? 'check' : 'checks'})`
          : timeline.metric
            ? `No checks of ${timeline.metric} in this run`
            : 'No analysis checks in this run';
      this.text(text, (this.plot.left + this.plot.right) / 2, (this.plot.top + this.plot.bottom) / 2, {
        anchor: 'middle',
        size: 13,
        fill: COLOUR.muted,
      });
    }
    this.parts.push('</svg>');
    return `${this.parts.join('\n')}\n`;
  }

  // --- pieces --------------------------------------------------------------------------------------------

  private header(title: string): void {
    const { report, width } = this;
    const verdict = verdictParts(report);
    const pillText = verdict.status;
    const pillWidth = textWidth(pillText, 12, true) + 16;
    const pillX = width - 24 - pillWidth;
    const colour = VERDICT_COLOUR[report.verdict] ?? COLOUR.muted;
    this.parts.push(
      `<rect x="${px(pillX)}" y="12" width="${px(pillWidth)}" height="20" rx="10" fill="${colour}"/>`,
    );
    this.text(pillText, pillX + pillWidth / 2, 26, {
      anchor: 'middle',
      size: 12,
      bold: true,
      fill: '#ffffff',
    });

    const titleRoom = pillX - 16 - 16;
    this.text(truncate(title, titleRoom, 16, true), 16, 28, { size: 16, bold: true });

    // The verdict, then as many whole facts as fit; only the verdict itself is ever cut short.
    const facts = [
      report.namespace,
      `${report.strategy} via ${report.router}`,
      `threshold ${formatThreshold(this.timeline.bounds)}`,
    ];
    // A judge's metric without bounds has no threshold to speak of: its sentence says how it was judged.
    if (this.reasonLines.length > 0 && formatThreshold(this.timeline.bounds) === '—') facts.pop();
    // With the judge's sentence on a line of its own, the verdict only says where it failed.
    const decisive = verdict.decisiveCheck;
    const detail =
      this.reasonLines.length > 0 && decisive?.message
        ? verdict.detail.replace(`${decisive.metric}: ${decisive.message}`, `${decisive.metric} failed`)
        : verdict.detail;
    let subtitle = truncate(detail, width - 32, 12);
    for (const fact of facts) {
      if (textWidth(`${subtitle} · ${fact}`, 12) > width - 32) break;
      subtitle = `${subtitle} · ${fact}`;
    }
    this.text(subtitle, 16, 50, { size: 12, fill: COLOUR.muted });
    // The judge's one-line reason (sequential, Mann-Whitney), under the verdict.
    this.reasonLines.forEach((line, i) => {
      this.text(line, 16, 68 + 16 * i, { size: 12, fill: COLOUR.text, cls: 'judge-reason' });
    });
  }

  private stepBands(): void {
    const { steps, endSeconds } = this.timeline;
    const { top, bottom } = this.plot;
    steps.forEach((step, i) => {
      const next = steps[i + 1];
      const end = step.endSeconds ?? next?.startSeconds ?? endSeconds;
      const x0 = this.x(step.startSeconds);
      const x1 = this.x(Math.max(end, step.startSeconds));
      if (i % 2 === 0) {
        this.parts.push(
          `<rect x="${px(x0)}" y="${px(top)}" width="${px(x1 - x0)}" height="${px(bottom - top)}" fill="${COLOUR.band}"/>`,
        );
      }
      this.parts.push(
        `<line x1="${px(x0)}" y1="${px(top - 14)}" x2="${px(x0)}" y2="${px(bottom)}" stroke="${COLOUR.axis}" stroke-width="1" class="step-boundary"/>`,
      );
      // The step's weight above its band; the longer form when the band has room for it.
      const weight = `${formatNumber(step.weight)}%`;
      const long = `step ${step.index + 1} · ${weight}`;
      const failed = step.result === 'failed' || step.result === 'aborted';
      const label = textWidth(long, 12, true) + 8 <= x1 - x0 ? long : weight;
      const labelX = Math.max(
        x0 + 4,
        Math.min((x0 + x1) / 2 - textWidth(label, 12, true) / 2, this.plot.right),
      );
      const rect = { x: labelX - 2, y: top - 28, width: textWidth(label, 12, true) + 4, height: 16 };
      if (this.taken.some((r) => overlaps(r, rect))) return;
      this.taken.push({ ...rect, weight: WEIGHT.text });
      this.text(label, labelX, top - 16, {
        size: 12,
        bold: true,
        fill: failed ? COLOUR.fail : COLOUR.text,
        cls: 'step-label',
      });
    });
  }

  private valueAxis(): void {
    const { left, right } = this.plot;
    for (const tick of this.yScale.ticks) {
      const y = this.y(tick);
      this.parts.push(
        `<line x1="${px(left)}" y1="${px(y)}" x2="${px(right)}" y2="${px(y)}" stroke="${COLOUR.grid}" stroke-width="1"/>`,
      );
      this.text(formatTick(tick, this.yScale.step), left - 8, y + 4, {
        anchor: 'end',
        size: 11,
        fill: COLOUR.muted,
      });
    }
  }

  private timeAxis(): void {
    const { left, right, bottom } = this.plot;
    const step = timeTickStep(this.xMax, right - left);
    for (let seconds = 0; seconds <= this.xMax + 1e-9; seconds += step) {
      const x = this.x(seconds);
      this.parts.push(
        `<line x1="${px(x)}" y1="${px(bottom)}" x2="${px(x)}" y2="${px(bottom + 5)}" stroke="${COLOUR.axis}" stroke-width="1"/>`,
      );
      const label = seconds === 0 ? '0' : formatOffset(seconds * 1000, '');
      this.text(label, x, bottom + 18, { anchor: 'middle', size: 11, fill: COLOUR.muted });
    }
    this.text('time since the rollout started', (left + right) / 2, bottom + 36, {
      anchor: 'middle',
      size: 11,
      fill: COLOUR.muted,
    });
  }

  private thresholds(): void {
    const { left, right } = this.plot;
    const { min, max } = this.timeline.bounds;
    const lines: Array<[string, number, 'above' | 'below']> = [];
    if (max !== undefined) lines.push([`max ${formatNumber(max)}`, max, 'above']);
    if (min !== undefined) lines.push([`min ${formatNumber(min)}`, min, 'below']);
    for (const [label, value, side] of lines) {
      const y = this.y(value);
      this.parts.push(
        `<line x1="${px(left)}" y1="${px(y)}" x2="${px(right)}" y2="${px(y)}" stroke="${COLOUR.threshold}" stroke-width="1.5" stroke-dasharray="6 4" class="threshold"/>`,
      );
      // The label sits on the side of the line where values fail, at the left: the start of a rollout is
      // calm, while its end is where the breach, the abort and the restoration crowd together.
      const baseline = side === 'above' ? y - 5 : y + 14;
      const labelWidth = textWidth(label, 11, true);
      this.taken.push({ x: left + 6, y: baseline - 11, width: labelWidth, height: 14, weight: WEIGHT.text });
      this.text(label, left + 6, baseline, { size: 11, bold: true, fill: COLOUR.threshold });
    }
  }

  private markerLines(): void {
    const { top, bottom } = this.plot;
    for (const marker of this.timeline.markers) {
      const x = this.x(marker.seconds);
      const style = MARKER_STYLE[marker.kind];
      const dash = style.dash ? ` stroke-dasharray="${style.dash}"` : '';
      this.parts.push(
        `<line x1="${px(x)}" y1="${px(top)}" x2="${px(x)}" y2="${px(bottom)}" stroke="${style.colour}" stroke-width="1.5"${dash} class="marker marker-${marker.kind}"/>`,
      );
      // No label may be crossed by a marker line.
      this.taken.push({ x: x - 1.5, y: top, width: 3, height: bottom - top, weight: WEIGHT.marker });
    }
    this.reservePoints();
  }

  /**
   * Marker labels, beside their line. The abort and the restoration are often a second apart: markers that
   * close form a group whose labels stack on one side of it, in time order, so each label stays next to
   * lines of its own colour and none is crossed by another marker.
   */
  private markerLabels(): void {
    const { top } = this.plot;
    const style = (kind: MarkerKind) => ({ size: 11, fill: MARKER_STYLE[kind].colour, bold: true });
    const rows = (positions: Array<Omit<LabelCandidate, 'y'>>, firstRow = 0): LabelCandidate[] =>
      Array.from({ length: 8 - firstRow }, (_, r) =>
        positions.map((p) => ({ ...p, y: top + 16 + (firstRow + r) * 15 })),
      ).flat();

    for (const group of this.markerGroups()) {
      const xs = group.map((marker) => this.x(marker.seconds));
      if (group.length === 1) {
        const [marker] = group;
        const x = xs[0]!;
        const sides: Array<Omit<LabelCandidate, 'y'>> = [
          { x: x + 4, anchor: 'start' },
          { x: x - 4, anchor: 'end' },
        ];
        this.placeLabel(marker!.label, rows(sides), style(marker!.kind), true);
        continue;
      }
      const left: Omit<LabelCandidate, 'y'> = { x: Math.min(...xs) - 4, anchor: 'end' };
      const right: Omit<LabelCandidate, 'y'> = { x: Math.max(...xs) + 4, anchor: 'start' };
      // The side where every label of the group fits, after the lines first, as for a single marker.
      const widest = Math.max(...group.map((marker) => textWidth(marker.label, 11, true)));
      const sides = [
        ...(right.x + widest <= this.plot.right - 2 ? [right] : []),
        ...(left.x - widest >= this.plot.left + 2 ? [left] : []),
      ];
      let candidates = sides.flatMap((side) => rows([side]));
      for (const marker of group) {
        const placed = this.placeLabel(marker.label, candidates, style(marker.kind), true);
        if (!placed) continue;
        // The rest of the group goes below it, on the same side.
        const row = Math.round((placed.y - top - 16) / 15) + 1;
        candidates = rows([placed.anchor === 'end' ? left : right], Math.min(row, 7));
      }
    }
  }

  /** Markers in time order, grouped when their lines are less than 40 px apart. */
  private markerGroups(): TimelineMarker[][] {
    const sorted = [...this.timeline.markers].sort((a, b) => a.seconds - b.seconds);
    const groups: TimelineMarker[][] = [];
    for (const marker of sorted) {
      const last = groups[groups.length - 1];
      const previous = last?.[last.length - 1];
      if (last && previous && this.x(marker.seconds) - this.x(previous.seconds) < 40) last.push(marker);
      else groups.push([marker]);
    }
    return groups;
  }

  /** Points are obstacles for labels (but labels are placed before points are drawn, so they sit under). */
  private reservePoints(): void {
    for (const point of this.timeline.points) {
      const { cx, cy } = this.pointPosition(point);
      this.taken.push({ x: cx - 5, y: cy - 5, width: 10, height: 10, weight: WEIGHT.point });
    }
    // The value line too, as small squares every few pixels along each segment.
    const measured = this.timeline.points.filter((point) => point.value !== null);
    for (let i = 1; i < measured.length; i++) {
      const a = this.pointPosition(measured[i - 1]!);
      const b = this.pointPosition(measured[i]!);
      const samples = Math.ceil(Math.hypot(b.cx - a.cx, b.cy - a.cy) / 4);
      for (let k = 1; k < samples; k++) {
        const t = k / samples;
        const x = a.cx + (b.cx - a.cx) * t;
        const y = a.cy + (b.cy - a.cy) * t;
        this.taken.push({ x: x - 2, y: y - 2, width: 4, height: 4, weight: WEIGHT.line });
      }
    }
  }

  private pointPosition(point: TimelinePoint): { cx: number; cy: number } {
    const cx = this.x(point.seconds);
    // No data has no height: such checks sit just above the time axis.
    const cy = point.value === null ? this.plot.bottom - 6 : this.yPinned(point.value);
    return { cx, cy };
  }

  private values(): void {
    const { points } = this.timeline;
    // Lines join consecutive measured checks; a check without data breaks the line.
    const segments: TimelinePoint[][] = [[]];
    for (const point of points) {
      if (point.value === null) {
        if (segments[segments.length - 1]!.length > 0) segments.push([]);
      } else segments[segments.length - 1]!.push(point);
    }
    for (const segment of segments.filter((s) => s.length > 1)) {
      const coords = segment.map((p) => {
        const { cx, cy } = this.pointPosition(p);
        return `${px(cx)},${px(cy)}`;
      });
      this.parts.push(
        `<polyline points="${coords.join(' ')}" fill="none" stroke="${COLOUR.value}" stroke-width="2" stroke-linejoin="round" class="values"/>`,
      );
    }

    const failures = points.filter((p) => p.result === 'fail');
    for (const point of points) {
      const { cx, cy } = this.pointPosition(point);
      const tooltip = `<title>${escapeXml(this.tooltip(point))}</title>`;
      if (point.value !== null && (this.isAbove(point.value) || this.isBelow(point.value))) {
        // Off the scale: a triangle on the edge, pointing where the value is.
        const up = this.isAbove(point.value);
        const tip = up ? cy - 2 : cy + 2;
        const base = up ? cy + 8 : cy - 8;
        const fill = point.result === 'fail' ? COLOUR.fail : COLOUR.value;
        this.parts.push(
          `<polygon points="${px(cx)},${px(tip)} ${px(cx - 6)},${px(base)} ${px(cx + 6)},${px(base)}" fill="${fill}" class="point point-${point.result} off-scale">${tooltip}</polygon>`,
        );
      } else if (point.result === 'fail') {
        this.parts.push(
          `<circle cx="${px(cx)}" cy="${px(cy)}" r="4.5" fill="${COLOUR.fail}" stroke="#ffffff" stroke-width="1" class="point point-fail">${tooltip}</circle>`,
        );
      } else if (point.result === 'inconclusive') {
        this.parts.push(
          `<circle cx="${px(cx)}" cy="${px(cy)}" r="4" fill="#ffffff" stroke="${COLOUR.noData}" stroke-width="1.5" class="point point-inconclusive">${tooltip}</circle>`,
        );
      } else {
        this.parts.push(
          `<circle cx="${px(cx)}" cy="${px(cy)}" r="3" fill="${COLOUR.value}" class="point point-pass">${tooltip}</circle>`,
        );
      }
    }

    // Say the value of failures that are off the scale, and of the last failure; a few more when there
    // are few, never so many that they cover the chart.
    const labelled = failures.filter(
      (p, i) =>
        i === failures.length - 1 ||
        failures.length <= 3 ||
        (p.value !== null && (this.isAbove(p.value) || this.isBelow(p.value))),
    );
    for (const point of labelled.slice(-6)) {
      if (point.value === null) continue;
      const { cx, cy } = this.pointPosition(point);
      const up = this.isAbove(point.value);
      const candidates: LabelCandidate[] = [
        { x: cx + 9, y: cy + (up ? 12 : 4), anchor: 'start' },
        { x: cx - 9, y: cy + (up ? 12 : 4), anchor: 'end' },
        { x: cx, y: cy + (up ? 24 : -9), anchor: 'middle' },
        { x: cx + 9, y: cy + (up ? 26 : 18), anchor: 'start' },
        { x: cx - 9, y: cy + (up ? 26 : 18), anchor: 'end' },
        { x: cx, y: cy + 20, anchor: 'middle' },
      ];
      this.placeLabel(
        formatNumber(point.value),
        candidates,
        { size: 11, bold: true, fill: COLOUR.fail },
        true,
      );
    }
  }

  private tooltip(point: TimelinePoint): string {
    const when = formatOffset(point.seconds * 1000);
    const value = point.value === null ? 'no data' : formatNumber(point.value);
    const result = point.result === 'fail' ? 'FAIL' : point.result === 'inconclusive' ? 'no data' : 'pass';
    return `${when} step ${point.step + 1}: ${this.timeline.metric} ${value} (${result}, ${formatThreshold(this.timeline.bounds)})`;
  }

  private frame(): void {
    const { left, right, top, bottom } = this.plot;
    this.parts.push(
      `<line x1="${px(left)}" y1="${px(bottom)}" x2="${px(right)}" y2="${px(bottom)}" stroke="${COLOUR.axis}" stroke-width="1"/>`,
      `<line x1="${px(left)}" y1="${px(top)}" x2="${px(left)}" y2="${px(bottom)}" stroke="${COLOUR.axis}" stroke-width="1"/>`,
    );
  }

  private legendItems(): LegendItem[] {
    const { points, markers, bounds } = this.timeline;
    const items: LegendItem[] = [
      {
        label: this.timeline.metric || 'value',
        symbol: (x, y) =>
          `<line x1="${px(x)}" y1="${px(y)}" x2="${px(x + 14)}" y2="${px(y)}" stroke="${COLOUR.value}" stroke-width="2"/><circle cx="${px(x + 7)}" cy="${px(y)}" r="3" fill="${COLOUR.value}"/>`,
      },
    ];
    if (points.some((p) => p.result === 'fail')) {
      items.push({
        label: 'failed check',
        symbol: (x, y) => `<circle cx="${px(x + 7)}" cy="${px(y)}" r="4.5" fill="${COLOUR.fail}"/>`,
      });
    }
    if (points.some((p) => p.result === 'inconclusive')) {
      items.push({
        label: 'no data',
        symbol: (x, y) =>
          `<circle cx="${px(x + 7)}" cy="${px(y)}" r="4" fill="#ffffff" stroke="${COLOUR.noData}" stroke-width="1.5"/>`,
      });
    }
    if (points.some((p) => p.value !== null && (this.isAbove(p.value) || this.isBelow(p.value)))) {
      items.push({
        label: 'off the scale',
        symbol: (x, y) =>
          `<polygon points="${px(x + 7)},${px(y - 6)} ${px(x + 1)},${px(y + 4)} ${px(x + 13)},${px(y + 4)}" fill="${COLOUR.fail}"/>`,
      });
    }
    if (bounds.min !== undefined || bounds.max !== undefined) {
      items.push({
        label: `threshold ${formatThreshold(bounds)}`,
        symbol: (x, y) =>
          `<line x1="${px(x)}" y1="${px(y)}" x2="${px(x + 14)}" y2="${px(y)}" stroke="${COLOUR.threshold}" stroke-width="1.5" stroke-dasharray="4 3"/>`,
      });
    }
    for (const marker of markers) {
      const style = MARKER_STYLE[marker.kind];
      const dash = style.dash ? ` stroke-dasharray="${style.dash}"` : '';
      items.push({
        label: `${marker.label} ${formatOffset(marker.seconds * 1000)}`,
        symbol: (x, y) =>
          `<line x1="${px(x + 7)}" y1="${px(y - 7)}" x2="${px(x + 7)}" y2="${px(y + 7)}" stroke="${style.colour}" stroke-width="1.5"${dash}/>`,
      });
    }
    return items;
  }

  private legend(): void {
    this.legendRows.forEach((row, i) => {
      const y = this.height - 12 - 18 * (this.legendRows.length - 1 - i);
      let x = this.plot.left;
      for (const item of row) {
        this.parts.push(item.symbol(x, y));
        this.text(item.label, x + 20, y + 4, { size: 11, fill: COLOUR.muted });
        x += legendItemWidth(item);
      }
    });
  }

  // --- text ------------------------------------------------------------------------------------------------

  private text(
    content: string,
    x: number,
    y: number,
    style: { anchor?: Anchor; size: number; bold?: boolean; fill?: string; cls?: string },
  ): void {
    const anchor = style.anchor && style.anchor !== 'start' ? ` text-anchor="${style.anchor}"` : '';
    const weight = style.bold ? ' font-weight="600"' : '';
    const cls = style.cls ? ` class="${style.cls}"` : '';
    this.parts.push(
      `<text x="${px(x)}" y="${px(y)}" font-size="${style.size}"${weight} fill="${style.fill ?? COLOUR.text}"${anchor}${cls}>${escapeXml(content)}</text>`,
    );
  }

  /**
   * Draws `content` at the first candidate that stays inside the plot and clear of everything drawn or
   * labelled so far; with none free, at the one that covers least (a covered label beats a missing one).
   */
  private placeLabel(
    content: string,
    candidates: LabelCandidate[],
    style: { size: number; bold?: boolean; fill: string },
    withHalo = false,
  ): LabelCandidate | undefined {
    const width = textWidth(content, style.size, style.bold);
    const rectOf = (c: LabelCandidate): Rect => {
      const x = c.anchor === 'start' ? c.x : c.anchor === 'end' ? c.x - width : c.x - width / 2;
      return { x, y: c.y - style.size, width, height: style.size + 3 };
    };
    const inside = (r: Rect) =>
      r.x >= this.plot.left + 2 &&
      r.x + r.width <= this.plot.right - 2 &&
      r.y >= this.plot.top &&
      r.y + r.height <= this.plot.bottom;
    const fits = candidates.filter((c) => inside(rectOf(c)));
    const cost = (c: LabelCandidate) =>
      this.taken.reduce((sum, obstacle) => sum + overlapArea(obstacle, rectOf(c)) * obstacle.weight, 0);
    let chosen: LabelCandidate | undefined;
    let lowest = Number.POSITIVE_INFINITY;
    for (const candidate of fits) {
      const candidateCost = cost(candidate);
      if (candidateCost < lowest) {
        chosen = candidate;
        lowest = candidateCost;
      }
      if (candidateCost === 0) break;
    }
    chosen ??= candidates[0];
    if (chosen === undefined) return undefined;
    const rect = rectOf(chosen);
    this.taken.push({ ...rect, weight: WEIGHT.text });
    if (withHalo) {
      // A white backing keeps the number legible over grid lines and bands.
      this.parts.push(
        `<rect x="${px(rect.x - 2)}" y="${px(rect.y)}" width="${px(rect.width + 4)}" height="${px(rect.height)}" fill="#ffffff" fill-opacity="0.85"/>`,
      );
    }
    this.text(content, chosen.x, chosen.y, { ...style, anchor: chosen.anchor });
    return chosen;
  }
}

interface LegendItem {
  label: string;
  /** The item's symbol, drawn in a 14 px box whose left middle is (x, y). */
  symbol: (x: number, y: number) => string;
}

function legendItemWidth(item: LegendItem): number {
  return 20 + textWidth(item.label, 11) + 18;
}

/** Legend items in rows that fit between `left` and `right`. */
function layoutLegend(items: LegendItem[], left: number, right: number): LegendItem[][] {
  const rows: LegendItem[][] = [[]];
  let x = left;
  for (const item of items) {
    const width = legendItemWidth(item);
    if (x + width - 18 > right && rows[rows.length - 1]!.length > 0) {
      rows.push([]);
      x = left;
    }
    rows[rows.length - 1]!.push(item);
    x += width;
  }
  return rows;
}

/** Cuts `text` with an ellipsis to fit `room` pixels. */
/** Judges whose checks carry their own verdict sentence, and how the chart names them. */
const JUDGE_NAMES: Record<string, string> = { sequential: 'sequential judge', compare: 'Mann-Whitney' };

/**
 * The verdict line of the judge of `metric`, when it is one that says why in a sentence (sequential,
 * Mann-Whitney): the check that decided the rollback, or the last one of a promoted rollout.
 */
function judgeReason(report: RolloutReport, metric: string): string | undefined {
  const kindOf = (check: Check) => {
    // The analysis adds `kind` to the checks it records (AnalysisCheck); the report's type does not name it.
    const kind = (check as Check & { kind?: unknown }).kind;
    return typeof kind === 'string' ? kind : '';
  };
  const judged = report.checks.filter((check) => check.metric === metric && kindOf(check) in JUDGE_NAMES);
  let check: (typeof judged)[number] | undefined;
  if (report.verdict === 'promoted') check = judged.at(-1);
  else {
    const decisive = verdictParts(report).decisiveCheck;
    check = decisive && judged.includes(decisive) ? decisive : undefined;
  }
  if (!check?.message) return undefined;
  return `${JUDGE_NAMES[kindOf(check)]}: ${check.message}`;
}

/** `text` in at most `lines` lines of `room` pixels, cut at spaces; the last line is truncated if need be. */
function wrap(text: string, room: number, fontSize: number, lines: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest && out.length < lines - 1 && textWidth(rest, fontSize) > room) {
    const words = rest.split(' ');
    let line = words.shift()!;
    while (words.length > 0 && textWidth(`${line} ${words[0]}`, fontSize) <= room)
      line = `${line} ${words.shift()}`;
    out.push(truncate(line, room, fontSize));
    rest = words.join(' ');
  }
  if (rest) out.push(truncate(rest, room, fontSize));
  return out;
}

function truncate(text: string, room: number, fontSize: number, bold = false): string {
  if (textWidth(text, fontSize, bold) <= room) return text;
  const chars = [...text];
  while (chars.length > 1 && textWidth(`${chars.join('')}…`, fontSize, bold) > room) chars.pop();
  return `${chars.join('').trimEnd()}…`;
}

/** A round tick interval in seconds (1 s … 1 day) leaving at least ~64 px between labels. */
function timeTickStep(totalSeconds: number, plotWidth: number): number {
  const maxTicks = Math.max(2, Math.floor(plotWidth / 64));
  const steps = [
    1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
  ];
  return (
    steps.find((step) => totalSeconds / step <= maxTicks) ??
    Math.ceil(totalSeconds / maxTicks / 86400) * 86400
  );
}
