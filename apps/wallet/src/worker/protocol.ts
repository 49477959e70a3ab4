// The typed messages between the UI and the node's Web Worker. Commands go UI → worker and get one
// reply each; the worker pushes `snapshot` events whenever what the screens show has changed.
// Everything crosses postMessage by structured clone, so amounts stay bigint msat.
import type {
  AddressOutput,
  ApiErrorCode,
  RatesOutput,
  RelayFetchInput,
  RelayFetchOutput,
  TrpcErrorCode,
} from '@lpw/api';
import type { BackupErrorCode, BackupKeys } from '@lpw/backup';
import type { ChainErrorCode, NodeErrorCode, RecoveryChannel } from '@lpw/node';
import type { StreamErrorCode } from '@lpw/stream';
import type { UnlockSecret, VaultErrorCode, VaultRecord } from '../lib/vault.ts';

export type NodeStatus =
  /** Nothing started yet (locked, or no wallet). */
  | 'idle'
  | 'starting'
  | 'running'
  /** The node cannot run now (LSP or chain unreachable); local state is shown, retries continue. */
  | 'offline'
  /** Another tab or the installed app runs this wallet's node (Web Lock held elsewhere). */
  | 'locked-elsewhere'
  /** Another device took over this wallet at the LSP (newer backup lease); this node stopped. */
  | 'fenced'
  /** Stopped for good; `statusReason` says why. */
  | 'failed';

export interface ChannelView {
  channelId: string;
  capacityMsat: bigint;
  outboundMsat: bigint;
  inboundMsat: bigint;
  isUsable: boolean;
  /**
   * Ours in the channel: what we can send plus the reserve the peer makes us keep (what a close
   * pays us before fees). LDK reports no balance below the reserve: such a channel counts 0.
   */
  balanceMsat: bigint;
  /** Blocks our money waits after a force close (the CSV delay the peer set). */
  toSelfDelay: number | undefined;
}

/** A closed channel whose money is on its way to the on-chain wallet. */
export interface ClosingView {
  channelId: string;
  claimableMsat: bigint;
  /** Blocks until it is ours on chain; undefined while the closing transaction is unconfirmed. */
  blocksLeft: number | undefined;
  hoursLeft: number | undefined;
}

export interface SweepView {
  outpoint: string;
  amountMsat: bigint;
  status: 'waiting' | 'broadcast' | 'confirming';
}

/** An on-chain send checked and priced in the worker, waiting for the person's yes. */
export interface PreparedSendView {
  id: string;
  address: string;
  amountMsat: bigint;
  feeMsat: bigint;
  feerateSatPerVb: number;
  sendsAll: boolean;
}

export type PaymentViewStatus = 'pending' | 'succeeded' | 'failed';

export interface PaymentView {
  id: string;
  /** Absent in a snapshot saved by an older version. */
  paymentHash?: string;
  direction: 'inbound' | 'outbound';
  status: PaymentViewStatus;
  amountMsat: bigint | undefined;
  /** Outbound: routing fee paid. Inbound: the LSP's opening fee (skimmed). */
  feeMsat: bigint | undefined;
  description: string | undefined;
  preimage: string | undefined;
  failureReason: string | undefined;
  createdAt: number;
  updatedAt: number;
}

export type StreamViewState = 'running' | 'paused' | 'stopped' | 'finished' | 'failed';

/** One payment stream with its totals (the ledger keeps aggregates, not one row per payment). */
export interface StreamView {
  id: string;
  payee: string;
  satsPerMinute: bigint;
  periodMs: number;
  budgetMsat: bigint;
  startMs: number;
  endMs: number;
  onRestart: 'resume' | 'stop';
  state: StreamViewState;
  stopReason: string | null;
  paidCount: number;
  paidMsat: bigint;
  feeMsat: bigint;
  /** Reserved periods whose payment is on its way (amount + fee limit). */
  inFlightMsat: bigint;
  failedAttempts: number;
  lastPaidMs: number | null;
  createdMs: number;
}

