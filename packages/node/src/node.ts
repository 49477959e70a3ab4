// LightningNode: the node's API, the one handle callers hold. createNode() (builder.ts) assembles
// it from its parts; each method here hands the call to the part that owns it: channels.ts,
// gossip.ts (graph and routes), peers.ts, payment/ (send, receive, on-chain), liquidity/intercept.ts
// (JIT), chain-watch.ts (sync and how well the chain is watched). Start and stop live here.
import type * as ldk from 'lightningdevkit';
import type { Balances } from './balances.ts';
import type { ChainSource } from './chain/source.ts';
import type { SyncReport } from './chain/sync.ts';
import type { ChainWatch, ChainWatcher } from './chain-watch.ts';
import type { ChannelSummary, Channels, OpenChannelRequest } from './channels.ts';
import type { NodeRole } from './config.ts';
import type { CustomMessageRouter, CustomMessages } from './custom-messages.ts';
import { NodeError } from './errors.ts';
import type { EventBus, EventOf, Listener, NodeEvent, NodeEventKind } from './events.ts';
import type { FeeWeatherReport } from './fee-policy.ts';
import type { ForwardingFees } from './forwarding-fees.ts';
import type { Gossip, GraphSummary } from './gossip.ts';
import type { GossipHandler, GossipTraffic } from './gossip-handler.ts';
import type { FundingChecks } from './gossip-utxo.ts';
import { type WasmMemoryUsage, wasmMemoryUsage } from './ldk/memory.ts';
import { toHex } from './ldk/values.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { HtlcIntercept } from './liquidity/intercept.ts';
import type { Network, NodeOptions } from './options.ts';
import type { Bolt11Payment, Bolt11SendOptions } from './payment/bolt11.ts';
import type { Bolt12Payment } from './payment/bolt12.ts';
import type { OnchainPayment } from './payment/onchain.ts';
import type { SentPayment } from './payment/outbound.ts';
import type { InboundPaymentRequest, InvoiceRequest, ReceivePayments } from './payment/receive.ts';
import type { SpontaneousPayment, SpontaneousSendOptions } from './payment/spontaneous.ts';
import type { PaymentRecord, PaymentStore } from './payments.ts';
import type { PeerSummary, Peers } from './peers.ts';
import type { CommitQueue } from './persist/commit-queue.ts';
import { hasStoredManager } from './persist/manager-chunks.ts';
import type { ManagerSnapshots } from './persist/manager-snapshot.ts';
import type { MonitorPersister } from './persist/monitor-persister.ts';
import type { Pump } from './pump.ts';
import {
  closeChannelsForRecovery,
  encodeRecords,
  RECOVERY_KEY,
  type RecoveryChannel,
  type RecoveryRecord,
  type RecoveryTracker,
} from './recovery.ts';
import type { FoundPath, RouteRequest } from './routing.ts';
import type { Connector, PeerHost } from './transport/connection.ts';
import type { OnchainWallet } from './wallet/onchain.ts';
import type { Sweeper, SweptOutput } from './wallet/sweeper.ts';

export type { ChainWatch } from './chain-watch.ts';
export type { ChannelSummary } from './channels.ts';
export type { GraphSummary } from './gossip.ts';
export type { GossipTraffic } from './gossip-handler.ts';
export type { FundingChecks } from './gossip-utxo.ts';
export type { ChainOption, Network, NodeOptions } from './options.ts';
export type { SentPayment } from './payment/outbound.ts';
export type { RouteHintHop } from './payment/route.ts';
export type { PeerSummary } from './peers.ts';
export type { Balances };

/** Everything createNode assembled (builder.ts), handed to the node once. */
export interface NodeParts {
  options: NodeOptions;
  now: () => number;
  life: Lifecycle;
  bus: EventBus;
  queue: CommitQueue;
  persister: MonitorPersister;
  managerSnapshots: ManagerSnapshots;
  payments: PaymentStore;
  pump: Pump;
  sweeper: Sweeper;
  recoveryRecords: RecoveryRecord[];
  recovery: RecoveryTracker;
  balances: () => Balances;
  chainSource: ChainSource;
  onchain: OnchainWallet;
  onchainPayment: OnchainPayment;
  bolt11Payment: Bolt11Payment;
  bolt12Payment: Bolt12Payment;
  spontaneousPayment: SpontaneousPayment;
  receive: ReceivePayments;
  intercept: HtlcIntercept;
  channels: Channels;
  gossip: Gossip;
  /** On a node that keeps a graph or counts gossip (createNode); none on a wallet's. */
  gossipHandler: GossipHandler | undefined;
  peers: Peers;
  customMessages: CustomMessageRouter;
  chain: ChainWatcher;
  peerHost: PeerHost;
  ldk: LightningNode['ldk'];
}

