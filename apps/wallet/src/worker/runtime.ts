// The wallet node's life inside the Web Worker: local state first (IndexedDB), then the LSP (info,
// login, backup lease, restore), then the LDK node and its peer link to the LSP. Whatever fails,
// what is stored stays visible, and the reason is in the snapshot in words.
import {
  feeParamsToWire,
  type InfoOutput,
  openingFeeMsat,
  openingFeeParamsInput,
  type RelayFetchInput,
  type RelayFetchOutput,
} from '@lpw/api';
import {
  BackedUpStore,
  BackupError,
  BackupUploader,
  chooseNewest,
  isBackedUpKey,
  type UploaderStatus,
} from '@lpw/backup';
import { createLspClient, type JitQuote, type LspClient } from '@lpw/lsp-server/client';
import {
  createNode,
  initLdkFromUrl,
  isNodeError,
  type LightningNode,
  type Network,
  NodeError,
  nodeIdentity,
  type PaymentRecord,
  type PreparedOnchainSend,
  paymentRecordsOf,
  startMark,
} from '@lpw/node';
import { IndexedDbStore } from '@lpw/node/indexeddb';
import { decodeBolt11 } from '@lpw/payment-request';
import {
  checkStreamRequest,
  inFlightMsat,
  isStreamError,
  type LnurlAccess,
  parseRecipient,
  StoreStreamLedger,
  StreamEngine,
} from '@lpw/stream';
import { get as idbGet, set as idbSet } from 'idb-keyval';
import { VaultError } from '../lib/vault.ts';
import { directFirstFetch } from '../lib/web-fetch.ts';
import {
  BACKUP_KEY,
  DeviceCopy,
  FENCED_KEY,
  lspBackupTransport,
  lspErrorCode,
  RECOVERY_PENDING_KEY,
} from './backup.ts';
import {
  type ChannelView,
  type CreatedInvoice,
  type ExportedBackup,
  LNURL_STREAM_PERIOD_MS,
  type OpenRequest,
  type PaidInvoice,
  type PaymentView,
  type PreparedSendView,
  type ReceiveQuote,
  type StreamStart,
  type StreamView,
  WalletCommandError,
  type WalletSnapshot,
  type WorkerFailure,
} from './protocol.ts';

const INVOICE_EXPIRY_SECS = 3600;
/** How often "the LSP answered" is written down while it does (for the notice that suggests leaving). */
const LSP_SEEN_EVERY_MS = 60_000;
/** While money is on its way on chain (closes, sweeps, unconfirmed coins) the chain is read this often. */
const EXIT_SYNC_EVERY_MS = 10_000;
const RETRY_MS = [2_000, 5_000, 10_000, 30_000];
/** How long a channel-state commit waits for the LSP to hold its backup before it goes through behind. */
const BACKUP_GATE_MS = 30_000;

/** Math.max does not take bigints. */
const maxMsat = (a: bigint, b: bigint): bigint => (a > b ? a : b);

export const nodeDbName = (walletId: string) => `lpw-node-${walletId}`;
export const snapshotKey = (walletId: string) => `lpw-snapshot-${walletId}`;
export const lspSeenKey = (walletId: string) => `lpw-lsp-seen-${walletId}`;
/** The stream ledger has its own database: its per-period writes stay out of channel-state backups. */
export const streamsDbName = (walletId: string) => `lpw-streams-${walletId}`;

export const hexOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export function emptySnapshot(lspUrl: string): WalletSnapshot {
  return {
    status: 'idle',
    statusReason: undefined,
    nodeId: undefined,
    network: undefined,
    balanceMsat: 0n,
    totalMsat: 0n,
    spendableMsat: 0n,
    receivableMsat: 0n,
    channels: [],
    payments: [],
    streams: [],
    lsp: {
      url: lspUrl,
      nodeId: undefined,
      network: undefined,
      reachable: false,
      problem: undefined,
      lastSeenMs: undefined,
    },
    onchain: { confirmedMsat: 0n, unconfirmedMsat: 0n, closingMsat: 0n },
    closing: [],
    sweeps: [],
    recovery: [],
    chainWatch: undefined,
    chainSource: undefined,
    fees: undefined,
    backup: {
      version: undefined,
      savedAt: undefined,
      problem: undefined,
      behindBy: 0,
      behindSince: undefined,
      warning: undefined,
    },
    updatedAt: Date.now(),
  };
}

