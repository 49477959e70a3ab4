// Group commit: writes asked for in one turn of the event loop reach the store together, in one
// transaction, so one commit (and on SQLite one write of the log, on the LSP's only thread) serves
// all of them. The more requests pile up, the more each commit carries; alone, a write waits for
// nothing but the end of the current turn.

export class GroupCommit<T, R> {
  private pending: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  private flushing = false;

  /** `commit` writes all `items` in one transaction and answers for each, in order. */
  constructor(private readonly commit: (items: T[]) => Promise<R[]>) {}

  /** Resolves with `item`'s answer once the transaction carrying it has committed. */
  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length === 1 && !this.flushing) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    // what arrives while a commit is in flight (an asynchronous store) goes in the next one
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        const results = await this.commit(batch.map((p) => p.item));
        for (const [i, p] of batch.entries()) p.resolve(results[i]!);
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.flushing = false;
  }
}
