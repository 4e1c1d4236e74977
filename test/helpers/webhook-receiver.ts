import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got: its path, headers and the JSON body. */
export interface ReceivedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
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
  options: { status?: number; statuses?: number[] } = {},
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
      requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        contentType: request.headers['content-type'],
        body,
      });
      response.writeHead(statuses.shift() ?? options.status ?? 200, { 'content-type': 'text/plain' });
      response.end('ok');
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
