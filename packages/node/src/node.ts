// createNode(): assembles one Lightning node from explicit parts, the one place to see the whole
// node. Storage, chain source, transports, clock and randomness are injected; nothing here touches
// the DOM or Node builtins. The chain layer (chain/) supplies the one fee policy, the one
// rebroadcasting broadcaster and Confirm-based sync; the on-chain wallet (wallet/) funds channels
// and receives closed-channel money.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as ldk from 'lightningdevkit';
import { type Balances, computeBalances } from './balances.ts';
import { type BitcoindOptions, bitcoindSource } from './chain/bitcoind.ts';
import { ChainBroadcaster } from './chain/broadcaster.ts';
import { hashFromDisplay, txidOf } from './chain/bytes.ts';
import { CheckedChainSource, checkedSource, isChainCheckFailure } from './chain/checked.ts';
import type { ChainErrorCode } from './chain/errors.ts';
import { esploraSource } from './chain/esplora.ts';
import { ChainFeeEstimator, type FeeTargetName } from './chain/fees.ts';
import {
  assertNetwork,
  type BitcoinNetwork,
  type BlockRef,
  type ChainLog,
  type ChainSource,
} from './chain/source.ts';
import { ChainSync, type SyncReport } from './chain/sync.ts';
import { buildUserConfig, type NodeRole } from './config.ts';
import { NodeError } from './errors.ts';
import { EventBus, type EventOf, type Listener, type NodeEvent, type NodeEventKind } from './events.ts';
import { assertPaymentNotDust, type FeeWeatherReport, feeWeatherReport } from './fee-policy.ts';
import {
  assertForwardingFees,
  defaultForwardingFees,
  type ForwardingFees,
  setDefaultForwardingFees,
  updateChannelForwardingFees,
} from './forwarding-fees.ts';
import { keysManagerSeed } from './identity.ts';
import { type CallbackErrorSink, Retainer } from './ldk/callbacks.ts';
import { freeLdk, type Own, withLdk } from './ldk/free.ts';
import { assertLdkReady } from './ldk/init.ts';
import { type WasmMemoryUsage, wasmMemoryUsage, wasmMemoryWatch } from './ldk/memory.ts';
import { createWalletSignerProvider } from './ldk/signer-provider.ts';
import { createLogger, type LogLevel, type LogSink } from './ldk/traits.ts';
import {
  bool,
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
  u128FromLdk,
  unwrap,
} from './ldk/values.ts';
import { handleLdkEvent, type InboundChannelDecision, type InboundChannelRequest } from './node-events.ts';
import { Bolt11Payment, type Bolt11SendOptions } from './payment/bolt11.ts';
import { OnchainPayment } from './payment/onchain.ts';
import type { OutboundContext, SentPayment } from './payment/outbound.ts';
import { assertBigint, nodeIdBytes } from './payment/route.ts';
import { SpontaneousPayment, type SpontaneousSendOptions } from './payment/spontaneous.ts';
import { type PaymentRecord, PaymentStore } from './payments.ts';
import { CommitQueue } from './persist/commit-queue.ts';
import {
  GRAPH_KEY,
  MANAGER_KEY,
  MONITOR_PREFIX,
  SCORER_KEY,
  SYNCED_AT_KEY,
  SYNCED_HEIGHT_KEY,
  HEADERS_KEY,
} from './persist/keys.ts';
import { ManagerSnapshots } from './persist/manager-snapshot.ts';
import { MonitorPersister } from './persist/monitor-persister.ts';
import { restoreChannelState } from './persist/restore.ts';
import type { Store } from './persist/store.ts';
import { Pump } from './pump.ts';
import {
  closeChannelsForRecovery,
  decodeRecords,
  encodeRecords,
  RECOVERY_KEY,
  type RecoveryChannel,
  type RecoveryRecord,
  RecoveryTracker,
} from './recovery.ts';
import { type FoundPath, findRoute, type RouteRequest } from './routing.ts';
import { defaultRandomBytes, defaultScheduler, type Scheduler } from './scheduler.ts';
import { startMark } from './start-marks.ts';
import type { Connector, PeerConnection, PeerHost } from './transport/connection.ts';
import { OnchainWallet } from './wallet/onchain.ts';
import { Sweeper, type SweptOutput } from './wallet/sweeper.ts';

export type Network = 'bitcoin' | 'testnet' | 'signet' | 'regtest';

/**
 * Where the node reads the chain: an Esplora REST base URL, a bitcoind JSON-RPC URL, or a
 * ChainSource built by the caller (chain/). The source is fully trusted by LDK: use your own.
 */
export type ChainOption =
  | {
      esploraUrl: string;
      timeoutMs?: number;
      /** Check the chain view (headers from a checkpoint, merkle proofs): chain/checked.ts. */
      checked?: boolean;
      /** A second Esplora compared with the first (implies `checked`). */
      secondEsploraUrl?: string;
    }
  | { bitcoindUrl: string; auth?: BitcoindOptions['auth']; timeoutMs?: number }
  | ChainSource;

export interface NodeOptions {
  /** 32-byte node seed (from the wallet's BIP 39 seed or the LSP's secret); every key derives from it. */
  seed: Uint8Array;
  network: Network;
  role: NodeRole;
  store: Store;
  chain: ChainOption;
  /** Fixed fee answers in sat/kW for some targets (tests, regtest policy); still floored and capped. */
  feeOverrides?: Partial<Record<FeeTargetName, number>>;
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
  /** Periodic chain sync (default 30 s for a wallet, 10 s otherwise; 0 = only on `syncChain()`). */
  chainSyncIntervalMs?: number;
  /** Persist the network graph and scorer this often (default 10 min; also on stop). */
  graphPersistIntervalMs?: number;
  /** Run P2P gossip (default: every role but 'wallet', which routes over its LSP and route hints). */
  gossip?: boolean;
  /** Node announcement alias (≤ 32 bytes UTF-8) and IPv4 addresses, sent once we have public channels. */
  alias?: string;
  announceAddresses?: Array<{ host: string; port: number }>;
  /** Last word on LDK's UserConfig (tests, experiments). */
  configure?: (config: ldk.UserConfig) => void;
  /** Routing fees for every channel (see `setForwardingFees`); LDK's defaults otherwise. */
  forwardingFees?: ForwardingFees;
  /**
   * The store was restored from a backup (not this node's own live store): close every channel in
   * it without broadcasting, before any peer connects, and let each peer close with its latest
   * state, which pays our balance into the on-chain wallet (recovery.ts). Pass it on the first
   * start after a restore only: it closes every channel the store holds. `recoveryStatus()` follows.
   */
  recoverChannels?: boolean;
}

