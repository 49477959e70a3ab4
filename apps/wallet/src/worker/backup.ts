// Channel-state backups at the LSP: after every commit that touched LDK state, the whole store (small
// for a phone: one channel) goes up sealed, with compare-and-swap on the version and the device's
// fencing lease. Restoring fetches the newest blob only, and refuses one older than the LSP's current.
import type { Store, StoreWrite } from '@lpw/node';
import { fromBase64, openSnapshot, sealSnapshot, toBase64 } from './backup-codec.ts';
import { type LspSession, lspErrorCode } from './lsp.ts';

export const BACKUP_KEY = 'channel-state';
const LEASE_TTL_SEC = 3600;

export class BackupRefused extends Error {
  override readonly name = 'BackupRefused';
  constructor(
    readonly code: 'BACKUP_STALE' | 'BACKUP_UNREADABLE' | 'FENCED',
    message: string,
  ) {
    super(message);
  }
}

/** The node's store, mirrored in memory, telling us when LDK state changed durably. */
export class MirroredStore implements Store {
  readonly data = new Map<string, Uint8Array>();
  constructor(
    private readonly inner: Store,
    private readonly onChannelUpdate: () => void,
  ) {}

  async load(): Promise<Map<string, Uint8Array>> {
    const loaded = await this.inner.load();
    for (const [k, v] of loaded) this.data.set(k, v);
    return loaded;
  }

  async commit(writes: StoreWrite[]): Promise<void> {
    await this.inner.commit(writes);
    let channelState = false;
    for (const { key, value } of writes) {
      if (value === null) this.data.delete(key);
      else this.data.set(key, value.slice());
      if (key.startsWith('ldk/') && key !== 'ldk/network-graph' && key !== 'ldk/scorer') channelState = true;
    }
    if (channelState) this.onChannelUpdate();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface BackupStatus {
  version: number | undefined;
  savedAt: number | undefined;
  problem: string | undefined;
}

export class ChannelBackup {
  private version = 0;
  private leaseToken: number | undefined;
  private leaseExpiresAt = 0;
  private running: Promise<void> | null = null;
  private dirty = false;
  private fenced = false;
  readonly status: BackupStatus = { version: undefined, savedAt: undefined, problem: undefined };

  constructor(
    private readonly session: LspSession,
    private readonly nodeId: string,
    private readonly key: Uint8Array,
    private readonly deviceId: string,
    private readonly snapshot: () => Map<string, Uint8Array>,
    private readonly onStatus: (fenced: boolean) => void,
  ) {}

  /** Take this wallet's lease (newest wins: another device's writes are fenced from now on). */
  async acquireLease(): Promise<void> {
    const lease = await this.session.authed(() =>
      this.session.api.backup.acquireLease.mutate({ deviceId: this.deviceId, ttlSec: LEASE_TTL_SEC }),
    );
    this.leaseToken = lease.fencingToken;
    this.leaseExpiresAt = Date.parse(lease.expiresAt);
    const entries = await this.session.authed(() => this.session.api.backup.list.query());
    this.version = entries.entries.find((e) => e.key === BACKUP_KEY)?.version ?? 0;
    this.status.version = this.version || undefined;
  }

  /** Called after each durable channel update; uploads coalesce, the newest state always goes last. */
  schedule(): void {
    if (this.fenced) return;
    this.dirty = true;
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when nothing is waiting to be uploaded (or the upload failed and was reported). */
  async flushed(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.dirty && !this.fenced) {
      this.dirty = false;
      try {
        await this.upload();
        this.status.problem = undefined;
      } catch (error) {
        const code = error instanceof BackupRefused ? error.code : lspErrorCode(error);
        if (code === 'LEASE_FENCED' || code === 'FENCED') {
          this.fenced = true;
          this.status.problem = 'This wallet was opened on another device; it stopped here.';
        } else {
          this.status.problem = `Backup not saved (${code}); it will be retried.`;
          this.dirty = true;
          this.onStatus(false);
          await new Promise((r) => setTimeout(r, 5_000));
          continue;
        }
      }
      this.onStatus(this.fenced);
    }
  }

  private async upload(): Promise<void> {
    if (this.leaseToken === undefined || Date.now() > this.leaseExpiresAt - 120_000) {
      if (this.leaseToken !== undefined) {
        // the API has no "renew only if still mine": acquiring again always wins. A token that is not
        // ours + 1 means another device took the wallet in between: stop rather than fight over it.
        const whoHas = await this.session.authed(() =>
          this.session.api.backup.acquireLease.mutate({ deviceId: this.deviceId, ttlSec: LEASE_TTL_SEC }),
        );
        if (whoHas.fencingToken !== this.leaseToken + 1) {
          throw new BackupRefused('FENCED', 'another device holds this wallet');
        }
        this.leaseToken = whoHas.fencingToken;
        this.leaseExpiresAt = Date.parse(whoHas.expiresAt);
      } else await this.acquireLease();
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      const seq = this.version + 1;
      const blob = await sealSnapshot({ seq, entries: this.snapshot() }, this.key, this.nodeId);
      try {
        const put = await this.session.authed(() =>
          this.session.api.backup.put.mutate({
            key: BACKUP_KEY,
            version: this.version,
            blob: toBase64(blob),
            leaseToken: this.leaseToken!,
          }),
        );
        this.version = put.version;
        this.status.version = put.version;
        this.status.savedAt = Date.now();
        return;
      } catch (error) {
        if (lspErrorCode(error) !== 'VERSION_CONFLICT' || attempt > 0) throw error;
        // our idea of the version was old (e.g. an upload whose answer we lost): write over it
        const list = await this.session.authed(() => this.session.api.backup.list.query());
        this.version = list.entries.find((e) => e.key === BACKUP_KEY)?.version ?? 0;
      }
    }
  }

  /**
   * The newest channel state at the LSP, or undefined when there is none (a wallet that never had a
   * channel). Refuses a blob older than the version the LSP lists as current, or whose sealed
   * version differs from the one it is served as: restoring old channel state could broadcast a
   * revoked commitment and lose the channel's money.
   */
  async fetchLatest(): Promise<Map<string, Uint8Array> | undefined> {
    const list = await this.session.authed(() => this.session.api.backup.list.query());
    const current = list.entries.find((e) => e.key === BACKUP_KEY)?.version;
    if (current === undefined) return undefined;
    const got = await this.session.authed(() => this.session.api.backup.get.query({ key: BACKUP_KEY }));
    if (!got)
      throw new BackupRefused('BACKUP_STALE', `the LSP lists backup version ${current} but sent none`);
    if (got.version < current) {
      throw new BackupRefused(
        'BACKUP_STALE',
        `the LSP sent backup version ${got.version}, older than its current ${current}`,
      );
    }
    let snapshot: Awaited<ReturnType<typeof openSnapshot>>;
    try {
      snapshot = await openSnapshot(fromBase64(got.blob), this.key, this.nodeId);
    } catch (error) {
      throw new BackupRefused('BACKUP_UNREADABLE', error instanceof Error ? error.message : String(error));
    }
    if (snapshot.seq !== got.version) {
      throw new BackupRefused(
        'BACKUP_STALE',
        `the backup was written as version ${snapshot.seq} but served as ${got.version}`,
      );
    }
    this.version = got.version;
    this.status.version = got.version;
    return snapshot.entries;
  }
}
