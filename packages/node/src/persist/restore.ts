// Reading ChannelMonitors and the ChannelManager back.
//
// Normal path: each full monitor, then its stored incremental updates applied in order with
// `update_monitor` (LDK's MonitorUpdatingPersister read path), then the manager. A gap or a failing
// update is a RESTORE_FAILED: starting with a monitor older than what was acknowledged could lose
// money.
//
// Fallback path, taken only when the manager read fails with DecodeError::InvalidValue: LDK 0.1.0
// (channelmanager.rs, read: for each preimage a monitor stores with payment claims,
// `begin_claiming_payment` fails when the manager already lists the payment as being claimed, and
// the `Occupied` entry returns InvalidValue — fixed in 0.1.4, "Do not fail to load ChannelManager
// when we see claiming payments") refuses exactly the state a crash leaves between the commit of a
// claim's preimage update and the next manager snapshot. Then the monitors are read again WITHOUT
// the updates that snapshot still holds in flight: LDK replays those itself on read
// ("handle_in_flight_updates": it retains the in-flight updates above each monitor's latest id and
// queues them as MonitorUpdateRegeneratedOnStartup, applied before any channel message is handled)
// and the persister stores them again. The cut must be exact — a monitor missing an update the
// manager does not replay makes LDK panic (the update ids no longer follow on) — so the start of
// the in-flight list is the one recorded with the snapshot (monitor-persister.ts `snapshotCut`),
// checked against the manager bytes themselves: the in-flight list is serialized inside the manager
// with each update written exactly as we stored it, so update S must occur in them and update S−1
// must not. A store written before the record existed gets S from that same check.
import * as ldk from 'lightningdevkit';
import { NodeError } from '../errors.ts';
import { bool, describeLdkError, errorOf, outpointKey, unwrap } from '../ldk/values.ts';
import { MONITOR_PREFIX, monitorFallbackKey, monitorInflightKey, parseMonitorUpdateKey } from './keys.ts';
import { decodeUpdateId, type RestoredChannel } from './monitor-persister.ts';

export interface MonitorReadContext {
  keys: ldk.KeysManager;
  /** Derives each monitor's signer (KeysManager's, keeping its keys for the manager read). */
  signerProvider: ldk.SignerProvider;
  broadcaster: ldk.BroadcasterInterface;
  feeEstimator: ldk.FeeEstimator;
  logger: ldk.Logger;
}

export interface ReadMonitor {
  monitor: ldk.ChannelMonitor;
  /** What the persister needs to know of it (restore bookkeeping). */
  channel: RestoredChannel;
}

type StoredUpdate = { id: bigint; key: string; bytes: Uint8Array };

/**
 * Every stored monitor with its stored updates applied. With `stopBefore` (outpoint → first update
 * to leave out), those monitors stop exactly one below it, from the full monitor or the kept
 * fallback one, whichever lies below.
 */
