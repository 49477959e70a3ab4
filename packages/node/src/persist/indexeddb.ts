// IndexedDB Store for the browser (the wallet's Web Worker). Raw IndexedDB, because one commit must
// cover several keys: every write of a batch goes into ONE readwrite transaction opened with
// `durability: "strict"`, and the commit resolves only on the transaction's `complete` event (the
// data is on disk), rejects on `error`/`abort` (then none of it is).
import type { Store, StoreWrite } from './store.ts';

const OBJECT_STORE = 'kv';
const DB_VERSION = 1;

export class IndexedDbStoreError extends Error {
  override readonly name = 'IndexedDbStoreError';
}

function requestPromise<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new IndexedDbStoreError('IndexedDB request failed'));
  });
}

/** A copy of exactly the view's bytes: structured clone of a view copies its whole buffer (WASM memory). */
function ownBytes(value: Uint8Array): Uint8Array {
  return value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value : value.slice();
}

export class IndexedDbStore implements Store {
  private constructor(
    private readonly db: IDBDatabase,
    readonly name: string,
  ) {
    // another context deleting or upgrading the database: let it, never block it
    db.onversionchange = () => db.close();
  }

  private pending = new Set<Promise<void>>();
  private closed = false;

  /**
   * Opens (creating when absent) the database `name`.
   * @example const store = await IndexedDbStore.open('lpw-node-<walletId>');
   */
  static async open(name: string, factory: IDBFactory = globalThis.indexedDB): Promise<IndexedDbStore> {
    if (!factory) throw new IndexedDbStoreError('IndexedDB is not available in this context');
    const request = factory.open(name, DB_VERSION);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(OBJECT_STORE)) {
        request.result.createObjectStore(OBJECT_STORE);
      }
    };
    request.onblocked = () => {
      /* an older connection is closing (onversionchange); open resolves after it */
    };
    return new IndexedDbStore(await requestPromise(request), name);
  }

  async load(): Promise<Map<string, Uint8Array>> {
    const tx = this.db.transaction(OBJECT_STORE, 'readonly');
    const store = tx.objectStore(OBJECT_STORE);
    const [keys, values] = await Promise.all([
      requestPromise(store.getAllKeys()),
      requestPromise(store.getAll() as IDBRequest<unknown[]>),
    ]);
    const data = new Map<string, Uint8Array>();
    keys.forEach((key, i) => {
      const value = values[i];
      if (typeof key !== 'string' || !(value instanceof Uint8Array)) {
        throw new IndexedDbStoreError(`unexpected entry ${String(key)} in ${this.name}`);
      }
      data.set(key, value);
    });
    return data;
  }

  commit(writes: StoreWrite[]): Promise<void> {
    if (this.closed) return Promise.reject(new IndexedDbStoreError('store is closed'));
    const done = new Promise<void>((resolve, reject) => {
      let tx: IDBTransaction;
      try {
        tx = this.db.transaction(OBJECT_STORE, 'readwrite', { durability: 'strict' });
      } catch (error) {
        reject(error);
        return;
      }
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error ?? new IndexedDbStoreError('IndexedDB transaction aborted'));
      tx.onerror = () => {
        /* abort follows and rejects with the cause */
      };
      const store = tx.objectStore(OBJECT_STORE);
      try {
        for (const { key, value } of writes) {
          if (value === null) store.delete(key);
          else store.put(ownBytes(value), key);
        }
      } catch (error) {
        tx.abort();
        reject(error);
      }
    });
    this.pending.add(done);
    const forget = () => this.pending.delete(done);
    done.then(forget, forget);
    return done;
  }

  /** Waits for commits in flight, then closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.pending]);
    this.db.close();
  }

  /** Deletes the database `name` (e.g. before restoring a wallet from its backup). */
  static async destroy(name: string, factory: IDBFactory = globalThis.indexedDB): Promise<void> {
    await requestPromise(factory.deleteDatabase(name) as IDBRequest<unknown>);
  }
}
