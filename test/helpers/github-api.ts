/**
 * A local stand-in for the GitHub REST API endpoints the deploy stage calls (node:http on 127.0.0.1, a random
 * port): deployments, deployment statuses and issue comments. It keeps what it was sent, checks the
 * authorization header, and can answer 5xx to see the retry and the warnings. Point `GITHUB_API_URL` at `url`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

export interface FakeDeployment {
  id: number;
  owner: string;
  repo: string;
  body: Record<string, unknown>;
  statuses: Array<Record<string, unknown>>;
}

export interface FakeComment {
  id: number;
  issue: number;
  body: string;
}

export interface GitHubApi {
  url: string;
  requests: ApiRequest[];
  deployments: FakeDeployment[];
  comments: FakeComment[];
  /** Answer this status (with a JSON message) to every request from now on; undefined to answer normally. */
  failWith: number | undefined;
  /** Answer 502 to the next n requests, then normally. */
  failNext: number;
  close(): Promise<void>;
}

export async function startGitHubApi(token: string): Promise<GitHubApi> {
  let nextId = 1000;
  const api: Omit<GitHubApi, 'url' | 'close'> = {
    requests: [],
    deployments: [],
    comments: [],
    failWith: undefined,
    failNext: 0,
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, text: string) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return send(res, 400, { message: 'Problems parsing JSON' });
    }
    api.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      body,
    });
    if (api.failWith !== undefined) return send(res, api.failWith, { message: 'Server Error' });
    if (api.failNext > 0) {
      api.failNext -= 1;
      return send(res, 502, { message: 'Bad Gateway' });
    }
    const auth = req.headers.authorization ?? '';
    if (auth !== `token ${token}` && auth !== `Bearer ${token}`) {
      return send(res, 401, { message: 'Bad credentials' });
    }
    const json = (body ?? {}) as Record<string, unknown>;
    const route = (method: string, pattern: RegExp) =>
      req.method === method ? pattern.exec(url.pathname) : null;
    let m = route('POST', /^\/repos\/([^/]+)\/([^/]+)\/deployments$/);
    if (m) {
      if (typeof json.ref !== 'string' || !json.ref) return send(res, 422, { message: 'ref missing' });
      const deployment: FakeDeployment = {
        id: nextId++,
        owner: m[1]!,
        repo: m[2]!,
        body: json,
        statuses: [],
      };
      api.deployments.push(deployment);
      return send(res, 201, { id: deployment.id, ref: json.ref, environment: json.environment });
    }
    m = route('POST', /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/);
    if (m) {
      const id = Number(m[3]);
      const deployment = api.deployments.find((d) => d.id === id);
      if (!deployment) return send(res, 404, { message: 'Not Found' });
      const states = ['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success'];
      if (!states.includes(String(json.state))) return send(res, 422, { message: 'bad state' });
      if (typeof json.description === 'string' && json.description.length > 140) {
        return send(res, 422, { message: 'description is too long (maximum is 140 characters)' });
      }
      deployment.statuses.push(json);
      return send(res, 201, { id: nextId++, state: json.state });
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname);
    if (m) {
      const issue = Number(m[3]);
      if (req.method === 'GET') {
        return send(
          res,
          200,
          api.comments.filter((c) => c.issue === issue).map((c) => ({ id: c.id, body: c.body })),
        );
      }
      if (req.method === 'POST') {
        if (typeof json.body !== 'string') return send(res, 422, { message: 'body missing' });
        const comment = { id: nextId++, issue, body: json.body };
        api.comments.push(comment);
        return send(res, 201, comment);
      }
    }
    m = route('PATCH', /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/);
    if (m) {
      const id = Number(m[3]);
      const comment = api.comments.find((c) => c.id === id);
      if (!comment) return send(res, 404, { message: 'Not Found' });
      if (typeof json.body !== 'string') return send(res, 422, { message: 'body missing' });
      comment.body = json.body;
      return send(res, 200, comment);
    }
    return send(res, 404, { message: 'Not Found' });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(api as GitHubApi, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
