// The devnet's typed errors: RejectError carries bitcoind's reject string and RPC code so every
// server can answer exactly as bitcoind would; DevnetError covers everything else a caller can act on.

/** bitcoind RPC error codes we answer with. */
export const RPC_CODE = {
  MISC_ERROR: -1,
  INVALID_ADDRESS_OR_KEY: -5,
  INVALID_PARAMETER: -8,
  DESERIALIZATION_ERROR: -22,
  VERIFY_ERROR: -25,
  VERIFY_REJECTED: -26,
  VERIFY_ALREADY_IN_CHAIN: -27,
  METHOD_NOT_FOUND: -32601,
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
} as const;

/** A transaction refused by the mempool. `message` is bitcoind's `reason, debug` text. */
export class RejectError extends Error {
  override readonly name = 'RejectError';
  constructor(
    /** bitcoind's reject reason, e.g. `txn-mempool-conflict` (what testmempoolaccept reports). */
    readonly reason: string,
    /** JSON-RPC code sendrawtransaction answers with (-25, -26 or -27). */
    readonly code: number = RPC_CODE.VERIFY_REJECTED,
    /** bitcoind's debug detail appended after the reason, if any. */
    readonly debug?: string,
  ) {
    super(debug ? `${reason}, ${debug}` : reason);
  }
}

export type DevnetErrorCode =
  | 'TX_DECODE'
  | 'INVALID_ADDRESS'
  | 'BLOCK_NOT_FOUND'
  | 'INSUFFICIENT_FUNDS'
  | 'INVALID_ARGUMENT';

export class DevnetError extends Error {
  override readonly name = 'DevnetError';
  constructor(
    readonly code: DevnetErrorCode,
    message: string,
  ) {
    super(message);
  }
}
