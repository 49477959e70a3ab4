// The headless wallet SDK: one directory (seed, node state, stream ledger) and one LSP. openWallet()
// starts the node on SQLite, logs in to the LSP, opens the WebSocket peer link, resolves any
// payment a crash left open, and uploads encrypted channel-state backups after channel updates.

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { InfoOutput } from '@lpw/api';
import {
  BackedUpStore,
  BackupUploader,
  isBackupError,
  readBackupHeader,
  type UploaderStatus,
} from '@lpw/backup';
import { formatAuthorization, tokenCovers, tokenScope } from '@lpw/l402';
import { createLspClient, type LspClient, payableInvoice } from '@lpw/lsp-server/client';
import {
  createNode,
  type LightningNode,
  type LogLevel,
  type Network,
  type NodeOptions,
  nodeIdentity,
  type OfferSummary,
  type RecoveryChannel,
  type Store,
  type WebSocketConstructor,
} from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import { SqliteStore } from '@lpw/node/sqlite';
import { type OnRestart, type RunOptions, StreamEngine, type StreamHandle } from '@lpw/stream';
import WebSocket from 'ws';
import {
  checkBackupFile,
  checkNotFewerChannels,
  chooseRestore,
  leaseHeld,
  lspTransport,
  type RestoreChoice,
} from './backup.ts';
import { bolt8Lsp, type LspPeer, parseLspPeer, type WalletLsp } from './bolt8.ts';
import { readDeviceCopy, readSavedStatus, saveStatus, writeDeviceCopy } from './device-copy.ts';
import { CliError, fromBackupError, toCliError } from './errors.ts';
import { type L402Result, l402Fetch } from './l402.ts';
import { type SinglePayment, SqliteLedger } from './ledger.ts';
import { createSeedFile, deriveSecrets, readSeedFile, SEED_FILE, type WalletSecrets } from './seed.ts';

export interface OpenWalletOptions {
  /** The wallet directory (seed.txt, node.sqlite, streams.sqlite, backup.lpwb). */
  dir: string;
  /** The LSP's base URL, e.g. http://127.0.0.1:8080 */
  lspUrl: string;
  /** Refuse an LSP on another network (default: whatever the LSP says). */
  network?: Network;
  /** Chain source (default: the Esplora URL the LSP advertises). */
  esploraUrl?: string;
  /** A second Esplora compared with the first: when they disagree the wallet acts on neither. */
  secondEsploraUrl?: string;
  /**
   * How long a channel update waits for its backup to be durable at the LSP before it goes through
   * anyway, counted in `backupStatus.behindBy` (default 30 s).
   */
  backupTimeoutMs?: number;
  logLevel?: LogLevel;
  /** Diagnostics (default: none). The CLI sends them to stderr. */
  log?: (message: string) => void;
  /** Node knobs for tests and benchmarks. */
  node?: Partial<Pick<NodeOptions, 'compactMonitorEvery' | 'chainSyncIntervalMs'>>;
  /**
   * Start without the LSP when it cannot be reached (closes, on-chain sends, sweeps): the network,
   * LSP node id and chain source then come from the last successful start (`lsp.json`), the chain
   * source from `esploraUrl` first. Never for a directory another device took the wallet from.
   */
  lspOptional?: boolean;
  /**
   * 'bolt8': reach the LSP only as a Lightning peer (`lspPeer`), in LSPS over BOLT 8 (bLIP 50/52):
   * JIT receives with no HTTP at all. `network` and `esploraUrl` must then be given; the LSP's
   * HTTP-only services (its routes for paying, backups) are not used. Default 'trpc'.
   */
  lspTransport?: 'trpc' | 'bolt8';
  /** The LSP as `NODE_ID@HOST:PORT`, for lspTransport 'bolt8'. */
  lspPeer?: string;
}

/** What the wallet needs of the LSP to start, kept from the last time it answered. */
interface LspFacts {
  network: Network;
  nodeId: string;
  esploraUrl: string | undefined;
}

const LSP_FACTS_FILE = 'lsp.json';

function readLspFacts(dir: string): LspFacts | undefined {
  try {
    const facts = JSON.parse(readFileSync(join(dir, LSP_FACTS_FILE), 'utf8')) as LspFacts;
    return typeof facts.network === 'string' && typeof facts.nodeId === 'string' ? facts : undefined;
  } catch {
    return undefined;
  }
}

function writeLspFacts(dir: string, facts: LspFacts): void {
  writeFileSync(join(dir, LSP_FACTS_FILE), JSON.stringify(facts), { mode: 0o600 });
}

export interface RestoreWalletOptions extends OpenWalletOptions {
  /** The wallet's BIP 39 words. */
  words: string;
  /** A backup file (`backup export`, or a copy of `backup.lpwb`); it must be valid. */
  backupFile?: string;
  /** What was found and what will be restored, told before the node starts. */
  onRestore?: (report: RestoreReport) => void;
}

/** What a restore found: the copy used (none: words only), and why when the LSP's was not it. */
export interface RestoreReport {
  /** undefined: no valid copy anywhere, the wallet starts from its words alone. */
  restored: RestoreChoice['summary'];
  /** Set when the LSP's copy is older than another, missing while another exists, or broken. */
  rollbackReport: string | undefined;
  copies: Array<{ source: string; version?: number; refused?: string; missing?: boolean }>;
}

export interface ReceiveQuote {
  amountMsat: bigint;
  /** true: no channel can take this payment, the LSP opens one (JIT) and keeps `openingFeeMsat`. */
  jit: boolean;
  openingFeeMsat: bigint;
}

export interface Receive extends ReceiveQuote {
  bolt11: string;
  paymentHash: string;
  expiresAtMs: number;
}

export interface Payment {
  paymentHash: string;
  preimage: string;
  amountMsat: bigint;
  feeMsat: bigint;
}