/**
 * The shortest period of a stream to a Lightning Address: each period is one invoice request through
 * the LSP's relay, which allows a wallet 60 a minute by default (RATE_RELAY_PER_MIN); one every
 * 10 s leaves most of that to the rest of the wallet.
 */
export const LNURL_STREAM_PERIOD_MS = 10_000;

export interface StreamStart {
  /** The recipient: a node id (keysend) or a Lightning Address / LNURL-pay (an invoice each period). */
  to: string;
  satsPerMinute: bigint;
  periodMs: number;
  budgetMsat: bigint;
  untilMs: number;
  onRestart: 'resume' | 'stop';
}

export interface LspView {
  url: string;
  nodeId: string | undefined;
  network: string | undefined;
  reachable: boolean;
  /** Why the LSP cannot be used right now, in words. */
  problem: string | undefined;
  /** When it last answered (ms since epoch; kept across reloads): how long it has been gone. */
  lastSeenMs: number | undefined;
}

/** Network fees as they bear on the person now (LightningNode.feeWeather). */
export interface FeesView {
  /** "network fees are high right now; payments under N sats wait", only while fees are high. */
  notice: string | undefined;
  /** Payments under this wait now; 0n when none do. */
  smallPaymentMinMsat: bigint;
  /** What closing now costs us: cooperative (0 when the LSP funded) and force (sweep after the delay). */
  closeCostMsat: { cooperative: bigint; force: bigint };
}

export interface WalletSnapshot {
  status: NodeStatus;
  statusReason: string | undefined;
  nodeId: string | undefined;
  network: string | undefined;
  /**
   * Ours in channels: the node's buckets spendable + reserve + in flight (packages/node
   * balances.ts; what a close would pay us, whole sats).
   */
  balanceMsat: bigint;
  /** Every bucket of the node that is ours, each sat once: channels, on-chain wallet, closing. */
  totalMsat: bigint;
  /** What can be sent now. */
  spendableMsat: bigint;
  /** The largest payment a channel can take in now. */
  receivableMsat: bigint;
  channels: ChannelView[];
  payments: PaymentView[];
  /** Payment streams, newest first: each is one entry of history however many payments it made. */
  streams: StreamView[];
  lsp: LspView;
  fees: FeesView | undefined;
  /**
   * The on-chain wallet (where closes and sweeps land, what an on-chain send spends) and
   * `closingMsat`, what closed channels still owe it: `closing` and `sweeps` below, summed by the node.
   */
  onchain: { confirmedMsat: bigint; unconfirmedMsat: bigint; closingMsat: bigint };
  closing: ClosingView[];
  sweeps: SweepView[];
  /**
   * Channels closed because the wallet was restored (or another device ran it since): how far the
   * money has come back (packages/node recovery.ts).
   */
  recovery: RecoveryChannel[];
  /**
   * When the chain was last checked, and from when to warn (half the window to catch a cheating
   * LSP); `failure`: the chain-view check that failed (a source caught lying, or two sources that
   * disagree), while the node acts on neither (packages/node chain/checked.ts).
   */
  chainWatch:
    | {
        lastSyncAtMs: number | undefined;
        warnAtMs: number | undefined;
        failure?: { code: ChainErrorCode; message: string } | undefined;
      }
    | undefined;
  /** The Esplora URL the node reads the chain from. */
  chainSource: string | undefined;
  /** The second Esplora URL it compares the first with, if one is set. */
  secondChainSource?: string | undefined;
  backup: BackupView;
  /** The wallet's Lightning Address at its LSP (name@host), once read or claimed; undefined: none. */
  lightningAddress?: string | undefined;
  updatedAt: number;
}

export interface BackupView {
  /** The newest version the LSP acknowledged (this run or, from the device copy, before). */
  version: number | undefined;
  /** When the last backup became durable at the LSP (ms). */
  savedAt: number | undefined;
  /** Why the last upload failed, in words (retried with backoff). */
  problem: string | undefined;
  /** Channel-state commits not yet durable at the LSP, and since when (ms). */
  behindBy: number;
  behindSince: number | undefined;
  /** The LSP served an old, missing or broken copy, or lost ours: said in words. */
  warning: string | undefined;
}

