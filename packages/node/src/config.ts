// LDK UserConfig per role. Every non-default value here is load-bearing; see LDK-NOTES.md.
import * as ldk from 'lightningdevkit';

/**
 * - `wallet`: a phone; channels only from its LSP (0-conf, JIT), never routes for others.
 * - `lsp`: serves wallets (intercepts HTLCs for JIT channels, forwards to private channels) and
 *   routes to the public network.
 * - `router`: a plain routing node (devnet "public network" peers).
 */
export type NodeRole = 'wallet' | 'lsp' | 'router';

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