/**
 * The node's buckets (packages/node balances.ts), each sat in one of them; `totalMsat` is their sum
 * (`inboundMsat` and `spendableMsat` are not money of ours: capacity and a part of `lightningMsat`).
 */
export interface Balance {
  /** What channels can send in one payment now. */
  spendableMsat: bigint;
  /** What channels can send (outbound capacity). */
  lightningMsat: bigint;
  /** What the peer makes us keep in our channels: ours, paid out when a channel closes, not spendable. */
  reserveMsat: bigint;
  /** Our outbound HTLCs not resolved yet. */
  inFlightMsat: bigint;
  inboundMsat: bigint;
  /** The on-chain wallet's coins, confirmed and not. */
  onchainMsat: bigint;
  onchainConfirmedMsat: bigint;
  onchainUnconfirmedMsat: bigint;
  /** Claimable after a close: LDK's claims (CSV or confirmations to wait) and sweeps not in the wallet yet. */
  closingMsat: bigint;
  totalMsat: bigint;
  channels: number;
  /** Reserved stream periods and pending payments whose outcome is not known yet. */
  pendingOutMsat: bigint;
}

export interface StreamRequest {
  to: string;
  satsPerMinute: bigint;
  /** Payment period (default 60 s; 1 s = per-second payments). */
  periodMs?: number;
  budgetSats: bigint;
  /** End: an absolute time (ms since epoch). */
  untilMs: number;
  /** Fee limit per payment (default 5 sat). */
  maxFeeMsatPerPayment?: bigint;
  /** After a crash, `resumeStream` continues it ('resume', default) or ends it ('stop'). */
  onRestart?: OnRestart;
}

export interface HistoryEntry {
  kind: 'received' | 'paid' | 'stream';
  at: number;
  amountMsat: bigint;
  feeMsat: bigint;
  status: string;
  paymentHash?: string;
  /** Streams: one entry for all their payments. */
  stream?: { id: string; to: string; count: number; firstMs: number | null; lastMs: number | null };
}

const LOCK_FILE = 'wallet.lock';
const NODE_STORE_FILE = 'node.sqlite';
/**
 * In the node store (never backed up) from the commit of a restored state until the node has closed
 * its channels for recovery: a crash in between still starts the next run in recovery mode.
 */
const RESTORE_PENDING_KEY = 'cli/restore-pending';
/** Without uploads, a lease is renewed this often: a quiet wallet (waiting to receive) keeps it. */
const LEASE_CHECK_MS = 60_000;
const LEASE_TTL_SEC = 600;

/** Creates the wallet directory and its seed (BIP 39, 24 words, mode 0600). Returns the words. */
export function initWallet(dir: string): { mnemonic: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return { mnemonic: createSeedFile(dir) };
}

/** One process per wallet directory: two nodes on one channel state would lose money. */
function lockDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(path, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid))
        throw new CliError('WALLET_LOCKED', `the wallet in ${dir} is in use by process ${pid}`);
      rmSync(path, { force: true }); // left by a process that died (a crash, kill -9)
    }
  }
  throw new CliError('WALLET_LOCKED', `could not lock ${dir}`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function deviceIdOf(dir: string): string {
  const path = join(dir, 'device-id');
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    const id = `cli-${randomBytes(12).toString('hex')}`;
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    writeSync(fd, id);
    closeSync(fd);
    return id;
  }
}

/** The version of the copy this directory's state descends from (its device copy), 0 if none. */
function lineageVersion(dir: string): number {
  const copy = readDeviceCopy(dir);
  if (!copy) return 0;
  try {
    return readBackupHeader(copy).version;
  } catch {
    return 0; // a damaged device copy vouches for nothing
  }
}

/** Opens the wallet in `dir` (created by `initWallet` or `restoreWallet`). */
export async function openWallet(options: OpenWalletOptions): Promise<Wallet> {
  return open(options, readSeedFile(options.dir), undefined);
}

/**
 * A wallet from its words in a new directory: the newest valid backup among the LSP's and
 * `backupFile` is restored and the node starts in recovery mode (every channel closed without
 * broadcasting; the LSP's closing transaction pays our balance into the on-chain wallet). With no
 * backup anywhere, it starts from the words alone. A refusal (bad words or file, another device
 * running the wallet, an LSP copy it would shrink) leaves no wallet behind.
 */
export async function restoreWallet(options: RestoreWalletOptions): Promise<Wallet> {
  const secrets = deriveSecrets(options.words);
  if (existsSync(join(options.dir, SEED_FILE)))
    throw new CliError(
      'ALREADY_INITIALIZED',
      `${join(options.dir, SEED_FILE)} exists: restore into a new directory`,
    );
  let file: { path: string; blob: Uint8Array } | undefined;
  if (options.backupFile !== undefined) {
    try {
      file = { path: options.backupFile, blob: new Uint8Array(readFileSync(options.backupFile)) };
    } catch (e) {
      throw new CliError('INVALID_INPUT', `cannot read the backup file ${options.backupFile}: ${String(e)}`);
    }
  }
  return open(options, secrets, { words: options.words, file, onRestore: options.onRestore });
}

interface Restore {
  words: string;
  file: { path: string; blob: Uint8Array } | undefined;
  onRestore: ((report: RestoreReport) => void) | undefined;
}

