// The store's logic, written once over the `Db` seam; SQLite and PostgreSQL differ only below it.
import { feeParamsToWire, openingFeeParamsInput, orderWire } from '@lpw/api';
import type { Store as NodeStore, StoreWrite } from '@lpw/node';
import { bytes, type Db, num, one, type Row } from './db.ts';
import { migrate } from './migrations.ts';
import type {
  AddressNameRecord,
  AdminActionRecord,
  BackupFailureRecord,
  BackupRecord,
  BackupSummary,
  ForwardRecord,
  HistoryPoint,
  InterceptRecord,
  InterceptState,
  JitChannelRecord,
  JitPurchaseRecord,
  LeaseRecord,
  LoginRecord,
  LspStore,
  OrderRecord,
  PutBackupResult,
  SessionRecord,
  WalletRecord,
} from './types.ts';

// not `history` (the sampler writes it on a timer) nor `backup_failures` (the operator's view of a
// refused write, which the refusal itself records): a snapshot proves requests changed nothing
const TABLES: Record<string, string> = {
  schema_migrations: 'version',
  wallets: 'node_id',
  auth_challenges: 'challenge',
  sessions: 'token_hash',
  jit_purchases: 'scid',
  jit_channels: 'scid',
  jit_intercepts: 'intercept_id',
  forwards: 'id',
  orders: 'order_id',
  backup_leases: 'node_id',
  backups: 'node_id, key',
  node_kv: 'namespace, key',
  l402_uses: 'token_id',
  admin_actions: 'id',
  lightning_addresses: 'name',
};

const wallet = (r: Row): WalletRecord => ({
  nodeId: String(r.node_id),
  createdAtMs: num(r.created_at),
  lastLoginAtMs: num(r.last_login_at),
});

const purchase = (r: Row): JitPurchaseRecord => ({
  scid: BigInt(String(r.scid)),
  nodeId: String(r.node_id),
  params: openingFeeParamsInput.parse(JSON.parse(String(r.params))),
  paymentSizeMsat: r.payment_size_msat == null ? null : BigInt(String(r.payment_size_msat)),
  openingFeeMsat: r.opening_fee_msat == null ? null : BigInt(String(r.opening_fee_msat)),
  state: String(r.state) as JitPurchaseRecord['state'],
  createdAtMs: num(r.created_at),
  updatedAtMs: num(r.updated_at),
});

const jitChannel = (r: Row): JitChannelRecord => ({
  scid: BigInt(String(r.scid)),
  paymentHash: String(r.payment_hash),
  userChannelId: BigInt(String(r.user_channel_id)),
  channelId: r.channel_id == null ? null : String(r.channel_id),
  capacitySat: BigInt(String(r.capacity_sat)),
  openingFeeMsat: BigInt(String(r.opening_fee_msat)),
  createdAtMs: num(r.created_at),
  updatedAtMs: num(r.updated_at),
});

const intercept = (r: Row): InterceptRecord => ({
  interceptId: String(r.intercept_id),
  scid: BigInt(String(r.scid)),
  paymentHash: String(r.payment_hash),
  inboundMsat: BigInt(String(r.inbound_msat)),
  expectedOutboundMsat: BigInt(String(r.expected_outbound_msat)),
  state: String(r.state) as InterceptState,
  forwardedMsat: r.forwarded_msat == null ? null : BigInt(String(r.forwarded_msat)),
  createdAtMs: num(r.created_at),
  updatedAtMs: num(r.updated_at),
});

const forward = (r: Row): ForwardRecord => ({
  id: num(r.id),
  nodeId: r.node_id == null ? null : String(r.node_id),
  inboundChannel: r.inbound_channel == null ? null : String(r.inbound_channel),
  outboundChannel: r.outbound_channel == null ? null : String(r.outbound_channel),
  inboundMsat: BigInt(String(r.inbound_msat)),
  outboundMsat: BigInt(String(r.outbound_msat)),
  feeMsat: BigInt(String(r.fee_msat)),
  outcome: String(r.outcome) as ForwardRecord['outcome'],
  latencyMs: r.latency_ms == null ? null : num(r.latency_ms),
  createdAtMs: num(r.created_at),
});

