// PostgreSQL backend (pg): a pool for single statements, one checked-out client per transaction.
// Each store lives in its own schema (default "public"), which also isolates parallel test runs.
import pg from 'pg';
import type { Db, SqlValue } from './db.ts';

/** `?` → `$1, $2, …` (our SQL never has `?` inside literals). */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

const conv = (params: SqlValue[]) =>
  params.map((p) => (typeof p === 'bigint' ? p.toString() : p instanceof Uint8Array ? Buffer.from(p) : p));

export async function openPostgres(
  url: string,
  options: { schema?: string; poolSize?: number } = {},
): Promise<Db> {
  const schema = options.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    options: `-c search_path=${schema}`,
  });
  // a pool error on an idle client must not crash the process; the next query reports it
  pool.on('error', () => {});
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);

  const over = (q: pg.Pool | pg.PoolClient): Omit<Db, 'transaction' | 'close'> => ({
    dialect: 'postgres',
    async all(sql, params = []) {
      return (await q.query(numbered(sql), conv(params))).rows;
    },
    async run(sql, params = []) {
      return (await q.query(numbered(sql), conv(params))).rowCount ?? 0;
    },
  });

  return {
    ...over(pool),
    async transaction(body, options) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        if (options?.relaxed) await client.query('SET LOCAL synchronous_commit TO OFF');
        const tx: Db = {
          ...over(client),
          transaction: () => Promise.reject(new Error('store: nested transaction')),
          close: () => Promise.reject(new Error('store: close inside a transaction')),
        };
        const out = await body(tx);
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/**
 * A Db on one connection the caller owns (the hot-standby lock's session, standby.ts): everything it
 * writes is written by that session or not at all. Statements and transactions take turns, since one
 * connection runs one at a time; `close()` leaves the connection to its owner.
 */
export function sessionDb(client: pg.ClientBase): Db {
  let queue: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const turn = queue.then(work);
    queue = turn.catch(() => {});
    return turn;
  };
  const direct: Omit<Db, 'transaction' | 'close'> = {
    dialect: 'postgres',
    async all(sql, params = []) {
      return (await client.query(numbered(sql), conv(params))).rows;
    },
    async run(sql, params = []) {
      return (await client.query(numbered(sql), conv(params))).rowCount ?? 0;
    },
  };
  return {
    dialect: 'postgres',
    all: (sql, params) => inTurn(() => direct.all(sql, params)),
    run: (sql, params) => inTurn(() => direct.run(sql, params)),
    transaction: (body, options) =>
      inTurn(async () => {
        await client.query('BEGIN');
        try {
          if (options?.relaxed) await client.query('SET LOCAL synchronous_commit TO OFF');
          const out = await body({
            ...direct,
            transaction: () => Promise.reject(new Error('store: nested transaction')),
            close: () => Promise.reject(new Error('store: close inside a transaction')),
          });
          await client.query('COMMIT');
          return out;
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {});
          throw e;
        }
      }),
    async close() {},
  };
}