export class LightningNode {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly network: Network;
  /** For transports (in-memory, TCP, WebSocket): the PeerManager surface they bridge to. */
  readonly peerHost: PeerHost;
  /** The node's BIP 84 on-chain wallet (funds channels, receives closes and sweeps). */
  readonly onchain: OnchainWallet;
  /** On-chain payments and the way out of channels: balance, address, priced sends, closes, sweeps. */
  readonly onchainPayment: OnchainPayment;
  /** BOLT 11 payments: send (id once the record is durable), then `outcome(id)`. */
  readonly bolt11Payment: Bolt11Payment;
  /** BOLT 12: the node's offer, `payOffer` (id once the record is durable), then `outcome(id)`. */
  readonly bolt12Payment: Bolt12Payment;
  /** Keysend payments: send (id once the record is durable), then `outcome(id)`. */
  readonly spontaneousPayment: SpontaneousPayment;
  /** The chain source this node reads and broadcasts through. */
  readonly chainSource: ChainSource;
  /** BOLT 8 custom messages (types >= 32768) to and from any peer: LSPS0 rides on these. */
  readonly customMessages: CustomMessages;
  /**
   * Raw LDK objects for tests and tools. Anything called on them must follow LDK-NOTES (no
   * re-entrancy, keep references).
   */
  readonly ldk: {
    keysManager: ldk.KeysManager;
    channelManager: ldk.ChannelManager;
    chainMonitor: ldk.ChainMonitor;
    peerManager: ldk.PeerManager;
    networkGraph: ldk.NetworkGraph;
    confirmables: ldk.Confirm[];
  };

  private readonly p: NodeParts;
  /** Read by bench/src/stream-probe.ts (pump steps per payment). */
  private readonly pump: Pump;

  /** @internal use createNode() */
  constructor(parts: NodeParts) {
    this.p = parts;
    this.pump = parts.pump;
    this.role = parts.options.role;
    this.network = parts.options.network;
    this.peerHost = parts.peerHost;
    this.onchain = parts.onchain;
    this.onchainPayment = parts.onchainPayment;
    this.bolt11Payment = parts.bolt11Payment;
    this.bolt12Payment = parts.bolt12Payment;
    this.spontaneousPayment = parts.spontaneousPayment;
    this.chainSource = parts.chainSource;
    this.customMessages = parts.customMessages;
    this.ldk = parts.ldk;
    this.nodeId = toHex(parts.ldk.channelManager.get_our_node_id());
  }

  /** @internal */
  async start(data: Map<string, Uint8Array>): Promise<void> {
    const { queue, pump, options, recoveryRecords } = this.p;
    const cm = this.ldk.channelManager;
    if (!hasStoredManager(data)) {
      // a brand-new node: its first manager is durable before anything can happen to it
      this.p.managerSnapshots.writeNow();
    }
    if (options.recoverChannels) {
      // before any peer can connect (createNode has not returned): closed, durable, then online
      recoveryRecords.push(...closeChannelsForRecovery(cm, this.p.now()));
      queue.write(RECOVERY_KEY, encodeRecords(recoveryRecords));
      pump.step(); // the monitors' close updates and the manager without the channels
    }
    await queue.drain();
    await this.syncChain();
    pump.start();
  }

  // ---------------------------------------------------------------- events

  on<K extends NodeEventKind>(kind: K, listener: Listener<K>): () => void {
    return this.p.bus.on(kind, listener);
  }

  /** Every event from now on: `for await (const e of node.events()) …`. */
  events(): AsyncIterableIterator<NodeEvent> {
    return this.p.bus.iterate();
  }

  waitFor<K extends NodeEventKind>(
    kind: K,
    match?: (event: EventOf<K>) => boolean,
    timeoutMs?: number,
  ): Promise<EventOf<K>> {
    return this.p.bus.waitFor(kind, match, timeoutMs);
  }

  // ---------------------------------------------------------------- chain

  /**
   * Bring LDK (ChannelManager, ChainMonitor, OutputSweeper) to the chain tip, then refresh fee
   * estimates, rebroadcast what is not buried yet and sync the on-chain wallet. The sync a call
   * returns reads the tip after the call: a call made while one runs gets one more sync after it,
   * shared by every call made meanwhile (else a block announced mid-sync is missed until the next
   * periodic sync, and LDK never sees it as its best block). Throws ChainError when the source
   * fails (the periodic sync logs and retries).
   */
  syncChain(): Promise<SyncReport> {
    return this.p.chain.sync();
  }

  /** A fresh receive address of the on-chain wallet (BIP 84, never handed out twice). */
  newAddress(): Promise<string> {
    this.p.life.assertRunning();
    return this.onchain.newAddress();
  }

