// LDK's `Persist` for ChannelMonitors, on the CommitQueue. Every update returns InProgress; the
// update is queued and acknowledged (`channel_monitor_updated`) only once the batch holding it, and
// a ChannelManager snapshot taken after it, is durable. So the stored manager is never older than
// the stored monitors (that force-closes), and never knows of a monitor state that is not stored:
// in-flight updates travel inside the manager and LDK replays them on restore.
//
// Monitors are stored as a full monitor plus incremental `ChannelMonitorUpdate`s (LDK's
// MonitorUpdatingPersister pattern): on restore the updates are applied in order with
// `ChannelMonitor.update_monitor`; every `compactEvery` updates the full monitor is rewritten and the
// update keys deleted in the same commit.
import * as ldk from 'lightningdevkit';
import { type CallbackErrorSink, guard, type Retainer } from '../ldk/callbacks.ts';
import { isNullPointer, outpointKey } from '../ldk/values.ts';
import type { CommitQueue } from './commit-queue.ts';
import {
  ARCHIVE_PREFIX,
  MONITOR_UPDATE_PREFIX,
  monitorKey,
  monitorUpdateKey,
  monitorUpdatePrefix,
} from './keys.ts';

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const {
  LDKChannelMonitorUpdateStatus_Completed: COMPLETED,
  LDKChannelMonitorUpdateStatus_InProgress: IN_PROGRESS,
} = ldk.ChannelMonitorUpdateStatus;

export interface MonitorPersisterOptions {
  queue: CommitQueue;
  /** Store contents at start, to know which update keys exist per channel. */
  initial: Map<string, Uint8Array>;
  retainer: Retainer;
  onCallbackError: CallbackErrorSink;
  /** Ask for a flush soon (outside the current LDK call). */
  requestFlush: () => void;
  compactEvery?: number;
}

export class MonitorPersister {
  readonly persist: ldk.Persist;
  /** Set while the node hands already-durable monitors to the ChainMonitor at restore. */
  restoring = false;
  /** True when monitor writes were queued since the last manager snapshot. */
  monitorsDirty = false;
  private chainMonitor: ldk.ChainMonitor | null = null;
  private readonly updateKeys = new Map<string, Set<string>>();
  private readonly mirror = new Map<string, Uint8Array>();
  private readonly options: MonitorPersisterOptions;
  private readonly compactEvery: number;
  /** Monitor update acknowledgements awaiting durability, for observability. */
  pendingAcks = 0;

  constructor(options: MonitorPersisterOptions) {
    this.options = options;
    this.compactEvery = options.compactEvery ?? 64;
    for (const [key, value] of options.initial) {
      if (key.startsWith(MONITOR_UPDATE_PREFIX)) {
        const outpoint = key.slice(MONITOR_UPDATE_PREFIX.length, key.lastIndexOf('/'));
        this.updateKeysOf(outpoint).add(key);
      }
      if (key.startsWith('ldk/monitor')) this.mirror.set(key, value);
    }
    const sink = options.onCallbackError;
    // A failing callback must not throw into WASM. UnrecoverableError would stop the node's channel
    // operations; InProgress without an ack keeps the channel frozen (safe) and the error surfaces.
    const impl: ldk.PersistInterface = {
      persist_new_channel: guard(
        'Persist.persist_new_channel',
        (outpoint: ldk.OutPoint, monitor: ldk.ChannelMonitor) => this.persistNew(outpoint, monitor),
        IN_PROGRESS,
        sink,
      ),
      update_persisted_channel: guard(
        'Persist.update_persisted_channel',
        (outpoint: ldk.OutPoint, update: ldk.ChannelMonitorUpdate, monitor: ldk.ChannelMonitor) =>
          this.persistUpdate(outpoint, update, monitor),
        IN_PROGRESS,
        sink,
      ),
      archive_persisted_channel: guard(
        'Persist.archive_persisted_channel',
        (outpoint: ldk.OutPoint) => this.archive(outpoint),
        undefined,
        sink,
      ),
    };
    options.retainer.keep(impl);
    this.persist = options.retainer.keep(ldk.Persist.new_impl(impl));
  }

