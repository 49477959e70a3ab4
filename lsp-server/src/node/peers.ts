// Lightning peer traffic: wallets over a WebSocket on the HTTP server (browsers cannot speak TCP),
// authenticated by their session token in Sec-WebSocket-Protocol (browsers cannot set headers on a
// WebSocket, and URLs end up in logs); public peers over TCP, inbound on PEER_LISTEN and outbound to
// PUBLIC_PEERS, redialled when they drop. A wallet that offers PEER_WS_BACKUP_PROTOCOL sends its
// backup on its socket, ahead of the messages it covers: stored before any later frame reaches LDK.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, PEER_WS_BACKUP_PROTOCOL, PEER_WS_PROTOCOL, PEER_WS_TOKEN_PREFIX } from '@lpw/api';
import { decodePeerPut, encodePeerRefused, encodePeerStored, isBackupError, type PeerPut } from '@lpw/backup';
import {
  acceptWebSocket,
  type LightningNode,
  type PeerConnection,
  type SideFrames,
  type WebSocketLike,
} from '@lpw/node';
import { listenTcp, type TcpListener, tcp } from '@lpw/node/tcp';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { tokenHash } from '../auth.ts';

/** BOLT 8 messages are at most 65 535 bytes plus framing; a WebSocket frame never needs more. */
const MAX_FRAME_BYTES = 256 * 1024;
/** A wallet must finish the BOLT 8 handshake as the node its session names within this time. */
const HANDSHAKE_DEADLINE_MS = 15_000;
/** How often a socket waiting for its handshake looks for the node id that completed it. */
const HANDSHAKE_POLL_MS = 25;
/** How often open sockets re-check their session (a logout in another LSP process, a sweep). */
const SESSION_CHECK_MS = 30_000;
/** setTimeout's limit; a longer session is re-armed by the periodic check. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface PeerWebSocketOptions {
  path: string;
  node: Pick<LightningNode, 'peerHost' | 'isConnected'>;
  /** The session behind a token, or undefined when it is no valid session. */
  authenticate: (token: string) => Promise<{ nodeId: string; expiresAtMs: number } | undefined>;
  /**
   * Web wallet origins allowed to open a socket (WALLET_ORIGINS). A browser always sends Origin on a
   * WebSocket and no CORS guards it, so another site's page could otherwise reach the endpoint;
   * a client with no Origin (the CLI, a server) is no browser page and passes to the token check.
   */
  origins: readonly string[];
  log: Logger;
  /** Milliseconds since the epoch, the clock sessions expire by. */
  clock?: () => number;
  /** Backups on the peer socket: the same checks as the HTTP route's PUT. Without it, not offered. */
  backup?: {
    store: (nodeId: string, put: PeerPut, req: IncomingMessage) => Promise<{ key: string; version: number }>;
    maxBlobBytes: number;
  };
}

export interface PeerWebSocketServer {
  /** Closes every socket of the session behind `token` (logout). */
  endSession(token: string): void;
  close(): void;
}

/** The session token among the offered Sec-WebSocket-Protocol values, if the client speaks ours. */
function offeredToken(req: IncomingMessage): string | undefined {
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  if (!offered.includes(PEER_WS_PROTOCOL)) return undefined;
  const token = offered.find((p) => p.startsWith(PEER_WS_TOKEN_PREFIX))?.slice(PEER_WS_TOKEN_PREFIX.length);
  return token && /^[A-Za-z0-9_-]{1,128}$/.test(token) ? token : undefined;
}

/**
 * A wallet socket's backup frames: each put is stored (or refused, with the refusal sent and the
 * socket closed) before the socket's later frames are read, so LDK never acts on a message the
 * wallet sent after a state the LSP does not hold.
 */