  /**
   * Each open channel's stored monitor size in bytes, by funding outpoint (`txid:vout`). It grows with
   * every payment over the channel (LDK 0.1 keeps each revoked state's HTLC data), and so does the
   * work of each payment on it: see docs/architecture.md, "Monitors grow with every payment".
   */
  monitorBytes(): Map<string, number> {
    return this.p.persister.monitorBytes();
  }

  /** When the chain was last watched, against the delay a revoked commitment must be caught in. */
  chainWatch(): ChainWatch {
    return this.p.chain.watch();
  }

  // ---------------------------------------------------------------- gossip and routes

  /** LDK's WASM memory, shared by every node in this process (the guard warns above 70%). */
  wasmMemory(): WasmMemoryUsage | undefined {
    return wasmMemoryUsage();
  }

  /**
   * Paths from this node to `payeeNodeId` on its own graph and scorer, its usable channels first
   * (an LSP answering routes.find); NodeError ROUTE_NOT_FOUND when there is none.
   */
  findRoute(request: RouteRequest): FoundPath[] {
    return this.p.gossip.findRoute(request);
  }

  /** What our network graph holds (from gossip, restored from the store at start). */
  graphSummary(): GraphSummary {
    return this.p.gossip.summary();
  }

  /**
   * Gossip received since start from `peerId` (from every peer when none is named), on a node that
   * keeps a graph or was built with `countGossip`; a wallet's routing handler is LDK's, which counts
   * nothing. A node without a graph does not count the direct update of its own unannounced channel.
   */
  gossipReceived(peerId?: string): GossipTraffic {
    const handler = this.p.gossipHandler;
    if (!handler)
      throw new NodeError('INVALID_INPUT', 'this node does not count gossip: build it with countGossip');
    return handler.receivedFrom(peerId);
  }

  /**
   * How the channel_announcements received were checked against the chain (each needs its funding
   * output, gossip-utxo.ts); undefined on a node that keeps no graph (a wallet).
   */
  fundingChecks(): FundingChecks | undefined {
    return this.p.gossipHandler?.fundingChecks();
  }

  // ---------------------------------------------------------------- peers

  /** Connect to a peer through a transport (`inMemory(node)`, `tcp(host, port)`, `webSocket(url)`). */
  connect(peerId: string, via: Connector, timeoutMs = 10_000): Promise<void> {
    return this.p.peers.connect(peerId, via, timeoutMs);
  }

  disconnect(peerId: string): void {
    this.p.peers.disconnect(peerId);
  }

  listPeers(): PeerSummary[] {
    return this.p.peers.list();
  }

  isConnected(peerId: string): boolean {
    return this.p.peers.isConnected(peerId);
  }

  // ---------------------------------------------------------------- channels

  /** Opens a channel we fund. Resolves once LDK accepted the request (funding follows via events). */
  openChannel(request: OpenChannelRequest): { temporaryChannelId: string; userChannelId: bigint } {
    return this.p.channels.open(request);
  }

  /** Answer an `open-channel-request` (inbound policy returned 'manual'). */
  acceptChannel(temporaryChannelId: string, peerId: string, options: { zeroConf?: boolean } = {}): bigint {
    return this.p.channels.accept(temporaryChannelId, peerId, options);
  }

  rejectChannel(temporaryChannelId: string, peerId: string): void {
    this.p.channels.reject(temporaryChannelId, peerId);
  }

  closeChannel(channelId: string, options: { force?: boolean } = {}): void {
    this.p.channels.close(channelId, options);
  }

  /**
   * Routing fees on every channel: applied to the channels there are now (LDK announces the change)
   * and to channels opened from now on, ours and the peers'. Not persisted here: pass them again as
   * `forwardingFees` at the next start. Returns how many channels changed.
   */
  setForwardingFees(fees: ForwardingFees): number {
    return this.p.channels.setForwardingFees(fees);
  }

  /** The routing fees new channels get (the manager's default channel config). */
  forwardingFees(): ForwardingFees {
    return this.p.channels.forwardingFees();
  }

  /**
   * Our channels, or only those with `peerId`. An LSP holds thousands: listing them all costs
   * seconds, one peer's costs what that peer has, so per-request code asks for the peer's.
   */
  listChannels(peerId?: string): ChannelSummary[] {
    return this.p.channels.list(peerId);
  }

  /** Every balance in its one bucket (balances.ts): what the CLI and the PWA show. */
  balances(): Balances {
    return this.p.balances();
  }

  /**
   * Network fees as they bear on the person now: whether small payments must wait (and under how
   * much), and what closing would cost. For the wallet's notice and the close confirmation.
   */
  feeWeather(): FeeWeatherReport {
    return this.p.channels.feeWeather();
  }

