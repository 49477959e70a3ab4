// WebSocket transport using only the browser WebSocket API, so the wallet's Web Worker runs it as
// is; Node tests inject `ws`. The server half takes an already-open socket (e.g. from `ws`'s
// WebSocketServer, which implements the same API). WebSocket reads cannot be paused: inbound bytes
// wait in the connection's inbox while LDK asks us to pause; sends report back-pressure from
// `bufferedAmount`. Peers that negotiate a `SideFrames` protocol tag every frame, so frames of their
// own (the wallet's backup) travel in the same ordered stream as the BOLT 8 bytes.
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
  /** The Sec-WebSocket-Protocol value the server chose ('' when none). */
  readonly protocol: string;
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

/**
 * Frames beside BOLT 8 on one socket, in the stream's order: a side frame sent after some bytes
 * reaches the peer after them and before any sent later. Used only when the server chose `protocol`:
 * every frame then starts with a tag byte (BOLT 8 or side), so neither can pass for the other; a
 * peer that did not negotiate it speaks plain BOLT 8 frames as before.
 */
export interface SideFrames {
  readonly protocol: string;
  /** The socket opened tagged. `send` writes one side frame; false once the socket is closing. */
  opened(send: (payload: Uint8Array) => boolean): void;
  /**
   * A side frame from the peer. While the returned promise is pending, the socket's later frames
   * wait undelivered (to LDK or here); when it rejects, the socket closes and they never are.
   */
  received(payload: Uint8Array): undefined | Promise<void>;
  closed(): void;
}

export interface WebSocketBridgeOptions {
  /** Tagged framing with side frames, when the server chose its protocol. */
  side?: SideFrames;
  /** Bytes of frames held while a side frame is handled, past which the socket closes (default 4 MiB). */
  maxHeldBytes?: number;
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
const DEFAULT_MAX_HELD_BYTES = 4 << 20;
const TAG_BOLT8 = Uint8Array.of(0);
const TAG_SIDE = Uint8Array.of(1);

function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined; // text frames are neither BOLT 8 nor ours
}

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
  const side = options.side && ws.protocol === options.side.protocol ? options.side : undefined;
  const flush = () => {
    const parts = queued;
    queued = [];
    queuedBytes = 0;
    if (ws.readyState !== OPEN || parts.length === 0) return; // closing: 'close' ends the connection
    if (side) ws.send(concatBytes(TAG_BOLT8, ...parts));
    else ws.send(parts.length === 1 ? parts[0]! : concatBytes(...parts));
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
  if (!side) {
    ws.addEventListener('message', (event) => {
      const bytes = bytesOf(event.data);
      if (bytes) c.receive(bytes);
      else c.shutdown();
    });
    ws.addEventListener('close', () => c.closedByTransport());
    return conn;
  }
  receiveTagged(ws, c, side, options.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES);
  ws.addEventListener('close', () => {
    c.closedByTransport();
    side.closed();
  });
  side.opened((payload) => {
    if (ws.readyState !== OPEN || c.closed) return false;
    flush(); // BOLT 8 bytes handed over before this frame leave before it
    ws.send(concatBytes(TAG_SIDE, payload));
    return true;
  });
  return conn;
}

/** Tagged frames in order; while a side frame is being handled, later frames wait behind it. */
function receiveTagged(ws: WebSocketLike, c: PeerConnection, side: SideFrames, maxHeldBytes: number): void {
  let held: Uint8Array[] | undefined;
  let heldBytes = 0;
  const take = (frame: Uint8Array): void => {
    if (c.closed) return;
    if (!held) {
      deliver(frame);
      return;
    }
    heldBytes += frame.length;
    if (heldBytes > maxHeldBytes) c.shutdown();
    else held.push(frame);
  };
  const deliver = (frame: Uint8Array): void => {
    const payload = frame.subarray(1);
    if (frame[0] === TAG_BOLT8[0]) {
      c.receive(payload);
      return;
    }
    if (frame[0] !== TAG_SIDE[0]) {
      c.shutdown();
      return;
    }
    const handling = side.received(payload);
    if (!handling) return;
    held = [];
    heldBytes = 0;
    handling.then(
      () => {
        const waiting = held ?? [];
        held = undefined;
        for (const next of waiting) take(next);
      },
      () => {
        held = undefined;
        c.shutdown(); // nothing after a refused side frame reaches LDK
      },
    );
  };
  ws.addEventListener('message', (event) => {
    const frame = bytesOf(event.data);
    if (!frame || frame.length === 0) c.shutdown();
    else take(frame);
  });
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
