// A StreamLedger over any @lpw/node Store (IndexedDB in the wallet's worker: each commit is one
// readwrite transaction with `durability: "strict"`). Records live in memory and in the store as
// JSON; every write goes through one queue, lands in the store first and in memory only after the
// commit resolved, so what reads return was durable. One node runs per wallet (Web Locks), so this
// queue is the only writer.
import type { Store, StoreWrite } from '@lpw/node';
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import { StreamError } from './errors.ts';
import {
  inFlightMsat,
  newStreamRecord,
  type PeriodRecord,
  type PeriodReservation,
  reservationVerdict,
  type StreamLedger,
  type StreamParams,
  type StreamRecord,
  type StreamState,
} from './ledger.ts';

const STREAM_PREFIX = 'stream/';
const PERIOD_PREFIX = 'period/';
const BIGINTS = new Set([
  'satsPerMinute',
  'budgetMsat',
  'maxFeeMsat',
  'paidMsat',
  'feeMsat',
  'amountMsat',
  'plannedFeeMsat',
]);

const encode = (record: StreamRecord | PeriodRecord): Uint8Array =>
  new TextEncoder().encode(JSON.stringify(record, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));

function decode<T>(bytes: Uint8Array): T {
  return JSON.parse(new TextDecoder().decode(bytes), (k, v) =>
    BIGINTS.has(k) && typeof v === 'string' ? BigInt(v) : v,
  ) as T;
}

const streamKey = (id: string) => `${STREAM_PREFIX}${id}`;
const periodKey = (streamId: string, period: number) => `${PERIOD_PREFIX}${streamId}/${period}`;

export class StoreStreamLedger implements StreamLedger {
  private readonly streams = new Map<string, StreamRecord>();
  /** Open periods by payment id. */
  private readonly periods = new Map<string, PeriodRecord>();
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  static async open(store: Store, now: () => number = Date.now): Promise<StoreStreamLedger> {
    const ledger = new StoreStreamLedger(store, now);
    for (const [key, value] of await store.load()) {
      if (key.startsWith(STREAM_PREFIX)) {
        const s = decode<StreamRecord>(value);
        ledger.streams.set(s.id, s);
      } else if (key.startsWith(PERIOD_PREFIX)) {
        const p = decode<PeriodRecord>(value);
        ledger.periods.set(p.paymentId, p);
      }
    }
    return ledger;
  }

  get(id: string): StreamRecord {
    const s = this.streams.get(id);
    if (!s) throw new StreamError('STREAM_NOT_FOUND', `no stream ${id}`);
    return { ...s };
  }

  list(): StreamRecord[] {
    return [...this.streams.values()].map((s) => ({ ...s })).sort((a, b) => a.createdMs - b.createdMs);
  }

  openPeriods(streamId?: string): PeriodRecord[] {
    return [...this.periods.values()]
      .filter((p) => streamId === undefined || p.streamId === streamId)
      .map((p) => ({ ...p }))
      .sort((a, b) => (a.streamId === b.streamId ? a.period - b.period : a.streamId < b.streamId ? -1 : 1));
  }

  create(params: StreamParams): Promise<StreamRecord> {
    return this.write(() => {
      const record = newStreamRecord(`s_${bytesToHex(randomBytes(8))}`, params, this.now());
      return { result: record, streams: [record] };
    });
  }

  reserve(p: PeriodReservation): Promise<'reserved' | 'over-budget'> {
    return this.write(() => {
      const stream = this.get(p.streamId);
      const open = this.openPeriods(p.streamId);
      const prior = open.find((o) => o.period === p.period);
      const verdict = reservationVerdict(stream, prior, inFlightMsat(open), p);
      if (verdict === 'over-budget') return { result: verdict };
      const now = this.now();
      const period: PeriodRecord = { ...p, state: 'reserved', reservedMs: now, failureReason: null };
      const next =
        p.period >= stream.nextPeriod
          ? {
              ...stream,
              nextPeriod: p.period + 1,
              skippedPeriods: stream.skippedPeriods + (p.period - stream.nextPeriod),
              updatedMs: now,
            }
          : undefined;
      return {
        result: verdict,
        periods: [period],
        ...(prior ? { dropped: [prior] } : {}),
        ...(next ? { streams: [next] } : {}),
      };
    });
  }

