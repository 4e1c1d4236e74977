// Pure metrics of the traffic simulator: counters and a latency histogram that grow by exactly the expected
// amounts (no randomness, unless an app opts into noise: see below), so that `rate()` over them is exact and
// tests are never flaky, and their Prometheus text exposition (format 0.0.4).
//
// For a track served at r requests/s with error rate e and latency L, over dt seconds:
//   http_requests_total{code="500"} += r·dt·e, {code="200"} += r·dt·(1−e)
//   {code="503"} += u·dt, u being the rate sent to a backend without ready pods (split.mjs)
//   the histogram observes r·dt requests spread uniformly over [L·(1−s), L·(1+s)] (s = 0.5), so each
//   bucket gets the exact fraction of the uniform distribution below its bound, and _sum grows by r·dt·L.
// 503s are not observed in the histogram: no pod served them.
// Noise (opt-in per app: `noise` on its split, from the main Service's annotation testbed.gantry.dev/noise,
// whose value seeds the app's generator): each interval's requests are a Poisson count of mean r·dt (503s
// too), each request is an error with probability e and has a latency drawn uniformly from
// [L·(1−s), L·(1+s)]; counts are then whole numbers and a healthy canary is not a constant copy of the stable.
// The same seed and the same sequence of advances give the same counts.
// Both the 200 and the 500 series of every track that ever had traffic exist (at 0 if need be): a healthy
// canary must read as error rate 0, not as "no data".
// The pods of a track are further grouped by run label (split.mjs): each group is a series of its own with a
// `run` label (none for pods without one), so a canary's samples never mix with the previous canary's.
// A run's series are dropped once it has had no traffic for the retention time; a track's unlabelled series
// stay while the app does.

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
        // Served traffic per run (a split without runs: all of it unlabelled); 503s belong to no run.
        const runs = Object.entries(stats.runs ?? { '': stats });
        const random = split.noise ? this.#random(app, split.noise) : undefined;
        for (const [run, runStats] of runs) {
          if (runStats.rps <= 0) continue;
          const series = this.#series(app, track, run, now);
          if (random) {
            const served = poisson(random, runStats.rps * dt);
            let errors = 0;
            for (let i = 0; i < served; i++) {
              if (random() < runStats.errorRate) errors++;
              observeOne(series.histogram, drawLatency(random, runStats.latencyMs / 1000));
            }
            series.codes.set('200', series.codes.get('200') + served - errors);
            series.codes.set('500', series.codes.get('500') + errors);
            continue;
          }
          const served = runStats.rps * dt;
          const errors = served * runStats.errorRate;
          series.codes.set('200', series.codes.get('200') + served - errors);
          series.codes.set('500', series.codes.get('500') + errors);
          observe(series.histogram, served, runStats.latencyMs / 1000);
        }
        if (stats.unavailableRps > 0) {
          const series = this.#series(app, track, '', now);
          const unavailable = random ? poisson(random, stats.unavailableRps * dt) : stats.unavailableRps * dt;
          series.codes.set('503', (series.codes.get('503') ?? 0) + unavailable);
        }
      }
    }
    for (const [key, app] of this.apps) {
      if (now - app.lastSeen > this.retainSeconds) this.apps.delete(key);
      else
        for (const [seriesKey, series] of app.series)
          if (series.run !== '' && now - series.lastSeen > this.retainSeconds) app.series.delete(seriesKey);
    }
    this.splits = splits;
  }

  /** The Prometheus text exposition of every series, sorted (stable output makes diffs and tests easy). */
  expose() {
    const apps = [...this.apps.values()].sort(
      (a, b) => a.namespace.localeCompare(b.namespace) || a.app.localeCompare(b.app),
    );
    const seriesOf = (app) =>
      [...app.series.values()].sort((a, b) => a.track.localeCompare(b.track) || a.run.localeCompare(b.run));
    const tracksOf = (app) => [...new Set([...app.series.values()].map((s) => s.track))].sort();
    const lines = [];

    lines.push(
      '# HELP http_requests_total Requests answered, by app, track, run and status code (simulated).',
    );
    lines.push('# TYPE http_requests_total counter');
    for (const app of apps) {
      for (const series of seriesOf(app)) {
        for (const [code, value] of [...series.codes.entries()].sort()) {
          lines.push(sample('http_requests_total', labelsOf(app, series.track, { code }, series.run), value));
        }
      }
    }

    lines.push('# HELP http_request_duration_seconds Latency of the requests served by pods (simulated).');
    lines.push('# TYPE http_request_duration_seconds histogram');
    for (const app of apps) {
      for (const { track, run, histogram } of seriesOf(app)) {
        BUCKETS.forEach((le, i) => {
          const labels = labelsOf(app, track, { le: formatNumber(le) }, run);
          lines.push(sample('http_request_duration_seconds_bucket', labels, histogram.buckets[i]));
        });
        const base = labelsOf(app, track, {}, run);
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
      const tracks = new Set([...tracksOf(app), ...Object.keys(split?.shares ?? {})]);
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
      for (const track of tracksOf(app)) {
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

  /** The app's generator, seeded by its noise seed, namespace and name (a new seed starts it again). */
  #random(app, seed) {
    if (app.noiseSeed !== seed) {
      app.noiseSeed = seed;
      app.random = seededRandom(`${seed}\0${app.namespace}\0${app.app}`);
    }
    return app.random;
  }

  #app(namespace, name) {
    const key = `${namespace}\0${name}`;
    let app = this.apps.get(key);
    if (!app) {
      app = { namespace, app: name, lastSeen: 0, series: new Map() };
      this.apps.set(key, app);
    }
    return app;
  }

  /** The series of one track and run ('' for pods without a run label), created at 0. */
  #series(app, track, run, now) {
    const key = `${track}\0${run}`;
    let series = app.series.get(key);
    if (!series) {
      series = {
        track,
        run,
        lastSeen: now,
        codes: new Map([
          ['200', 0],
          ['500', 0],
        ]),
        histogram: { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 },
      };
      app.series.set(key, series);
    }
    series.lastSeen = now;
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

/** One observation of `seconds`. */
function observeOne(histogram, seconds) {
  BUCKETS.forEach((le, i) => {
    if (seconds <= le) histogram.buckets[i] += 1;
  });
  histogram.sum += seconds;
  histogram.count += 1;
}

/** A latency drawn uniformly from [mean·(1−s), mean·(1+s)]. */
function drawLatency(random, meanSeconds) {
  return meanSeconds * (1 - LATENCY_SPREAD + 2 * LATENCY_SPREAD * random());
}

/** A seeded generator of uniform numbers in [0, 1): mulberry32 over an FNV-1a hash of the seed. */
export function seededRandom(seed) {
  let hash = 0x811c9dc5;
  for (const char of String(seed)) {
    hash ^= char.codePointAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  let a = hash;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Poisson count of mean `mean`: multiplication of uniforms below 30, a rounded normal above. */
export function poisson(random, mean) {
  if (mean <= 0) return 0;
  if (mean < 30) {
    const limit = Math.exp(-mean);
    let count = 0;
    let product = random();
    while (product > limit) {
      count++;
      product *= random();
    }
    return count;
  }
  // Box-Muller; 1 − u keeps the logarithm finite.
  const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
}

/** The fraction of a uniform distribution on [low, high] that is ≤ x (a point mass when low = high). */
function fractionBelow(x, low, high) {
  if (x >= high) return 1;
  if (x < low) return 0;
  return (x - low) / (high - low);
}

function labelsOf(app, track, extra = {}, run = '') {
  return { namespace: app.namespace, app: app.app, track, ...(run ? { run } : {}), ...extra };
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
