// @lpw/cli: the headless wallet SDK behind the `lpw-wallet` command.
export {
  BACKUP_KEY,
  type BackupStatus,
  decodeSnapshot,
  encodeSnapshot,
  openBackup,
  sealBackup,
} from './backup.ts';
export { isWalletError, WalletError, type WalletErrorCode } from './errors.ts';
export { periodSecrets } from './keysend.ts';
export { type L402Result, l402Fetch } from './l402.ts';
export type { OnRestart, PeriodRecord, StreamRecord, StreamState } from './ledger.ts';
export { deriveSecrets, SEED_FILE } from './seed.ts';
export {
  BACKUP_BLOB_LIMIT_BYTES,
  expectedMonitorGrowth,
  MONITOR_BYTES_PER_PAYMENT,
  maxPeriodAmountMsat,
  periodAmountMsat,
  type StreamOptions,
  type StreamProgress,
} from './stream.ts';
export {
  type Balance,
  defaultMaxFeeMsat,
  type HistoryEntry,
  initWallet,
  type OpenWalletOptions,
  openWallet,
  type Payment,
  type Receive,
  type ReceiveQuote,
  type StreamHandle,
  type StreamRequest,
  Wallet,
} from './wallet.ts';
