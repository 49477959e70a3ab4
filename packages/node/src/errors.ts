// The node's one error type: a flat set of outcomes a caller can act on (ldk-node's error.rs shape).
// The chain layer's and the on-chain wallet's errors are NodeErrors too (subclasses carrying their
// extra fields), so a caller checks one type and one union of codes for everything this package throws.
import type { ChainErrorCode } from './chain/errors.ts';
import type { WalletErrorCode } from './wallet/errors.ts';

export type NodeErrorCode =
  | ChainErrorCode
  | WalletErrorCode
  | 'NOT_INITIALIZED'
  | 'INVALID_INPUT'
  | 'INVALID_INVOICE'
  | 'INVOICE_EXPIRED'
  | 'INVOICE_CREATION_FAILED'
  /** A BOLT 12 offer that breaks the spec, is for another network, or asks what we cannot give. */
  | 'INVALID_OFFER'
  | 'OFFER_EXPIRED'
  | 'OFFER_CREATION_FAILED'
  | 'ROUTE_NOT_FOUND'
  /** The route found (by the LSP) costs more than the payer's fee limit: nothing was sent. */
  | 'ROUTE_FEE_TOO_HIGH'
  | 'DUPLICATE_PAYMENT'
  | 'PAYMENT_FAILED'
  | 'INSUFFICIENT_BALANCE'
  /** Network fees make this payment's HTLC dust right now (the message says under how many sats). */
  | 'FEES_TOO_HIGH'
  /** On-chain: not enough confirmed coins for the amount and its fee. */
  | 'INSUFFICIENT_FUNDS'
  /** On-chain destination: not an address, or a BIP 21 URI that breaks the spec, or for another network. */
  | 'INVALID_ADDRESS'
  | 'INVALID_URI'
  | 'WRONG_NETWORK'
  /** An output so small the network would not relay it. */
  | 'AMOUNT_BELOW_DUST'
  /** A prepared on-chain send whose coins changed (or that was sent already): prepare it again. */
  | 'SEND_OUTDATED'
  | 'BROADCAST_REJECTED'
  | 'PEER_NOT_CONNECTED'
  | 'CONNECTION_FAILED'
  | 'CHANNEL_NOT_FOUND'
  | 'CHANNEL_CREATION_FAILED'
  | 'CHANNEL_CLOSING_FAILED'
  | 'FUNDING_FAILED'
  | 'HTLC_NOT_FOUND'
  | 'PERSISTENCE_FAILED'
  | 'RESTORE_FAILED'
  | 'CALLBACK_FAILED'
  | 'NODE_STOPPED'
  | 'TIMEOUT'
  | 'LDK_API_ERROR';

export class NodeError extends Error {
  override readonly name: string = 'NodeError';
  constructor(
    readonly code: NodeErrorCode,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ? `${code}: ${message}` : code, options);
  }
}

export function isNodeError(e: unknown, code?: NodeErrorCode): e is NodeError {
  return e instanceof NodeError && (code === undefined || e.code === code);
}
