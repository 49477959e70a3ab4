// The package's one error type: every rejected payment request says which rule it broke, in words a
// person can act on, and carries a code a program can switch on.

export type PaymentRequestErrorCode =
  /** Not bech32 at all: no separator, mixed case, a character outside the bech32 alphabet. */
  | 'INVALID_BECH32'
  | 'INVALID_CHECKSUM'
  /** Bech32, but the human-readable part does not start with `ln`. */
  | 'INVALID_PREFIX'
  | 'UNKNOWN_NETWORK'
  | 'INVALID_AMOUNT'
  /** Too few characters to hold a timestamp and a signature. */
  | 'TOO_SHORT'
  | 'INVALID_SIGNATURE'
  | 'MISSING_PAYMENT_HASH'
  | 'MISSING_PAYMENT_SECRET'
  | 'MISSING_DESCRIPTION'
  | 'INVALID_DESCRIPTION'
  /** An even (required) feature bit this reader does not know. */
  | 'UNKNOWN_REQUIRED_FEATURE'
  | 'MISSING_FEATURE_DEPENDENCY'
  /** A tagged field whose content breaks the spec (non-minimal number, value out of range…). */
  | 'INVALID_FIELD'
  | 'INVOICE_EXPIRED'
  | 'WRONG_NETWORK';

export class PaymentRequestError extends Error {
  override readonly name = 'PaymentRequestError';
  constructor(
    readonly code: PaymentRequestErrorCode,
    message: string,
  ) {
    super(message);
  }
}
