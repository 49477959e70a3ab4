// Lightning peer traffic: wallets over a WebSocket on the HTTP server (browsers cannot speak TCP),
// authenticated by their session token in the query string (browsers cannot set headers on a
// WebSocket); public peers over TCP, inbound on PEER_LISTEN and outbound to PUBLIC_PEERS, redialled
// when they drop.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { acceptWebSocket, type LightningNode, type WebSocketLike } from '@lpw/node';
import { listenTcp, type TcpListener, tcp } from '@lpw/node/tcp';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';

/** BOLT 8 messages are at most 65 535 bytes plus framing; a WebSocket frame never needs more. */
const MAX_FRAME_BYTES = 256 * 1024;
/** A wallet must finish the BOLT 8 handshake as the node its session names within this time. */
const HANDSHAKE_DEADLINE_MS = 15_000;

export interface PeerWebSocketOptions {
  path: string;
  node: Pick<LightningNode, 'peerHost' | 'isConnected'>;
  /** The wallet's node id for a session token, or undefined when it is no valid session. */
  authenticate: (token: string) => Promise<string | undefined>;
  log: Logger;
}

/**
 * Serves `ws(s)://host/<path>?token=<session token>` on `server` and hands each socket to the node.
 * @example const peerWs = servePeerWebSocket(server, { path: '/peer', node, authenticate, log });
 */
export function servePeerWebSocket(server: Server, options: PeerWebSocketOptions): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const refuse = (socket: Duplex, status: string) => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
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
    const token = url.searchParams.get('token') ?? '';
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(token)) return refuse(socket, '401 Unauthorized');
    options
      .authenticate(token)
      .then((nodeId) => {
        if (!nodeId) return refuse(socket, '401 Unauthorized');
        wss.handleUpgrade(req, socket, head, (ws) => {
          const conn = acceptWebSocket(options.node, ws as unknown as WebSocketLike);
          if (!conn) return;
          options.log.info({ nodeId }, 'wallet peer connected over WebSocket');
          // the session names a node: a socket that never becomes that peer is closed
          const deadline = setTimeout(() => {
            if (!conn.closed && !options.node.isConnected(nodeId)) {
              options.log.warn({ nodeId }, 'WebSocket peer did not authenticate as its session; closing');
              conn.shutdown();
            }
          }, HANDSHAKE_DEADLINE_MS);
          deadline.unref();
          conn.onClose(() => clearTimeout(deadline));
        });
      })
      .catch((err: unknown) => {
        options.log.error({ err }, 'peer WebSocket authentication failed');
        refuse(socket, '500 Internal Server Error');
      });
  };
  server.on('upgrade', onUpgrade);
  return {
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
