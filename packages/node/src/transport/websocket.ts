// WebSocket transport using only the browser WebSocket API, so the wallet's Web Worker runs it as
// is; Node tests inject `ws`. The server half takes an already-open socket (e.g. from `ws`'s
// WebSocketServer, which implements the same API). WebSocket reads cannot be paused: inbound bytes
// wait in the connection's inbox while LDK asks us to pause; sends report back-pressure from
// `bufferedAmount`.
import { concatBytes } from '@noble/hashes/utils.js';
import { NodeError } from '../errors.ts';
import { type ByteSink, type Connector, PeerConnection, type PeerHost } from './connection.ts';

/** What the bridge reads from an event: `data` on 'message'. */
export interface WebSocketEventLike {
  readonly type: string;
  readonly data?: unknown;
}

/** The subset of the browser WebSocket the bridge uses. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: 'open' | 'close' | 'error' | 'message',
    listener: (event: WebSocketEventLike) => void,
  ): void;
}
export type WebSocketConstructor = new (url: string, protocols?: string[]) => WebSocketLike;

export interface WebSocketBridgeOptions {
  /**
   * `bufferedAmount` at which sends report back-pressure (default 1 MiB); sending resumes below half
   * of it. The browser API has no drain event, so that is polled.
   */
  highWaterBytes?: number;
}

export interface WebSocketDialOptions extends WebSocketBridgeOptions {
  /** Sec-WebSocket-Protocol values to offer (a credential kept out of the URL, where proxies log it). */
  protocols?: string[];
  /** Give up opening after this long (default 10 s). */
  timeoutMs?: number;
}

const OPEN = 1;
const DEFAULT_HIGH_WATER_BYTES = 1 << 20;
const DRAIN_POLL_MS = 10;

function bridge(
  ws: WebSocketLike,
  options: WebSocketBridgeOptions,
  connect: (sink: ByteSink) => PeerConnection,
): PeerConnection {
  const highWater = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
  ws.binaryType = 'arraybuffer';
  // a 'close' event follows every 'error'; `ws` (Node) would throw an error nobody listens to
  ws.addEventListener('error', () => {});
  let polling = false;
  let conn: PeerConnection | null = null;
  // LDK hands over each message of a step in its own send_data call (a revoke_and_ack, then a
  // commitment_signed): they leave as one frame at the end of the step, so the peer reads them in
  // one go and persists the channel's updates in one commit instead of one per frame.
  let queued: Uint8Array[] = [];
  let queuedBytes = 0;
  const flush = () => {
    const parts = queued;
    queued = [];
    queuedBytes = 0;
    if (ws.readyState !== OPEN) return; // closing: the 'close' event ends the connection
    ws.send(parts.length === 1 ? parts[0]! : concatBytes(...parts));
  };
  const pollDrain = () => {
    if (polling) return;
    polling = true;
    const tick = () => {
      if (ws.readyState !== OPEN) return;
      if (ws.bufferedAmount < highWater / 2) {
        polling = false;
        conn?.writable();
      } else setTimeout(tick, DRAIN_POLL_MS);
    };
    setTimeout(tick, DRAIN_POLL_MS);
  };
  const sink: ByteSink = {
    send(bytes) {
      if (ws.readyState !== OPEN) return false;
      // `bytes` is ours (the bindings copy send_data's argument out of WASM memory)
      if (queued.length === 0) queueMicrotask(flush);
      queued.push(bytes);
      queuedBytes += bytes.length;
      if (ws.bufferedAmount + queuedBytes < highWater) return true;
      pollDrain();
      return false;
    },
    close() {
      ws.close();
    },
  };
  conn = connect(sink);
  const c = conn;
  ws.addEventListener('message', (event) => {
    const data = event.data;
    if (data instanceof ArrayBuffer) c.receive(new Uint8Array(data));
    else if (ArrayBuffer.isView(data))
      c.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    else c.shutdown(); // text frames are not BOLT 8
  });
  ws.addEventListener('close', () => c.closedByTransport());
  return conn;
}

/** Dial a peer's WebSocket endpoint (the LSP serves one). */
export function webSocket(
  url: string,
  WebSocketImpl?: WebSocketConstructor,
  options: WebSocketDialOptions = {},
): Connector {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return (local: PeerHost, theirNodeId: Uint8Array) =>
    new Promise((resolve, reject) => {
      const Impl = WebSocketImpl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      if (!Impl) {
        reject(new NodeError('CONNECTION_FAILED', 'no WebSocket implementation available'));
        return;
      }
      const ws = options.protocols ? new Impl(url, options.protocols) : new Impl(url);
      let settled = false;
      const timer = setTimeout(
        () => fail(new NodeError('CONNECTION_FAILED', `WebSocket ${url} timed out`)),
        timeoutMs,
      );
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.close();
        reject(error);
      };
      ws.addEventListener('error', () => fail(new NodeError('CONNECTION_FAILED', `WebSocket ${url} failed`)));
      ws.addEventListener('close', () => fail(new NodeError('CONNECTION_FAILED', `WebSocket ${url} closed`)));
      ws.addEventListener('open', () => {
        if (settled) return;
        try {
          const conn = bridge(ws, options, (sink) => PeerConnection.outbound(local, theirNodeId, sink));
          settled = true;
          clearTimeout(timer);
          resolve(conn);
        } catch (error) {
          fail(error);
        }
      });
    });
}

/** Server half: adopt an open WebSocket from a peer as an inbound connection. */
export function acceptWebSocket(
  node: { readonly peerHost: PeerHost },
  ws: WebSocketLike,
  options: WebSocketBridgeOptions = {},
): PeerConnection | null {
  try {
    return bridge(ws, options, (sink) => PeerConnection.inbound(node.peerHost, sink));
  } catch {
    ws.close();
    return null;
  }
}
