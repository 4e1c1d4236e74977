// Pure traffic-split logic of the sandbox's traffic simulator: a snapshot of the cluster (plain Kubernetes
// objects, as the API returns them) goes in, the traffic each app receives per track comes out. No I/O here,
// so every rule is unit-tested (test/unit/bed/simulator.test.ts) without a cluster.
//
// Rules, per app (an app is the value of the pods' `app` label; its main Service is the Service named like
// the app whose selector has that `app`):
//  1. A route object that sends traffic to Services of the app decides the split: its weights, each backend
//     Service's share then going to the ready pods that Service selects, in proportion to ready pods per
//     track. Precedence when several routes reach one app: HTTPRoute, then VirtualService, then NGINX
//     Ingress; within a kind, by name; within a route, the first rule that reaches the app.
//  2. Else the main Service: its ready pods, in proportion to ready pods per track (replica-ratio canary).
//  3. Every Service `<app>-preview` also gets synthetic test traffic at a fifth of the app's rate.
// A backend with no ready pods (or a route naming a Service that does not exist) still receives its share,
// answered with code 503 on the track the Service selects (its selector's track label, else the track its
// name suffix implies, else `stable`) — what a real proxy does, so that taking a canary away before taking
// it out of the route shows up as errors, as it would in production.
// A pod's error rate and latency: its annotations (testbed.gantry.dev/error-rate, …/latency-ms); a pod without
// the annotation reads them from its first container's environment, TESTBED_ERROR_RATE and TESTBED_LATENCY_MS,
// as Kubernetes would set it: a literal `value`, `valueFrom.configMapKeyRef`, or `envFrom.configMapRef` (with
// its prefix), looked up in the snapshot's ConfigMaps as they are now. So a release that changes only its
// config can be a bad one.
// Within a track, pods are also grouped by their run label (`gantry.dev/run-id`, which Gantry puts on the
// pods of each rollout's canary and preview): each group gets the track's traffic in proportion to its ready
// pods, with its own error rate and latency, so that the metrics keep two canary generations apart. 503s of a
// backend without pods belong to no run.

export const TRACK_LABEL = 'gantry.dev/track';
export const RUN_LABEL = 'gantry.dev/run-id';
export const RPS_ANNOTATION = 'testbed.gantry.dev/rps';
export const ERROR_RATE_ANNOTATION = 'testbed.gantry.dev/error-rate';
export const LATENCY_ANNOTATION = 'testbed.gantry.dev/latency-ms';
export const ERROR_RATE_ENV = 'TESTBED_ERROR_RATE';
export const LATENCY_ENV = 'TESTBED_LATENCY_MS';
export const NGINX_CANARY = 'nginx.ingress.kubernetes.io/canary';
export const NGINX_CANARY_WEIGHT = 'nginx.ingress.kubernetes.io/canary-weight';
export const NGINX_CANARY_WEIGHT_TOTAL = 'nginx.ingress.kubernetes.io/canary-weight-total';

export const DEFAULT_RPS = 50;
export const DEFAULT_LATENCY_MS = 20;
export const PREVIEW_RPS_FRACTION = 1 / 5;

const TRACK_SUFFIXES = ['stable', 'canary', 'preview'];

