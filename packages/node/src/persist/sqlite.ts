// Node-only SQLite Store (better-sqlite3): WAL journal, synchronous=FULL, one transaction per commit,
// so a commit has returned only once it is durable. Exported as `@lpw/node/sqlite`.
import Database from 'better-sqlite3';
import type { Store, StoreWrite } from './store.ts';

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly put: Database.Statement<[string, Uint8Array]>;
  private readonly del: Database.Statement<[string]>;
  private readonly applyAll: (writes: StoreWrite[]) => void;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID',
    );
    this.put = this.db.prepare(
      'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    this.del = this.db.prepare('DELETE FROM kv WHERE key = ?');
    this.applyAll = this.db.transaction((writes: StoreWrite[]) => {
      for (const { key, value } of writes) {
        if (value === null) this.del.run(key);
        else this.put.run(key, value);
      }
    });
  }

  async load(): Promise<Map<string, Uint8Array>> {
    const rows = this.db.prepare('SELECT key, value FROM kv').all() as { key: string; value: Buffer }[];
    return new Map(
      rows.map((r) => [r.key, new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.byteLength)]),
    );
  }

  commit(writes: StoreWrite[]): void {
    this.applyAll(writes);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
