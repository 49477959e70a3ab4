// createNode(): assembles one Lightning node from explicit parts, the one place to see the whole
// node. Storage, chain access, fee source, broadcaster, transports, clock and randomness are
// injected; nothing here touches the DOM or Node builtins.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as ldk from 'lightningdevkit';
import { buildUserConfig, type NodeRole } from './config.ts';
import { NodeError } from './errors.ts';
import { EventBus, type EventOf, type Listener, type NodeEvent, type NodeEventKind } from './events.ts';
import { type CallbackErrorSink, Retainer } from './ldk/callbacks.ts';
import { assertLdkReady } from './ldk/init.ts';
import {
  type ChainFilter,
  createBroadcaster,
  createFeeEstimator,
  createFilter,
  createLogger,
  type FeeSource,
  type LogLevel,
  type LogSink,
  type TxBroadcaster,
} from './ldk/traits.ts';
import {
  bool,
  bytesEqual,
  channelIdHex,
  describeLdkError,
  errorOf,
  expectOk,
  fromHex,
  isNullPointer,
  option32Bytes,
  optionU16,
  optionU32,
  optionU64,
  outpointKey,
  someOf,
  toHex,
  unwrap,
} from './ldk/values.ts';
import {
  type FundingWallet,
  handleLdkEvent,
  type InboundChannelDecision,
  type InboundChannelRequest,
} from './node-events.ts';
import { type PaymentRecord, PaymentStore } from './payments.ts';
import { CommitQueue } from './persist/commit-queue.ts';
import { GRAPH_KEY, MANAGER_KEY, MONITOR_PREFIX, SCORER_KEY, SPENDABLE_PREFIX } from './persist/keys.ts';
import { MonitorPersister } from './persist/monitor-persister.ts';
import { readMonitors } from './persist/restore.ts';
import type { Store } from './persist/store.ts';
import { Pump } from './pump.ts';
import { defaultRandomBytes, defaultScheduler, type Scheduler } from './scheduler.ts';
import type { Connector, PeerConnection, PeerHost } from './transport/connection.ts';

export type Network = 'bitcoin' | 'testnet' | 'signet' | 'regtest';

/**
 * The seam to the chain helper (`src/chain/`): Confirm-based sync and the tip. Block hashes are in
 * internal byte order (sha256d of the header as is, not reversed for display).
 */
export interface ChainAccess {
  /** Bring these Confirm implementors (ChannelManager, ChainMonitor) up to the chain tip. */
  sync(confirmables: ldk.Confirm[]): Promise<void>;
  bestBlock(): { hash: Uint8Array; height: number } | Promise<{ hash: Uint8Array; height: number }>;
}

export interface NodeOptions {
  /** 32-byte node seed (from the wallet's BIP 39 seed or the LSP's secret); the node key derives from it. */
  seed: Uint8Array;
  network: Network;
  role: NodeRole;
  store: Store;
  chain: ChainAccess;
  feeEstimator: FeeSource | ldk.FeeEstimator;
  broadcaster: TxBroadcaster | ldk.BroadcasterInterface;
  filter?: ChainFilter | ldk.Filter;
  /** Funds channels we open (the on-chain wallet helper); without it, answer `funding-needed`. */
  wallet?: FundingWallet;
  /** Peers (hex node ids) whose channels we accept with zero confirmations (the wallet's LSP). */
  trustedPeers?: string[];
  /** Decide inbound channel opens; default: trusted peers 0-conf, wallets reject others, else accept. */
  inboundChannelPolicy?: (request: InboundChannelRequest) => InboundChannelDecision;
  /** Milliseconds since the epoch. */
  clock?: () => number;
  randomBytes?: (length: number) => Uint8Array;
  scheduler?: Scheduler;
  logLevel?: LogLevel;
  log?: LogSink;
  /** Delay before forwarding HTLCs (LDK suggests ~100 ms; default 0). */
  forwardDelayMs?: number;
  /** Rewrite a full ChannelMonitor after this many stored incremental updates (default 64). */
  compactMonitorEvery?: number;
  /** Periodic chain sync (default 30 s; 0 = only on `syncChain()`). */
  chainSyncIntervalMs?: number;
  /** Run P2P gossip (default true); a wallet may route only over its LSP and route hints. */
  gossip?: boolean;
  /** Last word on LDK's UserConfig (tests, experiments). */
  configure?: (config: ldk.UserConfig) => void;
}

export interface ChannelSummary {
  channelId: string;
  peerId: string;
  userChannelId: bigint;
  fundingTxo: string | undefined;
  capacityMsat: bigint;
  outboundMsat: bigint;
  inboundMsat: bigint;
  nextOutboundHtlcLimitMsat: bigint;
  isOutbound: boolean;
  isReady: boolean;
  isUsable: boolean;
  isAnnounced: boolean;
  confirmations: number | undefined;
  shortChannelId: bigint | undefined;
  inboundScidAlias: bigint | undefined;
  outboundScidAlias: bigint | undefined;
}

export interface PeerSummary {
  peerId: string;
  inbound: boolean;
}

export interface Balances {
  /** Sum over open channels of what we could send (before in-flight limits). */
  lightningOutboundMsat: bigint;
  lightningInboundMsat: bigint;
  /** What usable channels can send right now (next-HTLC limits). */
  spendableNowMsat: bigint;
  /** Claimable on chain from closing / closed channels, not yet swept. */
  closingMsat: bigint;
}

export interface SentPayment {
  paymentId: string;
  paymentHash: string;
  preimage: string;
  amountMsat: bigint;
  feeMsat: bigint;
}

