// The plain node:http plumbing both servers share: read a body, listen on host:port (0 = any free port).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void | Promise<void>;

export interface Listening {
  url: string;
  port: number;
  close(): Promise<void>;
}

const MAX_BODY = 8 * 1024 * 1024;

/**
 * `cors`: any origin may read the answers, as with public Esplora servers (the wallet, on its own
 * origin, reads the chain from them directly). Not for the bitcoind RPC, which no page should call.
 */
export function listen(
  handler: Handler,
  host: string,
  port: number,
  options: { cors?: boolean } = {},
): Promise<Listening> {
  const server: Server = createServer((req, res) => {
    if (options.cors) {
      res.setHeader('access-control-allow-origin', '*');
      if (req.method === 'OPTIONS') {
        res
          .writeHead(204, {
            'access-control-allow-methods': 'GET, POST',
            'access-control-allow-headers': 'content-type',
            'access-control-max-age': '600',
          })
          .end();
        return;
      }
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        res.writeHead(413).end('body too large');
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      Promise.resolve(handler(req, Buffer.concat(chunks), res)).catch((e: unknown) => {
        console.error(`devnet: ${req.method} ${req.url} failed`, e);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String((e as Error)?.message ?? e));
      });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address() as AddressInfo;
      const hostInUrl = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${hostInUrl}:${bound}`,
        port: bound,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

export function send(
  res: ServerResponse,
  status: number,
  body: string | Uint8Array | object,
  type?: string,
): void {
  if (typeof body === 'string') {
    res.writeHead(status, { 'content-type': type ?? 'text/plain' }).end(body);
  } else if (body instanceof Uint8Array) {
    res.writeHead(status, { 'content-type': type ?? 'application/octet-stream' }).end(body);
  } else {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}
