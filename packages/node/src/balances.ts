// One definition of the node's money, in buckets that never overlap: open channels (spendable,
// reserve, in flight), the on-chain wallet (confirmed, unconfirmed) and what closed channels still
// owe (LDK's claims and the sweeper's outputs, with their countdown). CLI and PWA show these.
//
// The hazard is counting one output twice on its way from a channel to the wallet: LDK keeps
// reporting a claim for ANTI_REORG_DELAY blocks after it became a wallet coin, knows nothing of
// the mempool, and the sweeper keeps an output until its sweep is deep. Every rule below that
// drops an amount names the outpoint that the wallet counts instead.
import { hex } from '@scure/base';
import * as ldk from 'lightningdevkit';
import type { Spend } from './chain/sync.ts';
import { type Own, withLdk } from './ldk/free.ts';
import { bool, channelIdHex, isNullPointer, outpointKey, toHex } from './ldk/values.ts';
import type { OnchainWallet, WalletTx } from './wallet/onchain.ts';
import type { Sweeper, SweptOutput } from './wallet/sweeper.ts';

/** Bitcoin's target block interval: what a countdown in blocks means in hours. */
export const MINUTES_PER_BLOCK = 10;

export const hoursOf = (blocks: number): number => Math.round((blocks * MINUTES_PER_BLOCK) / 6) / 10;

export type ClaimableKind =
  /** The closing transaction is not confirmed yet: the countdown starts when it is. */
  | 'awaiting-close'
  /** Confirmed; ours after `blocksLeft` (the CSV delay of a force close, or reorg safety). */
  | 'awaiting-confirmations'
  /** An HTLC that is ours with the preimage, or the peer's after a timeout. */
  | 'htlc'
  /** An output of the peer's revoked state: ours to claim. */
  | 'revoked';

export interface ClaimableOutput {
  kind: ClaimableKind;
  amountMsat: bigint;
  /** How the channel closed, when LDK says. */
  source: 'our-force-close' | 'their-force-close' | 'cooperative' | 'htlc' | undefined;
  /** Block height from which it is ours (spendable or swept); undefined while the close is unconfirmed. */
  claimableAtHeight: number | undefined;
  blocksLeft: number | undefined;
  /** `blocksLeft` at 10 minutes a block. */
  hoursLeft: number | undefined;
}

/** A claim of one closed channel (LDK's view, less what the wallet already counts). */
export interface ChannelClaim extends ClaimableOutput {
  channelId: string;
  fundingTxo: string;
}

/** An output of a closed channel the sweeper is moving into the wallet, not in the wallet yet. */
export interface PendingSweep extends SweptOutput {
  amountMsat: bigint;
}

export interface Balances {
  /** Spendable Lightning: what open channels can send (LDK's outbound capacity). */
  lightningOutboundMsat: bigint;
  /**
   * Ours in open channels but not sendable: the reserve the peer makes us keep (and a funder's
   * fee buffer). A close pays it to us. Whole sats: what a close of the channels would pay now,
   * less `lightningOutboundMsat`.
   */
  lightningReserveMsat: bigint;
  /** In flight: our outbound HTLCs not resolved yet (back to us if they fail). */
  inFlightMsat: bigint;
  /** Receivable: what open channels can receive. Not ours, not in the total. */
  lightningInboundMsat: bigint;
  /** What usable channels can send in one payment now (next-HTLC limits); part of `lightningOutboundMsat`. */
  spendableNowMsat: bigint;
  /** On-chain wallet: confirmed outputs (what a send or a channel funding spends). */
  onchainConfirmedMsat: bigint;
  /** On-chain wallet: outputs of unconfirmed transactions (incoming, change, closes, sweeps). */
  onchainUnconfirmedMsat: bigint;
  /** Claimable after a close: the sum of `claims` and `sweeps`. */
  closingMsat: bigint;
  /** Per closed channel, what LDK still has to claim, with its countdown. */
  claims: ChannelClaim[];
  /** Outputs handed to the sweeper whose sweep is not a wallet coin yet. */
  sweeps: PendingSweep[];
  /** Every bucket that is ours, each sat once: outbound + reserve + in flight + on chain + closing. */
  totalMsat: bigint;
}

