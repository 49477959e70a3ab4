// The BOLT 11 payment handle (ldk-node's payment/bolt11.rs shape): pay an invoice, along route
// hints someone else found when the node keeps no graph; the send returns the payment id once its
// record is durable, `outcome(id)` waits for the result. Invoices are read by our own decoder
// (@lpw/payment-request, spec-vector tested), not LDK's: LDK 0.1's parser refuses every invoice
// over 1,023 characters, which BOLT 11 allows. What LDK's `payment_parameters_from_invoice` would
// build from its parse is built here from the decoded fields.
import { type Bolt11Invoice, decodeBolt11, isExpired, type Network } from '@lpw/payment-request';
import * as ldk from 'lightningdevkit';
import { NodeError } from '../errors.ts';
import { type Own, withLdk } from '../ldk/free.ts';
import { fromHex, toHex, unwrap } from '../ldk/values.ts';
import { type OutboundContext, OutboundPayments, PAYMENT_RETRIES, type SendOptions } from './outbound.ts';
import { assertBigint, ldkRouteHints, nodeIdBytes, routeParamsWithHints } from './route.ts';

export interface Bolt11SendOptions extends SendOptions {
  /** Required for an invoice without an amount; must equal the amount of one that has it. */
  amountMsat?: bigint;
}

/**
 * Longest invoice we read: LND's limit (7,089, the most characters a QR code holds). BOLT 11 sets
 * none; this only bounds the work a pasted string can cost.
 */
export const MAX_INVOICE_CHARS = 7089;