  attach(chainMonitor: ldk.ChainMonitor): void {
    this.chainMonitor = chainMonitor;
  }

  private persistNew(outpoint: ldk.OutPoint, monitor: ldk.ChannelMonitor): ldk.ChannelMonitorUpdateStatus {
    if (this.restoring) return COMPLETED; // read from the store a moment ago, updates included
    const key = outpointKey(outpoint);
    this.writeFull(key, monitor);
    this.ackWhenDurable(outpoint, monitor.get_latest_update_id());
    return IN_PROGRESS;
  }

  private persistUpdate(
    outpoint: ldk.OutPoint,
    update: ldk.ChannelMonitorUpdate | null,
    monitor: ldk.ChannelMonitor,
  ): ldk.ChannelMonitorUpdateStatus {
    const key = outpointKey(outpoint);
    const hasUpdate = !isNullPointer(update);
    const updateId = hasUpdate ? update!.get_update_id() : undefined;
    const stored = this.updateKeysOf(key);
    if (updateId !== undefined && updateId !== U64_MAX && stored.size < this.compactEvery) {
      const updateKey = monitorUpdateKey(key, updateId);
      const bytes = update!.write();
      this.options.queue.write(updateKey, bytes);
      this.mirror.set(updateKey, bytes);
      stored.add(updateKey);
      this.monitorsDirty = true;
    } else {
      // chain-sync persist (no update), a post-close update, or time to compact
      this.writeFull(key, monitor);
    }
    // Chain-sync persists (no update) need no acknowledgement (ChainMonitor docs), but are durable
    // with the next batch all the same.
    if (updateId !== undefined) this.ackWhenDurable(outpoint, updateId);
    this.options.requestFlush();
    return IN_PROGRESS;
  }

  private writeFull(key: string, monitor: ldk.ChannelMonitor): void {
    const bytes = monitor.write();
    this.options.queue.write(monitorKey(key), bytes);
    this.mirror.set(monitorKey(key), bytes);
    const stored = this.updateKeysOf(key);
    for (const updateKey of stored) {
      this.options.queue.write(updateKey, null);
      this.mirror.delete(updateKey);
    }
    stored.clear();
    this.monitorsDirty = true;
    this.options.requestFlush();
  }

  private ackWhenDurable(outpoint: ldk.OutPoint, updateId: bigint): void {
    const held = outpoint.clone(); // the argument is only valid during the callback
    this.pendingAcks++;
    this.options.queue.onDurable(() => {
      this.pendingAcks--;
      const chainMonitor = this.chainMonitor;
      if (!chainMonitor) return;
      const result = chainMonitor.channel_monitor_updated(held, updateId);
      if (!result.is_ok()) {
        this.options.onCallbackError(
          'ChainMonitor.channel_monitor_updated',
          new Error(`no monitor for ${outpointKey(held)} (update ${updateId})`),
        );
      }
    });
  }

  private archive(outpoint: ldk.OutPoint): void {
    const key = outpointKey(outpoint);
    const full = this.mirror.get(monitorKey(key));
    if (full) this.options.queue.write(`${ARCHIVE_PREFIX}${monitorKey(key)}`, full);
    this.options.queue.write(monitorKey(key), null);
    this.mirror.delete(monitorKey(key));
    for (const updateKey of this.updateKeysOf(key)) {
      const bytes = this.mirror.get(updateKey);
      if (bytes) this.options.queue.write(`${ARCHIVE_PREFIX}${updateKey}`, bytes);
      this.options.queue.write(updateKey, null);
      this.mirror.delete(updateKey);
    }
    this.updateKeys.delete(key);
    this.options.requestFlush();
  }

  private updateKeysOf(outpoint: string): Set<string> {
    let keys = this.updateKeys.get(outpoint);
    if (!keys) {
      keys = new Set();
      this.updateKeys.set(outpoint, keys);
    }
    return keys;
  }
}

/** The update keys stored for one monitor, in application order. */
export function storedUpdatesOf(
  data: Map<string, Uint8Array>,
  outpoint: string,
): Array<[string, Uint8Array]> {
  const prefix = monitorUpdatePrefix(outpoint);
  return [...data].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
