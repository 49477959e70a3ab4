// One BOLT 8 connection between the node's PeerManager and a byte transport (in-memory, TCP,
// WebSocket). Bytes are always delivered to LDK asynchronously, never from inside its own
// send_data; reads pause while LDK asks (read_event → true) or while the transport's send buffer is
// full, and resume on `resume_read` / drain, so back-pressure recovers instead of stalling.
import * as ldk from 'lightningdevkit';
import { NodeError } from '../errors.ts';
import { type CallbackErrorSink, guard, type Retainer } from '../ldk/callbacks.ts';
import { freeLdk } from '../ldk/free.ts';
import { bool, toHex, unwrap } from '../ldk/values.ts';
import { payTrace } from '../start-marks.ts';

/** What a transport offers the connection. */
export interface ByteSink {
  /** Queues bytes for the peer; returns false when the transport's buffer is over its high-water mark. */
  send(bytes: Uint8Array): boolean;
  /** Closes the transport; it must then call `PeerConnection.closedByTransport()`. */
  close(): void;
  /** Optional: stop/restart reading from the underlying socket (TCP flow control). */
  pauseReading?(): void;
  resumeReading?(): void;
}

/** The node-side surface transports talk to. */
export interface PeerHost {
  readonly peerManager: ldk.PeerManager;
  readonly retainer: Retainer;
  readonly onCallbackError: CallbackErrorSink;
  /** Run later, outside any LDK call. */
  defer(fn: () => void): void;
  /** Wake the event pump (process_events, persistence). */
  wake(): void;
  readonly stopped: boolean;
}

/** Opens a transport to a peer and returns the connection (handshake may still be running). */
export type Connector = (host: PeerHost, theirNodeId: Uint8Array) => Promise<PeerConnection>;

const MAX_READ_CHUNK = 4096; // read_event wants ~4 KiB at a time
let nextDescriptorId = 1n;

/** Counters of one connection's flow control (tests, metrics). */
export interface ConnectionStats {
  bytesIn: number;
  bytesOut: number;
  /** `send_data` calls answered with less than asked (LDK then waits for `write_buffer_space_avail`). */
  shortWrites: number;
  /** Times the transport reported its send buffer over the high-water mark. */
  transportFull: number;
  /** Times `read_event` asked us to stop reading. */
  ldkReadPauses: number;
  /** Times reading from the socket was paused (for either reason). */
  socketPauses: number;
}

export class PeerConnection {
  readonly descriptor: ldk.SocketDescriptor;
  readonly stats: ConnectionStats = {
    bytesIn: 0,
    bytesOut: 0,
    shortWrites: 0,
    transportFull: 0,
    ldkReadPauses: 0,
    socketPauses: 0,
  };
  private readonly host: PeerHost;
  private readonly sink: ByteSink;
  private readonly id = nextDescriptorId++;
  private readonly inbox: Uint8Array[] = [];
  private readPausedByLdk = false;
  private writeBlocked = false;
  private socketPaused = false;
  private drainScheduled = false;
  /** Inside `sink.send`: a transport may report 'drained' before it even returns false. */
  private sending = false;
  private drainedWhileSending = false;
  private isClosed = false;
  private disconnectedReported = false;
  private readonly closeListeners: Array<() => void> = [];
  private readonly impl: ldk.SocketDescriptorInterface;

  private constructor(host: PeerHost, sink: ByteSink) {
    this.host = host;
    this.sink = sink;
    const id = this.id;
    this.impl = {
      send_data: guard(
        'SocketDescriptor.send_data',
        (data: Uint8Array, resumeRead: boolean) => this.sendData(data, bool(resumeRead)),
        0,
        host.onCallbackError,
      ),
      disconnect_socket: guard(
        'SocketDescriptor.disconnect_socket',
        () => this.shutdown(),
        undefined,
        host.onCallbackError,
      ),
      eq: guard(
        'SocketDescriptor.eq',
        // `other` is a clone made for this call (LDK compares descriptors on every peer lookup)
        (other: ldk.SocketDescriptor) => {
          try {
            return other.hash() === id;
          } finally {
            freeLdk(other);
          }
        },
        false,
        host.onCallbackError,
      ),
      hash: () => id,
    };
    // Rust holds only a weak reference to the callbacks, and a collected one panics the whole WASM
    // instance: kept until LDK has provably forgotten the socket (`releaseFromLdk`).
    host.retainer.keep(this.impl);
    this.descriptor = host.retainer.keep(ldk.SocketDescriptor.new_impl(this.impl));
  }

