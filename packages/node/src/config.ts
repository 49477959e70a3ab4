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

  // --- fee policy (see FEE POLICY below) ---
  applyFeePolicy(config, role);
  // --- end fee policy ---

  customize?.(config);
  return config;
}

// ---------------------------------------------------------------------------------------------
// FEE POLICY: no fee spike and no fee disagreement force-closes a channel or strands an HTLC.
//
// Our channels have no anchors: the funder (the LSP, on every wallet channel) pays the whole
// commitment fee and alone sends update_fee, which moves only the funder's money. LDK 0.1 closes a
// channel over fees on the receiving side of update_fee, in two places:
//  (a) the new feerate is below our MinAllowedNonAnchorChannelRemoteFee (and below the current one);
//  (b) at the new feerate our "dust exposure" passes max_dust_htlc_exposure: HTLCs that become dust
//      plus (since LDK 0.0.124) the commitment fee in excess of OUR MaximumFeeEstimate. Measured on
//      the devnet (test/fee-weather.test.ts): a wallet offline through a ×100 spike still estimates
//      2,500 sat/kW when the LSP sends 50,000 on reconnect; excess (50,000 − 2,500) × 724 WU =
//      34,390 sat > LDK's default cap 10,000 × 2,500 msat = 25,000 sat → force close.
// The sender of update_fee never closes: LDK skips an update it cannot afford or that would
// over-expose itself, and retries at the next minute tick.
//
// Wallet (receives update_fee from its LSP only):
//  - Takes any feerate at or above the relay floor (253 sat/kW): MinAllowedNonAnchorChannelRemoteFee
//    is the floor (chain/fees.ts, trustFunderFeerate). Refusing means closing now, which costs the
//    person a to_self_delay wait and a sweep; a low commitment fee is the LSP's choice and money.
//  - max_dust_htlc_exposure = FixedLimitMsat(WALLET_MAX_DUST_EXPOSURE_MSAT): twice the largest
//    non-wumbo channel. The fee excess can never pass the funder's balance nor dust HTLCs what is
//    in flight (each ≤ the capacity), so (b) cannot fire whatever the wallet's estimate says
//    (stale after a night offline, or a second source disagreeing ×10 either way). A fixed limit
//    does not follow the estimator, unlike FeeRateMultiplier, which is the point.
//  - What the limit no longer bounds (the person's own small payments in flight, burnt as fees if a
//    channel ever closed with them) the node bounds itself (fee-policy.ts): a payment whose HTLC is
//    dust at the channel's feerate (354 sat + 703 WU × feerate) fails with FEES_TOO_HIGH, "network
//    fees are high right now; payments under N sats wait", when fees are high (commitment ≥ 2,500
//    sat/kW = 10 sat/vB) or the dust in flight would pass 25,000 sat. In fair weather streams of
//    1-sat payments go as before. Incoming small payments are the sender's risk and are accepted.
// LSP and routers:
//  - As funder, LDK's own update_fee rule: at each minute tick, raise to the 12-block estimate
//    (NonAnchorChannelFee) when higher, lower only when it falls under half; not capped, because
//    without anchors the commitment must confirm on its own fee (a cap would trade a force-close
//    now for a close that cannot confirm before its HTLCs expire).
//  - As non-funder (a router funded the channel), MinAllowedNonAnchorChannelRemoteFee is half the
//    lowest slow (1008-block) estimate of the last 24 h, minus 250: a funder that saw a crash
//    before our cache did, or reads a source 2× lower, is not closed on.
//  - max_dust_htlc_exposure stays LDK's FeeRateMultiplier(10,000) of MaximumFeeEstimate: the LSP
//    refreshes its estimates every 10 s on its own chain source, and its routers' fee excess over
//    our next-block estimate is rare; a fixed limit here would let a hostile router burn the LSP's
//    in-flight HTLCs to fees.
//
// When a channel must close while fees are high (test/fee-close.test.ts): the commitment carries
// the feerate of the LSP's last update_fee (its 12-block estimate), so it enters a mempool loaded
// below that level. Claims and sweeps are priced 1% over the estimate (LDK prices by weight, nodes
// by whole vbytes) and re-bumped to fresh estimates after every chain sync (node.ts). Measured:
// LDK 0.1 held an HTLC claim's fee to about half the HTLC; an HTLC whose claim costs more waits for
// the load to ease, another reason small payments wait while fees are high.
//
// Anchors? Not yet for wallet channels, though they are the better type for THIS issue: with
// anchors the commitment feerate stays low (update_fee disputes mostly vanish, MinAllowedAnchor is
// the mempool minimum) and HTLC fees leave the dust computation. But a commitment with anchors
// confirms only when someone pays a CPFP child from an on-chain UTXO. The LSP can do that for its
// own closes; the close that matters most — the wallet's, when the LSP is gone — needs a wallet
// UTXO held in reserve, which our wallets do not have (the product's premise: Lightning only).
// Zero-fee commitments (TRUC + pay-to-anchor) need the same reserve and are not in LDK 0.1.
// Switch when the wallet keeps an on-chain reserve (or a third party can bump it).
// ---------------------------------------------------------------------------------------------

/** Twice the largest non-wumbo channel (2^24 sat), in msat: above anything update_fee can reach. */
export const WALLET_MAX_DUST_EXPOSURE_MSAT = 2n * 16_777_216n * 1000n;

function applyFeePolicy(config: ldk.UserConfig, role: NodeRole): void {
  if (role !== 'wallet') return; // LDK's FeeRateMultiplier(10,000) for the LSP and routers
  const channelConfig = config.get_channel_config();
  channelConfig.set_max_dust_htlc_exposure(
    ldk.MaxDustHTLCExposure.constructor_fixed_limit_msat(WALLET_MAX_DUST_EXPOSURE_MSAT),
  );
  config.set_channel_config(channelConfig);
}
