// The wallet's own copy of its latest durable backup, beside its data (`backup.lpwb`): the copy the
// LSP does not control, and the line this directory's state descends from. Written atomically
// (temp file, fsync, rename, fsync of the directory): a crash leaves the old copy or the new one,
// never a torn file. `backup-status.json` keeps the uploader's last status for `backup status`,
// readable while another process runs the wallet.
import {
  closeSync,
  constants,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { UploaderStatus } from '@lpw/backup';
import { CliError } from './errors.ts';

export const DEVICE_COPY_FILE = 'backup.lpwb';
export const STATUS_FILE = 'backup-status.json';

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A temp file beside `path` holding `bytes`, durable (fsync'd). */
function durableTemp(path: string, bytes: Uint8Array): string {
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
  try {
    writeAll(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temp;
}

/** Replaces `path` with `bytes` atomically and durably. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const temp = durableTemp(path, bytes);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  fsyncDir(dirname(path));
}

/** Creates `path` with `bytes` atomically and durably; refuses (ALREADY_EXISTS-like) if it exists. */
export function createFileAtomic(path: string, bytes: Uint8Array): void {
  const temp = durableTemp(path, bytes);
  try {
    linkSync(temp, path); // atomic, and fails when the name is taken
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new CliError('INVALID_INPUT', `${path} exists: choose another file name`);
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
  fsyncDir(dirname(path));
}

/** The file's bytes, or undefined when there is no such file. */
export function readIfPresent(path: string): Uint8Array | undefined {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export const writeDeviceCopy = (dir: string, blob: Uint8Array) =>
  writeFileAtomic(join(dir, DEVICE_COPY_FILE), blob);
export const readDeviceCopy = (dir: string) => readIfPresent(join(dir, DEVICE_COPY_FILE));

/** What `backup status` shows: the uploader's status as of its last change, kept across runs. */
export interface SavedBackupStatus {
  version: number;
  /** When a backup last became durable at the LSP (ms), in this run or an earlier one. */
  lastGoodAt: number | null;
  behindBy: number;
  problem: { code: string; message: string } | null;
  fenced: boolean;
  lastBlobBytes: number | null;
  updatedAt: number;
}

export function readSavedStatus(dir: string): SavedBackupStatus | undefined {
  const bytes = readIfPresent(join(dir, STATUS_FILE));
  if (!bytes) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as SavedBackupStatus;
  } catch {
    return undefined; // a status is a convenience: an unreadable one is as good as none
  }
}

/**
 * Saves the uploader's status (atomically, not fsync'd: losing the newest status in a crash costs
 * nothing but a stale `backup status`). The last good time survives runs.
 */
export function saveStatus(dir: string, status: UploaderStatus, previous: SavedBackupStatus | undefined) {
  const saved: SavedBackupStatus = {
    version: status.version,
    lastGoodAt: status.lastGoodAt ?? previous?.lastGoodAt ?? null,
    behindBy: status.behindBy,
    problem: status.problem ? { code: status.problem.code, message: status.problem.message } : null,
    fenced: status.fenced,
    lastBlobBytes: status.lastBlobBytes ?? previous?.lastBlobBytes ?? null,
    updatedAt: Date.now(),
  };
  const path = join(dir, STATUS_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
  try {
    writeAll(fd, new TextEncoder().encode(JSON.stringify(saved)));
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  return saved;
}
