// The CLI's channel-state backups on @lpw/backup: how it reaches the LSP (leases and versions over
// tRPC, blobs over the binary routes, a session renewed when it expires), the rule that a wallet
// never uploads fewer channels than the LSP's copy holds, and the choice of copy at restore.
import {
  type BackupChoice,
  BackupError,
  type BackupHeader,
  type BackupKeys,
  type BackupTransport,
  chooseNewest,
  countChannels,
  decodeBackup,
  httpBlobClient,
  isBackupError,
  readBackupHeader,
  selectBackedUp,
} from '@lpw/backup';
import { type LspClient, lspErrorCode } from '@lpw/lsp-server/client';
import { nodeIdentity } from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import {
  createFileAtomic,
  DEVICE_COPY_FILE,
  readDeviceCopy,
  readSavedStatus,
  type SavedBackupStatus,
} from './device-copy.ts';
import { CliError, fromBackupError } from './errors.ts';
import { readSeedFile } from './seed.ts';

/**
 * The uploader's view of the LSP, through the client's session (logged in before: it logs in again
 * when the session expired, as a stream runs for days and a session for an hour).
 */
export function lspTransport(client: LspClient): BackupTransport {
  const blobs = httpBlobClient({ baseUrl: client.url, token: () => client.token ?? '' });
  // tRPC refusals become the BackupErrors the uploader acts on; anything else is "unavailable"
  const trpc = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await client.session(call);
    } catch (error) {
      if (isBackupError(error)) throw error;
      const code = lspErrorCode(error);
      const message = error instanceof Error ? error.message : String(error);
      if (code === 'LEASE_HELD' || code === 'LEASE_FENCED') {
        const details = (
          error as { data?: { app?: { details?: { deviceId?: string; expiresAt?: string } } } }
        ).data?.app?.details;
        throw new BackupError(code, message, {
          deviceId: details?.deviceId,
          expiresAtMs: details?.expiresAt ? Date.parse(details.expiresAt) : undefined,
        });
      }
      throw new BackupError('BACKUP_UNAVAILABLE', `LSP: ${message}`, { lspCode: code }, { cause: error });
    }
  };
  return {
    acquireLease: (request) =>
      trpc(async () => {
        const lease = await client.trpc.backup.acquireLease.mutate(request);
        return { ...lease, expiresAtMs: Date.parse(lease.expiresAt) };
      }),
    releaseLease: (fencingToken) =>
      trpc(async () => {
        await client.trpc.backup.releaseLease.mutate({ fencingToken });
      }),
    currentVersion: (key) =>
      trpc(async () => {
        const { entries } = await client.trpc.backup.list.query();
        return entries.find((e) => e.key === key)?.version ?? 0;
      }),
    put: (key, blob, request) => client.session(() => blobs.put(key, blob, request)),
    get: (key) => client.session(() => blobs.get(key)),
  };
}

/** LEASE_HELD in words: who holds the wallet and until when. */
export function leaseHeld(error: BackupError, deviceId: string): CliError {
  const holder = typeof error.details.deviceId === 'string' ? error.details.deviceId : 'another device';
  const until =
    typeof error.details.expiresAtMs === 'number' && Number.isFinite(error.details.expiresAtMs)
      ? new Date(error.details.expiresAtMs).toISOString()
      : 'its lease ends';
  return new CliError(
    'LEASE_HELD',
    `this wallet runs on ${holder} (this directory is ${deviceId}) and its lease at the LSP lasts until ${until}: two copies of one wallet running at once could lose the channel's money, so this one does not start. Stop it there (its lease ends at once), or wait until then.`,
    { cause: error },
  );
}

/**
 * Refuses to let `ours` replace the LSP's copy when it holds fewer channels, unless our state
 * descends from a copy at least as new as the LSP's (`lineageVersion`: the version of the copy this
 * directory last uploaded or restored from; channels legitimately go away once closed).
 * A remote copy whose header cannot be read may hold channels we cannot count: refused as well.
 */
