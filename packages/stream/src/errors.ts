// The stream engine's one error type. Codes name what the person or the program can act on; the
// CLI maps them onto its exit codes, the wallet PWA shows the message.

export type StreamErrorCode =
  /** `to` is neither a node id (33 bytes compressed, hex) nor a Lightning Address / LNURL-pay. */
  | 'INVALID_RECIPIENT'
  /** The rate is zero, negative or not a whole number of sats per minute. */
  | 'INVALID_RATE'
  /** The payment period is outside 10 ms … 1 h (or below the minimum for LNURL recipients). */
  | 'INVALID_PERIOD'
  /** A period's amount is outside what the LNURL recipient takes (minSendable…maxSendable). */
  | 'AMOUNT_OUT_OF_RANGE'
  /** The recipient's LNURL service could not be reached or answered badly. */
  | 'RECIPIENT_UNREACHABLE'
  /** The recipient's invoice broke a rule (amount, description hash, network, another node): not paid. */
  | 'INVOICE_REFUSED'
  /** The budget cannot pay even one period (its amount plus the fee limit). */
  | 'BUDGET_BELOW_ONE_PERIOD'
  | 'INVALID_FEE_LIMIT'
  | 'END_IN_PAST'
  | 'ROUTE_NOT_FOUND'
  | 'FEE_TOO_HIGH'
  | 'PAYMENT_FAILED'
  | 'STREAM_NOT_FOUND'
  | 'STREAM_FINISHED'
  | 'STREAM_RUNNING'
  /** A rule of the ledger was broken (a period reserved twice): a bug, never paid twice. */
  | 'INTERNAL';

export class StreamError extends Error {
  override readonly name = 'StreamError';
  constructor(
    readonly code: StreamErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isStreamError(e: unknown, code?: StreamErrorCode): e is StreamError {
  return e instanceof StreamError && (code === undefined || e.code === code);
}

/** Bad input to a new stream: refused before anything is stored. */
export const INPUT_ERRORS: ReadonlySet<StreamErrorCode> = new Set([
  'INVALID_RECIPIENT',
  'INVALID_RATE',
  'INVALID_PERIOD',
  'AMOUNT_OUT_OF_RANGE',
  'BUDGET_BELOW_ONE_PERIOD',
  'INVALID_FEE_LIMIT',
  'END_IN_PAST',
]);
