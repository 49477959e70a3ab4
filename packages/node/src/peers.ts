// Peers: connect through a transport (in-memory, TCP, WebSocket) and wait for the handshake,
// disconnect, list. The connections are held here so stop() can shut them down.
import * as ldk from 'lightningdevkit';
import { NodeError } from './errors.ts';
import type { CallbackErrorSink, Retainer } from './ldk/callbacks.ts';
import { bool, toHex } from './ldk/values.ts';
import type { Lifecycle } from './lifecycle.ts';
import { nodeIdBytes } from './payment/route.ts';
import type { Scheduler } from './scheduler.ts';
import type { Connector, PeerConnection, PeerHost } from './transport/connection.ts';

export interface PeerSummary {
  peerId: string;
  inbound: boolean;
}

export interface PeersContext {
  channelManager: ldk.ChannelManager;
  /** Gossip: LDK's sync on a graph (gossip-handler.ts), or LDK's IgnoringMessageHandler (a wallet). */
  routingHandler: ldk.RoutingMessageHandler;
  /** The OnionMessenger (onion.ts): offers' messages, and forwarding them for peers. */
  onionMessenger: ldk.OnionMessenger;
  logger: ldk.Logger;
  keys: ldk.KeysManager;
  startSecs: number;
  random: (length: number) => Uint8Array;
  retainer: Retainer;
  onCallbackError: CallbackErrorSink;
  scheduler: Scheduler;
  now: () => number;
  life: Lifecycle;
  wake: () => void;
  /** Custom messages and the peer events (custom-messages.ts). */
  customMessageHandler: ldk.CustomMessageHandler;
  /** A peer's bytes arrived or its transport closed: what a view shows may have changed. */
  onTraffic: () => void;
}

export class Peers {
  readonly peerManager: ldk.PeerManager;
  /** For transports (in-memory, TCP, WebSocket): the PeerManager surface they bridge to. */
  readonly host: PeerHost;
  private readonly connections = new Set<PeerConnection>();
  private readonly scheduler: Scheduler;
  private readonly now: () => number;
  private readonly life: Lifecycle;
  private readonly wake: () => void;

  constructor(c: PeersContext) {
    const { retainer, logger, life } = c;
    this.scheduler = c.scheduler;
    this.now = c.now;
    this.life = life;
    this.wake = c.wake;
    this.peerManager = retainer.keep(
      ldk.PeerManager.constructor_new(
        c.channelManager.as_ChannelMessageHandler(),
        c.routingHandler,
        retainer.keep(c.onionMessenger.as_OnionMessageHandler()),
        c.customMessageHandler,
        c.startSecs,
        c.random(32),
        logger,
        c.keys.as_NodeSigner(),
      ),
    );
    this.host = {
      peerManager: this.peerManager,
      retainer,
      onCallbackError: c.onCallbackError,
      defer: (fn) => c.scheduler.defer(fn),
      wake: () => {
        c.onTraffic();
        c.wake();
      },
      get stopped() {
        return life.stopped;
      },
    };
  }

  async connect(peerId: string, via: Connector, timeoutMs: number): Promise<void> {
    this.life.assertRunning();
    const id = nodeIdBytes(peerId);
    if (this.isConnected(peerId)) return;
    const conn = await via(this.host, id);
    this.connections.add(conn);
    conn.onClose(() => this.connections.delete(conn));
    this.wake();
    const started = this.now();
    while (!this.isConnected(peerId)) {
      if (conn.closed)
        throw new NodeError('CONNECTION_FAILED', `${peerId} closed the connection during the handshake`);
      if (this.now() - started > timeoutMs) {
        conn.shutdown();
        throw new NodeError('TIMEOUT', `handshake with ${peerId} did not finish in ${timeoutMs} ms`);
      }
      await new Promise<void>((r) => this.scheduler.setTimeout(r, 2));
    }
  }

  disconnect(peerId: string): void {
    this.peerManager.disconnect_by_node_id(nodeIdBytes(peerId));
    this.wake();
  }

  list(): PeerSummary[] {
    return this.peerManager.list_peers().map((p) => ({
      peerId: toHex(p.get_counterparty_node_id()),
      inbound: bool(p.get_is_inbound_connection()),
    }));
  }

  isConnected(peerId: string): boolean {
    const id = peerId.toLowerCase();
    return this.peerManager.list_peers().some((p) => toHex(p.get_counterparty_node_id()) === id);
  }

  /** Every peer off (stop): LDK first, then the transports. */
  disconnectAll(): void {
    this.peerManager.disconnect_all_peers();
    for (const conn of this.connections) conn.shutdown();
  }
}
