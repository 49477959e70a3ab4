// Reading ChannelMonitors back: each full monitor, then its stored incremental updates applied in
// order with `update_monitor` (LDK's MonitorUpdatingPersister read path). A gap or a failing update
// is a RESTORE_FAILED: starting with a monitor older than what was acknowledged could lose money.
import * as ldk from 'lightningdevkit';
import { NodeError } from '../errors.ts';
import { bool, outpointKey, unwrap } from '../ldk/values.ts';
import { MONITOR_PREFIX } from './keys.ts';
import { storedUpdatesOf } from './monitor-persister.ts';

export interface MonitorReadContext {
  keys: ldk.KeysManager;
  broadcaster: ldk.BroadcasterInterface;
  feeEstimator: ldk.FeeEstimator;
  logger: ldk.Logger;
}

export function readMonitors(data: Map<string, Uint8Array>, ctx: MonitorReadContext): ldk.ChannelMonitor[] {
  const monitors: ldk.ChannelMonitor[] = [];
  for (const [key, bytes] of data) {
    if (!key.startsWith(MONITOR_PREFIX)) continue;
    const tuple = unwrap<ldk.TwoTuple_ThirtyTwoBytesChannelMonitorZ>(
      ldk.UtilMethods.constructor_C2Tuple_ThirtyTwoBytesChannelMonitorZ_read(
        bytes,
        ctx.keys.as_EntropySource(),
        ctx.keys.as_SignerProvider(),
      ),
      'RESTORE_FAILED',
      `reading ${key}`,
    );
    const monitor = tuple.get_b();
    const outpoint = outpointKey(monitor.get_funding_txo().get_a());
    for (const [updateKey, updateBytes] of storedUpdatesOf(data, outpoint)) {
      const update = unwrap<ldk.ChannelMonitorUpdate>(
        ldk.ChannelMonitorUpdate.constructor_read(updateBytes),
        'RESTORE_FAILED',
        `reading ${updateKey}`,
      );
      const id = update.get_update_id();
      const latest = monitor.get_latest_update_id();
      if (id <= latest) continue; // already inside the full monitor (compaction raced a crash)
      if (id !== latest + 1n) {
        throw new NodeError(
          'RESTORE_FAILED',
          `${outpoint}: monitor at update ${latest}, next stored update is ${id}`,
        );
      }
      const applied = monitor.update_monitor(update, ctx.broadcaster, ctx.feeEstimator, ctx.logger);
      if (!bool(applied.is_ok()))
        throw new NodeError('RESTORE_FAILED', `${outpoint}: applying update ${id} failed`);
    }
    monitors.push(monitor);
  }
  return monitors;
}
