// What a stream ledger records and the rules every implementation keeps (SQLite in the CLI, the
// IndexedDB-backed StoreStreamLedger in the wallet PWA). A period is RESERVED durably before its
// payment is handed to LDK, then settled (folded into the stream's aggregates, its row dropped) or
// failed (retried or abandoned). `nextPeriod` only moves forward: a period is never reserved twice.
import { StreamError } from './errors.ts';

export type StreamState = 'running' | 'paused' | 'stopped' | 'finished' | 'failed';
export type OnRestart = 'resume' | 'stop';

export interface StreamParams {
  payee: string;
  satsPerMinute: bigint;
  periodMs: number;
  budgetMsat: bigint;
  maxFeeMsat: bigint;
  startMs: number;
  endMs: number;
  onRestart: OnRestart;
}

export interface StreamRecord extends StreamParams {
  id: string;
  state: StreamState;
  stopReason: string | null;
  nextPeriod: number;
  paidCount: number;
  paidMsat: bigint;
  feeMsat: bigint;
  failedAttempts: number;
  skippedPeriods: number;
  firstPaidMs: number | null;
  lastPaidMs: number | null;
  createdMs: number;
  updatedMs: number;
}

export interface PeriodRecord {
  streamId: string;
  period: number;
  attempt: number;
  paymentId: string;
  paymentHash: string;
  amountMsat: bigint;
  plannedFeeMsat: bigint;
  maxFeeMsat: bigint;
  state: 'reserved' | 'failed';
  reservedMs: number;
  failureReason: string | null;
}

export type PeriodReservation = Omit<PeriodRecord, 'state' | 'reservedMs' | 'failureReason'>;

export type Awaitable<T> = T | Promise<T>;

/**
 * The durable record of streams. Every write is durable when its returned value (or promise)
 * resolves; a synchronous implementation (SQLite) simply returns values.
 */
export interface StreamLedger {
  create(params: StreamParams): Awaitable<StreamRecord>;
  /** Throws StreamError STREAM_NOT_FOUND. */
  get(id: string): Awaitable<StreamRecord>;
  list(): Awaitable<StreamRecord[]>;
  /** Periods not settled: reserved (outcome pending or unknown) or failed (awaiting a retry). */
  openPeriods(streamId?: string): Awaitable<PeriodRecord[]>;
  /** Durably reserves a period BEFORE anything is sent; refuses one settled, reserved or past the budget. */
  reserve(p: PeriodReservation): Awaitable<'reserved' | 'over-budget'>;
  /** The payment of a reserved period succeeded; undefined when not ours or already settled. */
  settle(paymentId: string, feeMsat: bigint | undefined): Awaitable<PeriodRecord | undefined>;
  /** The payment of a reserved period definitely failed (nothing left us). */
  fail(paymentId: string, reason: string): Awaitable<PeriodRecord | undefined>;
  /** A failed period will not be retried: it stays unpaid and counts as skipped. */
  abandon(streamId: string, period: number): Awaitable<void>;
  /** Moves `nextPeriod` forward without paying (paused or down time is not billed). */
  skipTo(streamId: string, period: number): Awaitable<void>;
  setState(streamId: string, state: StreamState, reason?: string | null): Awaitable<void>;
}

/** Amount + fee limit of reserved periods: money that may still leave. */
export function inFlightMsat(periods: Iterable<PeriodRecord>): bigint {
  let sum = 0n;
  for (const p of periods) if (p.state === 'reserved') sum += p.amountMsat + p.maxFeeMsat;
  return sum;
}

/**
 * The reservation rule, shared by every ledger: a period may be reserved once, again only as a
 * higher attempt after a failure, never below `nextPeriod` otherwise, and only within the budget
 * counting what was paid, its fees and every reserved period at its fee limit.
 */
export function reservationVerdict(
  stream: StreamRecord,
  prior: PeriodRecord | undefined,
  inFlight: bigint,
  p: PeriodReservation,
): 'reserved' | 'over-budget' {
  if (prior) {
    if (prior.state !== 'failed' || p.attempt <= prior.attempt)
      throw new StreamError(
        'INTERNAL',
        `period ${p.period} of ${p.streamId} is ${prior.state}: not reserving it again`,
      );
  } else if (p.period < stream.nextPeriod) {
    throw new StreamError('INTERNAL', `period ${p.period} of ${p.streamId} was already settled or skipped`);
  }
  const committed = stream.paidMsat + stream.feeMsat + inFlight;
  return committed + p.amountMsat + p.maxFeeMsat > stream.budgetMsat ? 'over-budget' : 'reserved';
}

export function newStreamRecord(id: string, params: StreamParams, now: number): StreamRecord {
  return {
    ...params,
    id,
    state: 'running',
    stopReason: null,
    nextPeriod: 0,
    paidCount: 0,
    paidMsat: 0n,
    feeMsat: 0n,
    failedAttempts: 0,
    skippedPeriods: 0,
    firstPaidMs: null,
    lastPaidMs: null,
    createdMs: now,
    updatedMs: now,
  };
}
