// The routing fee a node charges for forwarding over its channels (BOLT 7 fee_base_msat and
// fee_proportional_millionths), the same on every channel: set as the default for channels opened
// later and applied to every channel there is, which makes LDK announce new channel_updates.
import * as ldk from 'lightningdevkit';
import { NodeError } from './errors.ts';
import { type Own, withLdk } from './ldk/free.ts';
import { channelIdHex, expectOk, toHex } from './ldk/values.ts';

export interface ForwardingFees {
  /** Charged on every forward, in msat (BOLT 7 `fee_base_msat`, a u32). */
  baseMsat: number;
  /** Charged per million msat forwarded (`fee_proportional_millionths`, a u32). */
  proportionalMillionths: number;
}

const U32_MAX = 0xffff_ffff;

export function assertForwardingFees(fees: ForwardingFees): void {
  for (const [what, value] of [
    ['baseMsat', fees?.baseMsat],
    ['proportionalMillionths', fees?.proportionalMillionths],
  ] as const) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > U32_MAX)
      throw new NodeError(
        'INVALID_INPUT',
        `"${what}" expected an integer 0..${U32_MAX}, got ${String(value)}`,
      );
  }
}

/** Sets the fees in a UserConfig's channel config (the manager's default, or one open's override). */
export function setDefaultForwardingFees(config: ldk.UserConfig, fees: ForwardingFees): void {
  const channelConfig = config.get_channel_config();
  channelConfig.set_forwarding_fee_base_msat(fees.baseMsat);
  channelConfig.set_forwarding_fee_proportional_millionths(fees.proportionalMillionths);
  config.set_channel_config(channelConfig);
}

/** The fees of a channel's config as LDK holds them. */
function feesOf(config: ldk.ChannelConfig): ForwardingFees {
  return {
    baseMsat: config.get_forwarding_fee_base_msat(),
    proportionalMillionths: config.get_forwarding_fee_proportional_millionths(),
  };
}

/**
 * Applies `fees` to every channel whose config differs (a partial update: LDK keeps each channel's
 * other settings); returns how many channels changed. One call per counterparty, as LDK wants.
 */
export function updateChannelForwardingFees(cm: ldk.ChannelManager, fees: ForwardingFees): number {
  return withLdk((own: Own) => {
    const byPeer = new Map<string, { peer: Uint8Array; ids: ldk.ChannelId[] }>();
    for (const c of own(cm.list_channels())) {
      const now = feesOf(c.get_config());
      if (now.baseMsat === fees.baseMsat && now.proportionalMillionths === fees.proportionalMillionths)
        continue;
      const peer = c.get_counterparty().get_node_id();
      const entry = byPeer.get(toHex(peer)) ?? { peer, ids: [] };
      entry.ids.push(c.get_channel_id());
      byPeer.set(toHex(peer), entry);
    }
    let changed = 0;
    for (const { peer, ids } of byPeer.values()) {
      const update = ldk.ChannelConfigUpdate.constructor_new(
        ldk.Option_u32Z.constructor_some(fees.proportionalMillionths),
        ldk.Option_u32Z.constructor_some(fees.baseMsat),
        ldk.Option_u16Z.constructor_none(),
        ldk.Option_MaxDustHTLCExposureZ.constructor_none(),
        ldk.Option_u64Z.constructor_none(),
      );
      expectOk(
        own(cm.update_partial_channel_config(peer, ids, update)),
        'CHANNEL_NOT_FOUND',
        `update channel config (${ids.map((id) => channelIdHex(id).slice(0, 16)).join(', ')})`,
      );
      changed += ids.length;
    }
    return changed;
  });
}

/** The fees the manager's default config gives new channels. */
export function defaultForwardingFees(config: ldk.UserConfig): ForwardingFees {
  return feesOf(config.get_channel_config());
}
