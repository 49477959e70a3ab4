// Just-in-time channel invoices (LSPS2 / bLIP 52, "3. Invoice Generation"): a BOLT 11 invoice whose only
// route hint goes from the LSP to us over the intercept SCID, so the LSP opens our channel when paid.

import {
  type Bolt11Signer,
  encodeBolt11,
  MAX_DESCRIPTION_BYTES,
  type Network,
  PaymentRequestError,
} from '@lpw/payment-request';
import { NodeError } from '../errors.ts';

// var_onion_optin and payment_secret required; basic_mpp offered only when the amount is fixed.
const FEATURE_VAR_ONION_REQUIRED = 8;
const FEATURE_PAYMENT_SECRET_REQUIRED = 14;
const FEATURE_BASIC_MPP_OPTIONAL = 17;

/** LSPS2: the invoice's `c` must be at least this much above the delta the client really enforces. */
export const JIT_CLTV_MARGIN = 2;

export interface JitInvoiceParams {
  /**
   * Set for LSPS2 "MPP+fixed-invoice" mode (equal to the `payment_size_msat` given to `lsps2.buy`):
   * the invoice carries the amount and offers basic_mpp. Omit for "no-MPP+var-invoice" mode.
   */
  amountMsat?: bigint;
  description: string;
  /** SHA-256 (hex) to commit to as `h` instead of writing `description` (LNURL-pay metadata, LUD-06). */
  descriptionHash?: string;
  expirySecs: number;
  /** From LDK's ChannelManager.create_inbound_payment. 32 bytes, hex. */
  paymentHash: string;
  /** From LDK's ChannelManager.create_inbound_payment. 32 bytes, hex. */
  paymentSecret: string;
  /** The delta this node enforces on receive; the invoice states it plus the LSPS2 margin. */
  minFinalCltvExpiryDelta: number;
  /** Confirmations we wait for before releasing the preimage (client_trusts_lsp false); adds to the margin. */
  confirmationsBeforeClaim?: number;
  /** Our node id (33 bytes, hex), written as `n` as LSPS2 requires; must be the key `sign` uses. */
  payeeNodeId: string;
  lspNodeId: string;
  /** `jit_channel_scid` from `lsps2.buy`. */
  interceptScid: bigint;
  /** `lsp_cltv_expiry_delta` from `lsps2.buy`. */
  lspCltvExpiryDelta: number;
  /** LSPS2 requires 0: the LSP takes its fee from the opening fee, not the hint. */
  lspFeeBaseMsat?: bigint;
  /** LSPS2 requires 0. */
  lspFeeProportional?: number;
  /** `opening_fee_params.valid_until` in seconds; the invoice must expire no later. */
  validUntilSec?: number;
  network: Network;
  /** Signs with the node key (LDK's NodeSigner); a raw private key is accepted for tests. */
  sign: Bolt11Signer | Uint8Array;
  /** Invoice timestamp in seconds; defaults to now. */
  nowSec?: number;
}

/**
 * Throws INVALID_INPUT unless `description` fits a JIT invoice. Check it before `lsps2.buy`: the LSP
 * must not sell a channel for an invoice that then cannot be made. A description over 639 bytes is
 * refused rather than hashed (`h`): whoever scans the invoice would be shown a hash, not the text.
 */
export function assertJitDescription(description: unknown): asserts description is string {
  if (typeof description !== 'string')
    throw new NodeError('INVALID_INPUT', `"description" expected a string, got ${typeof description}`);
  const bytes = new TextEncoder().encode(description).length;
  if (bytes > MAX_DESCRIPTION_BYTES) {
    throw new NodeError(
      'INVALID_INPUT',
      `"description" is ${bytes} bytes; an invoice holds at most ${MAX_DESCRIPTION_BYTES}`,
    );
  }
}

/**
 * Build and sign the BOLT 11 invoice a wallet hands out to receive over a JIT channel.
 * @example
 * const invoice = createJitInvoice({ amountMsat: 50_000_000n, description: 'coffee', expirySecs: 3600,
 *   paymentHash, paymentSecret, minFinalCltvExpiryDelta: 144, payeeNodeId, lspNodeId,
 *   interceptScid: buy.jitChannelScid, lspCltvExpiryDelta: buy.lspCltvExpiryDelta, network: 'regtest', sign });
 */
export function createJitInvoice(params: JitInvoiceParams): string {
  assertJitDescription(params.description);
  const timestamp = params.nowSec ?? Math.floor(Date.now() / 1000);
  if (params.validUntilSec !== undefined && timestamp + params.expirySecs > params.validUntilSec) {
    throw new NodeError(
      'INVALID_INPUT',
      `JIT invoice would expire at ${timestamp + params.expirySecs}, after the opening fee offer ends at ${params.validUntilSec}`,
    );
  }
  const margin = JIT_CLTV_MARGIN + (params.confirmationsBeforeClaim ?? 0);
  const features = [FEATURE_VAR_ONION_REQUIRED, FEATURE_PAYMENT_SECRET_REQUIRED];
  if (params.amountMsat !== undefined) features.push(FEATURE_BASIC_MPP_OPTIONAL);
  try {
    return encodeBolt11(
      {
        network: params.network,
        amountMsat: params.amountMsat,
        timestamp,
        paymentHash: params.paymentHash,
        paymentSecret: params.paymentSecret,
        ...(params.descriptionHash !== undefined
          ? { descriptionHash: params.descriptionHash }
          : { description: params.description }),
        payeeNodeId: params.payeeNodeId,
        expirySeconds: params.expirySecs,
        minFinalCltvExpiryDelta: params.minFinalCltvExpiryDelta + margin,
        routeHints: [
          [
            {
              pubkey: params.lspNodeId,
              shortChannelId: params.interceptScid,
              feeBaseMsat: params.lspFeeBaseMsat ?? 0n,
              feeProportionalMillionths: params.lspFeeProportional ?? 0,
              cltvExpiryDelta: params.lspCltvExpiryDelta,
            },
          ],
        ],
        features,
      },
      params.sign,
    );
  } catch (error) {
    if (error instanceof PaymentRequestError) {
      throw new NodeError('INVOICE_CREATION_FAILED', error.message, { cause: error });
    }
    throw error;
  }
}
