// The origin the browser sees, as the LSP will serve it: the built wallet (static, CSP header, SPA
// fallback), /trpc, /backup and the /peer WebSocket passed to the LSP, /esplora passed to the chain source,
// /esplora-2 to a second one.
// `cut()` makes the LSP unreachable from the browser (connections refused, sockets dropped).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
  '.json': 'application/json',
};

export interface Front {
  url: string;
  port: number;
  setLsp(url: string): void;
  /** Make the LSP (tRPC, /backup, /peer) unreachable, or reachable again. */
  cut(down: boolean): void;
  /**
   * While on, a backup upload (PUT /backup/…) reaches the LSP, which stores it, but its answer never
   * reaches the browser: the moment a page can go away between the two. Counts the uploads held.
   */
  holdBackupAnswers(hold: boolean): void;
  readonly heldBackupPuts: number;
  close(): Promise<void>;
}

export async function startFront(options: {
  distDir: string;
  esploraUrl: string;
  /** Served at /esplora-2: a second chain source on the wallet's origin (its CSP allows no http origin). */
  secondEsploraUrl?: string;
  csp: string;
}): Promise<Front> {
  let lsp: URL | undefined;
  let down = false;
  let holdBackups = false;
  let heldBackupPuts = 0;
  const sockets = new Set<Socket>();
  const proxy = (req: IncomingMessage, res: import('node:http').ServerResponse, target: URL) => {
    const upstream = request(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        if (holdBackups && req.method === 'PUT' && target.pathname.startsWith('/backup/')) {
          heldBackupPuts++;
          answer.resume(); // stored at the LSP; the browser never hears back
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path.startsWith('/trpc/') || path.startsWith('/backup/')) {
      if (down || !lsp) {
        req.socket.destroy();
        return;
      }
      return proxy(req, res, new URL(req.url!, lsp));
    }
    if (path.startsWith('/esplora/')) {
      return proxy(req, res, new URL(req.url!.slice('/esplora'.length), `${options.esploraUrl}/`));
    }
    if (path.startsWith('/esplora-2/') && options.secondEsploraUrl) {
      return proxy(req, res, new URL(req.url!.slice('/esplora-2'.length), `${options.secondEsploraUrl}/`));
    }
    let file = normalize(join(options.distDir, path));
    if (!file.startsWith(options.distDir) || !existsSync(file) || statSync(file).isDirectory()) {
      file = join(options.distDir, 'index.html');
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-security-policy': options.csp,
      'cache-control': file.endsWith('sw.js') || file.endsWith('.html') ? 'no-cache' : 'max-age=3600',
    });
    createReadStream(file).pipe(res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (down || !lsp) {
      socket.destroy();
      return;
    }
    const upstream = connect(Number(lsp.port), lsp.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    sockets.add(socket).add(upstream);
    const drop = () => {
      socket.destroy();
      upstream.destroy();
      sockets.delete(socket);
      sockets.delete(upstream);
    };
    upstream.on('error', drop).on('close', drop);
    socket.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setLsp(url) {
      lsp = new URL(url);
    },
    holdBackupAnswers(hold) {
      holdBackups = hold;
    },
    get heldBackupPuts() {
      return heldBackupPuts;
    },
    cut(value) {
      down = value;
      if (value) for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