export function readMonitors(
  data: Map<string, Uint8Array>,
  ctx: MonitorReadContext,
  stopBefore?: Map<string, bigint>,
): ReadMonitor[] {
  const read: ReadMonitor[] = [];
  const stored = storedUpdates(data);
  for (const [key, bytes] of data) {
    if (!key.startsWith(MONITOR_PREFIX)) continue;
    let monitor = readMonitor(bytes, key, ctx);
    const outpoint = outpointKey(monitor.get_funding_txo().get_a());
    const baseId = monitor.get_latest_update_id();
    const updates = stored.get(outpoint) ?? [];
    const stop = stopBefore?.get(outpoint);
    if (stop !== undefined && baseId >= stop) {
      const fallback = data.get(monitorFallbackKey(outpoint));
      if (!fallback) {
        throw new NodeError(
          'RESTORE_FAILED',
          `${outpoint}: the full monitor (update ${baseId}) contains in-flight update ${stop} and no older one is kept`,
        );
      }
      monitor = readMonitor(fallback, monitorFallbackKey(outpoint), ctx);
    }
    for (const { id, key: updateKey, bytes: updateBytes } of updates) {
      if (stop !== undefined && id >= stop) break;
      const latest = monitor.get_latest_update_id();
      if (id <= latest) continue; // already inside the full monitor (compaction raced a crash)
      if (id !== latest + 1n) {
        throw new NodeError(
          'RESTORE_FAILED',
          `${outpoint}: monitor at update ${latest}, next stored update is ${id}`,
        );
      }
      const update = unwrap<ldk.ChannelMonitorUpdate>(
        ldk.ChannelMonitorUpdate.constructor_read(updateBytes),
        'RESTORE_FAILED',
        `reading ${updateKey}`,
      );
      const applied = monitor.update_monitor(update, ctx.broadcaster, ctx.feeEstimator, ctx.logger);
      if (!bool(applied.is_ok()))
        throw new NodeError('RESTORE_FAILED', `${outpoint}: applying update ${id} failed`);
    }
    const latest = monitor.get_latest_update_id();
    if (stop !== undefined && latest !== stop - 1n) {
      throw new NodeError(
        'RESTORE_FAILED',
        `${outpoint}: leaving out in-flight updates from ${stop} needs the monitor at ${stop - 1n}, the store gives ${latest}`,
      );
    }
    const knownThrough = updates.length > 0 ? updates[updates.length - 1]!.id : baseId;
    read.push({ monitor, channel: { outpoint, baseId, latest, knownThrough } });
  }
  return read;
}

export interface RestoredState {
  manager: ldk.ChannelManager;
  monitors: ReadMonitor[];
  /** 'fallback' when the in-flight updates had to be left out of the monitors (see above). */
  path: 'normal' | 'fallback';
  /** Per monitor, the first update left out (fallback path only). */
  leftOut: Map<string, bigint>;
}

/**
 * Monitors, then the manager (via `readManager`, given the monitors), with the fallback path above.
 * `log` receives one line when the fallback path is taken.
 */
export function restoreChannelState(
  data: Map<string, Uint8Array>,
  managerBytes: Uint8Array,
  ctx: MonitorReadContext,
  readManager: (
    monitors: ldk.ChannelMonitor[],
  ) => ldk.Result_C2Tuple_ThirtyTwoBytesChannelManagerZDecodeErrorZ,
  log: (message: string) => void,
): RestoredState {
  const monitors = readMonitors(data, ctx);
  const first = readManager(monitors.map((m) => m.monitor));
  if (bool(first.is_ok())) {
    return { manager: managerOf(first), monitors, path: 'normal', leftOut: new Map() };
  }
  const firstError = errorOf(first);
  if (!(firstError instanceof ldk.DecodeError_InvalidValue)) {
    throw new NodeError('RESTORE_FAILED', `reading the channel manager: ${describeLdkError(firstError)}`);
  }
  const leftOut = inFlightStarts(data, managerBytes, monitors);
  if (leftOut.size === 0) {
    throw new NodeError(
      'RESTORE_FAILED',
      'reading the channel manager: DecodeError_InvalidValue (and it holds no stored monitor update in flight)',
    );
  }
  const cut = [...leftOut].map(([outpoint, start]) => `${outpoint} from update ${start}`).join(', ');
  log(
    `RESTORE FALLBACK: reading the channel manager with every stored monitor update failed ` +
      `(DecodeError_InvalidValue: LDK 0.1.0 refuses a payment being claimed whose preimage a monitor ` +
      `already holds); reading the monitors again without the updates the manager holds in flight ` +
      `(${cut}): LDK replays them`,
  );
  const again = readMonitors(data, ctx, leftOut);
  const second = readManager(again.map((m) => m.monitor));
  if (!bool(second.is_ok())) {
    throw new NodeError(
      'RESTORE_FAILED',
      `reading the channel manager: DecodeError_InvalidValue; without the in-flight updates (${cut}): ${describeLdkError(errorOf(second))}`,
    );
  }
  return { manager: managerOf(second), monitors: again, path: 'fallback', leftOut };
}

