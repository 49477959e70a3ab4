// The wallet's half of an LSPS2 purchase after the menu, whichever way it reaches the LSP (tRPC or
// LSPS over BOLT 8): pick the cheapest offer, buy, and build our own invoice over the intercept SCID.
import { ApiError, type JitBuyOutput, parseScid } from '@lpw/api';
import { assertJitDescription, createJitInvoice } from '@lpw/node';
import { decodeBolt11 } from '@lpw/payment-request';
import type { JitOffer, JitQuote, JitReceive, WalletNode } from './index.ts';

/** The delta our node enforces on JIT receives (the invoice states it plus the LSPS2 margin). */
export const MIN_FINAL_CLTV_EXPIRY_DELTA = 144;

export interface JitPurchaseVia {
  node: WalletNode;
  lspNodeId: string;
  /** The LSP's menu priced for this size (lsps2.get_info). */
  quote(amountMsat: bigint): Promise<JitQuote>;
  /** lsps2.buy in "MPP+fixed-invoice" mode. */
  buy(
    offer: JitOffer,
    paymentSizeMsat: bigint,
  ): Promise<Pick<JitBuyOutput, 'jit_channel_scid' | 'lsp_cltv_expiry_delta'>>;
}

/** What to receive through a JIT channel. */
export interface JitReceiveRequest {
  amountMsat: bigint;
  /** In the invoice, or with `descriptionHash` only in the payment record. */
  description: string;
  /** SHA-256 (hex) the invoice commits to instead (LNURL-pay metadata, LUD-06). */
  descriptionHash?: string;
  expirySecs?: number;
  /** Refuses a menu whose opening fee is dearer. */
  maxFeeMsat?: bigint;
}

/**
 * Buy a JIT channel for a payment of `amountMsat` at the cheapest offered fee and build the
 * invoice (route hint over the intercept SCID). `maxFeeMsat` refuses a dearer menu.
 */
export async function receiveJitVia(via: JitPurchaseVia, request: JitReceiveRequest): Promise<JitReceive> {
  const { node } = via;
  // before buying: a channel must never be sold for an invoice we then cannot make
  assertJitDescription(request.description);
  const { offer } = await via.quote(request.amountMsat);
  if (!offer) throw new ApiError('PAYMENT_SIZE_TOO_SMALL', 'no offered fee covers this amount');
  if (request.maxFeeMsat !== undefined && offer.feeMsat > request.maxFeeMsat) {
    throw new ApiError('INVALID_OPENING_FEE_PARAMS', `opening fee ${offer.feeMsat} msat exceeds the limit`);
  }
  const bought = await via.buy(offer, request.amountMsat);
  const validUntilSec = Math.floor(Date.parse(offer.params.valid_until) / 1000);
  // one clock reading for the expiry and the invoice's timestamp: read twice, a second ticking over in
  // between made an invoice that outlives the fee offer by one second, which createJitInvoice refuses
  const nowSec = Math.floor(Date.now() / 1000);
  const expirySecs = Math.min(request.expirySecs ?? 3600, validUntilSec - nowSec);
  if (expirySecs <= 0) throw new ApiError('INVALID_OPENING_FEE_PARAMS', 'the fee offer has expired');
  const inbound = node.createInboundPayment({
    amountMsat: request.amountMsat,
    expirySecs,
    maxLspFeeMsat: offer.feeMsat,
    description: request.description,
  });
  const bolt11 = createJitInvoice({
    amountMsat: request.amountMsat,
    description: request.description,
    ...(request.descriptionHash !== undefined ? { descriptionHash: request.descriptionHash } : {}),
    expirySecs,
    paymentHash: inbound.paymentHash,
    paymentSecret: inbound.paymentSecret,
    minFinalCltvExpiryDelta: MIN_FINAL_CLTV_EXPIRY_DELTA,
    payeeNodeId: node.nodeId,
    lspNodeId: via.lspNodeId,
    interceptScid: parseScid(bought.jit_channel_scid),
    lspCltvExpiryDelta: bought.lsp_cltv_expiry_delta,
    validUntilSec,
    nowSec,
    network: node.network,
    sign: (hash) => {
      const { signature, recoveryId } = node.signInvoice(hash);
      return { signature64: signature, recovery: recoveryId };
    },
  });
  return {
    bolt11,
    paymentHash: inbound.paymentHash,
    amountMsat: request.amountMsat,
    openingFeeMsat: offer.feeMsat,
    jitChannelScid: bought.jit_channel_scid,
    expiresAtMs: decodeBolt11(bolt11).expiresAt * 1000,
  };
}
