// Keysend along the LSP's route with a payment id and preimage WE choose (derived from the stream
// key, the stream and the period), so after a crash the ledger can ask LDK about a payment it
// reserved but never saw the end of, and the payee can tell periods apart by payment hash. The
// route hints and LDK's refusals are shared with invoice periods (invoice.ts).
import { parseScid, type RoutesFindOutput } from '@lpw/api';
import type { LightningNode } from '@lpw/node';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import * as ldk from 'lightningdevkit';
import { StreamError } from './errors.ts';

/** The final CLTV delta our keysends ask for (LDK's default for keysend is 40 blocks). */
export const KEYSEND_FINAL_CLTV = 40;

/** A route to the payee: hints beyond our channel to the LSP, and what they charge. */
export interface KeysendRoute {
  payee: string;
  /** The amount the route was priced for; the hint fees cover any amount up to it. */
  maxAmountMsat: bigint;
  feeMsat: bigint;
  hints: Array<{ nodeId: string; scid: bigint; feeMsat: bigint; cltvExpiryDelta: number }>;
}

export interface PeriodSecrets {
  paymentId: string;
  preimage: Uint8Array;
  paymentHash: string;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Payment id and preimage of one attempt at one period of one stream: the same after a restart. */
export function periodSecrets(
  streamKey: Uint8Array,
  streamId: string,
  period: number,
  attempt: number,
): PeriodSecrets {
  const label = `${streamId}/${period}/${attempt}`;
  const paymentId = hmac(sha256, streamKey, utf8(`payment-id/${label}`));
  const preimage = hmac(sha256, streamKey, utf8(`preimage/${label}`));
  return { paymentId: bytesToHex(paymentId), preimage, paymentHash: bytesToHex(sha256(preimage)) };
}

/**
 * The LSP's answer to routes.find (the wallet keeps no graph) as keysend route hints for amounts up
 * to `maxAmountMsat`. Ask with `final_cltv_expiry_delta` = KEYSEND_FINAL_CLTV.
 */
export function keysendRoute(payee: string, maxAmountMsat: bigint, found: RoutesFindOutput): KeysendRoute {
  const hops = found.paths[0]?.hops;
  if (!hops || hops.length === 0)
    throw new StreamError('ROUTE_NOT_FOUND', `the LSP found no route to ${payee}`);
  const last = hops[hops.length - 1]!;
  if (last.node_id !== payee)
    throw new StreamError('ROUTE_NOT_FOUND', 'the LSP route does not end at the payee');
  // hop k ≥ 1 is the channel hops[k].short_channel_id from hops[k-1].node_id, which charges
  // hops[k-1].fee_msat and adds hops[k-1].cltv_expiry_delta (hops[0] is our channel to the LSP)
  const hints = hops.slice(1).map((hop, k) => {
    const from = hops[k]!;
    return {
      nodeId: from.node_id,
      scid: parseScid(hop.short_channel_id),
      feeMsat: BigInt(from.fee_msat),
      cltvExpiryDelta: from.cltv_expiry_delta,
    };
  });
  const feeMsat = hints.reduce((sum, h) => sum + h.feeMsat, 0n);
  return { payee, maxAmountMsat, feeMsat, hints };
}

/**
 * Hands one keysend to LDK. Returns once LDK accepted it (the outcome arrives as a
 * `payment-sent`/`payment-failed` event with `secrets.paymentId`); throws when LDK refused it at
 * once, in which case nothing was sent.
 */
export function sendKeysend(
  node: LightningNode,
  route: KeysendRoute,
  amountMsat: bigint,
  secrets: PeriodSecrets,
  maxFeeMsat: bigint,
): void {
  const payee = ldk.Payee.constructor_clear(
    hexToBytes(route.payee),
    routeHints(route, amountMsat, maxFeeMsat),
    ldk.Bolt11InvoiceFeatures.constructor_for_keysend(false),
    KEYSEND_FINAL_CLTV,
  );
  const sent = node.ldk.channelManager.send_spontaneous_payment(
    ldk.Option_ThirtyTwoBytesZ.constructor_some(secrets.preimage),
    ldk.RecipientOnionFields.constructor_spontaneous_empty(),
    hexToBytes(secrets.paymentId),
    routeParameters(payee, amountMsat, maxFeeMsat),
    ldk.Retry.constructor_attempts(0),
  );
  throwIfRefused(sent, 'keysend');
  node.peerHost.wake();
}

/**
 * The LSP's route as LDK route hints, for a payment of `amountMsat` with fees up to `maxFeeMsat`;
 * refuses an amount above what the route was priced for, or a route above the fee limit.
 */
export function routeHints(route: KeysendRoute, amountMsat: bigint, maxFeeMsat: bigint): ldk.RouteHint[] {
  if (amountMsat > route.maxAmountMsat)
    throw new StreamError('INTERNAL', 'amount above what the route was priced for');
  if (route.feeMsat > maxFeeMsat)
    throw new StreamError(
      'FEE_TOO_HIGH',
      `route fee ${route.feeMsat} msat exceeds the limit of ${maxFeeMsat} msat`,
    );
  const hops = route.hints.map((h) => {
    if (h.feeMsat > 0xffff_ffffn) throw new StreamError('ROUTE_NOT_FOUND', 'hop fee out of range');
    return ldk.RouteHintHop.constructor_new(
      hexToBytes(h.nodeId),
      h.scid,
      ldk.RoutingFees.constructor_new(Number(h.feeMsat), 0),
      h.cltvExpiryDelta,
      ldk.Option_u64Z.constructor_none(),
      ldk.Option_u64Z.constructor_none(),
    );
  });
  return hops.length > 0 ? [ldk.RouteHint.constructor_new(hops)] : [];
}

/** One path, LDK's default CLTV and path limits, the fee limit of one period. */
export function routeParameters(
  payee: ldk.Payee,
  amountMsat: bigint,
  maxFeeMsat: bigint,
): ldk.RouteParameters {
  const params = ldk.PaymentParameters.constructor_new(
    payee,
    ldk.Option_u64Z.constructor_none(),
    1008,
    1,
    19,
    2,
    [],
    [],
  );
  return ldk.RouteParameters.constructor_new(
    params,
    amountMsat,
    ldk.Option_u64Z.constructor_some(maxFeeMsat),
  );
}

/** LDK's immediate refusal of a payment as a StreamError (nothing left us). */
export function throwIfRefused(
  sent: ldk.Result_ThirtyTwoBytesRetryableSendFailureZ | ldk.Result_NoneRetryableSendFailureZ,
  what: string,
): void {
  if (sent.is_ok()) return;
  const failure = (
    sent as ldk.Result_ThirtyTwoBytesRetryableSendFailureZ_Err | ldk.Result_NoneRetryableSendFailureZ_Err
  ).err;
  const name = (ldk.RetryableSendFailure[failure] ?? String(failure)).replace('LDKRetryableSendFailure_', '');
  throw new StreamError(
    name === 'RouteNotFound' ? 'ROUTE_NOT_FOUND' : 'PAYMENT_FAILED',
    `${what} refused by LDK: ${name}`,
  );
}

/** What LDK remembers of an outbound payment id (it forgets resolved ones after a few timer ticks). */
export function recentPayment(
  node: LightningNode,
  paymentId: string,
): 'pending' | 'fulfilled' | 'abandoned' | undefined {
  for (const p of node.ldk.channelManager.list_recent_payments()) {
    const id =
      p instanceof ldk.RecentPaymentDetails_Pending ||
      p instanceof ldk.RecentPaymentDetails_Fulfilled ||
      p instanceof ldk.RecentPaymentDetails_Abandoned ||
      p instanceof ldk.RecentPaymentDetails_AwaitingInvoice
        ? p.payment_id
        : undefined;
    if (!id || bytesToHex(id) !== paymentId) continue;
    if (p instanceof ldk.RecentPaymentDetails_Pending) return 'pending';
    if (p instanceof ldk.RecentPaymentDetails_Fulfilled) return 'fulfilled';
    return 'abandoned';
  }
  return undefined;
}
