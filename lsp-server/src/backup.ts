// Wallet backups: encrypted blobs, versioned per key, written only by the device holding the newest
// lease (fencing token). The LSP never sees inside; of a v2 backup it checks the clear header (the
// session's wallet, a growing version, the length it declares), which it can neither forge nor
// relabel, since the wallet's signature covers it.
import { ApiError } from '@lpw/api';
import { BackupError, HEADER_BYTES, readBackupHeader } from '@lpw/backup';
import type { Deps } from './deps.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { PutBackupResult } from './store/types.ts';

/** Bytes before a v2 body: header and signature. */
const SIGNED_HEADER_BYTES = HEADER_BYTES + 64;

export class BackupService {
  constructor(
    private readonly deps: Pick<Deps, 'store' | 'clock' | 'config'> & Partial<Pick<Deps, 'metrics' | 'log'>>,
    /** Backup bytes added per client IP (a bucket of bytes, not requests). */
    private readonly bytesPerIp?: RateLimiter,
  ) {}

  /**
   * Charges what a write adds to what the LSP stores (its size above the key's current blob) to the
   * client's IP, or RATE_LIMITED with the wait; nothing is stored then. A rewrite at the same size
   * adds nothing: a streaming wallet rewrites its backup after every payment, hundreds of times a
   * minute, and what it stores is bounded by the per-wallet quota already.
   */
  private async chargeIp(ip: string, nodeId: string, key: string, bytes: number): Promise<void> {
    if (!this.bytesPerIp) return;
    const stored = (await this.deps.store.listBackups(nodeId)).find((b) => b.key === key)?.size ?? 0;
    const wait = this.bytesPerIp.take(ip, Math.max(0, bytes - stored));
    if (wait > 0) {
      throw new ApiError('RATE_LIMITED', `too many backup bytes from this address; retry in ${wait} s`, {
        retryAfterSec: wait,
      });
    }
  }

  private quotas() {
    const { maxBackupKeys, maxBackupBytesPerWallet } = this.deps.config.limits;
    return { maxKeys: maxBackupKeys, maxBytes: maxBackupBytesPerWallet };
  }

  /** Every write's outcome feeds the operator's backup alert (history/backup-health.ts). */
  private async watched<T>(nodeId: string, write: () => Promise<T>): Promise<T> {
    const health = this.deps.metrics?.backupHealth;
    let out: T;
    try {
      out = await write();
    } catch (error) {
      // the wallet is told why its write was refused even when recording the failure fails
      await health
        ?.failed(nodeId, error instanceof ApiError ? error.code : 'INTERNAL', this.deps.clock())
        .catch((err: unknown) => this.deps.log?.error({ err, nodeId }, 'recording a backup failure failed'));
      throw error;
    }
    await health?.succeeded(nodeId);
    return out;
  }

  async acquireLease(nodeId: string, deviceId: string, ttlSec: number, takeOver = true) {
    const now = this.deps.clock();
    const expiresAtMs = now + ttlSec * 1000;
    let lease = takeOver ? await this.deps.store.acquireLease(nodeId, deviceId, expiresAtMs) : undefined;
    if (!lease) {
      const got = await this.deps.store.acquireLeaseIfFree(nodeId, deviceId, expiresAtMs, now);
      if (!got.ok) {
        const expiresAt = new Date(got.holder.expiresAtMs).toISOString();
        throw new ApiError(
          'LEASE_HELD',
          `device ${got.holder.deviceId} holds this wallet until ${expiresAt}`,
          {
            deviceId: got.holder.deviceId,
            expiresAt,
          },
        );
      }
      lease = got.lease;
    }
    return {
      fencingToken: lease.fencingToken,
      deviceId: lease.deviceId,
      expiresAt: new Date(lease.expiresAtMs).toISOString(),
    };
  }

  async releaseLease(nodeId: string, fencingToken: number): Promise<{ released: boolean }> {
    return { released: await this.deps.store.releaseLease(nodeId, fencingToken, this.deps.clock()) };
  }

  put(
    nodeId: string,
    input: { key: string; version: number; blob: string; leaseToken: number },
    ip = 'unknown',
  ) {
    return this.watched(nodeId, () => this.putV1(nodeId, input, ip));
  }

  private async putV1(
    nodeId: string,
    input: { key: string; version: number; blob: string; leaseToken: number },
    ip: string,
  ) {
    const blob = Uint8Array.from(Buffer.from(input.blob, 'base64'));
    const max = this.deps.config.limits.maxBackupBlobBytes;
    if (blob.length > max)
      throw new ApiError('BLOB_TOO_LARGE', `blob is ${blob.length} bytes; the limit is ${max}`);
    await this.chargeIp(ip, nodeId, input.key, blob.length);
    const result = await this.deps.store.putBackup({
      nodeId,
      key: input.key,
      expectedVersion: input.version,
      blob,
      fencingToken: input.leaseToken,
      nowMs: this.deps.clock(),
      ...this.quotas(),
    });
    return this.outcome(input.key, result);
  }

