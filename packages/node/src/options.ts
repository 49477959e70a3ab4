// What createNode takes: the node's options, the networks it knows, and the chain source a
// ChainOption names (builder.ts).
import * as ldk from 'lightningdevkit';
import { checkedSource } from './chain/checked.ts';
import { esploraSource } from './chain/esplora.ts';
import type { FeeTargetName } from './chain/fees.ts';
import type { BitcoinNetwork, ChainLog, ChainSource } from './chain/source.ts';
import type { NodeRole } from './config.ts';
import { NodeError } from './errors.ts';
import type { ForwardingFees } from './forwarding-fees.ts';
import type { LogLevel, LogSink } from './ldk/traits.ts';
import type { InboundChannelDecision, InboundChannelRequest } from './node-events.ts';
import type { Store } from './persist/store.ts';
import type { Scheduler } from './scheduler.ts';

export type Network = 'bitcoin' | 'testnet' | 'signet' | 'regtest';

/**
 * Where the node reads the chain: an Esplora REST base URL, or a ChainSource built by the caller
 * (chain/; `bitcoindSource` for bitcoind's JSON-RPC, built by its callers so that a wallet's bundle
 * carries no bitcoind client). The source is fully trusted by LDK: use your own.
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
  /**
   * Store the ChannelManager as content-defined chunks, so a commit writes only what changed
   * (persist/manager-chunks.ts). Default: every role but 'wallet', whose one or two channels make a
   * small manager that its backup, export and offline start read under the plain key.
   */
  managerChunks?: boolean;
  /**
   * Read every new block instead of asking the chain source about each watched transaction, output
   * and script (Esplora; bitcoind always reads blocks): a sync then costs per block, not per channel.
   * Default: every role but 'wallet', which may sleep for weeks and watches a handful of items.
   */
  blockScan?: boolean;
  /** Periodic chain sync (default 30 s for a wallet, 10 s otherwise; 0 = only on `syncChain()`). */
  chainSyncIntervalMs?: number;
  /** Persist the network graph and scorer this often (default 10 min; also on stop). */
  graphPersistIntervalMs?: number;
  /** Run P2P gossip (default: every role but 'wallet', which routes over its LSP and route hints). */
  gossip?: boolean;
  /**
   * Without gossip: count the gossip peers send (`gossipReceived`) in a handler that ignores it as a
   * wallet's does and sends the same init (tests prove a wallet gets none); not with createWalletNode.
   */
  countGossip?: boolean;
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

export const NETWORKS: Record<Network, { ldk: ldk.Network }> = {
  bitcoin: { ldk: ldk.Network.LDKNetwork_Bitcoin },
  testnet: { ldk: ldk.Network.LDKNetwork_Testnet },
  signet: { ldk: ldk.Network.LDKNetwork_Signet },
  regtest: { ldk: ldk.Network.LDKNetwork_Regtest },
};
export const CHAIN_NETWORK: Record<Network, BitcoinNetwork> = {
  bitcoin: 'mainnet',
  testnet: 'testnet',
  signet: 'signet',
  regtest: 'regtest',
};

export function chainSourceOf(chain: ChainOption, network: BitcoinNetwork, log: ChainLog): ChainSource {
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
    if ('tip' in chain && typeof chain.tip === 'function') return chain;
  }
  throw new NodeError(
    'INVALID_INPUT',
    '"chain" expected { esploraUrl } or a ChainSource (e.g. bitcoindSource)',
  );
}

const LOG_LEVELS: LogLevel[] = ['gossip', 'trace', 'debug', 'info', 'warn', 'error'];

/** The options createNode checks before anything is read (the rest are checked where they are used). */
export function assertNodeOptions(options: NodeOptions): void {
  if (!(options.seed instanceof Uint8Array) || options.seed.length !== 32) {
    throw new NodeError('INVALID_INPUT', '"seed" expected 32 bytes');
  }
  if (!NETWORKS[options.network])
    throw new NodeError('INVALID_INPUT', `unknown network ${String(options.network)}`);
  if (options.recoverChannels !== undefined && typeof options.recoverChannels !== 'boolean')
    throw new NodeError(
      'INVALID_INPUT',
      `"recoverChannels" expected a boolean, got ${typeof options.recoverChannels}`,
    );
}

/** `logSink` for the chain and wallet layers, filtered by the node's log level. */
export function chainLogOf(logSink: LogSink, logLevel: LogLevel): ChainLog {
  const minLevel = LOG_LEVELS.indexOf(logLevel);
  return (level, message, fields) =>
    LOG_LEVELS.indexOf(level) >= minLevel &&
    logSink({
      level: level === 'debug' ? 'debug' : level,
      module: 'lpw::chain',
      line: 0,
      message: fields
        ? `${message} ${JSON.stringify(fields, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`
        : message,
    });
}
