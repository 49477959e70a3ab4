// Which wallets' backups are failing: the outcome of each wallet's latest backup write, in memory
// (a restart forgets it; the next write of each wallet tells again). A wallet is failing while its
// latest write was refused; a later success clears it.

export interface BackupFailure {
  nodeId: string;
  code: string;
  atMs: number;
}

export class BackupHealth {
  private readonly failing = new Map<string, BackupFailure>();
  /** Refused writes since start (the sampler takes the difference between samples). */
  failures = 0;

  succeeded(nodeId: string): void {
    this.failing.delete(nodeId);
  }

  failed(nodeId: string, code: string, atMs: number): void {
    this.failures++;
    this.failing.set(nodeId, { nodeId, code, atMs });
  }

  /** Wallets whose latest backup write was refused, most recent first. */
  failingWallets(): BackupFailure[] {
    return [...this.failing.values()].sort((a, b) => b.atMs - a.atMs);
  }

  failure(nodeId: string): BackupFailure | undefined {
    return this.failing.get(nodeId);
  }
}
