// What the browser sees, as `npm start` serves it: the built wallet on its own origin
// (lsp-server/src/wallet-host.ts: CSP header, config.json offering the LSP), and the LSP on another
// origin, reached through a pass-through the tests control: `cut()` makes the LSP unreachable
// (connections refused, sockets dropped), `holdBackupAnswers()` loses the answers of backup uploads.
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Transform } from 'node:stream';
import { PEER_WS_BACKUP_PROTOCOL } from '@lpw/api';
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
   * While on, a backup upload (PUT /backup/… or a put on the peer socket) reaches the LSP, which
   * stores it, but its answer never reaches the browser: the moment a page can go away between the
   * two. Counts the answers held.
   */
  holdBackupAnswers(hold: boolean): void;
  readonly heldBackupAnswers: number;
  close(): Promise<void>;
}

export async function startFront(options: { distDir: string }): Promise<Front> {
  let lsp: URL | undefined;
  let down = false;
  let holdBackups = false;
  let heldBackupAnswers = 0;
  const sockets = new Set<Socket>();
  const proxy = (req: IncomingMessage, res: ServerResponse, target: URL) => {
    const upstream = request(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        if (holdBackups && req.method === 'PUT' && target.pathname.startsWith('/backup/')) {
          heldBackupAnswers++;
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
      const held = () => heldBackupAnswers++;
      upstream.pipe(lspToBrowser(() => holdBackups, held)).pipe(socket);
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
    get heldBackupAnswers() {
      return heldBackupAnswers;
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

/**
 * The LSP → browser half of a piped WebSocket upgrade. On a socket that negotiated tagged frames the
 * backup answers ride in it (docs/architecture.md, "The backup on the peer socket"), so holding them
 * means dropping those frames: each is a whole unfragmented frame whose payload starts with the side
 * tag. Every other byte passes unchanged; a socket without tagged frames is passed through unread.
 */
function lspToBrowser(holding: () => boolean, onHeld: () => void): Transform {
  let pending = Buffer.alloc(0); // the start of a frame (or of the response head) not yet whole
  let tagged: boolean | undefined; // known once the upgrade response's head has passed
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (tagged === false) return done(null, chunk);
      pending = Buffer.concat([pending, chunk]);
      const out: Buffer[] = [];
      if (tagged === undefined) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return done();
        const head = pending.subarray(0, end + 4);
        tagged = head
          .toString('latin1')
          .split('\r\n')
          .some(
            (line) =>
              /^sec-websocket-protocol:/i.test(line) &&
              line.slice(line.indexOf(':') + 1).trim() === PEER_WS_BACKUP_PROTOCOL,
          );
        out.push(head);
        pending = pending.subarray(end + 4);
      }
      for (let frame = tagged ? wholeFrame(pending) : undefined; frame; frame = wholeFrame(pending)) {
        const bytes = pending.subarray(0, frame.size);
        pending = pending.subarray(frame.size);
        if (holding() && frame.sideFrame) onHeld();
        else out.push(bytes);
      }
      if (!tagged) {
        out.push(pending);
        pending = Buffer.alloc(0);
      }
      if (out.length) this.push(Buffer.concat(out));
      done();
    },
  });
}

const SIDE_TAG = 1; // packages/node/src/transport/websocket.ts: 0 = BOLT 8, 1 = side frame

/** The WebSocket frame at the start of `bytes` once all of it is there (RFC 6455 §5.2). */
function wholeFrame(bytes: Buffer): { size: number; sideFrame: boolean } | undefined {
  if (bytes.length < 2) return undefined;
  const finalBinary = bytes[0] === 0x82; // FIN, no extension bits, opcode binary
  const masked = (bytes[1]! & 0x80) !== 0; // never from a server, but sized right if it were
  let length = bytes[1]! & 0x7f;
  let at = 2;
  if (length === 126) {
    if (bytes.length < 4) return undefined;
    length = bytes.readUInt16BE(2);
    at = 4;
  } else if (length === 127) {
    if (bytes.length < 10) return undefined;
    length = Number(bytes.readBigUInt64BE(2));
    at = 10;
  }
  if (masked) at += 4;
  const size = at + length;
  if (bytes.length < size) return undefined;
  return { size, sideFrame: finalBinary && !masked && length > 0 && bytes[at] === SIDE_TAG };
}