const NETWORKS: Record<Network, { ldk: ldk.Network; currency: ldk.Currency }> = {
  bitcoin: { ldk: ldk.Network.LDKNetwork_Bitcoin, currency: ldk.Currency.LDKCurrency_Bitcoin },
  testnet: { ldk: ldk.Network.LDKNetwork_Testnet, currency: ldk.Currency.LDKCurrency_BitcoinTestnet },
  signet: { ldk: ldk.Network.LDKNetwork_Signet, currency: ldk.Currency.LDKCurrency_Signet },
  regtest: { ldk: ldk.Network.LDKNetwork_Regtest, currency: ldk.Currency.LDKCurrency_Regtest },
};
const KEYSEND_CLTV_DELTA = 40;
const PAYMENT_RETRIES = 3;

function assertBigint(value: unknown, what: string, min = 0n): asserts value is bigint {
  if (typeof value !== 'bigint')
    throw new NodeError('INVALID_INPUT', `"${what}" expected bigint, got ${typeof value}`);
  if (value < min) throw new NodeError('INVALID_INPUT', `"${what}" must be ≥ ${min}, got ${value}`);
}

function nodeIdBytes(hex: string, what = 'peerId'): Uint8Array {
  const bytes = fromHex(hex, what);
  if (bytes.length !== 33 || (bytes[0] !== 2 && bytes[0] !== 3)) {
    throw new NodeError('INVALID_INPUT', `"${what}" expected a 33-byte compressed public key`);
  }
  // LDK panics (killing the WASM instance for every node in it) on a key that is not a curve point
  try {
    secp256k1.Point.fromBytes(bytes).assertValidity();
  } catch {
    throw new NodeError('INVALID_INPUT', `"${what}" is not a valid secp256k1 public key`);
  }
  return bytes;
}

/** Assembles and starts a node: restores it from `store` if it holds one, else creates it. */
export async function createNode(options: NodeOptions): Promise<LightningNode> {
  assertLdkReady();
  if (!(options.seed instanceof Uint8Array) || options.seed.length !== 32) {
    throw new NodeError('INVALID_INPUT', '"seed" expected 32 bytes');
  }
  const data = await options.store.load();
  const node = new LightningNode(options, data);
  await node.start(data);
  return node;
}

export class LightningNode {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly network: Network;
  /** For transports (in-memory, TCP, WebSocket): the PeerManager surface they bridge to. */
  readonly peerHost: PeerHost;
  /**
   * Raw LDK objects for the chain and wallet helpers (Confirm sync, sweeping with the KeysManager).
   * Anything called on them must follow LDK-NOTES (no re-entrancy, keep references).
   */
  readonly ldk: {
    keysManager: ldk.KeysManager;
    channelManager: ldk.ChannelManager;
    chainMonitor: ldk.ChainMonitor;
    peerManager: ldk.PeerManager;
    networkGraph: ldk.NetworkGraph;
    confirmables: ldk.Confirm[];
  };

  private readonly options: NodeOptions;
  private readonly bus: EventBus;
  private readonly retainer = new Retainer();
  private readonly scheduler: Scheduler;
  private readonly now: () => number;
  private readonly random: (length: number) => Uint8Array;
  private readonly queue: CommitQueue;
  private readonly persister: MonitorPersister;
  private readonly payments: PaymentStore;
  private readonly pump: Pump;
  private readonly logger: ldk.Logger;
  private readonly feeEstimator: ldk.FeeEstimator;
  private readonly broadcaster: ldk.BroadcasterInterface;
  private readonly keys: ldk.KeysManager;
  private readonly cm: ldk.ChannelManager;
  private readonly chainMonitor: ldk.ChainMonitor;
  private readonly pm: ldk.PeerManager;
  private readonly graph: ldk.NetworkGraph;
  private readonly scorer: ldk.ProbabilisticScorer;
  private readonly config: ldk.UserConfig;
  private readonly connections = new Set<PeerConnection>();
  /** Serialized SpendableOutputDescriptors by store key (durable; swept by the wallet helper). */
  private readonly spendable = new Map<string, Uint8Array>();
  private stopped = false;
  private syncing: Promise<void> | null = null;

