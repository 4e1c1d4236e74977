// Watches the cluster for the traffic simulator with informers (one LIST, then a WATCH from its
// resourceVersion; the client reconnects from the last version seen), never by polling: Pods, Services,
// Ingresses, ConfigMaps (a pod's config may set its error rate), and the router kinds HTTPRoute and
// VirtualService. The router kinds may be absent (their CRDs
// not installed): their informers log once, report nothing and retry every few seconds until they appear.
import * as k8s from '@kubernetes/client-node';

/** What is watched: name in the snapshot → how to list it and the path to watch. */
function resources(kc) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const networking = kc.makeApiClient(k8s.NetworkingV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const crd = (group, version, plural) => ({
    path: `/apis/${group}/${version}/${plural}`,
    list: () => custom.listCustomObjectForAllNamespaces({ group, version, resourcePlural: plural }),
    optional: true,
  });
  return {
    pods: { path: '/api/v1/pods', list: () => core.listPodForAllNamespaces() },
    services: { path: '/api/v1/services', list: () => core.listServiceForAllNamespaces() },
    ingresses: {
      path: '/apis/networking.k8s.io/v1/ingresses',
      list: () => networking.listIngressForAllNamespaces(),
    },
    configMaps: { path: '/api/v1/configmaps', list: () => core.listConfigMapForAllNamespaces() },
    httpRoutes: crd('gateway.networking.k8s.io', 'v1', 'httproutes'),
    virtualServices: crd('networking.istio.io', 'v1', 'virtualservices'),
  };
}

/**
 * Starts one informer per resource (`kinds`: only those, by their snapshot name, e.g. ['pods', 'configMaps']
 * for the data plane). `onChange` is called (synchronously, often in bursts: debounce it) on every add, update
 * or delete. Returns { snapshot(), synced(), stop() }.
 */
export function watchCluster(
  kc,
  { kinds, onChange = () => {}, log = () => {}, retryMs = 2000, absentRetryMs = 5000 } = {},
) {
  const all = resources(kc);
  for (const kind of kinds ?? []) if (!all[kind]) throw new Error(`watchCluster: unknown kind ${kind}`);
  const watchers = Object.entries(all)
    .filter(([name]) => !kinds || kinds.includes(name))
    .map(([name, spec]) => startInformer(kc, name, spec, { onChange, log, retryMs, absentRetryMs }));
  return {
    /** The current objects, for split.mjs's computeSplits. */
    snapshot() {
      return Object.fromEntries(watchers.map((w) => [w.name, w.items()]));
    },
    /** True once every built-in kind has been listed (the router kinds may legitimately be absent). */
    synced() {
      return watchers.every((w) => w.optional || w.synced);
    },
    status() {
      return Object.fromEntries(
        watchers.map((w) => [w.name, { synced: w.synced, absent: w.absent, count: w.items().length }]),
      );
    },
    async stop() {
      await Promise.all(watchers.map((w) => w.stop()));
    },
  };
}

function startInformer(kc, name, spec, { onChange, log, retryMs, absentRetryMs }) {
  const informer = k8s.makeInformer(kc, spec.path, spec.list);
  const state = { name, optional: Boolean(spec.optional), synced: false, absent: false, stopped: false };
  let errors = 0;
  let failing = false;
  let timer;

  for (const verb of [k8s.ADD, k8s.UPDATE, k8s.DELETE]) informer.on(verb, () => onChange(name));
  // The informer stops on an error (a failed LIST, a broken WATCH); we restart it after a pause. A 404 means
  // the kind is not served (CRD missing): report no objects rather than stale ones.
  informer.on(k8s.ERROR, (error) => {
    errors += 1;
    if (state.stopped) return;
    const notFound = statusOf(error) === 404;
    if (notFound && !state.absent) onChange(name);
    state.absent = notFound;
    if (!failing)
      log(`${name}: ${notFound ? `${spec.path} is not served (yet)` : describe(error)}; retrying`);
    failing = true;
    clearTimeout(timer);
    timer = setTimeout(run, notFound ? absentRetryMs : retryMs);
  });

  async function run() {
    if (state.stopped) return;
    const before = errors;
    try {
      await informer.start();
    } catch (error) {
      errors += 1;
      log(`${name}: ${describe(error)}; retrying`);
      timer = setTimeout(run, retryMs);
      return;
    }
    // start() resolves once the LIST is done and the WATCH is open, or after the error callback has run.
    if (errors === before) {
      if (failing) log(`${name}: watching again`);
      failing = false;
      if (state.absent) onChange(name);
      state.absent = false;
      state.synced = true;
    }
  }
  run();

  return {
    get name() {
      return state.name;
    },
    get optional() {
      return state.optional;
    },
    get synced() {
      return state.synced;
    },
    get absent() {
      return state.absent;
    },
    items: () => (state.absent ? [] : informer.list()),
    async stop() {
      state.stopped = true;
      clearTimeout(timer);
      await informer.stop();
    },
  };
}

function statusOf(error) {
  return error?.statusCode ?? error?.code ?? error?.response?.statusCode;
}

function describe(error) {
  const status = statusOf(error);
  return `${status ? `HTTP ${status}: ` : ''}${String(error?.message ?? error).split('\n')[0]}`;
}
