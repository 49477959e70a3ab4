// Keysend along the LSP's route with a payment id and preimage WE choose (derived from the stream
// key, the stream and the period), so after a crash the ledger can ask LDK about a payment it
// reserved but never saw the end of, and the payee can tell periods apart by payment hash. The
// node's payment handles send; the route's checks are shared with invoice periods (invoice.ts).
import { KEYSEND_CLTV_DELTA, type LightningNode, type RouteHintHop, type SendOptions } from '@lpw/node';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { StreamError } from './errors.ts';

/** The final CLTV delta our keysends ask for (the node's keysend delta). */
export const KEYSEND_FINAL_CLTV = KEYSEND_CLTV_DELTA;

/**
 * A route to the payee: hints beyond our channel to the LSP, and what they charge (the LSP client's
 * `route()`, with the amount it was priced for).
 */
export interface KeysendRoute {
  payee: string;
  /** The amount the route was priced for; the hint fees cover any amount up to it. */
  maxAmountMsat: bigint;
  feeMsat: bigint;
  /** From the LSP on (the first hop's channel is ours, the node knows it). */
  hints: RouteHintHop[];
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
 * The node's send options for one period along `route`: its id and fee limit, and no record in the
 * node's store (the ledger is the period's durable record). Refuses an amount above what the route
 * was priced for, or a route above the fee limit.
 */
export function periodSendOptions(
  route: KeysendRoute,
  amountMsat: bigint,
  paymentId: string,
  maxFeeMsat: bigint,
): SendOptions {
  if (amountMsat > route.maxAmountMsat)
    throw new StreamError('INTERNAL', 'amount above what the route was priced for');
  if (route.feeMsat > maxFeeMsat)
    throw new StreamError(
      'FEE_TOO_HIGH',
      `route fee ${route.feeMsat} msat exceeds the limit of ${maxFeeMsat} msat`,
    );
  return { routeHints: [route.hints], paymentId, maxFeeMsat, record: false };
}

/**
 * Hands one keysend to the node. Returns once LDK accepted it (the outcome arrives as a
 * `payment-sent`/`payment-failed` event with `secrets.paymentId`); throws when it was refused at
 * once, in which case nothing was sent.
 */
export async function sendKeysend(
  node: LightningNode,
  route: KeysendRoute,
  amountMsat: bigint,
  secrets: PeriodSecrets,
  maxFeeMsat: bigint,
): Promise<void> {
  await node.spontaneousPayment.send(route.payee, amountMsat, {
    ...periodSendOptions(route, amountMsat, secrets.paymentId, maxFeeMsat),
    preimage: secrets.preimage,
  });
}
