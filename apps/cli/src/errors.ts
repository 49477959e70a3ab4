// The machine wallet's one error type, CliError (named apart from @lpw/node's on-chain WalletError):
// outcomes a script can act on, each with a distinct exit code.
import { isApiError } from '@lpw/api';
import { type BackupError, isBackupError } from '@lpw/backup';
import { isLspBusy } from '@lpw/lsp-server/client';
import { isChainCheckFailure, isNodeError, type NodeErrorCode } from '@lpw/node';
import { isStreamError, type StreamErrorCode } from '@lpw/stream';

export type CliErrorCode =
  | 'USAGE'
  | 'INVALID_INPUT'
  | 'NOT_INITIALIZED'
  | 'ALREADY_INITIALIZED'
  | 'WALLET_LOCKED'
  | 'LSP_UNREACHABLE'
  /** The LSP kept refusing for load after the client backed off; the message says when to retry. */
  | 'LSP_BUSY'
  | 'FEE_TOO_HIGH'
  | 'INSUFFICIENT_BALANCE'
  | 'ROUTE_NOT_FOUND'
  | 'PAYMENT_FAILED'
  | 'INVOICE_EXPIRED'
  | 'INVALID_INVOICE'
  | 'TIMEOUT'
  | 'STREAM_NOT_FOUND'
  | 'STREAM_FINISHED'
  | 'BUDGET_EXHAUSTED'
  | 'L402_FAILED'
  | 'BACKUP_FAILED'
  | 'CHANNEL_NOT_FOUND'
  /** The person (or a missing --yes) declined; nothing was done. */
  | 'DECLINED'
  | 'BROADCAST_FAILED'
  /** A backup file (or export) that failed its check: not a backup, cut, another wallet's, altered… */
  | 'BACKUP_CORRUPT'
  | 'BACKUP_TRUNCATED'
  | 'BACKUP_WRONG_WALLET'
  | 'BACKUP_WRONG_KEY'
  | 'BACKUP_UNKNOWN_FORMAT'
  | 'BACKUP_BAD_SIGNATURE'
  /** No backup to export (the wallet never uploaded one from this directory). */
  | 'BACKUP_NONE'
  /** This state holds fewer channels than the LSP's backup it would replace: nothing is uploaded. */
  | 'BACKUP_FEWER_CHANNELS'
  /** Another device (directory) runs this wallet now: this one does not start. */
  | 'LEASE_HELD'
  /** Another device took this wallet over while it ran: this process stopped, the lease stays there. */
  | 'LEASE_FENCED'
  /**
   * The chain source was caught serving a chain that fails a check (proof of work, merkle proof),
   * or disagrees with the second source (--esplora-url-2): the wallet acts on neither.
   */
  | 'CHAIN_CHECK_FAILED'
  /** The chain source (Esplora or bitcoind) did not answer, or answered with something unusable. */
  | 'CHAIN_SOURCE_FAILED'
  | 'INTERNAL';

/** Exit codes: 2 usage, 3 bad input, 4 state (not initialised, locked…), 5 money refused, 6 network. */
const EXIT: Record<CliErrorCode, number> = {
  USAGE: 2,
  INVALID_INPUT: 3,
  INVALID_INVOICE: 3,
  NOT_INITIALIZED: 4,
  ALREADY_INITIALIZED: 4,
  WALLET_LOCKED: 4,
  STREAM_NOT_FOUND: 4,
  STREAM_FINISHED: 4,
  CHANNEL_NOT_FOUND: 4,
  DECLINED: 5,
  FEE_TOO_HIGH: 5,
  INSUFFICIENT_BALANCE: 5,
  BUDGET_EXHAUSTED: 5,
  INVOICE_EXPIRED: 5,
  ROUTE_NOT_FOUND: 6,
  PAYMENT_FAILED: 6,
  LSP_UNREACHABLE: 6,
  LSP_BUSY: 6,
  TIMEOUT: 6,
  L402_FAILED: 6,
  BACKUP_FAILED: 6,
  BROADCAST_FAILED: 6,
  BACKUP_CORRUPT: 3,
  BACKUP_TRUNCATED: 3,
  BACKUP_WRONG_WALLET: 3,
  BACKUP_WRONG_KEY: 3,
  BACKUP_UNKNOWN_FORMAT: 3,
  BACKUP_BAD_SIGNATURE: 3,
  BACKUP_NONE: 4,
  BACKUP_FEWER_CHANNELS: 4,
  LEASE_HELD: 4,
  LEASE_FENCED: 4,
  CHAIN_CHECK_FAILED: 6,
  CHAIN_SOURCE_FAILED: 6,
  INTERNAL: 1,
};

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: CliErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get exitCode(): number {
    return EXIT[this.code];
  }
}

export function isCliError(e: unknown, code?: CliErrorCode): e is CliError {
  return e instanceof CliError && (code === undefined || e.code === code);
}

const STREAM_CODES: Record<StreamErrorCode, CliErrorCode> = {
  INVALID_RECIPIENT: 'INVALID_INPUT',
  INVALID_RATE: 'INVALID_INPUT',
  INVALID_PERIOD: 'INVALID_INPUT',
  AMOUNT_OUT_OF_RANGE: 'INVALID_INPUT',
  RECIPIENT_UNREACHABLE: 'PAYMENT_FAILED',
  INVOICE_REFUSED: 'INVALID_INVOICE',
  BUDGET_BELOW_ONE_PERIOD: 'INVALID_INPUT',
  INVALID_FEE_LIMIT: 'INVALID_INPUT',
  END_IN_PAST: 'INVALID_INPUT',
  ROUTE_NOT_FOUND: 'ROUTE_NOT_FOUND',
  FEE_TOO_HIGH: 'FEE_TOO_HIGH',
  PAYMENT_FAILED: 'PAYMENT_FAILED',
  STREAM_NOT_FOUND: 'STREAM_NOT_FOUND',
  STREAM_FINISHED: 'STREAM_FINISHED',
  STREAM_RUNNING: 'INVALID_INPUT',
  INTERNAL: 'INTERNAL',
};

