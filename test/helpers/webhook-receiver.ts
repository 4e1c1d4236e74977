import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got: its path, headers and the JSON body. */
export interface ReceivedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  headers: IncomingHttpHeaders;
  /** The body as sent (to check a signature over it). */
  raw: string;
  body: unknown;
}

/**
 * A loopback HTTP server standing in for Slack, Teams or a webhook endpoint: records every request, and answers
 * with `status` (or the next of `statuses`, then `status`). Listens on 127.0.0.1 on a random port.
 */
export interface WebhookReceiver {
  url: (path: string) => string;
  requests: ReceivedRequest[];
  close: () => Promise<void>;
}

export async function startReceiver(
  options: {
    status?: number;
    statuses?: number[];
    /** Decides the answer per request (after it was recorded): a status, or a status and a body. */
    respond?: (request: ReceivedRequest, all: ReceivedRequest[]) => number | { status: number; body: string };
  } = {},
): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const statuses = [...(options.statuses ?? [])];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      const received: ReceivedRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        contentType: request.headers['content-type'],
        headers: request.headers,
        raw: text,
        body,
      };
      requests.push(received);
      const answer = options.respond?.(received, requests) ?? statuses.shift() ?? options.status ?? 200;
      const { status, body: reply } = typeof answer === 'number' ? { status: answer, body: 'ok' } : answer;
      response.writeHead(status, { 'content-type': 'text/plain' });
      response.end(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback URL nobody listens on: a port taken and released again. */
export async function closedPortUrl(path: string): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}
