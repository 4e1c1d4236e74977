#!/usr/bin/env node
// The sandbox's traffic simulator: watches the cluster (KUBECONFIG), works out the traffic split of every app
// (split.mjs) and serves, on 127.0.0.1 only:
//   GET /metrics  Prometheus text exposition (metrics.mjs)
//   GET /split    the current split per app as JSON (?namespace=NS to filter)
//   GET /healthz  200 while the process runs;  GET /readyz  200 once Pods, Services and Ingresses are listed
// Usage: node main.mjs --port PORT [--tick-ms 100] [--default-rps 50]
//
// Counters are integrated over real time: whenever the split changes (at most once per tick, since informer
// events come in bursts) and whenever /metrics is read, the time elapsed since the last update is accounted
// at the rates of the split that was in force. A scrape therefore sees exactly rate × elapsed, whatever the
// tick or scrape timing.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { TrafficMetrics } from './metrics.mjs';
import { computeSplits, DEFAULT_RPS } from './split.mjs';
import { watchCluster } from './watch.mjs';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'tick-ms': { type: 'string', default: '100' },
    'default-rps': { type: 'string', default: String(DEFAULT_RPS) },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write('simulator: --port PORT is required (1-65535)\n');
  process.exit(2);
}
const tickMs = Number(values['tick-ms']);
const defaultRps = Number(values['default-rps']);

const log = (line) => process.stderr.write(`${new Date().toISOString()} simulator: ${line}\n`);

const kc = new k8s.KubeConfig();
kc.loadFromDefault();

const metrics = new TrafficMetrics();
const seconds = () => performance.now() / 1000;
let splits = [];
let splitAt = new Date().toISOString();
let lastAdvance = seconds();
let dirty = true;

/** Accounts the traffic since the last call at the current split's rates. */
function advance() {
  const now = seconds();
  metrics.advance(splits, now - lastAdvance, now);
  lastAdvance = now;
}

const watch = watchCluster(kc, {
  onChange: () => {
    dirty = true;
  },
  log,
});

const ticker = setInterval(() => {
  if (!dirty) return;
  dirty = false;
  advance(); // close the interval at the old split before switching
  try {
    splits = computeSplits(watch.snapshot(), { defaultRps });
    splitAt = new Date().toISOString();
  } catch (error) {
    log(`computing the split failed (kept the previous one): ${error.stack ?? error}`);
  }
}, tickMs);

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const send = (status, type, body) => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
  if (req.method !== 'GET') return send(405, 'text/plain', 'GET only\n');
  switch (url.pathname) {
    case '/metrics':
      advance();
      return send(200, 'text/plain; version=0.0.4; charset=utf-8', metrics.expose());
    case '/split': {
      const namespace = url.searchParams.get('namespace');
      const selected = namespace ? splits.filter((s) => s.namespace === namespace) : splits;
      const body = { updatedAt: splitAt, synced: watch.synced(), watches: watch.status(), splits: selected };
      return send(200, 'application/json', `${JSON.stringify(body, null, 2)}\n`);
    }
    case '/healthz':
      return send(200, 'text/plain', 'ok\n');
    case '/readyz':
      return watch.synced()
        ? send(200, 'text/plain', 'ready\n')
        : send(503, 'text/plain', 'listing the cluster\n');
    default:
      return send(404, 'text/plain', 'not found: try /metrics, /split, /healthz, /readyz\n');
  }
});
server.listen(port, '127.0.0.1', () =>
  log(`listening on http://127.0.0.1:${port} (API ${kc.getCurrentCluster()?.server})`),
);

async function shutdown(signal) {
  log(`${signal}: stopping`);
  clearInterval(ticker);
  server.close();
  await watch.stop().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
