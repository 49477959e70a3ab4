// Node options every bench node shares (also the restore child): the same limits as the floor.
import type * as ldk from 'lightningdevkit';

export function benchNodeOptions() {
  return {
    // as the floor: 2500 sat/kW for the maximum estimate keeps the dust-exposure cap off small payments
    feeOverrides: {
      MaximumFeeEstimate: 2500,
      UrgentOnChainSweep: 2500,
      NonAnchorChannelFee: 253,
      AnchorChannelFee: 253,
      MinAllowedAnchorChannelRemoteFee: 253,
      MinAllowedNonAnchorChannelRemoteFee: 253,
      ChannelCloseMinimum: 253,
      OutputSpendingFee: 253,
    },
    chainSyncIntervalMs: 0,
    gossip: false,
    logLevel: 'error' as const,
    configure: (config: ldk.UserConfig) => {
      const handshake = config.get_channel_handshake_config();
      handshake.set_our_max_accepted_htlcs(483); // as the floor: 50 in flight never hits the default 50
      config.set_channel_handshake_config(handshake);
    },
  };
}
