// The wallet node's life inside the Web Worker: local state first (IndexedDB), then the LSP (info,
// login, backup lease, restore), then the LDK node, wired to its parts: the peer link to the LSP
// (peer-link.ts), receive, pay, streams and the snapshot. Whatever fails, what is stored stays
// visible, and the reason is in the snapshot in words.
import {
  type InfoOutput,
  PEER_WS_BACKUP_PROTOCOL,
  type RatesOutput,
  type RelayFetchInput,
  type RelayFetchOutput,
  ratesOutput,
} from '@lpw/api';
import {
  BackedUpStore,
  BackupUploader,
  chooseNewest,
  isBackedUpKey,
  PeerBackupLink,
  type UploaderStatus,
} from '@lpw/backup';
import { createLspClient, type LspClient } from '@lpw/lsp-server/client';
import {
  createWalletNode,
  type LightningNode,
  type Network,
  nodeIdentity,
  paymentRecordsOf,
  startMark,
} from '@lpw/node';
import { IndexedDbStore } from '@lpw/node/indexeddb';
import { get as idbGet } from 'idb-keyval';
import { LightningAddress } from './address.ts';
import { BACKUP_KEY, DeviceCopy, FENCED_KEY, lspBackupTransport, RECOVERY_PENDING_KEY } from './backup.ts';
import { describeError } from './errors.ts';
import { Pay } from './pay.ts';
import { lspSeenKey, PeerLink, RETRY_MS } from './peer-link.ts';
import {
  type ExportedBackup,
  type OpenRequest,
  WalletCommandError,
  type WalletSnapshot,
} from './protocol.ts';
import { Receive } from './receive.ts';
import type { Session } from './session.ts';
import { emptySnapshot, historyOf, Snapshot, snapshotKey } from './snapshot.ts';
import { Streams } from './streams.ts';

/** While money is on its way on chain (closes, sweeps, unconfirmed coins) the chain is read this often. */
const EXIT_SYNC_EVERY_MS = 10_000;
/** How long a channel-state commit waits for the LSP to hold its backup before it goes through behind. */
const BACKUP_GATE_MS = 30_000;

export const nodeDbName = (walletId: string) => `lpw-node-${walletId}`;

export class WalletRuntime {
  readonly snapshot: Snapshot;
  readonly peer: PeerLink;
  readonly receive: Receive;
  readonly pay: Pay;
  readonly streams: Streams;
  readonly address: LightningAddress;
  private req: OpenRequest | undefined;
  private idb: IndexedDbStore | undefined;
  private store: BackedUpStore | undefined;
  private node: LightningNode | undefined;
  /** The one LSP client: session, JIT, routes and payments, backups, relay (made at each start). */
  private client: LspClient | undefined;
  private backup: BackupUploader | undefined;
  private backupLink: PeerBackupLink | undefined;
  private deviceCopy: DeviceCopy | undefined;
  /** The last snapshot saved on this device (what an offline start knows of the LSP). */
  private cached: WalletSnapshot | undefined;
  private exitSyncMs = 0;
  private exitTimer: ReturnType<typeof setTimeout> | undefined;
  /** What the screens showed of the node at its last `changed` notice (nodeChanged). */
  private nodeSeen = '';
  private nodeId = '';
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private starting: Promise<void> | null = null;
  private closed = false;

  constructor(
    /** Resolves once LDK's WASM is loaded in this worker (node.worker.ts). */
    private readonly ldkLoaded: () => Promise<void>,
    publish: (snapshot: WalletSnapshot) => void,
    private readonly log: (level: string, message: string) => void,
  ) {
    this.snapshot = new Snapshot(
      {
        node: () => this.node,
        peerConnected: () => this.peer.connected,
        backupStatus: () => this.backup?.status,
        streams: () => this.streams.views(),
        walletId: () => this.req?.walletId,
        refreshed: () => this.followExits(),
      },
      publish,
      log,
    );
    this.peer = new PeerLink(this.snapshot, () => this.req?.walletId);
    const session: Session = {
      node: () => this.requireNode(),
      client: () => {
        if (!this.client)
          throw new WalletCommandError('LSP_UNREACHABLE', 'Not connected to your service provider yet.');
        return this.client;
      },
      peer: this.peer,
      snapshot: this.snapshot,
      log,
    };
    this.receive = new Receive(session);
    this.pay = new Pay(session);
    this.streams = new Streams(session, (request) => this.relay(request));
    this.address = new LightningAddress(session, this.receive);
  }

