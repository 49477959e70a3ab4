// What the LSP keeps, as one interface with two backends (SQLite, PostgreSQL). Every wallet-owned
// record is read and written by node id, which the routers take from the session, never the input.
import type { JitPurchaseState, OpeningFeeParams, OrderState, OrderWire } from '@lpw/api';
import type { Store as NodeStore } from '@lpw/node';
import type { Db } from './db.ts';

export interface WalletRecord {
  nodeId: string;
  createdAtMs: number;
  lastLoginAtMs: number;
}

export interface SessionRecord {
  nodeId: string;
  expiresAtMs: number;
}

export interface JitPurchaseRecord {
  scid: bigint;
  nodeId: string;
  params: OpeningFeeParams;
  paymentSizeMsat: bigint | null;
  openingFeeMsat: bigint | null;
  state: JitPurchaseState;
  createdAtMs: number;
  updatedAtMs: number;
}

/** The channel a JIT purchase opened (or is opening): one per purchase. */
export interface JitChannelRecord {
  scid: bigint;
  /** The payment whose HTLCs triggered the open. */
  paymentHash: string;
  userChannelId: bigint;
  /** Set once LDK reports the channel pending (funded). */
  channelId: string | null;
  capacitySat: bigint;
  /** The fee taken across the payment's parts. */
  openingFeeMsat: bigint;
  createdAtMs: number;
  updatedAtMs: number;
}

export type InterceptState = 'held' | 'forwarded' | 'failed';

/** One intercepted HTLC to a JIT SCID (an MPP part), kept until forwarded or failed back. */
export interface InterceptRecord {
  interceptId: string;
  scid: bigint;
  paymentHash: string;
  inboundMsat: bigint;
  expectedOutboundMsat: bigint;
  state: InterceptState;
  forwardedMsat: bigint | null;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface ForwardRecord {
  id?: number;
  /** The wallet the forward served, when it did. */
  nodeId: string | null;
  inboundChannel: string | null;
  outboundChannel: string | null;
  inboundMsat: bigint;
  outboundMsat: bigint;
  feeMsat: bigint;
  outcome: 'forwarded' | 'failed';
  latencyMs: number | null;
  createdAtMs: number;
}

export interface OrderRecord {
  orderId: string;
  nodeId: string;
  state: OrderState;
  /** The LSPS1 order as the wallet sees it. */
  body: OrderWire;
  /** Payment hash of the order's BOLT 11 invoice (hex), when it has one. */
  paymentHash?: string | null;
  /** The channel opened for the order (LDK user channel id), once asked for. */
  userChannelId?: bigint | null;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface LeaseRecord {
  fencingToken: number;
  deviceId: string;
  expiresAtMs: number;
}

export interface BackupRecord {
  key: string;
  version: number;
  blob: Uint8Array;
  updatedAtMs: number;
}

export interface BackupSummary {
  key: string;
  version: number;
  size: number;
  updatedAtMs: number;
}

/** One value of a time series at one time (history.ts names the series and how they add up). */
export interface HistoryPoint {
  series: string;
  atMs: number;
  value: bigint;
}

/** One admin action the operator confirmed, and what came of it (the page's action log). */
export interface AdminActionRecord {
  id?: number;
  atMs: number;
  /** What was asked: 'open-channel', 'close-channel', 'jit-fee-policy', 'routing-fees'. */
  action: string;
  /** The confirmed form's fields, as the operator entered them. */
  params: Record<string, string>;
  outcome: 'done' | 'failed';
  /** The message the operator was shown. */
  detail: string;
}

/** A wallet whose latest backup write was refused (cleared by its next stored write). */
export interface BackupFailureRecord {
  nodeId: string;
  code: string;
  atMs: number;
}

/** A wallet's Lightning Address name (LUD-16 username), one per wallet. */
export interface AddressNameRecord {
  name: string;
  nodeId: string;
  createdAtMs: number;
}

/** A signed login the store completes (`completeLogins`). */
export interface LoginRecord {
  challenge: string;
  nowMs: number;
  /** SHA-256 of the bearer token; the token itself is never stored. */
  tokenHash: string;
  session: SessionRecord;
}

export type PutBackupResult =
  | { ok: true; version: number }
  | { ok: false; reason: 'VERSION_CONFLICT'; currentVersion: number }
  | { ok: false; reason: 'VERSION_NOT_GROWING'; currentVersion: number }
  | { ok: false; reason: 'LEASE_FENCED'; currentToken: number | null }
  | { ok: false; reason: 'QUOTA_EXCEEDED'; quota: 'keys' | 'bytes' };

export interface LspStore {
  readonly backend: 'sqlite' | 'postgres';