  /** We dial: registers the connection and sends act one of the handshake (deferred, see there). */
  static outbound(host: PeerHost, theirNodeId: Uint8Array, sink: ByteSink): PeerConnection {
    const conn = new PeerConnection(host, sink);
    let actOne: Uint8Array;
    try {
      actOne = unwrap<Uint8Array>(
        host.peerManager.new_outbound_connection(
          theirNodeId,
          conn.descriptor,
          ldk.Option_SocketAddressZ.constructor_none(),
        ),
        'CONNECTION_FAILED',
        'new_outbound_connection',
      );
    } catch (error) {
      conn.releaseFromLdk();
      sink.close();
      throw error;
    }
    // Sent once the caller holds the connection: a transport may answer its first send with "full"
    // and report the drain from inside that same send (or before the caller's assignment runs); a
    // drain that finds no connection to tell leaves it write-blocked for ever, and a write-blocked
    // connection reads nothing, so act two would never be processed.
    host.defer(() => {
      if (!conn.isClosed) conn.sendData(actOne, false);
    });
    return conn;
  }

  /** The peer dialled us. */
  static inbound(host: PeerHost, sink: ByteSink): PeerConnection {
    const conn = new PeerConnection(host, sink);
    // LDK's peer list names no descriptor, only the address given here: a private IPv4 address made
    // from this connection's id tells which node id completed the handshake on it (peerNodeId).
    // LDK never dials it, and leaves private addresses out of the `init` it sends the peer.
    const result = host.peerManager.new_inbound_connection(
      conn.descriptor,
      ldk.Option_SocketAddressZ.constructor_some(conn.tagAddress()),
    );
    if (!bool(result.is_ok())) {
      conn.releaseFromLdk();
      sink.close();
      throw new NodeError('CONNECTION_FAILED', 'new_inbound_connection refused');
    }
    return conn;
  }

  /** 10.x.y.z:port from the connection id (40 bits: unique for any process's lifetime). */
  private tagAddress(): ldk.SocketAddress {
    const id = this.id;
    const octets = Uint8Array.from([
      10,
      Number((id >> 32n) & 255n),
      Number((id >> 24n) & 255n),
      Number((id >> 16n) & 255n),
    ]);
    return ldk.SocketAddress.constructor_tcp_ip_v4(octets, Number(id & 0xffffn));
  }