function managerOf(result: ldk.Result_C2Tuple_ThirtyTwoBytesChannelManagerZDecodeErrorZ): ldk.ChannelManager {
  return unwrap<ldk.TwoTuple_ThirtyTwoBytesChannelManagerZ>(
    result,
    'RESTORE_FAILED',
    'reading the channel manager',
  ).get_b();
}

/**
 * Per monitor with updates in flight in the stored manager: the first of them. The recorded start
 * must agree with the manager bytes (update S inside, update S−1 not); without a record, S is the
 * lowest stored update inside them, and every later one must be inside too.
 */
function inFlightStarts(
  data: Map<string, Uint8Array>,
  managerBytes: Uint8Array,
  monitors: ReadMonitor[],
): Map<string, bigint> {
  const starts = new Map<string, bigint>();
  const stored = storedUpdates(data);
  for (const { channel } of monitors) {
    const { outpoint } = channel;
    const updates = stored.get(outpoint) ?? [];
    const inManager = (u: StoredUpdate) => indexOf(managerBytes, u.bytes) >= 0;
    const recorded = data.get(monitorInflightKey(outpoint));
    if (recorded) {
      const start = decodeUpdateId(recorded);
      const at = updates.find((u) => u.id === start);
      const before = updates.find((u) => u.id === start - 1n);
      if (!at || !inManager(at) || (before && inManager(before))) {
        throw new NodeError(
          'RESTORE_FAILED',
          `${outpoint}: recorded in-flight start ${start} does not match the stored manager ` +
            `(update ${start} ${at ? (inManager(at) ? 'in it' : 'not in it') : 'not stored'}` +
            `${before ? `, update ${start - 1n} ${inManager(before) ? 'in it' : 'not in it'}` : ''})`,
        );
      }
      starts.set(outpoint, start);
      continue;
    }
    const inside = updates.filter(inManager);
    if (inside.length === 0) continue;
    const start = inside[0]!.id;
    const suffix = updates.filter((u) => u.id >= start);
    if (suffix.length !== inside.length || suffix.some((u, i) => u.id !== start + BigInt(i))) {
      throw new NodeError(
        'RESTORE_FAILED',
        `${outpoint}: the stored updates inside the manager (${inside.map((u) => u.id).join(', ')}) are not the contiguous tail of the stored ones`,
      );
    }
    starts.set(outpoint, start);
  }
  return starts;
}

/** Every stored monitor update by outpoint, in the order they apply: one pass over the store. */
function storedUpdates(data: Map<string, Uint8Array>): Map<string, StoredUpdate[]> {
  const byOutpoint = new Map<string, StoredUpdate[]>();
  for (const [key, bytes] of data) {
    const update = parseMonitorUpdateKey(key);
    if (!update) continue;
    const updates = byOutpoint.get(update.outpoint) ?? [];
    updates.push({ id: update.updateId, key, bytes });
    byOutpoint.set(update.outpoint, updates);
  }
  for (const updates of byOutpoint.values()) updates.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return byOutpoint;
}

function readMonitor(bytes: Uint8Array, key: string, ctx: MonitorReadContext): ldk.ChannelMonitor {
  return unwrap<ldk.TwoTuple_ThirtyTwoBytesChannelMonitorZ>(
    ldk.UtilMethods.constructor_C2Tuple_ThirtyTwoBytesChannelMonitorZ_read(
      bytes,
      ctx.keys.as_EntropySource(),
      ctx.signerProvider,
    ),
    'RESTORE_FAILED',
    `reading ${key}`,
  ).get_b();
}

/** First index of `needle` in `haystack`, or −1. */
export function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return 0;
  const first = needle[0]!;
  const last = haystack.length - needle.length;
  outer: for (let i = haystack.indexOf(first); i !== -1 && i <= last; i = haystack.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
