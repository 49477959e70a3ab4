// @lpw/stream: payment streams (keysend or an LNURL-pay invoice per period, durable ledger, restart-safe) for the CLI wallet
// and the wallet PWA's worker. Runtime-neutral: no Node builtins, no DOM.
export {
  checkStreamRequest,
  DEFAULT_MAX_FEE_MSAT_PER_PAYMENT,
  type EngineDeps,
  type RunOptions,
  StreamEngine,
  type StreamHandle,
  type StreamRequest,
} from './engine.ts';
export { INPUT_ERRORS, isStreamError, StreamError, type StreamErrorCode } from './errors.ts';
export { sendInvoice } from './invoice.ts';
export {
  KEYSEND_FINAL_CLTV,
  type KeysendRoute,
  type PeriodSecrets,
  periodSecrets,
  sendKeysend,
} from './keysend.ts';
export {
  type Awaitable,
  inFlightMsat,
  newStreamRecord,
  type OnRestart,
  type PeriodRecord,
  type PeriodReservation,
  reservationVerdict,
  type StreamLedger,
  type StreamParams,
  type StreamRecord,
  type StreamState,
} from './ledger.ts';
export {
  checkPeriodAmounts,
  type LnurlAccess,
  LnurlPayee,
  type PeriodInvoice,
  parseRecipient,
  type Recipient,
} from './lnurl.ts';
export { maxPeriodAmountMsat, minPeriodAmountMsat, periodAmountMsat, periodCount } from './periods.ts';
export {
  BACKUP_BLOB_LIMIT_BYTES,
  DEFAULT_PERIOD_MS,
  expectedMonitorGrowth,
  MONITOR_BYTES_PER_PAYMENT,
  type StreamOptions,
  type StreamProgress,
  StreamRunner,
} from './runner.ts';
export { StoreStreamLedger } from './store-ledger.ts';
