#!/usr/bin/env node
// The sandbox's data plane, host side: watches Pods and ConfigMaps (KUBECONFIG; informers, as the simulator
// does) and keeps one HTTP responder per port of every Ready pod labelled testbed.gantry.dev/responder bound
// on that pod's IP (pods.mjs says which). The responders run in a child process inside the network namespace
// the component made (responders.mjs, started with `ip netns exec`), which cannot reach the API server on the
// host's loopback; this process drives it over its stdin and reads its events from its stdout.
// Serves, on 127.0.0.1 only:
//   GET /metrics     dataplane_requests_total{namespace,pod,track,code}, dataplane_responders (bound now)
//   GET /responders  JSON: every responder wanted now, with whether it is bound (and its error, if any)
//   GET /healthz     200 while the process runs;  GET /readyz  200 once Pods and ConfigMaps are listed and the
//                    responders process is up
// Every request a responder answers is appended to --request-log as one JSON line (time in ms since the epoch,
// namespace, pod, track, version, ip, port, method, path, status, latencyMs).
// Usage: node main.mjs --port PORT --netns NAME --pod-network CIDR --request-log FILE
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { byNamespace } from '../simulator/split.mjs';
import { watchCluster } from '../simulator/watch.mjs';
import { desiredResponders, diffResponders, withDraining } from './pods.mjs';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    netns: { type: 'string' },
    'pod-network': { type: 'string' },
    'request-log': { type: 'string' },
  },
});
const port = Number(values.port);
const { netns } = values;
const podNetwork = values['pod-network'];
const requestLog = values['request-log'];
if (!Number.isInteger(port) || port <= 0 || port > 65535 || !netns || !podNetwork || !requestLog) {
  process.stderr.write(
    'dataplane: usage: main.mjs --port PORT --netns NAME --pod-network CIDR --request-log FILE\n',
  );
  process.exit(2);
}

const log = (line) => process.stderr.write(`${new Date().toISOString()} dataplane: ${line}\n`);

mkdirSync(dirname(requestLog), { recursive: true });
const requests = createWriteStream(requestLog, { flags: 'a' });

// --- the responders process, inside the namespace ---

