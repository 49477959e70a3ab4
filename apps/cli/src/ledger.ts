// The CLI's ledger (SQLite, synchronous=FULL): streams, as a StreamLedger of @lpw/stream with its
// rules (a period is RESERVED durably before its payment is handed to LDK, then settled or failed;
// a settled period leaves only aggregates behind, so a month of per-second payments is one row), and
// single BOLT 11 payments, recorded before they are sent, and the L402 tokens those payments bought.
import { randomBytes } from 'node:crypto';
import {
  newStreamRecord,
  type OnRestart,
  type PeriodRecord,
  type PeriodReservation,
  reservationVerdict,
  StreamError,
  type StreamLedger,
  type StreamParams,
  type StreamRecord,
  type StreamState,
} from '@lpw/stream';
import Database from 'better-sqlite3';
import { CliError } from './errors.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS streams (
  id TEXT PRIMARY KEY NOT NULL,
  payee TEXT NOT NULL,
  sats_per_minute INTEGER NOT NULL,
  period_ms INTEGER NOT NULL,
  budget_msat INTEGER NOT NULL,
  max_fee_msat INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  on_restart TEXT NOT NULL,
  state TEXT NOT NULL,
  stop_reason TEXT,
  next_period INTEGER NOT NULL DEFAULT 0,
  paid_count INTEGER NOT NULL DEFAULT 0,
  paid_msat INTEGER NOT NULL DEFAULT 0,
  fee_msat INTEGER NOT NULL DEFAULT 0,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  skipped_periods INTEGER NOT NULL DEFAULT 0,
  first_paid_ms INTEGER,
  last_paid_ms INTEGER,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS payments (
  payment_id TEXT PRIMARY KEY NOT NULL,
  payment_hash TEXT NOT NULL,
  bolt11 TEXT NOT NULL,
  amount_msat INTEGER NOT NULL,
  fee_msat INTEGER,
  status TEXT NOT NULL,
  failure_reason TEXT,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS periods (
  stream_id TEXT NOT NULL REFERENCES streams(id),
  period INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  payment_id TEXT NOT NULL UNIQUE,
  payment_hash TEXT NOT NULL,
  amount_msat INTEGER NOT NULL,
  planned_fee_msat INTEGER NOT NULL,
  max_fee_msat INTEGER NOT NULL,
  state TEXT NOT NULL,
  reserved_ms INTEGER NOT NULL,
  failure_reason TEXT,
  PRIMARY KEY (stream_id, period)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS l402_tokens (
  payment_hash TEXT PRIMARY KEY NOT NULL,
  origin TEXT NOT NULL,
  macaroon TEXT NOT NULL,
  authorization TEXT,
  bought_ms INTEGER NOT NULL
) WITHOUT ROWID;
`;

type Row = Record<string, unknown>;
const big = (v: unknown) => (typeof v === 'bigint' ? v : BigInt(v as number));
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function streamOf(r: Row): StreamRecord {
  return {
    id: r.id as string,
    payee: r.payee as string,
    satsPerMinute: big(r.sats_per_minute),
    periodMs: Number(r.period_ms),
    budgetMsat: big(r.budget_msat),
    maxFeeMsat: big(r.max_fee_msat),
    startMs: Number(r.start_ms),
    endMs: Number(r.end_ms),
    onRestart: r.on_restart as OnRestart,
    state: r.state as StreamState,
    stopReason: (r.stop_reason as string | null) ?? null,
    nextPeriod: Number(r.next_period),
    paidCount: Number(r.paid_count),
    paidMsat: big(r.paid_msat),
    feeMsat: big(r.fee_msat),
    failedAttempts: Number(r.failed_attempts),
    skippedPeriods: Number(r.skipped_periods),
    firstPaidMs: num(r.first_paid_ms),
    lastPaidMs: num(r.last_paid_ms),
    createdMs: Number(r.created_ms),
    updatedMs: Number(r.updated_ms),
  };
}

function periodOf(r: Row): PeriodRecord {
  return {
    streamId: r.stream_id as string,
    period: Number(r.period),
    attempt: Number(r.attempt),
    paymentId: r.payment_id as string,
    paymentHash: r.payment_hash as string,
    amountMsat: big(r.amount_msat),
    plannedFeeMsat: big(r.planned_fee_msat),
    maxFeeMsat: big(r.max_fee_msat),
    state: r.state as 'reserved' | 'failed',
    reservedMs: Number(r.reserved_ms),
    failureReason: (r.failure_reason as string | null) ?? null,
  };
}

export class SqliteLedger implements StreamLedger {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.defaultSafeIntegers(true);
    this.db.exec(SCHEMA);
  }

  create(params: StreamParams, now = Date.now()): StreamRecord {
    const r = newStreamRecord(`s_${randomBytes(8).toString('hex')}`, params, now);
    this.db
      .prepare(
        `INSERT INTO streams (id, payee, sats_per_minute, period_ms, budget_msat, max_fee_msat, start_ms,
           end_ms, on_restart, state, created_ms, updated_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.id,
        r.payee,
        r.satsPerMinute,
        r.periodMs,
        r.budgetMsat,
        r.maxFeeMsat,
        r.startMs,
        r.endMs,
        r.onRestart,
        r.state,
        now,
        now,
      );
    return this.get(r.id);
  }

  get(id: string): StreamRecord {
    const row = this.db.prepare('SELECT * FROM streams WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new StreamError('STREAM_NOT_FOUND', `no stream ${id}`);
    return streamOf(row);
  }

  list(): StreamRecord[] {
    return (this.db.prepare('SELECT * FROM streams ORDER BY created_ms').all() as Row[]).map(streamOf);
  }

  /** Periods not settled: reserved (outcome pending or unknown) or failed (awaiting a retry). */
  openPeriods(streamId?: string): PeriodRecord[] {
    const rows = streamId
      ? this.db.prepare('SELECT * FROM periods WHERE stream_id = ? ORDER BY period').all(streamId)
      : this.db.prepare('SELECT * FROM periods ORDER BY stream_id, period').all();
    return (rows as Row[]).map(periodOf);
  }

  /** Amount + fee limit of every reserved period: money that may still leave. */
  inFlightMsat(streamId: string): bigint {
    const row = this.db
      .prepare(
        "SELECT COALESCE(SUM(amount_msat + max_fee_msat), 0) AS v FROM periods WHERE stream_id = ? AND state = 'reserved'",
      )
      .get(streamId) as Row;
    return big(row.v);
  }

  /**
   * Durably reserves `period` (first attempt, or a retry of a failed one) BEFORE anything is sent.
   * Refuses a period already settled or reserved, and anything past the budget.
   */
  reserve(p: PeriodReservation, now = Date.now()): 'reserved' | 'over-budget' {
    return this.db.transaction((): 'reserved' | 'over-budget' => {
      const stream = this.get(p.streamId);
      const existing = this.db
        .prepare('SELECT * FROM periods WHERE stream_id = ? AND period = ?')
        .get(p.streamId, p.period) as Row | undefined;
      const verdict = reservationVerdict(
        stream,
        existing ? periodOf(existing) : undefined,
        this.inFlightMsat(p.streamId),
        p,
      );
      if (verdict === 'over-budget') return verdict;
      this.db
        .prepare(
          `INSERT INTO periods (stream_id, period, attempt, payment_id, payment_hash, amount_msat, planned_fee_msat,
             max_fee_msat, state, reserved_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'reserved', ?)
           ON CONFLICT (stream_id, period) DO UPDATE SET attempt = excluded.attempt, payment_id = excluded.payment_id,
             payment_hash = excluded.payment_hash, amount_msat = excluded.amount_msat,
             planned_fee_msat = excluded.planned_fee_msat, max_fee_msat = excluded.max_fee_msat,
             state = 'reserved', reserved_ms = excluded.reserved_ms, failure_reason = NULL`,
        )
        .run(
          p.streamId,
          p.period,
          p.attempt,
          p.paymentId,
          p.paymentHash,
          p.amountMsat,
          p.plannedFeeMsat,
          p.maxFeeMsat,
          now,
        );
      if (p.period >= stream.nextPeriod) {
        this.db
          .prepare(
            'UPDATE streams SET next_period = ?, skipped_periods = skipped_periods + ?, updated_ms = ? WHERE id = ?',
          )
          .run(p.period + 1, p.period - stream.nextPeriod, now, p.streamId);
      }
      return 'reserved';
    })();
  }

  /** The payment of a reserved period succeeded: fold it into the aggregates, drop the row. */
  settle(paymentId: string, feeMsat: bigint | undefined, now = Date.now()): PeriodRecord | undefined {
    return this.db.transaction(() => {
      const row = this.db
        .prepare("SELECT * FROM periods WHERE payment_id = ? AND state = 'reserved'")
        .get(paymentId) as Row | undefined;
      if (!row) return undefined; // not ours, or already settled (events replay after a restart)
      const p = periodOf(row);
      this.db.prepare('DELETE FROM periods WHERE payment_id = ?').run(paymentId);
      this.db
        .prepare(
          `UPDATE streams SET paid_count = paid_count + 1, paid_msat = paid_msat + ?, fee_msat = fee_msat + ?,
             first_paid_ms = COALESCE(first_paid_ms, ?), last_paid_ms = ?, updated_ms = ? WHERE id = ?`,
        )
        .run(p.amountMsat, feeMsat ?? p.plannedFeeMsat, now, now, now, p.streamId);
      return p;
    })();
  }

  /** The payment of a reserved period definitely failed (nothing left us): retry or give up later. */
  fail(paymentId: string, reason: string, now = Date.now()): PeriodRecord | undefined {
    return this.db.transaction(() => {
      const row = this.db
        .prepare("SELECT * FROM periods WHERE payment_id = ? AND state = 'reserved'")
        .get(paymentId) as Row | undefined;
      if (!row) return undefined;
      const p = periodOf(row);
      this.db
        .prepare("UPDATE periods SET state = 'failed', failure_reason = ? WHERE payment_id = ?")
        .run(reason, paymentId);
      this.db
        .prepare('UPDATE streams SET failed_attempts = failed_attempts + 1, updated_ms = ? WHERE id = ?')
        .run(now, p.streamId);
      return { ...p, state: 'failed' as const, failureReason: reason };
    })();
  }

  /** A failed period will not be retried (stream ended): it stays unpaid and is counted as skipped. */
  abandon(streamId: string, period: number, now = Date.now()): void {
    this.db.transaction(() => {
      const r = this.db
        .prepare("DELETE FROM periods WHERE stream_id = ? AND period = ? AND state = 'failed'")
        .run(streamId, period);
      if (r.changes > 0)
        this.db
          .prepare('UPDATE streams SET skipped_periods = skipped_periods + 1, updated_ms = ? WHERE id = ?')
          .run(now, streamId);
    })();
  }

  /** Moves `next_period` forward without paying (paused or down time is not billed). */
  skipTo(streamId: string, period: number, now = Date.now()): void {
    this.db
      .prepare(
        `UPDATE streams SET skipped_periods = skipped_periods + (? - next_period), next_period = ?, updated_ms = ?
         WHERE id = ? AND next_period < ?`,
      )
      .run(period, period, now, streamId, period);
  }

  setState(streamId: string, state: StreamState, reason: string | null = null, now = Date.now()): void {
    this.db
      .prepare(
        'UPDATE streams SET state = ?, stop_reason = COALESCE(?, stop_reason), updated_ms = ? WHERE id = ?',
      )
      .run(state, reason, now, streamId);
  }

  // ------------------------------------------------------------ single BOLT 11 payments

  /** Written before the payment is handed to LDK, like a stream period. */
  recordPayment(
    p: { paymentId: string; paymentHash: string; bolt11: string; amountMsat: bigint },
    now = Date.now(),
  ): void {
    // a failed payment may be tried again; a pending or succeeded one never
    const r = this.db
      .prepare(
        `INSERT INTO payments (payment_id, payment_hash, bolt11, amount_msat, status, created_ms, updated_ms)
         VALUES (?, ?, ?, ?, 'pending', ?, ?)
         ON CONFLICT (payment_id) DO UPDATE SET status = 'pending', failure_reason = NULL,
           updated_ms = excluded.updated_ms WHERE payments.status = 'failed'`,
      )
      .run(p.paymentId, p.paymentHash, p.bolt11, p.amountMsat, now, now);
    if (r.changes === 0) {
      const row = this.db.prepare('SELECT status FROM payments WHERE payment_id = ?').get(p.paymentId) as Row;
      throw new CliError(
        'PAYMENT_FAILED',
        row.status === 'succeeded' ? 'this invoice was already paid' : 'this invoice is being paid',
      );
    }
  }

  resolvePayment(
    paymentId: string,
    outcome: { status: 'succeeded'; feeMsat: bigint | null } | { status: 'failed'; reason: string },
    now = Date.now(),
  ): boolean {
    const r =
      outcome.status === 'succeeded'
        ? this.db
            .prepare(
              "UPDATE payments SET status = 'succeeded', fee_msat = ?, updated_ms = ? WHERE payment_id = ? AND status = 'pending'",
            )
            .run(outcome.feeMsat, now, paymentId)
        : this.db
            .prepare(
              "UPDATE payments SET status = 'failed', failure_reason = ?, updated_ms = ? WHERE payment_id = ? AND status = 'pending'",
            )
            .run(outcome.reason, now, paymentId);
    return r.changes > 0;
  }

  payments(): SinglePayment[] {
    return (this.db.prepare('SELECT * FROM payments ORDER BY created_ms').all() as Row[]).map((r) => ({
      paymentId: r.payment_id as string,
      paymentHash: r.payment_hash as string,
      bolt11: r.bolt11 as string,
      amountMsat: big(r.amount_msat),
      feeMsat: r.fee_msat === null ? null : big(r.fee_msat),
      status: r.status as SinglePayment['status'],
      failureReason: (r.failure_reason as string | null) ?? null,
      createdMs: Number(r.created_ms),
      updatedMs: Number(r.updated_ms),
    }));
  }

  // ------------------------------------------------------------ L402 tokens

  /** A token about to be bought, written before its invoice is paid: a crash after the payment keeps it. */
  recordL402Purchase(t: { origin: string; paymentHash: string; macaroon: string }, now = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO l402_tokens (payment_hash, origin, macaroon, authorization, bought_ms)
         VALUES (?, ?, ?, NULL, ?) ON CONFLICT (payment_hash) DO NOTHING`,
      )
      .run(t.paymentHash, t.origin, t.macaroon, now);
  }

  /** The purchase paid: its token (`L402 <macaroon>:<preimage>`) can be used. */
  l402Paid(paymentHash: string, authorization: string): void {
    this.db
      .prepare('UPDATE l402_tokens SET authorization = ? WHERE payment_hash = ?')
      .run(authorization, paymentHash);
  }

  /** Tokens bought from `origin` (paid or not yet known to be), newest first. */
  l402Tokens(origin: string): L402Token[] {
    return (
      this.db
        .prepare('SELECT * FROM l402_tokens WHERE origin = ? ORDER BY bought_ms DESC')
        .all(origin) as Row[]
    ).map((r) => ({
      paymentHash: r.payment_hash as string,
      origin: r.origin as string,
      macaroon: r.macaroon as string,
      authorization: (r.authorization as string | null) ?? null,
      boughtMs: Number(r.bought_ms),
    }));
  }

  /** A token the site refused, or a purchase whose payment failed. */
  forgetL402(paymentHash: string): void {
    this.db.prepare('DELETE FROM l402_tokens WHERE payment_hash = ?').run(paymentHash);
  }

  close(): void {
    this.db.close();
  }
}

export interface L402Token {
  paymentHash: string;
  origin: string;
  /** Base64, as the challenge sent it. */
  macaroon: string;
  /** `L402 <macaroon>:<preimage>`; null until the payment is known to have succeeded. */
  authorization: string | null;
  boughtMs: number;
}

export interface SinglePayment {
  paymentId: string;
  paymentHash: string;
  bolt11: string;
  amountMsat: bigint;
  feeMsat: bigint | null;
  status: 'pending' | 'succeeded' | 'failed';
  failureReason: string | null;
  createdMs: number;
  updatedMs: number;
}