  settle(paymentId: string, feeMsat: bigint | undefined): Promise<PeriodRecord | undefined> {
    return this.write(() => {
      const p = this.periods.get(paymentId);
      if (p?.state !== 'reserved') return { result: undefined }; // not ours, or replayed
      const s = this.get(p.streamId);
      const now = this.now();
      const stream: StreamRecord = {
        ...s,
        paidCount: s.paidCount + 1,
        paidMsat: s.paidMsat + p.amountMsat,
        feeMsat: s.feeMsat + (feeMsat ?? p.plannedFeeMsat),
        firstPaidMs: s.firstPaidMs ?? now,
        lastPaidMs: now,
        updatedMs: now,
      };
      return { result: { ...p }, streams: [stream], dropped: [p] };
    });
  }

  fail(paymentId: string, reason: string): Promise<PeriodRecord | undefined> {
    return this.write(() => {
      const p = this.periods.get(paymentId);
      if (p?.state !== 'reserved') return { result: undefined };
      const s = this.get(p.streamId);
      const failed: PeriodRecord = { ...p, state: 'failed', failureReason: reason };
      const stream = { ...s, failedAttempts: s.failedAttempts + 1, updatedMs: this.now() };
      return { result: { ...failed }, streams: [stream], periods: [failed] };
    });
  }

  abandon(streamId: string, period: number): Promise<void> {
    return this.write(() => {
      const p = this.openPeriods(streamId).find((o) => o.period === period && o.state === 'failed');
      if (!p) return { result: undefined };
      const s = this.get(streamId);
      const stream = { ...s, skippedPeriods: s.skippedPeriods + 1, updatedMs: this.now() };
      return { result: undefined, streams: [stream], dropped: [p] };
    });
  }

  skipTo(streamId: string, period: number): Promise<void> {
    return this.write(() => {
      const s = this.get(streamId);
      if (s.nextPeriod >= period) return { result: undefined };
      const stream = {
        ...s,
        skippedPeriods: s.skippedPeriods + (period - s.nextPeriod),
        nextPeriod: period,
        updatedMs: this.now(),
      };
      return { result: undefined, streams: [stream] };
    });
  }

  setState(streamId: string, state: StreamState, reason: string | null = null): Promise<void> {
    return this.write(() => {
      const s = this.get(streamId);
      const stream = { ...s, state, stopReason: reason ?? s.stopReason, updatedMs: this.now() };
      return { result: undefined, streams: [stream] };
    });
  }

  /**
   * Runs `change` after every earlier write, commits what it returns in one transaction, then
   * applies it to memory. A failed commit rejects and leaves memory as the store has it.
   */
  private write<T>(
    change: () => { result: T; streams?: StreamRecord[]; periods?: PeriodRecord[]; dropped?: PeriodRecord[] },
  ): Promise<T> {
    const run = this.tail.then(async () => {
      const { result, streams = [], periods = [], dropped = [] } = change();
      const writes: StoreWrite[] = [
        ...dropped.map((p) => ({ key: periodKey(p.streamId, p.period), value: null })),
        ...periods.map((p) => ({ key: periodKey(p.streamId, p.period), value: encode(p) })),
        ...streams.map((s) => ({ key: streamKey(s.id), value: encode(s) })),
      ];
      if (writes.length > 0) await this.store.commit(writes);
      for (const p of dropped) this.periods.delete(p.paymentId);
      for (const p of periods) this.periods.set(p.paymentId, p);
      for (const s of streams) this.streams.set(s.id, s);
      return result;
    });
    this.tail = run.catch(() => {});
    return run;
  }
}
