// The ChannelManager at start: a new one when the store holds none, else the stored one read back
// with its monitors (restore.ts) and the monitors handed to the ChainMonitor.
import * as ldk from 'lightningdevkit';
import type { ChainBroadcaster } from '../chain/broadcaster.ts';
import { hashFromDisplay } from '../chain/bytes.ts';
import type { ChainFeeEstimator } from '../chain/fees.ts';
import type { BlockRef } from '../chain/source.ts';
import { NodeError } from '../errors.ts';
import type { RestoredChannelKeys } from '../ldk/signer-provider.ts';
import type { LogSink } from '../ldk/traits.ts';
import { outpointKey, unwrap } from '../ldk/values.ts';
import { MONITOR_PREFIX } from './keys.ts';
import { readStoredManager } from './manager-chunks.ts';
import type { MonitorPersister } from './monitor-persister.ts';
import { type RestoredState, restoreChannelState } from './restore.ts';

export interface ManagerParts {
  network: ldk.Network;
  fees: ChainFeeEstimator;
  broadcaster: ChainBroadcaster;
  chainMonitor: ldk.ChainMonitor;
  persister: MonitorPersister;
  router: ldk.DefaultRouter;
  messageRouter: ldk.DefaultMessageRouter;
  logger: ldk.Logger;
  keys: ldk.KeysManager;
  signerProvider: ldk.SignerProvider;
  /** The keys the monitor reads derive, for `signerProvider` to build the channels' signers from. */
  restoredKeys: RestoredChannelKeys;
  config: ldk.UserConfig;
  /** The chain tip: a new manager's best block. */
  tip: BlockRef;
  nowMs: number;
  logSink: LogSink;
}

export interface OpenedManager {
  manager: ldk.ChannelManager;
  /** Best-block heights of the ChannelMonitors read (where a block scan must begin). */
  monitorHeights: number[];
}

export function openChannelManager(data: Map<string, Uint8Array>, p: ManagerParts): OpenedManager {
  const managerBytes = readStoredManager(data);
  if (!managerBytes) {
    if ([...data.keys()].some((k) => k.startsWith(MONITOR_PREFIX))) {
      throw new NodeError('RESTORE_FAILED', 'store holds channel monitors but no channel manager');
    }
    const manager = ldk.ChannelManager.constructor_new(
      p.fees.ldk,
      p.chainMonitor.as_Watch(),
      p.broadcaster.ldk,
      p.router.as_Router(),
      p.messageRouter.as_MessageRouter(),
      p.logger,
      p.keys.as_EntropySource(),
      p.keys.as_NodeSigner(),
      p.signerProvider,
      p.config,
      ldk.ChainParameters.constructor_new(
        p.network,
        ldk.BestBlock.constructor_new(hashFromDisplay(p.tip.hash), p.tip.height),
      ),
      Math.floor(p.nowMs / 1000),
    );
    return { manager, monitorHeights: [] };
  }
  // Restore order: monitors (with their stored updates), then the manager, then watch_channel.
  // restore.ts falls back to leaving the manager's in-flight updates out of the monitors when
  // LDK 0.1.0 refuses the manager (a crash mid-claim): LDK replays them.
  let restored: RestoredState;
  try {
    restored = restoreChannelState(
      data,
      managerBytes,
      {
        keys: p.keys,
        signerProvider: p.restoredKeys.monitorSignerProvider,
        broadcaster: p.broadcaster.ldk,
        feeEstimator: p.fees.ldk,
        logger: p.logger,
      },
      (monitors) =>
        ldk.UtilMethods.constructor_C2Tuple_ThirtyTwoBytesChannelManagerZ_read(
          managerBytes,
          p.keys.as_EntropySource(),
          p.keys.as_NodeSigner(),
          p.signerProvider,
          p.fees.ldk,
          p.chainMonitor.as_Watch(),
          p.broadcaster.ldk,
          p.router.as_Router(),
          p.messageRouter.as_MessageRouter(),
          p.logger,
          p.config,
          monitors,
        ),
      (message) => p.logSink({ level: 'error', module: 'lpw::persist', line: 0, message }),
    );
  } finally {
    p.restoredKeys.clear();
  }
  const monitors = restored.monitors.map((m) => m.monitor);
  const monitorHeights = monitors.map((m) => m.current_best_block().get_height());
  p.persister.restored(restored.monitors.map((m) => m.channel));
  p.persister.restoring = true;
  try {
    for (const monitor of monitors) {
      const outpoint = monitor.get_funding_txo().get_a();
      const status = unwrap<ldk.ChannelMonitorUpdateStatus>(
        p.chainMonitor.as_Watch().watch_channel(outpoint, monitor),
        'RESTORE_FAILED',
        `watch_channel ${outpointKey(outpoint)}`,
      );
      if (status !== ldk.ChannelMonitorUpdateStatus.LDKChannelMonitorUpdateStatus_Completed) {
        throw new NodeError('RESTORE_FAILED', `watch_channel ${outpointKey(outpoint)}: status ${status}`);
      }
    }
  } finally {
    p.persister.restoring = false;
  }
  return { manager: restored.manager, monitorHeights };
}
