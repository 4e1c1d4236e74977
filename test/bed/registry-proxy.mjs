// A small HTTP proxy in front of the sandbox registry, for benchmarks and fault injection.
// - counts what clients upload (request body bytes of blob uploads) and how many requests of each kind;
// - injects faults on demand: the next N requests answer a status (500, 429, …) or are delayed.
// Control endpoints (not forwarded): GET /__gantry/stats, POST /__gantry/reset,
// POST /__gantry/faults {"status":500,"count":3,"delayMs":0,"match":"PUT|PATCH|POST|GET|HEAD"}.
//   status: answer this status instead of forwarding; without it the request is forwarded (after delayMs:
//   a slow registry); "reset": true drops the connection without an answer. `statuses` (e.g. [500, 429])
//   cycles through several statuses. Each injected fault's time is kept in stats.faultTimes (ms since epoch),
//   so tests can see the client's backoff between attempts.
// The Host header is passed through unchanged so the registry's Location headers point back at the proxy.
import http from 'node:http';

export function startRegistryProxy({ target, port = 0, host = '127.0.0.1' }) {
  const targetUrl = new URL(target.startsWith('http') ? target : `http://${target}`);
  let stats = freshStats();
  let fault = null;

  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/__gantry/')) return control(req, res);
    const kind = req.method ?? 'GET';
    stats.requests[kind] = (stats.requests[kind] ?? 0) + 1;
    if (fault && fault.count > 0 && new RegExp(`^(${fault.match ?? '.*'})$`).test(kind)) {
      fault.count -= 1;
      const status = fault.statuses?.length
        ? fault.statuses[stats.faultsInjected % fault.statuses.length]
        : fault.status;
      const reset = fault.reset;
      stats.faultsInjected += 1;
      stats.faultTimes.push(Date.now());
      const respond = () => {
        if (reset) {
          req.socket.destroy();
        } else if (status) {
          req.resume();
          const headers = { 'content-type': 'application/json' };
          if (status === 429 && fault?.retryAfter) headers['retry-after'] = String(fault.retryAfter);
          res.writeHead(status, headers);
          res.end(JSON.stringify({ errors: [{ code: 'INJECTED', message: `injected ${status}` }] }));
        } else forward(req, res);
      };
      return fault.delayMs ? setTimeout(respond, fault.delayMs) : respond();
    }
    forward(req, res);
  });

  function forward(req, res) {
    const isUpload =
      /\/blobs\/uploads\//.test(req.url ?? '') && ['PATCH', 'PUT', 'POST'].includes(req.method ?? '');
    const upstream = http.request(
      {
        host: targetUrl.hostname,
        port: targetUrl.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      res.writeHead(502);
      res.end(String(error));
    });
    req.on('data', (chunk) => {
      if (isUpload) stats.uploadedBytes += chunk.length;
      if (req.method === 'PUT' && /\/manifests\//.test(req.url ?? '')) stats.manifestBytes += chunk.length;
    });
    req.pipe(upstream);
  }

  function control(req, res) {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (req.url === '/__gantry/stats') return json(res, stats);
      if (req.url === '/__gantry/reset') {
        stats = freshStats();
        fault = null;
        return json(res, { ok: true });
      }
      if (req.url === '/__gantry/faults') {
        fault = JSON.parse(body || '{}');
        return json(res, { ok: true, fault });
      }
      res.writeHead(404);
      res.end();
    });
  }

  return new Promise((resolve) => {
    server.listen(port, host, () => {
      const address = server.address();
      resolve({
        url: `${host}:${address.port}`,
        close: () => new Promise((r) => server.close(r)),
        stats: () => stats,
      });
    });
  });
}

function freshStats() {
  return { uploadedBytes: 0, manifestBytes: 0, requests: {}, faultsInjected: 0, faultTimes: [] };
}

function json(res, value) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}
