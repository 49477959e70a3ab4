// createNode(): assembles one Lightning node from explicit parts, the one place to see the whole
// node. Storage, chain source, transports, clock and randomness are injected; nothing here touches
// the DOM or Node builtins. The chain layer (chain/) supplies the one fee policy, the one
// rebroadcasting broadcaster and Confirm-based sync; the on-chain wallet (wallet/) funds channels
// and receives closed-channel money. The node's API is the LightningNode (node.ts) over the parts
// built here: channels.ts, gossip.ts, peers.ts, payment/, liquidity/intercept.ts, chain-watch.ts.
import * as ldk from 'lightningdevkit';
import { computeBalances } from './balances.ts';
import { ChainBroadcaster } from './chain/broadcaster.ts';
import { txidOf } from './chain/bytes.ts';
import { CheckedChainSource } from './chain/checked.ts';
import { ChainFeeEstimator } from './chain/fees.ts';
import { assertNetwork, type BlockRef, type ChainLog, type ChainSource } from './chain/source.ts';
import { ChainSync } from './chain/sync.ts';
import { ChainWatcher, decodeHeight } from './chain-watch.ts';
import { Channels } from './channels.ts';
import { buildUserConfig } from './config.ts';
import { CustomMessageRouter } from './custom-messages.ts';
import { NodeError } from './errors.ts';
import { changedNotice, EventBus } from './events.ts';
import { assertForwardingFees, setDefaultForwardingFees } from './forwarding-fees.ts';
import { Gossip, openGraph } from './gossip.ts';
import { createGossipHandler, type GossipHandler } from './gossip-handler.ts';
import { keysManagerSeed } from './identity.ts';
import { type CallbackErrorSink, Retainer } from './ldk/callbacks.ts';
import { assertLdkReady } from './ldk/init.ts';
import { wasmMemoryWatch } from './ldk/memory.ts';
import { createWalletSignerProvider, RestoredChannelKeys } from './ldk/signer-provider.ts';
import { createLogger, type LogSink } from './ldk/traits.ts';
import { bool, outpointKey } from './ldk/values.ts';
import { Lifecycle, randomU128 } from './lifecycle.ts';
import { HtlcIntercept } from './liquidity/intercept.ts';
import { LightningNode } from './node.ts';
import { handleLdkEvent, type InboundChannelDecision, type InboundChannelRequest } from './node-events.ts';
import { createOnionMessenger } from './onion.ts';
import {
  assertNodeOptions,
  CHAIN_NETWORK,
  chainLogOf,
  chainSourceOf,
  NETWORKS,
  type NodeOptions,
} from './options.ts';
import { Bolt11Payment } from './payment/bolt11.ts';
import { Bolt12Payment } from './payment/bolt12.ts';
import { OnchainPayment } from './payment/onchain.ts';
import type { OutboundContext } from './payment/outbound.ts';
import { ReceivePayments } from './payment/receive.ts';
import { SpontaneousPayment } from './payment/spontaneous.ts';
import { PaymentStore } from './payments.ts';
import { Peers } from './peers.ts';
import { CommitQueue } from './persist/commit-queue.ts';
import { CHAIN_SYNC_KEY, HEADERS_KEY, SYNCED_HEIGHT_KEY } from './persist/keys.ts';
import { StoredManager } from './persist/manager-chunks.ts';
import { ManagerSnapshots } from './persist/manager-snapshot.ts';
import { MonitorPersister } from './persist/monitor-persister.ts';
import { openChannelManager } from './persist/open-manager.ts';
import { Pump } from './pump.ts';
import { decodeRecords, RECOVERY_KEY, RecoveryTracker } from './recovery.ts';
import { ForwardingPeers } from './routing.ts';
import { defaultRandomBytes, defaultScheduler } from './scheduler.ts';
import { startMark } from './start-marks.ts';
import { OnchainWallet } from './wallet/onchain.ts';
import { Sweeper } from './wallet/sweeper.ts';

const WASM_MEMORY_CHECK_MS = 10_000;
/**
 * Longest the manager snapshot after acknowledgements waits to ride with another write
 * (persist/manager-snapshot.ts). Under traffic one comes within a round trip; an idle node writes
 * its manager a second later.
 */
const MANAGER_SNAPSHOT_DELAY_MS = 1_000;

/** Assembles and starts a node: restores it from `store` if it holds one, else creates it. */
export function createNode(options: NodeOptions): Promise<LightningNode> {
  return openNode(options, createGossipHandler);
}

