// Wallet backups: opaque encrypted blobs, versioned per key, written only by the device holding the
// newest lease (fencing token). The LSP never sees inside.
import { ApiError } from '@lpw/api';
import type { Deps } from './deps.ts';

export class BackupService {
  constructor(private readonly deps: Pick<Deps, 'store' | 'clock' | 'config'>) {}

  async acquireLease(nodeId: string, deviceId: string, ttlSec: number) {
    const lease = await this.deps.store.acquireLease(nodeId, deviceId, this.deps.clock() + ttlSec * 1000);
    return {
      fencingToken: lease.fencingToken,
      deviceId: lease.deviceId,
      expiresAt: new Date(lease.expiresAtMs).toISOString(),
    };
  }

  async releaseLease(nodeId: string, fencingToken: number): Promise<{ released: boolean }> {
    return { released: await this.deps.store.releaseLease(nodeId, fencingToken, this.deps.clock()) };
  }

  async put(nodeId: string, input: { key: string; version: number; blob: string; leaseToken: number }) {
    const blob = Uint8Array.from(Buffer.from(input.blob, 'base64'));
    const max = this.deps.config.limits.maxBackupBlobBytes;
    if (blob.length > max)
      throw new ApiError('BLOB_TOO_LARGE', `blob is ${blob.length} bytes; the limit is ${max}`);
    const result = await this.deps.store.putBackup({
      nodeId,
      key: input.key,
      expectedVersion: input.version,
      blob,
      fencingToken: input.leaseToken,
      nowMs: this.deps.clock(),
      maxKeys: this.deps.config.limits.maxBackupKeys,
    });
    if (result.ok) return { key: input.key, version: result.version };
    switch (result.reason) {
      case 'VERSION_CONFLICT':
        throw new ApiError('VERSION_CONFLICT', `current version is ${result.currentVersion}`, {
          currentVersion: result.currentVersion,
        });
      case 'LEASE_FENCED':
        throw new ApiError(
          'LEASE_FENCED',
          'this lease is not the current one (expired or taken over); acquire again',
        );
      case 'QUOTA_EXCEEDED':
        throw new ApiError(
          'QUOTA_EXCEEDED',
          `at most ${this.deps.config.limits.maxBackupKeys} keys per wallet`,
        );
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