  private get snap(): WalletSnapshot {
    return this.snapshot.snap;
  }

  // ------------------------------------------------------------ life cycle

  async open(req: OpenRequest): Promise<void> {
    if (this.req) throw new WalletCommandError('ALREADY_OPEN', 'This wallet is already open');
    this.req = req;
    this.snapshot.snap = emptySnapshot(req.lspUrl);
    await this.ldkLoaded();
    startMark('wasm-ready');
    this.nodeId = nodeIdentity(req.nodeSeed).nodeId;
    this.snap.nodeId = this.nodeId;
    this.idb = await IndexedDbStore.open(nodeDbName(req.walletId));
    this.deviceCopy = DeviceCopy.open(req.walletId);
    const deviceCopy = this.deviceCopy;
    // the backup rides the peer socket ahead of the messages it covers (every channel is the LSP's)
    this.backupLink = new PeerBackupLink(PEER_WS_BACKUP_PROTOCOL);
    this.backup = new BackupUploader({
      peerLink: this.backupLink,
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
      this.snapshot.applyCached(cached, req.lspUrl);
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
    await this.streams.open(req.walletId);
    this.snap.streams = this.streams.views();
    startMark('stored-read');
    this.snapshot.setStatus('starting', undefined);
    void this.start();
  }

  /** Try now instead of waiting for the next retry (the UI's "Try again"). */
  retry(): void {
    if (this.node) {
      this.peer.retry();
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
    this.peer.detach();
    this.address.detach();
    clearTimeout(this.exitTimer);
    await this.starting?.catch(() => {});
    // streams halt, not end: the next unlock resumes them (or stops those set to stop on restart)
    await this.streams.halt('wallet locked');
    const node = this.node;
    this.node = undefined;
    await node?.stop();
    await this.backup?.close({ flush: true });
    await this.store?.close();
    await this.streams.close();
    this.snapshot.setStatus('idle', 'Locked');
  }

  private start(): Promise<void> {
    this.starting ??= this.startOnce().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    const req = this.req!;
    this.snapshot.setStatus('starting', undefined);
    try {
      // logs in with the node key (derived from the seed) when a call first needs the session
      this.client = createLspClient({ url: req.lspUrl, identity: nodeIdentity(req.nodeSeed) });
      const backup = this.backup!;
      // the store as open() read it and every commit since: no second read of IndexedDB
      const restoring = req.restore === true && ![...this.store!.data.keys()].some(isBackedUpKey);
      // the lease is asked for beside the LSP's info (two round trips at once), except in a restore,
      // which reads the LSP's copy first; an offline start reports the unreachable LSP, not the lease
      const leasing = restoring ? undefined : backup.start();
      leasing?.catch(() => {});
      let info: Pick<InfoOutput, 'nodeId' | 'network' | 'esploraUrl'>;
      let online = true;
      try {
        info = await this.client.info();
        startMark('lsp-info');
        this.peer.seen();
      } catch (error) {
        const unreachable = `Your service provider at ${req.lspUrl} can’t be reached (${describeError(error).code}).`;
        // a wallet with channels here can still leave: start its node without the LSP
        const known = await this.offlineFacts();
        if (!known) throw new WalletCommandError('LSP_UNREACHABLE', unreachable);
        info = known;
        online = false;
        this.snap.lsp = { ...this.snap.lsp, problem: unreachable };
      }
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
      if (online) {
        if (restoring) await this.restoreChannelState(req);
        await (leasing ?? backup.start()); // the lease (taking it over) and the LSP's version
        await this.checkLspCopy(req);
        if (this.store!.data.has(FENCED_KEY)) await this.store!.commit([{ key: FENCED_KEY, value: null }]);
        startMark('lsp-backup-lease');
      }
      // set by a restore, or by a newer copy another device wrote: kept until a node has started on it
      const recoverChannels = this.store!.data.has(RECOVERY_PENDING_KEY);
      const node = await createWalletNode({
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
      this.streams.start(node, req.streamKey);
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
        node.on(kind, () => this.snapshot.changed());
      }
      node.on('changed', () => this.nodeChanged(node));
      node.on('error', (e) => this.log('error', `${e.code}: ${e.message}`));
      this.attempt = 0;
      this.snapshot.setStatus('running', undefined);
      if (online) backup.markDirty(); // a first backup, so a restore finds this wallet even before its first channel
      const store = this.store!;
      this.peer.attach(node, info.nodeId, this.client, {
        backup: this.backupLink,
        beforeConnect: () => store.beforePeerLink(),
      });
      this.address.attach(node, info.nodeId, this.client);
      void this.streams.resume();
    } catch (error) {
      const { code, message } = describeError(error);
      this.log('warn', `start failed: ${code}: ${message}`);
      if (code === 'BACKUP_REFUSED' || code === 'KEY_MISMATCH' || code === 'LEASE_HELD') {
        this.snapshot.setStatus('failed', message);
        return;
      }
      this.snap.lsp = { ...this.snap.lsp, reachable: false, problem: message };
      this.snapshot.setStatus('offline', message);
      const wait = RETRY_MS[Math.min(this.attempt++, RETRY_MS.length - 1)]!;
      if (!this.closed) this.retryTimer = setTimeout(() => void this.start(), wait);
    }
  }

  private async fence(): Promise<void> {
    await this.streams.halt('opened on another device');
    const node = this.node;
    this.node = undefined;
    this.peer.detach();
    this.address.detach();
    clearTimeout(this.exitTimer);
    await node?.stop();
    await this.idb?.commit([{ key: FENCED_KEY, value: Uint8Array.of(1) }]);
    this.snapshot.setStatus('fenced', 'This wallet was opened on another device, so it stopped here.');
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
    this.snap.backup = this.snapshot.backupView(status);
    if (status.fenced) void this.fence();
    this.snapshot.changed();
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

  /**
   * The node's `changed` notice (a peer's messages, a chain sync): publish only when something the
   * screens show moved — blocks and on-chain coins count too (closes count down, sweeps land), and
   * the fee notice, which follows the chain's fees and the LSP's update_fee.
   */
  private nodeChanged(node: LightningNode): void {
    if (this.node !== node) return;
    const onchain = node.onchainPayment.balance();
    const seen = [
      ...node.listChannels().map((c) => `${c.channelId}:${c.isUsable}:${c.outboundMsat}:${c.inboundMsat}`),
      node.chainWatch().lastSyncHeight,
      onchain.confirmedMsat,
      onchain.unconfirmedMsat,
      node.onchainPayment.pendingSweeps().length,
      node.feeWeather().notice ?? '',
    ].join(',');
    if (seen === this.nodeSeen) return;
    this.nodeSeen = seen;
    this.snapshot.changed();
  }

  /**
   * While money is on its way on chain (closes, sweeps, unconfirmed coins, a recovery) the chain is
   * read every 10 s instead of the node's 30 s. A timer, because nothing pushes blocks to the
   * wallet: the chain source (Esplora) only answers when asked. It runs only while an exit is
   * pending, and each sync's `changed` notice updates the screens.
   */
  private followExits(): void {
    const node = this.node;
    if (!node || this.exitTimer !== undefined) return;
    const snap = this.snap;
    const pending =
      snap.closing.length > 0 ||
      snap.sweeps.length > 0 ||
      snap.onchain.unconfirmedMsat > 0n ||
      snap.recovery.some((r) => r.stage !== 'close-confirmed');
    if (!pending) return;
    const waitMs = Math.max(0, this.exitSyncMs + EXIT_SYNC_EVERY_MS - Date.now());
    this.exitTimer = setTimeout(() => {
      this.exitSyncMs = Date.now();
      void node
        .syncChain()
        .catch((error: unknown) => this.log('warn', `chain sync: ${describeError(error).message}`))
        .finally(() => {
          this.exitTimer = undefined;
          this.followExits();
        });
    }, waitMs);
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

  /** The LSP's exchange rates, checked here (a malformed rate must never reach a screen). */
  async rates(): Promise<RatesOutput> {
    const client = this.client;
    if (!client) {
      throw new WalletCommandError('LSP_UNREACHABLE', 'Not connected to your service provider yet.');
    }
    return ratesOutput.parse(await client.trpc.rates.get.query());
  }

  private requireNode(): LightningNode {
    if (!this.node) {
      throw new WalletCommandError(
        'NODE_NOT_RUNNING',
        this.snap.statusReason ?? 'Your wallet is still starting.',
      );
    }
    return this.node;
  }
}