/**
 * `createNode` for a wallet, without the code of nodes that keep a graph or count gossip: a bundle
 * that calls only this (the PWA's worker) leaves gossip-handler.ts and its LDK glue out. The node it
 * builds is the one `createNode` builds for a wallet.
 */
export function createWalletNode(options: NodeOptions): Promise<LightningNode> {
  if (options.role !== 'wallet' || options.gossip || options.countGossip)
    return Promise.reject(
      new NodeError('INVALID_INPUT', 'createWalletNode builds a wallet without gossip: use createNode'),
    );
  return openNode(options, undefined);
}

/** The gossip handler of nodes that keep a graph or count gossip; none: a wallet (IgnoringMessageHandler). */
type GossipHandlerFactory = typeof createGossipHandler;

async function openNode(
  options: NodeOptions,
  gossipHandlerOf: GossipHandlerFactory | undefined,
): Promise<LightningNode> {
  assertLdkReady();
  assertNodeOptions(options);
  const logSink: LogSink = options.log ?? (() => {});
  const chainLog = chainLogOf(logSink, options.logLevel ?? 'warn');
  const source = chainSourceOf(options.chain, CHAIN_NETWORK[options.network], chainLog);
  // refuse to start on the wrong chain before anything is written (reading the store meanwhile)
  const [, data] = await Promise.all([
    assertNetwork(source, CHAIN_NETWORK[options.network]),
    options.store.load(),
  ]);
  startMark('node-network');
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
  // two round trips at once: the fee estimates and the tip (with the headers up to it)
  const [, tip] = await Promise.all([fees.refresh(), source.tip()]);
  startMark('node-headers');
  const broadcaster = new ChainBroadcaster({ source, log: chainLog });
  // nodes with many channels read each block once instead of asking about every channel's txs
  const blockScan = options.blockScan ?? options.role !== 'wallet';
  const chainSync = new ChainSync({
    source,
    log: chainLog,
    blockScan,
    saved: data.get(CHAIN_SYNC_KEY),
  });
  const storedHeight = data.get(SYNCED_HEIGHT_KEY);
  const wallet = await OnchainWallet.open({
    seed: options.seed,
    network: CHAIN_NETWORK[options.network],
    source,
    broadcaster,
    store: options.store,
    stored: data,
    birthHeight: storedHeight ? decodeHeight(storedHeight) : tip.height,
    // an LSP reveals a script or two per channel: read each block, not every script each sync
    blockScan,
    // a restored store may be behind another device that used the same words
    fullFirstScan: options.recoverChannels === true,
    log: chainLog,
  });
  startMark('node-onchain-wallet');
  const node = assemble(options, data, gossipHandlerOf, {
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

/** The LDK objects and the node's parts, wired; the node is not started yet. */
function assemble(
  options: NodeOptions,
  data: Map<string, Uint8Array>,
  gossipHandlerOf: GossipHandlerFactory | undefined,
  parts: ChainParts,
): LightningNode {
  const network = NETWORKS[options.network];
  const scheduler = options.scheduler ?? defaultScheduler();
  const now = options.clock ?? (() => Date.now());
  const random = options.randomBytes ?? defaultRandomBytes;
  const bus = new EventBus();
  const gossipOn = options.gossip ?? options.role !== 'wallet';
  const life = new Lifecycle();
  const { source, fees, broadcaster, chainSync, wallet: onchain, logSink } = parts;
  const retainer = new Retainer();
  retainer.keep(parts);
  // built below; LDK may call back into these before the last part exists (hence the `?.`)
  let pump: Pump | undefined;
  let managerSnapshots: ManagerSnapshots | undefined;
  const wake = () => pump?.wake();
  const changed = changedNotice(
    bus,
    (fn, ms) => scheduler.setTimeout(fn, ms),
    () => life.stopped,
  );
  const onCallbackError: CallbackErrorSink = (where, error) =>
    bus.emit({
      kind: 'error',
      code: 'CALLBACK_FAILED',
      message: `${where}: ${error instanceof Error ? error.message : String(error)}`,
      cause: error,
    });

  const logger = createLogger(options.logLevel ?? 'warn', logSink, retainer, onCallbackError);
  const feeEstimator = retainer.keep(fees.ldk);
  const ldkBroadcaster = retainer.keep(broadcaster.ldk);

  const queue = new CommitQueue({
    store: options.store,
    onError: (error) => bus.emit({ kind: 'error', code: error.code, message: error.message, cause: error }),
    onCommitted: () => {
      // Acknowledgements just queued MonitorEvent::Completed: the manager processes them now, in
      // the same turn, before LDK can generate another update for the channel. Its in-flight list
      // is then empty, so it runs the completion actions (a claim's PaymentClaimed, which ends
      // "being claimed"); later they would wait for the next update to complete, and a snapshot
      // cut meanwhile would list a payment as being claimed whose preimage update is no longer in
      // flight — a state restore's fallback cannot undo.
      managerSnapshots?.processAcknowledgements();
      wake();
    },
    setTimer: (fn, ms) => scheduler.setTimeout(fn, ms),
  });
  const persister = new MonitorPersister({
    queue,
    initial: data,
    retainer,
    onCallbackError,
    requestFlush: wake,
    ...(options.compactMonitorEvery !== undefined ? { compactEvery: options.compactMonitorEvery } : {}),
  });
  const payments = new PaymentStore(data, queue, now);
  const recoveryRecords = decodeRecords(data.get(RECOVERY_KEY));
  // the monitors' outpoints are read lazily: the ChainMonitor exists only below
  let chainMonitor: ldk.ChainMonitor | undefined;
  const recovery = new RecoveryTracker(
    recoveryRecords,
    onchain,
    source,
    () => new Set((chainMonitor?.list_monitors() ?? []).map((m) => outpointKey(m.get_a()))),
  );
  // a restored state may be revoked: our commitment of a recovery channel is never published,
  // not even when LDK would go on chain for an HTLC of that state about to time out
  broadcaster.addVeto((inputs) =>
    inputs.some((i) => recoveryRecords.some((r) => r.fundingTxo === `${i.txid}:${i.vout}`))
      ? 'spends the funding of a channel restored from a backup: only the peer may close it'
      : undefined,
  );

  chainMonitor = retainer.keep(
    ldk.ChainMonitor.constructor_new(
      retainer.keep(ldk.Option_FilterZ.constructor_some(retainer.keep(chainSync.filter.ldk))),
      ldkBroadcaster,
      logger,
      feeEstimator,
      persister.persist,
    ),
  );
  const monitor = chainMonitor;
  persister.attach(monitor);

  // start time unique per start (ephemeral keys); the node key comes from the seed alone
  const ldkSeed = keysManagerSeed(options.seed);
  const startMs = now();
  const nanos = (startMs % 1000) * 1_000_000 + (new DataView(random(4).buffer).getUint32(0) % 1_000_000);
  const keys = retainer.keep(
    ldk.KeysManager.constructor_new(ldkSeed, BigInt(Math.floor(startMs / 1000)), nanos),
  );
  const restoredKeys = new RestoredChannelKeys(keys, retainer, onCallbackError);
  const signerProvider = createWalletSignerProvider(
    keys,
    onchain,
    retainer,
    onCallbackError,
    random,
    restoredKeys,
  );

  const { graph, scorer, router, messageRouter } = openGraph(data, {
    network: network.ldk,
    keys,
    logger,
    bus,
    retainer,
  });
  const config = buildUserConfig(options.role, options.configure);
  if (options.forwardingFees) {
    assertForwardingFees(options.forwardingFees);
    setDefaultForwardingFees(config, options.forwardingFees);
  }

  const opened = openChannelManager(data, {
    network: network.ldk,
    fees,
    broadcaster,
    chainMonitor: monitor,
    persister,
    router,
    messageRouter,
    logger,
    keys,
    signerProvider,
    restoredKeys,
    config,
    tip: parts.tip,
    nowMs: now(),
    logSink,
  });
  const cm = retainer.keep(opened.manager);

  // a block scan starts below every confirmable's best block
  let startHeight = cm.current_best_block().get_height();
  for (const height of opened.monitorHeights) startHeight = Math.min(startHeight, height);
  const synced = data.get(SYNCED_HEIGHT_KEY);
  if (synced) startHeight = Math.min(startHeight, decodeHeight(synced));
  chainSync.setStartHeight(startHeight);

  const sweeper = Sweeper.open({
    keysManager: keys,
    wallet: onchain,
    broadcaster,
    fees,
    filter: chainSync.filter,
    logger,
    bestBlock: parts.tip,
    store: options.store,
    stored: data,
    // shutdown and destination scripts are the wallet's (signer-provider.ts): static outputs need no sweep
    excludeStaticOutputs: true,
    log: parts.chainLog,
  });
  retainer.keep(sweeper);
  const balances = () =>
    computeBalances({
      channelManager: cm,
      chainMonitor: monitor,
      wallet: onchain,
      sweeper,
      settlement: recovery.settlement(),
      paid: (paymentHash) => payments.get(paymentHash)?.status === 'succeeded',
      spendOf: (outpoint) => {
        const confirmed = chainSync.confirmedSpend(outpoint);
        const mine = broadcaster.spenderOf(outpoint);
        if (confirmed) return { ...confirmed, ours: mine?.txid === confirmed.txid };
        return mine && { ...mine, ours: true };
      },
    });
  const assertRunning = () => life.assertRunning();
  const onchainPayment = new OnchainPayment({
    wallet: onchain,
    fees,
    network: options.network,
    balances,
    assertRunning,
  });

  const customMessages = new CustomMessageRouter({
    retainer,
    onCallbackError,
    defer: (fn) => scheduler.defer(fn),
    bus,
    life,
    isConnected: (peerId) => peers.isConnected(peerId),
    wake,
  });
  const onionMessenger = createOnionMessenger({
    channelManager: cm,
    keys,
    logger,
    graph,
    messageRouter,
    retainer,
    onCallbackError,
  });
  // a node that keeps a graph checks each channel_announcement's funding output (gossip-handler.ts)
  const gossipHandler: GossipHandler | undefined =
    gossipOn || options.countGossip
      ? gossipHandlerOf?.({
          graph: gossipOn ? graph : undefined,
          source,
          chainHash: ldk.BestBlock.constructor_from_network(network.ldk).get_block_hash(),
          channelManager: cm,
          logger,
          retainer,
          onCallbackError,
          stopped: () => life.stopped,
          wake,
          onLookupFailed: (scid, error) =>
            logSink({
              level: 'warn',
              module: 'lpw::gossip',
              line: 0,
              message: `funding output of channel ${scid} not read: ${String(error)}`,
            }),
        })
      : undefined;
  const peers: Peers = new Peers({
    channelManager: cm,
    // a wallet's: LDK's, which ignores gossip (its gossip_queries feature: custom-messages.ts)
    routingHandler:
      gossipHandler?.handler ??
      retainer.keep(retainer.keep(ldk.IgnoringMessageHandler.constructor_new()).as_RoutingMessageHandler()),
    onionMessenger,
    logger,
    keys,
    startSecs: Math.floor(startMs / 1000),
    random,
    retainer,
    onCallbackError,
    scheduler,
    now,
    life,
    wake,
    customMessageHandler: customMessages.handler,
    onTraffic: changed,
  });
  const pm = peers.peerManager;
  const channels = new Channels({
    channelManager: cm,
    config,
    role: options.role,
    configure: options.configure,
    onchain,
    fees,
    life,
    random,
    wake,
    isConnected: (peerId) => peers.isConnected(peerId),
    onChannelPending: (listener) => bus.on('channel-pending', listener),
  });
  const outbound: OutboundContext = {
    channelManager: cm,
    payments,
    queue,
    bus,
    scheduler,
    now,
    random,
    wake,
    assertRunning,
    assertCanSend: (totalMsat) => channels.assertCanSend(totalMsat),
    assertFeesAllow: (amountMsat) => channels.assertFeesAllow(amountMsat),
  };
  const forwardingPeers = new ForwardingPeers(cm, graph, now);
  bus.on('channel-pending', (e) => forwardingPeers.changed(e.peerId));
  bus.on('channel-closed', (e) => forwardingPeers.changed(e.peerId));
  const gossip = new Gossip({
    forwardingPeers,
    channelManager: cm,
    peerManager: pm,
    graph,
    scorer,
    logger,
    queue,
    life,
    now,
    random,
    wake,
    alias: options.alias,
    announceAddresses: options.announceAddresses,
  });

  // Manager snapshot rule (see manager-snapshot.ts): any batch carrying monitor writes also
  // carries a manager written after them; the one acknowledgements alone ask for is deferred.
  managerSnapshots = new ManagerSnapshots({
    queue,
    persister,
    takeNeedsPersistence: () => bool(cm.get_and_clear_needs_persistence()),
    write: () => cm.write(),
    stored: new StoredManager(data, options.managerChunks ?? options.role !== 'wallet'),
    processAcked: () => pump?.processManagerEvents(),
    setTimer: (fn, ms) => scheduler.setTimeout(fn, ms),
    clearTimer: (handle) => scheduler.clearTimeout(handle),
    delayMs: MANAGER_SNAPSHOT_DELAY_MS,
  });

  const trusted = new Set((options.trustedPeers ?? []).map((p) => p.toLowerCase()));
  const inboundPolicy =
    options.inboundChannelPolicy ??
    ((request: InboundChannelRequest): InboundChannelDecision =>
      trusted.has(request.peerId) ? 'accept-0conf' : options.role === 'wallet' ? 'reject' : 'accept');
  /** Give a funding transaction's coins back to the wallet (LDK discarded it, or refused it). */
  const releaseFunding = (tx: Uint8Array): void => {
    const txid = txidOf(tx);
    onchain.releaseTx(txid).catch((error: unknown) =>
      logSink({
        level: 'error',
        module: 'lpw::node',
        line: 0,
        message: `releasing funding tx ${txid} failed: ${String(error)}`,
      }),
    );
  };

  const confirmables = [retainer.keep(cm.as_Confirm()), retainer.keep(monitor.as_Confirm()), sweeper.confirm];
  const chain = new ChainWatcher({
    source,
    fees,
    chainSync,
    broadcaster,
    chainMonitor: monitor,
    confirmables,
    onchain,
    recovery,
    config,
    bus,
    queue,
    life,
    now,
    wake,
    changed,
    stored: data,
  });
  const syncEvery = options.chainSyncIntervalMs ?? (options.role === 'wallet' ? 30_000 : 10_000);
  const running = new Pump({
    channelManager: cm,
    chainMonitor: monitor,
    peerManager: pm,
    queue,
    scheduler,
    retainer,
    onCallbackError,
    forwardDelayMs: options.forwardDelayMs ?? 0,
    handleEvent: (event) =>
      handleLdkEvent(
        {
          channelManager: cm,
          scorer,
          payments,
          bus,
          fundChannel: async (request) => {
            const built = await onchain.buildFundingTx(
              request.outputScript,
              request.valueSat,
              fees.satPerKw('NonAnchorChannelFee'),
            );
            return built.raw;
          },
          releaseFunding,
          trackSpendable: (outputs, channelId) => {
            const durable = sweeper.track(outputs, channelId);
            // not durable yet (async store): LDK replays the event; wake once the write landed
            if (!durable) void sweeper.flushed().then(wake);
            return durable;
          },
          inboundPolicy,
          scheduleForwards: () => running.scheduleForwards(),
          defer: (fn) => scheduler.defer(fn),
          wake,
          now,
          randomU128: () => randomU128(random),
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
          bus.emit({ kind: 'wasm-memory-high', usedBytes, limitBytes });
        }),
      },
      {
        name: 'persist graph and scorer',
        everyMs: options.graphPersistIntervalMs ?? 10 * 60_000,
        run: () => gossip.persist(),
      },
      ...(gossipOn
        ? [{ name: 'node announcement', everyMs: 2_000, run: () => gossip.announceNodeIfDue() }]
        : []),
      ...(syncEvery > 0
        ? [
            {
              name: 'chain sync',
              everyMs: syncEvery,
              // a failed sync (source unreachable) is logged and retried on the next tick
              run: () =>
                chain.sync().then(
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
  pump = running;

  return new LightningNode({
    options,
    now,
    life,
    bus,
    queue,
    persister,
    managerSnapshots,
    payments,
    pump: running,
    sweeper,
    recoveryRecords,
    recovery,
    balances,
    chainSource: source,
    onchain,
    onchainPayment,
    bolt11Payment: new Bolt11Payment(outbound, options.network),
    bolt12Payment: new Bolt12Payment(
      outbound,
      options.network,
      graph,
      ldk.BestBlock.constructor_from_network(network.ldk).get_block_hash(),
    ),
    spontaneousPayment: new SpontaneousPayment(outbound),
    receive: new ReceivePayments(cm, keys, payments, life, wake, now),
    intercept: new HtlcIntercept(cm, () => running.scheduleForwards()),
    channels,
    gossip,
    gossipHandler,
    peers,
    customMessages,
    chain,
    peerHost: peers.host,
    ldk: {
      keysManager: keys,
      channelManager: cm,
      chainMonitor: monitor,
      peerManager: pm,
      networkGraph: graph,
      confirmables,
    },
  });
}
