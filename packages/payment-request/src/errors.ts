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
  | 'WRONG_NETWORK'
  /** The text is none of the things a payment request can be. */
  | 'UNRECOGNIZED'
  /** Recognised, but a kind this package does not handle (LNURL-withdraw, LNURL-auth, BOLT 12 invoices…). */
  | 'UNSUPPORTED'
  /** Looks like an on-chain address but breaks its encoding (checksum, witness version, length). */
  | 'INVALID_ADDRESS'
  /** A `bitcoin:` URI that breaks BIP 21 (bad amount, unknown `req-` parameter, duplicate key…). */
  | 'INVALID_URI'
  /** An LNURL, `lnurlp://` link or Lightning Address that does not give a usable URL. */
  | 'INVALID_LNURL'
  /** A BOLT 12 offer that breaks the spec's reader rules. */
  | 'INVALID_OFFER'
  | 'OFFER_EXPIRED'
  /** The LNURL service could not be reached (network failure, timeout). */
  | 'LNURL_UNREACHABLE'
  /** The LNURL service answered something that is not a valid LNURL response. */
  | 'LNURL_BAD_RESPONSE'
  /** The LNURL service answered `{"status":"ERROR"}`; `reason` holds its words. */
  | 'LNURL_ERROR'
  /** The amount is outside what the LNURL service accepts (minSendable…maxSendable). */
  | 'AMOUNT_OUT_OF_RANGE'
  /** An invoice from an LNURL service is for another amount than the one asked for. */
  | 'AMOUNT_MISMATCH'
  /** An invoice from an LNURL service does not commit to the service's metadata (LUD-06). */
  | 'DESCRIPTION_HASH_MISMATCH'
  /** A comment longer than the service allows (LUD-12). */
  | 'COMMENT_TOO_LONG';

export class PaymentRequestError extends Error {
  override readonly name = 'PaymentRequestError';
  /** For LNURL_ERROR: the service's own `reason`, verbatim, to show the person. */
  readonly reason: string | undefined;
  constructor(
    readonly code: PaymentRequestErrorCode,
    message: string,
    options: { cause?: unknown; reason?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options.reason;
  }
}
