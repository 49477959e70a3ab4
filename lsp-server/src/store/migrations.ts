// Versioned schema: numbered migrations, one SQL text per step with the few dialect differences
// spelled as tokens. Applied in order inside a transaction, recorded in schema_migrations.
import type { Db, Dialect } from './db.ts';

const TOKENS: Record<Dialect, Record<string, string>> = {
  sqlite: { BLOB: 'BLOB', AUTOID: 'INTEGER PRIMARY KEY AUTOINCREMENT' },
  postgres: { BLOB: 'BYTEA', AUTOID: 'BIGSERIAL PRIMARY KEY' },
};

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'accounts, auth, jit, forwards, orders, backups, node kv',
    sql: `
CREATE TABLE wallets (
  node_id TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL,
  last_login_at BIGINT NOT NULL
);
CREATE TABLE auth_challenges (
  challenge TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  node_id TEXT NOT NULL REFERENCES wallets(node_id),
  expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);
CREATE TABLE jit_purchases (
  scid TEXT PRIMARY KEY,
  node_id TEXT NOT NULL REFERENCES wallets(node_id),
  params TEXT NOT NULL,
  payment_size_msat TEXT,
  opening_fee_msat TEXT,
  state TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX jit_purchases_wallet ON jit_purchases(node_id, created_at);
CREATE TABLE forwards (
  id {{AUTOID}},
  node_id TEXT,
  inbound_channel TEXT,
  outbound_channel TEXT,
  inbound_msat TEXT NOT NULL,
  outbound_msat TEXT NOT NULL,
  fee_msat TEXT NOT NULL,
  outcome TEXT NOT NULL,
  latency_ms BIGINT,
  created_at BIGINT NOT NULL
);
CREATE INDEX forwards_time ON forwards(created_at);
CREATE TABLE orders (
  order_id TEXT PRIMARY KEY,
  node_id TEXT NOT NULL REFERENCES wallets(node_id),
  state TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX orders_wallet ON orders(node_id, created_at);
CREATE TABLE backup_leases (
  node_id TEXT PRIMARY KEY REFERENCES wallets(node_id),
  fencing_token BIGINT NOT NULL,
  device_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE TABLE backups (
  node_id TEXT NOT NULL REFERENCES wallets(node_id),
  key TEXT NOT NULL,
  version BIGINT NOT NULL,
  blob {{BLOB}} NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (node_id, key)
);
CREATE TABLE node_kv (
  namespace TEXT NOT NULL,
  key TEXT NOT NULL,
  value {{BLOB}} NOT NULL,
  PRIMARY KEY (namespace, key)
);
`,
  },
  {
    version: 2,
    name: 'jit channels and held HTLCs, order payment hash',
    sql: `
CREATE TABLE jit_channels (
  scid TEXT PRIMARY KEY REFERENCES jit_purchases(scid),
  payment_hash TEXT NOT NULL,
  user_channel_id TEXT NOT NULL UNIQUE,
  channel_id TEXT,
  capacity_sat TEXT NOT NULL,
  opening_fee_msat TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE jit_intercepts (
  intercept_id TEXT PRIMARY KEY,
  scid TEXT NOT NULL,
  payment_hash TEXT NOT NULL,
  inbound_msat TEXT NOT NULL,
  expected_outbound_msat TEXT NOT NULL,
  state TEXT NOT NULL,
  forwarded_msat TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX jit_intercepts_scid ON jit_intercepts(scid, state);
ALTER TABLE orders ADD COLUMN payment_hash TEXT;
ALTER TABLE orders ADD COLUMN user_channel_id TEXT;
CREATE INDEX orders_payment_hash ON orders(payment_hash);
CREATE INDEX orders_state ON orders(state)
`,
  },
  {
    version: 3,
    name: 'L402 token uses',
    sql: `
CREATE TABLE l402_uses (
  token_id TEXT PRIMARY KEY,
  used INTEGER NOT NULL,
  expires_at BIGINT
);
CREATE INDEX l402_uses_expires ON l402_uses(expires_at)
`,
  },
  {
    // 4, not 3: main's L402 token uses took 3 while this was written (versions need only be distinct
    // and ascending)
    version: 4,
    name: 'operator history: time series at raw and hourly resolution',
    // one narrow table: a series is a name (per-channel series carry the channel id), a value is a
    // decimal text so msat sums stay exact on both backends; resolution_ms 0 = as sampled
    sql: `
CREATE TABLE history (
  resolution_ms BIGINT NOT NULL,
  series TEXT NOT NULL,
  at BIGINT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (resolution_ms, series, at)
);
CREATE INDEX history_time ON history(resolution_ms, at)
`,
  },
  {
    version: 5,
    name: 'admin action log, wallets whose latest backup was refused',
    // params and outcome detail are JSON/text as the page shows them; the log is append-only.
    // backup_failures holds one row per wallet while its latest write was refused (a success deletes it)
    sql: `
CREATE TABLE admin_actions (
  id {{AUTOID}},
  at BIGINT NOT NULL,
  action TEXT NOT NULL,
  params TEXT NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX admin_actions_time ON admin_actions(at);
CREATE TABLE backup_failures (
  node_id TEXT PRIMARY KEY,
  code TEXT NOT NULL,
  at BIGINT NOT NULL
)
`,
  },
  {
    version: 6,
    name: 'Lightning Address names',
    // one name per wallet (node_id UNIQUE), one wallet per name (the key): LUD-16 names are lowercase
    // already, so the key compares them as they are
    sql: `
CREATE TABLE lightning_addresses (
  name TEXT PRIMARY KEY,
  node_id TEXT NOT NULL UNIQUE REFERENCES wallets(node_id),
  created_at BIGINT NOT NULL
)
`,
  },
];

export function render(sql: string, dialect: Dialect): string {
  return sql.replace(/\{\{(\w+)\}\}/g, (_, token: string) => {
    const value = TOKENS[dialect][token];
    if (value === undefined) throw new Error(`migration token ${token} unknown`);
    return value;
  });
}

/** Apply what is missing; returns the versions applied now. Refuses a database newer than us. */
export async function migrate(
  db: Db,
  migrations: Migration[] = MIGRATIONS,
  nowMs = Date.now(),
): Promise<number[]> {
  await db.run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
  );
  const applied: number[] = [];
  for (const m of migrations) {
    const done = await db.transaction(async (tx) => {
      // under the transaction: a second process migrating at once conflicts on the primary key
      const rows = await tx.all('SELECT version FROM schema_migrations WHERE version = ?', [m.version]);
      if (rows.length > 0) return false;
      for (const statement of render(m.sql, db.dialect).split(';')) {
        if (statement.trim()) await tx.run(statement);
      }
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        m.version,
        m.name,
        nowMs,
      ]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  const newest = await db.all('SELECT MAX(version) AS v FROM schema_migrations');
  const latest = migrations.at(-1)?.version ?? 0;
  if (Number(newest[0]?.v ?? 0) > latest) {
    throw new Error(
      `database schema version ${newest[0]?.v} is newer than this server (${latest}); upgrade the server`,
    );
  }
  return applied;
}
