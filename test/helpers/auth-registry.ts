import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A registry front that demands HTTP basic auth, as a private registry does. */
export interface AuthRegistry {
  /** `127.0.0.1:PORT`, to use as a registry host. */
  address: string;
  /** Requests seen, and how many were refused for lacking the right credentials. */
  counts: { requests: number; refused: number };
  close(): Promise<void>;
}

/**
 * Starts, on 127.0.0.1, a front that answers 401 to any request without `username:password` and forwards
 * everything else, Host header unchanged (so the registry's Location headers point back at the front), to
 * the sandbox registry `upstream` (`host:port`).
 */
export function startAuthRegistry(
  upstream: string,
  username: string,
  password: string,
): Promise<AuthRegistry> {
  const [targetHost, targetPort] = upstream.split(':');
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const counts = { requests: 0, refused: 0 };
  const front = http.createServer((req, res) => {
    counts.requests++;
    if (req.headers.authorization !== expected) {
      counts.refused++;
      req.resume();
      res.writeHead(401, {
        'content-type': 'application/json',
        'docker-distribution-api-version': 'registry/2.0',
        'www-authenticate': 'Basic realm="gantry-test"',
      });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    const forward = http.request(
      { host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  return new Promise((resolve) => {
    front.listen(0, '127.0.0.1', () => {
      resolve({
        address: `127.0.0.1:${(front.address() as AddressInfo).port}`,
        counts,
        close: () => new Promise((done) => front.close(() => done())),
      });
    });
  });
}