  /**
   * Throws NodeError FEES_TOO_HIGH ("network fees are high right now; payments under N sats wait")
   * when a wallet's payment of `amountMsat` would be a dust HTLC while fees are high (fee-policy.ts).
   * payInvoice and keysend check it; code that sends through LDK itself (streams) should too.
   */
  assertFeesAllow(amountMsat: bigint): void {
    this.p.channels.assertFeesAllow(amountMsat);
  }

  /** Closed-channel outputs the sweeper is moving into the wallet, until the wallet counts the sweep. */
  pendingSweeps(): SweptOutput[] {
    return this.balances().sweeps;
  }

  /**
   * Channels closed for recovery (`recoverChannels`) and peer closes found after a words-only
   * restore: waiting for the peer's closing transaction (since when), its confirmations, what it
   * paid into the on-chain wallet. As of the last chain sync; `recovery-changed` on each change.
   */
  recoveryStatus(): RecoveryChannel[] {
    return this.p.recovery.status();
  }

  // ---------------------------------------------------------------- receiving

  /** A BOLT 11 invoice from LDK (route hints from our channels). */
  createInvoice(request: InvoiceRequest): { bolt11: string; paymentHash: string; expiresAt: number } {
    return this.p.receive.createInvoice(request);
  }

  /**
   * Payment hash and secret for an invoice built elsewhere (the JIT invoice with the LSP's intercept
   * SCID). `maxLspFeeMsat` is the most the LSP may skim from it (the agreed opening fee).
   */
  createInboundPayment(request: InboundPaymentRequest): { paymentHash: string; paymentSecret: string } {
    return this.p.receive.createInboundPayment(request);
  }

  /**
   * Sign a BOLT 11 invoice's 32-byte signing hash (sha256 of hrp and data) with the node key.
   * Returns the 64-byte compact signature and the recovery id.
   */
  signInvoice(hash: Uint8Array): { signature: Uint8Array; recoveryId: number } {
    return this.p.receive.signInvoice(hash);
  }

  // ---------------------------------------------------------------- paying

  /**
   * Pays a BOLT 11 invoice; resolves when it succeeded, rejects with a NodeError when it failed
   * (`bolt11Payment.send` then `outcome`).
   */
  async payInvoice(
    bolt11: string,
    options: Bolt11SendOptions & { timeoutMs?: number } = {},
  ): Promise<SentPayment> {
    const id = await this.bolt11Payment.send(bolt11, options);
    return this.bolt11Payment.outcome(id, options.timeoutMs);
  }

  /** Spontaneous payment to a node (no invoice): `spontaneousPayment.send` then `outcome`. */
  async keysend(
    peerId: string,
    amountMsat: bigint,
    options: SpontaneousSendOptions & { timeoutMs?: number } = {},
  ): Promise<SentPayment> {
    const id = await this.spontaneousPayment.send(peerId, amountMsat, options);
    return this.spontaneousPayment.outcome(id, options.timeoutMs);
  }

  /** Payment history, oldest first (durable: survives restarts). */
  listPayments(): PaymentRecord[] {
    return this.p.payments.list();
  }

  payment(id: string): PaymentRecord | undefined {
    return this.p.payments.get(id.toLowerCase());
  }

  // ---------------------------------------------------------------- LSP: intercepted HTLCs (JIT)

  /** A fresh intercept SCID: HTLCs sent to it become `htlc-intercepted` events (role 'lsp'). */
  newInterceptScid(): bigint {
    return this.p.intercept.newScid();
  }

  /** Forward an intercepted HTLC over `channelId` to `peerId`, sending `amountMsat` (inbound minus our fee). */
  forwardInterceptedHtlc(interceptId: string, channelId: string, peerId: string, amountMsat: bigint): void {
    this.p.intercept.forward(interceptId, channelId, peerId, amountMsat);
  }

  failInterceptedHtlc(interceptId: string): void {
    this.p.intercept.fail(interceptId);
  }

  // ---------------------------------------------------------------- life cycle

  /** Stops timers and peers, then waits until everything queued is durable. */
  async stop(): Promise<void> {
    const { life, managerSnapshots, peers, chain, pump, gossip, queue, persister, sweeper } = this.p;
    if (life.stopped || life.stopping) return;
    life.stopping = true; // no new chain sync starts from here
    managerSnapshots.immediate = true; // the last snapshot is not deferred
    peers.disconnectAll();
    // a sync in flight still feeds LDK (monitor writes): let it finish before the last snapshot
    await chain.syncing?.catch(() => {});
    pump.step(); // last events and the final manager snapshot into the queue
    life.stopped = true;
    pump.stop();
    gossip.persist();
    await queue.drain();
    while (persister.pendingAcks > 0 || queue.busy) await queue.drain();
    await sweeper.flushed();
    await this.onchain.flushed();
  }

  /** Number of durable commits so far (tests, metrics). */
  get commits(): number {
    return this.p.queue.batches;
  }
}
