// What the browser sees, as `npm start` serves it: the built wallet on its own origin
// (lsp-server/src/wallet-host.ts: CSP header, config.json offering the LSP), and the LSP on another
// origin, reached through a pass-through the tests control: `cut()` makes the LSP unreachable
// (connections refused, sockets dropped), `holdBackupAnswers()` loses the answers of backup uploads.
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { serveWallet } from '@lpw/lsp-server/wallet-host';

export interface Front {
  /** The wallet's origin. */
  url: string;
  /** The LSP's origin as the browser reaches it (the wallet's default LSP). */
  lspUrl: string;
  /** Where the pass-through sends the LSP's traffic. */
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

export async function startFront(options: { distDir: string }): Promise<Front> {
  let lsp: URL | undefined;
  let down = false;
  let holdBackups = false;
  let heldBackupPuts = 0;
  const sockets = new Set<Socket>();
  const proxy = (req: IncomingMessage, res: ServerResponse, target: URL) => {
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
  // the LSP's origin: everything passed on as it is (Origin too: the LSP's CORS decides)
  const door: Server = createServer((req, res) => {
    if (down || !lsp) {
      req.socket.destroy();
      return;
    }
    proxy(req, res, new URL(req.url!, lsp));
  });
  door.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
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
  await new Promise<void>((resolve) => door.listen(0, '127.0.0.1', resolve));
  const lspUrl = `http://127.0.0.1:${(door.address() as import('node:net').AddressInfo).port}`;
  const wallet = await serveWallet({
    distDir: options.distDir,
    host: '127.0.0.1',
    port: 0,
    defaultLspUrl: lspUrl,
  });
  return {
    url: wallet.url,
    lspUrl,
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
    async close() {
      await wallet.close();
      await new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        door.closeAllConnections();
        door.close(() => resolve());
      });
    },
  };
}