async function open(options: OpenWalletOptions, secrets: WalletSecrets, restore: Restore | undefined) {
  const { dir } = options;
  const log = options.log ?? (() => {});
  await initLdkNode();
  const identity = nodeIdentity(secrets.nodeSeed);
  const expect = { nodeId: identity.nodeId, keys: secrets.backupKeys };
  if (restore?.file) await checkBackupFile(restore.file.blob, restore.file.path, expect);

  const dirExisted = existsSync(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const filesBefore = new Set(readdirSync(dir));
  const unlock = lockDir(dir);
  let seedWritten = restore === undefined;
  const closers: Array<() => Promise<void> | void> = [unlock];
  const cleanup = async () => {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
    // a refused restore leaves no wallet behind: only what this run created goes
    if (!seedWritten) {
      if (!dirExisted) rmSync(dir, { recursive: true, force: true });
      else
        for (const name of readdirSync(dir))
          if (!filesBefore.has(name)) rmSync(join(dir, name), { force: true });
    }
  };
  try {
    const client = createLspClient({
      url: options.lspUrl,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    const peer = options.lspTransport === 'bolt8' ? parseLspPeer(options.lspPeer) : undefined;
    const info = peer ? bolt8Facts(options, peer) : await lspFacts(client, options);
    if (options.network && info.network !== options.network)
      throw new CliError('INVALID_INPUT', `the LSP runs on ${info.network}, not ${options.network}`);
    const esploraUrl = options.esploraUrl ?? info.esploraUrl;
    if (!esploraUrl)
      throw new CliError('INVALID_INPUT', 'the LSP advertises no chain source: pass --esplora-url URL');
    if (!info.online && readSavedStatus(dir)?.fenced)
      // its channel state is older than the device that took over: a force close from here would
      // publish a revoked commitment, and the LSP could take the whole channel
      throw new CliError(
        'LEASE_FENCED',
        'another device took this wallet over: this directory must not run it, not even to leave without the LSP',
      );
    // logged in with the node key before the node exists: the backup decides what state it starts from
    if (info.online) await client.login(identity);
    const deviceId = deviceIdOf(dir);
    const inner = new SqliteStore(join(dir, NODE_STORE_FILE));
    closers.push(() => inner.close());
    const local = await inner.load();
    let recoverChannels = local.has(RESTORE_PENDING_KEY);
    let restored: RestoreReport | undefined;

    let backup: WalletBackup | undefined;
    if (info.online?.features.includes('backup')) {
      let saved = readSavedStatus(dir);
      let onFenced: (status: UploaderStatus) => void = () => {};
      const transport = lspTransport(client);
      const uploader = new BackupUploader({
        transport,
        nodeId: identity.nodeId,
        keys: secrets.backupKeys,
        deviceId,
        takeOver: false, // a machine never takes its wallet from another device: it refuses
        leaseTtlSec: LEASE_TTL_SEC,
        maxBlobBytes: info.online.limits.maxBackupBlobBytes,
        onDurable: (blob) => writeDeviceCopy(dir, blob),
        onStatus: (status) => {
          saved = saveStatus(dir, status, saved);
          if (status.fenced) onFenced(status);
        },
      });
      try {
        await uploader.start();
      } catch (e) {
        if (isBackupError(e, 'LEASE_HELD')) throw leaseHeld(e, deviceId);
        throw isBackupError(e) ? fromBackupError(e, "the LSP's backup service") : e;
      }
      closers.push(() => uploader.close());
      let lineage = lineageVersion(dir);
      const fetchRemote = () =>
        uploader.fetch().catch((e: unknown) => {
          throw isBackupError(e) ? fromBackupError(e, "fetching the LSP's backup") : e;
        });

      if (restore) {
        const remote = await fetchRemote();
        const done = await restoreInto(dir, inner, local, restore, remote, expect);
        restored = done.report;
        lineage = done.lineage;
        recoverChannels ||= done.recoverChannels;
        seedWritten = true;
      } else if (uploader.status.version > lineage) {
        checkNotFewerChannels(await fetchRemote(), local, lineage);
      }
      uploader.raiseFloor(lineage);
      backup = {
        uploader,
        transport,
        deviceId,
        store: new BackedUpStore(inner, uploader, { timeoutMs: options.backupTimeoutMs ?? 30_000 }),
        setOnFenced: (fn) => {
          onFenced = fn;
        },
      };
    } else if (restore) {
      // an LSP that keeps no backups: a file, or the words alone
      const done = await restoreInto(dir, inner, local, restore, undefined, expect);
      restored = done.report;
      recoverChannels ||= done.recoverChannels;
      seedWritten = true;
    }

    const store: Store = backup?.store ?? inner;
    const node = await createNode({
      seed: secrets.nodeSeed,
      network: info.network,
      role: 'wallet',
      store,
      // the chain view is checked (headers, merkle proofs) and, with a second source, compared
      chain: {
        esploraUrl,
        checked: true,
        ...(options.secondEsploraUrl ? { secondEsploraUrl: options.secondEsploraUrl } : {}),
      },
      trustedPeers: [info.nodeId],
      recoverChannels,
      logLevel: options.logLevel ?? 'error',
      log: (entry) => log(`[ldk ${entry.level}] ${entry.module}: ${entry.message}`),
      ...options.node,
    });
    closers.push(() => node.stop());
    // the channels are closed and that is durable: later starts are ordinary ones
    if (recoverChannels) await store.commit([{ key: RESTORE_PENDING_KEY, value: null }]);
    const ledger = new SqliteLedger(join(dir, 'streams.sqlite'));
    closers.push(() => ledger.close());
    const wallet = new Wallet(
      secrets,
      node,
      peer ? bolt8Lsp(node, peer) : client,
      ledger,
      inner,
      backup,
      info.nodeId,
      log,
      restored,
      info.online !== undefined || peer !== undefined,
    );
    closers.length = 0; // the wallet owns them now
    await wallet.start(unlock).catch(async (e: unknown) => {
      await wallet.close().catch(() => {});
      throw e;
    });
    return wallet;
  } catch (e) {
    await cleanup();
    throw toCliError(e);
  }
}

/** Over BOLT 8 the LSP says nothing of itself before the peer link: the caller names all of it. */
function bolt8Facts(options: OpenWalletOptions, peer: LspPeer): LspFacts & { online: undefined } {
  if (!options.network)
    throw new CliError('USAGE', '--lsp-transport bolt8 needs --network (the LSP says it only over HTTP)');
  if (!options.esploraUrl) throw new CliError('USAGE', '--lsp-transport bolt8 needs --esplora-url');
  return { network: options.network, nodeId: peer.nodeId, esploraUrl: options.esploraUrl, online: undefined };
}

/**
 * The LSP's network, node id and chain source, and (online) all it says of itself: asked now, or
 * (lspOptional) as last seen.
 */
async function lspFacts(
  client: LspClient,
  options: OpenWalletOptions,
): Promise<LspFacts & { online: InfoOutput | undefined }> {
  try {
    const info = await client.info();
    const facts = { network: info.network, nodeId: info.nodeId, esploraUrl: info.esploraUrl ?? undefined };
    writeLspFacts(options.dir, facts);
    return { ...facts, online: info };
  } catch (e) {
    const unreachable = new CliError(
      'LSP_UNREACHABLE',
      `cannot reach the LSP at ${options.lspUrl}: ${String(e)}`,
      { cause: e },
    );
    if (!options.lspOptional) throw unreachable;
    const known = readLspFacts(options.dir);
    if (!known) throw unreachable; // never started: nothing to exit from
    options.log?.(`the LSP is unreachable; starting without it (${String(e)})`);
    return { ...known, online: undefined };
  }
}

/**
 * Restores the newest valid copy into the (empty) node store, marked as still to be recovered,
 * writes it as this directory's device copy, then the seed file: the wallet exists from here on.
 * Refused before anything is written when the state would shrink the LSP's copy.
 */
async function restoreInto(
  dir: string,
  inner: SqliteStore,
  local: ReadonlyMap<string, Uint8Array>,
  restore: Restore,
  remote: { blob: Uint8Array; version: number } | undefined,
  expect: { nodeId: string; keys: WalletSecrets['backupKeys'] },
): Promise<{ report: RestoreReport; lineage: number; recoverChannels: boolean }> {
  // a store holding anything but an unfinished restore of this same step is a wallet already
  if (local.size > 0 && !local.has(RESTORE_PENDING_KEY))
    throw new CliError(
      'ALREADY_INITIALIZED',
      'the node store already holds a wallet: restore into a new directory',
    );
  const choice = await chooseRestore(remote?.blob, restore.file?.blob, expect);
  const report: RestoreReport = {
    restored: choice.summary,
    rollbackReport: choice.rollbackReport,
    copies: choice.verdicts.map((v) => ({
      source: v.source,
      ...(v.version !== undefined ? { version: v.version } : {}),
      ...(v.error ? { refused: `${v.error.code}: ${v.error.message}` } : {}),
      ...(v.missing ? { missing: true } : {}),
    })),
  };
  restore.onRestore?.(report);
  const entries = choice.chosen?.entries ?? new Map<string, Uint8Array>();
  const lineage = choice.chosen?.header.version ?? 0;
  checkNotFewerChannels(remote, entries, lineage);
  if (choice.chosen) {
    // one transaction: the restored state and the mark that its channels still have to be closed
    await inner.commit([
      ...[...entries].map(([key, value]) => ({ key, value })),
      { key: RESTORE_PENDING_KEY, value: new TextEncoder().encode(String(lineage)) },
    ]);
    writeDeviceCopy(dir, choice.chosen.blob); // this directory now descends from that copy
  }
  createSeedFile(dir, restore.words);
  return { report, lineage, recoverChannels: choice.chosen !== undefined };
}

/** The wallet's backup parts, when the LSP keeps backups. */
interface WalletBackup {
  uploader: BackupUploader;
  transport: ReturnType<typeof lspTransport>;
  deviceId: string;
  store: BackedUpStore;
  setOnFenced(fn: (status: UploaderStatus) => void): void;
}

export class Wallet {
  readonly nodeId: string;
  /**
   * Rejects with LEASE_FENCED when another device takes this wallet over while it runs; streams
   * are stopped by then. The CLI races every command against it (and then exits).
   */
  readonly fenced: Promise<never>;
  private readonly streams: StreamEngine;
  private readonly offs: Array<() => void> = [];
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  private leaseWatch: ReturnType<typeof setInterval> | undefined;
  private unlock: (() => void) | undefined;
  private closed = false;
  private fencedBy: CliError | undefined;
  private fence: (error: CliError) => void = () => {};

  /** @internal use openWallet() or restoreWallet() */
  constructor(
    secrets: WalletSecrets,
    readonly node: LightningNode,
    readonly lsp: WalletLsp,
    readonly ledger: SqliteLedger,
    private readonly nodeStore: SqliteStore,
    private readonly backup: WalletBackup | undefined,
    readonly lspNodeId: string,
    private readonly log: (message: string) => void,
    /** What `restoreWallet` found and restored (undefined for an ordinary open). */
    readonly restored: RestoreReport | undefined,
    /** Whether the LSP answered at start; without it only local and on-chain commands work. */
    readonly lspReachable = true,
  ) {
    this.nodeId = node.nodeId;
    this.fenced = new Promise<never>((_, reject) => {
      this.fence = reject;
    });
    this.fenced.catch(() => {}); // observed by whoever races it; never an unhandled rejection
    this.streams = new StreamEngine({
      ledger,
      node,
      findRoute: async (payee, maxAmountMsat, finalCltv) => ({
        ...(await lsp.route(payee, maxAmountMsat, finalCltv)),
        maxAmountMsat,
      }),
      streamKey: secrets.streamKey,
      // a machine reaches Lightning Addresses directly (no relay, no rate limit): per-second works
      lnurl: { fetch: globalThis.fetch, minPeriodMs: 1_000 },
      // while the peer link to the LSP is down (re-established every 5 s) nothing is reserved
      canSend: () => node.isConnected(lspNodeId) && !this.fencedBy,
      log,
    });
  }

  /** @internal */
  async start(unlock: () => void): Promise<void> {
    this.unlock = unlock;
    this.backup?.setOnFenced((status) => this.stopFenced(status.problem?.details));
    // outcomes first: a payment replayed by LDK after a restart settles before anything new is sent
    this.offs.push(
      this.streams.listen(),
      this.node.on('payment-sent', (e) => {
        this.ledger.resolvePayment(e.paymentId, { status: 'succeeded', feeMsat: e.feeMsat ?? null });
      }),
      this.node.on('payment-failed', (e) => {
        this.ledger.resolvePayment(e.paymentId, { status: 'failed', reason: e.reason });
      }),
    );
    await new Promise((r) => setTimeout(r, 50)); // let replayed events reach the listeners
    await this.streams.reconcile();
    this.resolveUnknownPayments();
    if (!this.lspReachable) return; // leaving without the LSP: no peer link, no backups
    await this.connectLsp();
    await this.quiescent(10_000);
    this.keepAlive = setInterval(() => {
      if (!this.closed && !this.fencedBy && !this.node.isConnected(this.lspNodeId))
        this.connectLsp().catch((e: unknown) => this.log(`reconnecting to the LSP failed: ${String(e)}`));
    }, 5_000);
    if (this.backup) this.watchLease(this.backup);
  }

  /**
   * A quiet wallet uploads nothing, so nothing renews its lease or tells it another device took
   * over: renew it here (never taking it over) when no upload did for a while.
   */
  private watchLease(backup: WalletBackup): void {
    let uploadsSeen = backup.uploader.status.uploads;
    this.leaseWatch = setInterval(() => {
      const uploads = backup.uploader.status.uploads;
      if (uploads !== uploadsSeen || this.closed || this.fencedBy) {
        uploadsSeen = uploads;
        return;
      }
      backup.transport
        .acquireLease({ deviceId: backup.deviceId, ttlSec: LEASE_TTL_SEC, takeOver: false })
        .catch((e: unknown) => {
          if (isBackupError(e, 'LEASE_HELD')) this.stopFenced(e.details);
          else this.log(`renewing the backup lease failed: ${String(e)}`);
        });
    }, LEASE_CHECK_MS);
  }

  /** Another device holds the wallet now: stop sending, stop streams, never take the lease back. */
  private stopFenced(holder: Record<string, unknown> | undefined): void {
    if (this.fencedBy || this.closed) return;
    const who = typeof holder?.deviceId === 'string' ? holder.deviceId : 'another device';
    this.fencedBy = new CliError(
      'LEASE_FENCED',
      `${who} took this wallet over at the LSP (its backup lease); this process stopped and did not take it back. Run the wallet there, or stop it there before running it here.`,
    );
    if (this.keepAlive) clearInterval(this.keepAlive);
    if (this.leaseWatch) clearInterval(this.leaseWatch);
    this.log(this.fencedBy.message);
    this.fence(this.fencedBy);
  }

  /**
   * Payments recorded before a crash whose outcome we never saw: LDK's record decides, as for
   * stream periods (StreamEngine.reconcile).
   */
  private resolveUnknownPayments(): void {
    for (const p of this.ledger.payments()) {
      if (p.status !== 'pending') continue;
      const state = this.node.spontaneousPayment.recentState(p.paymentId);
      if (state === 'fulfilled')
        this.ledger.resolvePayment(p.paymentId, { status: 'succeeded', feeMsat: null });
      else if (state === undefined)
        this.ledger.resolvePayment(p.paymentId, {
          status: 'failed',
          reason: 'not handed to LDK before a crash',
        });
    }
  }

  /**
   * Waits (up to `timeoutMs`) until every channel is usable with no HTLC in flight: after a
   * reconnect (channel_reestablish) and after a payment (the commitment dance that follows the
   * preimage), so balances read then are final and a process exiting leaves nothing half-done.
   */
  async quiescent(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const channels = this.node.ldk.channelManager.list_channels();
      const busy = channels.some(
        (c) =>
          !c.get_is_usable() ||
          c.get_pending_inbound_htlcs().length > 0 ||
          c.get_pending_outbound_htlcs().length > 0,
      );
      if (!busy) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private async connectLsp(): Promise<void> {
    try {
      if (!this.lsp.token) await this.lsp.login(this.node);
      await this.lsp.connect(this.node);
    } catch (e) {
      // an expired session: log in again once
      await this.lsp.login(this.node);
      await this.lsp.connect(this.node).catch((again: unknown) => {
        throw new CliError('LSP_UNREACHABLE', `cannot open the peer link to the LSP: ${String(again)}`, {
          cause: e,
        });
      });
    }
  }

  // ------------------------------------------------------------------ receive

  /** What receiving `amountMsat` costs: nothing over an existing channel, else the LSP's opening fee. */
  async quoteReceive(amountMsat: bigint): Promise<ReceiveQuote> {
    if (amountMsat <= 0n) throw new CliError('INVALID_INPUT', 'amount must be positive');
    // one HTLC goes over one channel: the largest inbound capacity decides
    let inbound = 0n;
    for (const c of this.node.listChannels())
      if (c.isUsable && c.inboundMsat > inbound) inbound = c.inboundMsat;
    if (inbound >= amountMsat) return { amountMsat, jit: false, openingFeeMsat: 0n };
    const best = (await this.lsp.quoteJit(amountMsat)).offer?.feeMsat;
    if (best === undefined)
      throw new CliError('INVALID_INPUT', `the LSP opens no channel for a payment of ${amountMsat} msat`);
    if (best >= amountMsat)
      throw new CliError('FEE_TOO_HIGH', `the opening fee ${best} msat would take the whole payment`);
    return { amountMsat, jit: true, openingFeeMsat: best };
  }

  /**
   * An invoice for `amountMsat`. Without inbound capacity it is a JIT invoice: the LSP opens a
   * channel when it is paid and keeps at most the quoted fee (refused above `maxFeeMsat`).
   */
  async receive(request: {
    amountMsat: bigint;
    description?: string;
    maxFeeMsat?: bigint;
    expirySecs?: number;
    quote?: ReceiveQuote;
  }): Promise<Receive> {
    const quote = request.quote ?? (await this.quoteReceive(request.amountMsat));
    const description = request.description ?? '';
    const expirySecs = request.expirySecs ?? 3600;
    if (!quote.jit) {
      const inv = this.node.createInvoice({ amountMsat: request.amountMsat, description, expirySecs });
      return { ...quote, bolt11: inv.bolt11, paymentHash: inv.paymentHash, expiresAtMs: inv.expiresAt };
    }
    if (request.maxFeeMsat !== undefined && quote.openingFeeMsat > request.maxFeeMsat)
      throw new CliError(
        'FEE_TOO_HIGH',
        `receiving needs a new channel; the LSP's fee is ${quote.openingFeeMsat} msat, above the limit of ${request.maxFeeMsat} msat`,
      );
    try {
      const jit = await this.lsp.receiveJit(this.node, {
        amountMsat: request.amountMsat,
        description,
        expirySecs,
        maxFeeMsat: quote.openingFeeMsat, // never more than what was shown
      });
      return {
        ...quote,
        openingFeeMsat: jit.openingFeeMsat,
        bolt11: jit.bolt11,
        paymentHash: jit.paymentHash,
        expiresAtMs: jit.expiresAtMs,
      };
    } catch (e) {
      throw toCliError(e);
    }
  }

  /** Resolves when `paymentHash` was received (amount after any JIT fee). */
  async waitForPayment(
    paymentHash: string,
    timeoutMs: number,
  ): Promise<{ amountMsat: bigint; feeMsat: bigint }> {
    const done = this.node.payment(paymentHash);
    if (done?.status === 'succeeded' && done.direction === 'inbound')
      return { amountMsat: done.amountMsat ?? 0n, feeMsat: done.skimmedFeeMsat ?? 0n };
    try {
      const e = await this.node.waitFor('payment-received', (r) => r.paymentHash === paymentHash, timeoutMs);
      await this.quiescent(10_000);
      return { amountMsat: e.amountMsat, feeMsat: e.skimmedFeeMsat };
    } catch (e) {
      throw new CliError(
        'TIMEOUT',
        `no payment for ${paymentHash} within ${Math.round(timeoutMs / 1000)} s`,
        {
          cause: e,
        },
      );
    }
  }

  // ------------------------------------------------------------------ pay

  /**
   * Pays a BOLT 11 invoice along the LSP's route (the LSP client and the node's payment handle);
   * a route dearer than `maxFeeMsat` is refused before sending.
   */
  async pay(bolt11: string, options: { maxFeeMsat?: bigint; timeoutMs?: number } = {}): Promise<Payment> {
    try {
      const invoice = payableInvoice(this.node, bolt11);
      const amountMsat = invoice.amountMsat;
      const maxFeeMsat = options.maxFeeMsat ?? defaultMaxFeeMsat(amountMsat);
      const spendable = this.node.balances().spendableNowMsat;
      if (amountMsat > spendable)
        throw new CliError(
          'INSUFFICIENT_BALANCE',
          `need ${amountMsat} msat, channels can send ${spendable} msat`,
        );
      const id = invoice.paymentHash;
      this.ledger.recordPayment({ paymentId: id, paymentHash: id, bolt11, amountMsat });
      try {
        await this.lsp.sendPayment(this.node, bolt11, { maxFeeMsat });
      } catch (e) {
        // refused before anything left: our reservation becomes a failure (retry allowed)
        this.ledger.resolvePayment(id, {
          status: 'failed',
          reason: e instanceof Error ? e.message : String(e),
        });
        throw e;
      }
      const sent = await this.node.bolt11Payment.outcome(id, options.timeoutMs ?? 60_000);
      return { paymentHash: id, preimage: sent.preimage, amountMsat, feeMsat: sent.feeMsat };
    } catch (e) {
      throw toCliError(e);
    }
  }

  /** The offer as a person sees it before paying (INVALID_OFFER, OFFER_EXPIRED otherwise). */
  describeOffer(offer: string): OfferSummary {
    try {
      return this.node.bolt12Payment.decodeOffer(offer);
    } catch (e) {
      throw toCliError(e);
    }
  }

  /**
   * Pays a BOLT 12 offer (`amountMsat` required when the offer has none): the invoice request and
   * the invoice go through the LSP as onion messages, the payment along the LSP's routes.
   */
  async payOffer(
    offer: string,
    options: { amountMsat?: bigint; maxFeeMsat?: bigint; timeoutMs?: number } = {},
  ): Promise<Payment> {
    try {
      const summary = this.node.bolt12Payment.decodeOffer(offer);
      const amountMsat = options.amountMsat ?? summary.amountMsat;
      if (amountMsat === undefined)
        throw new CliError('USAGE', 'this offer has no amount: give one with --amount-sats');
      const spendable = this.node.balances().spendableNowMsat;
      if (amountMsat > spendable)
        throw new CliError(
          'INSUFFICIENT_BALANCE',
          `need ${amountMsat} msat, channels can send ${spendable} msat`,
        );
      const maxFeeMsat = options.maxFeeMsat ?? defaultMaxFeeMsat(amountMsat);
      // the hash comes with the invoice: the ledger knows the payment by its id, reserved first
      const id = randomBytes(32).toString('hex');
      this.ledger.recordPayment({ paymentId: id, paymentHash: '', bolt11: summary.offer, amountMsat });
      try {
        await this.lsp.sendOffer(this.node, summary.offer, {
          ...(options.amountMsat !== undefined ? { amountMsat: options.amountMsat } : {}),
          maxFeeMsat,
          paymentId: id,
        });
      } catch (e) {
        this.ledger.resolvePayment(id, {
          status: 'failed',
          reason: e instanceof Error ? e.message : String(e),
        });
        throw e;
      }
      const sent = await this.node.bolt12Payment.outcome(id, options.timeoutMs ?? 60_000);
      return { paymentHash: sent.paymentHash, preimage: sent.preimage, amountMsat, feeMsat: sent.feeMsat };
    } catch (e) {
      throw toCliError(e);
    }
  }

  /** The wallet's reusable offer (any amount), entering the network at the LSP. */
  offer(): string {
    try {
      return this.node.bolt12Payment.offer();
    } catch (e) {
      throw toCliError(e);
    }
  }

  // ------------------------------------------------------------------ balance, history

  balance(): Balance {
    const b = this.node.balances();
    let pendingOutMsat = 0n;
    for (const p of this.ledger.openPeriods()) if (p.state === 'reserved') pendingOutMsat += p.amountMsat;
    for (const p of this.ledger.payments()) if (p.status === 'pending') pendingOutMsat += p.amountMsat;
    return {
      spendableMsat: b.spendableNowMsat,
      lightningMsat: b.lightningOutboundMsat,
      reserveMsat: b.lightningReserveMsat,
      inFlightMsat: b.inFlightMsat,
      inboundMsat: b.lightningInboundMsat,
      onchainMsat: b.onchainConfirmedMsat + b.onchainUnconfirmedMsat,
      onchainConfirmedMsat: b.onchainConfirmedMsat,
      onchainUnconfirmedMsat: b.onchainUnconfirmedMsat,
      closingMsat: b.closingMsat,
      totalMsat: b.totalMsat,
      channels: this.node.listChannels().length,
      pendingOutMsat,
    };
  }

  // ------------------------------------------------------------------ leaving: closes, on-chain

  /**
   * Closes a channel (the only one when `channelId` is omitted) and resolves once the closing
   * transaction is at the chain source. A cooperative close needs the LSP online; a forced one does
   * not, and its money waits the channel's CSV delay (`toSelfDelay` blocks) before it is swept into
   * the on-chain wallet.
   */
  async closeChannel(
    channelId: string | undefined,
    options: { force?: boolean; timeoutMs?: number } = {},
  ): Promise<{ channelId: string; closingTxid: string; toSelfDelay: number | undefined }> {
    const channel = this.channelToClose(channelId);
    if (!options.force && !this.node.isConnected(this.lspNodeId))
      throw new CliError(
        'LSP_UNREACHABLE',
        'a cooperative close needs the LSP online; --force closes without it',
      );
    if (!channel.fundingTxo)
      throw new CliError('CHANNEL_NOT_FOUND', `channel ${channel.channelId} has no funding transaction yet`);
    const [fundingTxid, vout] = channel.fundingTxo.split(':') as [string, string];
    this.node.closeChannel(channel.channelId, { force: options.force ?? false });
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const spend = await this.node.chainSource.outspend(fundingTxid, Number(vout)).catch(() => undefined);
      if (spend?.spent)
        return { channelId: channel.channelId, closingTxid: spend.txid, toSelfDelay: channel.toSelfDelay };
      if (Date.now() > deadline)
        throw new CliError(
          'TIMEOUT',
          `the closing transaction of ${channel.channelId} is not at the chain source yet (it is rebroadcast on every start)`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * What closing a channel would cost this wallet in network fees now (the node's estimate, to show
   * before the person confirms): cooperative, the closing transaction when we funded it (0n: the
   * LSP did); forced, the sweep of our output after the delay (plus the commitment if we funded).
   * `notice` says so when fees are high. The figure covers the wallet's open channels, which is
   * the one being closed: a wallet has one channel with its LSP.
   */
  closeFee(
    channelId: string | undefined,
    options: { force?: boolean } = {},
  ): { channelId: string; force: boolean; feeMsat: bigint; notice: string | undefined } {
    const channel = this.channelToClose(channelId);
    const { closeCostMsat, notice } = this.node.feeWeather();
    const force = options.force ?? false;
    return {
      channelId: channel.channelId,
      force,
      feeMsat: force ? closeCostMsat.force : closeCostMsat.cooperative,
      notice,
    };
  }

  /** The channel `channelId` names, or the only one when it is omitted. */
  private channelToClose(channelId: string | undefined) {
    const channels = this.node.listChannels();
    const channel =
      channelId === undefined
        ? channels.length === 1
          ? channels[0]
          : undefined
        : channels.find((c) => c.channelId === channelId.toLowerCase());
    if (!channel)
      throw channelId === undefined
        ? new CliError('USAGE', `the wallet has ${channels.length} channels: name the one to close`)
        : new CliError('CHANNEL_NOT_FOUND', `no open channel ${channelId}`);
    return channel;
  }

  /** Newest first; a stream is ONE entry however many payments it made. */
  history(): HistoryEntry[] {
    const entries: HistoryEntry[] = [];
    for (const p of this.node.listPayments()) {
      if (p.direction !== 'inbound' || p.status !== 'succeeded') continue;
      entries.push({
        kind: 'received',
        at: p.updatedAt,
        amountMsat: p.amountMsat ?? 0n,
        feeMsat: p.skimmedFeeMsat ?? 0n,
        status: p.status,
        paymentHash: p.paymentHash,
      });
    }
    for (const p of this.ledger.payments()) entries.push(paidEntry(p));
    for (const s of this.ledger.list()) {
      entries.push({
        kind: 'stream',
        at: s.lastPaidMs ?? s.createdMs,
        amountMsat: s.paidMsat,
        feeMsat: s.feeMsat,
        status: s.stopReason ? `${s.state} (${s.stopReason})` : s.state,
        stream: { id: s.id, to: s.payee, count: s.paidCount, firstMs: s.firstPaidMs, lastMs: s.lastPaidMs },
      });
    }
    return entries.sort((a, b) => b.at - a.at);
  }

  // ------------------------------------------------------------------ streams

  /** Starts a stream; bad input is a typed error (INVALID_INPUT) and stores nothing. */
  stream(request: StreamRequest, options: RunOptions = {}): Promise<StreamHandle> {
    const { budgetSats, ...rest } = request;
    return this.streams.start({ ...rest, budgetMsat: budgetSats * 1000n }, options);
  }

  /**
   * Picks a stream up after a restart. Its open periods were resolved when the wallet opened; a
   * stream configured `onRestart: 'stop'` is ended here instead of continued.
   */
  resumeStream(id: string, options: RunOptions = {}): Promise<StreamHandle> {
    return this.streams.resume(id, options);
  }

  // ------------------------------------------------------------------ L402

  /**
   * GETs (or `init`) `url`, paying its L402 challenge within `maxSats`. Tokens are kept per site in the
   * ledger: the newest one that may cover the path is tried first, and one the site refuses (used
   * up, expired) makes way for the one bought then. A purchase is written down before its invoice
   * is paid, so a crash after the payment still keeps its token (the next fetch reads the preimage
   * from the payment).
   */
  async l402Fetch(
    url: string,
    options: { maxSats: bigint; maxFeeMsat?: bigint; init?: RequestInit },
  ): Promise<L402Result> {
    let origin: string;
    let path: string;
    try {
      ({ origin, pathname: path } = new URL(url));
    } catch {
      throw new CliError('INVALID_INPUT', `not a URL: ${url}`);
    }
    const nowSec = Math.floor(Date.now() / 1000);
    for (const t of this.ledger.l402Tokens(origin)) {
      const { expiresAtSec } = tokenScope(t.macaroon);
      if (expiresAtSec !== undefined && expiresAtSec <= nowSec) {
        this.ledger.forgetL402(t.paymentHash);
        continue;
      }
      if (t.authorization) continue;
      const payment = this.node.payment(t.paymentHash);
      if (payment?.status === 'succeeded' && payment.preimage)
        this.ledger.l402Paid(t.paymentHash, formatAuthorization(t.macaroon, payment.preimage));
      // never sent, or failed: nothing was bought (a payment still in flight stays for the next fetch)
      else if (payment === undefined || payment.status === 'failed') this.ledger.forgetL402(t.paymentHash);
    }
    const token = this.ledger
      .l402Tokens(origin)
      .find((t) => t.authorization !== null && tokenCovers(tokenScope(t.macaroon), path, nowSec));
    const result = await l402Fetch(url, {
      maxSats: options.maxSats,
      ...(options.init ? { init: options.init } : {}),
      ...(token?.authorization ? { authorization: token.authorization } : {}),
      approve: (offer) =>
        this.ledger.recordL402Purchase({ origin, paymentHash: offer.paymentHash, macaroon: offer.macaroon }),
      onPaid: (receipt) => this.ledger.l402Paid(receipt.paymentHash, receipt.authorization),
      pay: (bolt11) =>
        this.pay(bolt11, options.maxFeeMsat !== undefined ? { maxFeeMsat: options.maxFeeMsat } : {}),
    });
    if (token && result.paid) this.ledger.forgetL402(token.paymentHash);
    return result;
  }

  // ------------------------------------------------------------------ life cycle

  /** Stops streams (waiting for their payments), uploads the last backup, stops the node. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.keepAlive) clearInterval(this.keepAlive);
    if (this.leaseWatch) clearInterval(this.leaseWatch);
    await this.streams.close(this.fencedBy ? 'another device took this wallet over' : 'wallet closed');
    // a fenced wallet leaves at once: the device that holds it now is the one to finish anything
    if (!this.fencedBy && this.node.isConnected(this.lspNodeId)) await this.quiescent(10_000);
    for (const off of this.offs) off();
    await this.node.stop(); // its last commits are uploaded (or counted behind) like any other
    await this.backup?.uploader.close({ flush: !this.fencedBy });
    await this.nodeStore.close();
    this.ledger.close();
    this.unlock?.();
  }

  /** Bytes of channel state as stored now: the manager, full monitors, pending monitor updates. */
  async channelStateBytes(): Promise<{
    managerBytes: number;
    monitorBytes: number;
    monitorUpdateBytes: number;
  }> {
    let managerBytes = 0;
    let monitorBytes = 0;
    let monitorUpdateBytes = 0;
    for (const [key, value] of await this.nodeStore.load()) {
      if (key === 'ldk/manager') managerBytes += value.length;
      else if (key.startsWith('ldk/monitor/')) monitorBytes += value.length;
      else if (key.startsWith('ldk/monitor-update/')) monitorUpdateBytes += value.length;
    }
    return { managerBytes, monitorBytes, monitorUpdateBytes };
  }

  /** The uploader's status (undefined when the LSP keeps no backups). */
  get backupStatus(): UploaderStatus | undefined {
    return this.backup && { ...this.backup.uploader.status };
  }

  /** Uploads the channel state now if any of it is not at the LSP yet (close() does it too). */
  async flushBackup(): Promise<void> {
    await this.backup?.uploader.flush();
  }

  /**
   * Channels closed for recovery (after a restore) and closes found after a words-only restore,
   * as of a chain sync now: where each one's money is (see `LightningNode.recoveryStatus`).
   */
  async recovery(): Promise<RecoveryChannel[]> {
    await this.node.syncChain().catch((e: unknown) => this.log(`chain sync failed: ${String(e)}`));
    return this.node.recoveryStatus();
  }
}

function paidEntry(p: SinglePayment): HistoryEntry {
  return {
    kind: 'paid',
    at: p.updatedMs,
    amountMsat: p.amountMsat,
    feeMsat: p.feeMsat ?? 0n,
    status: p.failureReason ? `${p.status} (${p.failureReason})` : p.status,
    paymentHash: p.paymentHash,
  };
}

/** Default fee limit: 1 % of the amount, at least 10 sat. */
export function defaultMaxFeeMsat(amountMsat: bigint): bigint {
  const onePercent = amountMsat / 100n;
  return onePercent > 10_000n ? onePercent : 10_000n;
}