  /** @internal use createNode() */
  constructor(options: NodeOptions, data: Map<string, Uint8Array>) {
    this.options = options;
    this.role = options.role;
    this.network = options.network;
    const network = NETWORKS[options.network];
    if (!network) throw new NodeError('INVALID_INPUT', `unknown network ${String(options.network)}`);
    this.scheduler = options.scheduler ?? defaultScheduler();
    this.now = options.clock ?? (() => Date.now());
    this.random = options.randomBytes ?? defaultRandomBytes;
    this.bus = new EventBus((fn) => this.scheduler.defer(fn));
    const retainer = this.retainer;
    const onCallbackError: CallbackErrorSink = (where, error) =>
      this.bus.emit({
        kind: 'error',
        code: 'CALLBACK_FAILED',
        message: `${where}: ${error instanceof Error ? error.message : String(error)}`,
        cause: error,
      });

    const logSink: LogSink = options.log ?? (() => {});
    this.logger = createLogger(options.logLevel ?? 'warn', logSink, retainer, onCallbackError);
    this.feeEstimator = createFeeEstimator(options.feeEstimator, retainer, onCallbackError);
    this.broadcaster = createBroadcaster(options.broadcaster, retainer, onCallbackError);
    const filter = options.filter ? createFilter(options.filter, retainer, onCallbackError) : undefined;

    this.queue = new CommitQueue({
      store: options.store,
      onError: (error) =>
        this.bus.emit({ kind: 'error', code: error.code, message: error.message, cause: error }),
      onCommitted: () => this.pump?.wake(),
      setTimer: (fn, ms) => this.scheduler.setTimeout(fn, ms),
    });
    this.persister = new MonitorPersister({
      queue: this.queue,
      initial: data,
      retainer,
      onCallbackError,
      requestFlush: () => this.pump?.wake(),
      ...(options.compactMonitorEvery !== undefined ? { compactEvery: options.compactMonitorEvery } : {}),
    });
    this.payments = new PaymentStore(data, this.queue, this.now);
    for (const [key, value] of data) if (key.startsWith(SPENDABLE_PREFIX)) this.spendable.set(key, value);

    this.chainMonitor = retainer.keep(
      ldk.ChainMonitor.constructor_new(
        filter ? ldk.Option_FilterZ.constructor_some(filter) : ldk.Option_FilterZ.constructor_none(),
        this.broadcaster,
        this.logger,
        this.feeEstimator,
        this.persister.persist,
      ),
    );
    this.persister.attach(this.chainMonitor);

    // KeysManager seed: a domain-separated derivation of the node seed, so the same 32 bytes used
    // elsewhere (on-chain wallet) never double as LDK's master secret. Start time unique per start.
    const ldkSeed = hmac(sha256, new TextEncoder().encode('lpw/ldk-keys-manager/v1'), options.seed);
    const startMs = this.now();
    const nanos =
      (startMs % 1000) * 1_000_000 + (new DataView(this.random(4).buffer).getUint32(0) % 1_000_000);
    this.keys = retainer.keep(
      ldk.KeysManager.constructor_new(ldkSeed, BigInt(Math.floor(startMs / 1000)), nanos),
    );

    this.graph = retainer.keep(this.readGraph(data.get(GRAPH_KEY), network.ldk));
    const decay = ldk.ProbabilisticScoringDecayParameters.constructor_default();
    this.scorer = retainer.keep(this.readScorer(data.get(SCORER_KEY), decay));
    const lockable = retainer.keep(ldk.MultiThreadedLockableScore.constructor_new(this.scorer.as_Score()));
    const router = retainer.keep(
      ldk.DefaultRouter.constructor_new(
        this.graph,
        this.logger,
        this.keys.as_EntropySource(),
        lockable.as_LockableScore(),
        ldk.ProbabilisticScoringFeeParameters.constructor_default(),
      ),
    );
    const messageRouter = retainer.keep(
      ldk.DefaultMessageRouter.constructor_new(this.graph, this.keys.as_EntropySource()),
    );
    this.config = buildUserConfig(options.role, options.configure);

    this.cm = retainer.keep(this.restoreOrCreateManager(data, network.ldk, router, messageRouter));
    this.nodeId = toHex(this.cm.get_our_node_id());

    // Manager snapshot rule (see monitor-persister.ts): any batch carrying monitor writes, or any
    // time LDK says so, also carries a manager written after them.
    this.queue.beforeCommit(() => {
      const needed = bool(this.cm.get_and_clear_needs_persistence());
      if (needed || this.persister.monitorsDirty) {
        this.persister.monitorsDirty = false;
        this.queue.write(MANAGER_KEY, this.cm.write());
      }
    });

    const ignoring = retainer.keep(ldk.IgnoringMessageHandler.constructor_new());
    const routing =
      options.gossip === false
        ? ignoring.as_RoutingMessageHandler()
        : retainer
            .keep(
              ldk.P2PGossipSync.constructor_new(
                this.graph,
                ldk.Option_UtxoLookupZ.constructor_none(),
                this.logger,
              ),
            )
            .as_RoutingMessageHandler();
    this.pm = retainer.keep(
      ldk.PeerManager.constructor_new(
        this.cm.as_ChannelMessageHandler(),
        routing,
        ignoring.as_OnionMessageHandler(),
        ignoring.as_CustomMessageHandler(),
        Math.floor(startMs / 1000),
        this.random(32),
        this.logger,
        this.keys.as_NodeSigner(),
      ),
    );

    const trusted = new Set((options.trustedPeers ?? []).map((p) => p.toLowerCase()));
    const inboundPolicy =
      options.inboundChannelPolicy ??
      ((request: InboundChannelRequest): InboundChannelDecision =>
        trusted.has(request.peerId) ? 'accept-0conf' : options.role === 'wallet' ? 'reject' : 'accept');

    this.pump = new Pump({
      channelManager: this.cm,
      chainMonitor: this.chainMonitor,
      peerManager: this.pm,
      queue: this.queue,
      scheduler: this.scheduler,
      retainer,
      onCallbackError,
      forwardDelayMs: options.forwardDelayMs ?? 0,
      handleEvent: (event) =>
        handleLdkEvent(
          {
            channelManager: this.cm,
            scorer: this.scorer,
            payments: this.payments,
            recordSpendable: (bytes) => this.recordSpendable(bytes),
            bus: this.bus,
            wallet: options.wallet,
            inboundPolicy,
            scheduleForwards: () => this.pump.scheduleForwards(),
            defer: (fn) => this.scheduler.defer(fn),
            wake: () => this.pump.wake(),
            now: this.now,
            randomU128: () => this.randomU128(),
            log: (level, message) => logSink({ level, module: 'lpw::node', line: 0, message }),
          },
          event,
        ),
      periodic: [
        { name: 'persist graph and scorer', everyMs: 10 * 60_000, run: () => this.persistGraphAndScorer() },
        ...((options.chainSyncIntervalMs ?? 30_000) > 0
          ? [
              {
                name: 'chain sync',
                everyMs: options.chainSyncIntervalMs ?? 30_000,
                run: () => this.syncChain(),
              },
            ]
          : []),
      ],
    });

    const confirmables = [retainer.keep(this.cm.as_Confirm()), retainer.keep(this.chainMonitor.as_Confirm())];
    this.ldk = {
      keysManager: this.keys,
      channelManager: this.cm,
      chainMonitor: this.chainMonitor,
      peerManager: this.pm,
      networkGraph: this.graph,
      confirmables,
    };
    const self = this;
    this.peerHost = {
      peerManager: this.pm,
      retainer,
      onCallbackError,
      defer: (fn) => this.scheduler.defer(fn),
      wake: () => this.pump.wake(),
      get stopped() {
        return self.stopped;
      },
    };
  }