function paymentView(p: PaymentRecord): PaymentView {
  return {
    id: p.id,
    direction: p.direction,
    status: p.status,
    amountMsat: p.amountMsat,
    feeMsat: p.direction === 'outbound' ? p.feeMsat : p.skimmedFeeMsat,
    description: p.description,
    preimage: p.preimage,
    failureReason: p.failureReason,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

/** History shows money that moved or tried to: inbound invoices nobody paid are not history. */
function historyOf(records: PaymentRecord[]): PaymentView[] {
  return records
    .filter((p) => !(p.direction === 'inbound' && p.status !== 'succeeded'))
    .map(paymentView)
    .sort((a, b) => b.createdAt - a.createdAt);
}

export function describeError(error: unknown): WorkerFailure {
  if (error instanceof WalletCommandError) return { code: error.code, message: error.message };
  if (isStreamError(error)) return { code: error.code, message: error.message };
  if (isNodeError(error)) return { code: error.code, message: error.message };
  if (error instanceof BackupError || error instanceof VaultError)
    return { code: error.code, message: error.message };
  const code = lspErrorCode(error);
  return { code, message: error instanceof Error ? error.message : String(error) };
}

export class WalletRuntime {
  private snap: WalletSnapshot = emptySnapshot('');
  private req: OpenRequest | undefined;
  private idb: IndexedDbStore | undefined;
  private store: BackedUpStore | undefined;
  private node: LightningNode | undefined;
  /** The one LSP client: session, JIT, routes and payments, backups, relay (made at each start). */
  private client: LspClient | undefined;
  private backup: BackupUploader | undefined;
  private deviceCopy: DeviceCopy | undefined;
  private streamsDb: IndexedDbStore | undefined;
  private streamLedger: StoreStreamLedger | undefined;
  private streams: StreamEngine | undefined;
  /** The LSP's identity, network and chain source: from it now, or from the last snapshot when it is gone. */
  private info: Pick<InfoOutput, 'nodeId' | 'network' | 'esploraUrl'> | undefined;
  /** The last snapshot saved on this device (what an offline start knows of the LSP). */
  private cached: WalletSnapshot | undefined;
  /** On-chain sends shown to the person, by id, until sent (one at a time). */
  private readonly prepared = new Map<string, PreparedOnchainSend>();
  private lspSeenWrittenMs = 0;
  private exitSyncMs = 0;
  private nodeId = '';
  private peerConnected = false;
  /** Peer links tried since the node started. */
  private peerLinks = 0;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** The node emits no peer events: the link to the LSP is checked on this timer. */
  private peerWatch: ReturnType<typeof setInterval> | undefined;
  private starting: Promise<void> | null = null;
  private closed = false;
  private emitQueued = false;

  constructor(
    private readonly wasmUrl: string,
    private readonly publish: (snapshot: WalletSnapshot) => void,
    private readonly log: (level: string, message: string) => void,
  ) {}

  // ------------------------------------------------------------ life cycle

  async open(req: OpenRequest): Promise<void> {
    if (this.req) throw new WalletCommandError('ALREADY_OPEN', 'This wallet is already open');
    this.req = req;
    this.snap = emptySnapshot(req.lspUrl);
    await initLdkFromUrl(this.wasmUrl);
    startMark('wasm-ready');
    this.nodeId = nodeIdentity(req.nodeSeed).nodeId;
    this.snap.nodeId = this.nodeId;
    this.idb = await IndexedDbStore.open(nodeDbName(req.walletId));
    this.deviceCopy = DeviceCopy.open(req.walletId);
    const deviceCopy = this.deviceCopy;
    this.backup = new BackupUploader({
      transport: lspBackupTransport(() => this.client),
      nodeId: this.nodeId,
      keys: req.backupKeys,
      deviceId: req.deviceId,
      takeOver: true, // a new phone wins; the old one is fenced and stops
      key: BACKUP_KEY,
      onUploading: (blob) => deviceCopy.writePending(blob),
      onDurable: (blob) => deviceCopy.write(blob),
      onStatus: (status) => this.backupStatus(status),
    });
    // a channel-state commit resolves once the LSP holds it: LDK revokes nothing the LSP lacks
    this.store = new BackedUpStore(this.idb, this.backup, { timeoutMs: BACKUP_GATE_MS });
    // what is on the phone shows at once, LSP or not
    const cached = await idbGet<WalletSnapshot>(snapshotKey(req.walletId)).catch(() => undefined);
    const lastSeenMs = await idbGet<number>(lspSeenKey(req.walletId)).catch(() => undefined);
    if (cached && cached.nodeId === this.nodeId) {
      this.cached = cached;
      Object.assign(this.snap, {
        balanceMsat: cached.balanceMsat,
        totalMsat: cached.totalMsat ?? cached.balanceMsat,
        spendableMsat: 0n,
        receivableMsat: 0n,
        channels: cached.channels.map((c) => ({ ...c, isUsable: false, balanceMsat: c.balanceMsat ?? 0n })),
        network: cached.network,
        backup: { ...this.snap.backup, ...cached.backup },
        onchain: { ...this.snap.onchain, ...cached.onchain },
        closing: cached.closing ?? [],
        sweeps: cached.sweeps ?? [],
        recovery: cached.recovery ?? [],
        chainWatch: cached.chainWatch,
        chainSource: cached.chainSource,
      });
      this.snap.lsp = { ...cached.lsp, url: req.lspUrl, reachable: false, problem: undefined };
    }
    this.snap.lsp.lastSeenMs = lastSeenMs ?? this.snap.lsp.lastSeenMs;
    const stored = await this.store.load();
    const copy = await deviceCopy.decoded({ nodeId: this.nodeId, keys: req.backupKeys });
    if (copy) {
      this.backup.raiseFloor(copy.header.version); // versions only grow, whatever the LSP holds
      this.snap.backup = {
        ...this.snap.backup,
        version: copy.header.version,
        savedAt: copy.header.createdAtMs,
      };
    }
    this.snap.payments = historyOf(paymentRecordsOf(stored));
    this.streamsDb = await IndexedDbStore.open(streamsDbName(req.walletId));
    this.streamLedger = await StoreStreamLedger.open(this.streamsDb);
    this.snap.streams = this.streamViews();
    startMark('stored-read');
    this.setStatus('starting', undefined);
    void this.start();
  }

  /** Try now instead of waiting for the next retry (the UI's "Try again"). */
  retry(): void {
    if (this.node) {
      if (!this.peerConnected) this.connectPeer(0);
      return;
    }
    if (this.snap.status === 'offline') {
      clearTimeout(this.retryTimer);
      void this.start();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.reconnectTimer);
    clearInterval(this.peerWatch);
    await this.starting?.catch(() => {});
    // streams halt, not end: the next unlock resumes them (or stops those set to stop on restart)
    await this.streams?.close('wallet locked', 'halt');
    const node = this.node;
    this.node = undefined;
    await node?.stop();
    await this.backup?.close({ flush: true });
    await this.store?.close();
    await this.streamsDb?.close();
    this.setStatus('idle', 'Locked');
  }

  private start(): Promise<void> {
    this.starting ??= this.startOnce().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    const req = this.req!;
    this.setStatus('starting', undefined);
    try {
      // logs in with the node key (derived from the seed) when a call first needs the session
      this.client = createLspClient({ url: req.lspUrl, identity: nodeIdentity(req.nodeSeed) });
      let info: Pick<InfoOutput, 'nodeId' | 'network' | 'esploraUrl'>;
      let online = true;
      try {
        info = await this.client.info();
        startMark('lsp-info');
        this.lspSeen();
      } catch (error) {
        const unreachable = `Your service provider at ${req.lspUrl} can’t be reached (${describeError(error).code}).`;
        // a wallet with channels here can still leave: start its node without the LSP
        const known = await this.offlineFacts();
        if (!known) throw new WalletCommandError('LSP_UNREACHABLE', unreachable);
        info = known;
        online = false;
        this.snap.lsp = { ...this.snap.lsp, problem: unreachable };
      }
      this.info = info;
      this.snap.lsp = {
        url: req.lspUrl,
        nodeId: info.nodeId,
        network: info.network,
        reachable: online,
        problem: online ? undefined : this.snap.lsp.problem,
        lastSeenMs: this.snap.lsp.lastSeenMs,
      };
      this.snap.network = info.network;
      const lspEsplora = info.esploraUrl ? new URL(info.esploraUrl, req.lspUrl).toString() : undefined;
      const esploraUrl = (req.esploraUrl ?? lspEsplora)?.replace(/\/$/, '');
      if (!esploraUrl)
        throw new WalletCommandError(
          'NO_CHAIN_SOURCE',
          'No chain source: set one in Settings (an Esplora URL).',
        );
      this.snap.chainSource = esploraUrl;
      this.snap.secondChainSource = req.secondEsploraUrl;
      const backup = this.backup!;
      if (online) {
        const local = await this.store!.load();
        if (req.restore && ![...local.keys()].some(isBackedUpKey)) await this.restoreChannelState(req);
        await backup.start(); // the lease (taking it over) and the LSP's version
        await this.checkLspCopy(req);
        if (this.store!.data.has(FENCED_KEY)) await this.store!.commit([{ key: FENCED_KEY, value: null }]);
        startMark('lsp-backup-lease');
      }
      // set by a restore, or by a newer copy another device wrote: kept until a node has started on it
      const recoverChannels = this.store!.data.has(RECOVERY_PENDING_KEY);
      const node = await createNode({
        seed: req.nodeSeed,
        network: info.network,
        role: 'wallet',
        store: this.store!,
        // the chain view is checked (headers, merkle proofs) and, with a second source, compared
        chain: {
          esploraUrl,
          checked: true,
          ...(req.secondEsploraUrl ? { secondEsploraUrl: req.secondEsploraUrl } : {}),
        },
        trustedPeers: [info.nodeId],
        // restored channel state may be stale: close it without broadcasting before any peer
        // connects, so LDK can neither panic nor publish a revoked commitment
        recoverChannels,
        logLevel: 'warn',
        log: (entry) => this.log(entry.level, `${entry.module}: ${entry.message}`),
      });
      if (node.nodeId !== this.nodeId) {
        await node.stop();
        throw new WalletCommandError('KEY_MISMATCH', 'Node key derivation changed; refusing to run');
      }
      if (this.closed) {
        await node.stop();
        return;
      }
      this.node = node;
      if (recoverChannels) await this.store!.commit([{ key: RECOVERY_PENDING_KEY, value: null }]);
      this.streams = this.streamEngine(node, req.streamKey);
      node.events();
      for (const kind of [
        'payment-received',
        'payment-sent',
        'payment-failed',
        'channel-ready',
        'channel-pending',
        'channel-closed',
        'recovery-changed',
        'chain-view-changed',
      ] as const) {
        node.on(kind, () => this.changed());
      }
      node.on('peer-connected', (e) => {
        if (e.peerId === info.nodeId) this.peerState(true);
      });
      node.on('peer-disconnected', (e) => {
        if (e.peerId === info.nodeId) this.peerState(false);
      });
      node.on('error', (e) => this.log('error', `${e.code}: ${e.message}`));
      this.attempt = 0;
      this.setStatus('running', undefined);
      // nor events when a channel becomes usable again (after reestablish): watch that too
      let channelsSeen = '';
      this.peerWatch = setInterval(() => {
        const current = this.node;
        if (!current) return;
        const connected = current.isConnected(info.nodeId);
        if (connected !== this.peerConnected) this.peerState(connected);
        if (connected) this.lspSeen();
        this.followExits(current);
        // blocks and on-chain coins count too: closes count down, sweeps land; and the fee notice,
        // which follows the chain's fees and the LSP's update_fee (no event for either)
        const onchain = current.onchainPayment.balance();
        const channels = [
          ...current
            .listChannels()
            .map((c) => `${c.channelId}:${c.isUsable}:${c.outboundMsat}:${c.inboundMsat}`),
          current.ldk.channelManager.current_best_block().get_height(),
          onchain.confirmedMsat,
          onchain.unconfirmedMsat,
          current.onchainPayment.pendingSweeps().length,
          current.feeWeather().notice ?? '',
        ].join(',');
        if (channels !== channelsSeen) {
          channelsSeen = channels;
          this.changed();
        }
      }, 1_000);
      if (online) backup.markDirty(); // a first backup, so a restore finds this wallet even before its first channel
      this.connectPeer(0);
      void this.resumeStreams(this.streams);
    } catch (error) {
      const { code, message } = describeError(error);
      this.log('warn', `start failed: ${code}: ${message}`);
      if (code === 'BACKUP_REFUSED' || code === 'KEY_MISMATCH' || code === 'LEASE_HELD') {
        this.setStatus('failed', message);
        return;
      }
      this.snap.lsp = { ...this.snap.lsp, reachable: false, problem: message };
      this.setStatus('offline', message);
      const wait = RETRY_MS[Math.min(this.attempt++, RETRY_MS.length - 1)]!;
      if (!this.closed) this.retryTimer = setTimeout(() => void this.start(), wait);
    }
  }

  private async fence(): Promise<void> {
    await this.streams?.close('opened on another device', 'halt');
    const node = this.node;
    this.node = undefined;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.peerWatch);
    await node?.stop();
    await this.idb?.commit([{ key: FENCED_KEY, value: Uint8Array.of(1) }]);
    this.setStatus('fenced', 'This wallet was opened on another device, so it stopped here.');
  }

  /**
   * A wallet restored on this device: the newest valid copy among the LSP's, this device's and an
   * imported file goes into the store before the node exists, marked for recovery. An LSP copy that
   * is older, missing or broken while another is newer is said in words; a broken LSP copy with
   * nothing else valid stops here rather than run on it.
   */
  private async restoreChannelState(req: OpenRequest): Promise<void> {
    const expect = { nodeId: this.nodeId, keys: req.backupKeys };
    const lsp = await this.backup!.fetch();
    const choice = await chooseNewest(
      [
        { source: 'lsp', blob: lsp?.blob },
        { source: 'device', blob: await this.deviceCopy!.read().catch(() => undefined) },
        { source: 'file', blob: req.restoreFile },
      ],
      expect,
    );
    this.snap.backup = { ...this.snap.backup, warning: choice.rollbackReport };
    const refused = choice.verdicts.find((v) => v.source === 'file' && v.error);
    if (refused?.error) this.log('warn', `backup file refused: ${refused.error.code}`);
    if (!choice.chosen) {
      const lspVerdict = choice.verdicts.find((v) => v.source === 'lsp');
      if (lspVerdict?.error || refused) {
        throw new WalletCommandError(
          'BACKUP_REFUSED',
          choice.rollbackReport ??
            `The backup file failed its check (${refused?.error?.code}): ${refused?.error?.message}`,
        );
      }
      return; // no backup anywhere: a wallet that never had a channel
    }
    const { entries, header, source } = choice.chosen;
    await this.idb!.commit([
      ...[...entries].map(([key, value]) => ({ key, value })),
      { key: RECOVERY_PENDING_KEY, value: Uint8Array.of(1) },
    ]);
    this.backup!.raiseFloor(header.version);
    this.snap.backup = { ...this.snap.backup, version: header.version, savedAt: header.createdAtMs };
    this.log('info', `restored ${entries.size} keys from backup version ${header.version} (${source})`);
    const restored = await this.store!.load();
    this.snap.payments = historyOf(paymentRecordsOf(restored));
  }

  /**
   * On every online start, the LSP's version against the newest this device uploaded:
   * - lower: the LSP lost or rolled back our copy; say so and upload the current state again;
   * - higher, in a copy signed with this wallet's key: another device ran this wallet since (the
   *   newest lease holder wins). The channel state here is then behind the LSP's, and running it
   *   would make LDK panic on reconnect or could publish a revoked commitment: the node starts in
   *   recovery mode instead (the channel closes with the LSP's latest state; the money comes back
   *   on chain).
   */
  private async checkLspCopy(req: OpenRequest): Promise<void> {
    const atLsp = this.backup!.status.version;
    const uploaded = this.snap.backup.version;
    if (uploaded === undefined || atLsp === uploaded || this.store!.data.has(RECOVERY_PENDING_KEY)) return;
    if (atLsp > uploaded) {
      const lsp = await this.backup!.fetch();
      if (await this.deviceCopy!.isOwnUpload(lsp?.blob)) {
        // this device's own last upload, stored by the LSP just before the page went away
        await this.deviceCopy!.write(lsp!.blob);
        this.snap.backup = { ...this.snap.backup, version: atLsp };
        return;
      }
      const choice = await chooseNewest([{ source: 'lsp', blob: lsp?.blob }], {
        nodeId: this.nodeId,
        keys: req.backupKeys,
      });
      if (!choice.chosen || choice.chosen.header.version <= uploaded) return; // not genuinely newer
      const warning = `This wallet ran on another device since this one last did (its backup is at version ${choice.chosen.header.version}; this device wrote version ${uploaded}). The channel state here is older, so the wallet closes the channel safely instead of using it: your money comes back to your on-chain wallet once the LSP's closing transaction confirms.`;
      this.log('warn', warning);
      this.snap.backup = { ...this.snap.backup, warning };
      this.backup!.raiseFloor(choice.chosen.header.version);
      await this.store!.commit([{ key: RECOVERY_PENDING_KEY, value: Uint8Array.of(1) }]);
      return;
    }
    const warning =
      atLsp === 0
        ? `Your LSP holds no backup of this wallet, but this device uploaded version ${uploaded}. The LSP lost or dropped it; the wallet is uploading the current state again.`
        : `Your LSP holds backup version ${atLsp}, but this device uploaded version ${uploaded}. An LSP that serves an old backup may be trying to make your wallet use an old channel state; the wallet is uploading the current state again.`;
    this.log('warn', warning);
    this.snap.backup = { ...this.snap.backup, warning };
    this.backup!.markDirty();
  }

  private backupStatus(status: UploaderStatus): void {
    this.snap.backup = this.backupView(status);
    if (status.fenced) void this.fence();
    this.changed();
  }

  private backupView(status: UploaderStatus): WalletSnapshot['backup'] {
    const was = this.snap.backup;
    return {
      ...was,
      version: status.lastGoodAt ? status.version : was.version,
      savedAt: status.lastGoodAt ?? was.savedAt,
      problem: status.problem?.message,
      behindBy: status.behindBy,
      behindSince: status.behindBy === 0 ? undefined : (was.behindSince ?? Date.now()),
    };
  }

  async exportBackup(): Promise<ExportedBackup> {
    const blob = await this.deviceCopy?.read();
    const copy =
      blob && (await this.deviceCopy!.decoded({ nodeId: this.nodeId, keys: this.req!.backupKeys }));
    if (!blob || !copy) {
      throw new WalletCommandError(
        'NO_BACKUP_YET',
        'No backup has been saved at your LSP yet; try again once it has.',
      );
    }
    const version = copy.header.version;
    return { blob, version, fileName: `wallet-backup-${this.nodeId.slice(0, 8)}-v${version}.lpwb` };
  }

  private connectPeer(delayMs: number): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(async () => {
      const node = this.node;
      const info = this.info;
      if (!node || !info || this.closed || node.isConnected(info.nodeId)) return;
      const client = this.client!;
      try {
        // a fresh session for each reconnect: the WebSocket is authorised by the session token (the
        // first link of a start uses the one the start just logged in with: two round trips less)
        if (this.peerLinks++ > 0 || !client.token) await client.login(node);
        startMark('peer-login');
        await client.connect(node);
        startMark('peer-linked');
        this.peerState(true);
      } catch (error) {
        this.peerState(
          false,
          `Your service provider can’t be reached (${describeError(error).code}); trying again.`,
        );
      }
    }, delayMs);
  }

  private peerState(connected: boolean, why?: string): void {
    const was = this.peerConnected;
    this.peerConnected = connected;
    this.snap.lsp = {
      ...this.snap.lsp,
      reachable: connected,
      problem: connected ? undefined : (why ?? 'Disconnected from your service provider; reconnecting…'),
    };
    if (!connected && this.node && !this.closed) {
      this.connectPeer(RETRY_MS[Math.min(this.attempt++, RETRY_MS.length - 1)]!);
    }
    if (connected) {
      this.attempt = 0;
      this.lspSeen();
    }
    if (was !== connected) this.changed();
  }

  /** Notes that the LSP answered now (written down at most once a minute). */
  private lspSeen(): void {
    const now = Date.now();
    this.snap.lsp.lastSeenMs = now;
    if (!this.req || now - this.lspSeenWrittenMs < LSP_SEEN_EVERY_MS) return;
    this.lspSeenWrittenMs = now;
    void idbSet(lspSeenKey(this.req.walletId), now).catch(() => {});
  }

  /**
   * What an offline start knows: the LSP's node id and network from the last snapshot, and only
   * for a wallet whose node already lives here (a restore waiting for its backup must not start).
   */
  private async offlineFacts(): Promise<Pick<InfoOutput, 'nodeId' | 'network' | 'esploraUrl'> | undefined> {
    const cached = this.cached;
    const local = await this.store!.load();
    if (!local.has('ldk/manager') || local.has(FENCED_KEY) || !cached?.lsp.nodeId || !cached.network)
      return undefined;
    return {
      nodeId: cached.lsp.nodeId,
      network: cached.network as Network,
      esploraUrl: cached.chainSource ?? null,
    };
  }

  /** While money is on its way on chain, read the chain more often than the node's 30 s. */
  private followExits(node: LightningNode): void {
    const now = Date.now();
    if (now - this.exitSyncMs < EXIT_SYNC_EVERY_MS) return;
    const pending =
      this.snap.closing.length > 0 ||
      this.snap.sweeps.length > 0 ||
      this.snap.onchain.unconfirmedMsat > 0n ||
      this.snap.recovery.some((r) => r.stage !== 'close-confirmed');
    if (!pending) return;
    this.exitSyncMs = now;
    node
      .syncChain()
      .catch((error: unknown) => this.log('warn', `chain sync: ${describeError(error).message}`));
  }

  // ------------------------------------------------------------ receiving

  async quoteReceive(amountMsat: bigint | undefined, feeCapMsat: bigint): Promise<ReceiveQuote> {
    const node = this.requireNode();
    this.requirePeer();
    const usable = node.listChannels().filter((c) => c.isUsable);
    const receivable = usable.reduce((m, c) => maxMsat(m, c.inboundMsat), 0n);
    if (usable.length > 0 && (amountMsat === undefined ? receivable > 0n : receivable >= amountMsat)) {
      return { kind: 'direct', amountMsat };
    }
    if (amountMsat === undefined) {
      throw new WalletCommandError(
        'AMOUNT_REQUIRED',
        'Enter an amount: your first payment opens your channel, and its fee depends on the amount.',
      );
    }
    let quote: JitQuote;
    try {
      quote = await this.client!.quoteJit(amountMsat);
    } catch (error) {
      throw new WalletCommandError(
        'LSP_UNREACHABLE',
        `Your service provider did not answer (${describeError(error).code}).`,
      );
    }
    const best = quote.offer;
    if (!best) {
      const { minPaymentMsat: min, maxPaymentMsat: max } = quote;
      throw new WalletCommandError(
        'AMOUNT_OUT_OF_RANGE',
        min === undefined || max === undefined
          ? 'Your service provider offers no channel right now.'
          : `The first payment must be between ${min / 1000n} and ${max / 1000n} sats.`,
      );
    }
    if (best.feeMsat >= amountMsat) {
      throw new WalletCommandError('AMOUNT_TOO_SMALL', 'The channel fee would take the whole amount.');
    }
    if (best.feeMsat > feeCapMsat) {
      throw new WalletCommandError(
        'FEE_ABOVE_CAP',
        `The channel fee (${(best.feeMsat + 999n) / 1000n} sats) is above your limit of ${feeCapMsat / 1000n} sats (Settings).`,
      );
    }
    return {
      kind: 'jit',
      amountMsat,
      feeMsat: best.feeMsat,
      feeParams: feeParamsToWire(best.params),
      validUntil: best.params.valid_until,
    };
  }

  async createInvoice(
    amountMsat: bigint | undefined,
    description: string,
    quote: ReceiveQuote,
  ): Promise<CreatedInvoice> {
    const node = this.requireNode();
    this.requirePeer();
    if (quote.kind === 'direct') {
      const made = node.createInvoice({
        ...(amountMsat !== undefined ? { amountMsat } : {}),
        description,
        expirySecs: INVOICE_EXPIRY_SECS,
      });
      return { bolt11: made.bolt11, paymentHash: made.paymentHash, expiresAt: made.expiresAt, feeMsat: 0n };
    }
    if (amountMsat === undefined || amountMsat !== quote.amountMsat) {
      throw new WalletCommandError('QUOTE_MISMATCH', 'The amount changed after the fee was shown');
    }
    const params = openingFeeParamsInput.parse(quote.feeParams);
    // the fee we agree to is recomputed here from the promised parameters, not taken from the UI,
    // and is the most the LSP's client may accept (a dearer menu now is refused, not paid)
    const feeMsat = openingFeeMsat(amountMsat, params);
    if (feeMsat !== quote.feeMsat) throw new WalletCommandError('QUOTE_MISMATCH', 'The fee changed');
    const jit = await this.client!.receiveJit(node, {
      amountMsat,
      description,
      expirySecs: INVOICE_EXPIRY_SECS,
      maxFeeMsat: feeMsat,
    });
    return {
      bolt11: jit.bolt11,
      paymentHash: jit.paymentHash,
      expiresAt: jit.expiresAtMs,
      feeMsat: jit.openingFeeMsat,
    };
  }

  // ------------------------------------------------------------ paying

  /**
   * Pays along the route the LSP finds (a wallet keeps no gossip graph), through the node's payment
   * handle: its record is durable before the send returns, so a crash mid-payment still shows it
   * (pending, then its outcome when LDK replays the event).
   */
  async pay(bolt11: string, amountMsat: bigint | undefined, maxFeeMsat: bigint): Promise<PaidInvoice> {
    const node = this.requireNode();
    this.requirePeer();
    const invoice = decodeBolt11(bolt11);
    if (invoice.network !== node.network) {
      throw new WalletCommandError('INVOICE_WRONG_NETWORK', 'This invoice is for another network.');
    }
    if (invoice.amountMsat === undefined || (amountMsat !== undefined && amountMsat !== invoice.amountMsat)) {
      throw new WalletCommandError(
        'AMOUNT_REQUIRED',
        'Invoices without an amount cannot be paid yet; ask for one with an amount.',
      );
    }
    if (invoice.expiresAt * 1000 <= Date.now()) throw new NodeError('INVOICE_EXPIRED');
    const total = invoice.amountMsat + maxFeeMsat;
    const spendable = node.balances().spendableNowMsat;
    if (total > spendable) {
      throw new WalletCommandError(
        'INSUFFICIENT_BALANCE',
        'You don’t have enough to pay this (amount plus the most the network fee can be).',
      );
    }
    let id: string;
    try {
      id = await this.client!.sendPayment(node, bolt11, { maxFeeMsat });
    } catch (error) {
      if (isNodeError(error, 'ROUTE_FEE_TOO_HIGH'))
        throw new WalletCommandError('FEE_TOO_HIGH', 'The network fee for this payment is above the limit.');
      throw error;
    }
    this.changed();
    const sent = await node.bolt11Payment.outcome(id, 90_000);
    return {
      paymentHash: sent.paymentHash,
      preimage: sent.preimage,
      amountMsat: sent.amountMsat,
      feeMsat: sent.feeMsat,
    };
  }

  /** The routing fee of the LSP's route for this invoice now (undefined: no route known). */
  async estimateFee(bolt11: string): Promise<bigint | undefined> {
    this.requireNode();
    this.requirePeer();
    const invoice = decodeBolt11(bolt11);
    if (invoice.amountMsat === undefined) return undefined;
    try {
      const route = await this.client!.route(
        invoice.payeeNodeId,
        invoice.amountMsat,
        invoice.minFinalCltvExpiryDelta,
      );
      return route.feeMsat;
    } catch (error) {
      if (isNodeError(error, 'ROUTE_NOT_FOUND')) return undefined;
      throw error;
    }
  }

  // ------------------------------------------------------------ other origins

  /** A request to another origin, made by the LSP's relay under this wallet's session. */
  async relay(request: RelayFetchInput): Promise<RelayFetchOutput> {
    const client = this.client;
    if (!client) {
      throw new WalletCommandError('LSP_UNREACHABLE', 'Not connected to your service provider yet.');
    }
    return client.session(() => client.trpc.relay.fetch.mutate(request));
  }

  // ------------------------------------------------------------ leaving: on-chain, closes

  onchainAddress(): Promise<string> {
    return this.requireNode().onchainPayment.receiveAddress();
  }

  /** Checks and prices an on-chain send; nothing is signed until `sendOnchain(id)`. */
  prepareOnchainSend(destination: string, amountMsat: bigint | 'all' | undefined): PreparedSendView {
    const prepared = this.requireNode().onchainPayment.prepareSend({
      destination,
      ...(amountMsat !== undefined ? { amountMsat } : {}),
    });
    const id = hexOf(crypto.getRandomValues(new Uint8Array(8)));
    this.prepared.clear(); // one send under review at a time
    this.prepared.set(id, prepared);
    return {
      id,
      address: prepared.address,
      amountMsat: prepared.amountMsat,
      feeMsat: prepared.feeMsat,
      feerateSatPerVb: prepared.feerateSatPerVb,
      sendsAll: prepared.sendsAll,
    };
  }

  async sendOnchain(id: string): Promise<string> {
    const node = this.requireNode();
    const prepared = this.prepared.get(id);
    if (!prepared)
      throw new WalletCommandError('SEND_OUTDATED', 'This send is no longer ready. Review it again.');
    this.prepared.delete(id);
    const txid = await node.onchainPayment.send(prepared);
    this.changed();
    return txid;
  }

  /** A cooperative close needs the LSP; a forced one does not (its money waits the CSV delay). */
  closeChannel(channelId: string, force: boolean): void {
    const node = this.requireNode();
    if (!force) this.requirePeer();
    node.closeChannel(channelId, { force });
    this.changed();
  }

  // ------------------------------------------------------------ streams

  /** The stream engine on this node: outcomes from its events (also those replayed after a reload). */
  private streamEngine(node: LightningNode, streamKey: Uint8Array): StreamEngine {
    const streams = new StreamEngine({
      ledger: this.streamLedger!,
      node,
      findRoute: async (payee, maxAmountMsat, finalCltv) => ({
        ...(await this.client!.route(payee, maxAmountMsat, finalCltv)),
        maxAmountMsat,
      }),
      streamKey,
      lnurl: this.lnurlAccess,
      // nothing is reserved while the LSP link or the channel is down (a reload, a tunnel, a lock)
      canSend: () => this.peerConnected && node.listChannels().some((c) => c.isUsable),
      log: (message) => this.log('warn', message),
      onProgress: () => this.changed(),
    });
    streams.listen();
    return streams;
  }

  /**
   * After a start: periods a reload left reserved are resolved against LDK, then each stream
   * continues or stops as it was set. A continued one sends nothing until the LSP link and a
   * channel are up (`canSend`), and the time it waited is not billed.
   */
  private async resumeStreams(streams: StreamEngine): Promise<void> {
    try {
      await new Promise((r) => setTimeout(r, 50)); // outcomes LDK replays come first
      await streams.reconcile();
      for (const handle of await streams.resumeAll()) void handle.done.then(() => this.changed());
      this.changed();
    } catch (error) {
      this.log('error', `resuming streams failed: ${describeError(error).message}`);
    }
  }

  /**
   * Lightning Address recipients of streams: asked directly, through the LSP's relay when the worker
   * cannot (web-fetch.ts); one period per 10 s at most, what the relay's rate allows.
   */
  private readonly lnurlAccess: LnurlAccess = {
    fetch: directFirstFetch((request) => this.relay(request), undefined),
    minPeriodMs: LNURL_STREAM_PERIOD_MS,
  };

  /** Starts a stream; bad input is refused in words before anything is stored. Returns its id. */
  async startStream(request: StreamStart): Promise<string> {
    checkStreamRequest(request, Date.now(), this.lnurlAccess);
    const node = this.requireNode();
    this.requirePeer();
    const recipient = parseRecipient(request.to, Math.floor(Date.now() / 1000));
    if (recipient.kind === 'node' && recipient.nodeId === node.nodeId)
      throw new WalletCommandError('INVALID_NODE_ID', 'That is this wallet’s own node id.');
    const handle = await this.streams!.start(request);
    void handle.done.then(
      () => this.changed(),
      (error: unknown) => this.log('error', `stream ${handle.id}: ${describeError(error).message}`),
    );
    this.changed();
    return handle.id;
  }

  async streamControl(id: string, action: 'pause' | 'resume' | 'stop'): Promise<void> {
    const ledger = this.streamLedger;
    if (!ledger) throw new WalletCommandError('NODE_NOT_RUNNING', 'Your wallet is still starting.');
    const record = ledger.get(id);
    const runner = this.streams?.running(id);
    if (runner) {
      if (action === 'pause') await runner.pause();
      else if (action === 'resume') await runner.resume();
      else runner.stop('stopped by you');
    } else if (action === 'stop' && (record.state === 'running' || record.state === 'paused')) {
      // waiting for the connection: nothing is being sent, so it ends here
      await ledger.setState(id, 'stopped', 'stopped by you');
    } else {
      throw new WalletCommandError(
        'STREAM_NOT_RUNNING',
        record.state === 'running' || record.state === 'paused'
          ? 'This stream continues once your wallet is connected; you can stop it now.'
          : `This stream has ${record.state === 'finished' ? 'finished' : 'ended'}.`,
      );
    }
    this.changed();
  }

  private streamViews(): StreamView[] {
    const ledger = this.streamLedger;
    if (!ledger) return [];
    const open = ledger.openPeriods();
    return ledger
      .list()
      .reverse()
      .map((s) => ({
        id: s.id,
        payee: s.payee,
        satsPerMinute: s.satsPerMinute,
        periodMs: s.periodMs,
        budgetMsat: s.budgetMsat,
        startMs: s.startMs,
        endMs: s.endMs,
        onRestart: s.onRestart,
        state: s.state,
        stopReason: s.stopReason,
        paidCount: s.paidCount,
        paidMsat: s.paidMsat,
        feeMsat: s.feeMsat,
        inFlightMsat: inFlightMsat(open.filter((p) => p.streamId === s.id)),
        failedAttempts: s.failedAttempts,
        lastPaidMs: s.lastPaidMs,
        createdMs: s.createdMs,
      }));
  }

  // ------------------------------------------------------------ state

  private requireNode(): LightningNode {
    if (!this.node) {
      throw new WalletCommandError(
        'NODE_NOT_RUNNING',
        this.snap.statusReason ?? 'Your wallet is still starting.',
      );
    }
    return this.node;
  }

  private requirePeer(): void {
    if (!this.peerConnected) {
      throw new WalletCommandError(
        'LSP_UNREACHABLE',
        this.snap.lsp.problem ?? 'Not connected to your service provider right now.',
      );
    }
  }

  private setStatus(status: WalletSnapshot['status'], reason: string | undefined): void {
    this.snap.status = status;
    this.snap.statusReason = reason;
    this.changed();
  }

  /** Recompute from the node and publish, at most once per turn of the event loop. */
  private changed(): void {
    if (this.emitQueued) return;
    this.emitQueued = true;
    queueMicrotask(() => {
      this.emitQueued = false;
      this.refresh();
    });
  }

  private refresh(): void {
    const node = this.node;
    if (node) {
      try {
        const channels: ChannelView[] = node.listChannels().map((c) => ({
          channelId: c.channelId,
          capacityMsat: c.capacityMsat,
          outboundMsat: c.outboundMsat,
          inboundMsat: c.inboundMsat,
          isUsable: c.isUsable,
          toSelfDelay: c.toSelfDelay,
          balanceMsat: c.outboundMsat === 0n ? 0n : c.outboundMsat + (c.ourReserveMsat ?? 0n),
        }));
        const balances = node.balances();
        this.snap.channels = channels;
        // one definition of every balance: the node's buckets (packages/node balances.ts)
        this.snap.balanceMsat =
          balances.lightningOutboundMsat + balances.lightningReserveMsat + balances.inFlightMsat;
        this.snap.totalMsat = balances.totalMsat;
        this.snap.spendableMsat = this.peerConnected ? balances.spendableNowMsat : 0n;
        this.snap.receivableMsat = this.peerConnected
          ? channels.filter((c) => c.isUsable).reduce((m, c) => maxMsat(m, c.inboundMsat), 0n)
          : 0n;
        this.snap.payments = historyOf(node.listPayments());
        const { notice, smallPaymentMinMsat, closeCostMsat } = node.feeWeather();
        this.snap.fees = { notice, smallPaymentMinMsat, closeCostMsat };
        this.snap.onchain = {
          confirmedMsat: balances.onchainConfirmedMsat,
          unconfirmedMsat: balances.onchainUnconfirmedMsat,
          closingMsat: balances.closingMsat,
        };
        this.snap.closing = node.onchainPayment.closingChannels().map((c) => ({
          channelId: c.channelId,
          claimableMsat: c.claimableMsat,
          blocksLeft: c.blocksLeft,
          hoursLeft: c.hoursLeft,
        }));
        this.snap.sweeps = node.onchainPayment
          .pendingSweeps()
          .map((w) => ({ outpoint: w.outpoint, amountMsat: w.amountMsat, status: w.status }));
        this.snap.recovery = node.recoveryStatus();
        const { lastSyncAtMs, warnAtMs, failure } = node.chainWatch();
        this.snap.chainWatch = { lastSyncAtMs, warnAtMs, failure };
      } catch (error) {
        this.log('error', `refresh failed: ${describeError(error).message}`);
      }
    }
    if (this.backup) this.snap.backup = this.backupView(this.backup.status);
    this.snap.streams = this.streamViews();
    this.snap.updatedAt = Date.now();
    const copy = structuredClone(this.snap);
    this.publish(copy);
    if (this.req && (node || this.snap.status === 'running')) {
      void idbSet(snapshotKey(this.req.walletId), copy).catch(() => {});
    }
  }
}

export { NodeError };
