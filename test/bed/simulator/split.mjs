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
// Matched traffic (A/B routing by header or cookie): a share of the app's user requests carries a header
// (annotation testbed.gantry.dev/header-share on the main Service, 0–1; the header is `x-canary: always`
// unless testbed.gantry.dev/header says `name: value`), another share a cookie (…/cookie-share; the cookie
// `canary=always` unless testbed.gantry.dev/cookie says `name=value`); the rest carries neither. Each kind of
// request is routed on its own by the route that claimed the app: an HTTPRoute's rules by their header
// matches (Exact, RegularExpression as a full match; the rule with most header matches wins, then the first;
// paths, methods and query parameters are not read: every request is `GET /`), a VirtualService's first
// route whose match its headers satisfy (exact, prefix, regex), an NGINX canary Ingress's canary-by-header
// (with canary-by-header-value, else the value `always`) and canary-by-cookie (the value `always`) before its
// weight. A kind of request no rule takes follows the first rule that reaches the app, as all requests did
// before. The split's `backends` and `shares` are the sum over the kinds; `requests` says per kind.
// A backend with no ready pods (or a route naming a Service that does not exist) still receives its share,
// answered with code 503 on the track the Service selects (its selector's track label, else the track its
// name suffix implies, else `stable`) — what a real proxy does, so that taking a canary away before taking
// it out of the route shows up as errors, as it would in production.
// Noise (opt-in): annotation testbed.gantry.dev/noise on the main Service (its value is the seed) puts `noise` on
// the app's split; metrics.mjs then draws each request instead of accounting exact fractions.
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
export const NOISE_ANNOTATION = 'testbed.gantry.dev/noise';
export const ERROR_RATE_ANNOTATION = 'testbed.gantry.dev/error-rate';
export const LATENCY_ANNOTATION = 'testbed.gantry.dev/latency-ms';
export const ERROR_RATE_ENV = 'TESTBED_ERROR_RATE';
export const LATENCY_ENV = 'TESTBED_LATENCY_MS';
export const NGINX_CANARY = 'nginx.ingress.kubernetes.io/canary';
export const NGINX_CANARY_WEIGHT = 'nginx.ingress.kubernetes.io/canary-weight';
export const NGINX_CANARY_WEIGHT_TOTAL = 'nginx.ingress.kubernetes.io/canary-weight-total';
export const NGINX_CANARY_BY_HEADER = 'nginx.ingress.kubernetes.io/canary-by-header';
export const NGINX_CANARY_BY_HEADER_VALUE = 'nginx.ingress.kubernetes.io/canary-by-header-value';
export const NGINX_CANARY_BY_COOKIE = 'nginx.ingress.kubernetes.io/canary-by-cookie';
export const HEADER_SHARE_ANNOTATION = 'testbed.gantry.dev/header-share';
export const HEADER_ANNOTATION = 'testbed.gantry.dev/header';
export const COOKIE_SHARE_ANNOTATION = 'testbed.gantry.dev/cookie-share';
export const COOKIE_ANNOTATION = 'testbed.gantry.dev/cookie';
export const DEFAULT_HEADER = { name: 'x-canary', value: 'always' };
export const DEFAULT_COOKIE = { name: 'canary', value: 'always' };

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
        requestKinds: requestKindsOf(isMain ? main : undefined),
        // Opt-in random variation (metrics.mjs): the annotation's value seeds it.
        ...(isMain && noiseOf(main) ? { noise: noiseOf(main) } : {}),
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
    /** app → this route's rules that reach it, each with only that app's backends. */
    const perApp = new Map();
    for (const rule of rules) {
      // Group this rule's backends by the app their Service belongs to.
      const ruleApps = new Map();
      for (const backend of rule.backends) {
        const service = services.get(namespace)?.get(backend.service);
        const app = appOfService(service, backend.service);
        if (!ruleApps.has(app)) ruleApps.set(app, []);
        ruleApps.get(app).push({ ...backend, serviceObject: service });
      }
      for (const [app, appBackends] of ruleApps) {
        if (!perApp.has(app)) perApp.set(app, []);
        perApp.get(app).push({ ...rule, backends: appBackends });
      }
    }
    for (const [app, appRules] of perApp) {
      const key = `${namespace}/${app}`;
      if (claimed.has(key)) continue;
      claimed.add(key);
      const entry = appEntry(namespace, app);
      entry.source = { kind, name: route.metadata.name };
      entry.requests = entry.requestKinds.map((request) => {
        const rule = ruleFor(kind, appRules, request.headers) ?? appRules[0];
        const total = rule.backends.reduce((sum, b) => sum + b.weight, 0);
        return {
          ...request,
          backends: rule.backends.map((b) => ({
            service: b.service,
            serviceObject: b.serviceObject,
            weight: total > 0 ? b.weight / total : 0,
          })),
        };
      });
      // All kinds together: each backend's weight is the sum over the kinds of share × its weight there.
      const merged = new Map();
      for (const request of entry.requests) {
        for (const b of request.backends) {
          const current = merged.get(b.service);
          if (current) current.weight += request.share * b.weight;
          else merged.set(b.service, { ...b, weight: request.share * b.weight });
        }
      }
      entry.backends = [...merged.values()];
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
    if (entry.requests) {
      // Per kind of request, what share of that kind each track got.
      for (const request of entry.requests) {
        request.shares = {};
        for (const b of request.backends) {
          for (const [track, fraction] of Object.entries(trackFractions(b.serviceObject, b.service, pods))) {
            request.shares[track] = (request.shares[track] ?? 0) + b.weight * fraction;
          }
        }
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
    .map(({ podsByTrack, requestKinds, requests, ...entry }) => ({
      ...entry,
      backends: entry.backends.map(({ serviceObject, ...b }) => b),
      // Only for apps some of whose requests carry a header or cookie (the others' splits stay as they were).
      ...(requests && requestKinds.length > 1
        ? {
            requests: requests.map(({ headers: _headers, backends, ...r }) => ({
              ...r,
              backends: backends.map(({ serviceObject, ...b }) => b),
            })),
          }
        : {}),
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

/** The fraction of what `service` receives that each track gets (send's split, without sending). */
function trackFractions(service, serviceName, readyPods) {
  const selected = service ? readyPods.filter((p) => selects(service, p)) : [];
  if (selected.length === 0) return { [fallbackTrack(service, serviceName)]: 1 };
  const fractions = {};
  for (const [track, count] of Object.entries(countByTrack(selected)))
    fractions[track] = count / selected.length;
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
  const settings = pods.map((p) => podSettings(p, configMaps));
  return {
    readyPods: pods.length,
    errorRate: mean(settings.map((s) => s.errorRate)),
    latencyMs: mean(settings.map((s) => s.latencyMs)),
  };
}

/**
 * One pod's error rate (0–1, default 0) and latency (ms, default DEFAULT_LATENCY_MS): its annotations, else its
 * first container's environment (podEnv). `configMaps` is byNamespace(ConfigMaps). The data plane's responders
 * (test/bed/dataplane/) answer by the same rule.
 */
export function podSettings(pod, configMaps) {
  const setting = (annotation, env) =>
    pod.metadata?.annotations?.[annotation] ?? podEnv(pod, env, configMaps);
  return {
    errorRate: numberIn(setting(ERROR_RATE_ANNOTATION, ERROR_RATE_ENV), 0, 0, 1),
    latencyMs: numberIn(
      setting(LATENCY_ANNOTATION, LATENCY_ENV),
      DEFAULT_LATENCY_MS,
      0,
      Number.POSITIVE_INFINITY,
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

// --- kinds of request ---

/**
 * The kinds of user request of an app, by the main Service's annotations: with the header, with the cookie,
 * and plain (the rest), each with its share (0–1) and its request headers (lower-case names).
 */
function requestKindsOf(main) {
  const annotations = main?.metadata?.annotations ?? {};
  const headerShare = numberIn(annotations[HEADER_SHARE_ANNOTATION], 0, 0, 1);
  let cookieShare = numberIn(annotations[COOKIE_SHARE_ANNOTATION], 0, 0, 1);
  if (headerShare + cookieShare > 1) cookieShare = 1 - headerShare;
  const kinds = [];
  if (headerShare > 0) {
    const header = pairOf(annotations[HEADER_ANNOTATION], ':', DEFAULT_HEADER);
    kinds.push({
      kind: 'header',
      match: `${header.name}: ${header.value}`,
      share: headerShare,
      headers: { [header.name.toLowerCase()]: header.value },
    });
  }
  if (cookieShare > 0) {
    const cookie = pairOf(annotations[COOKIE_ANNOTATION], '=', DEFAULT_COOKIE);
    kinds.push({
      kind: 'cookie',
      match: `${cookie.name}=${cookie.value}`,
      share: cookieShare,
      headers: { cookie: `${cookie.name}=${cookie.value}` },
    });
  }
  const plain = 1 - headerShare - cookieShare;
  if (plain > 0 || kinds.length === 0) kinds.push({ kind: 'plain', match: null, share: plain, headers: {} });
  return kinds;
}

/** `name<sep>value` → { name, value }; unset or malformed → the default. */
function pairOf(raw, separator, fallback) {
  const at = typeof raw === 'string' ? raw.indexOf(separator) : -1;
  if (at <= 0) return fallback;
  const name = raw.slice(0, at).trim();
  const value = raw.slice(at + 1).trim();
  return name && value ? { name, value } : fallback;
}

/**
 * The rule of one route that takes a request with `headers`: HTTPRoute, the matching rule with most header
 * matches (then the first); VirtualService and Ingress, the first matching rule. Undefined: none matches.
 */
function ruleFor(kind, rules, headers) {
  let best;
  for (const rule of rules) {
    const specificity = rule.when(headers);
    if (specificity === undefined) continue;
    if (kind !== 'HTTPRoute') return rule;
    if (!best || specificity > best.specificity) best = { rule, specificity };
  }
  return best?.rule;
}

/** A string matched as a whole by a regular expression (RE2 syntax, which Envoy and Istio match in full). */
function fullMatch(pattern, value) {
  try {
    return new RegExp(`^(?:${pattern})$`).test(value);
  } catch {
    return false;
  }
}

const always = () => 0;

// --- routes → [{ backends: [{ service, weight }], when(headers) }] (one entry per rule; `when` says whether a
// request with those headers matches the rule, and how specifically: undefined no, else its header count) ---

function httpRouteRules(route) {
  const namespace = route.metadata.namespace;
  return (route.spec?.rules ?? []).map((rule) => ({
    backends: (rule.backendRefs ?? [])
      .filter((ref) => (ref.kind ?? 'Service') === 'Service' && (ref.group ?? '') === '')
      .filter((ref) => (ref.namespace ?? namespace) === namespace && ref.name)
      // Gateway API: weight defaults to 1.
      .map((ref) => ({ service: ref.name, weight: nonNegative(ref.weight, 1) })),
    when: httpRouteMatcher(rule.matches),
  }));
}

function httpRouteMatcher(matches) {
  if (!matches || matches.length === 0) return always;
  return (headers) => {
    let best;
    for (const match of matches) {
      const conditions = match.headers ?? [];
      const satisfied = conditions.every((h) => {
        const value = headers[String(h.name).toLowerCase()];
        if (value === undefined) return false;
        return (h.type ?? 'Exact') === 'RegularExpression' ? fullMatch(h.value, value) : value === h.value;
      });
      if (satisfied && (best === undefined || conditions.length > best)) best = conditions.length;
    }
    return best;
  };
}

function virtualServiceRules(route) {
  const namespace = route.metadata.namespace;
  return (route.spec?.http ?? []).map((rule) => {
    const destinations = rule.route ?? [];
    return {
      backends: destinations
        .map((d) => ({ host: parseHost(d.destination?.host, namespace), weight: d.weight }))
        .filter((d) => d.host && d.host.namespace === namespace)
        // Istio: a lone destination takes everything; otherwise an unset weight is 0.
        .map((d) => ({
          service: d.host.name,
          weight: destinations.length === 1 ? 100 : nonNegative(d.weight, 0),
        })),
      when: virtualServiceMatcher(rule.match),
    };
  });
}

function virtualServiceMatcher(matches) {
  if (!matches || matches.length === 0) return always;
  return (headers) => {
    const satisfied = matches.some((match) =>
      Object.entries(match.headers ?? {}).every(([name, condition]) => {
        const value = headers[name.toLowerCase()];
        if (value === undefined || !condition) return false;
        if (condition.exact !== undefined) return value === condition.exact;
        if (condition.prefix !== undefined) return value.startsWith(condition.prefix);
        if (condition.regex !== undefined) return fullMatch(condition.regex, value);
        return false;
      }),
    );
    return satisfied ? 0 : undefined;
  };
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
      const rules = [];
      if (canary) {
        const annotations = canary.metadata.annotations;
        const total = positive(Number(annotations[NGINX_CANARY_WEIGHT_TOTAL]), 100);
        const weight = Math.min(nonNegative(Number(annotations[NGINX_CANARY_WEIGHT]), 0), total);
        const canaryService = ingressBackends(canary).get(host);
        // ingress-nginx: the header first, then the cookie, then the weight.
        const header = annotations[NGINX_CANARY_BY_HEADER];
        if (header) {
          const expected = annotations[NGINX_CANARY_BY_HEADER_VALUE] || 'always';
          rules.push({
            backends: [{ service: canaryService, weight: 1 }],
            when: (headers) => (headers[header.toLowerCase()] === expected ? 1 : undefined),
          });
        }
        const cookie = annotations[NGINX_CANARY_BY_COOKIE];
        if (cookie) {
          rules.push({
            backends: [{ service: canaryService, weight: 1 }],
            when: (headers) => (cookieValue(headers.cookie, cookie) === 'always' ? 1 : undefined),
          });
        }
        rules.push({
          backends: [
            { service, weight: total - weight },
            { service: canaryService, weight },
          ],
          when: always,
        });
      } else {
        rules.push({ backends: [{ service, weight: 1 }], when: always });
      }
      routes.push({ kind: 'Ingress', route: canary ?? primary, rules });
    }
  }
  return routes;
}

/** The value of cookie `name` in a Cookie header (undefined: not there). */
function cookieValue(header, name) {
  for (const part of String(header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
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

/** The noise seed of an app: the main Service's annotation testbed.gantry.dev/noise (any non-empty value). */
function noiseOf(service) {
  const value = service.metadata?.annotations?.[NOISE_ANNOTATION];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
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

/** namespace → name → object (the shape podEnv and podSettings take their ConfigMaps in). */
export function byNamespace(objects) {
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