export interface BalanceParts {
  channelManager: ldk.ChannelManager;
  chainMonitor: ldk.ChainMonitor;
  wallet: Pick<OnchainWallet, 'utxos' | 'transactions' | 'isMine'>;
  sweeper: Pick<Sweeper, 'tracked'>;
  /**
   * Recovery (recovery.ts): `closedByPeer`, funding outpoints whose closing transaction is known;
   * `awaiting`, channels closed for recovery whose peer has not closed yet — their restored state
   * may be older and richer than the truth, so they count nothing until the peer's close is seen.
   */
  settlement: { closedByPeer: Set<string>; awaiting: Set<string> };
  /** Whether our outbound payment with this hash (hex) is known to have succeeded (the payee has the preimage). */
  paid: (paymentHash: string) => boolean;
  /**
   * The transaction spending an outpoint (`txid:vout`): confirmed (told to LDK), or one of ours
   * broadcast and not confirmed yet. `ours`: this node broadcast it. How a claim on our own
   * commitment is tied to its outpoint, and an HTLC to its second-stage output.
   */
  spendOf: (outpoint: string) => (Spend & { ours: boolean }) | undefined;
}

const SOURCES: Record<ldk.BalanceSource, ClaimableOutput['source']> = {
  [ldk.BalanceSource.LDKBalanceSource_HolderForceClosed]: 'our-force-close',
  [ldk.BalanceSource.LDKBalanceSource_CounterpartyForceClosed]: 'their-force-close',
  [ldk.BalanceSource.LDKBalanceSource_CoopClose]: 'cooperative',
  [ldk.BalanceSource.LDKBalanceSource_Htlc]: 'htlc',
};

/** The node's balances; every LDK object read here is freed before it returns (ldk/free.ts). */
export function computeBalances(parts: BalanceParts): Balances {
  return withLdk((own) => balancesOf(parts, own));
}

