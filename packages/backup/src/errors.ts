// The backup package's one error type. Codes name what a person or a program can act on: decoding
// codes say why a copy was refused (the copy is skipped, nothing changes), upload codes say why
// the LSP's copy is not current.

export type BackupErrorCode =
  /** Not a backup, or its bytes were changed after signing (body hash, layout, plaintext). */
  | 'BACKUP_CORRUPT'
  /** Shorter than its header says: a partial download or a cut file. */
  | 'BACKUP_TRUNCATED'
  /** Signed or sealed with keys other than this wallet's (another seed, another derivation). */
  | 'BACKUP_WRONG_KEY'
  /** Made for another wallet (another node id). */
  | 'BACKUP_WRONG_WALLET'
  /** A format version this code does not read (newer software, or the old v1 blobs). */
  | 'BACKUP_UNKNOWN_FORMAT'
  /** The header names this wallet's key but the signature does not verify: forged or relabelled. */
  | 'BACKUP_BAD_SIGNATURE'
  /** Bigger than the LSP takes; `details` has `sizeBytes` and `limitBytes`. */
  | 'BACKUP_TOO_LARGE'
  /** The LSP holds a different version than the writer expected (compare-and-swap lost). */
  | 'VERSION_CONFLICT'
  /** Another device holds the wallet's lease (no-takeover mode), or took it over: stop writing. */
  | 'LEASE_HELD'
  | 'LEASE_FENCED'
  /** The LSP could not be reached or answered outside the contract; retried with backoff. */
  | 'BACKUP_UNAVAILABLE'
  /** No copy of this wallet is valid (all refused, or none exists). */
  | 'BACKUP_NONE'
  | 'INVALID_INPUT';

export class BackupError extends Error {
  override readonly name = 'BackupError';
  constructor(
    readonly code: BackupErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isBackupError = (error: unknown, code?: BackupErrorCode): error is BackupError =>
  error instanceof BackupError && (code === undefined || error.code === code);