const INSERT_FORWARD = `INSERT INTO forwards (node_id, inbound_channel, outbound_channel, inbound_msat, outbound_msat,
  fee_msat, outcome, latency_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const forwardParams = (f: ForwardRecord) => [
  f.nodeId,
  f.inboundChannel,
  f.outboundChannel,
  f.inboundMsat.toString(),
  f.outboundMsat.toString(),
  f.feeMsat.toString(),
  f.outcome,
  f.latencyMs,
  f.createdAtMs,
];

const order = (r: Row): OrderRecord => ({
  orderId: String(r.order_id),
  nodeId: String(r.node_id),
  state: String(r.state) as OrderRecord['state'],
  body: orderWire.parse(JSON.parse(String(r.body))),
  paymentHash: r.payment_hash == null ? null : String(r.payment_hash),
  userChannelId: r.user_channel_id == null ? null : BigInt(String(r.user_channel_id)),
  createdAtMs: num(r.created_at),
  updatedAtMs: num(r.updated_at),
});

const addressName = (r: Row): AddressNameRecord => ({
  name: String(r.name),
  nodeId: String(r.node_id),
  createdAtMs: num(r.created_at),
});

/** Thrown inside a transaction to roll it back when the name is someone else's. */
class NameTaken extends Error {}

const lease = (r: Row): LeaseRecord => ({
  fencingToken: num(r.fencing_token),
  deviceId: String(r.device_id),
  expiresAtMs: num(r.expires_at),
});

export class SqlStore implements LspStore {
  readonly backend: 'sqlite' | 'postgres';

  private constructor(private readonly db: Db) {
    this.backend = db.dialect;
  }

  /** Opens over `db` and brings its schema up to date. */
  static async open(db: Db): Promise<SqlStore> {
    await migrate(db);
    return new SqlStore(db);
  }

  // ---------------------------------------------------------------- wallets, auth

  async touchWallet(nodeId: string, nowMs: number): Promise<WalletRecord> {
    await this.db.run(
      `INSERT INTO wallets (node_id, created_at, last_login_at) VALUES (?, ?, ?)
       ON CONFLICT (node_id) DO UPDATE SET last_login_at = excluded.last_login_at`,
      [nodeId, nowMs, nowMs],
    );
    return (await this.getWallet(nodeId))!;
  }

  async getWallet(nodeId: string): Promise<WalletRecord | undefined> {
    const r = await one(this.db, 'SELECT * FROM wallets WHERE node_id = ?', [nodeId]);
    return r && wallet(r);
  }

  async listWallets(limit = 1000): Promise<WalletRecord[]> {
    return (await this.db.all('SELECT * FROM wallets ORDER BY created_at, node_id LIMIT ?', [limit])).map(
      wallet,
    );
  }

  async insertChallenges(challenges: { challenge: string; expiresAtMs: number }[]): Promise<void> {
    // relaxed: a challenge lost to a power cut costs its wallet one more login
    await this.db.transaction(
      async (tx) => {
        for (const c of challenges) {
          await tx.run('INSERT INTO auth_challenges (challenge, expires_at) VALUES (?, ?)', [
            c.challenge,
            c.expiresAtMs,
          ]);
        }
      },
      { relaxed: true },
    );
  }

  async completeLogins(logins: LoginRecord[]): Promise<boolean[]> {
    // one transaction, so one commit for every login in it instead of three each; the DELETE is the claim: of two logins with one challenge, only one deletes a row
    // relaxed: a session lost to a power cut costs its wallet one more login; a challenge consumed
    // and then lost with it could be replayed only with its signed login, within its minute
    return this.db.transaction(
      async (tx) => {
        const done: boolean[] = [];
        for (const login of logins) {
          const { challenge, nowMs, session } = login;
          const r = await one(tx, 'SELECT expires_at FROM auth_challenges WHERE challenge = ?', [challenge]);
          const claimed =
            r && (await tx.run('DELETE FROM auth_challenges WHERE challenge = ?', [challenge])) === 1;
          // an expired challenge is deleted all the same
          if (!claimed || num(r.expires_at) <= nowMs) {
            done.push(false);
            continue;
          }
          await tx.run(
            `INSERT INTO wallets (node_id, created_at, last_login_at) VALUES (?, ?, ?)
           ON CONFLICT (node_id) DO UPDATE SET last_login_at = excluded.last_login_at`,
            [session.nodeId, nowMs, nowMs],
          );
          await tx.run('INSERT INTO sessions (token_hash, node_id, expires_at) VALUES (?, ?, ?)', [
            login.tokenHash,
            session.nodeId,
            session.expiresAtMs,
          ]);
          done.push(true);
        }
        return done;
      },
      { relaxed: true },
    );
  }

  async insertSession(tokenHash: string, session: SessionRecord): Promise<void> {
    await this.db.run('INSERT INTO sessions (token_hash, node_id, expires_at) VALUES (?, ?, ?)', [
      tokenHash,
      session.nodeId,
      session.expiresAtMs,
    ]);
  }

  async getSession(tokenHash: string, nowMs: number): Promise<SessionRecord | undefined> {
    const r = await one(
      this.db,
      'SELECT node_id, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?',
      [tokenHash, nowMs],
    );
    return r && { nodeId: String(r.node_id), expiresAtMs: num(r.expires_at) };
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.run('DELETE FROM sessions WHERE token_hash = ?', [tokenHash]);
  }

  async sweepExpired(nowMs: number): Promise<number> {
    const a = await this.db.run('DELETE FROM auth_challenges WHERE expires_at <= ?', [nowMs]);
    const b = await this.db.run('DELETE FROM sessions WHERE expires_at <= ?', [nowMs]);
    const c = await this.db.run('DELETE FROM l402_uses WHERE expires_at <= ?', [Math.floor(nowMs / 1000)]);
    return a + b + c;
  }

  async consumeL402Use(tokenId: string, maxUses: number, expiresAtSec: number | undefined): Promise<boolean> {
    if (maxUses < 1) return false;
    // the first use inserts; later ones update only while under the maximum: 1 row changed = allowed
    const changed = await this.db.run(
      `INSERT INTO l402_uses (token_id, used, expires_at) VALUES (?, 1, ?)
       ON CONFLICT (token_id) DO UPDATE SET used = l402_uses.used + 1 WHERE l402_uses.used < ?`,
      [tokenId, expiresAtSec ?? null, maxUses],
    );
    return changed === 1;
  }

  // ---------------------------------------------------------------- JIT purchases, forwards

  async insertJitPurchase(p: JitPurchaseRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO jit_purchases (scid, node_id, params, payment_size_msat, opening_fee_msat, state, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        p.scid.toString(),
        p.nodeId,
        JSON.stringify(feeParamsToWire(p.params)),
        p.paymentSizeMsat?.toString() ?? null,
        p.openingFeeMsat?.toString() ?? null,
        p.state,
        p.createdAtMs,
        p.updatedAtMs,
      ],
    );
  }

  async getJitPurchase(scid: bigint): Promise<JitPurchaseRecord | undefined> {
    const r = await one(this.db, 'SELECT * FROM jit_purchases WHERE scid = ?', [scid.toString()]);
    return r && purchase(r);
  }

  async listJitPurchases(nodeId: string, limit = 100): Promise<JitPurchaseRecord[]> {
    const rows = await this.db.all(
      'SELECT * FROM jit_purchases WHERE node_id = ? ORDER BY created_at DESC, scid LIMIT ?',
      [nodeId, limit],
    );
    return rows.map(purchase);
  }

  async setJitPurchaseState(
    scid: bigint,
    state: JitPurchaseRecord['state'],
    nowMs: number,
  ): Promise<boolean> {
    const n = await this.db.run('UPDATE jit_purchases SET state = ?, updated_at = ? WHERE scid = ?', [
      state,
      nowMs,
      scid.toString(),
    ]);
    return n === 1;
  }

  async putJitChannel(c: JitChannelRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO jit_channels (scid, payment_hash, user_channel_id, channel_id, capacity_sat, opening_fee_msat,
         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (scid) DO UPDATE SET payment_hash = excluded.payment_hash,
         user_channel_id = excluded.user_channel_id, channel_id = excluded.channel_id,
         capacity_sat = excluded.capacity_sat, opening_fee_msat = excluded.opening_fee_msat,
         updated_at = excluded.updated_at`,
      [
        c.scid.toString(),
        c.paymentHash,
        c.userChannelId.toString(),
        c.channelId,
        c.capacitySat.toString(),
        c.openingFeeMsat.toString(),
        c.createdAtMs,
        c.updatedAtMs,
      ],
    );
  }

  async getJitChannel(scid: bigint): Promise<JitChannelRecord | undefined> {
    const r = await one(this.db, 'SELECT * FROM jit_channels WHERE scid = ?', [scid.toString()]);
    return r && jitChannel(r);
  }

  async getJitChannelByUserChannelId(userChannelId: bigint): Promise<JitChannelRecord | undefined> {
    const r = await one(this.db, 'SELECT * FROM jit_channels WHERE user_channel_id = ?', [
      userChannelId.toString(),
    ]);
    return r && jitChannel(r);
  }

  async recordIntercept(i: InterceptRecord): Promise<InterceptRecord> {
    await this.db.run(
      `INSERT INTO jit_intercepts (intercept_id, scid, payment_hash, inbound_msat, expected_outbound_msat, state,
         forwarded_msat, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (intercept_id) DO NOTHING`,
      [
        i.interceptId,
        i.scid.toString(),
        i.paymentHash,
        i.inboundMsat.toString(),
        i.expectedOutboundMsat.toString(),
        i.state,
        i.forwardedMsat?.toString() ?? null,
        i.createdAtMs,
        i.updatedAtMs,
      ],
    );
    const r = await one(this.db, 'SELECT * FROM jit_intercepts WHERE intercept_id = ?', [i.interceptId]);
    return intercept(r!);
  }

  async setInterceptState(
    interceptId: string,
    state: InterceptState,
    forwardedMsat: bigint | null,
    nowMs: number,
  ): Promise<boolean> {
    const n = await this.db.run(
      'UPDATE jit_intercepts SET state = ?, forwarded_msat = ?, updated_at = ? WHERE intercept_id = ?',
      [state, forwardedMsat?.toString() ?? null, nowMs, interceptId],
    );
    return n === 1;
  }

  async listIntercepts(filter: { scid?: bigint; state?: InterceptState }): Promise<InterceptRecord[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.scid !== undefined) {
      where.push('scid = ?');
      params.push(filter.scid.toString());
    }
    if (filter.state !== undefined) {
      where.push('state = ?');
      params.push(filter.state);
    }
    const rows = await this.db.all(
      `SELECT * FROM jit_intercepts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at, intercept_id`,
      params,
    );
    return rows.map(intercept);
  }

  async insertForward(f: ForwardRecord): Promise<number> {
    const rows = await this.db.all(`${INSERT_FORWARD} RETURNING id`, forwardParams(f));
    return num(rows[0]?.id);
  }

  async insertForwards(forwards: ForwardRecord[]): Promise<void> {
    if (forwards.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const f of forwards) await tx.run(INSERT_FORWARD, forwardParams(f));
    });
  }

  async listForwards(limit: number): Promise<ForwardRecord[]> {
    return (await this.db.all('SELECT * FROM forwards ORDER BY id DESC LIMIT ?', [limit])).map(forward);
  }

  async listForwardsBetween(fromMs: number, toMs: number): Promise<ForwardRecord[]> {
    const rows = await this.db.all(
      'SELECT * FROM forwards WHERE created_at > ? AND created_at <= ? ORDER BY created_at, id',
      [fromMs, toMs],
    );
    return rows.map(forward);
  }

  async listJitChannelsBetween(fromMs: number, toMs: number): Promise<JitChannelRecord[]> {
    const rows = await this.db.all(
      'SELECT * FROM jit_channels WHERE created_at > ? AND created_at <= ? ORDER BY created_at, scid',
      [fromMs, toMs],
    );
    return rows.map(jitChannel);
  }

  // ---------------------------------------------------------------- orders

  async insertOrder(o: OrderRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO orders (order_id, node_id, state, body, payment_hash, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [
        o.orderId,
        o.nodeId,
        o.state,
        JSON.stringify(o.body),
        o.paymentHash ?? null,
        o.createdAtMs,
        o.updatedAtMs,
      ],
    );
  }

  async getOrder(orderId: string): Promise<OrderRecord | undefined> {
    const r = await one(this.db, 'SELECT * FROM orders WHERE order_id = ?', [orderId]);
    return r && order(r);
  }

  async listOrders(nodeId: string, limit = 100): Promise<OrderRecord[]> {
    const rows = await this.db.all(
      'SELECT * FROM orders WHERE node_id = ? ORDER BY created_at DESC LIMIT ?',
      [nodeId, limit],
    );
    return rows.map(order);
  }

  async getOrderByPaymentHash(paymentHash: string): Promise<OrderRecord | undefined> {
    const r = await one(this.db, 'SELECT * FROM orders WHERE payment_hash = ?', [paymentHash]);
    return r && order(r);
  }

  async listOrdersInState(state: OrderRecord['state'], limit = 1000): Promise<OrderRecord[]> {
    const rows = await this.db.all('SELECT * FROM orders WHERE state = ? ORDER BY created_at LIMIT ?', [
      state,
      limit,
    ]);
    return rows.map(order);
  }

  async setOrderChannel(orderId: string, userChannelId: bigint, nowMs: number): Promise<boolean> {
    const n = await this.db.run('UPDATE orders SET user_channel_id = ?, updated_at = ? WHERE order_id = ?', [
      userChannelId.toString(),
      nowMs,
      orderId,
    ]);
    return n === 1;
  }

  async updateOrder(orderId: string, state: OrderRecord['state'], body: OrderRecord['body'], nowMs: number) {
    const n = await this.db.run('UPDATE orders SET state = ?, body = ?, updated_at = ? WHERE order_id = ?', [
      state,
      JSON.stringify(body),
      nowMs,
      orderId,
    ]);
    return n === 1;
  }

  // ---------------------------------------------------------------- backups and leases

  async acquireLease(nodeId: string, deviceId: string, expiresAtMs: number): Promise<LeaseRecord> {
    return this.db.transaction(async (tx) => {
      // the upsert bumps the token atomically: two devices racing get distinct, ordered tokens
      const rows = await tx.all(
        `INSERT INTO backup_leases (node_id, fencing_token, device_id, expires_at) VALUES (?, 1, ?, ?)
         ON CONFLICT (node_id) DO UPDATE SET fencing_token = backup_leases.fencing_token + 1,
           device_id = excluded.device_id, expires_at = excluded.expires_at
         RETURNING fencing_token, device_id, expires_at`,
        [nodeId, deviceId, expiresAtMs],
      );
      return lease(rows[0]!);
    });
  }

  async acquireLeaseIfFree(
    nodeId: string,
    deviceId: string,
    expiresAtMs: number,
    nowMs: number,
  ): Promise<{ ok: true; lease: LeaseRecord } | { ok: false; holder: LeaseRecord }> {
    return this.db.transaction(async (tx) => {
      // one statement decides: the conflicting row is updated only when it is ours or expired
      const rows = await tx.all(
        `INSERT INTO backup_leases (node_id, fencing_token, device_id, expires_at) VALUES (?, 1, ?, ?)
         ON CONFLICT (node_id) DO UPDATE SET fencing_token = backup_leases.fencing_token + 1,
           device_id = excluded.device_id, expires_at = excluded.expires_at
         WHERE backup_leases.device_id = excluded.device_id OR backup_leases.expires_at <= ?
         RETURNING fencing_token, device_id, expires_at`,
        [nodeId, deviceId, expiresAtMs, nowMs],
      );
      if (rows[0]) return { ok: true as const, lease: lease(rows[0]) };
      const holder = await one(tx, 'SELECT * FROM backup_leases WHERE node_id = ?', [nodeId]);
      return { ok: false as const, holder: lease(holder!) };
    });
  }

  async getLease(nodeId: string): Promise<LeaseRecord | undefined> {
    const r = await one(this.db, 'SELECT * FROM backup_leases WHERE node_id = ?', [nodeId]);
    return r && lease(r);
  }

  async releaseLease(nodeId: string, fencingToken: number, nowMs: number): Promise<boolean> {
    const n = await this.db.run(
      'UPDATE backup_leases SET expires_at = ? WHERE node_id = ? AND fencing_token = ? AND expires_at > ?',
      [nowMs, nodeId, fencingToken, nowMs],
    );
    return n === 1;
  }

  async putBackup(req: {
    nodeId: string;
    key: string;
    expectedVersion: number;
    version?: number;
    blob: Uint8Array;
    fencingToken: number;
    nowMs: number;
    maxKeys: number;
    maxBytes?: number;
  }): Promise<PutBackupResult> {
    return this.db.transaction(async (tx): Promise<PutBackupResult> => {
      // lock the lease row (PostgreSQL) so a takeover cannot slip between the check and the write
      const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
      const l = await one(tx, `SELECT * FROM backup_leases WHERE node_id = ?${lock}`, [req.nodeId]);
      const current = l && lease(l);
      if (!current || current.fencingToken !== req.fencingToken || current.expiresAtMs <= req.nowMs) {
        return { ok: false, reason: 'LEASE_FENCED', currentToken: current?.fencingToken ?? null };
      }
      const existing = await one(tx, 'SELECT version FROM backups WHERE node_id = ? AND key = ?', [
        req.nodeId,
        req.key,
      ]);
      const currentVersion = existing ? num(existing.version) : 0;
      if (currentVersion !== req.expectedVersion) {
        return { ok: false, reason: 'VERSION_CONFLICT', currentVersion };
      }
      const next = req.version ?? currentVersion + 1;
      if (next <= currentVersion) return { ok: false, reason: 'VERSION_NOT_GROWING', currentVersion };
      if (req.maxBytes !== undefined) {
        // under the lease row's lock: two writes of one wallet cannot both fit in the last bytes
        const others = await one(
          tx,
          `SELECT COALESCE(SUM(${tx.dialect === 'postgres' ? 'octet_length' : 'length'}(blob)), 0) AS n FROM backups WHERE node_id = ? AND key <> ?`,
          [req.nodeId, req.key],
        );
        if (num(others?.n ?? 0) + req.blob.length > req.maxBytes)
          return { ok: false, reason: 'QUOTA_EXCEEDED', quota: 'bytes' };
      }
      if (existing) {
        await tx.run(
          'UPDATE backups SET version = ?, blob = ?, updated_at = ? WHERE node_id = ? AND key = ?',
          [next, req.blob, req.nowMs, req.nodeId, req.key],
        );
      } else {
        const count = await one(tx, 'SELECT COUNT(*) AS n FROM backups WHERE node_id = ?', [req.nodeId]);
        if (num(count?.n ?? 0) >= req.maxKeys) return { ok: false, reason: 'QUOTA_EXCEEDED', quota: 'keys' };
        await tx.run('INSERT INTO backups (node_id, key, version, blob, updated_at) VALUES (?, ?, ?, ?, ?)', [
          req.nodeId,
          req.key,
          next,
          req.blob,
          req.nowMs,
        ]);
      }
      return { ok: true, version: next };
    });
  }

  async getBackup(nodeId: string, key: string): Promise<BackupRecord | undefined> {
    const r = await one(this.db, 'SELECT * FROM backups WHERE node_id = ? AND key = ?', [nodeId, key]);
    return (
      r && {
        key: String(r.key),
        version: num(r.version),
        blob: bytes(r.blob),
        updatedAtMs: num(r.updated_at),
      }
    );
  }

  async listBackups(nodeId: string): Promise<BackupSummary[]> {
    const rows = await this.db.all(
      'SELECT key, version, LENGTH(blob) AS size, updated_at FROM backups WHERE node_id = ? ORDER BY key',
      [nodeId],
    );
    return rows.map((r) => ({
      key: String(r.key),
      version: num(r.version),
      size: num(r.size),
      updatedAtMs: num(r.updated_at),
    }));
  }

  async backupTotals(): Promise<{ bytes: number; wallets: number }> {
    const row = await one(
      this.db,
      'SELECT COALESCE(SUM(LENGTH(blob)), 0) AS bytes, COUNT(DISTINCT node_id) AS wallets FROM backups',
    );
    return { bytes: num(row?.bytes ?? 0), wallets: num(row?.wallets ?? 0) };
  }

  // ---------------------------------------------------------------- history

  async putHistory(resolutionMs: number, points: HistoryPoint[]): Promise<void> {
    if (points.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const p of points)
        await tx.run(
          `INSERT INTO history (resolution_ms, series, at, value) VALUES (?, ?, ?, ?)
           ON CONFLICT (resolution_ms, series, at) DO UPDATE SET value = excluded.value`,
          [resolutionMs, p.series, p.atMs, p.value.toString()],
        );
    });
  }

  async listHistory(query: {
    resolutionMs: number;
    fromMs: number;
    toMs: number;
    prefix?: string;
  }): Promise<HistoryPoint[]> {
    // series names are [a-z0-9_:] (history.ts), so LIKE needs no escaping
    const rows = await this.db.all(
      `SELECT series, at, value FROM history WHERE resolution_ms = ? AND at >= ? AND at < ? AND series LIKE ?
       ORDER BY at, series`,
      [query.resolutionMs, query.fromMs, query.toMs, `${query.prefix ?? ''}%`],
    );
    return rows.map((r) => ({ series: String(r.series), atMs: num(r.at), value: BigInt(String(r.value)) }));
  }

  async deleteHistory(resolutionMs: number, beforeMs: number): Promise<number> {
    return this.db.run('DELETE FROM history WHERE resolution_ms = ? AND at < ?', [resolutionMs, beforeMs]);
  }

  async lastHistoryAt(resolutionMs: number): Promise<number | undefined> {
    const row = await one(this.db, 'SELECT MAX(at) AS at FROM history WHERE resolution_ms = ?', [
      resolutionMs,
    ]);
    return row?.at == null ? undefined : num(row.at);
  }

  // ---------------------------------------------------------------- admin log, backup health

  async recordAdminAction(entry: AdminActionRecord): Promise<number> {
    const rows = await this.db.all(
      'INSERT INTO admin_actions (at, action, params, outcome, detail) VALUES (?, ?, ?, ?, ?) RETURNING id',
      [entry.atMs, entry.action, JSON.stringify(entry.params), entry.outcome, entry.detail],
    );
    return num(rows[0]?.id);
  }

  async listAdminActions(limit: number): Promise<AdminActionRecord[]> {
    const rows = await this.db.all('SELECT * FROM admin_actions ORDER BY id DESC LIMIT ?', [limit]);
    return rows.map((r) => ({
      id: num(r.id),
      atMs: num(r.at),
      action: String(r.action),
      params: JSON.parse(String(r.params)) as Record<string, string>,
      outcome: String(r.outcome) as AdminActionRecord['outcome'],
      detail: String(r.detail),
    }));
  }

  async putBackupFailure(failure: BackupFailureRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO backup_failures (node_id, code, at) VALUES (?, ?, ?)
       ON CONFLICT (node_id) DO UPDATE SET code = excluded.code, at = excluded.at`,
      [failure.nodeId, failure.code, failure.atMs],
    );
  }

  async clearBackupFailure(nodeId: string): Promise<void> {
    await this.db.run('DELETE FROM backup_failures WHERE node_id = ?', [nodeId]);
  }

  async listBackupFailures(): Promise<BackupFailureRecord[]> {
    const rows = await this.db.all('SELECT node_id, code, at FROM backup_failures ORDER BY at DESC, node_id');
    return rows.map((r) => ({ nodeId: String(r.node_id), code: String(r.code), atMs: num(r.at) }));
  }

  // ---------------------------------------------------------------- Lightning Address names

  async claimAddressName(
    nodeId: string,
    name: string,
    nowMs: number,
  ): Promise<{ ok: true; record: AddressNameRecord } | { ok: false; reason: 'NAME_TAKEN' }> {
    try {
      const record = await this.db.transaction(async (tx) => {
        const held = await one(tx, 'SELECT * FROM lightning_addresses WHERE name = ?', [name]);
        if (held && String(held.node_id) === nodeId) return addressName(held);
        if (held) throw new NameTaken();
        await tx.run('DELETE FROM lightning_addresses WHERE node_id = ?', [nodeId]);
        // a claim racing ours for the same name inserts nothing here: ON CONFLICT, then taken
        const inserted = await tx.run(
          'INSERT INTO lightning_addresses (name, node_id, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
          [name, nodeId, nowMs],
        );
        if (inserted !== 1) throw new NameTaken();
        return { name, nodeId, createdAtMs: nowMs };
      });
      return { ok: true, record };
    } catch (error) {
      if (error instanceof NameTaken) return { ok: false, reason: 'NAME_TAKEN' };
      throw error;
    }
  }

  async getAddressName(name: string): Promise<AddressNameRecord | undefined> {
    const r = await one(this.db, 'SELECT * FROM lightning_addresses WHERE name = ?', [name]);
    return r && addressName(r);
  }

  async addressNameOf(nodeId: string): Promise<AddressNameRecord | undefined> {
    const r = await one(this.db, 'SELECT * FROM lightning_addresses WHERE node_id = ?', [nodeId]);
    return r && addressName(r);
  }

  async releaseAddressName(nodeId: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM lightning_addresses WHERE node_id = ?', [nodeId])) > 0;
  }

  // ---------------------------------------------------------------- node persistence

  /** `db`: another connection to the same database to write through (the hot-standby lock's session). */
  nodeStore(namespace: string, db: Db = this.db): NodeStore {
    return {
      async load() {
        const rows = await db.all('SELECT key, value FROM node_kv WHERE namespace = ?', [namespace]);
        return new Map(rows.map((r) => [String(r.key), bytes(r.value)]));
      },
      async commit(writes: StoreWrite[]) {
        if (writes.length === 0) return;
        // both databases would quietly store a string where bytes belong
        for (const w of writes) {
          if (w.value !== null && !(w.value instanceof Uint8Array)) {
            throw new Error(`node store: value of ${w.key} must be bytes or null`);
          }
        }
        await db.transaction(async (tx) => {
          for (const { key, value } of writes) {
            if (value === null)
              await tx.run('DELETE FROM node_kv WHERE namespace = ? AND key = ?', [namespace, key]);
            else
              await tx.run(
                `INSERT INTO node_kv (namespace, key, value) VALUES (?, ?, ?)
                 ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value`,
                [namespace, key, value],
              );
          }
        });
      },
      // the LSP store owns the connection; closing the node must not close it
      async close() {},
    };
  }

  async snapshot(): Promise<Record<string, Record<string, unknown>[]>> {
    const out: Record<string, Record<string, unknown>[]> = {};
    for (const [table, order] of Object.entries(TABLES)) {
      const rows = await this.db.all(`SELECT * FROM ${table} ORDER BY ${order}`);
      out[table] = rows.map((r) =>
        Object.fromEntries(
          Object.entries(r).map(([k, v]) => [
            k,
            v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'number' ? String(v) : v,
          ]),
        ),
      );
    }
    return out;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