  touchWallet(nodeId: string, nowMs: number): Promise<WalletRecord>;
  getWallet(nodeId: string): Promise<WalletRecord | undefined>;
  listWallets(limit?: number): Promise<WalletRecord[]>;

  /** Stores login challenges, all in one commit. */
  insertChallenges(challenges: { challenge: string; expiresAtMs: number }[]): Promise<void>;
  /**
   * Logins, all in one commit, each answered in order: consumes the challenge (single use: true only
   * for the first login with it while unexpired; the challenge is gone afterwards), records the
   * wallet's login and stores its session. False writes nothing but the challenge's removal.
   */
  completeLogins(logins: LoginRecord[]): Promise<boolean[]>;
  insertSession(tokenHash: string, session: SessionRecord): Promise<void>;
  getSession(tokenHash: string, nowMs: number): Promise<SessionRecord | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  /** Drop expired challenges and sessions. */
  sweepExpired(nowMs: number): Promise<number>;

  insertJitPurchase(purchase: JitPurchaseRecord): Promise<void>;
  getJitPurchase(scid: bigint): Promise<JitPurchaseRecord | undefined>;
  listJitPurchases(nodeId: string, limit?: number): Promise<JitPurchaseRecord[]>;
  setJitPurchaseState(scid: bigint, state: JitPurchaseState, nowMs: number): Promise<boolean>;

  /** Insert, or replace the channel fields of, the purchase's JIT channel. */
  putJitChannel(channel: JitChannelRecord): Promise<void>;
  getJitChannel(scid: bigint): Promise<JitChannelRecord | undefined>;
  getJitChannelByUserChannelId(userChannelId: bigint): Promise<JitChannelRecord | undefined>;
  /** Records an intercepted HTLC; a replayed one (same id) keeps its first record. Returns it. */
  recordIntercept(intercept: InterceptRecord): Promise<InterceptRecord>;
  setInterceptState(
    interceptId: string,
    state: InterceptState,
    forwardedMsat: bigint | null,
    nowMs: number,
  ): Promise<boolean>;
  listIntercepts(filter: { scid?: bigint; state?: InterceptState }): Promise<InterceptRecord[]>;

  insertForward(forward: ForwardRecord): Promise<number>;
  /** Several forwards in one transaction (one fsync on SQLite instead of one per forward). */
  insertForwards(forwards: ForwardRecord[]): Promise<void>;
  listForwards(limit: number): Promise<ForwardRecord[]>;
  /** Forwards recorded in (fromMs, toMs], oldest first. */
  listForwardsBetween(fromMs: number, toMs: number): Promise<ForwardRecord[]>;
  /** JIT channels whose open started in (fromMs, toMs], oldest first. */
  listJitChannelsBetween(fromMs: number, toMs: number): Promise<JitChannelRecord[]>;

  insertOrder(order: OrderRecord): Promise<void>;
  getOrder(orderId: string): Promise<OrderRecord | undefined>;
  listOrders(nodeId: string, limit?: number): Promise<OrderRecord[]>;
  getOrderByPaymentHash(paymentHash: string): Promise<OrderRecord | undefined>;
  /** Orders of every wallet in `state`, oldest first (restart: finish what was paid). */
  listOrdersInState(state: OrderRecord['state'], limit?: number): Promise<OrderRecord[]>;
  setOrderChannel(orderId: string, userChannelId: bigint, nowMs: number): Promise<boolean>;
  updateOrder(orderId: string, state: OrderState, body: OrderWire, nowMs: number): Promise<boolean>;

