// Node-only TCP transport (node:net), exported as `@lpw/node/tcp`. Back-pressure is real TCP flow
// control: when the kernel buffer is full we stop reading from the peer, and resume on 'drain'.
import net from 'node:net';
import { NodeError } from '../errors.ts';
import { type ByteSink, type Connector, PeerConnection, type PeerHost } from './connection.ts';

function bridge(socket: net.Socket, connect: (sink: ByteSink) => PeerConnection): PeerConnection {
  socket.setNoDelay(true);
  const sink: ByteSink = {
    send: (bytes) => socket.write(bytes),
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
  socket.on('error', () => {
    // 'close' follows every 'error'
  });
  return conn;
}

/** Dial host:port over TCP. */
export function tcp(host: string, port: number, timeoutMs = 10_000): Connector {
  return (local: PeerHost, theirNodeId: Uint8Array) =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new NodeError('CONNECTION_FAILED', `TCP connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(
          new NodeError('CONNECTION_FAILED', `TCP connect to ${host}:${port}: ${error.message}`, {
            cause: error,
          }),
        );
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        try {
          resolve(bridge(socket, (sink) => PeerConnection.outbound(local, theirNodeId, sink)));
        } catch (error) {
          socket.destroy();
          reject(error);
        }
      });
    });
}

export interface TcpListener {
  readonly port: number;
  close(): Promise<void>;
}

/** Accept inbound peers on host:port (port 0 picks a free one). */
export function listenTcp(
  node: { readonly peerHost: PeerHost },
  port = 0,
  host = '127.0.0.1',
): Promise<TcpListener> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    try {
      bridge(socket, (sink) => PeerConnection.inbound(node.peerHost, sink));
    } catch {
      socket.destroy();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
