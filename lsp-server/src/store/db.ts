// The SQL seam both backends speak: `?` placeholders, plain rows, and transactions that hold the
// connection for their whole body. The store's logic above it is written once.

export type SqlValue = string | number | bigint | Uint8Array | null;
export type Row = Record<string, unknown>;
export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  readonly dialect: Dialect;
  all(sql: string, params?: SqlValue[]): Promise<Row[]>;
  /** Rows changed. */
  run(sql: string, params?: SqlValue[]): Promise<number>;
  /**
   * Body runs on one connection inside BEGIN … COMMIT; a throw rolls back and rethrows.
   * `relaxed`: the commit does not wait for the disk (SQLite synchronous=NORMAL, PostgreSQL
   * synchronous_commit=off): still atomic, and a crash of the process loses nothing, but a power cut
   * may lose it (never half of it). For what can be redone, never for channel state.
   */
  transaction<T>(body: (tx: Db) => Promise<T>, options?: { relaxed?: boolean }): Promise<T>;
  close(): Promise<void>;
}

export async function one(db: Db, sql: string, params?: SqlValue[]): Promise<Row | undefined> {
  return (await db.all(sql, params))[0];
}

/** BIGINT columns come back as strings from pg and numbers from SQLite; we keep ms and counters < 2^53. */
export function num(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`store: expected a safe integer, got ${String(value)}`);
  return n;
}

export function bytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new Error('store: expected bytes');
}
