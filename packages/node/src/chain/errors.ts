// The one error type of the chain layer: a code the caller can act on, and for rejected
// broadcasts the node's own reject string (bitcoind's wording, relayed by Esplora). A NodeError, so
// its codes are part of the package's one union.
import { NodeError } from '../errors.ts';

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
  | 'RPC_ERROR'
  // The chain view checks (checked.ts): a source caught lying, or two sources that disagree.
  /** A header whose hash misses its target, or whose target is easier than the network allows. */
  | 'BAD_PROOF_OF_WORK'
  /** A header whose bits break the network's difficulty schedule. */
  | 'BAD_DIFFICULTY'
  /** A header that does not link to the previous one, or a chain that does not reach the checkpoint. */
  | 'BROKEN_HEADER_CHAIN'
  /** A merkle proof that does not lead from the transaction to the root in its block's header. */
  | 'BAD_MERKLE_PROOF'
  /** The two chain sources report different tips, confirmations or spends. */
  | 'SOURCES_DISAGREE'
  /**
   * The chain served would take back blocks the wallet checked: a fork with less work than ours,
   * or a reorganisation deeper than the headers kept (chain/kept.ts). Never followed silently.
   */
  | 'CHAIN_ROLLBACK';

export class ChainError extends NodeError {
  override readonly name = 'ChainError';
  declare readonly code: ChainErrorCode;
  /** For REJECTED: the reject string as the node wrote it (e.g. "min relay fee not met, 100 < 141"). */
  readonly rejectReason: string | undefined;

  constructor(code: ChainErrorCode, message: string, opts: { rejectReason?: string; cause?: unknown } = {}) {
    super(code, message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.rejectReason = opts.rejectReason;
  }
}

export function isChainError(e: unknown, code?: ChainErrorCode): e is ChainError {
  return e instanceof ChainError && (code === undefined || e.code === code);
}
