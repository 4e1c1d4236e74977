// A counting proxy in front of the sandbox's kube-apiserver, for the scale benchmark and test: it records every
// request a client sends over the wire (time, namespace, verb, resource), so a test can tell watches from
// polling loops without instrumenting the client. Clients reach it through the kubeconfig it writes (plain HTTP
// on 127.0.0.1, no credentials); it forwards to the API server over TLS with the sandbox's admin certificate
// from the original kubeconfig. Responses, watch streams included, are piped back as they come.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';

/** The verb of a request the way the API server's audit log names it. */
export function verbOf(method, url) {
  const { pathname, searchParams } = new URL(url, 'http://proxy');
  const watch = searchParams.get('watch');
  if (method === 'GET' && (watch === 'true' || watch === '1' || /\/watch\//.test(pathname))) return 'WATCH';
  if (method === 'GET' && resourceOf(pathname).resource === '') return 'DISCOVERY'; // /api, /apis/<group>/<v>
  if (method === 'GET') return isCollection(pathname) ? 'LIST' : 'GET';
  return { POST: 'CREATE', PUT: 'UPDATE', PATCH: 'PATCH', DELETE: 'DELETE' }[method] ?? method;
}

/**
 * The resource a path names and whether it is a collection: /api/v1/namespaces/ns/pods (collection),
 * /apis/apps/v1/namespaces/ns/deployments/web (one object), /api/v1/namespaces/ns (one namespace).
 */
export function resourceOf(pathname) {
  const parts = pathname.split('/').filter(Boolean);
  // core: api/v1/…; groups: apis/<group>/<version>/…
  let rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : parts;
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  return { resource: rest[0] ?? '', named: rest.length >= 2, subresource: rest[2] };
}

function isCollection(pathname) {
  return !resourceOf(pathname).named;
}

/** The namespace a request is about: /namespaces/<ns>/… or the namespace object itself. */
export function namespaceOf(pathname) {
  const match = /\/namespaces\/([^/?]+)/.exec(pathname);
  return match ? decodeURIComponent(match[1]) : undefined;
}

function pick(list, name) {
  return list.find((entry) => entry.name === name);
}

/**
 * Starts the proxy. `kubeconfig`: the sandbox's (TLS, client certificate). Returns the proxy's kubeconfig path,
 * the requests seen so far and close().
 */
export async function startKubeProxy({ kubeconfig, host = '127.0.0.1', port = 0 }) {
  const config = yaml.load(readFileSync(kubeconfig, 'utf8'));
  const context = pick(config.contexts, config['current-context']).context;
  const cluster = pick(config.clusters, context.cluster).cluster;
  const user = pick(config.users, context.user).user;
  const data = (value) => (value ? Buffer.from(value, 'base64') : undefined);
  const target = new URL(cluster.server);
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 256,
    ca: data(cluster['certificate-authority-data']),
    cert: data(user['client-certificate-data']),
    key: data(user['client-key-data']),
  });
  /** Every request seen: { at (ms since epoch), method, verb, path, namespace, resource, status }. */
  const requests = [];

  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://proxy');
    const record = {
      at: Date.now(),
      method: req.method,
      verb: verbOf(req.method, req.url ?? '/'),
      path: pathname,
      namespace: namespaceOf(pathname),
      resource: resourceOf(pathname).resource,
      status: 0,
    };
    requests.push(record);
    const headers = { ...req.headers, host: target.host };
    const upstream = https.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
        agent,
      },
      (answer) => {
        record.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`kube-proxy: ${error.message}`);
      } else res.destroy(error);
    });
    // A client that goes away (a watch it stopped) ends the upstream request too.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const url = `http://${host}:${address.port}`;
  const dir = mkdtempSync(join(tmpdir(), 'gantry-kube-proxy-'));
  const proxyKubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    proxyKubeconfig,
    yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node speaks plain HTTP only with TLS verification off (there is no TLS to verify here).
      clusters: [{ name: 'counted', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'counted', user: {} }],
      contexts: [{ name: 'counted', context: { cluster: 'counted', user: 'counted', namespace: 'default' } }],
      'current-context': 'counted',
    }),
    { mode: 0o600 },
  );

  return {
    url,
    kubeconfig: proxyKubeconfig,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