  /**
   * A v2 backup (binary route): the clear header must name the session's wallet, declare the
   * length received, and carry a version above the stored one; it lands as that version.
   */
  putV2(
    nodeId: string,
    key: string,
    blob: Uint8Array,
    request: { expectedVersion: number; leaseToken: number },
    ip = 'unknown',
  ) {
    return this.watched(nodeId, () => this.writeV2(nodeId, key, blob, request, ip));
  }

  private async writeV2(
    nodeId: string,
    key: string,
    blob: Uint8Array,
    request: { expectedVersion: number; leaseToken: number },
    ip: string,
  ) {
    const limitBytes = this.deps.config.limits.maxBackupBlobBytes;
    if (blob.length > limitBytes) throw tooLarge(blob.length, limitBytes);
    await this.chargeIp(ip, nodeId, key, blob.length);
    let header: ReturnType<typeof readBackupHeader>;
    try {
      header = readBackupHeader(blob);
    } catch (error) {
      if (!(error instanceof BackupError)) throw error;
      const code =
        error.code === 'BACKUP_TRUNCATED' || error.code === 'BACKUP_UNKNOWN_FORMAT'
          ? error.code
          : 'BACKUP_CORRUPT';
      throw new ApiError(code, error.message);
    }
    if (header.nodeId !== nodeId) {
      throw new ApiError('BACKUP_WRONG_WALLET', 'the backup header names another wallet than this session’s');
    }
    const declared = SIGNED_HEADER_BYTES + header.bodyLength;
    if (blob.length < declared) {
      throw new ApiError(
        'BACKUP_TRUNCATED',
        `received ${blob.length} of the ${declared} bytes the header declares`,
      );
    }
    if (blob.length > declared)
      throw new ApiError('BACKUP_CORRUPT', `bytes after the ${declared} the header declares`);
    const result = await this.deps.store.putBackup({
      nodeId,
      key,
      expectedVersion: request.expectedVersion,
      version: header.version,
      blob,
      fencingToken: request.leaseToken,
      nowMs: this.deps.clock(),
      ...this.quotas(),
    });
    return this.outcome(key, result);
  }

  private outcome(key: string, result: PutBackupResult): { key: string; version: number } {
    if (result.ok) return { key, version: result.version };
    switch (result.reason) {
      case 'VERSION_CONFLICT':
        throw new ApiError('VERSION_CONFLICT', `current version is ${result.currentVersion}`, {
          currentVersion: result.currentVersion,
        });
      case 'VERSION_NOT_GROWING':
        throw new ApiError(
          'BACKUP_VERSION_NOT_GROWING',
          `the backup's version must be above the stored ${result.currentVersion}`,
          { currentVersion: result.currentVersion },
        );
      case 'LEASE_FENCED':
        throw new ApiError(
          'LEASE_FENCED',
          'this lease is not the current one (expired or taken over); acquire again',
        );
      case 'QUOTA_EXCEEDED': {
        const { maxKeys, maxBytes } = this.quotas();
        throw result.quota === 'keys'
          ? new ApiError('QUOTA_EXCEEDED', `at most ${maxKeys} keys per wallet`, { limit: maxKeys })
          : new ApiError('QUOTA_EXCEEDED', `at most ${maxBytes} backup bytes per wallet`, {
              limit: maxBytes,
            });
      }
    }
  }

  async get(nodeId: string, key: string) {
    const b = await this.deps.store.getBackup(nodeId, key);
    if (!b) return null;
    return {
      key: b.key,
      version: b.version,
      blob: Buffer.from(b.blob).toString('base64'),
      updatedAt: new Date(b.updatedAtMs).toISOString(),
    };
  }

  async list(nodeId: string) {
    const entries = await this.deps.store.listBackups(nodeId);
    return {
      entries: entries.map((e) => ({
        key: e.key,
        version: e.version,
        size: e.size,
        updatedAt: new Date(e.updatedAtMs).toISOString(),
      })),
    };
  }
}

export function tooLarge(sizeBytes: number, limitBytes: number): ApiError {
  return new ApiError('BACKUP_TOO_LARGE', `the backup is ${sizeBytes} bytes; the limit is ${limitBytes}`, {
    sizeBytes,
    limitBytes,
  });
}