/** How far the node watches the chain for the LSP cheating (see `chainWatch()`). */
export interface ChainWatch {
  /** When the last chain sync completed (ms since the epoch; survives restarts), if ever. */
  lastSyncAtMs: number | undefined;
  lastSyncHeight: number | undefined;
  /**
   * Blocks a peer waits for its own output after closing with a commitment (ours to choose, the
   * delay we demand): a revoked commitment must be caught within this window.
   */
  toSelfDelayBlocks: number;
  /** Half the window after the last sync at ~10 minutes per block: warn the user from here on. */
  warnAtMs: number | undefined;
  /** Whether the chain view is checked (headers, merkle proofs) and compared with a second source. */
  checked: boolean;
  compared: boolean;
  /** The check that failed at the last sync (the node feeds LDK nothing until it passes). */
  failure: { code: ChainErrorCode; message: string } | undefined;
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
  /** What the peer makes us keep in the channel (our `outboundMsat` is the balance above it). */
  ourReserveMsat: bigint | undefined;
  /** Blocks our own output waits (CSV) after we force-close; set by the peer. */
  toSelfDelay: number | undefined;
}

export interface PeerSummary {
  peerId: string;
  inbound: boolean;
}

export type { Balances };

export interface GraphSummary {
  /**
   * Announced channels; `oneToTwo` / `twoToOne` say whether we hold node1's / node2's channel_update,
   * without which a router cannot use that direction.
   */
  channels: Array<{
    shortChannelId: bigint;
    node1: string;
    node2: string;
    capacitySat: bigint | undefined;
    oneToTwo: boolean;
    twoToOne: boolean;
  }>;
  /** Nodes in the graph; `alias` only for those whose node_announcement we have. */
  nodes: Array<{ nodeId: string; announced: boolean; alias: string | undefined }>;
}

export type { SentPayment } from './payment/outbound.ts';
export type { RouteHintHop } from './payment/route.ts';

const NETWORKS: Record<Network, { ldk: ldk.Network; currency: ldk.Currency }> = {
  bitcoin: { ldk: ldk.Network.LDKNetwork_Bitcoin, currency: ldk.Currency.LDKCurrency_Bitcoin },
  testnet: { ldk: ldk.Network.LDKNetwork_Testnet, currency: ldk.Currency.LDKCurrency_BitcoinTestnet },
  signet: { ldk: ldk.Network.LDKNetwork_Signet, currency: ldk.Currency.LDKCurrency_Signet },
  regtest: { ldk: ldk.Network.LDKNetwork_Regtest, currency: ldk.Currency.LDKCurrency_Regtest },
};
const CHAIN_NETWORK: Record<Network, BitcoinNetwork> = {
  bitcoin: 'mainnet',
  testnet: 'testnet',
  signet: 'signet',
  regtest: 'regtest',
};
const LOG_LEVELS: LogLevel[] = ['gossip', 'trace', 'debug', 'info', 'warn', 'error'];
const NODE_ANNOUNCEMENT_EVERY_MS = 60 * 60_000;
const WASM_MEMORY_CHECK_MS = 10_000;
/**
 * Longest the manager snapshot after acknowledgements waits to ride with another write
 * (persist/manager-snapshot.ts). Under traffic one comes within a round trip; an idle node writes
 * its manager a second later.
 */
const MANAGER_SNAPSHOT_DELAY_MS = 1_000;

/** Assembles and starts a node: restores it from `store` if it holds one, else creates it. */
export async function createNode(options: NodeOptions): Promise<LightningNode> {
  assertLdkReady();
  if (!(options.seed instanceof Uint8Array) || options.seed.length !== 32) {
    throw new NodeError('INVALID_INPUT', '"seed" expected 32 bytes');
  }
  const network = NETWORKS[options.network];
  if (!network) throw new NodeError('INVALID_INPUT', `unknown network ${String(options.network)}`);
  if (options.recoverChannels !== undefined && typeof options.recoverChannels !== 'boolean')
    throw new NodeError(
      'INVALID_INPUT',
      `"recoverChannels" expected a boolean, got ${typeof options.recoverChannels}`,
    );
  const logSink: LogSink = options.log ?? (() => {});
  const minLevel = LOG_LEVELS.indexOf(options.logLevel ?? 'warn');
  const chainLog: ChainLog = (level, message, fields) =>
    LOG_LEVELS.indexOf(level) >= minLevel &&
    logSink({
      level: level === 'debug' ? 'debug' : level,
      module: 'lpw::chain',
      line: 0,
      message: fields
        ? `${message} ${JSON.stringify(fields, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`
        : message,
    });
  const source = chainSourceOf(options.chain, CHAIN_NETWORK[options.network], chainLog);
  // refuse to start on the wrong chain before anything is read or written
  await assertNetwork(source, CHAIN_NETWORK[options.network]);
  startMark('node-network');
  const data = await options.store.load();
  // the checked header chain from the last start: only newer headers are fetched
  if (source instanceof CheckedChainSource)
    source.keepHeaders(data.get(HEADERS_KEY), (record) =>
      options.store.commit([{ key: HEADERS_KEY, value: record }]),
    );
  const fees = new ChainFeeEstimator({
    source,
    log: chainLog,
    ...(options.feeOverrides ? { overrides: options.feeOverrides } : {}),
    trustFunderFeerate: options.role === 'wallet', // fee policy: config.ts
  });
  await fees.refresh();
  startMark('node-fees');
  const broadcaster = new ChainBroadcaster({ source, log: chainLog });
  const tip = await source.tip();
  startMark('node-headers');
  const chainSync = new ChainSync({ source, log: chainLog });
  const storedHeight = data.get(SYNCED_HEIGHT_KEY);
  const wallet = await OnchainWallet.open({
    seed: options.seed,
    network: CHAIN_NETWORK[options.network],
    source,
    broadcaster,
    store: options.store,
    stored: data,
    birthHeight: storedHeight ? decodeHeight(storedHeight) : tip.height,
    log: chainLog,
  });
  startMark('node-onchain-wallet');
  const node = new LightningNode(options, data, {
    source,
    fees,
    broadcaster,
    chainSync,
    wallet,
    tip,
    logSink,
    chainLog,
  });
  startMark('node-ldk-restored');
  await node.start(data);
  startMark('node-synced');
  return node;
}

