// @lpw/cli: the headless wallet SDK behind the `lpw-wallet` command.

// streams: the engine and its types live in @lpw/stream, shared with the wallet PWA
export {
  BACKUP_BLOB_LIMIT_BYTES,
  expectedMonitorGrowth,
  MONITOR_BYTES_PER_PAYMENT,
  maxPeriodAmountMsat,
  type OnRestart,
  type PeriodRecord,
  periodAmountMsat,
  periodSecrets,
  type StreamHandle,
  type StreamOptions,
  type StreamProgress,
  type StreamRecord,
  type StreamState,
} from '@lpw/stream';
export { type BackupReport, backupReport, exportBackup } from './backup.ts';
export { DEVICE_COPY_FILE, type SavedBackupStatus } from './device-copy.ts';
export { CliError, type CliErrorCode, isCliError } from './errors.ts';
export { type L402Result, l402Fetch } from './l402.ts';
export { deriveSecrets, SEED_FILE } from './seed.ts';
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
  type RestoreReport,
  type RestoreWalletOptions,
  restoreWallet,
  type StreamRequest,
  Wallet,
} from './wallet.ts';
