// The spontaneous payment handle (ldk-node's payment/spontaneous.rs shape): keysend to a node id,
// with a preimage and payment id of our choosing or the caller's (a stream derives both, so after a
// crash it can ask about a payment by id); the send returns the id once its record is durable.
import { sha256 } from '@noble/hashes/sha2.js';
import * as ldk from 'lightningdevkit';
import { NodeError } from '../errors.ts';
import { withLdk } from '../ldk/free.ts';
import { option32Bytes, toHex } from '../ldk/values.ts';
import { OutboundPayments, PAYMENT_RETRIES, type SendOptions } from './outbound.ts';
import { assertBigint, ldkRouteHints, nodeIdBytes, routeParamsWithHints } from './route.ts';

/** The final CLTV delta a keysend asks for (LDK's default for keysend). */
export const KEYSEND_CLTV_DELTA = 40;

export interface SpontaneousSendOptions extends SendOptions {
  /** 32 bytes; default random. Its hash is the payment hash the payee sees. */
  preimage?: Uint8Array;
}

export class SpontaneousPayment extends OutboundPayments {
  /**
   * Hands a keysend of `amountMsat` to `payeeNodeId` to LDK; resolves with the payment id once its
   * record is durable. Bad input, too little in the channels, or LDK's refusal throw a NodeError
   * and send nothing.
   */
  async send(payeeNodeId: string, amountMsat: bigint, options: SpontaneousSendOptions = {}): Promise<string> {
    this.ctx.assertRunning();
    const payee = nodeIdBytes(payeeNodeId, 'payeeNodeId');
    assertBigint(amountMsat, 'amountMsat', 1n);
    if (
      options.preimage !== undefined &&
      (!(options.preimage instanceof Uint8Array) || options.preimage.length !== 32)
    )
      throw new NodeError('INVALID_INPUT', '"preimage" expected 32 bytes');
    const idBytes =
      options.paymentId === undefined ? this.ctx.random(32) : this.paymentIdBytes(options.paymentId);
    const id = toHex(idBytes);
    const pending = withLdk((own) => {
      const hints = ldkRouteHints(options.routeHints, own);
      const maxFeeMsat = this.checkSend(amountMsat, options);
      this.assertNotPaid(id);
      const preimage = options.preimage ?? this.ctx.random(32);
      const routeParams = routeParamsWithHints(
        {
          payee,
          hints,
          features: own(ldk.Bolt11InvoiceFeatures.constructor_for_keysend(false)),
          finalCltvExpiryDelta: KEYSEND_CLTV_DELTA,
          amountMsat,
          maxFeeMsat,
          base: own(ldk.PaymentParameters.constructor_for_keysend(payee, KEYSEND_CLTV_DELTA, false)),
        },
        own,
      );
      const sent = own(
        this.ctx.channelManager.send_spontaneous_payment(
          own(option32Bytes(preimage)),
          own(ldk.RecipientOnionFields.constructor_spontaneous_empty()),
          idBytes,
          routeParams,
          own(ldk.Retry.constructor_attempts(PAYMENT_RETRIES)),
        ),
      );
      this.throwIfRefused(sent);
      return { paymentHash: toHex(sha256(preimage)) };
    });
    return this.recorded(
      {
        id,
        direction: 'outbound',
        kind: 'keysend',
        status: 'pending',
        paymentHash: pending.paymentHash,
        amountMsat,
      },
      options.record,
    );
  }
}
