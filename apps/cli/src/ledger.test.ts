// The stream ledger's rules on a real SQLite file: a period is reserved once, budgets hold with
// in-flight money counted, settling folds into one aggregate row; and the per-period amounts of a
// rate add up exactly (no msat lost to rounding).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot, openBackup, sealBackup } from './backup.ts';
import { isWalletError } from './errors.ts';
import { periodSecrets } from './keysend.ts';
import { StreamLedger } from './ledger.ts';
import { maxPeriodAmountMsat, periodAmountMsat } from './stream.ts';

describe('StreamLedger', () => {
  let dir: string;
  let ledger: StreamLedger;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lpw-ledger-'));
    ledger = new StreamLedger(join(dir, 'streams.sqlite'));
  });
  afterEach(() => {
    ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const newStream = (budgetMsat = 10_000n) =>
    ledger.create({
      payee: `02${'11'.repeat(32)}`,
      satsPerMinute: 60n,
      periodMs: 1000,
      budgetMsat,
      maxFeeMsat: 1000n,
      startMs: 0,
      endMs: 60_000,
      onRestart: 'resume',
    });
  const period = (streamId: string, k: number, attempt = 0) => {
    const s = periodSecrets(new Uint8Array(32).fill(5), streamId, k, attempt);
    return {
      streamId,
      period: k,
      attempt,
      paymentId: s.paymentId,
      paymentHash: s.paymentHash,
      amountMsat: 1000n,
      plannedFeeMsat: 10n,
      maxFeeMsat: 1000n,
    };
  };

  it('reserves a period once; a retry needs a failed attempt and a higher attempt number', () => {
    const s = newStream();
    expect(ledger.reserve(period(s.id, 0))).toBe('reserved');
    expect(() => ledger.reserve(period(s.id, 0, 1))).toThrow(/reserved/);
    ledger.fail(period(s.id, 0).paymentId, 'no route');
    expect(() => ledger.reserve(period(s.id, 0, 0))).toThrow(/not reserving/);
    expect(ledger.reserve(period(s.id, 0, 1))).toBe('reserved');
    ledger.settle(period(s.id, 0, 1).paymentId, 7n);
    // settled: the row is gone, and the period can never be reserved again
    expect(ledger.openPeriods(s.id)).toEqual([]);
    expect(() => ledger.reserve(period(s.id, 0, 2))).toThrow(/already settled/);
    expect(ledger.get(s.id)).toMatchObject({ paidCount: 1, paidMsat: 1000n, feeMsat: 7n, failedAttempts: 1 });
  });

  it('counts money in flight (amount + fee limit) against the budget', () => {
    const s = newStream(5_000n); // room for two periods at 1000 + 1000 fee limit each
    expect(ledger.reserve(period(s.id, 0))).toBe('reserved');
    expect(ledger.reserve(period(s.id, 1))).toBe('reserved');
    expect(ledger.reserve(period(s.id, 2))).toBe('over-budget');
    ledger.settle(period(s.id, 0).paymentId, 10n); // spent 1010, 2000 in flight: 1990 left
    expect(ledger.reserve(period(s.id, 2))).toBe('over-budget');
    ledger.settle(period(s.id, 1).paymentId, undefined); // the planned fee (10) when LDK gave none
    expect(ledger.get(s.id).feeMsat).toBe(20n);
    expect(ledger.reserve(period(s.id, 2))).toBe('reserved');
  });

  it('skipping moves next_period forward only, counting skipped periods', () => {
    const s = newStream();
    ledger.skipTo(s.id, 5);
    ledger.skipTo(s.id, 3);
    expect(ledger.get(s.id)).toMatchObject({ nextPeriod: 5, skippedPeriods: 5 });
    expect(() => ledger.reserve(period(s.id, 4))).toThrow(/already settled or skipped/);
    expect(ledger.reserve(period(s.id, 7))).toBe('reserved');
    expect(ledger.get(s.id)).toMatchObject({ nextPeriod: 8, skippedPeriods: 7 });
  });

  it('survives reopening: reserved periods are still there to be resolved', () => {
    const s = newStream();
    ledger.reserve(period(s.id, 0));
    ledger.close();
    ledger = new StreamLedger(join(dir, 'streams.sqlite'));
    expect(ledger.openPeriods()).toMatchObject([{ streamId: s.id, period: 0, state: 'reserved' }]);
    let code: string | undefined;
    try {
      ledger.get('s_missing');
    } catch (e) {
      if (isWalletError(e)) code = e.code;
    }
    expect(code).toBe('STREAM_NOT_FOUND');
  });
});

describe('period amounts', () => {
  it('add up to the rate exactly, whatever the period', () => {
    for (const [satsPerMinute, periodMs] of [
      [1n, 1000],
      [7n, 1000],
      [600n, 100],
      [100n, 60_000],
      [13n, 333],
    ] as const) {
      const stream = { satsPerMinute, periodMs };
      const periods = Math.round(600_000 / periodMs); // ten minutes
      let total = 0n;
      for (let k = 0; k < periods; k++) {
        const amount = periodAmountMsat(stream, k);
        expect(amount).toBeLessThanOrEqual(maxPeriodAmountMsat(stream));
        total += amount;
      }
      expect(total).toBe((satsPerMinute * 1000n * BigInt(periods * periodMs)) / 60_000n);
    }
  });
});

describe('backup sealing', () => {
  it('round-trips a snapshot and refuses another key, another node id, or a flipped bit', async () => {
    const snapshot = new Map([
      ['ldk/manager', new Uint8Array([1, 2, 3])],
      ['ldk/monitor/ab:0', new Uint8Array(1000).fill(9)],
    ]);
    const key = new Uint8Array(32).fill(4);
    const blob = await sealBackup(key, 'node-a', encodeSnapshot(snapshot));
    expect(decodeSnapshot(await openBackup(key, 'node-a', blob))).toEqual(snapshot);
    await expect(openBackup(new Uint8Array(32).fill(5), 'node-a', blob)).rejects.toThrow(/decrypt/);
    await expect(openBackup(key, 'node-b', blob)).rejects.toThrow(/decrypt/);
    const flipped = Uint8Array.from(blob);
    flipped[flipped.length - 1]! ^= 1;
    await expect(openBackup(key, 'node-a', flipped)).rejects.toThrow(/decrypt/);
  });
});