  /** @internal */
  async start(data: Map<string, Uint8Array>): Promise<void> {
    if (!data.has(MANAGER_KEY)) {
      // a brand-new node: its first manager is durable before anything can happen to it
      this.queue.write(MANAGER_KEY, this.cm.write());
    }
    await this.queue.drain();
    await this.syncChain();
    this.pump.start();
  }

  // ---------------------------------------------------------------- events

  on<K extends NodeEventKind>(kind: K, listener: Listener<K>): () => void {
    return this.bus.on(kind, listener);
  }

  /** Every event from now on: `for await (const e of node.events()) …`. */
  events(): AsyncIterableIterator<NodeEvent> {
    return this.bus.iterate();
  }

  waitFor<K extends NodeEventKind>(
    kind: K,
    match?: (event: EventOf<K>) => boolean,
    timeoutMs?: number,
  ): Promise<EventOf<K>> {
    return this.bus.waitFor(kind, match, timeoutMs);
  }

  // ---------------------------------------------------------------- chain

  /** Sync ChannelManager and ChainMonitor to the chain tip (coalesces concurrent calls). */
  syncChain(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        await this.options.chain.sync(this.ldk.confirmables);
        this.chainMonitor.archive_fully_resolved_channel_monitors();
      } finally {
        this.syncing = null;
        this.pump.wake();
      }
    })();
    return this.syncing;
  }

  // ---------------------------------------------------------------- peers

  /** Connect to a peer through a transport (`inMemory(node)`, `tcp(host, port)`, `webSocket(url)`). */
  async connect(peerId: string, via: Connector, timeoutMs = 10_000): Promise<void> {
    this.assertRunning();
    const id = nodeIdBytes(peerId);
    if (this.isConnected(peerId)) return;
    const conn = await via(this.peerHost, id);
    this.connections.add(conn);
    conn.onClose(() => this.connections.delete(conn));
    this.pump.wake();
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
    this.pm.disconnect_by_node_id(nodeIdBytes(peerId));
    this.pump.wake();
  }

  listPeers(): PeerSummary[] {
    return this.pm.list_peers().map((p) => ({
      peerId: toHex(p.get_counterparty_node_id()),
      inbound: bool(p.get_is_inbound_connection()),
    }));
  }

  isConnected(peerId: string): boolean {
    const id = peerId.toLowerCase();
    return this.pm.list_peers().some((p) => toHex(p.get_counterparty_node_id()) === id);
  }

  // ---------------------------------------------------------------- channels

  /** Opens a channel we fund. Resolves once LDK accepted the request (funding follows via events). */
  openChannel(request: {
    peerId: string;
    capacitySat: bigint;
    pushMsat?: bigint;
    announce?: boolean;
    /** Informational: whether 0-conf is used is the acceptor's choice (our trust in our own funding is on). */
    zeroConf?: boolean;
  }): { temporaryChannelId: string; userChannelId: bigint } {
    this.assertRunning();
    assertBigint(request.capacitySat, 'capacitySat', 1n);
    const pushMsat = request.pushMsat ?? 0n;
    assertBigint(pushMsat, 'pushMsat');
    if (pushMsat > request.capacitySat * 1000n)
      throw new NodeError('INVALID_INPUT', '"pushMsat" exceeds the capacity');
    const peer = nodeIdBytes(request.peerId);
    if (!this.isConnected(request.peerId)) throw new NodeError('PEER_NOT_CONNECTED', request.peerId);
    const override = buildUserConfig(this.role, this.options.configure);
    const handshake = override.get_channel_handshake_config();
    handshake.set_announce_for_forwarding(request.announce ?? false);
    override.set_channel_handshake_config(handshake);
    const userChannelId = this.randomU128();
    const temporaryChannelId = unwrap<ldk.ChannelId>(
      this.cm.create_channel(peer, request.capacitySat, pushMsat, userChannelId, null, override),
      'CHANNEL_CREATION_FAILED',
      'create_channel',
    );
    this.pump.wake();
    return { temporaryChannelId: channelIdHex(temporaryChannelId), userChannelId };
  }

  /** Supply the signed funding transaction for a `funding-needed` event (when no wallet is injected). */
  fundChannel(temporaryChannelId: string, peerId: string, transaction: Uint8Array): void {
    const channelId = ldk.ChannelId.constructor_new(fromHex(temporaryChannelId, 'temporaryChannelId'));
    expectOk(
      this.cm.funding_transaction_generated(channelId, nodeIdBytes(peerId), transaction),
      'FUNDING_FAILED',
      'funding_transaction_generated',
    );
    this.pump.wake();
  }

  /** Answer an `open-channel-request` (inbound policy returned 'manual'). */
  acceptChannel(temporaryChannelId: string, peerId: string, options: { zeroConf?: boolean } = {}): bigint {
    const channelId = ldk.ChannelId.constructor_new(fromHex(temporaryChannelId, 'temporaryChannelId'));
    const userChannelId = this.randomU128();
    const peer = nodeIdBytes(peerId);
    const result = options.zeroConf
      ? this.cm.accept_inbound_channel_from_trusted_peer_0conf(channelId, peer, userChannelId)
      : this.cm.accept_inbound_channel(channelId, peer, userChannelId);
    expectOk(result, 'CHANNEL_NOT_FOUND', 'accept_inbound_channel');
    this.pump.wake();
    return userChannelId;
  }

  rejectChannel(temporaryChannelId: string, peerId: string): void {
    const channelId = ldk.ChannelId.constructor_new(fromHex(temporaryChannelId, 'temporaryChannelId'));
    expectOk(
      this.cm.force_close_without_broadcasting_txn(channelId, nodeIdBytes(peerId), 'channel rejected'),
      'CHANNEL_NOT_FOUND',
      'reject channel',
    );
    this.pump.wake();
  }

  closeChannel(channelId: string, options: { force?: boolean } = {}): void {
    this.assertRunning();
    const channel = this.cm
      .list_channels()
      .find((c) => channelIdHex(c.get_channel_id()) === channelId.toLowerCase());
    if (!channel) throw new NodeError('CHANNEL_NOT_FOUND', channelId);
    const peer = channel.get_counterparty().get_node_id();
    const result = options.force
      ? this.cm.force_close_broadcasting_latest_txn(channel.get_channel_id(), peer, 'closed by user')
      : this.cm.close_channel(channel.get_channel_id(), peer);
    expectOk(result, 'CHANNEL_CLOSING_FAILED', 'close channel');
    this.pump.wake();
  }

  listChannels(): ChannelSummary[] {
    return this.cm.list_channels().map((c) => {
      const txo = c.get_funding_txo();
      return {
        channelId: channelIdHex(c.get_channel_id()),
        peerId: toHex(c.get_counterparty().get_node_id()),
        userChannelId: c.get_user_channel_id(),
        fundingTxo: isNullPointer(txo) ? undefined : outpointKey(txo),
        capacityMsat: c.get_channel_value_satoshis() * 1000n,
        outboundMsat: c.get_outbound_capacity_msat(),
        inboundMsat: c.get_inbound_capacity_msat(),
        nextOutboundHtlcLimitMsat: c.get_next_outbound_htlc_limit_msat(),
        isOutbound: bool(c.get_is_outbound()),
        isReady: bool(c.get_is_channel_ready()),
        isUsable: bool(c.get_is_usable()),
        isAnnounced: bool(c.get_is_announced()),
        confirmations: someOf<number>(c.get_confirmations()),
        shortChannelId: someOf<bigint>(c.get_short_channel_id()),
        inboundScidAlias: someOf<bigint>(c.get_inbound_scid_alias()),
        outboundScidAlias: someOf<bigint>(c.get_outbound_scid_alias()),
      };
    });
  }

  balances(): Balances {
    let lightningOutboundMsat = 0n;
    let lightningInboundMsat = 0n;
    let spendableNowMsat = 0n;
    const open = this.cm.list_channels();
    for (const c of open) {
      lightningOutboundMsat += c.get_outbound_capacity_msat();
      lightningInboundMsat += c.get_inbound_capacity_msat();
      if (bool(c.get_is_usable())) spendableNowMsat += c.get_next_outbound_htlc_limit_msat();
    }
    let closingMsat = 0n;
    for (const b of this.chainMonitor.get_claimable_balances(open))
      closingMsat += b.claimable_amount_satoshis() * 1000n;
    return { lightningOutboundMsat, lightningInboundMsat, spendableNowMsat, closingMsat };
  }

  /** Serialized SpendableOutputDescriptors recorded from closes, for the wallet helper to sweep. */
  spendableOutputs(): Uint8Array[] {
    return [...this.spendable.values()];
  }

  // ---------------------------------------------------------------- receiving

  /** A BOLT 11 invoice from LDK (route hints from our channels). */
  createInvoice(request: {
    amountMsat?: bigint;
    description: string;
    expirySecs: number;
    minFinalCltvExpiryDelta?: number;
  }): {
    bolt11: string;
    paymentHash: string;
    expiresAt: number;
  } {
    this.assertRunning();
    if (request.amountMsat !== undefined) assertBigint(request.amountMsat, 'amountMsat', 1n);
    if (
      typeof request.description !== 'string' ||
      new TextEncoder().encode(request.description).length > 639
    ) {
      throw new NodeError('INVALID_INPUT', '"description" expected a string of at most 639 bytes');
    }
    if (!Number.isInteger(request.expirySecs) || request.expirySecs <= 0) {
      throw new NodeError('INVALID_INPUT', '"expirySecs" expected a positive integer');
    }
    const description = unwrap<ldk.Description>(
      ldk.Description.constructor_new(request.description),
      'INVALID_INPUT',
      'description',
    );
    const invoice = unwrap<ldk.Bolt11Invoice>(
      this.cm.create_bolt11_invoice(
        optionU64(request.amountMsat),
        ldk.Bolt11InvoiceDescription.constructor_direct(description),
        optionU32(request.expirySecs),
        optionU16(request.minFinalCltvExpiryDelta),
        option32Bytes(undefined),
      ),
      'INVOICE_CREATION_FAILED',
      'create_bolt11_invoice',
    );
    const paymentHash = toHex(invoice.payment_hash());
    const bolt11 = invoice.to_str();
    this.payments.create({
      id: paymentHash,
      direction: 'inbound',
      kind: 'bolt11',
      status: 'pending',
      paymentHash,
      invoice: bolt11,
      description: request.description,
      ...(request.amountMsat !== undefined ? { amountMsat: request.amountMsat } : {}),
    });
    this.pump.wake();
    const expiresAt = Number(invoice.duration_since_epoch() + invoice.expiry_time()) * 1000;
    return { bolt11, paymentHash, expiresAt };
  }

  /**
   * Payment hash and secret for an invoice built elsewhere (the JIT invoice with the LSP's intercept
   * SCID). `maxLspFeeMsat` is the most the LSP may skim from it (the agreed opening fee).
   */
  createInboundPayment(request: {
    amountMsat?: bigint;
    expirySecs: number;
    maxLspFeeMsat?: bigint;
    description?: string;
  }): {
    paymentHash: string;
    paymentSecret: string;
  } {
    this.assertRunning();
    if (request.amountMsat !== undefined) assertBigint(request.amountMsat, 'amountMsat', 1n);
    if (request.maxLspFeeMsat !== undefined) assertBigint(request.maxLspFeeMsat, 'maxLspFeeMsat');
    if (!Number.isInteger(request.expirySecs) || request.expirySecs <= 0) {
      throw new NodeError('INVALID_INPUT', '"expirySecs" expected a positive integer');
    }
    const pair = unwrap<ldk.TwoTuple_ThirtyTwoBytesThirtyTwoBytesZ>(
      this.cm.create_inbound_payment(optionU64(request.amountMsat), request.expirySecs, optionU16(undefined)),
      'INVOICE_CREATION_FAILED',
      'create_inbound_payment',
    );
    const paymentHash = toHex(pair.get_a());
    this.payments.create({
      id: paymentHash,
      direction: 'inbound',
      kind: 'inbound-payment',
      status: 'pending',
      paymentHash,
      maxSkimmedFeeMsat: request.maxLspFeeMsat ?? 0n,
      ...(request.amountMsat !== undefined ? { amountMsat: request.amountMsat } : {}),
      ...(request.description !== undefined ? { description: request.description } : {}),
    });
    this.pump.wake();
    return { paymentHash, paymentSecret: toHex(pair.get_b()) };
  }

  /**
   * Sign a BOLT 11 invoice's 32-byte signing hash (sha256 of hrp and data) with the node key.
   * Returns the 64-byte compact signature and the recovery id.
   */
  signInvoice(hash: Uint8Array): { signature: Uint8Array; recoveryId: number } {
    if (!(hash instanceof Uint8Array) || hash.length !== 32)
      throw new NodeError('INVALID_INPUT', '"hash" expected 32 bytes');
    const secret = this.keys.get_node_secret_key();
    try {
      const recovered = secp256k1.sign(hash, secret, { prehash: false, format: 'recovered' });
      return { recoveryId: recovered[0]!, signature: recovered.slice(1) };
    } finally {
      secret.fill(0);
    }
  }

  // ---------------------------------------------------------------- paying

  /** Pays a BOLT 11 invoice; resolves when it succeeded, rejects with a NodeError when it failed. */
  async payInvoice(
    bolt11: string,
    options: { maxFeeMsat?: bigint; amountMsat?: bigint; timeoutMs?: number } = {},
  ): Promise<SentPayment> {
    this.assertRunning();
    if (typeof bolt11 !== 'string' || bolt11.length === 0 || bolt11.length > 7089) {
      throw new NodeError('INVALID_INVOICE', 'expected a BOLT 11 string');
    }
    if (options.maxFeeMsat !== undefined) assertBigint(options.maxFeeMsat, 'maxFeeMsat');
    if (options.amountMsat !== undefined) assertBigint(options.amountMsat, 'amountMsat', 1n);
    const invoice = unwrap<ldk.Bolt11Invoice>(
      ldk.Bolt11Invoice.constructor_from_str(bolt11.trim()),
      'INVALID_INVOICE',
      'parse',
    );
    if (invoice.currency() !== NETWORKS[this.network].currency) {
      throw new NodeError(
        'INVALID_INVOICE',
        `invoice is for another network (${ldk.Currency[invoice.currency()]})`,
      );
    }
    if (bool(invoice.would_expire(BigInt(Math.floor(this.now() / 1000)))))
      throw new NodeError('INVOICE_EXPIRED');
    if (bytesEqual(invoice.recover_payee_pub_key(), this.cm.get_our_node_id())) {
      throw new NodeError('INVALID_INVOICE', 'invoice is our own');
    }
    const invoiceAmount = someOf<bigint>(invoice.amount_milli_satoshis());
    if (
      invoiceAmount !== undefined &&
      options.amountMsat !== undefined &&
      options.amountMsat !== invoiceAmount
    ) {
      throw new NodeError(
        'INVALID_INPUT',
        `invoice is for ${invoiceAmount} msat, asked to pay ${options.amountMsat}`,
      );
    }
    const amountMsat = invoiceAmount ?? options.amountMsat;
    if (amountMsat === undefined)
      throw new NodeError('INVALID_INPUT', 'invoice has no amount: pass amountMsat');
    this.assertCanSend(amountMsat + (options.maxFeeMsat ?? 0n));

    const params = unwrap<ldk.ThreeTuple_ThirtyTwoBytesRecipientOnionFieldsRouteParametersZ>(
      invoiceAmount !== undefined
        ? ldk.UtilMethods.constructor_payment_parameters_from_invoice(invoice)
        : ldk.UtilMethods.constructor_payment_parameters_from_variable_amount_invoice(invoice, amountMsat),
      'INVALID_INVOICE',
      'payment parameters',
    );
    const routeParams = params.get_c();
    if (options.maxFeeMsat !== undefined)
      routeParams.set_max_total_routing_fee_msat(optionU64(options.maxFeeMsat));
    const paymentHash = params.get_a();
    // payment id = payment hash: paying the same invoice twice is refused (DUPLICATE_PAYMENT)
    const paymentId = Uint8Array.from(paymentHash);
    const id = toHex(paymentId);
    const outcome = this.paymentOutcome(id, options.timeoutMs);
    const sent = this.cm.send_payment(
      paymentHash,
      params.get_b(),
      paymentId,
      routeParams,
      ldk.Retry.constructor_attempts(PAYMENT_RETRIES),
    );
    if (!bool(sent.is_ok())) {
      outcome.cancel();
      throw this.sendFailure(errorOf(sent) as ldk.RetryableSendFailure);
    }
    this.payments.create({
      id,
      direction: 'outbound',
      kind: 'bolt11',
      status: 'pending',
      paymentHash: id,
      amountMsat,
      invoice: bolt11,
    });
    this.pump.wake();
    return outcome.promise.then((event) => ({
      paymentId: id,
      paymentHash: id,
      preimage: event.preimage,
      amountMsat,
      feeMsat: event.feeMsat ?? 0n,
    }));
  }

  /** Spontaneous payment to a node (no invoice); we pick the preimage. */
  async keysend(
    peerId: string,
    amountMsat: bigint,
    options: { maxFeeMsat?: bigint; timeoutMs?: number } = {},
  ): Promise<SentPayment> {
    this.assertRunning();
    const payee = nodeIdBytes(peerId);
    assertBigint(amountMsat, 'amountMsat', 1n);
    if (options.maxFeeMsat !== undefined) assertBigint(options.maxFeeMsat, 'maxFeeMsat');
    this.assertCanSend(amountMsat + (options.maxFeeMsat ?? 0n));
    const preimage = this.random(32);
    const paymentHash = sha256(preimage);
    const paymentId = this.random(32);
    const id = toHex(paymentId);
    const routeParams = ldk.RouteParameters.constructor_new(
      ldk.PaymentParameters.constructor_for_keysend(payee, KEYSEND_CLTV_DELTA, false),
      amountMsat,
      optionU64(options.maxFeeMsat),
    );
    const outcome = this.paymentOutcome(id, options.timeoutMs);
    const sent = this.cm.send_spontaneous_payment(
      option32Bytes(preimage),
      ldk.RecipientOnionFields.constructor_spontaneous_empty(),
      paymentId,
      routeParams,
      ldk.Retry.constructor_attempts(PAYMENT_RETRIES),
    );
    if (!bool(sent.is_ok())) {
      outcome.cancel();
      throw this.sendFailure(errorOf(sent) as ldk.RetryableSendFailure);
    }
    this.payments.create({
      id,
      direction: 'outbound',
      kind: 'keysend',
      status: 'pending',
      paymentHash: toHex(paymentHash),
      amountMsat,
    });
    this.pump.wake();
    return outcome.promise.then((event) => ({
      paymentId: id,
      paymentHash: toHex(paymentHash),
      preimage: event.preimage,
      amountMsat,
      feeMsat: event.feeMsat ?? 0n,
    }));
  }

  /** Payment history, oldest first (durable: survives restarts). */
  listPayments(): PaymentRecord[] {
    return this.payments.list();
  }

  payment(id: string): PaymentRecord | undefined {
    return this.payments.get(id.toLowerCase());
  }

  // ---------------------------------------------------------------- LSP: intercepted HTLCs (JIT)

  /** A fresh intercept SCID: HTLCs sent to it become `htlc-intercepted` events (role 'lsp'). */
  newInterceptScid(): bigint {
    return this.cm.get_intercept_scid();
  }

  /** Forward an intercepted HTLC over `channelId` to `peerId`, sending `amountMsat` (inbound minus our fee). */
  forwardInterceptedHtlc(interceptId: string, channelId: string, peerId: string, amountMsat: bigint): void {
    assertBigint(amountMsat, 'amountMsat', 1n);
    const intercept = fromHex(interceptId, 'interceptId');
    if (intercept.length !== 32) throw new NodeError('INVALID_INPUT', '"interceptId" expected 32 bytes');
    expectOk(
      this.cm.forward_intercepted_htlc(
        intercept,
        ldk.ChannelId.constructor_new(fromHex(channelId, 'channelId')),
        nodeIdBytes(peerId),
        amountMsat,
      ),
      'HTLC_NOT_FOUND',
      'forward_intercepted_htlc',
    );
    this.pump.scheduleForwards();
  }

  failInterceptedHtlc(interceptId: string): void {
    const intercept = fromHex(interceptId, 'interceptId');
    if (intercept.length !== 32) throw new NodeError('INVALID_INPUT', '"interceptId" expected 32 bytes');
    expectOk(this.cm.fail_intercepted_htlc(intercept), 'HTLC_NOT_FOUND', 'fail_intercepted_htlc');
    this.pump.scheduleForwards();
  }

  // ---------------------------------------------------------------- life cycle

  /** Stops timers and peers, then waits until everything queued is durable. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.pm.disconnect_all_peers();
    for (const conn of this.connections) conn.shutdown();
    this.pump.step(); // last events and the final manager snapshot into the queue
    this.stopped = true;
    this.pump.stop();
    this.persistGraphAndScorer();
    await this.queue.drain();
    while (this.persister.pendingAcks > 0 || this.queue.busy) await this.queue.drain();
  }

  /** Number of durable commits so far (tests, metrics). */
  get commits(): number {
    return this.queue.batches;
  }

  // ---------------------------------------------------------------- internals

  private restoreOrCreateManager(
    data: Map<string, Uint8Array>,
    network: ldk.Network,
    router: ldk.DefaultRouter,
    messageRouter: ldk.DefaultMessageRouter,
  ): ldk.ChannelManager {
    const managerBytes = data.get(MANAGER_KEY);
    if (!managerBytes) {
      if ([...data.keys()].some((k) => k.startsWith(MONITOR_PREFIX))) {
        throw new NodeError('RESTORE_FAILED', 'store holds channel monitors but no channel manager');
      }
      // the best block is filled in synchronously only when the chain seam answers synchronously
      const tip = this.options.chain.bestBlock();
      if (tip instanceof Promise)
        throw new NodeError('INVALID_INPUT', 'chain.bestBlock() must answer synchronously');
      return ldk.ChannelManager.constructor_new(
        this.feeEstimator,
        this.chainMonitor.as_Watch(),
        this.broadcaster,
        router.as_Router(),
        messageRouter.as_MessageRouter(),
        this.logger,
        this.keys.as_EntropySource(),
        this.keys.as_NodeSigner(),
        this.keys.as_SignerProvider(),
        this.config,
        ldk.ChainParameters.constructor_new(network, ldk.BestBlock.constructor_new(tip.hash, tip.height)),
        Math.floor(this.now() / 1000),
      );
    }
    // Restore order: monitors (with their stored updates), then the manager, then watch_channel.
    const monitors = readMonitors(data, {
      keys: this.keys,
      broadcaster: this.broadcaster,
      feeEstimator: this.feeEstimator,
      logger: this.logger,
    });
    const read = ldk.UtilMethods.constructor_C2Tuple_ThirtyTwoBytesChannelManagerZ_read(
      managerBytes,
      this.keys.as_EntropySource(),
      this.keys.as_NodeSigner(),
      this.keys.as_SignerProvider(),
      this.feeEstimator,
      this.chainMonitor.as_Watch(),
      this.broadcaster,
      router.as_Router(),
      messageRouter.as_MessageRouter(),
      this.logger,
      this.config,
      monitors,
    );
    const manager = unwrap<ldk.TwoTuple_ThirtyTwoBytesChannelManagerZ>(
      read,
      'RESTORE_FAILED',
      'reading the channel manager',
    ).get_b();
    this.persister.restoring = true;
    try {
      for (const monitor of monitors) {
        const outpoint = monitor.get_funding_txo().get_a();
        const status = unwrap<ldk.ChannelMonitorUpdateStatus>(
          this.chainMonitor.as_Watch().watch_channel(outpoint, monitor),
          'RESTORE_FAILED',
          `watch_channel ${outpointKey(outpoint)}`,
        );
        if (status !== ldk.ChannelMonitorUpdateStatus.LDKChannelMonitorUpdateStatus_Completed) {
          throw new NodeError('RESTORE_FAILED', `watch_channel ${outpointKey(outpoint)}: status ${status}`);
        }
      }
    } finally {
      this.persister.restoring = false;
    }
    return manager;
  }

  private readGraph(bytes: Uint8Array | undefined, network: ldk.Network): ldk.NetworkGraph {
    if (bytes) {
      const read = ldk.NetworkGraph.constructor_read(bytes, this.logger);
      if (bool(read.is_ok())) return (read as unknown as { res: ldk.NetworkGraph }).res;
      this.bus.emit({
        kind: 'error',
        code: 'RESTORE_FAILED',
        message: `network graph unreadable (${describeLdkError(errorOf(read))}); starting empty`,
      });
    }
    return ldk.NetworkGraph.constructor_new(network, this.logger);
  }

  private readScorer(
    bytes: Uint8Array | undefined,
    decay: ldk.ProbabilisticScoringDecayParameters,
  ): ldk.ProbabilisticScorer {
    if (bytes) {
      const read = ldk.ProbabilisticScorer.constructor_read(bytes, decay, this.graph, this.logger);
      if (bool(read.is_ok())) return (read as unknown as { res: ldk.ProbabilisticScorer }).res;
      this.bus.emit({ kind: 'error', code: 'RESTORE_FAILED', message: 'scorer unreadable; starting fresh' });
    }
    return ldk.ProbabilisticScorer.constructor_new(decay, this.graph, this.logger);
  }

  private persistGraphAndScorer(): void {
    this.queue.write(GRAPH_KEY, this.graph.write());
    this.queue.write(SCORER_KEY, this.scorer.write());
    this.pump.wake();
  }

  private recordSpendable(bytes: Uint8Array): void {
    const key = SPENDABLE_PREFIX + toHex(sha256(bytes));
    this.spendable.set(key, bytes);
    this.queue.write(key, bytes);
  }

  private paymentOutcome(id: string, timeoutMs = 120_000) {
    let cancelled = false;
    const offs: Array<() => void> = [];
    const promise = new Promise<EventOf<'payment-sent'>>((resolve, reject) => {
      const timer = this.scheduler.setTimeout(() => {
        done();
        reject(
          new NodeError('TIMEOUT', `payment ${id} unresolved after ${timeoutMs} ms (it may still complete)`),
        );
      }, timeoutMs);
      const done = () => {
        this.scheduler.clearTimeout(timer);
        for (const off of offs) off();
      };
      offs.push(
        this.bus.on('payment-sent', (e) => {
          if (e.paymentId !== id || cancelled) return;
          done();
          resolve(e);
        }),
        this.bus.on('payment-failed', (e) => {
          if (e.paymentId !== id || cancelled) return;
          done();
          reject(
            new NodeError(e.reason === 'RouteNotFound' ? 'ROUTE_NOT_FOUND' : 'PAYMENT_FAILED', e.reason),
          );
        }),
      );
      offs.push(() => this.scheduler.clearTimeout(timer));
    });
    return {
      promise,
      cancel: () => {
        cancelled = true;
        for (const off of offs) off();
      },
    };
  }

  private sendFailure(failure: ldk.RetryableSendFailure): NodeError {
    switch (failure) {
      case ldk.RetryableSendFailure.LDKRetryableSendFailure_RouteNotFound:
        return new NodeError('ROUTE_NOT_FOUND', 'no route within the fee limit and channel limits');
      case ldk.RetryableSendFailure.LDKRetryableSendFailure_PaymentExpired:
        return new NodeError('INVOICE_EXPIRED');
      case ldk.RetryableSendFailure.LDKRetryableSendFailure_DuplicatePayment:
        return new NodeError('DUPLICATE_PAYMENT', 'this payment was already attempted');
      default:
        return new NodeError(
          'PAYMENT_FAILED',
          describeLdkError(failure, ldk.RetryableSendFailure as unknown as Record<number, string>),
        );
    }
  }

  /** Before asking LDK: enough in usable channels? (LDK would fail with RouteNotFound, less clearly.) */
  private assertCanSend(totalMsat: bigint): void {
    let available = 0n;
    for (const c of this.cm.list_usable_channels()) available += c.get_next_outbound_htlc_limit_msat();
    if (available === 0n) throw new NodeError('INSUFFICIENT_BALANCE', 'no usable channel');
    if (totalMsat > available) {
      throw new NodeError(
        'INSUFFICIENT_BALANCE',
        `need ${totalMsat} msat, channels can send ${available} msat now`,
      );
    }
  }

  /** A user channel id: 120 random bits, because the bindings reject u128 values ≥ 2^124. */
  private randomU128(): bigint {
    let value = 0n;
    for (const b of this.random(15)) value = (value << 8n) | BigInt(b);
    return value;
  }

  private assertRunning(): void {
    if (this.stopped) throw new NodeError('NODE_STOPPED');
  }
}