/** The decoded invoice, or INVALID_INVOICE naming the rule it breaks. */
function decodeInvoice(bolt11: string): Bolt11Invoice {
  if (typeof bolt11 !== 'string' || bolt11.trim().length === 0 || bolt11.trim().length > MAX_INVOICE_CHARS) {
    throw new NodeError(
      'INVALID_INVOICE',
      `expected a BOLT 11 string of at most ${MAX_INVOICE_CHARS} characters`,
    );
  }
  try {
    return decodeBolt11(bolt11.trim());
  } catch (error) {
    throw new NodeError('INVALID_INVOICE', error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
}

/** The invoice's `9` field as LDK's features: their serialization, a u16 length then big-endian bytes. */
function ldkInvoiceFeatures(bits: readonly number[], own: Own): ldk.Bolt11InvoiceFeatures {
  const length = bits.length === 0 ? 0 : Math.floor(Math.max(...bits) / 8) + 1;
  const serialized = new Uint8Array(2 + length);
  new DataView(serialized.buffer).setUint16(0, length);
  for (const bit of bits) serialized[2 + length - 1 - Math.floor(bit / 8)]! |= 1 << (bit % 8);
  return unwrap<ldk.Bolt11InvoiceFeatures>(
    own(ldk.Bolt11InvoiceFeatures.constructor_read(serialized)),
    'INVALID_INVOICE',
    'features',
  );
}

/**
 * The invoice's own route hints as LDK's. Our decoder does not check their keys are curve points
 * (LDK panics on one that is not), so they pass the same checks as a caller's hints; the size of
 * the invoice bounds their number.
 */
function invoiceRouteHints(invoice: Bolt11Invoice, own: Own): ldk.RouteHint[] {
  const routes = invoice.routeHints.map((route) =>
    route.map((hop) => ({
      srcNodeId: hop.pubkey,
      shortChannelId: hop.shortChannelId,
      feeBaseMsat: Number(hop.feeBaseMsat),
      feeProportionalMillionths: hop.feeProportionalMillionths,
      cltvExpiryDelta: hop.cltvExpiryDelta,
    })),
  );
  try {
    return ldkRouteHints(routes, own, Number.POSITIVE_INFINITY);
  } catch (error) {
    if (error instanceof NodeError && error.code === 'INVALID_INPUT')
      throw new NodeError('INVALID_INVOICE', `route hint: ${error.message}`, { cause: error });
    throw error;
  }
}

export class Bolt11Payment extends OutboundPayments {
  constructor(
    ctx: OutboundContext,
    private readonly network: Network,
  ) {
    super(ctx);
  }

  /**
   * Hands the invoice's payment to LDK; resolves with the payment id (default: the payment hash,
   * so paying one invoice twice is refused) once its record is durable. Bad input, an expired or
   * foreign invoice, too little in the channels, or LDK's refusal throw a NodeError and send nothing.
   */
  async send(bolt11: string, options: Bolt11SendOptions = {}): Promise<string> {
    this.ctx.assertRunning();
    const invoice = decodeInvoice(bolt11);
    if (invoice.network !== this.network)
      throw new NodeError('INVALID_INVOICE', `invoice is for another network (${invoice.network})`);
    if (isExpired(invoice, Math.floor(this.ctx.now() / 1000))) throw new NodeError('INVOICE_EXPIRED');
    if (options.amountMsat !== undefined) assertBigint(options.amountMsat, 'amountMsat', 1n);
    if (
      invoice.amountMsat !== undefined &&
      options.amountMsat !== undefined &&
      options.amountMsat !== invoice.amountMsat
    ) {
      throw new NodeError(
        'INVALID_INPUT',
        `invoice is for ${invoice.amountMsat} msat, asked to pay ${options.amountMsat}`,
      );
    }
    const amountMsat = invoice.amountMsat ?? options.amountMsat;
    if (amountMsat === undefined)
      throw new NodeError('INVALID_INPUT', 'invoice has no amount: pass amountMsat');
    // LDK takes a u32: a larger `c` would wrap to a small delta instead of being refused
    if (invoice.minFinalCltvExpiryDelta > 0xffff_ffff)
      throw new NodeError('INVALID_INVOICE', 'min_final_cltv_expiry_delta out of range');
    const payee = nodeIdBytes(invoice.payeeNodeId, 'payee');
    const id =
      options.paymentId === undefined ? invoice.paymentHash : toHex(this.paymentIdBytes(options.paymentId));
    withLdk((own) => {
      if (toHex(this.ctx.channelManager.get_our_node_id()) === invoice.payeeNodeId)
        throw new NodeError('INVALID_INVOICE', 'invoice is our own');
      const hints = [...invoiceRouteHints(invoice, own), ...ldkRouteHints(options.routeHints, own)];
      const maxFeeMsat = this.checkSend(amountMsat, options);
      this.assertNotPaid(id);
      // LDK's defaults for a payee (path count, CLTV and length limits), as from_invoice would take them
      const base = own(
        ldk.PaymentParameters.constructor_from_node_id(payee, invoice.minFinalCltvExpiryDelta),
      );
      base.set_expiry_time(own(ldk.Option_u64Z.constructor_some(BigInt(invoice.expiresAt))));
      const routeParams = routeParamsWithHints(
        {
          payee,
          hints,
          features: ldkInvoiceFeatures(invoice.features, own),
          finalCltvExpiryDelta: invoice.minFinalCltvExpiryDelta,
          amountMsat,
          maxFeeMsat,
          base,
        },
        own,
      );
      const onion = own(ldk.RecipientOnionFields.constructor_secret_only(fromHex(invoice.paymentSecret)));
      if (invoice.metadata !== undefined)
        onion.set_payment_metadata(own(ldk.Option_CVec_u8ZZ.constructor_some(fromHex(invoice.metadata))));
      this.throwIfRefused(
        own(
          this.ctx.channelManager.send_payment(
            fromHex(invoice.paymentHash),
            onion,
            fromHex(id),
            routeParams,
            own(ldk.Retry.constructor_attempts(PAYMENT_RETRIES)),
          ),
        ),
      );
    });
    return this.recorded(
      {
        id,
        direction: 'outbound',
        kind: 'bolt11',
        status: 'pending',
        paymentHash: invoice.paymentHash,
        amountMsat,
        invoice: bolt11,
        description: invoice.description,
      },
      options.record,
    );
  }
}