/** @param {import('./split.d.mts').ClusterSnapshot} snapshot */
export function computeSplits(snapshot, options = {}) {
  const defaultRps = options.defaultRps ?? DEFAULT_RPS;
  const pods = (snapshot.pods ?? []).filter(isReady);
  const services = byNamespace(snapshot.services ?? []);
  const configMaps = byNamespace(snapshot.configMaps ?? []);

  /** `${namespace}/${app}` → the app's split under construction. */
  const apps = new Map();
  const appEntry = (namespace, app) => {
    const key = `${namespace}/${app}`;
    let entry = apps.get(key);
    if (!entry) {
      const main = services.get(namespace)?.get(app);
      const isMain = main && main.spec?.selector?.app === app;
      entry = {
        namespace,
        app,
        rps: isMain ? rpsOf(main, defaultRps) : defaultRps,
        source: isMain ? { kind: 'Service', name: app } : null,
        backends: [],
        shares: {},
        preview: null,
        tracks: {},
        podsByTrack: new Map(),
      };
      apps.set(key, entry);
    }
    return entry;
  };

  // Apps with a main Service get user traffic through it unless a route claims them below.
  for (const [namespace, byName] of services) {
    for (const service of byName.values()) {
      const app = service.spec?.selector?.app;
      if (app && service.metadata.name === app) appEntry(namespace, app);
    }
  }

  // Routes, in precedence order; the first one to reach an app wins it.
  const claimed = new Set();
  const routes = [
    ...sorted(snapshot.httpRoutes).map((r) => ({ kind: 'HTTPRoute', route: r, rules: httpRouteRules(r) })),
    ...sorted(snapshot.virtualServices).map((r) => ({
      kind: 'VirtualService',
      route: r,
      rules: virtualServiceRules(r),
    })),
    ...nginxRoutes(snapshot.ingresses ?? []),
  ];
  for (const { kind, route, rules } of routes) {
    const namespace = route.metadata.namespace;
    for (const backends of rules) {
      // Group this rule's backends by the app their Service belongs to.
      const perApp = new Map();
      for (const backend of backends) {
        const service = services.get(namespace)?.get(backend.service);
        const app = appOfService(service, backend.service);
        if (!perApp.has(app)) perApp.set(app, []);
        perApp.get(app).push({ ...backend, serviceObject: service });
      }
      for (const [app, appBackends] of perApp) {
        const key = `${namespace}/${app}`;
        if (claimed.has(key)) continue;
        claimed.add(key);
        const entry = appEntry(namespace, app);
        entry.source = { kind, name: route.metadata.name };
        const total = appBackends.reduce((sum, b) => sum + b.weight, 0);
        entry.backends = appBackends.map((b) => ({
          service: b.service,
          serviceObject: b.serviceObject,
          weight: total > 0 ? b.weight / total : 0,
        }));
      }
    }
  }

  const out = [];
  for (const entry of apps.values()) {
    if (!claimed.has(`${entry.namespace}/${entry.app}`) && entry.source?.kind === 'Service') {
      const main = services.get(entry.namespace).get(entry.app);
      entry.backends = [{ service: entry.app, serviceObject: main, weight: 1 }];
    }
    for (const backend of entry.backends) {
      const fractions = send(entry, backend.serviceObject, backend.service, entry.rps * backend.weight, pods);
      backend.readyPods = readyCounts(backend.serviceObject, pods);
      for (const [track, fraction] of Object.entries(fractions)) {
        entry.shares[track] = (entry.shares[track] ?? 0) + backend.weight * fraction;
      }
    }
    out.push(entry);
  }

  // Preview Services: extra synthetic traffic, on top of whatever the main route sends.
  for (const [namespace, byName] of services) {
    for (const service of byName.values()) {
      const name = service.metadata.name;
      if (!name.endsWith('-preview')) continue;
      const app = service.spec?.selector?.app ?? name.slice(0, -'-preview'.length);
      const known = apps.has(`${namespace}/${app}`);
      const entry = appEntry(namespace, app);
      if (!known) out.push(entry);
      const rps = entry.rps * PREVIEW_RPS_FRACTION;
      send(entry, service, name, rps, pods);
      entry.preview = { service: name, rps, readyPods: readyCounts(service, pods) };
    }
  }

  for (const entry of out) finishTracks(entry, configMaps);
  return out
    .map(({ podsByTrack, ...entry }) => ({
      ...entry,
      backends: entry.backends.map(({ serviceObject, ...b }) => b),
    }))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.app.localeCompare(b.app));
}

/**
 * Sends `rps` to the ready pods `service` selects, in proportion to ready pods per track, and returns the
 * fraction each track got. No ready pod (or no such Service) → all of it is answered 503 on its track.
 */
function send(entry, service, serviceName, rps, readyPods) {
  const selected = service ? readyPods.filter((p) => selects(service, p)) : [];
  if (selected.length === 0) {
    const track = fallbackTrack(service, serviceName);
    if (rps > 0) trackStats(entry, track).unavailableRps += rps;
    return { [track]: 1 };
  }
  const fractions = {};
  for (const [track, count] of Object.entries(countByTrack(selected))) {
    fractions[track] = count / selected.length;
    if (rps > 0) trackStats(entry, track).rps += (rps * count) / selected.length;
  }
  if (rps > 0) {
    for (const pod of selected) {
      const stats = trackStats(entry, trackOf(pod));
      const run = runOf(pod);
      stats.runs[run] ??= { rps: 0, readyPods: 0, errorRate: 0, latencyMs: DEFAULT_LATENCY_MS };
      stats.runs[run].rps += rps / selected.length;
    }
  }
  if (rps > 0) {
    for (const pod of selected) {
      const track = trackOf(pod);
      if (!entry.podsByTrack.has(track)) entry.podsByTrack.set(track, new Map());
      entry.podsByTrack.get(track).set(pod.metadata.name, pod);
    }
  }
  return fractions;
}

function readyCounts(service, readyPods) {
  return countByTrack(service ? readyPods.filter((p) => selects(service, p)) : []);
}

