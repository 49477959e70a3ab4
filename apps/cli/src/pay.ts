// Paying a BOLT 11 invoice from a wallet that keeps no graph: the LSP's route becomes route hints,
// and the fee limit is LDK's own `max_total_routing_fee_msat`, so no route dearer than it is tried.
import { parseScid } from '@lpw/api';
import type { LspClient } from '@lpw/lsp-server/client';
import type { LightningNode } from '@lpw/node';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import * as ldk from 'lightningdevkit';
import { CliError } from './errors.ts';

export interface ParsedInvoice {
  invoice: ldk.Bolt11Invoice;
  amountMsat: bigint | undefined;
  paymentHash: string;
  payee: string;
  expiresAtMs: number;
}

const CURRENCY: Record<LightningNode['network'], ldk.Currency> = {
  bitcoin: ldk.Currency.LDKCurrency_Bitcoin,
  testnet: ldk.Currency.LDKCurrency_BitcoinTestnet,
  signet: ldk.Currency.LDKCurrency_Signet,
  regtest: ldk.Currency.LDKCurrency_Regtest,
};

export function parseInvoice(bolt11: string, network: LightningNode['network']): ParsedInvoice {
  const text = bolt11.trim().replace(/^lightning:/i, '');
  const parsed = ldk.Bolt11Invoice.constructor_from_str(text);
  if (!(parsed instanceof ldk.Result_Bolt11InvoiceParseOrSemanticErrorZ_OK))
    throw new CliError('INVALID_INVOICE', 'not a valid BOLT 11 invoice');
  const invoice = parsed.res;
  if (invoice.currency() !== CURRENCY[network])
    throw new CliError('INVALID_INVOICE', `invoice is for another network than ${network}`);
  const amount = invoice.amount_milli_satoshis();
  return {
    invoice,
    amountMsat: amount instanceof ldk.Option_u64Z_Some ? amount.some : undefined,
    paymentHash: bytesToHex(invoice.payment_hash()),
    payee: bytesToHex(invoice.recover_payee_pub_key()),
    expiresAtMs: Number(invoice.duration_since_epoch() + invoice.expiry_time()) * 1000,
  };
}

/**
 * Hands the payment to LDK along the LSP's route. Returns the payment id (= payment hash: paying an
 * invoice twice is refused by LDK); the outcome arrives as a payment-sent / payment-failed event.
 */
export async function sendInvoicePayment(
  node: LightningNode,
  client: LspClient,
  parsed: ParsedInvoice,
  maxFeeMsat: bigint,
  beforeSend: (route: { feeMsat: bigint }) => void,
): Promise<string> {
  const { invoice } = parsed;
  if (parsed.amountMsat === undefined)
    throw new CliError('INVALID_INVOICE', 'invoice has no amount (amountless invoices are not supported)');
  if (parsed.expiresAtMs <= Date.now()) throw new CliError('INVOICE_EXPIRED', 'the invoice has expired');
  if (parsed.payee === node.nodeId) throw new CliError('INVALID_INVOICE', 'the invoice is our own');
  const finalCltv = Number(invoice.min_final_cltv_expiry_delta());
  const { paths } = await client.findRoute(parsed.payee, parsed.amountMsat, finalCltv);
  const hops = paths[0]?.hops;
  if (!hops || hops.length === 0) throw new CliError('ROUTE_NOT_FOUND', 'the LSP found no route');
  let feeMsat = 0n;
  const hints = hops.slice(1).map((hop, k) => {
    const from = hops[k]!;
    const hopFee = BigInt(from.fee_msat);
    if (hopFee > 0xffff_ffffn) throw new CliError('ROUTE_NOT_FOUND', 'hop fee out of range');
    feeMsat += hopFee;
    return ldk.RouteHintHop.constructor_new(
      hexToBytes(from.node_id),
      parseScid(hop.short_channel_id),
      ldk.RoutingFees.constructor_new(Number(hopFee), 0),
      from.cltv_expiry_delta,
      ldk.Option_u64Z.constructor_none(),
      ldk.Option_u64Z.constructor_none(),
    );
  });
  if (feeMsat > maxFeeMsat)
    throw new CliError('FEE_TOO_HIGH', `routing fee ${feeMsat} msat exceeds the limit of ${maxFeeMsat} msat`);
  const params = ldk.PaymentParameters.constructor_new(
    ldk.Payee.constructor_clear(
      hexToBytes(parsed.payee),
      hints.length > 0 ? [ldk.RouteHint.constructor_new(hints)] : [],
      invoice.features(),
      finalCltv,
    ),
    invoice.expires_at(),
    1008,
    1,
    19,
    2,
    [],
    [],
  );
  const routeParams = ldk.RouteParameters.constructor_new(
    params,
    parsed.amountMsat,
    ldk.Option_u64Z.constructor_some(maxFeeMsat),
  );
  const paymentHash = invoice.payment_hash();
  beforeSend({ feeMsat });
  const sent = node.ldk.channelManager.send_payment(
    paymentHash,
    ldk.RecipientOnionFields.constructor_secret_only(invoice.payment_secret()),
    Uint8Array.from(paymentHash),
    routeParams,
    ldk.Retry.constructor_attempts(0),
  );
  if (!(sent instanceof ldk.Result_NoneRetryableSendFailureZ_OK)) {
    const failure = (sent as ldk.Result_NoneRetryableSendFailureZ_Err).err;
    const name = (ldk.RetryableSendFailure[failure] ?? String(failure)).replace(
      'LDKRetryableSendFailure_',
      '',
    );
    throw new CliError(
      name === 'DuplicatePayment'
        ? 'PAYMENT_FAILED'
        : name === 'RouteNotFound'
          ? 'ROUTE_NOT_FOUND'
          : 'PAYMENT_FAILED',
      name === 'DuplicatePayment' ? 'this invoice was already paid or is being paid' : `LDK refused: ${name}`,
    );
  }
  node.peerHost.wake();
  return parsed.paymentHash;
}