function balancesOf(parts: BalanceParts, own: Own): Balances {
  const { channelManager: cm, chainMonitor, wallet, sweeper, settlement } = parts;
  const height = own(cm.current_best_block()).get_height();
  const ourNodeId = cm.get_our_node_id();
  const utxos = wallet.utxos();
  const walletTxs = wallet.transactions();
  const spenderOf = new Map<string, WalletTx>();
  for (const tx of walletTxs) for (const i of tx.inputs) spenderOf.set(`${i.txid}:${i.vout}`, tx);
  // a channel whose funding output a wallet transaction spends is closed, whatever LDK has seen yet
  const closingTxOf = (fundingTxo: string) => spenderOf.get(fundingTxo);

  let lightningOutboundMsat = 0n;
  let lightningInboundMsat = 0n;
  let spendableNowMsat = 0n;
  let inFlightMsat = 0n;
  const open = new Set<string>();
  for (const c of own(cm.list_channels())) {
    const txo = own(c.get_funding_txo());
    const fundingTxo = isNullPointer(txo) ? undefined : outpointKey(txo);
    if (fundingTxo && closingTxOf(fundingTxo)) continue;
    if (fundingTxo) open.add(fundingTxo);
    lightningOutboundMsat += c.get_outbound_capacity_msat();
    lightningInboundMsat += c.get_inbound_capacity_msat();
    if (bool(c.get_is_usable())) spendableNowMsat += c.get_next_outbound_htlc_limit_msat();
    for (const h of own(c.get_pending_outbound_htlcs())) inFlightMsat += h.get_amount_msat();
  }

  const monitors = own(chainMonitor.list_monitors()).map((m) => ({
    outpoint: own(m.get_a()),
    channelId: own(m.get_b()),
  }));
  const stub = (o: ldk.OutPoint) => own(ignoredChannel(o, ourNodeId, own));
  // open channels: what closing them now pays us (LDK's ClaimableOnChannelClose, whole sats)
  let openOnCloseMsat = 0n;
  const closedMonitors = monitors.filter((m) => !open.has(outpointKey(m.outpoint)));
  for (const b of own(chainMonitor.get_claimable_balances(closedMonitors.map((m) => stub(m.outpoint)))))
    if (b instanceof ldk.Balance_ClaimableOnChannelClose) openOnCloseMsat += b.amount_satoshis * 1000n;
  const lightningReserveMsat =
    openOnCloseMsat > lightningOutboundMsat ? openOnCloseMsat - lightningOutboundMsat : 0n;

  // the sweeper keeps an output until its sweep is ANTI_REORG_DELAY deep; once a wallet transaction
  // spends it (the sweep pays the wallet) or it pays the wallet itself, the wallet counts it
  const walletCoins = new Set(utxos.map((u) => `${u.txid}:${u.vout}`));
  /** Outputs the wallet counts: its coins, and outputs a wallet transaction spends (into its coins). */
  const counted = (outpoint: string) => spenderOf.has(outpoint) || walletCoins.has(outpoint);
  const tracked = sweeper.tracked();
  const swept = new Set(tracked.map((s) => s.outpoint));
  const sweeps = tracked
    .filter((s) => !counted(s.outpoint))
    .map((s) => ({ ...s, amountMsat: s.valueSat * 1000n }));

  const claims: ChannelClaim[] = [];
  for (const monitor of closedMonitors) {
    const fundingTxo = outpointKey(monitor.outpoint);
    const closingTx = closingTxOf(fundingTxo);
    if (settlement.awaiting.has(fundingTxo) && !closingTx && !settlement.closedByPeer.has(fundingTxo))
      continue;
    const others = monitors.filter((m) => m !== monitor).map((m) => stub(m.outpoint));
    let balances = own(chainMonitor.get_claimable_balances(others));
    if (closingTx || settlement.closedByPeer.has(fundingTxo)) balances = balances.filter(notPaidToWallet);
    const channelId = channelIdHex(monitor.channelId);
    // the closing transaction's outputs that are not the wallet's, and whether a wallet transaction
    // (a justice or HTLC claim paying the wallet) spends them already
    const closeOutputs = closingTx
      ? closingTx.outputs.flatMap((o, vout) =>
          wallet.isMine(hex.decode(o.scriptHex))
            ? []
            : [{ valueSat: o.valueSat, claimed: spenderOf.has(`${closingTx.txid}:${vout}`) }],
        )
      : undefined;
    // a close the wallet does not know (our own commitment pays it nothing before the CSV delay):
    // by the outpoints of the transaction spending the funding output, from the chain or our broadcasts
    const commitment = closingTx ? undefined : parts.spendOf(fundingTxo);
    const remaining = commitment
      ? onOwnCommitment(balances, commitment, parts, (outpoint) => swept.has(outpoint) || counted(outpoint))
      : withoutCounted(
          balances,
          closeOutputs,
          tracked.filter((s) => s.channelId === channelId).map((s) => s.valueSat),
          parts.paid,
        ).map((b) => ({ balance: b, valueSat: amountSat(b, parts.paid) }));
    for (const { balance, valueSat } of remaining) {
      const output = claimableOutput(balance, valueSat, height);
      if (output.amountMsat > 0n) claims.push({ channelId, fundingTxo, ...output });
    }
  }

  let onchainConfirmedMsat = 0n;
  let onchainUnconfirmedMsat = 0n;
  for (const u of utxos) {
    if (u.confirmed) onchainConfirmedMsat += u.valueSat * 1000n;
    else onchainUnconfirmedMsat += u.valueSat * 1000n;
  }
  const closingMsat =
    claims.reduce((n, c) => n + c.amountMsat, 0n) + sweeps.reduce((n, s) => n + s.amountMsat, 0n);
  return {
    lightningOutboundMsat,
    lightningReserveMsat,
    inFlightMsat,
    lightningInboundMsat,
    spendableNowMsat,
    onchainConfirmedMsat,
    onchainUnconfirmedMsat,
    closingMsat,
    claims,
    sweeps,
    totalMsat:
      lightningOutboundMsat +
      lightningReserveMsat +
      inFlightMsat +
      onchainConfirmedMsat +
      onchainUnconfirmedMsat +
      closingMsat,
  };
}

/**
 * Once the closing transaction is known, LDK's estimate of the close (ClaimableOnChannelClose)
 * and its claims on the outputs paying our own keys — our output of a cooperative close (shutdown
 * script) and our to_remote on the peer's commitment (static payment key), both wallet scripts
 * (ldk/signer-provider.ts) — are the closing transaction's wallet outputs, which the wallet counts.
 * What stays is HTLC claims and revoked outputs, which need a transaction of ours to become coins.
 */
