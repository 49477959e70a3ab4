// Encrypted backups the LSP keeps but cannot read: per-wallet versioned blobs with compare-and-swap,
// written only under the newest device lease (fencing token), so two devices never interleave.
import * as z from 'zod/mini';
import { u32 } from './amounts.ts';
import { isoDatetime } from './lsps2.ts';
import { checked } from './schema.ts';

export const MAX_BACKUP_BLOB_BYTES = 4 * 1024 * 1024;
export const MAX_BACKUP_KEYS = 256;

/** Key names are the wallet's own (e.g. "channel-manager", "monitors"); no paths, no control bytes. */
export const backupKey = checked(
  z.string(),
  z.regex(/^[A-Za-z0-9._-]{1,128}$/, 'expected 1–128 of [A-Za-z0-9._-]'),
);
/** Standard base64 with padding. */
export const base64Blob = checked(
  z.string(),
  z.maxLength(Math.ceil(MAX_BACKUP_BLOB_BYTES / 3) * 4, 'blob too large'),
  z.regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'expected base64'),
);

/** Versions only grow; v2 headers carry a u64, of which the safe-integer range is used. */
export const backupVersion = checked(z.number(), z.int(), z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER));

export const deviceId = checked(
  z.string(),
  z.regex(/^[A-Za-z0-9_-]{8,64}$/, 'expected 8–64 of [A-Za-z0-9_-]'),
);
/** Fencing tokens are positive integers, monotonic per wallet. */
export const fencingToken = checked(z.number(), z.int(), z.minimum(1), z.maximum(Number.MAX_SAFE_INTEGER));

export const acquireLeaseInput = z.strictObject({
  deviceId,
  ttlSec: checked(z.number(), z.int(), z.minimum(10), z.maximum(3600)),
  /**
   * true (the default): take the lease even from another device (a new phone wins; the old one is
   * fenced). false: refuse with LEASE_HELD (holder's deviceId and expiresAt in details) while another
   * device holds an unexpired lease; the same device renews.
   */
  takeOver: z.optional(z.boolean()),
});
export const leaseOutput = z.object({ fencingToken, deviceId, expiresAt: isoDatetime });
export type LeaseOutput = z.infer<typeof leaseOutput>;

export const releaseLeaseInput = z.strictObject({ fencingToken });

export const backupPutInput = z.strictObject({
  key: backupKey,
  /** The version the writer last saw: 0 to create. The write lands as `version + 1`. */
  version: backupVersion,
  blob: base64Blob,
  leaseToken: fencingToken,
});
export const backupPutOutput = z.object({ key: backupKey, version: backupVersion });

export const backupGetInput = z.strictObject({ key: backupKey });
export const backupEntry = z.object({
  key: backupKey,
  version: backupVersion,
  blob: base64Blob,
  updatedAt: isoDatetime,
});
export const backupGetOutput = z.nullable(backupEntry);
export const backupListOutput = z.object({
  entries: z.array(z.object({ key: backupKey, version: backupVersion, size: u32, updatedAt: isoDatetime })),
});