/** The backup package's codes the CLI reports as they are (a bad file, a fenced wallet…). */
const BACKUP_CODES: ReadonlySet<string> = new Set<CliErrorCode>([
  'BACKUP_CORRUPT',
  'BACKUP_TRUNCATED',
  'BACKUP_WRONG_WALLET',
  'BACKUP_WRONG_KEY',
  'BACKUP_UNKNOWN_FORMAT',
  'BACKUP_BAD_SIGNATURE',
  'BACKUP_NONE',
  'LEASE_HELD',
  'LEASE_FENCED',
]);

/** A refusal of the backup package as the CLI's error; `context` says which copy or call. */
export function fromBackupError(e: BackupError, context?: string): CliError {
  const code: CliErrorCode = BACKUP_CODES.has(e.code)
    ? (e.code as CliErrorCode)
    : e.code === 'BACKUP_UNAVAILABLE'
      ? 'LSP_UNREACHABLE'
      : 'BACKUP_FAILED';
  return new CliError(code, context ? `${context}: ${e.message}` : e.message, { cause: e });
}

/** Node, stream, backup, LSP and network failures become CliErrors with the cause kept. */
export function toCliError(e: unknown): CliError {
  if (e instanceof CliError) return e;
  if (isBackupError(e)) return fromBackupError(e);
  if (isStreamError(e)) return new CliError(STREAM_CODES[e.code], e.message, { cause: e });
  if (isChainCheckFailure(e)) return new CliError('CHAIN_CHECK_FAILED', e.message, { cause: e });
  if (isNodeError(e)) {
    const map: Partial<Record<NodeErrorCode, CliErrorCode>> = {
      INVALID_INPUT: 'INVALID_INPUT',
      INVALID_INVOICE: 'INVALID_INVOICE',
      INVOICE_EXPIRED: 'INVOICE_EXPIRED',
      INVALID_OFFER: 'INVALID_INVOICE',
      OFFER_EXPIRED: 'INVOICE_EXPIRED',
      ROUTE_NOT_FOUND: 'ROUTE_NOT_FOUND',
      ROUTE_FEE_TOO_HIGH: 'FEE_TOO_HIGH',
      PAYMENT_FAILED: 'PAYMENT_FAILED',
      DUPLICATE_PAYMENT: 'PAYMENT_FAILED',
      INSUFFICIENT_BALANCE: 'INSUFFICIENT_BALANCE',
      FEES_TOO_HIGH: 'FEE_TOO_HIGH', // network fees: this payment waits (the message says under how much)
      TIMEOUT: 'TIMEOUT',
      CONNECTION_FAILED: 'LSP_UNREACHABLE',
      INSUFFICIENT_FUNDS: 'INSUFFICIENT_BALANCE',
      INVALID_ADDRESS: 'INVALID_INPUT',
      INVALID_URI: 'INVALID_INPUT',
      WRONG_NETWORK: 'INVALID_INPUT',
      AMOUNT_BELOW_DUST: 'INVALID_INPUT',
      SEND_OUTDATED: 'INVALID_INPUT',
      CHANNEL_NOT_FOUND: 'CHANNEL_NOT_FOUND',
      BROADCAST_REJECTED: 'BROADCAST_FAILED',
      PEER_NOT_CONNECTED: 'LSP_UNREACHABLE',
      // the chain layer's
      UNREACHABLE: 'CHAIN_SOURCE_FAILED',
      BAD_RESPONSE: 'CHAIN_SOURCE_FAILED',
      UNAUTHORIZED: 'CHAIN_SOURCE_FAILED',
      NOT_FOUND: 'CHAIN_SOURCE_FAILED',
      RPC_ERROR: 'CHAIN_SOURCE_FAILED',
      REJECTED: 'BROADCAST_FAILED',
    };
    const code = map[e.code] ?? 'INTERNAL';
    // a NodeError's message starts with its code: said once when the CLI's code is the same
    const same = `${e.code}: `;
    const message = code === e.code && e.message.startsWith(same) ? e.message.slice(same.length) : e.message;
    return new CliError(code, message, { cause: e });
  }
  if (isApiError(e)) {
    const code: CliErrorCode = e.code === 'INVALID_OPENING_FEE_PARAMS' ? 'FEE_TOO_HIGH' : 'INVALID_INPUT';
    return new CliError(code, `LSP refused: ${e.message}`, { cause: e });
  }
  const message = e instanceof Error ? e.message : String(e);
  if (isLspBusy(e)) return new CliError('LSP_BUSY', message, { cause: e });
  if (e instanceof Error && e.name === 'TRPCClientError') {
    const app = (e as { data?: { app?: { code?: string } } }).data?.app?.code;
    if (app === 'INVALID_OPENING_FEE_PARAMS')
      return new CliError('FEE_TOO_HIGH', `LSP refused: ${message}`, { cause: e });
    if (app?.startsWith('PAYMENT_SIZE'))
      return new CliError('INVALID_INPUT', `LSP refused: ${message}`, { cause: e });
    return new CliError('LSP_UNREACHABLE', `LSP: ${message}`, { cause: e });
  }
  if (/ECONNREFUSED|fetch failed|ENOTFOUND|ETIMEDOUT/.test(message))
    return new CliError('LSP_UNREACHABLE', message, { cause: e });
  return new CliError('INTERNAL', message, { cause: e });
}
