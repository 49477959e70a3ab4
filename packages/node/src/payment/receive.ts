// Receiving: BOLT 11 invoices from LDK, and the payment hash and secret (plus the signature) for
// an invoice built elsewhere (the JIT invoice carrying the LSP's intercept SCID, invoice/jit.ts).
// Each invoice gets a pending inbound record unless it is stateless.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as ldk from 'lightningdevkit';
import { NodeError } from '../errors.ts';
import { withLdk } from '../ldk/free.ts';
import { option32Bytes, optionU16, optionU32, optionU64, toHex, unwrap } from '../ldk/values.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { PaymentStore } from '../payments.ts';
import { assertBigint } from './route.ts';

export interface InvoiceRequest {
  amountMsat?: bigint;
  description: string;
  expirySecs: number;
  minFinalCltvExpiryDelta?: number;
  /** Commit to SHA-256 of `description` instead of carrying it (LNURL-pay's metadata, LUD-06). */
  hashDescription?: boolean;
  /** What the payment record says instead of `description` (a hashed LNURL metadata is no text for a person). */
  recordDescription?: string;
  /**
   * Keep no payment record until it is paid (LDK's invoices need no state to be claimed): for
   * invoices handed to anyone who asks (an L402 challenge), which mostly go unpaid.
   */
  stateless?: boolean;
}

export interface InboundPaymentRequest {
  amountMsat?: bigint;
  expirySecs: number;
  maxLspFeeMsat?: bigint;
  description?: string;
}

export class ReceivePayments {
  constructor(
    private readonly channelManager: ldk.ChannelManager,
    private readonly keys: ldk.KeysManager,
    private readonly payments: PaymentStore,
    private readonly life: Lifecycle,
    private readonly wake: () => void,
  ) {}

  createInvoice(request: InvoiceRequest): { bolt11: string; paymentHash: string; expiresAt: number } {
    this.life.assertRunning();
    if (request.amountMsat !== undefined) assertBigint(request.amountMsat, 'amountMsat', 1n);
    if (
      typeof request.description !== 'string' ||
      new TextEncoder().encode(request.description).length > 639
    ) {
      throw new NodeError('INVALID_INPUT', '"description" expected a string of at most 639 bytes');
    }
    assertExpiry(request.expirySecs);
    const { paymentHash, bolt11, expiresAt } = withLdk((own) => {
      const invoiceDescription = own(
        request.hashDescription
          ? ldk.Bolt11InvoiceDescription.constructor_hash(
              own(ldk.Sha256.constructor_from_bytes(sha256(new TextEncoder().encode(request.description)))),
            )
          : ldk.Bolt11InvoiceDescription.constructor_direct(
              unwrap<ldk.Description>(
                own(ldk.Description.constructor_new(request.description)),
                'INVALID_INPUT',
                'description',
              ),
            ),
      );
      const invoice = unwrap<ldk.Bolt11Invoice>(
        own(
          this.channelManager.create_bolt11_invoice(
            own(optionU64(request.amountMsat)),
            invoiceDescription,
            own(optionU32(request.expirySecs)),
            own(optionU16(request.minFinalCltvExpiryDelta)),
            own(option32Bytes(undefined)),
          ),
        ),
        'INVOICE_CREATION_FAILED',
        'create_bolt11_invoice',
      );
      return {
        paymentHash: toHex(invoice.payment_hash()),
        bolt11: invoice.to_str(),
        expiresAt: Number(invoice.duration_since_epoch() + invoice.expiry_time()) * 1000,
      };
    });
    if (request.stateless) return { bolt11, paymentHash, expiresAt };
    this.payments.create({
      id: paymentHash,
      direction: 'inbound',
      kind: 'bolt11',
      status: 'pending',
      paymentHash,
      invoice: bolt11,
      description: request.recordDescription ?? request.description,
      ...(request.amountMsat !== undefined ? { amountMsat: request.amountMsat } : {}),
    });
    this.wake();
    return { bolt11, paymentHash, expiresAt };
  }

  createInboundPayment(request: InboundPaymentRequest): { paymentHash: string; paymentSecret: string } {
    this.life.assertRunning();
    if (request.amountMsat !== undefined) assertBigint(request.amountMsat, 'amountMsat', 1n);
    if (request.maxLspFeeMsat !== undefined) assertBigint(request.maxLspFeeMsat, 'maxLspFeeMsat');
    assertExpiry(request.expirySecs);
    const { paymentHash, paymentSecret } = withLdk((own) => {
      const pair = unwrap<ldk.TwoTuple_ThirtyTwoBytesThirtyTwoBytesZ>(
        own(
          this.channelManager.create_inbound_payment(
            own(optionU64(request.amountMsat)),
            request.expirySecs,
            own(optionU16(undefined)),
          ),
        ),
        'INVOICE_CREATION_FAILED',
        'create_inbound_payment',
      );
      return { paymentHash: toHex(pair.get_a()), paymentSecret: toHex(pair.get_b()) };
    });
    this.payments.create({
      id: paymentHash,
      direction: 'inbound',
      kind: 'inbound-payment',
      status: 'pending',
      paymentHash,
      maxSkimmedFeeMsat: request.maxLspFeeMsat ?? 0n,
      ...(request.amountMsat !== undefined ? { amountMsat: request.amountMsat } : {}),
      ...(request.description !== undefined ? { description: request.description } : {}),
    });
    this.wake();
    return { paymentHash, paymentSecret };
  }

  signInvoice(hash: Uint8Array): { signature: Uint8Array; recoveryId: number } {
    if (!(hash instanceof Uint8Array) || hash.length !== 32)
      throw new NodeError('INVALID_INPUT', '"hash" expected 32 bytes');
    const secret = this.keys.get_node_secret_key();
    try {
      const recovered = secp256k1.sign(hash, secret, { prehash: false, format: 'recovered' });
      return { recoveryId: recovered[0]!, signature: recovered.slice(1) };
    } finally {
      secret.fill(0);
    }
  }
}

function assertExpiry(expirySecs: number): void {
  if (!Number.isInteger(expirySecs) || expirySecs <= 0) {
    throw new NodeError('INVALID_INPUT', '"expirySecs" expected a positive integer');
  }
}
