// The BOLT 11 payment handle (ldk-node's payment/bolt11.rs shape): pay an invoice, along route
// hints someone else found when the node keeps no graph; the send returns the payment id once its
// record is durable, `outcome(id)` waits for the result.
import { decodeBolt11 } from '@lpw/payment-request';
import * as ldk from 'lightningdevkit';
import { NodeError } from '../errors.ts';
import { withLdk } from '../ldk/free.ts';
import { bool, bytesEqual, someOf, toHex, unwrap } from '../ldk/values.ts';
import { type OutboundContext, OutboundPayments, PAYMENT_RETRIES, type SendOptions } from './outbound.ts';
import { assertBigint, ldkRouteHints, routeParamsWithHints } from './route.ts';

export interface Bolt11SendOptions extends SendOptions {
  /** Required for an invoice without an amount; must equal the amount of one that has it. */
  amountMsat?: bigint;
}

/** The invoice's description for the payment's record (LDK 0.1's bindings cannot read it). */
function descriptionOf(bolt11: string): string | undefined {
  try {
    return decodeBolt11(bolt11.trim()).description;
  } catch {
    return undefined; // LDK read it: a corner our decoder refuses costs only the description
  }
}

/** Longest invoice we hand LDK (BOLT 11's bech32 limit for a QR code). */
const MAX_INVOICE_CHARS = 7089;

export class Bolt11Payment extends OutboundPayments {
  constructor(
    ctx: OutboundContext,
    private readonly currency: ldk.Currency,
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
    if (typeof bolt11 !== 'string' || bolt11.length === 0 || bolt11.length > MAX_INVOICE_CHARS) {
      throw new NodeError('INVALID_INVOICE', 'expected a BOLT 11 string');
    }
    if (options.amountMsat !== undefined) assertBigint(options.amountMsat, 'amountMsat', 1n);
    const pending = withLdk((own) => {
      const invoice = unwrap<ldk.Bolt11Invoice>(
        own(ldk.Bolt11Invoice.constructor_from_str(bolt11.trim())),
        'INVALID_INVOICE',
        'parse',
      );
      if (invoice.currency() !== this.currency) {
        throw new NodeError(
          'INVALID_INVOICE',
          `invoice is for another network (${ldk.Currency[invoice.currency()]})`,
        );
      }
      if (bool(invoice.would_expire(BigInt(Math.floor(this.ctx.now() / 1000)))))
        throw new NodeError('INVOICE_EXPIRED');
      if (bytesEqual(invoice.recover_payee_pub_key(), this.ctx.channelManager.get_our_node_id())) {
        throw new NodeError('INVALID_INVOICE', 'invoice is our own');
      }
      const invoiceAmount = someOf<bigint>(own(invoice.amount_milli_satoshis()));
      if (
        invoiceAmount !== undefined &&
        options.amountMsat !== undefined &&
        options.amountMsat !== invoiceAmount
      ) {
        throw new NodeError(
          'INVALID_INPUT',
          `invoice is for ${invoiceAmount} msat, asked to pay ${options.amountMsat}`,
        );
      }
      const amountMsat = invoiceAmount ?? options.amountMsat;
      if (amountMsat === undefined)
        throw new NodeError('INVALID_INPUT', 'invoice has no amount: pass amountMsat');
      const hints = ldkRouteHints(options.routeHints, own);
      const paymentId = options.paymentId === undefined ? undefined : this.paymentIdBytes(options.paymentId);
      const maxFeeMsat = this.checkSend(amountMsat, options);

      const params = unwrap<ldk.ThreeTuple_ThirtyTwoBytesRecipientOnionFieldsRouteParametersZ>(
        own(
          invoiceAmount !== undefined
            ? ldk.UtilMethods.constructor_payment_parameters_from_invoice(invoice)
            : ldk.UtilMethods.constructor_payment_parameters_from_variable_amount_invoice(
                invoice,
                amountMsat,
              ),
        ),
        'INVALID_INVOICE',
        'payment parameters',
      );
      const routeParams = routeParamsWithHints(
        {
          payee: invoice.recover_payee_pub_key(),
          hints: [...own(invoice.route_hints()), ...hints],
          features: own(invoice.features()),
          finalCltvExpiryDelta: Number(invoice.min_final_cltv_expiry_delta()),
          amountMsat,
          maxFeeMsat,
          base: own(own(params.get_c()).get_payment_params()),
        },
        own,
      );
      const paymentHash = params.get_a();
      const idBytes = paymentId ?? Uint8Array.from(paymentHash);
      const id = toHex(idBytes);
      this.assertNotPaid(id);
      this.throwIfRefused(
        own(
          this.ctx.channelManager.send_payment(
            paymentHash,
            own(params.get_b()),
            idBytes,
            routeParams,
            own(ldk.Retry.constructor_attempts(PAYMENT_RETRIES)),
          ),
        ),
      );
      return { id, paymentHash: toHex(paymentHash), amountMsat, description: descriptionOf(bolt11) };
    });
    return this.recorded(
      {
        id: pending.id,
        direction: 'outbound',
        kind: 'bolt11',
        status: 'pending',
        paymentHash: pending.paymentHash,
        amountMsat: pending.amountMsat,
        invoice: bolt11,
        description: pending.description,
      },
      options.record,
    );
  }
}