function countByTrack(pods) {
  const counts = {};
  for (const pod of pods) counts[trackOf(pod)] = (counts[trackOf(pod)] ?? 0) + 1;
  return counts;
}

function trackStats(entry, track) {
  entry.tracks[track] ??= {
    rps: 0,
    unavailableRps: 0,
    readyPods: 0,
    errorRate: 0,
    latencyMs: DEFAULT_LATENCY_MS,
    runs: {},
  };
  return entry.tracks[track];
}

/**
 * Error rate and latency of each track, and of each run within it: the mean over the ready pods that received
 * its traffic.
 */
function finishTracks(entry, configMaps) {
  for (const [track, stats] of Object.entries(entry.tracks)) {
    const pods = [...(entry.podsByTrack.get(track)?.values() ?? [])];
    Object.assign(stats, podStats(pods, stats, configMaps));
    for (const [run, runStats] of Object.entries(stats.runs)) {
      Object.assign(
        runStats,
        podStats(
          pods.filter((p) => runOf(p) === run),
          runStats,
          configMaps,
        ),
      );
    }
  }
}

function podStats(pods, current, configMaps) {
  if (pods.length === 0) return { readyPods: 0, errorRate: current.errorRate, latencyMs: current.latencyMs };
  const setting = (pod, annotation, env) =>
    pod.metadata?.annotations?.[annotation] ?? podEnv(pod, env, configMaps);
  return {
    readyPods: pods.length,
    errorRate: mean(pods.map((p) => numberIn(setting(p, ERROR_RATE_ANNOTATION, ERROR_RATE_ENV), 0, 0, 1))),
    latencyMs: mean(
      pods.map((p) =>
        numberIn(
          setting(p, LATENCY_ANNOTATION, LATENCY_ENV),
          DEFAULT_LATENCY_MS,
          0,
          Number.POSITIVE_INFINITY,
        ),
      ),
    ),
  };
}

/**
 * The value of environment variable `name` in a pod's first container, as the kubelet would resolve it from
 * literal values and ConfigMaps (`envFrom` first, in order, then `env`, which wins); undefined when unset or
 * when the ConfigMap or key does not exist. Secrets are not read.
 */
export function podEnv(pod, name, configMaps) {
  const container = pod.spec?.containers?.[0];
  if (!container) return undefined;
  const configMap = (ref) => configMaps.get(pod.metadata.namespace)?.get(ref?.name ?? '')?.data ?? {};
  let value;
  for (const from of container.envFrom ?? []) {
    if (!from.configMapRef) continue;
    const prefix = from.prefix ?? '';
    if (!name.startsWith(prefix)) continue;
    const found = configMap(from.configMapRef)[name.slice(prefix.length)];
    if (found !== undefined) value = found;
  }
  for (const variable of container.env ?? []) {
    if (variable.name !== name) continue;
    if (variable.value !== undefined) value = variable.value;
    else if (variable.valueFrom?.configMapKeyRef) {
      const ref = variable.valueFrom.configMapKeyRef;
      value = configMap(ref)[ref.key];
    }
  }
  return value;
}

// --- routes → [[{ service, weight }]] (one list of backends per rule) ---

function httpRouteRules(route) {
  const namespace = route.metadata.namespace;
  return (route.spec?.rules ?? []).map((rule) =>
    (rule.backendRefs ?? [])
      .filter((ref) => (ref.kind ?? 'Service') === 'Service' && (ref.group ?? '') === '')
      .filter((ref) => (ref.namespace ?? namespace) === namespace && ref.name)
      // Gateway API: weight defaults to 1.
      .map((ref) => ({ service: ref.name, weight: nonNegative(ref.weight, 1) })),
  );
}

function virtualServiceRules(route) {
  const namespace = route.metadata.namespace;
  return (route.spec?.http ?? []).map((rule) => {
    const destinations = rule.route ?? [];
    return (
      destinations
        .map((d) => ({ host: parseHost(d.destination?.host, namespace), weight: d.weight }))
        .filter((d) => d.host && d.host.namespace === namespace)
        // Istio: a lone destination takes everything; otherwise an unset weight is 0.
        .map((d) => ({
          service: d.host.name,
          weight: destinations.length === 1 ? 100 : nonNegative(d.weight, 0),
        }))
    );
  });
}

/** `name`, `name.ns`, `name.ns.svc` or `name.ns.svc.cluster.local` → { name, namespace }. */
function parseHost(host, defaultNamespace) {
  if (typeof host !== 'string' || host === '' || host.includes('*')) return null;
  const [name, namespace = defaultNamespace] = host.split('.');
  return { name, namespace };
}