function backupFrames(
  nodeId: string,
  req: IncomingMessage,
  backup: NonNullable<PeerWebSocketOptions['backup']>,
  log: Logger,
): SideFrames {
  let send: ((payload: Uint8Array) => boolean) | undefined;
  const store = async (payload: Uint8Array) => {
    try {
      const stored = await backup.store(nodeId, decodePeerPut(payload), req);
      send?.(encodePeerStored(stored));
    } catch (error) {
      const refused =
        error instanceof ApiError
          ? { code: error.code, message: error.message, details: error.details }
          : isBackupError(error, 'INVALID_INPUT')
            ? { code: 'INVALID_INPUT', message: error.message }
            : { code: 'INTERNAL', message: 'internal error' };
      if (refused.code === 'INTERNAL') log.error({ err: error, nodeId }, 'backup on the peer socket failed');
      else log.warn({ nodeId, code: refused.code }, 'backup on the peer socket refused; socket closed');
      send?.(encodePeerRefused(refused));
      throw error;
    }
  };
  return {
    protocol: PEER_WS_BACKUP_PROTOCOL,
    opened: (s) => {
      send = s;
    },
    received: (payload) => store(payload),
    closed: () => {
      send = undefined;
    },
  };
}

/**
 * Serves `ws(s)://host/<path>` on `server`, the session token offered as the Sec-WebSocket-Protocol
 * value `lpw-token.<token>` beside `lpw-peer`, and hands each socket to the node. A socket lives only
 * while its session does and carries only the session's node: another node id completing the
 * handshake, a logout, or the session's expiry closes it.
 * @example const peerWs = servePeerWebSocket(server, { path: '/peer', origins, node, authenticate, log });
 */
