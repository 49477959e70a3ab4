// Which wallets' backups are failing: the outcome of each wallet's latest backup write. Kept in the
// LSP's database once attached to a store (createLsp does), so a restart still shows the wallets
// that were failing; mirrored in memory so the alert and the page read it without a query, and a
// stored write costs a database write only when it ends a failure.
import type { BackupFailureRecord, LspStore } from '../store/types.ts';

export type BackupFailure = BackupFailureRecord;

export class BackupHealth {
  private readonly failing = new Map<string, BackupFailure>();
  private store: Pick<LspStore, 'putBackupFailure' | 'clearBackupFailure' | 'listBackupFailures'> | undefined;
  /** Refused writes since start (the sampler takes the difference between samples). */
  failures = 0;

  /** Loads the failing wallets from `store` and writes every change there from now on. */
  async attach(
    store: Pick<LspStore, 'putBackupFailure' | 'clearBackupFailure' | 'listBackupFailures'>,
  ): Promise<void> {
    this.store = store;
    this.failing.clear();
    for (const f of await store.listBackupFailures()) this.failing.set(f.nodeId, f);
  }

  async succeeded(nodeId: string): Promise<void> {
    if (!this.failing.delete(nodeId)) return;
    await this.store?.clearBackupFailure(nodeId);
  }

  async failed(nodeId: string, code: string, atMs: number): Promise<void> {
    this.failures++;
    const failure = { nodeId, code, atMs };
    this.failing.set(nodeId, failure);
    await this.store?.putBackupFailure(failure);
  }

  /** Wallets whose latest backup write was refused, most recent first. */
  failingWallets(): BackupFailure[] {
    return [...this.failing.values()].sort((a, b) => b.atMs - a.atMs);
  }

  failure(nodeId: string): BackupFailure | undefined {
    return this.failing.get(nodeId);
  }
}
