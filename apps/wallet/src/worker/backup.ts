// The PWA's side of @lpw/backup: how the uploader reaches the LSP (leases and the version list over
// tRPC, the blob over the binary routes, both under the wallet's session), and the copy of the
// newest backup this device keeps in its own IndexedDB database, out of the LSP's control.

import type { TrpcErrorCode } from '@lpw/api';
import type { BackupKeys } from '@lpw/backup';
import {
  BackupError,
  type BackupTransport,
  type DecodedBackup,
  decodeBackup,
  httpBlobClient,
} from '@lpw/backup';
import { lspErrorCode as apiErrorCode, isLspBusy, type LspClient } from '@lpw/lsp-server/client';
import { equalBytes } from '@noble/curves/utils.js';
import { TRPCClientError } from '@trpc/client';
import { createStore, get as idbGet, set as idbSet, type UseStore } from 'idb-keyval';
import type { LspErrorCode } from './protocol.ts';

/** The LSP's key for this wallet's channel state (v1 blobs lived here too; v2 continues above them). */
export const BACKUP_KEY = 'channel-state';
/** A restored node's store holds this key until its first start has closed the restored channels. */
export const RECOVERY_PENDING_KEY = 'wallet/recovery-pending';
/**
 * Set when another device took this wallet over. A fenced device must never start its node without
 * the LSP (it cannot learn that its state is old, and a force close would publish a revoked
 * commitment); its next online start sees the newer copy and recovers instead.
 */
export const FENCED_KEY = 'wallet/fenced';
const LEASE_TTL_SEC = 3600;

const deviceCopyDbName = (walletId: string) => `lpw-backup-copy-${walletId}`;

/** The newest backup the LSP acknowledged, kept on this device (written with each backup). */
export class DeviceCopy {
  private constructor(private readonly db: UseStore) {}

  static open(walletId: string): DeviceCopy {
    return new DeviceCopy(createStore(deviceCopyDbName(walletId), 'copy'));
  }

  async read(): Promise<Uint8Array | undefined> {
    return idbGet<Uint8Array>('latest', this.db);
  }

  write(blob: Uint8Array): Promise<void> {
    return idbSet('latest', blob, this.db);
  }

  /** The blob being uploaded now (written before the put; see `isOwnUpload`). */
  writePending(blob: Uint8Array): Promise<void> {
    return idbSet('pending', blob, this.db);
  }

  /**
   * Whether `blob` (the LSP's copy) is exactly the upload this device sent last: a reload after the
   * LSP stored it but before the device copy was written leaves the LSP one version ahead of the
   * device copy, and that is this device's own state, not another device's. The bytes are compared
   * whole (they are signed and encrypted with this wallet's keys, so no one else can make them).
   */
  async isOwnUpload(blob: Uint8Array | undefined): Promise<boolean> {
    const pending = await idbGet<Uint8Array>('pending', this.db).catch(() => undefined);
    return blob !== undefined && pending !== undefined && equalBytes(blob, pending);
  }

  /** The copy, checked (undefined when there is none or it fails a check). */
  async decoded(expect: { nodeId: string; keys: BackupKeys }): Promise<DecodedBackup | undefined> {
    const blob = await this.read().catch(() => undefined);
    if (!blob) return undefined;
    try {
      return await decodeBackup(blob, expect);
    } catch (error) {
      if (error instanceof BackupError) return undefined;
      throw error;
    }
  }
}

/**
 * A code to act on: LSP_BUSY when the LSP kept refusing for load (its message says when to come
 * back), the server's ApiError code, or UNREACHABLE when no answer came back.
 */
export function lspErrorCode(error: unknown): LspErrorCode {
  if (isLspBusy(error)) return 'LSP_BUSY';
  // the binary backup routes answer JSON { code }; the package keeps the LSP's code in details
  if (error instanceof BackupError) {
    const lspCode = error.details.lspCode;
    return typeof lspCode === 'string' ? (lspCode as LspErrorCode) : error.code;
  }
  if (error instanceof TRPCClientError) {
    const app = apiErrorCode(error);
    if (app) return app;
    if (error.cause instanceof TypeError || /fetch|network/i.test(error.message)) return 'UNREACHABLE';
    return (error.data as { code?: TrpcErrorCode } | undefined)?.code ?? 'LSP_ERROR';
  }
  return 'UNREACHABLE';
}

/** tRPC refusals as the uploader's BackupErrors; the session renews itself on SESSION_EXPIRED. */
function asBackupError(error: unknown): unknown {
  if (error instanceof BackupError) return error;
  const code = lspErrorCode(error);
  const app = (error as { data?: { app?: { details?: Record<string, unknown> } } }).data?.app;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'LEASE_HELD' || code === 'LEASE_FENCED')
    return new BackupError(code, message, app?.details ?? {});
  return new BackupError('BACKUP_UNAVAILABLE', message, { lspCode: code });
}

/** The LSP as the uploader sees it; `client()` is read at each call (it exists once the LSP answered). */
export function lspBackupTransport(client: () => LspClient | undefined): BackupTransport {
  const use = async <T>(call: (c: LspClient) => Promise<T>): Promise<T> => {
    const c = client();
    if (!c) throw new BackupError('BACKUP_UNAVAILABLE', 'not connected to the LSP yet');
    try {
      return await c.session(() => call(c), lspErrorCode);
    } catch (error) {
      throw asBackupError(error);
    }
  };
  const blobs = (c: LspClient) =>
    httpBlobClient({ baseUrl: c.url, token: () => c.session(async () => c.token ?? '') });
  return {
    acquireLease: (r) =>
      use(async (c) => {
        const lease = await c.trpc.backup.acquireLease.mutate({
          ...r,
          ttlSec: Math.min(r.ttlSec, LEASE_TTL_SEC),
        });
        return {
          fencingToken: lease.fencingToken,
          deviceId: lease.deviceId,
          expiresAtMs: Date.parse(lease.expiresAt),
        };
      }),
    releaseLease: (fencingToken) =>
      use(async (c) => {
        await c.trpc.backup.releaseLease.mutate({ fencingToken });
      }),
    currentVersion: (key) =>
      use(async (c) => (await c.trpc.backup.list.query()).entries.find((e) => e.key === key)?.version ?? 0),
    put: (key, blob, request) => use((c) => blobs(c).put(key, blob, request)),
    get: (key) => use((c) => blobs(c).get(key)),
  };
}
