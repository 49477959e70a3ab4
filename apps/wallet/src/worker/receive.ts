// Receiving: a quote first (straight into a channel with room, or a JIT channel whose fee the
// person sees), then the invoice — the JIT one through the LSP at a fee recomputed from the
// promised parameters, never taken from the UI.
import { feeParamsToWire, openingFeeMsat, openingFeeParamsInput } from '@lpw/api';
import { type AddressInvoiceOrder, AddressRefusal, type JitQuote } from '@lpw/lsp-server/client';
import { describeError } from './errors.ts';
import { type CreatedInvoice, type ReceiveQuote, WalletCommandError } from './protocol.ts';
import type { Session } from './session.ts';
import { maxMsat } from './snapshot.ts';

const INVOICE_EXPIRY_SECS = 3600;
/** A payer's wallet pays at once what it asked its Lightning Address for: ten minutes is plenty. */
const ADDRESS_INVOICE_EXPIRY_SECS = 600;

export class Receive {
  constructor(private readonly session: Session) {}

  async quote(amountMsat: bigint | undefined, feeCapMsat: bigint): Promise<ReceiveQuote> {
    const node = this.session.node();
    this.session.peer.require();
    const usable = node.listChannels().filter((c) => c.isUsable);
    const receivable = usable.reduce((m, c) => maxMsat(m, c.inboundMsat), 0n);
    if (usable.length > 0 && (amountMsat === undefined ? receivable > 0n : receivable >= amountMsat)) {
      return { kind: 'direct', amountMsat };
    }
    if (amountMsat === undefined) {
      throw new WalletCommandError(
        'AMOUNT_REQUIRED',
        'Enter an amount: your first payment opens your channel, and its fee depends on the amount.',
      );
    }
    let quote: JitQuote;
    try {
      quote = await this.session.client().quoteJit(amountMsat);
    } catch (error) {
      throw new WalletCommandError(
        'LSP_UNREACHABLE',
        `Your service provider did not answer (${describeError(error).code}).`,
      );
    }
    const best = quote.offer;
    if (!best) {
      const { minPaymentMsat: min, maxPaymentMsat: max } = quote;
      throw new WalletCommandError(
        'AMOUNT_OUT_OF_RANGE',
        min === undefined || max === undefined
          ? 'Your service provider offers no channel right now.'
          : `The first payment must be between ${min / 1000n} and ${max / 1000n} sats.`,
      );
    }
    if (best.feeMsat >= amountMsat) {
      throw new WalletCommandError('AMOUNT_TOO_SMALL', 'The channel fee would take the whole amount.');
    }
    if (best.feeMsat > feeCapMsat) {
      throw new WalletCommandError(
        'FEE_ABOVE_CAP',
        `The channel fee (${(best.feeMsat + 999n) / 1000n} sats) is above your limit of ${feeCapMsat / 1000n} sats (Settings).`,
      );
    }
    return {
      kind: 'jit',
      amountMsat,
      feeMsat: best.feeMsat,
      feeParams: feeParamsToWire(best.params),
      validUntil: best.params.valid_until,
    };
  }

  async createInvoice(
    amountMsat: bigint | undefined,
    description: string,
    quote: ReceiveQuote,
  ): Promise<CreatedInvoice> {
    const node = this.session.node();
    this.session.peer.require();
    if (quote.kind === 'direct') {
      const made = node.createInvoice({
        ...(amountMsat !== undefined ? { amountMsat } : {}),
        description,
        expirySecs: INVOICE_EXPIRY_SECS,
      });
      return { bolt11: made.bolt11, paymentHash: made.paymentHash, expiresAt: made.expiresAt, feeMsat: 0n };
    }
    if (amountMsat === undefined || amountMsat !== quote.amountMsat) {
      throw new WalletCommandError('QUOTE_MISMATCH', 'The amount changed after the fee was shown');
    }
    const params = openingFeeParamsInput.parse(quote.feeParams);
    // the fee we agree to is recomputed here from the promised parameters, not taken from the UI,
    // and is the most the LSP's client may accept (a dearer menu now is refused, not paid)
    const feeMsat = openingFeeMsat(amountMsat, params);
    if (feeMsat !== quote.feeMsat) throw new WalletCommandError('QUOTE_MISMATCH', 'The fee changed');
    const jit = await this.session.client().receiveJit(node, {
      amountMsat,
      description,
      expirySecs: INVOICE_EXPIRY_SECS,
      maxFeeMsat: feeMsat,
    });
    return {
      bolt11: jit.bolt11,
      paymentHash: jit.paymentHash,
      expiresAt: jit.expiresAtMs,
      feeMsat: jit.openingFeeMsat,
    };
  }

  /**
   * The invoice a payer asked for at our Lightning Address (worker/address.ts), committing to the
   * LNURL metadata's hash: in a channel with room, else through a JIT channel whose fee is within
   * `feeCapMsat` (nobody is here to agree to a dearer one). Refusals say why in AddressRefusal codes.
   */
  async addressInvoice(order: AddressInvoiceOrder, feeCapMsat: bigint): Promise<string> {
    // the payer's words, quoted as theirs, are what the history shows for it
    const description = order.comment ? `“${order.comment}”` : 'Lightning Address payment';
    let quote: ReceiveQuote;
    try {
      quote = await this.quote(order.amountMsat, feeCapMsat);
    } catch (error) {
      const code = error instanceof WalletCommandError ? error.code : undefined;
      const message = error instanceof Error ? error.message : String(error);
      if (code === 'FEE_ABOVE_CAP') throw new AddressRefusal('FEE_ABOVE_CAP', message);
      if (code === 'AMOUNT_OUT_OF_RANGE' || code === 'AMOUNT_TOO_SMALL')
        throw new AddressRefusal('AMOUNT_OUT_OF_RANGE', message);
      throw error;
    }
    if (quote.kind === 'direct') {
      return this.session.node().createInvoice({
        amountMsat: order.amountMsat,
        description: order.metadata,
        hashDescription: true,
        recordDescription: description,
        expirySecs: ADDRESS_INVOICE_EXPIRY_SECS,
      }).bolt11;
    }
    const jit = await this.session.client().receiveJit(this.session.node(), {
      amountMsat: order.amountMsat,
      description,
      descriptionHash: order.descriptionHash,
      expirySecs: ADDRESS_INVOICE_EXPIRY_SECS,
      maxFeeMsat: quote.feeMsat,
    });
    return jit.bolt11;
  }

  onchainAddress(): Promise<string> {
    return this.session.node().onchainPayment.receiveAddress();
  }
}