export interface OpenRequest {
  walletId: string;
  nodeSeed: Uint8Array;
  backupKeys: BackupKeys;
  /** Makes stream payment ids and preimages reproducible after a reload (HMAC key). */
  streamKey: Uint8Array;
  lspUrl: string;
  /** The chain source chosen in Settings (an Esplora URL); undefined: the one the LSP names. */
  esploraUrl: string | undefined;
  /** A second Esplora URL (Settings) compared with the first; undefined: none. */
  secondEsploraUrl?: string | undefined;
  deviceId: string;
  /** A wallet restored from its words on this device: fetch its channel state from the LSP first. */
  restore: boolean;
  /** On restore: a backup file the person exported earlier (compared with the LSP's and the device's copies). */
  restoreFile?: Uint8Array;
}

/** What the page sends to open the wallet: everything but its secrets, which the worker holds since `unlock` or `seal`. */
export type OpenOptions = Omit<OpenRequest, 'nodeSeed' | 'backupKeys' | 'streamKey'>;

export interface ExportedBackup {
  blob: Uint8Array;
  version: number;
  fileName: string;
}

export type ReceiveQuote =
  | { kind: 'direct'; amountMsat: bigint | undefined }
  | {
      kind: 'jit';
      amountMsat: bigint;
      feeMsat: bigint;
      /** The LSP's opening_fee_params as received (wire form), handed back to `createInvoice`. */
      feeParams: unknown;
      validUntil: string;
    };

export interface CreatedInvoice {
  bolt11: string;
  paymentHash: string;
  expiresAt: number;
  /** The opening fee the LSP will take (JIT), 0 otherwise. */
  feeMsat: bigint;
}

export interface PaidInvoice {
  paymentHash: string;
  preimage: string;
  amountMsat: bigint;
  feeMsat: bigint;
}

export type Command =
  /** LDK's WASM as the page compiled it (undefined: it could not, and the worker loads the file). */
  | { type: 'loadLdk'; module: WebAssembly.Module | undefined }
  /** Decrypts the words here, in the worker, and keeps the secrets they derive for `open`. */
  | { type: 'unlock'; vault: VaultRecord; secret: UnlockSecret }
  /** Encrypts new or restored words under the chosen lock; the worker keeps their secrets for `open`. */
  /**
   * `replacing`: the id of the wallet this device holds (its lock forgotten): kept when the words
   * are that wallet's, so its own channel state runs on; else the restored wallet gets a new id.
   */
  | { type: 'seal'; mnemonic: string; secret: UnlockSecret; salt: Uint8Array; replacing?: string }
  /** The words again, for the person who asked to see them (the lock's secret is asked again). */
  | { type: 'revealWords'; vault: VaultRecord; secret: UnlockSecret }
  | { type: 'open'; request: OpenOptions }
  | { type: 'quoteReceive'; amountMsat: bigint | undefined; feeCapMsat: bigint }
  | {
      type: 'createInvoice';
      amountMsat: bigint | undefined;
      description: string;
      quote: ReceiveQuote;
    }
  | { type: 'pay'; bolt11: string; amountMsat: bigint | undefined; maxFeeMsat: bigint }
  | { type: 'estimateFee'; bolt11: string }
  /** A BOLT 12 offer (`lno1…`); `amountMsat` for an offer without an amount. */
  | { type: 'payOffer'; offer: string; amountMsat: bigint | undefined; maxFeeMsat: bigint }
  /** The wallet's reusable offer (any amount; its blinded path enters at the LSP). */
  | { type: 'offer' }
  /** One request to another origin through the LSP's relay (the session token stays in the worker). */
  | { type: 'relay'; request: RelayFetchInput }
  /** The LSP's exchange rates (display only). */
  | { type: 'rates' }
  | { type: 'startStream'; request: StreamStart }
  | { type: 'streamControl'; id: string; action: 'pause' | 'resume' | 'stop' }
  | { type: 'onchainAddress' }
  /** `amountMsat` undefined: the BIP 21 URI's amount. */
  | { type: 'prepareOnchainSend'; destination: string; amountMsat: bigint | 'all' | undefined }
  | { type: 'sendOnchain'; id: string }
  | { type: 'closeChannel'; channelId: string; force: boolean }
  | { type: 'exportBackup' }
  /** Claim (or change to) this Lightning Address name at the LSP. */
  | { type: 'claimAddress'; name: string }
  | { type: 'releaseAddress' }
  /** The most a JIT channel opened for a Lightning Address payment may cost (Settings' fee limit). */
  | { type: 'setAddressFeeCap'; feeCapMsat: bigint }
  | { type: 'retry' }
  | { type: 'close' };

