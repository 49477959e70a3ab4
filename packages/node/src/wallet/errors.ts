// The on-chain wallet's one error type: outcomes a caller can act on. A NodeError, so its codes are
// part of the package's one union.
import { NodeError } from '../errors.ts';

export type WalletErrorCode =
  /** Not enough confirmed coins for amount + fee; `neededSat`/`availableSat` say how far off. */
  | 'INSUFFICIENT_FUNDS'
  /** An amount, address, script or fee rate that cannot be used (names the bad value). */
  | 'INVALID_INPUT'
  /** The network refused the transaction; `rejectReason` carries its reason. */
  | 'BROADCAST_REJECTED'
  /** Fee bump refused: unknown, confirmed, not ours, or a channel funding tx (its txid is fixed). */
  | 'NOT_REPLACEABLE'
  /** A planned send whose coins were spent since it was planned: plan it again. */
  | 'STALE_PLAN'
  /** The stored wallet state cannot be read. */
  | 'CORRUPT_STATE';

export class WalletError extends NodeError {
  override readonly name = 'WalletError';
  declare readonly code: WalletErrorCode;
  readonly neededSat: bigint | undefined;
  readonly availableSat: bigint | undefined;
  readonly rejectReason: string | undefined;

  constructor(
    code: WalletErrorCode,
    message: string,
    opts: { neededSat?: bigint; availableSat?: bigint; rejectReason?: string; cause?: unknown } = {},
  ) {
    super(code, message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.neededSat = opts.neededSat;
    this.availableSat = opts.availableSat;
    this.rejectReason = opts.rejectReason;
  }
}

export function isWalletError(e: unknown, code?: WalletErrorCode): e is WalletError {
  return e instanceof WalletError && (code === undefined || e.code === code);
}