  /**
   * The node id that completed the BOLT 8 handshake (and `init`) on this inbound connection; undefined
   * before that, after it closed, and for outbound connections (we chose whom we dialled).
   */
  peerNodeId(): string | undefined {
    if (this.isClosed) return undefined;
    const tag = this.tagAddress();
    if (!(tag instanceof ldk.SocketAddress_TcpIpV4)) return undefined;
    for (const peer of this.host.peerManager.list_peers()) {
      const address = peer.get_socket_address();
      if (
        address instanceof ldk.Option_SocketAddressZ_Some &&
        address.some instanceof ldk.SocketAddress_TcpIpV4 &&
        address.some.port === tag.port &&
        toHex(address.some.addr) === toHex(tag.addr) &&
        bool(peer.get_is_inbound_connection())
      ) {
        return toHex(peer.get_counterparty_node_id());
      }
    }
    return undefined;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  onClose(fn: () => void): void {
    if (this.disconnectedReported) fn();
    else this.closeListeners.push(fn);
  }

  /** Transport → LDK. */
  receive(bytes: Uint8Array): void {
    if (this.isClosed || bytes.length === 0) return;
    payTrace('peer:in', this.host);
    this.stats.bytesIn += bytes.length;
    for (let i = 0; i < bytes.length; i += MAX_READ_CHUNK)
      this.inbox.push(bytes.subarray(i, i + MAX_READ_CHUNK));
    this.scheduleDrain();
  }

  /** The transport's send buffer drained. */
  writable(): void {
    if (this.sending) {
      this.drainedWhileSending = true;
      return;
    }
    if (!this.writeBlocked || this.isClosed) return;
    this.writeBlocked = false;
    this.host.defer(() => {
      if (this.isClosed) return;
      const result = this.host.peerManager.write_buffer_space_avail(this.descriptor);
      if (!bool(result.is_ok())) {
        this.shutdown();
        return;
      }
      this.updateSocketReading();
      this.scheduleDrain();
      this.host.wake();
    });
  }

  /** The transport is closed (by either side). Idempotent. */
  closedByTransport(): void {
    this.isClosed = true;
    if (this.disconnectedReported) return;
    this.disconnectedReported = true;
    this.host.defer(() => {
      // a no-op if LDK itself asked for the disconnect; required otherwise
      this.host.peerManager.socket_disconnected(this.descriptor);
      this.releaseFromLdk();
      this.host.wake();
      for (const fn of this.closeListeners.splice(0)) {
        try {
          fn();
        } catch (error) {
          this.host.onCallbackError('PeerConnection.onClose', error);
        }
      }
    });
  }

  /** Close from our side (LDK asked, bad bytes, node stopping). */
  shutdown(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.inbox.length = 0;
    this.host.defer(() => this.sink.close());
  }

  /**
   * After `socket_disconnected` (or a refused registration) the PeerManager holds no clone of the
   * descriptor and never calls it again, so the callbacks may go; keeping them for the node's life
   * would also keep every dead socket (a slow leak on a listening LSP).
   */
  private releaseFromLdk(): void {
    this.host.retainer.release(this.impl);
    this.host.retainer.release(this.descriptor);
  }

  private sendData(data: Uint8Array, resumeRead: boolean): number {
    if (resumeRead && this.readPausedByLdk) {
      this.readPausedByLdk = false;
      this.scheduleDrain();
    }
    if (data.length === 0) return 0;
    if (this.isClosed || this.writeBlocked) {
      this.stats.shortWrites++;
      this.updateSocketReading();
      return 0;
    }
    payTrace('peer:out', this.host);
    let accepted: boolean;
    this.sending = true;
    this.drainedWhileSending = false;
    try {
      accepted = this.sink.send(data);
    } catch (error) {
      // a transport that cannot take bytes any more is a dead connection, not a node failure
      this.host.onCallbackError('PeerConnection: transport send failed', error);
      this.shutdown();
      return 0;
    } finally {
      this.sending = false;
    }
    this.stats.bytesOut += data.length;
    if (!accepted) {
      this.stats.transportFull++;
      // the bytes are taken; further sends wait for the transport's drain
      if (!this.drainedWhileSending) this.writeBlocked = true;
    }
    this.updateSocketReading();
    return data.length;
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    this.host.defer(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    if (this.host.stopped) return;
    let delivered = false;
    while (!this.readPausedByLdk && !this.writeBlocked && !this.isClosed && this.inbox.length > 0) {
      const chunk = this.inbox.shift()!;
      const result = this.host.peerManager.read_event(this.descriptor, chunk);
      delivered = true;
      const ok = bool(result.is_ok());
      const pause = ok && bool((result as unknown as { res: boolean }).res);
      freeLdk(result); // one per 4 KiB read: not left to the finalizers
      if (!ok) {
        // garbage or a protocol violation: LDK has dropped the peer; close the transport
        this.shutdown();
        break;
      }
      if (pause) {
        this.readPausedByLdk = true;
        this.stats.ldkReadPauses++;
      }
    }
    this.updateSocketReading();
    if (delivered) this.host.wake();
  }

  private updateSocketReading(): void {
    const wantPaused = this.readPausedByLdk || this.writeBlocked;
    if (wantPaused === this.socketPaused || this.isClosed) return;
    this.socketPaused = wantPaused;
    if (wantPaused) {
      this.stats.socketPauses++;
      this.sink.pauseReading?.();
    } else this.sink.resumeReading?.();
  }
}