  /** A new lease for `deviceId` with the next fencing token; any older lease is fenced off. */
  acquireLease(nodeId: string, deviceId: string, expiresAtMs: number): Promise<LeaseRecord>;
  /**
   * Like acquireLease, but only when no other device holds an unexpired lease at `nowMs` (the same
   * device renews); otherwise nothing changes and the holder is returned.
   */
  acquireLeaseIfFree(
    nodeId: string,
    deviceId: string,
    expiresAtMs: number,
    nowMs: number,
  ): Promise<{ ok: true; lease: LeaseRecord } | { ok: false; holder: LeaseRecord }>;
  getLease(nodeId: string): Promise<LeaseRecord | undefined>;
  /** Ends the lease early when `fencingToken` is still the current one. */
  releaseLease(nodeId: string, fencingToken: number, nowMs: number): Promise<boolean>;
  /**
   * Compare-and-swap under the current, unexpired lease: lands as `version` (default
   * `expectedVersion + 1`), which must be above the stored version (VERSION_NOT_GROWING otherwise).
   */
  putBackup(request: {
    nodeId: string;
    key: string;
    expectedVersion: number;
    version?: number;
    blob: Uint8Array;
    fencingToken: number;
    nowMs: number;
    maxKeys: number;
    /** All of the wallet's blobs together, this one counted at its new size. */
    maxBytes?: number;
  }): Promise<PutBackupResult>;
  getBackup(nodeId: string, key: string): Promise<BackupRecord | undefined>;
  listBackups(nodeId: string): Promise<BackupSummary[]>;
  /** Bytes of every stored backup, and the wallets that have one. */
  backupTotals(): Promise<{ bytes: number; wallets: number }>;

  /** Insert, or replace the value of, points at one resolution (0 = as sampled), in one transaction. */
  putHistory(resolutionMs: number, points: HistoryPoint[]): Promise<void>;
  /** Points at `resolutionMs` in [fromMs, toMs), oldest first; only series starting with `prefix`. */
  listHistory(query: {
    resolutionMs: number;
    fromMs: number;
    toMs: number;
    prefix?: string;
  }): Promise<HistoryPoint[]>;
  /** Drop points at `resolutionMs` older than `beforeMs`; returns how many. */
  deleteHistory(resolutionMs: number, beforeMs: number): Promise<number>;
  /** The newest point's time at `resolutionMs`, if any. */
  lastHistoryAt(resolutionMs: number): Promise<number | undefined>;

  /** Appends to the admin action log; returns the entry's id. */
  recordAdminAction(entry: AdminActionRecord): Promise<number>;
  /** The newest `limit` entries of the admin action log, newest first. */
  listAdminActions(limit: number): Promise<AdminActionRecord[]>;

  /** Marks the wallet's latest backup write refused (replacing an older mark). */
  putBackupFailure(failure: BackupFailureRecord): Promise<void>;
  /** The wallet's latest backup write was stored: it is no longer failing. */
  clearBackupFailure(nodeId: string): Promise<void>;
  /** Every wallet whose latest backup write was refused, most recent first. */
  listBackupFailures(): Promise<BackupFailureRecord[]>;

  /**
   * Counts one use of an L402 token unless `maxUses` were counted already (false then), in one
   * statement, so processes sharing the database never both take the last use. The row is swept
   * once `expiresAtSec` (unix seconds) has passed: the token is refused by then anyway.
   */
  consumeL402Use(tokenId: string, maxUses: number, expiresAtSec: number | undefined): Promise<boolean>;

  /**
   * Gives `nodeId` the name `name`, dropping the one it had, in one commit; NAME_TAKEN (nothing
   * changed) when another wallet holds it. Claiming the name it has already changes nothing.
   */
  claimAddressName(
    nodeId: string,
    name: string,
    nowMs: number,
  ): Promise<{ ok: true; record: AddressNameRecord } | { ok: false; reason: 'NAME_TAKEN' }>;
  getAddressName(name: string): Promise<AddressNameRecord | undefined>;
  addressNameOf(nodeId: string): Promise<AddressNameRecord | undefined>;
  /** Frees the wallet's name for anyone; false when it had none. */
  releaseAddressName(nodeId: string): Promise<boolean>;

  /** The Lightning node's persistence (packages/node `Store`), one namespace per node. */
  /** `db`: write through another connection to the same database (standby.ts: the lock's session). */
  nodeStore(namespace: string, db?: Db): NodeStore;

  /** Every row of every table, in a stable order: for tests that prove nothing changed. */
  snapshot(): Promise<Record<string, Record<string, unknown>[]>>;
  close(): Promise<void>;
}