function chainSourceOf(chain: ChainOption, network: BitcoinNetwork, log: ChainLog): ChainSource {
  if (chain && typeof chain === 'object') {
    if ('esploraUrl' in chain && typeof chain.esploraUrl === 'string') {
      const esplora = (url: string) =>
        esploraSource({ url, ...(chain.timeoutMs ? { timeoutMs: chain.timeoutMs } : {}) });
      const primary = esplora(chain.esploraUrl);
      if (!chain.checked && !chain.secondEsploraUrl) return primary;
      return checkedSource({
        primary,
        ...(chain.secondEsploraUrl ? { second: esplora(chain.secondEsploraUrl) } : {}),
        network,
        log,
      });
    }
    if ('bitcoindUrl' in chain && typeof chain.bitcoindUrl === 'string')
      return bitcoindSource({
        url: chain.bitcoindUrl,
        ...(chain.auth ? { auth: chain.auth } : {}),
        ...(chain.timeoutMs ? { timeoutMs: chain.timeoutMs } : {}),
      });
    if ('tip' in chain && typeof chain.tip === 'function') return chain;
  }
  throw new NodeError(
    'INVALID_INPUT',
    '"chain" expected { esploraUrl }, { bitcoindUrl, auth } or a ChainSource',
  );
}

const encodeHeight = (height: number): Uint8Array => new TextEncoder().encode(String(height));
const decodeHeight = (bytes: Uint8Array): number => {
  const height = Number(new TextDecoder().decode(bytes));
  if (!Number.isSafeInteger(height) || height < 0)
    throw new NodeError('RESTORE_FAILED', 'stored chain height unreadable');
  return height;
};

/** The chain and wallet parts createNode builds (asynchronously) before the node itself. */
interface ChainParts {
  source: ChainSource;
  fees: ChainFeeEstimator;
  broadcaster: ChainBroadcaster;
  chainSync: ChainSync;
  wallet: OnchainWallet;
  tip: BlockRef;
  logSink: LogSink;
  /** logSink for the chain and wallet layers, filtered by the node's log level. */
  chainLog: ChainLog;
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
  /** Keysend payments: send (id once the record is durable), then `outcome(id)`. */
  readonly spontaneousPayment: SpontaneousPayment;
  /** The chain source this node reads and broadcasts through. */
  readonly chainSource: ChainSource;
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

  private readonly options: NodeOptions;
  private readonly bus: EventBus;
  private readonly retainer = new Retainer();
  private readonly scheduler: Scheduler;
  private readonly now: () => number;
  private readonly random: (length: number) => Uint8Array;
  private readonly queue: CommitQueue;
  private readonly persister: MonitorPersister;
  private readonly managerSnapshots: ManagerSnapshots;
  private readonly payments: PaymentStore;
  private readonly pump: Pump;
  private readonly logger: ldk.Logger;
  private readonly logSink: LogSink;
  // chain layer: held for the node's life (LDK holds their trait objects only weakly)
  private readonly fees: ChainFeeEstimator;
  private readonly broadcaster: ChainBroadcaster;
  private readonly chainSync: ChainSync;
  private readonly sweeper: Sweeper;
  private readonly keys: ldk.KeysManager;
  private readonly signerProvider: ldk.SignerProvider;
  private readonly cm: ldk.ChannelManager;
  private readonly chainMonitor: ldk.ChainMonitor;
  private readonly pm: ldk.PeerManager;
  private readonly graph: ldk.NetworkGraph;
  private readonly scorer: ldk.ProbabilisticScorer;
  private readonly config: ldk.UserConfig;
  /** Set once fees change at runtime: inbound channels take the manager's default from its start. */
  private feesFollowNewChannels: (() => void) | undefined;
  private readonly gossip: boolean;
  private readonly connections = new Set<PeerConnection>();
  private stopped = false;
  private stopping = false;
  private syncing: Promise<SyncReport> | null = null;
  private syncAgain: Promise<SyncReport> | null = null;
  /** Public channels (scids) in our graph when we last sent a node_announcement, and when. */
  private announced = { scids: '', atMs: 0 };
  /** Best-block heights of the ChannelMonitors read at start (where a block scan must begin). */
  private restoredMonitorHeights: number[] = [];
  private readonly recoveryRecords: RecoveryRecord[];
  private readonly recovery: RecoveryTracker;
  private lastSyncAtMs: number | undefined;
  private chainViewFailure: { code: ChainErrorCode; message: string } | undefined;
  private lastSyncHeight: number | undefined;

