// LDK UserConfig per role. Every non-default value here is load-bearing; see LDK-NOTES.md.
import * as ldk from 'lightningdevkit';

/**
 * - `wallet`: a phone; channels only from its LSP (0-conf, JIT), never routes for others.
 * - `lsp`: serves wallets (intercepts HTLCs for JIT channels, forwards to private channels) and
 *   routes to the public network.
 * - `router`: a plain routing node (devnet "public network" peers).
 */
export type NodeRole = 'wallet' | 'lsp' | 'router';

/**
 * Blocks the LSP waits for its own balance after it force-closes a wallet's channel (the wallet's
 * `our_to_self_delay`): the window in which a wallet that wakes up can still punish a revoked
 * commitment. A phone may sit in a drawer for days, so the wallet asks for LDK's maximum, 2016
 * blocks (about two weeks); the LSP's handshake limit (`their_to_self_delay`) and its LSPS2
 * `max_client_to_self_delay` (lsp-server config, default 2016) both accept it. The price is the
 * LSP's: its money in a force-closed wallet channel is locked that long. The wallet should warn
 * once half of this has passed without a chain sync (LightningNode.chainWatch()).
 */
export const WALLET_TO_SELF_DELAY = 2016;

export function buildUserConfig(
  role: NodeRole,
  customize?: (config: ldk.UserConfig) => void,
): ldk.UserConfig {
  const config = ldk.UserConfig.constructor_default();

  // Every inbound open goes through our policy (OpenChannelRequest): a wallet accepts only its LSP
  // (with 0 conf), the others accept by default. Without manual acceptance 0-conf is impossible.
  config.set_manually_accept_inbound_channels(true);

  const handshake = config.get_channel_handshake_config();
  // Channel type: static_remote_key, NO anchors. Anchor channels keep commitment fees minimal and
  // pay for confirmation at close time by CPFP from an on-chain UTXO held in reserve for every
  // close, which a wallet without on-chain funds does not have, and a force-close it cannot bump
  // could miss its HTLC deadlines. Without anchors the commitment carries its own fee (updated by
  // update_fee), so a close confirms with nothing but the channel's own money. The LSP uses the same
  // type so wallet channels need no negotiation fallback.
  handshake.set_negotiate_anchors_zero_fee_htlc_tx(false);
  // The default (10%) blocks a JIT forward that is most of a fresh channel's capacity.
  handshake.set_max_inbound_htlc_value_in_flight_percent_of_channel(100);
  // Private by default; openChannel({ announce: true }) overrides per channel.
  handshake.set_announce_for_forwarding(false);
  if (role === 'wallet') handshake.set_our_to_self_delay(WALLET_TO_SELF_DELAY);
  config.set_channel_handshake_config(handshake);

  const channelConfig = config.get_channel_config();
  if (role === 'wallet') {
    // JIT channels arrive as an HTLC the LSP forwards minus its opening fee. In 0.1 this flag is only
    // honoured from the DEFAULT config (per-channel update_channel_config silently drops it). The
    // node checks the skimmed fee against the limit recorded for that payment before claiming, so
    // an LSP cannot skim from payments it was not promised a fee on.
    channelConfig.set_accept_underpaying_htlcs(true);
  }
  config.set_channel_config(channelConfig);

  if (role !== 'wallet') {
    // Routing nodes accept public and private channels alike (the opener chooses). A wallet keeps
    // LDK's default and refuses announced channels: a phone is no routing node.
    const limits = config.get_channel_handshake_limits();
    limits.set_force_announced_channel_preference(false);
    // LDK's default already, set so that a change to either side shows here: wallets demand this
    limits.set_their_to_self_delay(Math.max(limits.get_their_to_self_delay(), WALLET_TO_SELF_DELAY));
    config.set_channel_handshake_limits(limits);
  }
  if (role === 'lsp') {
    config.set_accept_forwards_to_priv_channels(true); // else HTLCs to wallets fail unknown_next_peer
    config.set_accept_intercept_htlcs(true); // JIT: HTLCs to intercept SCIDs become events
  }
  if (role === 'router') config.set_accept_forwards_to_priv_channels(true);

  customize?.(config);
  return config;
}