const script = join(dirname(fileURLToPath(import.meta.url)), 'responders.mjs');
const child = spawn('ip', ['netns', 'exec', netns, process.execPath, script], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
let childReady = false;
let stopping = false;
child.on('exit', (code, signal) => {
  if (stopping) return;
  log(`the responders process in ${netns} exited (${signal ?? `code ${code}`}); stopping`);
  process.exit(1);
});
child.stdin.on('error', (error) => log(`writing to the responders process: ${error.message}`));

/** `namespace\0pod\0track\0code` → count */
const counters = new Map();
/** key → { bound, error } for the responders sent to the child */
const bindings = new Map();

createInterface({ input: child.stdout }).on('line', (line) => {
  let event;
  try {
    event = JSON.parse(line);
  } catch {
    log(`responders: ${line}`);
    return;
  }
  switch (event.event) {
    case 'request': {
      const { event: _event, ...entry } = event;
      requests.write(`${JSON.stringify(entry)}\n`);
      const id = [entry.namespace, entry.pod, entry.track, String(entry.status)].join('\0');
      counters.set(id, (counters.get(id) ?? 0) + 1);
      return;
    }
    case 'ready':
      childReady = true;
      log(`responders process up in ${netns}`);
      schedule();
      return;
    case 'bound':
    case 'unbound': {
      const binding = bindings.get(event.key);
      if (binding) binding.bound = event.event === 'bound';
      return;
    }
    case 'error': {
      const binding = event.key && bindings.get(event.key);
      if (binding) binding.error = event.message;
      log(`responder ${event.key ?? ''}: ${event.message}`);
      return;
    }
    default:
      log(`responders: unknown event ${line.slice(0, 200)}`);
  }
});

// --- the cluster ---

const kc = new k8s.KubeConfig();
kc.loadFromDefault();

let current = new Map(); // key → spec, as last sent to the child
let skipped = [];
let reconciled = false;
let timer;
let drainTimer;

const watch = watchCluster(kc, { kinds: ['pods', 'configMaps'], onChange: schedule, log });

/** Informer events come in bursts; one reconciliation per 10 ms at most. */
function schedule() {
  if (timer || stopping) return;
  timer = setTimeout(() => {
    timer = undefined;
    reconcile();
  }, 10);
}

function reconcile() {
  if (!childReady || !watch.synced()) return;
  const snapshot = watch.snapshot();
  let desired;
  try {
    ({ responders: desired, skipped } = desiredResponders(snapshot.pods, byNamespace(snapshot.configMaps), {
      podNetwork,
    }));
  } catch (error) {
    log(`working out the responders failed (kept the previous ones): ${error.stack ?? error}`);
    return;
  }
  // Pods just gone keep answering for their drain time; a reconciliation is due when the first one ends.
  const draining = withDraining(current, desired, Date.now());
  desired = draining.desired;
  if (draining.nextExpiry !== undefined) {
    clearTimeout(drainTimer);
    drainTimer = setTimeout(schedule, Math.max(0, draining.nextExpiry - Date.now()) + 5);
  }
  const commands = diffResponders(current, desired);
  for (const command of commands) {
    child.stdin.write(`${JSON.stringify(command)}\n`);
    if (command.op === 'remove') bindings.delete(command.key);
    else if (command.op === 'add') bindings.set(command.key, { bound: false });
    const spec = command.op === 'remove' ? current.get(command.key) : command;
    log(`${command.op} ${command.key} ${spec.namespace}/${spec.pod}`);
  }
  current = desired;
  reconciled = true;
}

// --- HTTP ---

function label(value) {
  return String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function exposition() {
  const out = [
    '# HELP dataplane_requests_total Requests answered by the data plane responders.',
    '# TYPE dataplane_requests_total counter',
  ];
  for (const [id, count] of [...counters].sort(([a], [b]) => a.localeCompare(b))) {
    const [namespace, pod, track, code] = id.split('\0');
    out.push(
      `dataplane_requests_total{namespace="${label(namespace)}",pod="${label(pod)}",track="${label(track)}",code="${label(code)}"} ${count}`,
    );
  }
  out.push(
    '# HELP dataplane_responders Responders bound now (one per pod IP and port).',
    '# TYPE dataplane_responders gauge',
    `dataplane_responders ${[...bindings.values()].filter((b) => b.bound).length}`,
  );
  return `${out.join('\n')}\n`;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const send = (status, type, body) => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
  if (req.method !== 'GET') return send(405, 'text/plain', 'GET only\n');
  switch (url.pathname) {
    case '/metrics':
      return send(200, 'text/plain; version=0.0.4; charset=utf-8', exposition());
    case '/responders': {
      const namespace = url.searchParams.get('namespace');
      const list = [...current.values()]
        .filter((r) => !namespace || r.namespace === namespace)
        .map((r) => ({ ...r, ...bindings.get(r.key) }));
      const body = { netns, podNetwork, synced: watch.synced(), responders: list, skipped };
      return send(200, 'application/json', `${JSON.stringify(body, null, 2)}\n`);
    }
    case '/healthz':
      return send(200, 'text/plain', 'ok\n');
    case '/readyz':
      return childReady && reconciled
        ? send(200, 'text/plain', 'ready\n')
        : send(503, 'text/plain', 'listing the cluster or starting the responders\n');
    default:
      return send(404, 'text/plain', 'not found: try /metrics, /responders, /healthz, /readyz\n');
  }
});
server.listen(port, '127.0.0.1', () =>
  log(`listening on http://127.0.0.1:${port} (namespace ${netns}, pod network ${podNetwork})`),
);

// The informers' first LIST may finish before the child is up: keep trying until the first reconciliation.
const kick = setInterval(() => (reconciled ? clearInterval(kick) : schedule()), 100);

async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  clearInterval(kick);
  clearTimeout(timer);
  child.kill('SIGTERM');
  server.close();
  await watch.stop().catch(() => {});
  await new Promise((resolve) => requests.end(resolve));
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
