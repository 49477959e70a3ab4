// The headless wallet SDK: one directory (seed, node state, stream ledger) and one LSP. openWallet()
// starts the node on SQLite, logs in to the LSP, opens the WebSocket peer link, resolves any
// payment a crash left open, and uploads encrypted channel-state backups after channel updates.

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { openingFeeMsat, openingFeeParamsInput } from '@lpw/api';
import { createLspClient, type LspClient } from '@lpw/lsp-server/client';
import {
  createNode,
  type LightningNode,
  type LogLevel,
  type Network,
  type NodeOptions,
  type WebSocketConstructor,
} from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import { SqliteStore } from '@lpw/node/sqlite';
import {
  keysendRoute,
  type OnRestart,
  type RunOptions,
  recentPayment,
  StreamEngine,
  type StreamHandle,
} from '@lpw/stream';
import WebSocket from 'ws';
import { BackupUploader, MirroredStore } from './backup.ts';
import { toWalletError, WalletError } from './errors.ts';
import { type L402Result, l402Fetch } from './l402.ts';
import { type SinglePayment, SqliteLedger } from './ledger.ts';
import { parseInvoice, sendInvoicePayment } from './pay.ts';
import { createSeedFile, readSeedFile, type WalletSecrets } from './seed.ts';

export interface OpenWalletOptions {
  /** The wallet directory (seed.txt, node.sqlite, streams.sqlite). */
  dir: string;
  /** The LSP's base URL, e.g. http://127.0.0.1:8080 */
  lspUrl: string;
  /** Refuse an LSP on another network (default: whatever the LSP says). */
  network?: Network;
  /** Chain source (default: the Esplora URL the LSP advertises). */
  esploraUrl?: string;
  /** Minimum spacing of backup uploads after channel updates (default 10 s). */
  backupIntervalMs?: number;
  logLevel?: LogLevel;
  /** Diagnostics (default: none). The CLI sends them to stderr. */
  log?: (message: string) => void;
  /** Node knobs for tests and benchmarks. */
  node?: Partial<Pick<NodeOptions, 'compactMonitorEvery' | 'chainSyncIntervalMs'>>;
  /**
   * Start without the LSP when it cannot be reached (closes, on-chain sends, sweeps): the network,
   * LSP node id and chain source then come from the last successful start (`lsp.json`), the chain
   * source from `esploraUrl` first.
   */
  lspOptional?: boolean;
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

export interface Balance {
  /** What channels can send now. */
  spendableMsat: bigint;
  lightningMsat: bigint;
  inboundMsat: bigint;
  onchainMsat: bigint;
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

/** Creates the wallet directory and its seed (BIP 39, 24 words, mode 0600). Returns the words. */
export function initWallet(dir: string, words?: string): { mnemonic: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return { mnemonic: createSeedFile(dir, words) };
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
        throw new WalletError('WALLET_LOCKED', `the wallet in ${dir} is in use by process ${pid}`);
      rmSync(path, { force: true }); // left by a process that died (a crash, kill -9)
    }
  }
  throw new WalletError('WALLET_LOCKED', `could not lock ${dir}`);
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

export async function openWallet(options: OpenWalletOptions): Promise<Wallet> {
  const secrets = readSeedFile(options.dir);
  const unlock = lockDir(options.dir);
  const log = options.log ?? (() => {});
  const closers: Array<() => Promise<void> | void> = [unlock];
  const cleanup = async () => {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
  };
  try {
    await initLdkNode();
    const client = createLspClient({
      url: options.lspUrl,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    const info = await lspFacts(client, options);
    if (options.network && info.network !== options.network)
      throw new WalletError('INVALID_INPUT', `the LSP runs on ${info.network}, not ${options.network}`);
    const esploraUrl = options.esploraUrl ?? info.esploraUrl;
    if (!esploraUrl)
      throw new WalletError('INVALID_INPUT', 'the LSP advertises no chain source: pass --esplora-url URL');
    const store = new MirroredStore(new SqliteStore(join(options.dir, 'node.sqlite')));
    closers.push(() => store.close());
    const node = await createNode({
      seed: secrets.nodeSeed,
      network: info.network,
      role: 'wallet',
      store,
      chain: { esploraUrl },
      trustedPeers: [info.nodeId],
      logLevel: options.logLevel ?? 'error',
      log: (entry) => log(`[ldk ${entry.level}] ${entry.module}: ${entry.message}`),
      ...options.node,
    });
    closers.push(() => node.stop());
    const ledger = new SqliteLedger(join(options.dir, 'streams.sqlite'));
    closers.push(() => ledger.close());
    const wallet = new Wallet(
      options,
      secrets,
      node,
      client,
      ledger,
      store,
      info.nodeId,
      log,
      info.reachable,
    );
    closers.length = 0; // the wallet owns them now
    await wallet.start(unlock).catch(async (e: unknown) => {
      await wallet.close().catch(() => {});
      throw e;
    });
    return wallet;
  } catch (e) {
    await cleanup();
    throw toWalletError(e);
  }
}

/** The LSP's network, node id and chain source: asked now, or (lspOptional) as last seen. */
async function lspFacts(
  client: LspClient,
  options: OpenWalletOptions,
): Promise<LspFacts & { reachable: boolean }> {
  try {
    const info = await client.info();
    const facts = { network: info.network, nodeId: info.nodeId, esploraUrl: info.esploraUrl ?? undefined };
    writeLspFacts(options.dir, facts);
    return { ...facts, reachable: true };
  } catch (e) {
    const unreachable = new WalletError(
      'LSP_UNREACHABLE',
      `cannot reach the LSP at ${options.lspUrl}: ${String(e)}`,
      { cause: e },
    );
    if (!options.lspOptional) throw unreachable;
    const known = readLspFacts(options.dir);
    if (!known) throw unreachable; // never started: nothing to exit from
    options.log?.(`the LSP is unreachable; starting without it (${String(e)})`);
    return { ...known, reachable: false };
  }
}

export class Wallet {
  readonly nodeId: string;
  private readonly streams: StreamEngine;
  private readonly offs: Array<() => void> = [];
  private backup: BackupUploader | undefined;
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  private unlock: (() => void) | undefined;
  private closed = false;

  /** @internal use openWallet() */
  constructor(
    private readonly options: OpenWalletOptions,
    private readonly secrets: WalletSecrets,
    readonly node: LightningNode,
    readonly lsp: LspClient,
    readonly ledger: SqliteLedger,
    private readonly store: MirroredStore,
    readonly lspNodeId: string,
    private readonly log: (message: string) => void,
    /** Whether the LSP answered at start; without it only local and on-chain commands work. */
    readonly lspReachable = true,
  ) {
    this.nodeId = node.nodeId;
    this.streams = new StreamEngine({
      ledger,
      node,
      findRoute: (payee, maxAmountMsat, finalCltv) =>
        this.withSession(async () =>
          keysendRoute(payee, maxAmountMsat, await lsp.findRoute(payee, maxAmountMsat, finalCltv)),
        ),
      streamKey: secrets.streamKey,
      // a machine reaches Lightning Addresses directly (no relay, no rate limit): per-second works
      lnurl: { fetch: globalThis.fetch, minPeriodMs: 1_000 },
      // while the peer link to the LSP is down (re-established every 5 s) nothing is reserved
      canSend: () => node.isConnected(lspNodeId),
      log,
    });
  }

  /** @internal */
  async start(unlock: () => void): Promise<void> {
    this.unlock = unlock;
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
      if (!this.closed && !this.node.isConnected(this.lspNodeId))
        this.connectLsp().catch((e: unknown) => this.log(`reconnecting to the LSP failed: ${String(e)}`));
    }, 5_000);
    const info = await this.lsp.info();
    if (info.features.includes('backup')) {
      this.backup = new BackupUploader({
        client: this.lsp,
        store: this.store,
        nodeId: this.nodeId,
        key: this.secrets.backupKey,
        deviceId: deviceIdOf(this.options.dir),
        minIntervalMs: this.options.backupIntervalMs ?? 10_000,
        log: this.log,
        reauth: async () => {
          await this.lsp.login(this.node);
        },
      });
      await this.backup.start().catch((e: unknown) => this.log(`backups disabled: ${String(e)}`));
    }
  }

  /**
   * Payments recorded before a crash whose outcome we never saw: LDK's record decides, as for
   * stream periods (StreamEngine.reconcile).
   */
  private resolveUnknownPayments(): void {
    for (const p of this.ledger.payments()) {
      if (p.status !== 'pending') continue;
      const state = recentPayment(this.node, p.paymentId);
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

  /** Runs an LSP call, logging in again once if the session expired (streams run for days). */
  private async withSession<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      const code = (e as { data?: { app?: { code?: string } } }).data?.app?.code;
      if (code !== 'SESSION_EXPIRED' && code !== 'SESSION_REQUIRED') throw e;
      await this.lsp.login(this.node);
      return call();
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
        throw new WalletError('LSP_UNREACHABLE', `cannot open the peer link to the LSP: ${String(again)}`, {
          cause: e,
        });
      });
    }
  }

  // ------------------------------------------------------------------ receive

  /** What receiving `amountMsat` costs: nothing over an existing channel, else the LSP's opening fee. */
  async quoteReceive(amountMsat: bigint): Promise<ReceiveQuote> {
    if (amountMsat <= 0n) throw new WalletError('INVALID_INPUT', 'amount must be positive');
    // one HTLC goes over one channel: the largest inbound capacity decides
    let inbound = 0n;
    for (const c of this.node.listChannels())
      if (c.isUsable && c.inboundMsat > inbound) inbound = c.inboundMsat;
    if (inbound >= amountMsat) return { amountMsat, jit: false, openingFeeMsat: 0n };
    const { opening_fee_params_menu: menu } = await this.lsp.trpc.jit.getInfo.query({});
    let best: bigint | undefined;
    for (const wire of menu) {
      const params = openingFeeParamsInput.parse(wire);
      if (amountMsat < params.min_payment_size_msat || amountMsat > params.max_payment_size_msat) continue;
      const fee = openingFeeMsat(amountMsat, params);
      if (best === undefined || fee < best) best = fee;
    }
    if (best === undefined)
      throw new WalletError('INVALID_INPUT', `the LSP opens no channel for a payment of ${amountMsat} msat`);
    if (best >= amountMsat)
      throw new WalletError('FEE_TOO_HIGH', `the opening fee ${best} msat would take the whole payment`);
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
      throw new WalletError(
        'FEE_TOO_HIGH',
        `receiving needs a new channel; the LSP's fee is ${quote.openingFeeMsat} msat, above the limit of ${request.maxFeeMsat} msat`,
      );
    try {
      const jit = await this.withSession(() =>
        this.lsp.receiveJit(this.node, {
          amountMsat: request.amountMsat,
          description,
          expirySecs,
          maxFeeMsat: quote.openingFeeMsat, // never more than what was shown
        }),
      );
      const parsed = parseInvoice(jit.bolt11, this.node.network);
      return {
        ...quote,
        openingFeeMsat: jit.openingFeeMsat,
        bolt11: jit.bolt11,
        paymentHash: jit.paymentHash,
        expiresAtMs: parsed.expiresAtMs,
      };
    } catch (e) {
      throw toWalletError(e);
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
      throw new WalletError(
        'TIMEOUT',
        `no payment for ${paymentHash} within ${Math.round(timeoutMs / 1000)} s`,
        {
          cause: e,
        },
      );
    }
  }

  // ------------------------------------------------------------------ pay

  /** Pays a BOLT 11 invoice along the LSP's route; fees above `maxFeeMsat` are refused before sending. */
  async pay(bolt11: string, options: { maxFeeMsat?: bigint; timeoutMs?: number } = {}): Promise<Payment> {
    const parsed = parseInvoice(bolt11, this.node.network);
    const amountMsat = parsed.amountMsat ?? 0n;
    const maxFeeMsat = options.maxFeeMsat ?? defaultMaxFeeMsat(amountMsat);
    const spendable = this.node.balances().spendableNowMsat;
    if (amountMsat > spendable)
      throw new WalletError(
        'INSUFFICIENT_BALANCE',
        `need ${amountMsat} msat, channels can send ${spendable} msat`,
      );
    const timeoutMs = options.timeoutMs ?? 60_000;
    const id = parsed.paymentHash;
    const outcome = Promise.race([
      this.node.waitFor('payment-sent', (e) => e.paymentId === id, timeoutMs),
      this.node
        .waitFor('payment-failed', (e) => e.paymentId === id, timeoutMs)
        .then((e) => {
          throw new WalletError(
            e.reason === 'RouteNotFound' ? 'ROUTE_NOT_FOUND' : 'PAYMENT_FAILED',
            `payment failed: ${e.reason}`,
          );
        }),
    ]);
    outcome.catch(() => {});
    let recorded = false;
    try {
      await this.withSession(() =>
        sendInvoicePayment(this.node, this.lsp, parsed, maxFeeMsat, () => {
          this.ledger.recordPayment({ paymentId: id, paymentHash: id, bolt11, amountMsat });
          recorded = true;
        }),
      );
    } catch (e) {
      // LDK refused it before anything left: our reservation becomes a failure (retry allowed)
      if (recorded)
        this.ledger.resolvePayment(id, {
          status: 'failed',
          reason: e instanceof Error ? e.message : String(e),
        });
      throw toWalletError(e);
    }
    try {
      const sent = await outcome;
      return { paymentHash: id, preimage: sent.preimage, amountMsat, feeMsat: sent.feeMsat ?? 0n };
    } catch (e) {
      if (e instanceof WalletError) throw e;
      throw new WalletError(
        'TIMEOUT',
        `payment ${id} unresolved after ${timeoutMs} ms (it may still complete)`,
        {
          cause: e,
        },
      );
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
      inboundMsat: b.lightningInboundMsat,
      onchainMsat: b.onchainConfirmedMsat + b.onchainUnconfirmedMsat + b.closingMsat + b.pendingSweepsMsat,
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
    const channels = this.node.listChannels();
    const channel =
      channelId === undefined
        ? channels.length === 1
          ? channels[0]
          : undefined
        : channels.find((c) => c.channelId === channelId.toLowerCase());
    if (!channel)
      throw channelId === undefined
        ? new WalletError('USAGE', `the wallet has ${channels.length} channels: name the one to close`)
        : new WalletError('CHANNEL_NOT_FOUND', `no open channel ${channelId}`);
    if (!options.force && !this.node.isConnected(this.lspNodeId))
      throw new WalletError(
        'LSP_UNREACHABLE',
        'a cooperative close needs the LSP online; --force closes without it',
      );
    if (!channel.fundingTxo)
      throw new WalletError(
        'CHANNEL_NOT_FOUND',
        `channel ${channel.channelId} has no funding transaction yet`,
      );
    const [fundingTxid, vout] = channel.fundingTxo.split(':') as [string, string];
    this.node.closeChannel(channel.channelId, { force: options.force ?? false });
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const spend = await this.node.chainSource.outspend(fundingTxid, Number(vout)).catch(() => undefined);
      if (spend?.spent)
        return { channelId: channel.channelId, closingTxid: spend.txid, toSelfDelay: channel.toSelfDelay };
      if (Date.now() > deadline)
        throw new WalletError(
          'TIMEOUT',
          `the closing transaction of ${channel.channelId} is not at the chain source yet (it is rebroadcast on every start)`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
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

  /** GET (or `init`) a URL, paying its L402 challenge if it costs at most `maxSats`. */
  async l402Fetch(
    url: string,
    options: { maxSats: bigint; maxFeeMsat?: bigint; init?: RequestInit },
  ): Promise<L402Result> {
    return l402Fetch(url, {
      maxSats: options.maxSats,
      ...(options.init ? { init: options.init } : {}),
      pay: (bolt11) =>
        this.pay(bolt11, options.maxFeeMsat !== undefined ? { maxFeeMsat: options.maxFeeMsat } : {}),
    });
  }

  // ------------------------------------------------------------------ life cycle

  /** Stops streams (waiting for their payments), uploads the last backup, stops the node. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.keepAlive) clearInterval(this.keepAlive);
    await this.streams.close('wallet closed');
    if (this.node.isConnected(this.lspNodeId)) await this.quiescent(10_000);
    await this.backup?.close();
    for (const off of this.offs) off();
    await this.node.stop();
    await this.store.close();
    this.ledger.close();
    this.unlock?.();
  }

  /** Bytes of channel state as stored now: the manager, full monitors, pending monitor updates. */
  channelStateBytes(): { managerBytes: number; monitorBytes: number; monitorUpdateBytes: number } {
    let managerBytes = 0;
    let monitorBytes = 0;
    let monitorUpdateBytes = 0;
    for (const [key, value] of this.store.channelState) {
      if (key === 'ldk/manager') managerBytes += value.length;
      else if (key.startsWith('ldk/monitor/')) monitorBytes += value.length;
      else if (key.startsWith('ldk/monitor-update/')) monitorUpdateBytes += value.length;
    }
    return { managerBytes, monitorBytes, monitorUpdateBytes };
  }

  /** Backup state (tests, `status`). */
  get backupStatus() {
    return this.backup?.status;
  }

  /** Upload the channel state now (tests; close() does it too). */
  async flushBackup(): Promise<void> {
    await this.backup?.flush();
  }

  /** The LSP's copy of our channel state, decrypted (restore, tests). */
  async fetchBackup(): Promise<Map<string, Uint8Array> | undefined> {
    return this.backup?.fetchLatest();
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
