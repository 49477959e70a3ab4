// Receiving: BOLT 11 invoices from LDK, and the payment hash and secret (plus the signature) for
// an invoice built elsewhere (the JIT invoice carrying the LSP's intercept SCID, invoice/jit.ts).
// Each invoice gets a pending inbound record unless it is stateless.
//
// LDK built without std (as the bindings are) keeps time by its manager's highest seen time: the
// manager's creation, then block header times only. That lags the clock by the newest block's age
// (on the devnet, whose headers are old, by the node's age). LDK dates its invoices by that time, so
// a short one could be born expired: we keep LDK's fields (hash, secret, route hints, features) and
// sign them again, dated by the node's clock. LDK also accepts a payment only until its time passes
// the invoice's LDK time + expiry + 2 h; when its time lags ours by more than those 2 h, we ask it
// for a window that long, so the payee never refuses a payment its invoice still allows.
import { type Bolt11Invoice, decodeBolt11, encodeBolt11 } from '@lpw/payment-request';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as ldk from 'lightningdevkit';
import { NodeError } from '../errors.ts';
import { type Own, withLdk } from '../ldk/free.ts';
import { option32Bytes, optionU16, optionU32, optionU64, unwrap } from '../ldk/values.ts';
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
    private readonly now: () => number,
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
    const timestamp = Math.floor(this.now() / 1000);
    const { paymentHash, bolt11 } = withLdk((own) => {
      const description = own(
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
      const made = this.ldkInvoice(own, { ...request, description }, timestamp);
      const signer = (hash: Uint8Array) => {
        const { signature, recoveryId } = this.signInvoice(hash);
        return { signature64: signature, recovery: recoveryId };
      };
      const fields = {
        network: made.network,
        amountMsat: made.amountMsat,
        timestamp,
        paymentHash: made.paymentHash,
        paymentSecret: made.paymentSecret,
        ...(made.descriptionHash !== undefined
          ? { descriptionHash: made.descriptionHash }
          : { description: made.description }),
        expirySeconds: request.expirySecs,
        minFinalCltvExpiryDelta: made.minFinalCltvExpiryDelta,
        routeHints: made.routeHints,
        features: made.features,
      };
      return { paymentHash: made.paymentHash, bolt11: encodeBolt11(fields, signer) };
    });
    const expiresAt = (timestamp + request.expirySecs) * 1000;
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
      const empty = unwrap<ldk.Description>(
        own(ldk.Description.constructor_new('')),
        'INVALID_INPUT',
        'description',
      );
      const description = own(ldk.Bolt11InvoiceDescription.constructor_direct(empty));
      return this.ldkInvoice(own, { ...request, description }, Math.floor(this.now() / 1000));
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

  /**
   * LDK's invoice for an inbound payment (its hash and secret), with a window in LDK's time that covers
   * [nowSec, nowSec + expirySecs] in ours (see the top of this file).
   */
  private ldkInvoice(
    own: Own,
    request: {
      amountMsat?: bigint;
      description: ldk.Bolt11InvoiceDescription;
      expirySecs: number;
      minFinalCltvExpiryDelta?: number;
    },
    nowSec: number,
  ): Bolt11Invoice {
    const make = (windowSecs: number) =>
      decodeBolt11(
        unwrap<ldk.Bolt11Invoice>(
          own(
            this.channelManager.create_bolt11_invoice(
              own(optionU64(request.amountMsat)),
              request.description,
              own(optionU32(windowSecs)),
              own(optionU16(request.minFinalCltvExpiryDelta)),
              own(option32Bytes(undefined)),
            ),
          ),
          'INVOICE_CREATION_FAILED',
          'create_bolt11_invoice',
        ).to_str(),
      );
    const made = make(request.expirySecs);
    const lagSecs = nowSec - made.timestamp;
    return lagSecs > LDK_HEADER_TIME_ALLOWANCE_SECS ? make(request.expirySecs + lagSecs) : made;
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

/** What LDK adds to an inbound payment's window for block header times being off (its `create_inbound_payment`). */
const LDK_HEADER_TIME_ALLOWANCE_SECS = 7200;

function assertExpiry(expirySecs: number): void {
  if (!Number.isInteger(expirySecs) || expirySecs <= 0) {
    throw new NodeError('INVALID_INPUT', '"expirySecs" expected a positive integer');
  }
}
