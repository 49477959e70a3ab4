// The one error type of the chain layer: a code the caller can act on, and for rejected
// broadcasts the node's own reject string (bitcoind's wording, relayed by Esplora).

export type ChainErrorCode =
  /** The source could not be reached (network error, timeout, HTTP 5xx without a body we understand). */
  | 'UNREACHABLE'
  /** The source serves another network than the one configured: refuse to start. */
  | 'WRONG_NETWORK'
  /** The source refused a transaction; `rejectReason` carries its reason. */
  | 'REJECTED'
  /** The source answered with something that is not what the API promises. */
  | 'BAD_RESPONSE'
  /** The source refused our credentials. */
  | 'UNAUTHORIZED'
  /** The source does not know the block or transaction asked for. */
  | 'NOT_FOUND'
  /** A JSON-RPC error that is none of the above. */
  | 'RPC_ERROR';

export class ChainError extends Error {
  override readonly name = 'ChainError';
  readonly code: ChainErrorCode;
  /** For REJECTED: the reject string as the node wrote it (e.g. "min relay fee not met, 100 < 141"). */
  readonly rejectReason: string | undefined;

  constructor(code: ChainErrorCode, message: string, opts: { rejectReason?: string; cause?: unknown } = {}) {
    super(`${code}: ${message}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.rejectReason = opts.rejectReason;
  }
}

export function isChainError(e: unknown, code?: ChainErrorCode): e is ChainError {
  return e instanceof ChainError && (code === undefined || e.code === code);
}
