// Paying: invoices along the route the LSP finds (a wallet keeps no gossip graph), the fee
// estimate shown before, and the ways out on chain: priced on-chain sends and channel closes.
import { isNodeError, NodeError, type PathHints, type PreparedOnchainSend, payTrace } from '@lpw/node';
import { decodeBolt11 } from '@lpw/payment-request';
import { type PaidInvoice, type PreparedSendView, WalletCommandError } from './protocol.ts';
import type { Session } from './session.ts';

/**
 * How long the route whose fee the review screen showed is the one paid along: a tap within this
 * pays without asking the LSP again (a round trip on the way to the proof); later, it asks afresh.
 */
const REVIEWED_ROUTE_MS = 60_000;

const hexOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export class Pay {
  /** On-chain sends shown to the person, by id, until sent (one at a time). */
  private readonly prepared = new Map<string, PreparedOnchainSend>();
  /** The route of the last fee estimate, for the payment of that invoice (used once). */
  private reviewed: { bolt11: string; route: PathHints; atMs: number } | undefined;

  constructor(private readonly session: Session) {}

  /**
   * Pays through the node's payment handle: its record is durable before the send returns, so a
   * crash mid-payment still shows it (pending, then its outcome when LDK replays the event).
   */
  async invoice(bolt11: string, amountMsat: bigint | undefined, maxFeeMsat: bigint): Promise<PaidInvoice> {
    payTrace('pay:command');
    const node = this.session.node();
    this.session.peer.require();
    const invoice = decodeBolt11(bolt11);
    if (invoice.network !== node.network) {
      throw new WalletCommandError('INVOICE_WRONG_NETWORK', 'This invoice is for another network.');
    }
    if (invoice.amountMsat === undefined || (amountMsat !== undefined && amountMsat !== invoice.amountMsat)) {
      throw new WalletCommandError(
        'AMOUNT_REQUIRED',
        'Invoices without an amount cannot be paid yet; ask for one with an amount.',
      );
    }
    if (invoice.expiresAt * 1000 <= Date.now()) throw new NodeError('INVOICE_EXPIRED');
    const total = invoice.amountMsat + maxFeeMsat;
    const spendable = node.balances().spendableNowMsat;
    if (total > spendable) {
      throw new WalletCommandError(
        'INSUFFICIENT_BALANCE',
        'You don’t have enough to pay this (amount plus the most the network fee can be).',
      );
    }
    const reviewed = this.reviewed;
    this.reviewed = undefined;
    const route =
      reviewed?.bolt11 === bolt11 && Date.now() - reviewed.atMs < REVIEWED_ROUTE_MS
        ? reviewed.route
        : undefined;
    let id: string;
    try {
      // the route whose fee was shown, when fresh; its fee is checked against the limit all the same
      id = await this.session.client().sendPayment(node, bolt11, { maxFeeMsat, ...(route ? { route } : {}) });
    } catch (error) {
      if (isNodeError(error, 'ROUTE_FEE_TOO_HIGH'))
        throw new WalletCommandError('FEE_TOO_HIGH', 'The network fee for this payment is above the limit.');
      throw error;
    }
    this.session.snapshot.changed();
    const sent = await node.bolt11Payment.outcome(id, 90_000);
    payTrace('pay:outcome');
    return {
      paymentHash: sent.paymentHash,
      preimage: sent.preimage,
      amountMsat: sent.amountMsat,
      feeMsat: sent.feeMsat,
    };
  }

  /**
   * Pays a BOLT 12 offer: the invoice request and the invoice go through the LSP as onion
   * messages, the payment along the LSP's routes (LspClient.sendOffer); durable before it leaves.
   */
  async offer(offer: string, amountMsat: bigint | undefined, maxFeeMsat: bigint): Promise<PaidInvoice> {
    const node = this.session.node();
    this.session.peer.require();
    const summary = node.bolt12Payment.decodeOffer(offer);
    const payMsat = amountMsat ?? summary.amountMsat;
    if (payMsat === undefined)
      throw new WalletCommandError('AMOUNT_REQUIRED', 'This offer has no amount: enter one.');
    if (payMsat + maxFeeMsat > node.balances().spendableNowMsat) {
      throw new WalletCommandError(
        'INSUFFICIENT_BALANCE',
        'You don’t have enough to pay this (amount plus the most the network fee can be).',
      );
    }
    const id = await this.session.client().sendOffer(node, summary.offer, {
      ...(amountMsat !== undefined ? { amountMsat } : {}),
      maxFeeMsat,
    });
    this.session.snapshot.changed();
    const sent = await node.bolt12Payment.outcome(id, 90_000);
    return {
      paymentHash: sent.paymentHash,
      preimage: sent.preimage,
      amountMsat: sent.amountMsat,
      feeMsat: sent.feeMsat,
    };
  }

  /** The wallet's reusable offer; it needs the LSP connected (its blinded path enters there). */
  myOffer(): string {
    const node = this.session.node();
    this.session.peer.require();
    return node.bolt12Payment.offer();
  }

  /** The routing fee of the LSP's route for this invoice now (undefined: no route known). */
  async estimateFee(bolt11: string): Promise<bigint | undefined> {
    this.session.node();
    this.session.peer.require();
    const invoice = decodeBolt11(bolt11);
    if (invoice.amountMsat === undefined) return undefined;
    try {
      const route = await this.session
        .client()
        .route(invoice.payeeNodeId, invoice.amountMsat, invoice.minFinalCltvExpiryDelta);
      this.reviewed = { bolt11, route, atMs: Date.now() };
      return route.feeMsat;
    } catch (error) {
      if (isNodeError(error, 'ROUTE_NOT_FOUND')) return undefined;
      throw error;
    }
  }

  /** Checks and prices an on-chain send; nothing is signed until `sendOnchain(id)`. */
  prepareOnchainSend(destination: string, amountMsat: bigint | 'all' | undefined): PreparedSendView {
    const prepared = this.session.node().onchainPayment.prepareSend({
      destination,
      ...(amountMsat !== undefined ? { amountMsat } : {}),
    });
    const id = hexOf(crypto.getRandomValues(new Uint8Array(8)));
    this.prepared.clear(); // one send under review at a time
    this.prepared.set(id, prepared);
    return {
      id,
      address: prepared.address,
      amountMsat: prepared.amountMsat,
      feeMsat: prepared.feeMsat,
      feerateSatPerVb: prepared.feerateSatPerVb,
      sendsAll: prepared.sendsAll,
    };
  }

  async sendOnchain(id: string): Promise<string> {
    const node = this.session.node();
    const prepared = this.prepared.get(id);
    if (!prepared)
      throw new WalletCommandError('SEND_OUTDATED', 'This send is no longer ready. Review it again.');
    this.prepared.delete(id);
    const txid = await node.onchainPayment.send(prepared);
    this.session.snapshot.changed();
    return txid;
  }

  /** A cooperative close needs the LSP; a forced one does not (its money waits the CSV delay). */
  closeChannel(channelId: string, force: boolean): void {
    const node = this.session.node();
    if (!force) this.session.peer.require();
    node.closeChannel(channelId, { force });
    this.session.snapshot.changed();
  }
}
