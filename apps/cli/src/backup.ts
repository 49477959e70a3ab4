// Channel-state backups at the LSP (its `backup` API: versioned blobs, compare-and-swap, written
// under a fencing lease). The blob is every `ldk/` key of the node's store as of one durable commit,
// sealed with AES-256-GCM (WebCrypto) under a key derived from the seed: the LSP keeps it, cannot
// read it, and cannot pass off another wallet's blob as ours (the node id is authenticated data).
import { randomBytes } from 'node:crypto';
import type { LspClient } from '@lpw/lsp-server/client';
import type { Store, StoreWrite } from '@lpw/node';
import { WalletError } from './errors.ts';

export const BACKUP_KEY = 'cli-channel-state';
const MAGIC = new TextEncoder().encode('LPWB1');
const LEASE_TTL_SEC = 600;

/** A Store that mirrors the node's `ldk/` keys after each durable commit and says when they changed. */
export class MirroredStore implements Store {
  readonly channelState = new Map<string, Uint8Array>();
  /** Bumped on every commit that touched channel state. */
  generation = 0;
  onChannelUpdate: (() => void) | undefined;

  constructor(private readonly inner: Store) {}

  async load(): Promise<Map<string, Uint8Array>> {
    const data = await this.inner.load();
    for (const [key, value] of data) if (key.startsWith('ldk/')) this.channelState.set(key, value);
    return data;
  }

  commit(writes: StoreWrite[]): void | Promise<void> {
    const done = this.inner.commit(writes);
    const apply = () => {
      let touched = false;
      for (const { key, value } of writes) {
        if (!key.startsWith('ldk/') || key === 'ldk/network-graph' || key === 'ldk/scorer') continue;
        touched = true;
        if (value === null) this.channelState.delete(key);
        else this.channelState.set(key, value);
      }
      if (touched) {
        this.generation++;
        this.onChannelUpdate?.();
      }
    };
    if (done instanceof Promise) return done.then(apply);
    apply();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** key/value pairs → bytes: u16 key length, key, u32 value length, value; repeated. */
export function encodeSnapshot(entries: Map<string, Uint8Array>): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const [key, value] of [...entries].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const k = enc.encode(key);
    const head = new Uint8Array(6);
    const view = new DataView(head.buffer);
    view.setUint16(0, k.length);
    view.setUint32(2, value.length);
    parts.push(head, k, value);
    size += 6 + k.length + value.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function decodeSnapshot(bytes: Uint8Array): Map<string, Uint8Array> {
  const dec = new TextDecoder();
  const out = new Map<string, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    if (at + 6 > bytes.length) throw new WalletError('BACKUP_FAILED', 'backup snapshot truncated');
    const keyLength = view.getUint16(at);
    const valueLength = view.getUint32(at + 2);
    at += 6;
    if (at + keyLength + valueLength > bytes.length)
      throw new WalletError('BACKUP_FAILED', 'backup snapshot truncated');
    const key = dec.decode(bytes.subarray(at, at + keyLength));
    at += keyLength;
    out.set(key, bytes.slice(at, at + valueLength));
    at += valueLength;
  }
  return out;
}

const aad = (nodeId: string) => new TextEncoder().encode(`lpw-cli-backup-v1:${nodeId}`);

async function aesKey(key: Uint8Array): Promise<CryptoKey> {
  if (key.length !== 32) throw new WalletError('INVALID_INPUT', 'backup key must be 32 bytes');
  return crypto.subtle.importKey('raw', key as BufferSource, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** MAGIC ‖ iv(12) ‖ AES-256-GCM(plaintext, aad = node id). */
export async function sealBackup(
  key: Uint8Array,
  nodeId: string,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  const iv = randomBytes(12);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad(nodeId) as BufferSource },
      await aesKey(key),
      plaintext as BufferSource,
    ),
  );
  const out = new Uint8Array(MAGIC.length + 12 + sealed.length);
  out.set(MAGIC, 0);
  out.set(iv, MAGIC.length);
  out.set(sealed, MAGIC.length + 12);
  return out;
}

export async function openBackup(key: Uint8Array, nodeId: string, blob: Uint8Array): Promise<Uint8Array> {
  if (blob.length < MAGIC.length + 12 + 16 || !MAGIC.every((b, i) => blob[i] === b))
    throw new WalletError('BACKUP_FAILED', 'not a CLI wallet backup');
  const iv = blob.subarray(MAGIC.length, MAGIC.length + 12);
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad(nodeId) as BufferSource },
        await aesKey(key),
        blob.subarray(MAGIC.length + 12) as BufferSource,
      ),
    );
  } catch (e) {
    throw new WalletError('BACKUP_FAILED', 'backup does not decrypt with this wallet’s key', { cause: e });
  }
}

