#!/usr/bin/env node
// The data plane's responders, run by main.mjs INSIDE the sandbox's network namespace
// (`ip netns exec <ns> node responders.mjs`), where every address of the pod network is local (an AnyIP route
// on lo), so a server can bind any pod IP without adding an address.
//
// stdin: one JSON command a line from main.mjs:
//   {"op":"add"|"update", key, ip, port, namespace, pod, version, track, errorRate, latencyMs}
//   {"op":"remove", key}
// stdout: one JSON event a line back: {"event":"ready"} once, then {"event":"bound"|"unbound", key},
//   {"event":"error", key, message} and, for every request answered, {"event":"request", time, namespace, pod,
//   track, version, ip, port, method, path, status, latencyMs}.
// Each request is answered after the pod's latency with 500 (with probability errorRate) or 200, and the body
// {"pod", "version", "track"} plus headers x-pod, x-track. A removed responder stops listening at once (new
// connections are refused, as by a pod that is gone); requests it had already accepted are answered, then
// their connections closed; a request arriving later on a kept-alive connection gets its connection reset.
// stdin closing (main.mjs gone) ends this process.
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';

/** key → { spec, server, removed } */
const responders = new Map();
const GRACE_MS = 2000; // after the longest latency: what in-flight requests of a removed responder get

function emit(event) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function handler(entry) {
  return (req, res) => {
    if (entry.removed) {
      req.socket.destroy();
      return;
    }
    const started = performance.now();
    const spec = entry.spec; // the settings at arrival apply to the whole request
    const status = Math.random() < spec.errorRate ? 500 : 200;
    req.resume(); // bodies are not read, only drained
    setTimeout(() => {
      const body = JSON.stringify({ pod: spec.pod, version: spec.version, track: spec.track });
      const headers = {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-pod': spec.pod,
        'x-track': spec.track,
        'x-version': spec.version,
      };
      if (entry.removed) headers.connection = 'close';
      res.writeHead(status, headers);
      res.end(body);
      emit({
        event: 'request',
        time: Date.now(),
        namespace: spec.namespace,
        pod: spec.pod,
        track: spec.track,
        version: spec.version,
        ip: spec.ip,
        port: spec.port,
        method: req.method,
        path: req.url,
        status,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
      });
    }, spec.latencyMs);
  };
}

function add(spec) {
  const entry = { spec, removed: false, server: undefined };
  responders.set(spec.key, entry);
  listen(entry, 0);
}

/** Binds the responder; a port still held by a responder just removed (same ip:port) is retried briefly. */
function listen(entry, attempt) {
  const server = createServer({ keepAliveTimeout: 5000 }, handler(entry));
  entry.server = server;
  server.once('error', (error) => {
    if (entry.removed) return;
    if (error.code === 'EADDRINUSE' && attempt < 40) {
      setTimeout(() => !entry.removed && listen(entry, attempt + 1), 50);
      return;
    }
    emit({ event: 'error', key: entry.spec.key, message: `${error.code ?? ''} ${error.message}`.trim() });
  });
  server.listen({ host: entry.spec.ip, port: entry.spec.port, backlog: 1024 }, () => {
    if (entry.removed) server.close();
    else emit({ event: 'bound', key: entry.spec.key });
  });
}

function remove(key) {
  const entry = responders.get(key);
  if (!entry) return;
  responders.delete(key);
  entry.removed = true;
  const { server, spec } = entry;
  server.close(); // stops accepting at once; idle kept-alive connections are closed too
  server.closeIdleConnections();
  setTimeout(() => server.closeAllConnections(), spec.latencyMs + GRACE_MS).unref();
  emit({ event: 'unbound', key });
}

function apply(command) {
  switch (command.op) {
    case 'add':
      if (responders.has(command.key)) responders.get(command.key).spec = command;
      else add(command);
      return;
    case 'update': {
      const entry = responders.get(command.key);
      if (entry) entry.spec = command;
      else add(command);
      return;
    }
    case 'remove':
      remove(command.key);
      return;
    default:
      emit({ event: 'error', key: command.key, message: `unknown op ${JSON.stringify(command.op)}` });
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === '') return;
  try {
    apply(JSON.parse(line));
  } catch (error) {
    emit({ event: 'error', message: `bad command ${line.slice(0, 200)}: ${error.message}` });
  }
});
lines.on('close', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
emit({ event: 'ready' });
