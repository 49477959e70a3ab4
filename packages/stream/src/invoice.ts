// Pays one period's invoice (from an LNURL-pay recipient) along the LSP's route, with a payment id
// WE choose (derived from the stream key, the stream, the period and the attempt, as for keysend)
// rather than the usual payment id = payment hash: after a crash the ledger asks LDK about the
// period by that id, exactly as for keysend periods.
import type { LightningNode } from '@lpw/node';
import { type KeysendRoute, periodSendOptions } from './keysend.ts';
import type { PeriodInvoice } from './lnurl.ts';

/**
 * Hands the invoice's payment to the node. Returns once LDK accepted it (the outcome arrives as a
 * `payment-sent`/`payment-failed` event with `paymentId`); throws when it was refused at once (an
 * invoice for another amount among others), in which case nothing was sent.
 */
export async function sendInvoice(
  node: LightningNode,
  route: KeysendRoute,
  invoice: PeriodInvoice,
  amountMsat: bigint,
  paymentId: string,
  maxFeeMsat: bigint,
): Promise<void> {
  await node.bolt11Payment.send(invoice.bolt11, {
    ...periodSendOptions(route, amountMsat, paymentId, maxFeeMsat),
    amountMsat,
  });
}