function notPaidToWallet(b: ldk.Balance): boolean {
  if (b instanceof ldk.Balance_ClaimableOnChannelClose) return false;
  if (b instanceof ldk.Balance_ClaimableAwaitingConfirmations)
    return b.source === ldk.BalanceSource.LDKBalanceSource_Htlc;
  return true;
}

/**
 * Drops LDK's claims on outputs counted elsewhere, or on none. With the closing transaction known
 * (`closeOutputs`, its outputs not paying the wallet), an HTLC or revoked-output claim is kept only
 * while its output is on that transaction and no wallet transaction spends it: a claim paying the
 * wallet is counted there (LDK drops it only ANTI_REORG_DELAY blocks after it confirms, and never
 * sees the mempool), and a claim whose output the closing transaction lacks is a stale monitor's
 * (restored from a backup). `sweptSat`: outputs of this channel the sweeper holds (LDK hands a
 * matured output over and reports it for a block more). LDK 0.1's Balance names no outpoint;
 * within one channel such a balance is its output's value (LDK's definition), so each output's
 * value picks its one entry.
 */
function withoutCounted(
  balances: ldk.Balance[],
  closeOutputs: { valueSat: bigint; claimed: boolean }[] | undefined,
  sweptSat: bigint[],
  paid: (paymentHash: string) => boolean,
): ldk.Balance[] {
  const outputs = closeOutputs ? [...closeOutputs] : undefined;
  const swept = [...sweptSat];
  return balances.filter((b) => {
    const amount = amountSat(b, paid);
    const onClose =
      b instanceof ldk.Balance_CounterpartyRevokedOutputClaimable ||
      b instanceof ldk.Balance_ContentiousClaimable ||
      b instanceof ldk.Balance_MaybeTimeoutClaimableHTLC ||
      b instanceof ldk.Balance_MaybePreimageClaimableHTLC ||
      (b instanceof ldk.Balance_ClaimableAwaitingConfirmations &&
        b.source === ldk.BalanceSource.LDKBalanceSource_Htlc &&
        outputs !== undefined);
    if (onClose && outputs) {
      const i = outputs.findIndex((o) => o.valueSat === amount);
      if (i < 0) return false;
      const [output] = outputs.splice(i, 1);
      return !output!.claimed;
    }
    if (b instanceof ldk.Balance_ClaimableAwaitingConfirmations) {
      const i = swept.indexOf(amount);
      if (i >= 0) swept.splice(i, 1);
      return i < 0;
    }
    return true;
  });
}

/**
 * LDK's claims on a closing transaction the wallet does not know (our own commitment), each tied
 * to its output: a P2WSH output (to_local or an HTLC; the peer's to_remote pays a key) whose value
 * is the claim's amount (LDK 0.1's Balance names no outpoint; within one commitment a claim's
 * amount is its output's value). An HTLC output spent by our second-stage transaction (HTLC-timeout
 * or HTLC-success, P2WSH paying us after the CSV delay) is followed to that transaction's output,
 * which is what we get: LDK keeps reporting the HTLC's value, the second stage's fee more. A claim
 * whose output the sweeper holds or the wallet
 * counts (`isCounted`, by outpoint) is dropped there.
 */
function onOwnCommitment(
  balances: ldk.Balance[],
  commitment: Spend,
  parts: Pick<BalanceParts, 'spendOf' | 'paid'>,
  isCounted: (outpoint: string) => boolean,
): { balance: ldk.Balance; valueSat: bigint }[] {
  const unmatched = new Set(commitment.outputs.flatMap((o, vout) => (isP2wsh(o.script) ? [vout] : [])));
  const kept: { balance: ldk.Balance; valueSat: bigint }[] = [];
  for (const b of balances) {
    const amount = amountSat(b, parts.paid);
    const vout = [...unmatched].find((v) => commitment.outputs[v]!.valueSat === amount);
    if (vout === undefined) {
      kept.push({ balance: b, valueSat: amount }); // LDK's estimate before a close, or dust
      continue;
    }
    unmatched.delete(vout);
    let outpoint = `${commitment.txid}:${vout}`;
    let valueSat = amount;
    const second = htlcSecondStage(b, parts.spendOf(outpoint));
    if (second) {
      outpoint = `${second.txid}:0`;
      valueSat = second.outputs[0]!.valueSat;
    }
    if (!isCounted(outpoint)) kept.push({ balance: b, valueSat });
  }
  return kept;
}

