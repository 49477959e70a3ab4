// Node-only TCP transport (node:net), exported as `@lpw/node/tcp`. Back-pressure is real TCP flow
// control: when write() reports the socket over its high-water mark LDK keeps further messages and
// we stop reading from the peer, until 'drain'.
import net from 'node:net';
import { NodeError } from '../errors.ts';
import { type ByteSink, type Connector, PeerConnection, type PeerHost } from './connection.ts';

export interface TcpOptions {
  /** Give up dialling after this long (default 10 s). */
  timeoutMs?: number;
  /**
   * Bytes queued in the socket before `write()` reports back-pressure (Node's default 16 KiB).
   * Lower means LDK holds more of the outbound queue itself and pauses reading sooner.
   */
  highWaterMark?: number;
}

function bridge(socket: net.Socket, connect: (sink: ByteSink) => PeerConnection): PeerConnection {
  socket.setNoDelay(true);
  // 'close' follows every 'error'; without a listener an error would crash the process
  socket.on('error', () => {});
  // LDK hands over one message per send_data; corking until the current call stack is done turns a
  // burst (a commitment dance, 25 HTLCs) into one writev, and makes write() report a burst larger
  // than the high-water mark, so LDK holds the rest until 'drain'.
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  const sink: ByteSink = {
    send(bytes) {
      if (!corked) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
      return socket.write(bytes);
    },
    close: () => socket.destroy(),
    pauseReading: () => socket.pause(),
    resumeReading: () => socket.resume(),
  };
  const conn = connect(sink);
  socket.on('data', (data: Buffer) =>
    conn.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
  );
  socket.on('drain', () => conn.writable());
  socket.on('close', () => conn.closedByTransport());
  return conn;
}

/** Dial host:port over TCP. */
export function tcp(host: string, port: number, options: TcpOptions = {}): Connector {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return (local: PeerHost, theirNodeId: Uint8Array) =>
    new Promise((resolve, reject) => {
      const socket = net.connect({
        host,
        port,
        ...(options.highWaterMark !== undefined ? { writableHighWaterMark: options.highWaterMark } : {}),
      });
      const fail = (error: NodeError) => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new NodeError('CONNECTION_FAILED', `TCP connect to ${host}:${port} timed out`)),
        timeoutMs,
      );
      const onError = (error: Error) =>
        fail(
          new NodeError('CONNECTION_FAILED', `TCP connect to ${host}:${port}: ${error.message}`, {
            cause: error,
          }),
        );
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        try {
          resolve(bridge(socket, (sink) => PeerConnection.outbound(local, theirNodeId, sink)));
        } catch (error) {
          socket.destroy();
          reject(error);
        }
      });
    });
}

export interface TcpListenOptions {
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** As in `TcpOptions`, for accepted sockets. */
  highWaterMark?: number;
}

export interface TcpListener {
  readonly port: number;
  /** Inbound connections still open. */
  readonly connections: ReadonlySet<PeerConnection>;
  /** Stops accepting and drops every inbound connection. */
  close(): Promise<void>;
}

/** Accept inbound peers on host:port (port 0 picks a free one). */
export function listenTcp(
  node: { readonly peerHost: PeerHost },
  port = 0,
  options: TcpListenOptions = {},
): Promise<TcpListener> {
  const sockets = new Set<net.Socket>();
  const connections = new Set<PeerConnection>();
  const server = net.createServer(
    options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {},
    (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      if (node.peerHost.stopped) {
        socket.destroy();
        return;
      }
      try {
        const conn = bridge(socket, (sink) => PeerConnection.inbound(node.peerHost, sink));
        connections.add(conn);
        conn.onClose(() => connections.delete(conn));
      } catch (error) {
        node.peerHost.onCallbackError('listenTcp: inbound connection refused', error);
        socket.destroy();
      }
    },
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.host ?? '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        connections,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
