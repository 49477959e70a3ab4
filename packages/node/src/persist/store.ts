// The one persistence interface of a node. Adapters: memory and SQLite (synchronous commits),
// IndexedDB and PostgreSQL (asynchronous commits). The node reads everything once at start and
// keeps a mirror in memory, so LDK's synchronous reads never wait on I/O.

/** One write of an atomic commit; `value: null` deletes the key. */
export interface StoreWrite {
  key: string;
  value: Uint8Array | null;
}

export interface Store {
  /** Every key and value, read once when the node starts. */
  load(): Promise<Map<string, Uint8Array>>;
  /**
   * Apply all writes in one transaction. Synchronous adapters return once the data is durable;
   * asynchronous ones return a promise that resolves once it is. Either way, nothing is visible
   * after a crash unless all of it is.
   */
  commit(writes: StoreWrite[]): void | Promise<void>;
  close(): Promise<void>;
}