const isP2wsh = (script: Uint8Array) => script.length === 34 && script[0] === 0 && script[1] === 0x20;

/**
 * Our second-stage transaction spending an HTLC output, if `b` is a claim on one and the spend is
 * ours: LDK says so once it confirmed (ClaimableAwaitingConfirmations from an HTLC); before, only a
 * transaction we broadcast is ours (the peer's spend of the same output pays the peer).
 */
function htlcSecondStage(b: ldk.Balance, spend: (Spend & { ours: boolean }) | undefined): Spend | undefined {
  if (spend?.outputs.length !== 1) return undefined;
  if (b instanceof ldk.Balance_ClaimableAwaitingConfirmations)
    return b.source === ldk.BalanceSource.LDKBalanceSource_Htlc ? spend : undefined;
  const htlc =
    b instanceof ldk.Balance_MaybeTimeoutClaimableHTLC || b instanceof ldk.Balance_ContentiousClaimable;
  return htlc && spend.ours ? spend : undefined;
}

/**
 * LDK's claimable amount, except an HTLC of our own payment waiting for its timeout: LDK says 0
 * (it counts the payment as sent), but unless the payee claims it with the preimage the timeout
 * brings it back, and until then it is in flight, not gone. (An incoming HTLC whose preimage we
 * lack stays 0: not ours.)
 */
function amountSat(b: ldk.Balance, paid: (paymentHash: string) => boolean): bigint {
  if (b instanceof ldk.Balance_MaybeTimeoutClaimableHTLC && !paid(toHex(b.payment_hash)))
    return b.amount_satoshis;
  return b.claimable_amount_satoshis();
}

function claimableOutput(b: ldk.Balance, amountSat: bigint, height: number): ClaimableOutput {
  const amountMsat = amountSat * 1000n;
  const at = (kind: ClaimableKind, h: number | undefined, source: ClaimableOutput['source']) => {
    const blocksLeft = h === undefined ? undefined : Math.max(0, h - height);
    return {
      kind,
      amountMsat,
      source,
      claimableAtHeight: h,
      blocksLeft,
      hoursLeft: blocksLeft === undefined ? undefined : hoursOf(blocksLeft),
    };
  };
  if (b instanceof ldk.Balance_ClaimableAwaitingConfirmations)
    return at('awaiting-confirmations', b.confirmation_height, SOURCES[b.source]);
  if (b instanceof ldk.Balance_ContentiousClaimable) return at('htlc', b.timeout_height, 'htlc');
  if (b instanceof ldk.Balance_MaybeTimeoutClaimableHTLC) return at('htlc', b.claimable_height, 'htlc');
  if (b instanceof ldk.Balance_MaybePreimageClaimableHTLC) return at('htlc', b.expiry_height, 'htlc');
  if (b instanceof ldk.Balance_CounterpartyRevokedOutputClaimable) return at('revoked', height, undefined);
  return at('awaiting-close', undefined, undefined); // ClaimableOnChannelClose
}

/**
 * A stand-in ChannelDetails whose only meaningful field is the funding outpoint: all
 * ChainMonitor.get_claimable_balances compares to leave a monitor out. The counterparty is our own
 * (valid) node id, because the bindings panic on a key that is not a curve point.
 */
function ignoredChannel(outpoint: ldk.OutPoint, ourNodeId: Uint8Array, own: Own): ldk.ChannelDetails {
  const noU64 = () => own(ldk.Option_u64Z.constructor_none());
  const noU32 = () => own(ldk.Option_u32Z.constructor_none());
  return ldk.ChannelDetails.constructor_new(
    own(ldk.ChannelId.constructor_new_zero()),
    own(
      ldk.ChannelCounterparty.constructor_new(
        ourNodeId,
        own(ldk.InitFeatures.constructor_empty()),
        0n,
        null,
        noU64(),
        noU64(),
      ),
    ),
    outpoint,
    null,
    noU64(),
    noU64(),
    noU64(),
    0n,
    noU64(),
    0n,
    noU32(),
    0n,
    0n,
    0n,
    0n,
    noU32(),
    noU32(),
    own(ldk.Option_u16Z.constructor_none()),
    false,
    false,
    own(ldk.Option_ChannelShutdownStateZ.constructor_none()),
    false,
    false,
    noU64(),
    noU64(),
    null,
    [],
    [],
  );
}
