// Pays one period's invoice (from an LNURL-pay recipient) along the LSP's route, with a payment id
// WE choose (derived from the stream key, the stream, the period and the attempt, as for keysend)
// rather than LDK's usual payment id = payment hash: after a crash the ledger asks LDK about the
// period by that id, exactly as for keysend periods.
import type { LightningNode } from '@lpw/node';
import { hexToBytes } from '@noble/hashes/utils.js';
import * as ldk from 'lightningdevkit';
import { StreamError } from './errors.ts';
import { type KeysendRoute, routeHints, routeParameters, throwIfRefused } from './keysend.ts';
import type { PeriodInvoice } from './lnurl.ts';

/**
 * Hands the invoice's payment to LDK. Returns once LDK accepted it (the outcome arrives as a
 * `payment-sent`/`payment-failed` event with `paymentId`); throws when LDK refused it at once, in
 * which case nothing was sent.
 */
export function sendInvoice(
  node: LightningNode,
  route: KeysendRoute,
  invoice: PeriodInvoice,
  amountMsat: bigint,
  paymentId: string,
  maxFeeMsat: bigint,
): void {
  const parsed = ldk.Bolt11Invoice.constructor_from_str(invoice.bolt11);
  if (!(parsed instanceof ldk.Result_Bolt11InvoiceParseOrSemanticErrorZ_OK))
    throw new StreamError('INVOICE_REFUSED', 'LDK cannot read the recipient’s invoice');
  const fromInvoice = ldk.UtilMethods.constructor_payment_parameters_from_invoice(parsed.res);
  if (!(fromInvoice instanceof ldk.Result_C3Tuple_ThirtyTwoBytesRecipientOnionFieldsRouteParametersZNoneZ_OK))
    throw new StreamError('INVOICE_REFUSED', 'the recipient’s invoice has no amount');
  if (fromInvoice.res.get_c().get_final_value_msat() !== amountMsat)
    throw new StreamError('INVOICE_REFUSED', 'the recipient’s invoice is for another amount');
  // the invoice's own hints (a private payee) beside the LSP's route to its payee
  const payee = ldk.Payee.constructor_clear(
    parsed.res.recover_payee_pub_key(),
    [...parsed.res.route_hints(), ...routeHints(route, amountMsat, maxFeeMsat)],
    parsed.res.features(),
    Number(parsed.res.min_final_cltv_expiry_delta()),
  );
  const sent = node.ldk.channelManager.send_payment(
    fromInvoice.res.get_a(),
    fromInvoice.res.get_b(),
    hexToBytes(paymentId),
    routeParameters(payee, amountMsat, maxFeeMsat),
    ldk.Retry.constructor_attempts(0),
  );
  throwIfRefused(sent, 'payment');
  node.peerHost.wake();
}
