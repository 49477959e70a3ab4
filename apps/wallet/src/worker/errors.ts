// One shape for every failure the worker reports (a code the UI picks its words by, and a message).
import { BackupError } from '@lpw/backup';
import { isNodeError } from '@lpw/node';
import { isStreamError } from '@lpw/stream';
import { VaultError } from '../lib/vault.ts';
import { lspErrorCode } from './backup.ts';
import { WalletCommandError, type WorkerFailure } from './protocol.ts';

export function describeError(error: unknown): WorkerFailure {
  if (error instanceof WalletCommandError) return { code: error.code, message: error.message };
  if (isStreamError(error)) return { code: error.code, message: error.message };
  if (isNodeError(error)) return { code: error.code, message: error.message };
  if (error instanceof BackupError || error instanceof VaultError)
    return { code: error.code, message: error.message };
  const code = lspErrorCode(error);
  return { code, message: error instanceof Error ? error.message : String(error) };
}
