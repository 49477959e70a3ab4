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
//
// In-flight tracking (restore.ts's fallback path needs it). LDK 0.1.0 refuses to read a manager
// that lists a payment as being claimed when a monitor already holds that payment's preimage with
// its claim details (DecodeError::InvalidValue, fixed upstream in 0.1.4) — exactly what a crash
// leaves between the commit of a claim's preimage update and the next snapshot. Restore can then
// read the monitors *without* the updates the manager still lists in flight, and LDK replays them
// itself. For that to be exact this class mirrors what the manager holds in flight per channel:
// - ChainMonitor emits MonitorEvent::Completed{latest id} when its last pending update is
//   acknowledged (chainmonitor.rs `channel_monitor_updated`); the manager then drops every in-flight
//   update up to that id (channelmanager.rs `channel_monitor_updated`: `retain(> highest_applied)`).
// - The node processes that event (manager `process_pending_events`) before it cuts the next
//   snapshot (`takeAcked`), so at a cut the manager's in-flight list is exactly the updates above
//   the last Completed id (`completedThrough`); each snapshot is written with its lowest id
//   (`ldk/monitor-inflight/<outpoint>`, see `snapshotCut`).
// - A full monitor written while it contains updates still in flight keeps the previous full
//   monitor (`ldk/monitor-fallback/<outpoint>`) and every update key, until a snapshot no longer
//   lists anything the new full monitor contains.
import * as ldk from 'lightningdevkit';
import { type CallbackErrorSink, guard, type Retainer } from '../ldk/callbacks.ts';
import { freeLdk } from '../ldk/free.ts';
import { isNullPointer, outpointKey } from '../ldk/values.ts';
import type { CommitQueue } from './commit-queue.ts';
import {
  ARCHIVE_PREFIX,
  MONITOR_FALLBACK_PREFIX,
  MONITOR_INFLIGHT_PREFIX,
  MONITOR_PREFIX,
  monitorFallbackKey,
  monitorInflightKey,
  monitorKey,
  monitorUpdateKey,
  parseMonitorUpdateKey,
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

/** What restore handed to the ChainMonitor for one channel. */
export interface RestoredChannel {
  outpoint: string;
  /** Update id of the full monitor stored under `ldk/monitor/<outpoint>`. */
  baseId: bigint;
  /** Update id of the monitor given to the ChainMonitor. */
  latest: bigint;
  /** Highest update id the restored manager may still hold in flight (the highest stored one). */
  knownThrough: bigint;
}

interface ChannelState {
  /** Every stored update key, by update id. */
  updates: Map<bigint, string>;
  /** Update id of the full monitor under `ldk/monitor/<outpoint>`. */
  baseId: bigint;
  /** An older full monitor is kept under `ldk/monitor-fallback/<outpoint>`. */
  hasFallback: boolean;
  /** The live monitor's latest update id (as ChainMonitor puts it in MonitorEvent::Completed). */
  monitorLatest: bigint;
  /** Update ids returned InProgress and not yet acknowledged (ChainMonitor's pending set). */
  unacked: Set<bigint>;
  /** Id carried by the last MonitorEvent::Completed: the manager holds nothing in flight up to it. */
  completedThrough: bigint;
  /** Highest update id the manager generated for this channel (its in-flight list ends there). */
  knownThrough: bigint;
  /** The stored `ldk/monitor-inflight/<outpoint>` value, null when absent. */
  recordedStart: bigint | null;
}

export class MonitorPersister {
  readonly persist: ldk.Persist;
  /** Set while the node hands already-durable monitors to the ChainMonitor at restore. */
  restoring = false;
  /** True when monitor writes were queued since the last manager snapshot. */
  monitorsDirty = false;
  private chainMonitor: ldk.ChainMonitor | null = null;
  private readonly channels = new Map<string, ChannelState>();
  private readonly mirror = new Map<string, Uint8Array>();
  private readonly options: MonitorPersisterOptions;
  private readonly compactEvery: number;
  private acked = false;
  /** Monitor update acknowledgements awaiting durability, for observability. */
  pendingAcks = 0;

  constructor(options: MonitorPersisterOptions) {
    this.options = options;
    this.compactEvery = options.compactEvery ?? 64;
    for (const [key, value] of options.initial) {
      const update = parseMonitorUpdateKey(key);
      if (update) {
        this.stateOf(update.outpoint).updates.set(update.updateId, key);
      } else if (key.startsWith(MONITOR_INFLIGHT_PREFIX)) {
        this.stateOf(key.slice(MONITOR_INFLIGHT_PREFIX.length)).recordedStart = decodeUpdateId(value);
      } else if (key.startsWith(MONITOR_FALLBACK_PREFIX)) {
        this.stateOf(key.slice(MONITOR_FALLBACK_PREFIX.length)).hasFallback = true;
      }
      if (key.startsWith('ldk/monitor')) this.mirror.set(key, value);
    }
    const sink = options.onCallbackError;
    // A failing callback must not throw into WASM. UnrecoverableError would stop the node's channel
    // operations; InProgress without an ack keeps the channel frozen (safe) and the error surfaces.
    // The bindings hand each callback its own clone of the monitor (the whole channel history, several
    // per payment, growing with every payment) and of the update: freed on return, not by finalizers.
    const impl: ldk.PersistInterface = {
      persist_new_channel: guard(
        'Persist.persist_new_channel',
        (outpoint: ldk.OutPoint, monitor: ldk.ChannelMonitor) => {
          try {
            return this.persistNew(outpoint, monitor);
          } finally {
            freeLdk(outpoint, monitor);
          }
        },
        IN_PROGRESS,
        sink,
      ),
      update_persisted_channel: guard(
        'Persist.update_persisted_channel',
        (outpoint: ldk.OutPoint, update: ldk.ChannelMonitorUpdate, monitor: ldk.ChannelMonitor) => {
          try {
            return this.persistUpdate(outpoint, update, monitor);
          } finally {
            freeLdk(outpoint, update, monitor);
          }
        },
        IN_PROGRESS,
        sink,
      ),
      archive_persisted_channel: guard(
        'Persist.archive_persisted_channel',
        (outpoint: ldk.OutPoint) => {
          try {
            this.archive(outpoint);
          } finally {
            freeLdk(outpoint);
          }
        },
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

  /**
   * Each open channel's last full monitor as stored, in bytes, by funding outpoint. LDK 0.1 keeps
   * the HTLC data of every revoked counterparty commitment in it (~130–250 bytes a payment), and the
   * bindings copy the whole monitor into every Persist callback: per-payment work grows with it.
   */
  monitorBytes(): Map<string, number> {
    const sizes = new Map<string, number>();
    for (const [key, value] of this.mirror)
      if (key.startsWith(MONITOR_PREFIX)) sizes.set(key.slice(MONITOR_PREFIX.length), value.length);
    return sizes;
  }

  /** Restore: the monitors handed to the ChainMonitor, and what the restored manager holds in flight. */
  restored(channels: RestoredChannel[]): void {
    for (const c of channels) {
      const st = this.stateOf(c.outpoint);
      st.baseId = c.baseId;
      st.monitorLatest = c.latest;
      // the manager's in-flight list after its read: the updates above the monitor it was given
      st.completedThrough = c.latest;
      st.knownThrough = c.latest;
      if (c.knownThrough > st.knownThrough) st.knownThrough = c.knownThrough;
    }
  }

  /** True (once) when updates were acknowledged since the last call: the manager has events to process. */
  takeAcked(): boolean {
    const acked = this.acked;
    this.acked = false;
    return acked;
  }

  /**
   * Called right after a manager snapshot is queued, in the same batch: records per channel the
   * lowest update id that snapshot holds in flight, and drops fallback copies no longer needed.
   * The caller has let the manager process every MonitorEvent::Completed first (`takeAcked`).
   */
  snapshotCut(): void {
    for (const [outpoint, st] of this.channels) {
      const start = st.knownThrough > st.completedThrough ? st.completedThrough + 1n : null;
      if (start !== st.recordedStart) {
        const key = monitorInflightKey(outpoint);
        const value = start === null ? null : encodeUpdateId(start);
        this.options.queue.write(key, value);
        if (value) this.mirror.set(key, value);
        else this.mirror.delete(key);
        st.recordedStart = start;
      }
      // the current full monitor holds nothing this snapshot lists in flight: it is the fallback now
      if (st.hasFallback && (start === null || st.baseId < start)) {
        this.options.queue.write(monitorFallbackKey(outpoint), null);
        this.mirror.delete(monitorFallbackKey(outpoint));
        st.hasFallback = false;
        for (const [id, key] of st.updates) {
          if (id > st.baseId) continue;
          this.options.queue.write(key, null);
          this.mirror.delete(key);
          st.updates.delete(id);
        }
      }
    }
  }

  private persistNew(outpoint: ldk.OutPoint, monitor: ldk.ChannelMonitor): ldk.ChannelMonitorUpdateStatus {
    if (this.restoring) return COMPLETED; // read from the store a moment ago, updates included
    const key = outpointKey(outpoint);
    const st = this.stateOf(key);
    const latest = monitor.get_latest_update_id();
    // the first monitor is not in the manager's in-flight list (it waits for it differently)
    st.monitorLatest = latest;
    st.completedThrough = latest;
    st.knownThrough = latest;
    this.writeFull(key, monitor);
    this.ackWhenDurable(outpoint, key, latest);
    return IN_PROGRESS;
  }

  private persistUpdate(
    outpoint: ldk.OutPoint,
    update: ldk.ChannelMonitorUpdate | null,
    monitor: ldk.ChannelMonitor,
  ): ldk.ChannelMonitorUpdateStatus {
    const key = outpointKey(outpoint);
    const st = this.stateOf(key);
    const latest = monitor.get_latest_update_id();
    const hasUpdate = !isNullPointer(update);
    // ChainMonitor tracks (and waits for an acknowledgement of) every update it was given; one that
    // failed to apply arrives without the update, but the monitor's latest id moved to it
    // (channelmonitor.rs `update_monitor` sets latest_update_id first). Chain-sync persists leave
    // the id where it was and need no acknowledgement (chainmonitor.rs `channel_monitor_updated`).
    const updateId = hasUpdate ? update!.get_update_id() : latest > st.monitorLatest ? latest : undefined;
    st.monitorLatest = latest;
    if (updateId !== undefined && updateId > st.knownThrough) st.knownThrough = updateId;
    const storable = hasUpdate && updateId !== U64_MAX;
    if (storable) {
      // stored even when compacting below: while a fallback monitor is kept, restore may need the
      // chain of updates from it (writeFull deletes the key again when it is not needed)
      const updateKey = monitorUpdateKey(key, updateId!);
      const bytes = update!.write();
      this.options.queue.write(updateKey, bytes);
      this.mirror.set(updateKey, bytes);
      st.updates.set(updateId!, updateKey);
      this.monitorsDirty = true;
    }
    if (!storable || this.updatesAboveBase(st) > this.compactEvery) {
      // chain-sync persist, a failed or post-close update, or time to compact
      this.writeFull(key, monitor);
    }
    if (updateId !== undefined) this.ackWhenDurable(outpoint, key, updateId);
    this.options.requestFlush();
    return IN_PROGRESS;
  }

  private updatesAboveBase(st: ChannelState): number {
    let n = 0;
    for (const id of st.updates.keys()) if (id > st.baseId) n++;
    return n;
  }

  private writeFull(key: string, monitor: ldk.ChannelMonitor): void {
    const st = this.stateOf(key);
    const id = monitor.get_latest_update_id();
    const previous = this.mirror.get(monitorKey(key));
    // This monitor contains updates the manager may still list in flight: keep the current full
    // monitor (it contains none, or a fallback is already kept) and the update keys above it.
    if (id > st.completedThrough && previous && !st.hasFallback) {
      this.options.queue.write(monitorFallbackKey(key), previous);
      this.mirror.set(monitorFallbackKey(key), previous);
      st.hasFallback = true;
    }
    const bytes = monitor.write();
    this.options.queue.write(monitorKey(key), bytes);
    this.mirror.set(monitorKey(key), bytes);
    st.baseId = id;
    if (!st.hasFallback) {
      for (const updateKey of st.updates.values()) {
        this.options.queue.write(updateKey, null);
        this.mirror.delete(updateKey);
      }
      st.updates.clear();
    }
    this.monitorsDirty = true;
    this.options.requestFlush();
  }

  private ackWhenDurable(outpoint: ldk.OutPoint, key: string, updateId: bigint): void {
    const held = outpoint.clone(); // the argument is only valid during the callback
    const st = this.stateOf(key);
    st.unacked.add(updateId);
    this.pendingAcks++;
    this.options.queue.onDurable(() => {
      this.pendingAcks--;
      const chainMonitor = this.chainMonitor;
      if (!chainMonitor) return freeLdk(held);
      st.unacked.delete(updateId);
      const result = chainMonitor.channel_monitor_updated(held, updateId);
      const ok = result.is_ok();
      const where = outpointKey(held);
      freeLdk(result, held);
      if (!ok) {
        this.options.onCallbackError(
          'ChainMonitor.channel_monitor_updated',
          new Error(`no monitor for ${where} (update ${updateId})`),
        );
        return;
      }
      // nothing pending any more: ChainMonitor queued MonitorEvent::Completed with the latest id
      if (st.unacked.size === 0) st.completedThrough = st.monitorLatest;
      this.acked = true;
    });
  }

  private archive(outpoint: ldk.OutPoint): void {
    const key = outpointKey(outpoint);
    const full = this.mirror.get(monitorKey(key));
    if (full) this.options.queue.write(`${ARCHIVE_PREFIX}${monitorKey(key)}`, full);
    this.options.queue.write(monitorKey(key), null);
    this.mirror.delete(monitorKey(key));
    const st = this.stateOf(key);
    for (const updateKey of st.updates.values()) {
      const bytes = this.mirror.get(updateKey);
      if (bytes) this.options.queue.write(`${ARCHIVE_PREFIX}${updateKey}`, bytes);
      this.options.queue.write(updateKey, null);
      this.mirror.delete(updateKey);
    }
    for (const extra of [monitorFallbackKey(key), monitorInflightKey(key)]) {
      if (!this.mirror.has(extra)) continue;
      this.options.queue.write(extra, null);
      this.mirror.delete(extra);
    }
    this.channels.delete(key);
    this.options.requestFlush();
  }

  private stateOf(outpoint: string): ChannelState {
    let st = this.channels.get(outpoint);
    if (!st) {
      st = {
        updates: new Map(),
        baseId: 0n,
        hasFallback: false,
        monitorLatest: 0n,
        unacked: new Set(),
        completedThrough: 0n,
        knownThrough: 0n,
        recordedStart: null,
      };
      this.channels.set(outpoint, st);
    }
    return st;
  }
}

export const encodeUpdateId = (id: bigint): Uint8Array => new TextEncoder().encode(id.toString());
export const decodeUpdateId = (bytes: Uint8Array): bigint => BigInt(new TextDecoder().decode(bytes));