export interface CommandResult {
  loadLdk: undefined;
  unlock: undefined;
  seal: VaultRecord;
  revealWords: string[];
  open: undefined;
  quoteReceive: ReceiveQuote;
  createInvoice: CreatedInvoice;
  pay: PaidInvoice;
  estimateFee: bigint | undefined;
  payOffer: PaidInvoice;
  offer: string;
  relay: RelayFetchOutput;
  rates: RatesOutput;
  startStream: string;
  streamControl: undefined;
  onchainAddress: string;
  prepareOnchainSend: PreparedSendView;
  /** The txid. */
  sendOnchain: string;
  closeChannel: undefined;
  exportBackup: ExportedBackup;
  claimAddress: AddressOutput;
  releaseAddress: undefined;
  setAddressFeeCap: undefined;
  retry: undefined;
  close: undefined;
}

/** The worker's own refusals; each carries a sentence written for the person. */
export type WalletCommandCode =
  | 'WORKER_FAILED'
  | 'LOCKED'
  | 'ALREADY_OPEN'
  | 'KEY_MISMATCH'
  | 'NODE_NOT_RUNNING'
  | 'LSP_UNREACHABLE'
  | 'NO_CHAIN_SOURCE'
  | 'BACKUP_REFUSED'
  | 'NO_BACKUP_YET'
  | 'AMOUNT_REQUIRED'
  | 'AMOUNT_OUT_OF_RANGE'
  | 'AMOUNT_TOO_SMALL'
  | 'FEE_ABOVE_CAP'
  | 'QUOTE_MISMATCH'
  | 'INVOICE_WRONG_NETWORK'
  | 'INSUFFICIENT_BALANCE'
  | 'FEE_TOO_HIGH'
  | 'SEND_OUTDATED'
  | 'INVALID_NODE_ID'
  | 'STREAM_NOT_RUNNING';

/**
 * What the LSP client reports: the server's ApiError code, a tRPC code, that no answer came, or
 * LSP_BUSY (still RATE_LIMITED after backing off; the message says when to try again).
 */
export type LspErrorCode =
  | ApiErrorCode
  | BackupErrorCode
  | TrpcErrorCode
  | 'UNREACHABLE'
  | 'LSP_ERROR'
  | 'LSP_BUSY';

/** Every code a failure from the worker can carry: its own, or one passed on from the parts it runs. */
export type WorkerErrorCode =
  | WalletCommandCode
  | NodeErrorCode
  | StreamErrorCode
  | BackupErrorCode
  | VaultErrorCode
  | LspErrorCode;

/** A failure the UI turns into words by its code (lib/messages.ts). */
export interface WorkerFailure {
  code: WorkerErrorCode;
  message: string;
}

export type ToWorker = { id: number; command: Command };

export type FromWorker =
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: WorkerFailure }
  | { type: 'snapshot'; snapshot: WalletSnapshot }
  | { type: 'log'; level: string; message: string };

/** A command's failure: thrown by the worker with its own codes, and by the UI's client with any it got back. */
export class WalletCommandError extends Error {
  override readonly name = 'WalletCommandError';
  constructor(
    readonly code: WorkerErrorCode,
    message: string,
  ) {
    super(message);
  }
}
