// Hot standby on PostgreSQL (HOT_STANDBY=true): several LSP processes share one database and exactly
// one runs the node. It holds a session advisory lock on a connection of its own and writes the
// node's channel state through that same session, so no write can land once the lock is gone; why
// that is safe is in docs/architecture.md ("Hot standby").
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import pg from 'pg';
import type { Logger } from 'pino';
import { keepConnectionsForProxy } from './keep-alive.ts';
import type { Db } from './store/db.ts';
import { sessionDb } from './store/postgres.ts';

export class LeaseError extends Error {
  override readonly name = 'LeaseError';
  constructor(
    readonly code: 'LEASE_LOST' | 'OTHER_NODE',
    message: string,
  ) {
    super(message);
  }
}

export interface LeaseTimings {
  /** How often a standby asks for the lock. */
  pollMs: number;
  /** How often the active one proves its session alive. */
  heartbeatMs: number;
  /** The active one gives up (and its process exits) this long after the last proof it sent. */
  lostAfterMs: number;
  /**
   * PostgreSQL ends the session (and frees the lock) after this much silence from it: an active
   * process that froze or lost the network is evicted. Longer than `lostAfterMs`, so the active one
   * has stopped on its own before another can start.
   */
  serverSilenceMs: number;
}

export const LEASE_TIMINGS: LeaseTimings = {
  pollMs: 500,
  heartbeatMs: 2_000,
  lostAfterMs: 10_000,
  serverSilenceMs: 20_000,
};

/** What the node is fenced by (node/assemble.ts): where its state is written, and a check before each broadcast. */
export interface NodeFence {
  /** The lock's own session: node state written here commits only while the lock is held. */
  readonly db: Db;
  /** Resolves after a round trip on the lock's session (held now); throws `LEASE_LOST` otherwise. */
  assertHeld(): Promise<void>;
}

/** The lock, held: the node writes through `db`; `onLost` fires once, when it can no longer be proven held. */
export interface ActiveLease extends NodeFence {
  /** How many times a process has become active on this database, this time included. */
  readonly takeovers: number;
  onLost(listener: (why: string) => void): void;
  /** Ends the session, which frees the lock (after the node has stopped writing). */
  release(): Promise<void>;
}

export interface LeaseOptions {
  log: Logger;
  /** Identifies the node's keys; a process with another seed is refused the database's state. */
  nodeSeed: Uint8Array;
  schema?: string;
  timings?: Partial<LeaseTimings>;
  /** Stops waiting (SIGTERM while standby): the promise rejects. */
  signal?: AbortSignal;
}

/** One advisory-lock key per schema, so LSPs in different schemas of one database don't exclude each other. */
function lockKey(schema: string): bigint {
  return createHash('sha256').update(`lpw-lsp-active:${schema}`).digest().readBigInt64BE(0);
}

/**
 * Waits until this process holds the active lock, then records the takeover.
 * @example const lease = await acquireActiveLease(config.databaseUrl, { log, nodeSeed });
 *          lease.onLost(() => process.exit(75));
 */
