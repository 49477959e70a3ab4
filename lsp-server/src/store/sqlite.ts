// SQLite backend (better-sqlite3): WAL, synchronous=FULL. better-sqlite3 is synchronous, so a
// transaction whose body awaits must not let another request's statements slip in between: every
// operation goes through one FIFO lock, and a transaction holds it from BEGIN to COMMIT.
import Database from 'better-sqlite3';
import type { Db, Row, SqlValue } from './db.ts';

export function openSqlite(path: string): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  let tail: Promise<unknown> = Promise.resolve();

  const locked = <T>(work: () => Promise<T> | T): Promise<T> => {
    const result = tail.then(work);
    tail = result.catch(() => {});
    return result;
  };
  // prepared once per SQL text (the store's statements are a fixed set): preparing on every call
  // showed in the LSP's profile under forwarding load
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string) => {
    let stmt = statements.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      statements.set(sql, stmt);
    }
    return stmt;
  };
  const conv = (params: SqlValue[]) =>
    params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p) : p));
  const direct: Db = {
    dialect: 'sqlite',
    async all(sql, params = []) {
      const stmt = prepare(sql);
      if (stmt.reader) return stmt.all(...conv(params)) as Row[];
      stmt.run(...conv(params));
      return [];
    },
    async run(sql, params = []) {
      return prepare(sql).run(...conv(params)).changes;
    },
    transaction: () => Promise.reject(new Error('store: nested transaction')),
    close: () => Promise.reject(new Error('store: close inside a transaction')),
  };

  return {
    dialect: 'sqlite',
    all: (sql, params) => locked(() => direct.all(sql, params)),
    run: (sql, params) => locked(() => direct.run(sql, params)),
    transaction: (body, options) =>
      locked(async () => {
        // WAL with NORMAL: this commit is not fsynced (it blocks the thread), the next FULL one
        // (the node's) fsyncs the log with it in; the pragma is the connection's, so it goes back
        if (options?.relaxed) db.pragma('synchronous = NORMAL');
        db.exec('BEGIN IMMEDIATE');
        try {
          const out = await body(direct);
          db.exec('COMMIT');
          return out;
        } catch (e) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw e;
        } finally {
          if (options?.relaxed) db.pragma('synchronous = FULL');
        }
      }),
    close: () =>
      locked(async () => {
        db.close();
      }),
  };
}
