// In-memory Store for tests and throwaway nodes. Optional `delayMs` turns it into an asynchronous
// store (commits resolve later, in order) to exercise LDK's InProgress persistence path.
import type { Store, StoreWrite } from './store.ts';

export interface MemoryStoreOptions {
  /** Make `commit` asynchronous, resolving after this many milliseconds (in commit order). */
  delayMs?: number;
  /** Start from these contents (e.g. a copy of another store's data to simulate a restart). */
  initial?: Map<string, Uint8Array>;
}

export class MemoryStore implements Store {
  readonly data: Map<string, Uint8Array>;
  commits = 0;
  private readonly delayMs: number | undefined;
  private tail: Promise<void> = Promise.resolve();
  /** Set to make the next commits fail (tests of PERSISTENCE_FAILED handling). */
  failNext = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.data = new Map(options.initial ?? []);
    this.delayMs = options.delayMs;
  }

  async load(): Promise<Map<string, Uint8Array>> {
    return new Map(this.data);
  }

  commit(writes: StoreWrite[]): void | Promise<void> {
    const copy = writes.map((w) => ({
      key: w.key,
      value: w.value === null ? null : Uint8Array.from(w.value),
    }));
    if (this.delayMs === undefined) {
      this.apply(copy);
      return;
    }
    const delay = this.delayMs;
    this.tail = this.tail.then(
      () =>
        new Promise<void>((resolve, reject) => {
          setTimeout(() => {
            try {
              this.apply(copy);
              resolve();
            } catch (e) {
              reject(e);
            }
          }, delay);
        }),
    );
    return this.tail;
  }

  /** A snapshot of the durable contents, e.g. to start a "restarted" node from. */
  snapshot(): Map<string, Uint8Array> {
    return new Map(this.data);
  }

  async close(): Promise<void> {
    await this.tail;
  }

  private apply(writes: StoreWrite[]): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('MemoryStore: injected commit failure');
    }
    for (const { key, value } of writes) {
      if (value === null) this.data.delete(key);
      else this.data.set(key, value);
    }
    this.commits++;
  }
}
