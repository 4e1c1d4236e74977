// Pure metrics of the traffic simulator: counters and a latency histogram that grow by exactly the expected
// amounts (no randomness), so that `rate()` over them is exact and tests are never flaky, and their
// Prometheus text exposition (format 0.0.4).
//
// For a track served at r requests/s with error rate e and latency L, over dt seconds:
//   http_requests_total{code="500"} += r·dt·e, {code="200"} += r·dt·(1−e)
//   {code="503"} += u·dt, u being the rate sent to a backend without ready pods (split.mjs)
//   the histogram observes r·dt requests spread uniformly over [L·(1−s), L·(1+s)] (s = 0.5), so each
//   bucket gets the exact fraction of the uniform distribution below its bound, and _sum grows by r·dt·L.
// 503s are not observed in the histogram: no pod served them.
// Both the 200 and the 500 series of every track that ever had traffic exist (at 0 if need be): a healthy
// canary must read as error rate 0, not as "no data".

export const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export const LATENCY_SPREAD = 0.5;
/** Series of an app absent from the split for this long (simulated seconds) are dropped. */
export const DEFAULT_RETAIN_SECONDS = 600;

export class TrafficMetrics {
  constructor({ retainSeconds = DEFAULT_RETAIN_SECONDS } = {}) {
    this.retainSeconds = retainSeconds;
    /** `${namespace}\0${app}` → { namespace, app, lastSeen, tracks: Map<track, TrackSeries> } */
    this.apps = new Map();
    this.splits = [];
  }

  /**
   * Accounts `dtSeconds` of traffic at the rates of `splits` (the split in force during that interval),
   * `now` (seconds, any monotonic origin) only serving to expire apps that are gone.
   */
  advance(splits, dtSeconds, now = 0) {
    const dt = Math.max(0, dtSeconds);
    for (const split of splits) {
      const app = this.#app(split.namespace, split.app);
      app.lastSeen = now;
      for (const [track, stats] of Object.entries(split.tracks)) {
        if (stats.rps <= 0 && stats.unavailableRps <= 0) continue;
        const series = this.#track(app, track);
        const served = stats.rps * dt;
        const errors = served * stats.errorRate;
        series.codes.set('200', series.codes.get('200') + served - errors);
        series.codes.set('500', series.codes.get('500') + errors);
        if (stats.unavailableRps > 0) {
          series.codes.set('503', (series.codes.get('503') ?? 0) + stats.unavailableRps * dt);
        }
        observe(series.histogram, served, stats.latencyMs / 1000);
      }
    }
    for (const [key, app] of this.apps) if (now - app.lastSeen > this.retainSeconds) this.apps.delete(key);
    this.splits = splits;
  }

  /** The Prometheus text exposition of every series, sorted (stable output makes diffs and tests easy). */
  expose() {
    const apps = [...this.apps.values()].sort(
      (a, b) => a.namespace.localeCompare(b.namespace) || a.app.localeCompare(b.app),
    );
    const tracksOf = (app) => [...app.tracks.entries()].sort(([a], [b]) => a.localeCompare(b));
    const lines = [];

    lines.push('# HELP http_requests_total Requests answered, by app, track and status code (simulated).');
    lines.push('# TYPE http_requests_total counter');
    for (const app of apps) {
      for (const [track, series] of tracksOf(app)) {
        for (const [code, value] of [...series.codes.entries()].sort()) {
          lines.push(sample('http_requests_total', labelsOf(app, track, { code }), value));
        }
      }
    }

    lines.push('# HELP http_request_duration_seconds Latency of the requests served by pods (simulated).');
    lines.push('# TYPE http_request_duration_seconds histogram');
    for (const app of apps) {
      for (const [track, { histogram }] of tracksOf(app)) {
        BUCKETS.forEach((le, i) => {
          const labels = labelsOf(app, track, { le: formatNumber(le) });
          lines.push(sample('http_request_duration_seconds_bucket', labels, histogram.buckets[i]));
        });
        const base = labelsOf(app, track);
        lines.push(sample('http_request_duration_seconds_bucket', { ...base, le: '+Inf' }, histogram.count));
        lines.push(sample('http_request_duration_seconds_sum', base, histogram.sum));
        lines.push(sample('http_request_duration_seconds_count', base, histogram.count));
      }
    }

    const current = new Map(this.splits.map((s) => [`${s.namespace}\0${s.app}`, s]));
    lines.push("# HELP testbed_traffic_share Share (0-1) of the app's user traffic each track receives now.");
    lines.push('# TYPE testbed_traffic_share gauge');
    for (const app of apps) {
      const split = current.get(`${app.namespace}\0${app.app}`);
      const tracks = new Set([...app.tracks.keys(), ...Object.keys(split?.shares ?? {})]);
      for (const track of [...tracks].sort()) {
        lines.push(sample('testbed_traffic_share', labelsOf(app, track), split?.shares?.[track] ?? 0));
      }
    }
    lines.push(
      '# HELP testbed_requests_per_second Request rate each track receives now, preview traffic included.',
    );
    lines.push('# TYPE testbed_requests_per_second gauge');
    for (const app of apps) {
      const split = current.get(`${app.namespace}\0${app.app}`);
      for (const [track] of tracksOf(app)) {
        const stats = split?.tracks?.[track];
        lines.push(
          sample(
            'testbed_requests_per_second',
            labelsOf(app, track),
            (stats?.rps ?? 0) + (stats?.unavailableRps ?? 0),
          ),
        );
      }
    }
    return `${lines.join('\n')}\n`;
  }

  #app(namespace, name) {
    const key = `${namespace}\0${name}`;
    let app = this.apps.get(key);
    if (!app) {
      app = { namespace, app: name, lastSeen: 0, tracks: new Map() };
      this.apps.set(key, app);
    }
    return app;
  }

  #track(app, track) {
    let series = app.tracks.get(track);
    if (!series) {
      series = {
        codes: new Map([
          ['200', 0],
          ['500', 0],
        ]),
        histogram: { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 },
      };
      app.tracks.set(track, series);
    }
    return series;
  }
}

/** Adds `count` observations spread uniformly over [mean·(1−s), mean·(1+s)]. */
export function observe(histogram, count, meanSeconds) {
  if (count <= 0) return;
  const low = meanSeconds * (1 - LATENCY_SPREAD);
  const high = meanSeconds * (1 + LATENCY_SPREAD);
  BUCKETS.forEach((le, i) => {
    histogram.buckets[i] += count * fractionBelow(le, low, high);
  });
  histogram.sum += count * meanSeconds;
  histogram.count += count;
}

/** The fraction of a uniform distribution on [low, high] that is ≤ x (a point mass when low = high). */
function fractionBelow(x, low, high) {
  if (x >= high) return 1;
  if (x < low) return 0;
  return (x - low) / (high - low);
}

function labelsOf(app, track, extra = {}) {
  return { namespace: app.namespace, app: app.app, track, ...extra };
}

function sample(name, labels, value) {
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');
  return `${name}{${body}} ${formatNumber(value)}`;
}

/** Label values escape backslash, double quote and newline (text format 0.0.4). */
export function escapeLabel(value) {
  return String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function formatNumber(value) {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}