/**
 * NGINX canary Ingresses: a canary Ingress sends canary-weight (out of canary-weight-total, default 100) to
 * its backend, the rest going to the backend of the primary (non-canary) Ingress with the same host in the
 * same namespace. A primary without a canary is a route too (all of its traffic to its backend). Only
 * Ingresses of class nginx count (spec.ingressClassName, the legacy annotation, or no class at all, which
 * ingress-nginx can be told to watch).
 */
function nginxRoutes(ingresses) {
  const nginx = sorted(ingresses).filter((i) => {
    const cls = i.spec?.ingressClassName ?? i.metadata.annotations?.['kubernetes.io/ingress.class'];
    return cls === undefined || cls === null || cls === 'nginx';
  });
  const isCanary = (i) => i.metadata.annotations?.[NGINX_CANARY] === 'true';
  const routes = [];
  for (const primary of nginx.filter((i) => !isCanary(i))) {
    const namespace = primary.metadata.namespace;
    for (const [host, service] of ingressBackends(primary)) {
      const canary = nginx.find(
        (i) => isCanary(i) && i.metadata.namespace === namespace && ingressBackends(i).has(host),
      );
      const backends = [];
      if (canary) {
        const annotations = canary.metadata.annotations;
        const total = positive(Number(annotations[NGINX_CANARY_WEIGHT_TOTAL]), 100);
        const weight = Math.min(nonNegative(Number(annotations[NGINX_CANARY_WEIGHT]), 0), total);
        backends.push({ service, weight: total - weight });
        backends.push({ service: ingressBackends(canary).get(host), weight });
      } else {
        backends.push({ service, weight: 1 });
      }
      routes.push({ kind: 'Ingress', route: canary ?? primary, rules: [backends] });
    }
  }
  return routes;
}

/** host → backend Service name (the first path's, or the default backend's) of one Ingress. */
function ingressBackends(ingress) {
  const out = new Map();
  for (const rule of ingress.spec?.rules ?? []) {
    const service =
      rule.http?.paths?.[0]?.backend?.service?.name ?? ingress.spec?.defaultBackend?.service?.name;
    const host = rule.host ?? '';
    if (service && !out.has(host)) out.set(host, service);
  }
  const fallback = ingress.spec?.defaultBackend?.service?.name;
  if (fallback && !out.has('')) out.set('', fallback);
  return out;
}

// --- small helpers ---

export function isReady(pod) {
  if (pod.metadata?.deletionTimestamp) return false; // terminating pods leave the endpoints
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function trackOf(pod) {
  return pod.metadata?.labels?.[TRACK_LABEL] ?? 'stable';
}

/** The pod's run label ('' without one: the metrics then carry no `run` label). */
export function runOf(pod) {
  return pod.metadata?.labels?.[RUN_LABEL] ?? '';
}

function selects(service, pod) {
  const selector = service.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return false; // no selector: no endpoints of ours
  if (pod.metadata.namespace !== service.metadata.namespace) return false;
  const labels = pod.metadata.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function appOfService(service, name) {
  return service?.spec?.selector?.app ?? stripTrackSuffix(name);
}

function stripTrackSuffix(name) {
  for (const suffix of TRACK_SUFFIXES)
    if (name.endsWith(`-${suffix}`)) return name.slice(0, -suffix.length - 1);
  return name;
}

function fallbackTrack(service, name) {
  const selected = service?.spec?.selector?.[TRACK_LABEL];
  if (selected) return selected;
  return TRACK_SUFFIXES.find((s) => name.endsWith(`-${s}`)) ?? 'stable';
}

function rpsOf(service, defaultRps) {
  return numberIn(service.metadata?.annotations?.[RPS_ANNOTATION], defaultRps, 0, Number.POSITIVE_INFINITY);
}

/** A numeric setting (annotation, environment); missing or unparsable → `fallback`; out of range → clamped. */
function numberIn(raw, fallback, min, max) {
  if (raw === undefined || raw === null || String(raw).trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, value));
}

function nonNegative(value, fallback) {
  const n = Number(value);
  return value === undefined || value === null || !Number.isFinite(n) || n < 0 ? fallback : n;
}

function positive(value, fallback) {
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

function mean(values) {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function byNamespace(objects) {
  const out = new Map();
  for (const object of objects) {
    const namespace = object.metadata.namespace;
    if (!out.has(namespace)) out.set(namespace, new Map());
    out.get(namespace).set(object.metadata.name, object);
  }
  return out;
}

function sorted(objects) {
  return [...(objects ?? [])].sort(
    (a, b) =>
      a.metadata.namespace.localeCompare(b.metadata.namespace) ||
      a.metadata.name.localeCompare(b.metadata.name),
  );
}
