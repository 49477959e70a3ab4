// The node's chain duty: bring LDK, the sweeper and the on-chain wallet to the tip (one sync at a
// time, with one more queued behind it), and say how well the chain is watched (ChainWatch).
import type * as ldk from 'lightningdevkit';
import type { ChainBroadcaster } from './chain/broadcaster.ts';
import { CheckedChainSource, isChainCheckFailure } from './chain/checked.ts';
import type { ChainErrorCode } from './chain/errors.ts';
import type { ChainFeeEstimator } from './chain/fees.ts';
import type { ChainSource } from './chain/source.ts';
import type { ChainSync, SyncReport } from './chain/sync.ts';
import { NodeError } from './errors.ts';
import type { EventBus } from './events.ts';
import { bytesEqual } from './ldk/values.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { CommitQueue } from './persist/commit-queue.ts';
import { CHAIN_SYNC_KEY, SYNCED_AT_KEY, SYNCED_HEIGHT_KEY } from './persist/keys.ts';
import type { RecoveryTracker } from './recovery.ts';
import type { OnchainWallet } from './wallet/onchain.ts';

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

export interface ChainWatcherContext {
  source: ChainSource;
  fees: ChainFeeEstimator;
  chainSync: ChainSync;
  broadcaster: ChainBroadcaster;
  chainMonitor: ldk.ChainMonitor;
  confirmables: ldk.Confirm[];
  onchain: OnchainWallet;
  recovery: RecoveryTracker;
  config: ldk.UserConfig;
  bus: EventBus;
  queue: CommitQueue;
  life: Lifecycle;
  now: () => number;
  wake: () => void;
  /** Blocks, coins, sweeps and fee estimates may have moved: a `changed` notice. */
  changed: () => void;
  /** The store as read at start (the last sync's time and height survive restarts). */
  stored: Map<string, Uint8Array>;
}

export class ChainWatcher {
  /** The sync running now, and the one queued behind it. */
  syncing: Promise<SyncReport> | null = null;
  private syncAgain: Promise<SyncReport> | null = null;
  private lastSyncAtMs: number | undefined;
  private lastSyncHeight: number | undefined;
  private chainViewFailure: { code: ChainErrorCode; message: string } | undefined;
  private savedChainSync: Uint8Array | undefined;

  constructor(private readonly c: ChainWatcherContext) {
    const syncedAt = c.stored.get(SYNCED_AT_KEY);
    this.lastSyncAtMs = syncedAt ? decodeHeight(syncedAt) : undefined;
    const syncedHeight = c.stored.get(SYNCED_HEIGHT_KEY);
    this.lastSyncHeight = syncedHeight ? decodeHeight(syncedHeight) : undefined;
  }

  sync(): Promise<SyncReport> {
    const c = this.c;
    if (c.life.stopping) return Promise.reject(new NodeError('NODE_STOPPED'));
    if (this.syncing) {
      this.syncAgain ??= this.syncing
        .catch(() => {})
        .then(() => {
          this.syncAgain = null;
          return this.sync();
        });
      return this.syncAgain;
    }
    this.syncing = (async () => {
      try {
        // fees first: claims LDK builds for the new blocks use today's estimates, and pending ones
        // are re-bumped to them (a rising mempool minimum shows in the estimates)
        await c.fees.refresh();
        const report = await c.chainSync.sync(c.confirmables);
        c.chainMonitor.archive_fully_resolved_channel_monitors();
        c.chainMonitor.rebroadcast_pending_claims();
        c.wake();
        await c.broadcaster.rebroadcast(report.tip.height);
        await c.onchain.sync();
        await c.onchain.rebroadcastLocal();
        if (await c.recovery.refresh(report.tip.height))
          c.bus.emit({ kind: 'recovery-changed', channels: c.recovery.status() });
        this.lastSyncAtMs = c.now();
        this.lastSyncHeight = report.tip.height;
        if (!c.life.stopped) {
          c.queue.write(SYNCED_HEIGHT_KEY, encodeHeight(report.tip.height));
          c.queue.write(SYNCED_AT_KEY, encodeHeight(this.lastSyncAtMs));
          if (c.chainSync.blockScan) this.saveChainSync();
        }
        this.noteChainView(undefined);
        c.changed();
        return report;
      } catch (error) {
        this.noteChainView(error);
        throw error;
      } finally {
        this.syncing = null;
        c.wake();
      }
    })();
    return this.syncing;
  }

  /** The block scan's state, when it changed (a new tip mostly: once a block, not once a sync). */
  private saveChainSync(): void {
    const saved = this.c.chainSync.saved();
    if (this.savedChainSync && bytesEqual(saved, this.savedChainSync)) return;
    this.c.queue.write(CHAIN_SYNC_KEY, saved);
    this.savedChainSync = saved;
  }

  watch(): ChainWatch {
    const toSelfDelayBlocks = this.c.config.get_channel_handshake_config().get_our_to_self_delay();
    const source = this.c.source;
    return {
      lastSyncAtMs: this.lastSyncAtMs,
      lastSyncHeight: this.lastSyncHeight,
      toSelfDelayBlocks,
      checked: source instanceof CheckedChainSource,
      compared: source instanceof CheckedChainSource && source.compared,
      failure: this.chainViewFailure,
      warnAtMs:
        this.lastSyncAtMs === undefined ? undefined : this.lastSyncAtMs + (toSelfDelayBlocks / 2) * 600_000,
    };
  }

  /** A failed chain-view check (or its end) becomes `chain-view-changed`; other failures pass by. */
  private noteChainView(error: unknown): void {
    if (error !== undefined && !isChainCheckFailure(error)) return;
    const failure = error && { code: error.code, message: error.message };
    if (failure?.message === this.chainViewFailure?.message) return;
    this.chainViewFailure = failure;
    this.c.bus.emit({ kind: 'chain-view-changed', ok: !failure, ...failure });
  }
}

const encodeHeight = (height: number): Uint8Array => new TextEncoder().encode(String(height));

/** A height (or a time in ms) as stored under SYNCED_HEIGHT_KEY / SYNCED_AT_KEY. */
export const decodeHeight = (bytes: Uint8Array): number => {
  const height = Number(new TextDecoder().decode(bytes));
  if (!Number.isSafeInteger(height) || height < 0)
    throw new NodeError('RESTORE_FAILED', 'stored chain height unreadable');
  return height;
};