export async function acquireActiveLease(url: string, options: LeaseOptions): Promise<ActiveLease> {
  const t = { ...LEASE_TIMINGS, ...options.timings };
  const schema = options.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const key = lockKey(schema).toString();
  const { log, signal } = options;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      signal?.addEventListener('abort', wake, { once: true });
    });
  // one warning per outage, not one per poll
  let unreachable = false;
  const waitingSince = Date.now();
  for (;;) {
    if (signal?.aborted) throw new Error('stopped while standby');
    const client = new pg.Client({
      connectionString: url,
      application_name: 'lpw-lsp-lease',
      keepAlive: true,
      keepAliveInitialDelayMillis: 5_000,
      options: [
        `-c search_path=${schema}`,
        `-c idle_session_timeout=${t.serverSilenceMs}`,
        `-c idle_in_transaction_session_timeout=${t.serverSilenceMs}`,
      ].join(' '),
    });
    // until the lock is ours, a dead session only means connecting again
    let broken = false;
    client.on('error', () => {
      broken = true;
    });
    try {
      await client.connect();
      if (unreachable) log.info('standby: database reachable again');
      unreachable = false;
      while (!broken && !signal?.aborted) {
        const row = (await client.query('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key])).rows[0];
        if (row?.ok === true) return await takeOver(client, { ...options, schema }, t, waitingSince);
        await sleep(t.pollMs);
      }
    } catch (e) {
      if (e instanceof LeaseError) {
        await client.end().catch(() => {});
        throw e;
      }
      if (!unreachable) log.warn({ err: e }, 'standby: database unreachable, trying again');
      unreachable = true;
    }
    await client.end().catch(() => {});
    await sleep(t.pollMs);
  }
}

async function takeOver(
  client: pg.Client,
  options: LeaseOptions & { schema: string },
  t: LeaseTimings,
  waitingSince: number,
): Promise<ActiveLease> {
  const { log } = options;
  const fingerprint = createHash('sha256').update(options.nodeSeed).digest('hex').slice(0, 32);
  await client.query(`CREATE TABLE IF NOT EXISTS active_process (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seed_fingerprint TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    backend_pid INTEGER NOT NULL,
    since_ms BIGINT NOT NULL,
    takeovers BIGINT NOT NULL
  )`);
  const previous = (await client.query('SELECT seed_fingerprint FROM active_process WHERE id = 1')).rows[0];
  if (previous && previous.seed_fingerprint !== fingerprint)
    throw new LeaseError(
      'OTHER_NODE',
      'this database holds another LSP node (its seed differs from LSP_SEED here): every process of one LSP needs the same seed',
    );
  const recorded = await client.query(
    `INSERT INTO active_process (id, seed_fingerprint, host, pid, backend_pid, since_ms, takeovers)
     VALUES (1, $1, $2, $3, pg_backend_pid(), $4, 1)
     ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
       backend_pid = excluded.backend_pid, since_ms = excluded.since_ms, takeovers = active_process.takeovers + 1
     RETURNING takeovers`,
    [fingerprint, hostname(), process.pid, Date.now()],
  );
  const takeovers = Number(recorded.rows[0]!.takeovers);
  log.info({ takeovers, waitedMs: Date.now() - waitingSince }, 'standby: lock taken, this process is active');

  const listeners: Array<(why: string) => void> = [];
  let lostWhy: string | undefined;
  const lose = (why: string) => {
    if (lostWhy !== undefined) return;
    lostWhy = why;
    clearInterval(heartbeat);
    clearInterval(watchdog);
    for (const listener of listeners) listener(why);
  };
  client.on('error', (err) => lose(`lock session failed: ${err.message}`));
  client.on('end', () => lose('lock session ended'));
  const db = sessionDb(client);
  // a proof is dated when it was asked for: the server saw the session alive no earlier than that
  // (it queues behind the node's commits on the one connection)
  let provenAt = Date.now();
  const prove = async () => {
    const askedAt = Date.now();
    await db.all('SELECT 1');
    provenAt = Math.max(provenAt, askedAt);
  };
  const heartbeat = setInterval(() => void prove().catch(() => {}), t.heartbeatMs);
  const watchdog = setInterval(
    () => {
      if (Date.now() - provenAt > t.lostAfterMs) lose(`no proof of the lock for ${Date.now() - provenAt} ms`);
    },
    Math.min(500, t.lostAfterMs / 4),
  );
  return {
    db,
    takeovers,
    async assertHeld() {
      if (lostWhy === undefined) {
        try {
          await prove();
        } catch (e) {
          lose(`lock session failed: ${(e as Error).message}`);
        }
      }
      if (lostWhy !== undefined) throw new LeaseError('LEASE_LOST', lostWhy);
    },
    onLost(listener) {
      listeners.push(listener);
    },
    async release() {
      clearInterval(heartbeat);
      clearInterval(watchdog);
      lostWhy ??= 'released';
      await client.end().catch(() => {});
    },
  };
}

/** `lsp_active`: 1 in the process that runs the node (createLsp), 0 in a waiting standby. */
export const ACTIVE_METRIC_HEAD =
  '# HELP lsp_active 1 when this process runs the node, 0 while it waits as the standby\n# TYPE lsp_active gauge';

export interface StandbyServer {
  port: number;
  close(): Promise<void>;
}

/**
 * While standby, the LSP's port answers 503 to everything, /health with `"status":"standby"`, so a
 * proxy's health check sends wallets to the active process; /metrics says `lsp_active 0`.
 */
export async function serveStandby(options: { port: number; host: string }): Promise<StandbyServer> {
  const app = new Hono();
  app.get('/health', (c) => c.json({ ok: false, status: 'standby' }, 503));
  app.get('/metrics', (c) => c.text(`${ACTIVE_METRIC_HEAD}\nlsp_active 0\n`));
  app.all('*', (c) => c.json({ error: 'standby: another process of this LSP is active' }, 503));
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () => resolve(s));
  });
  keepConnectionsForProxy(server as unknown as import('node:http').Server);
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // keep-alive connections of health checkers would hold the port
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