export interface BackupStatus {
  version: number;
  uploadedGeneration: number;
  lastError: string | undefined;
  uploads: number;
}

/**
 * Uploads the mirrored channel state after channel updates, at most once per `minIntervalMs`
 * (a per-second stream changes the channel every second; the LSP needs the latest, not every one).
 */
export class BackupUploader {
  readonly status: BackupStatus = { version: 0, uploadedGeneration: 0, lastError: undefined, uploads: 0 };
  private leaseToken: number | undefined;
  private leaseAtMs = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private lastUploadMs = 0;
  private closed = false;

  constructor(
    private readonly deps: {
      client: LspClient;
      store: MirroredStore;
      nodeId: string;
      key: Uint8Array;
      deviceId: string;
      minIntervalMs: number;
      log: (message: string) => void;
      /** Log in again (sessions expire; a stream runs for days). */
      reauth: () => Promise<void>;
    },
  ) {
    deps.store.onChannelUpdate = () => this.schedule();
  }

  async start(): Promise<void> {
    await this.renewLease();
    await this.refreshVersion();
    this.schedule();
  }

  /** Acquiring again is how a lease is renewed (the token moves on; this process is the wallet's one). */
  private async renewLease(): Promise<void> {
    const lease = await this.deps.client.trpc.backup.acquireLease.mutate({
      deviceId: this.deps.deviceId,
      ttlSec: LEASE_TTL_SEC,
    });
    this.leaseToken = lease.fencingToken;
    this.leaseAtMs = Date.now();
  }

  private async refreshVersion(): Promise<void> {
    const { entries } = await this.deps.client.trpc.backup.list.query();
    this.status.version = entries.find((e) => e.key === BACKUP_KEY)?.version ?? 0;
  }

  /** Upload now if anything changed since the last upload; waits for an upload in flight. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    if (this.deps.store.generation !== this.status.uploadedGeneration) await this.run();
  }

  async close(): Promise<void> {
    await this.flush().catch((e: unknown) => this.deps.log(`final backup failed: ${String(e)}`));
    this.closed = true;
    if (this.leaseToken !== undefined) {
      await this.deps.client.trpc.backup.releaseLease
        .mutate({ fencingToken: this.leaseToken })
        .catch(() => {});
    }
  }

  /** The LSP's copy, decrypted (restore and tests). */
  async fetchLatest(): Promise<Map<string, Uint8Array> | undefined> {
    const got = await this.deps.client.trpc.backup.get.query({ key: BACKUP_KEY });
    if (!got) return undefined;
    const plain = await openBackup(this.deps.key, this.deps.nodeId, Buffer.from(got.blob, 'base64'));
    return decodeSnapshot(plain);
  }

  private schedule(): void {
    if (this.closed || this.timer || this.leaseToken === undefined) return;
    const wait = Math.max(0, this.lastUploadMs + this.deps.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, wait);
  }

  private run(): Promise<void> {
    this.running ??= this.upload()
      .catch((e: unknown) => {
        this.status.lastError = e instanceof Error ? e.message : String(e);
        this.deps.log(`backup upload failed: ${this.status.lastError}`);
      })
      .finally(() => {
        this.running = undefined;
        this.lastUploadMs = Date.now();
        if (this.deps.store.generation !== this.status.uploadedGeneration) this.schedule();
      });
    return this.running;
  }

  /** One upload; after an expired session, lease or a stale version: repair and try once more. */
  private async upload(): Promise<void> {
    try {
      await this.uploadOnce();
    } catch (e) {
      const code = (e as { data?: { app?: { code?: string } } }).data?.app?.code;
      if (code === 'SESSION_EXPIRED' || code === 'SESSION_REQUIRED') await this.deps.reauth();
      else if (code === 'LEASE_FENCED') await this.renewLease();
      else if (code === 'VERSION_CONFLICT') await this.refreshVersion();
      else throw e;
      await this.uploadOnce();
    }
  }

  private async uploadOnce(): Promise<void> {
    const { store, client, key, nodeId } = this.deps;
    if (this.leaseToken === undefined) return;
    if (Date.now() - this.leaseAtMs > (LEASE_TTL_SEC * 1000) / 2) await this.renewLease();
    const generation = store.generation;
    const blob = await sealBackup(key, nodeId, encodeSnapshot(store.channelState));
    const put = await client.trpc.backup.put.mutate({
      key: BACKUP_KEY,
      version: this.status.version,
      blob: Buffer.from(blob).toString('base64'),
      leaseToken: this.leaseToken,
    });
    this.status.version = put.version;
    this.status.uploadedGeneration = generation;
    this.status.uploads++;
    this.status.lastError = undefined;
  }
}