  /** @internal use createNode() */
  constructor(options: NodeOptions, data: Map<string, Uint8Array>, parts: ChainParts) {
    this.options = options;
    this.role = options.role;
    this.network = options.network;
    const network = NETWORKS[options.network];
    this.scheduler = options.scheduler ?? defaultScheduler();
    this.now = options.clock ?? (() => Date.now());
    this.random = options.randomBytes ?? defaultRandomBytes;
    this.bus = new EventBus((fn) => this.scheduler.defer(fn));
    this.gossip = options.gossip ?? options.role !== 'wallet';
    this.chainSource = parts.source;
    this.fees = parts.fees;
    this.broadcaster = parts.broadcaster;
    this.chainSync = parts.chainSync;
    this.onchain = parts.wallet;
    const retainer = this.retainer;
    retainer.keep(parts);
    const onCallbackError: CallbackErrorSink = (where, error) =>
      this.bus.emit({
        kind: 'error',
        code: 'CALLBACK_FAILED',
        message: `${where}: ${error instanceof Error ? error.message : String(error)}`,
        cause: error,
      });

    const logSink = parts.logSink;
    this.logSink = logSink;
    this.logger = createLogger(options.logLevel ?? 'warn', logSink, retainer, onCallbackError);
    const feeEstimator = retainer.keep(this.fees.ldk);
    const broadcaster = retainer.keep(this.broadcaster.ldk);

    this.queue = new CommitQueue({
      store: options.store,
      onError: (error) =>
        this.bus.emit({ kind: 'error', code: error.code, message: error.message, cause: error }),
      onCommitted: () => {
        // Acknowledgements just queued MonitorEvent::Completed: the manager processes them now, in
        // the same turn, before LDK can generate another update for the channel. Its in-flight list
        // is then empty, so it runs the completion actions (a claim's PaymentClaimed, which ends
        // "being claimed"); later they would wait for the next update to complete, and a snapshot
        // cut meanwhile would list a payment as being claimed whose preimage update is no longer in
        // flight — a state restore's fallback cannot undo.
        this.managerSnapshots.processAcknowledgements();
        this.pump?.wake();
      },
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
    this.recoveryRecords = decodeRecords(data.get(RECOVERY_KEY));
    this.recovery = new RecoveryTracker(
      this.recoveryRecords,
      this.onchain,
      this.chainSource,
      () => new Set(this.chainMonitor.list_monitors().map((m) => outpointKey(m.get_a()))),
    );
    // a restored state may be revoked: our commitment of a recovery channel is never published,
    // not even when LDK would go on chain for an HTLC of that state about to time out
    this.broadcaster.addVeto((inputs) =>
      inputs.some((i) => this.recoveryRecords.some((r) => r.fundingTxo === `${i.txid}:${i.vout}`))
        ? 'spends the funding of a channel restored from a backup: only the peer may close it'
        : undefined,
    );
    const syncedAt = data.get(SYNCED_AT_KEY);
    this.lastSyncAtMs = syncedAt ? decodeHeight(syncedAt) : undefined;
    const syncedHeight = data.get(SYNCED_HEIGHT_KEY);
    this.lastSyncHeight = syncedHeight ? decodeHeight(syncedHeight) : undefined;

    this.chainMonitor = retainer.keep(
      ldk.ChainMonitor.constructor_new(
        retainer.keep(ldk.Option_FilterZ.constructor_some(retainer.keep(this.chainSync.filter.ldk))),
        broadcaster,
        this.logger,
        feeEstimator,
        this.persister.persist,
      ),
    );
    this.persister.attach(this.chainMonitor);

    // start time unique per start (ephemeral keys); the node key comes from the seed alone
    const ldkSeed = keysManagerSeed(options.seed);
    const startMs = this.now();
    const nanos =
      (startMs % 1000) * 1_000_000 + (new DataView(this.random(4).buffer).getUint32(0) % 1_000_000);
    this.keys = retainer.keep(
      ldk.KeysManager.constructor_new(ldkSeed, BigInt(Math.floor(startMs / 1000)), nanos),
    );
    this.signerProvider = createWalletSignerProvider(
      this.keys,
      this.onchain,
      retainer,
      onCallbackError,
      this.random,
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
    if (options.forwardingFees) {
      assertForwardingFees(options.forwardingFees);
      setDefaultForwardingFees(this.config, options.forwardingFees);
    }

    this.cm = retainer.keep(this.restoreOrCreateManager(data, network.ldk, router, messageRouter, parts.tip));
    this.nodeId = toHex(this.cm.get_our_node_id());

    // bitcoind block scan: start below every confirmable's best block (Esplora ignores it)
    let startHeight = this.cm.current_best_block().get_height();
    for (const height of this.restoredMonitorHeights) startHeight = Math.min(startHeight, height);
    const synced = data.get(SYNCED_HEIGHT_KEY);
    if (synced) startHeight = Math.min(startHeight, decodeHeight(synced));
    this.chainSync.setStartHeight(startHeight);

    this.sweeper = Sweeper.open({
      keysManager: this.keys,
      wallet: this.onchain,
      broadcaster: this.broadcaster,
      fees: this.fees,
      filter: this.chainSync.filter,
      logger: this.logger,
      bestBlock: parts.tip,
      store: options.store,
      stored: data,
      // shutdown and destination scripts are the wallet's (signer-provider.ts): static outputs need no sweep
      excludeStaticOutputs: true,
      log: parts.chainLog,
    });
    retainer.keep(this.sweeper);
    this.onchainPayment = new OnchainPayment({
      wallet: this.onchain,
      fees: this.fees,
      network: options.network,
      balances: () => this.balances(),
      assertRunning: () => this.assertRunning(),
    });
    const outbound: OutboundContext = {
      channelManager: this.cm,
      payments: this.payments,
      queue: this.queue,
      bus: this.bus,
      scheduler: this.scheduler,
      now: this.now,
      random: this.random,
      wake: () => this.pump.wake(),
      assertRunning: () => this.assertRunning(),
      assertCanSend: (totalMsat) => this.assertCanSend(totalMsat),
      assertFeesAllow: (amountMsat) => this.assertFeesAllow(amountMsat),
    };
    this.bolt11Payment = new Bolt11Payment(outbound, network.currency);
    this.spontaneousPayment = new SpontaneousPayment(outbound);

    // Manager snapshot rule (see manager-snapshot.ts): any batch carrying monitor writes also
    // carries a manager written after them; the one acknowledgements alone ask for is deferred.
    this.managerSnapshots = new ManagerSnapshots({
      queue: this.queue,
      persister: this.persister,
      takeNeedsPersistence: () => bool(this.cm.get_and_clear_needs_persistence()),
      write: () => this.cm.write(),
      processAcked: () => this.pump?.processManagerEvents(),
      setTimer: (fn, ms) => this.scheduler.setTimeout(fn, ms),
      clearTimer: (handle) => this.scheduler.clearTimeout(handle),
      delayMs: MANAGER_SNAPSHOT_DELAY_MS,
    });

    const ignoring = retainer.keep(ldk.IgnoringMessageHandler.constructor_new());
    const routing = this.gossip
      ? retainer
          .keep(
            ldk.P2PGossipSync.constructor_new(
              this.graph,
              ldk.Option_UtxoLookupZ.constructor_none(),
              this.logger,
            ),
          )
          .as_RoutingMessageHandler()
      : ignoring.as_RoutingMessageHandler();
    this.pm = retainer.keep(
      ldk.PeerManager.constructor_new(
        this.cm.as_ChannelMessageHandler(),
        retainer.keep(routing),
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

    const syncEvery = options.chainSyncIntervalMs ?? (options.role === 'wallet' ? 30_000 : 10_000);
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
            bus: this.bus,
            fundChannel: async (request) => {
              const built = await this.onchain.buildFundingTx(
                request.outputScript,
                request.valueSat,
                this.fees.satPerKw('NonAnchorChannelFee'),
              );
              return built.raw;
            },
            releaseFunding: (tx) => this.releaseFunding(tx),
            trackSpendable: (outputs, channelId) => {
              const durable = this.sweeper.track(outputs, channelId);
              // not durable yet (async store): LDK replays the event; wake once the write landed
              if (!durable) void this.sweeper.flushed().then(() => this.pump.wake());
              return durable;
            },
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
        {
          name: 'WASM memory guard',
          everyMs: WASM_MEMORY_CHECK_MS,
          run: wasmMemoryWatch(({ usedBytes, limitBytes }) => {
            const message = `LDK WASM memory at ${Math.round(usedBytes / 1048576)} of ${Math.round(limitBytes / 1048576)} MiB: it never shrinks and the process dies at the limit; restart it before`;
            logSink({ level: 'warn', module: 'lpw::memory', line: 0, message });
            this.bus.emit({ kind: 'wasm-memory-high', usedBytes, limitBytes });
          }),
        },
        {
          name: 'persist graph and scorer',
          everyMs: options.graphPersistIntervalMs ?? 10 * 60_000,
          run: () => this.persistGraphAndScorer(),
        },
        ...(this.gossip
          ? [{ name: 'node announcement', everyMs: 2_000, run: () => this.announceNodeIfDue() }]
          : []),
        ...(syncEvery > 0
          ? [
              {
                name: 'chain sync',
                everyMs: syncEvery,
                // a failed sync (source unreachable) is logged and retried on the next tick
                run: () =>
                  this.syncChain().then(
                    () => {},
                    (error: unknown) =>
                      logSink({
                        level: 'warn',
                        module: 'lpw::chain',
                        line: 0,
                        message: `chain sync failed, retrying next tick: ${String(error)}`,
                      }),
                  ),
              },
            ]
          : []),
      ],
    });

    const confirmables = [
      retainer.keep(this.cm.as_Confirm()),
      retainer.keep(this.chainMonitor.as_Confirm()),
      this.sweeper.confirm,
    ];
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
    if (this.options.recoverChannels) {
      // before any peer can connect (createNode has not returned): closed, durable, then online
      this.recoveryRecords.push(...closeChannelsForRecovery(this.cm, this.now()));
      this.queue.write(RECOVERY_KEY, encodeRecords(this.recoveryRecords));
      this.pump.step(); // the monitors' close updates and the manager without the channels
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

  /**
   * Bring LDK (ChannelManager, ChainMonitor, OutputSweeper) to the chain tip, then refresh fee
   * estimates, rebroadcast what is not buried yet and sync the on-chain wallet. The sync a call
   * returns reads the tip after the call: a call made while one runs gets one more sync after it,
   * shared by every call made meanwhile (else a block announced mid-sync is missed until the next
   * periodic sync, and LDK never sees it as its best block). Throws ChainError when the source
   * fails (the periodic sync logs and retries).
   */
  syncChain(): Promise<SyncReport> {
    if (this.stopping) return Promise.reject(new NodeError('NODE_STOPPED'));
    if (this.syncing) {
      this.syncAgain ??= this.syncing
        .catch(() => {})
        .then(() => {
          this.syncAgain = null;
          return this.syncChain();
        });
      return this.syncAgain;
    }
    this.syncing = (async () => {
      try {
        // fees first: claims LDK builds for the new blocks use today's estimates, and pending ones
        // are re-bumped to them (a rising mempool minimum shows in the estimates)
        await this.fees.refresh();
        const report = await this.chainSync.sync(this.ldk.confirmables);
        this.chainMonitor.archive_fully_resolved_channel_monitors();
        this.chainMonitor.rebroadcast_pending_claims();
        this.pump.wake();
        await this.broadcaster.rebroadcast(report.tip.height);
        await this.onchain.sync();
        await this.onchain.rebroadcastLocal();
        if (await this.recovery.refresh(report.tip.height))
          this.bus.emit({ kind: 'recovery-changed', channels: this.recovery.status() });
        this.lastSyncAtMs = this.now();
        this.lastSyncHeight = report.tip.height;
        if (!this.stopped) {
          this.queue.write(SYNCED_HEIGHT_KEY, encodeHeight(report.tip.height));
          this.queue.write(SYNCED_AT_KEY, encodeHeight(this.lastSyncAtMs));
        }
        this.noteChainView(undefined);
        return report;
      } catch (error) {
        this.noteChainView(error);
        throw error;
      } finally {
        this.syncing = null;
        this.pump.wake();
      }
    })();
    return this.syncing;
  }

  /** A failed chain-view check (or its end) becomes `chain-view-changed`; other failures pass by. */
  private noteChainView(error: unknown): void {
    if (error !== undefined && !isChainCheckFailure(error)) return;
    const failure = error && { code: error.code, message: error.message };
    if (failure?.message === this.chainViewFailure?.message) return;
    this.chainViewFailure = failure;
    this.bus.emit({ kind: 'chain-view-changed', ok: !failure, ...failure });
  }

  /** A fresh receive address of the on-chain wallet (BIP 84, never handed out twice). */
  newAddress(): Promise<string> {
    this.assertRunning();
    return this.onchain.newAddress();
  }

  // ---------------------------------------------------------------- gossip

  /** LDK's WASM memory, shared by every node in this process (the guard warns above 70%). */
  wasmMemory(): WasmMemoryUsage | undefined {
    return wasmMemoryUsage();
  }

  /**
   * Paths from this node to `payeeNodeId` on its own graph and scorer, its usable channels first
   * (an LSP answering routes.find); NodeError ROUTE_NOT_FOUND when there is none.
   */
  findRoute(request: RouteRequest): FoundPath[] {
    this.assertRunning();
    return findRoute(
      {
        channelManager: this.cm,
        graph: this.graph,
        scorer: this.scorer,
        logger: this.logger,
        random: this.random,
      },
      request,
    );
  }

  /** What our network graph holds (from gossip, restored from the store at start). */
  graphSummary(): GraphSummary {
    const view = this.graph.read_only();
    try {
      const channels: GraphSummary['channels'] = [];
      for (const scid of view.list_channels()) {
        const info = view.channel(scid);
        if (isNullPointer(info)) continue;
        channels.push({
          shortChannelId: scid,
          node1: toHex(info.get_node_one().as_slice()),
          node2: toHex(info.get_node_two().as_slice()),
          capacitySat: someOf<bigint>(info.get_capacity_sats()),
          oneToTwo: !isNullPointer(info.get_one_to_two()),
          twoToOne: !isNullPointer(info.get_two_to_one()),
        });
      }
      const nodes: GraphSummary['nodes'] = [];
      for (const id of view.list_nodes()) {
        const info = view.node(id);
        const announcement = isNullPointer(info)
          ? undefined
          : someOf<ldk.NodeAnnouncementInfo>(info.get_announcement_info());
        nodes.push({
          nodeId: toHex(id.as_slice()),
          announced: announcement !== undefined,
          alias: announcement ? aliasText(announcement.alias().get_a()) : undefined,
        });
      }
      return { channels, nodes };
    } finally {
      // the view holds the graph's read lock until freed (its finalizer throws instead of freeing)
      view.free();
    }
  }

  /**
   * LDK relays a node_announcement only for nodes with an announced channel: send ours once our
   * public channels are in the graph, again when that set changes, and hourly.
   */
  private announceNodeIfDue(): void {
    if (this.stopped) return;
    const scids: bigint[] = [];
    const view = this.graph.read_only();
    const open = this.cm.list_channels();
    try {
      for (const c of open) {
        const scid = withLdk((own) => someOf<bigint>(own(c.get_short_channel_id())));
        if (!bool(c.get_is_announced()) || scid === undefined) continue;
        if (withLdk((own) => !isNullPointer(own(view.channel(scid))))) scids.push(scid);
      }
    } finally {
      view.free();
      freeLdk(open);
    }
    if (scids.length === 0) return;
    const key = scids.sort().join(',');
    const nowMs = this.now();
    if (key === this.announced.scids && nowMs - this.announced.atMs < NODE_ANNOUNCEMENT_EVERY_MS) return;
    this.announced = { scids: key, atMs: nowMs };
    const alias = new Uint8Array(32);
    alias.set(new TextEncoder().encode(this.options.alias ?? '').slice(0, 32));
    const addresses = (this.options.announceAddresses ?? []).map((a) =>
      ldk.SocketAddress.constructor_tcp_ip_v4(ipv4Bytes(a.host), a.port),
    );
    this.pm.broadcast_node_announcement(new Uint8Array([0x33, 0x66, 0x99]), alias, addresses);
    this.pump.wake();
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
    // the wallet funds it from confirmed coins (plus a fee, checked when the funding tx is built)
    const confirmedSat = this.onchain.balance().confirmedSat;
    if (confirmedSat < request.capacitySat)
      throw new NodeError(
        'INSUFFICIENT_BALANCE',
        `a ${request.capacitySat} sat channel needs more than the wallet's ${confirmedSat} confirmed sat`,
      );
    const override = buildUserConfig(this.role, this.options.configure);
    setDefaultForwardingFees(override, this.forwardingFees());
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
    withLdk((own) => {
      const channel = own(this.cm.list_channels()).find(
        (c) => channelIdHex(c.get_channel_id()) === channelId.toLowerCase(),
      );
      if (!channel) throw new NodeError('CHANNEL_NOT_FOUND', channelId);
      const peer = channel.get_counterparty().get_node_id();
      const result = own(
        options.force
          ? this.cm.force_close_broadcasting_latest_txn(channel.get_channel_id(), peer, 'closed by user')
          : this.cm.close_channel(channel.get_channel_id(), peer),
      );
      expectOk(result, 'CHANNEL_CLOSING_FAILED', 'close channel');
    });
    this.pump.wake();
  }

  /**
   * Routing fees on every channel: applied to the channels there are now (LDK announces the change)
   * and to channels opened from now on, ours and the peers'. Not persisted here: pass them again as
   * `forwardingFees` at the next start. Returns how many channels changed.
   */
  setForwardingFees(fees: ForwardingFees): number {
    this.assertRunning();
    assertForwardingFees(fees);
    setDefaultForwardingFees(this.config, fees);
    // a listener that throws becomes an 'error' event (EventBus)
    this.feesFollowNewChannels ??= this.on('channel-pending', () => {
      if (updateChannelForwardingFees(this.cm, this.forwardingFees()) > 0) this.pump.wake();
    });
    const changed = updateChannelForwardingFees(this.cm, fees);
    this.pump.wake();
    return changed;
  }

  /** The routing fees new channels get (the manager's default channel config). */
  forwardingFees(): ForwardingFees {
    return defaultForwardingFees(this.config);
  }

  listChannels(): ChannelSummary[] {
    return withLdk((own) => own(this.cm.list_channels()).map((c) => channelSummary(c, own)));
  }

  /** Every balance in its one bucket (balances.ts): what the CLI and the PWA show. */
  balances(): Balances {
    return computeBalances({
      channelManager: this.cm,
      chainMonitor: this.chainMonitor,
      wallet: this.onchain,
      sweeper: this.sweeper,
      settlement: this.recovery.settlement(),
      paid: (paymentHash) => this.payments.get(paymentHash)?.status === 'succeeded',
      spendOf: (outpoint) => {
        const confirmed = this.chainSync.confirmedSpend(outpoint);
        const mine = this.broadcaster.spenderOf(outpoint);
        if (confirmed) return { ...confirmed, ours: mine?.txid === confirmed.txid };
        return mine && { ...mine, ours: true };
      },
    });
  }

  /**
   * Network fees as they bear on the person now: whether small payments must wait (and under how
   * much), and what closing would cost. For the wallet's notice and the close confirmation.
   */
  feeWeather(): FeeWeatherReport {
    return withLdk((own) => {
      const open = own(this.cm.list_channels());
      return feeWeatherReport({
        nextBlockSatPerKw: this.fees.satPerKw('MaximumFeeEstimate'),
        commitmentSatPerKw: this.fees.satPerKw('NonAnchorChannelFee'),
        dayAheadSatPerKw: this.fees.satPerKw('ChannelCloseMinimum'),
        sweepSatPerKw: this.fees.satPerKw('OutputSpendingFee'),
        channels: open.map((c) => ({
          feerateSatPerKw: someOf<number>(own(c.get_feerate_sat_per_1000_weight())) ?? 0,
          weFund: bool(c.get_is_outbound()),
          usable: bool(c.get_is_usable()),
          nonDustHtlcs: [
            ...own(c.get_pending_inbound_htlcs()),
            ...own(c.get_pending_outbound_htlcs()),
          ].filter((h) => !bool(h.get_is_dust())).length,
        })),
      });
    });
  }

  /**
   * Throws NodeError FEES_TOO_HIGH ("network fees are high right now; payments under N sats wait")
   * when a wallet's payment of `amountMsat` would be a dust HTLC while fees are high (fee-policy.ts).
   * payInvoice and keysend check it; code that sends through LDK itself (streams) should too.
   */
  assertFeesAllow(amountMsat: bigint): void {
    if (this.role !== 'wallet') return;
    const channels = withLdk((own) =>
      own(this.cm.list_usable_channels()).map((c) => ({
        feerateSatPerKw: someOf<number>(own(c.get_feerate_sat_per_1000_weight())) ?? 0,
        dustInFlightMsat: own(c.get_pending_outbound_htlcs()).reduce(
          (n, h) => (bool(h.get_is_dust()) ? n + h.get_amount_msat() : n),
          0n,
        ),
      })),
    );
    assertPaymentNotDust(amountMsat, channels);
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
    return this.recovery.status();
  }

  /** When the chain was last watched, against the delay a revoked commitment must be caught in. */
  chainWatch(): ChainWatch {
    const toSelfDelayBlocks = this.config.get_channel_handshake_config().get_our_to_self_delay();
    return {
      lastSyncAtMs: this.lastSyncAtMs,
      lastSyncHeight: this.lastSyncHeight,
      toSelfDelayBlocks,
      checked: this.chainSource instanceof CheckedChainSource,
      compared: this.chainSource instanceof CheckedChainSource && this.chainSource.compared,
      failure: this.chainViewFailure,
      warnAtMs:
        this.lastSyncAtMs === undefined ? undefined : this.lastSyncAtMs + (toSelfDelayBlocks / 2) * 600_000,
    };
  }

  // ---------------------------------------------------------------- receiving

  /** A BOLT 11 invoice from LDK (route hints from our channels). */
  createInvoice(request: {
    amountMsat?: bigint;
    description: string;
    expirySecs: number;
    minFinalCltvExpiryDelta?: number;
    /** Commit to SHA-256 of `description` instead of carrying it (LNURL-pay's metadata, LUD-06). */
    hashDescription?: boolean;
    /**
     * Keep no payment record until it is paid (LDK's invoices need no state to be claimed): for
     * invoices handed to anyone who asks (an L402 challenge), which mostly go unpaid.
     */
    stateless?: boolean;
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
    const { paymentHash, bolt11, expiresAt } = withLdk((own) => {
      const invoiceDescription = own(
        request.hashDescription
          ? ldk.Bolt11InvoiceDescription.constructor_hash(
              own(ldk.Sha256.constructor_from_bytes(sha256(new TextEncoder().encode(request.description)))),
            )
          : ldk.Bolt11InvoiceDescription.constructor_direct(
              unwrap<ldk.Description>(
                own(ldk.Description.constructor_new(request.description)),
                'INVALID_INPUT',
                'description',
              ),
            ),
      );
      const invoice = unwrap<ldk.Bolt11Invoice>(
        own(
          this.cm.create_bolt11_invoice(
            own(optionU64(request.amountMsat)),
            invoiceDescription,
            own(optionU32(request.expirySecs)),
            own(optionU16(request.minFinalCltvExpiryDelta)),
            own(option32Bytes(undefined)),
          ),
        ),
        'INVOICE_CREATION_FAILED',
        'create_bolt11_invoice',
      );
      return {
        paymentHash: toHex(invoice.payment_hash()),
        bolt11: invoice.to_str(),
        expiresAt: Number(invoice.duration_since_epoch() + invoice.expiry_time()) * 1000,
      };
    });
    if (request.stateless) return { bolt11, paymentHash, expiresAt };
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
    const { paymentHash, paymentSecret } = withLdk((own) => {
      const pair = unwrap<ldk.TwoTuple_ThirtyTwoBytesThirtyTwoBytesZ>(
        own(
          this.cm.create_inbound_payment(
            own(optionU64(request.amountMsat)),
            request.expirySecs,
            own(optionU16(undefined)),
          ),
        ),
        'INVOICE_CREATION_FAILED',
        'create_inbound_payment',
      );
      return { paymentHash: toHex(pair.get_a()), paymentSecret: toHex(pair.get_b()) };
    });
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
    return { paymentHash, paymentSecret };
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
    if (this.stopped || this.stopping) return;
    this.stopping = true; // no new chain sync starts from here
    this.managerSnapshots.immediate = true; // the last snapshot is not deferred
    this.pm.disconnect_all_peers();
    for (const conn of this.connections) conn.shutdown();
    // a sync in flight still feeds LDK (monitor writes): let it finish before the last snapshot
    await this.syncing?.catch(() => {});
    this.pump.step(); // last events and the final manager snapshot into the queue
    this.stopped = true;
    this.pump.stop();
    this.persistGraphAndScorer();
    await this.queue.drain();
    while (this.persister.pendingAcks > 0 || this.queue.busy) await this.queue.drain();
    await this.sweeper.flushed();
    await this.onchain.flushed();
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
    tip: BlockRef,
  ): ldk.ChannelManager {
    const managerBytes = data.get(MANAGER_KEY);
    if (!managerBytes) {
      if ([...data.keys()].some((k) => k.startsWith(MONITOR_PREFIX))) {
        throw new NodeError('RESTORE_FAILED', 'store holds channel monitors but no channel manager');
      }
      return ldk.ChannelManager.constructor_new(
        this.fees.ldk,
        this.chainMonitor.as_Watch(),
        this.broadcaster.ldk,
        router.as_Router(),
        messageRouter.as_MessageRouter(),
        this.logger,
        this.keys.as_EntropySource(),
        this.keys.as_NodeSigner(),
        this.signerProvider,
        this.config,
        ldk.ChainParameters.constructor_new(
          network,
          ldk.BestBlock.constructor_new(hashFromDisplay(tip.hash), tip.height),
        ),
        Math.floor(this.now() / 1000),
      );
    }
    // Restore order: monitors (with their stored updates), then the manager, then watch_channel.
    // restore.ts falls back to leaving the manager's in-flight updates out of the monitors when
    // LDK 0.1.0 refuses the manager (a crash mid-claim): LDK replays them.
    const restored = restoreChannelState(
      data,
      managerBytes,
      {
        keys: this.keys,
        broadcaster: this.broadcaster.ldk,
        feeEstimator: this.fees.ldk,
        logger: this.logger,
      },
      (monitors) =>
        ldk.UtilMethods.constructor_C2Tuple_ThirtyTwoBytesChannelManagerZ_read(
          managerBytes,
          this.keys.as_EntropySource(),
          this.keys.as_NodeSigner(),
          this.signerProvider,
          this.fees.ldk,
          this.chainMonitor.as_Watch(),
          this.broadcaster.ldk,
          router.as_Router(),
          messageRouter.as_MessageRouter(),
          this.logger,
          this.config,
          monitors,
        ),
      (message) => this.logSink({ level: 'error', module: 'lpw::persist', line: 0, message }),
    );
    const manager = restored.manager;
    const monitors = restored.monitors.map((m) => m.monitor);
    this.restoredMonitorHeights = monitors.map((m) => m.current_best_block().get_height());
    this.persister.restored(restored.monitors.map((m) => m.channel));
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

  /** Give a funding transaction's coins back to the wallet (LDK discarded it, or refused it). */
  private releaseFunding(tx: Uint8Array): void {
    const txid = txidOf(tx);
    this.onchain.releaseTx(txid).catch((error: unknown) =>
      this.logSink({
        level: 'error',
        module: 'lpw::node',
        line: 0,
        message: `releasing funding tx ${txid} failed: ${String(error)}`,
      }),
    );
  }

  /** Before asking LDK: enough in usable channels? (LDK would fail with RouteNotFound, less clearly.) */
  private assertCanSend(totalMsat: bigint): void {
    const usable = this.cm.list_usable_channels();
    let available = 0n;
    for (const c of usable) available += c.get_next_outbound_htlc_limit_msat();
    freeLdk(usable);
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

function reserveMsat(channel: ldk.ChannelDetails, own: Own): bigint | undefined {
  const sat = someOf<bigint>(own(channel.get_unspendable_punishment_reserve()));
  return sat === undefined ? undefined : sat * 1000n;
}

/** A node alias: UTF-8 up to the first NUL. */
function aliasText(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.slice(0, end));
}

function ipv4Bytes(host: string): Uint8Array {
  const parts = host.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new NodeError('INVALID_INPUT', `"announceAddresses" expected IPv4 hosts, got ${host}`);
  return Uint8Array.from(parts);
}

/** What the node tells about a channel; Option getters allocate, so they are owned by the caller's scope. */
function channelSummary(c: ldk.ChannelDetails, own: Own): ChannelSummary {
  const txo = c.get_funding_txo();
  return {
    channelId: channelIdHex(c.get_channel_id()),
    peerId: toHex(c.get_counterparty().get_node_id()),
    userChannelId: u128FromLdk(c.get_user_channel_id()),
    fundingTxo: isNullPointer(txo) ? undefined : outpointKey(txo),
    capacityMsat: c.get_channel_value_satoshis() * 1000n,
    outboundMsat: c.get_outbound_capacity_msat(),
    inboundMsat: c.get_inbound_capacity_msat(),
    nextOutboundHtlcLimitMsat: c.get_next_outbound_htlc_limit_msat(),
    isOutbound: bool(c.get_is_outbound()),
    isReady: bool(c.get_is_channel_ready()),
    isUsable: bool(c.get_is_usable()),
    isAnnounced: bool(c.get_is_announced()),
    confirmations: someOf<number>(own(c.get_confirmations())),
    shortChannelId: someOf<bigint>(own(c.get_short_channel_id())),
    inboundScidAlias: someOf<bigint>(own(c.get_inbound_scid_alias())),
    outboundScidAlias: someOf<bigint>(own(c.get_outbound_scid_alias())),
    ourReserveMsat: reserveMsat(c, own),
    toSelfDelay: someOf<number>(own(c.get_force_close_spend_delay())),
  };
}