export function checkNotFewerChannels(
  remote: { blob: Uint8Array; version: number } | undefined,
  ours: ReadonlyMap<string, Uint8Array>,
  lineageVersion: number,
): void {
  if (!remote || remote.version <= lineageVersion) return;
  const ourChannels = countChannels(selectBackedUp(ours));
  let header: ReturnType<typeof readBackupHeader>;
  try {
    header = readBackupHeader(remote.blob);
  } catch (error) {
    if (!isBackupError(error)) throw error;
    throw new CliError(
      'BACKUP_FEWER_CHANNELS',
      `the LSP holds a backup of this wallet (version ${remote.version}) that cannot be read (${error.code}: ${error.message}), so its channels cannot be counted; this wallet will not replace it with its own state of ${ourChannels} channel(s). Restore from a backup file (lpw-wallet init --words "…" --backup-file FILE --dir NEW_DIR).`,
      { cause: error },
    );
  }
  if (ourChannels >= header.channels || lineageVersion >= header.version) return;
  throw new CliError(
    'BACKUP_FEWER_CHANNELS',
    `the LSP holds a backup of this wallet with ${header.channels} channel(s) (version ${header.version}, made ${new Date(header.createdAtMs).toISOString()}); this directory's state has ${ourChannels}, and uploading it would replace that backup. Nothing was uploaded. If that backup is this wallet's latest, restore it into a new directory (lpw-wallet init --words "…" --dir NEW_DIR); if another directory runs this wallet, run it there.`,
  );
}

export interface RestoreChoice extends BackupChoice {
  /** What the chosen copy holds (undefined: words only). */
  summary: { source: 'lsp' | 'file'; version: number; channels: number; createdAtMs: number } | undefined;
}

/**
 * The newest valid copy among the LSP's and a file's. A file the person named must be valid (it is
 * their explicit choice: a bad one is a typed error, not silently skipped); the LSP's may be missing,
 * old or broken, which the rollback report says.
 */
export async function chooseRestore(
  lsp: Uint8Array | undefined,
  file: Uint8Array | undefined,
  expect: { nodeId: string; keys: BackupKeys },
): Promise<RestoreChoice> {
  const choice = await chooseNewest(
    [{ source: 'lsp', blob: lsp }, ...(file ? [{ source: 'file' as const, blob: file }] : [])],
    expect,
  );
  const chosen = choice.chosen;
  return {
    ...choice,
    summary: chosen && {
      source: chosen.source === 'file' ? 'file' : 'lsp',
      version: chosen.header.version,
      channels: chosen.header.channels,
      createdAtMs: chosen.header.createdAtMs,
    },
  };
}

/** Checks a backup file before anything else happens (a bad one changes nothing). */
export async function checkBackupFile(
  blob: Uint8Array,
  path: string,
  expect: { nodeId: string; keys: BackupKeys },
): Promise<void> {
  try {
    await decodeBackup(blob, expect);
  } catch (error) {
    if (isBackupError(error)) throw fromBackupError(error, `the backup file ${path}`);
    throw error;
  }
}

/**
 * Writes this wallet's latest durable backup (its device copy, the one the LSP also holds) to a new
 * file `path`, atomically, after checking that it opens with the wallet's keys. Needs no LSP and no
 * lock: the device copy is only ever replaced whole.
 */
export async function exportBackup(dir: string, path: string): Promise<BackupHeader> {
  const secrets = readSeedFile(dir);
  const blob = readDeviceCopy(dir);
  if (!blob)
    throw new CliError(
      'BACKUP_NONE',
      `no backup in ${dir} yet: the wallet writes ${DEVICE_COPY_FILE} once the LSP holds its first backup`,
    );
  await initLdkNode();
  const { nodeId } = nodeIdentity(secrets.nodeSeed);
  let header: BackupHeader;
  try {
    header = (await decodeBackup(blob, { nodeId, keys: secrets.backupKeys })).header;
  } catch (error) {
    throw isBackupError(error) ? fromBackupError(error, `this wallet's ${DEVICE_COPY_FILE}`) : error;
  }
  createFileAtomic(path, blob);
  return header;
}

export interface BackupReport {
  /** This directory's copy of its latest durable backup (undefined: none yet). */
  copy: { version: number; createdAtMs: number; channels: number; bytes: number } | undefined;
  /** The uploader's status as of its last change (in this run or the last one). */
  status: SavedBackupStatus | undefined;
}

/** What `backup status` shows; reads files only (the wallet may be running in another process). */
export function backupReport(dir: string): BackupReport {
  readSeedFile(dir); // a wallet directory, and its seed file private
  const blob = readDeviceCopy(dir);
  let copy: BackupReport['copy'];
  if (blob) {
    const header = readBackupHeader(blob);
    copy = {
      version: header.version,
      createdAtMs: header.createdAtMs,
      channels: header.channels,
      bytes: blob.length,
    };
  }
  return { copy, status: readSavedStatus(dir) };
}
