// Chain layer: one ChainSource (Esplora, bitcoind), LDK's Confirm-based sync, fees, broadcasting.
export { type BitcoindOptions, BitcoindSource, bitcoindSource } from './bitcoind.ts';
export { type BroadcasterOptions, ChainBroadcaster, type RebroadcastReport } from './broadcaster.ts';
export { hashFromDisplay, hashToDisplay, headerHash, parseBlock, parseTxIo, txidOf } from './bytes.ts';
export {
  CHAIN_CHECK_CODES,
  CheckedChainSource,
  type CheckedSourceOptions,
  checkedSource,
  isChainCheckFailure,
} from './checked.ts';
export { ChainError, type ChainErrorCode, isChainError } from './errors.ts';
export { type EsploraOptions, EsploraSource, type EsploraTx, esploraSource } from './esplora.ts';
export {
  ChainFeeEstimator,
  FEERATE_FLOOR_SAT_PER_KW,
  type FeeEstimatorOptions,
  type FeeTargetName,
} from './fees.ts';
export {
  type BlockHeader,
  type Checkpoint,
  checkDifficulty,
  checkProofOfWork,
  HeaderChain,
  NETWORK_RULES,
  targetFromBits,
} from './headers.ts';
export { merkleProofHolds } from './merkle.ts';
export {
  assertNetwork,
  type BitcoinNetwork,
  type BlockRef,
  type ChainLog,
  type ChainSource,
  type FeeRates,
  GENESIS_HASH,
  networkFromGenesis,
  type Outspend,
  type TxConfirmation,
  type TxStatus,
} from './source.ts';
export { ChainFilter, ChainSync, type ChainSyncOptions, type SyncReport } from './sync.ts';