export function servePeerWebSocket(server: Server, options: PeerWebSocketOptions): PeerWebSocketServer {
  const clock = options.clock ?? Date.now;
  const origins = new Set(options.origins);
  const backup = options.backup;
  const wss = new WebSocketServer({
    noServer: true,
    // a backup frame carries a whole blob (its tag, header and the blob's limit)
    maxPayload: Math.max(MAX_FRAME_BYTES, (backup?.maxBlobBytes ?? 0) + 1024),
    // answer with our protocol, never echo the token
    handleProtocols: (protocols) =>
      backup && protocols.has(PEER_WS_BACKUP_PROTOCOL)
        ? PEER_WS_BACKUP_PROTOCOL
        : protocols.has(PEER_WS_PROTOCOL)
          ? PEER_WS_PROTOCOL
          : false,
  });
  /** Open sockets by the SHA-256 of their session token. */
  const bySession = new Map<string, Set<PeerConnection>>();
  const refuse = (socket: Duplex, status: string) => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  const adopt = (conn: PeerConnection, token: string, session: { nodeId: string; expiresAtMs: number }) => {
    const { nodeId } = session;
    const key = tokenHash(token);
    const timers: ReturnType<typeof setTimeout>[] = [];
    const close = (why: string) => {
      if (conn.closed) return;
      options.log.warn({ nodeId }, `WebSocket peer closed: ${why}`);
      conn.shutdown();
    };
    const later = (ms: number, fn: () => void, every = false) => {
      const t = every ? setInterval(fn, ms) : setTimeout(fn, ms);
      t.unref();
      timers.push(t);
    };
    const sockets = bySession.get(key) ?? new Set<PeerConnection>();
    bySession.set(key, sockets);
    sockets.add(conn);
    conn.onClose(() => {
      for (const t of timers) clearTimeout(t);
      sockets.delete(conn);
      if (sockets.size === 0 && bySession.get(key) === sockets) bySession.delete(key);
    });

    // the node id that completes the handshake on this socket must be the session's
    const started = clock();
    const poll = setInterval(() => {
      const peer = conn.peerNodeId();
      if (peer === undefined) {
        if (clock() - started >= HANDSHAKE_DEADLINE_MS) {
          clearInterval(poll);
          close('no BOLT 8 handshake as its session within the deadline');
        }
        return;
      }
      clearInterval(poll);
      if (peer !== nodeId) close(`handshake as ${peer}, but the session is ${nodeId}'s`);
    }, HANDSHAKE_POLL_MS);
    poll.unref();
    timers.push(poll);

    const armExpiry = (expiresAtMs: number) =>
      later(Math.min(Math.max(0, expiresAtMs - clock()), MAX_TIMER_MS), () => {
        if (clock() >= expiresAtMs) close('session expired');
      });
    armExpiry(session.expiresAtMs);
    // a logout elsewhere (another process on the same database) or a sweep ends the session too
    later(
      SESSION_CHECK_MS,
      () => {
        options
          .authenticate(token)
          .then((current) => {
            if (!current) close('session ended');
            else armExpiry(current.expiresAtMs);
          })
          .catch((err: unknown) => options.log.error({ err }, 'peer session check failed'));
      },
      true,
    );
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return refuse(socket, '400 Bad Request');
    }
    if (url.pathname !== options.path) return refuse(socket, '404 Not Found');
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin)) {
      options.log.warn({ origin }, 'peer WebSocket from an origin not in WALLET_ORIGINS refused');
      return refuse(socket, '403 Forbidden');
    }
    const token = offeredToken(req);
    if (!token) return refuse(socket, '401 Unauthorized');
    options
      .authenticate(token)
      .then((session) => {
        if (!session) return refuse(socket, '401 Unauthorized');
        wss.handleUpgrade(req, socket, head, (ws) => {
          const side =
            backup && ws.protocol === PEER_WS_BACKUP_PROTOCOL
              ? backupFrames(session.nodeId, req, backup, options.log)
              : undefined;
          const conn = acceptWebSocket(options.node, ws as unknown as WebSocketLike, { side });
          if (!conn) return;
          options.log.info({ nodeId: session.nodeId }, 'wallet peer connected over WebSocket');
          adopt(conn, token, session);
        });
      })
      .catch((err: unknown) => {
        options.log.error({ err }, 'peer WebSocket authentication failed');
        refuse(socket, '500 Internal Server Error');
      });
  };
  server.on('upgrade', onUpgrade);
  return {
    endSession(token) {
      for (const conn of [...(bySession.get(tokenHash(token)) ?? [])]) {
        options.log.info('WebSocket peer closed: logged out');
        conn.shutdown();
      }
    },
    close() {
      server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}

export interface PublicPeer {
  nodeId: string;
  host: string;
  port: number;
}

export function parsePeerUri(uri: string): PublicPeer {
  const m = /^(0[23][0-9a-f]{64})@([^\s:@]+):([0-9]{1,5})$/.exec(uri);
  if (!m) throw new Error(`peer must be nodeId@host:port, got ${uri}`);
  return { nodeId: m[1]!, host: m[2]!, port: Number(m[3]) };
}

/** Accept public peers on host:port. */
export function listenPublic(node: Pick<LightningNode, 'peerHost'>, hostPort: string): Promise<TcpListener> {
  const i = hostPort.lastIndexOf(':');
  return listenTcp(node, Number(hostPort.slice(i + 1)), { host: hostPort.slice(0, i) });
}

/**
 * Stay connected to `peers`: dial now, and again every `everyMs` while one is not connected.
 * @example const keeper = keepConnected(node, config.publicPeers.map(parsePeerUri), log);
 */
export function keepConnected(
  node: Pick<LightningNode, 'connect' | 'isConnected'>,
  peers: PublicPeer[],
  log: Logger,
  everyMs = 15_000,
): { ready: Promise<void>; stop(): void } {
  let stopped = false;
  const dialing = new Set<string>();
  const dialAll = () =>
    Promise.all(
      peers.map(async (p) => {
        if (stopped || dialing.has(p.nodeId) || node.isConnected(p.nodeId)) return;
        dialing.add(p.nodeId);
        try {
          await node.connect(p.nodeId, tcp(p.host, p.port));
          log.info({ peer: p.nodeId, host: p.host, port: p.port }, 'connected to public peer');
        } catch (err) {
          log.warn(
            { err, peer: p.nodeId, host: p.host, port: p.port },
            'public peer unreachable; will retry',
          );
        } finally {
          dialing.delete(p.nodeId);
        }
      }),
    ).then(() => {});
  const timer = setInterval(() => void dialAll(), everyMs);
  timer.unref();
  return {
    ready: dialAll(),
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
