// The rules every StreamLedger keeps, as tests any implementation runs against itself (the CLI's
// SQLite ledger, the Store ledger the wallet PWA runs on IndexedDB): a period is reserved once,
// budgets hold with in-flight money counted, settling folds into the stream's aggregates, state
// survives reopening.
import { describe, expect, it } from 'vitest';
import { isStreamError } from './errors.ts';
import { periodSecrets } from './keysend.ts';
import type { PeriodReservation, StreamLedger } from './ledger.ts';

export interface LedgerUnderTest {
  ledger: StreamLedger;
  /** The same ledger opened again from what it stored (a restart). */
  reopen(): Promise<StreamLedger>;
  close(): Promise<void> | void;
}

export function describeStreamLedger(name: string, open: () => Promise<LedgerUnderTest>): void {
  describe(`${name} keeps the stream ledger's rules`, () => {
    const setup = async (budgetMsat = 10_000n) => {
      const t = await open();
      const s = await t.ledger.create({
        payee: `02${'11'.repeat(32)}`,
        satsPerMinute: 60n,
        periodMs: 1000,
        budgetMsat,
        maxFeeMsat: 1000n,
        startMs: 0,
        endMs: 60_000,
        onRestart: 'resume',
      });
      const period = (k: number, attempt = 0): PeriodReservation => {
        const secrets = periodSecrets(new Uint8Array(32).fill(5), s.id, k, attempt);
        return {
          streamId: s.id,
          period: k,
          attempt,
          paymentId: secrets.paymentId,
          paymentHash: secrets.paymentHash,
          amountMsat: 1000n,
          plannedFeeMsat: 10n,
          maxFeeMsat: 1000n,
        };
      };
      return { t, id: s.id, period };
    };
    const rejects = async (f: () => unknown, pattern: RegExp) => {
      let message = '';
      try {
        await f();
      } catch (e) {
        message = e instanceof Error ? e.message : String(e);
      }
      expect(message).toMatch(pattern);
    };

    it('reserves a period once; a retry needs a failed attempt and a higher attempt number', async () => {
      const { t, id, period } = await setup();
      const l = t.ledger;
      expect(await l.reserve(period(0))).toBe('reserved');
      await rejects(() => l.reserve(period(0, 1)), /reserved/);
      await l.fail(period(0).paymentId, 'no route');
      await rejects(() => l.reserve(period(0, 0)), /not reserving/);
      expect(await l.reserve(period(0, 1))).toBe('reserved');
      expect(await l.settle(period(0, 1).paymentId, 7n)).toMatchObject({ period: 0, attempt: 1 });
      expect(await l.settle(period(0, 1).paymentId, 7n)).toBeUndefined(); // a replayed event
      // settled: the row is gone, and the period can never be reserved again
      expect(await l.openPeriods(id)).toEqual([]);
      await rejects(() => l.reserve(period(0, 2)), /already settled/);
      expect(await l.get(id)).toMatchObject({
        paidCount: 1,
        paidMsat: 1000n,
        feeMsat: 7n,
        failedAttempts: 1,
      });
      await t.close();
    });

    it('counts money in flight (amount + fee limit) against the budget', async () => {
      const { t, id, period } = await setup(5_000n); // room for two periods at 1000 + 1000 fee limit each
      const l = t.ledger;
      expect(await l.reserve(period(0))).toBe('reserved');
      expect(await l.reserve(period(1))).toBe('reserved');
      expect(await l.reserve(period(2))).toBe('over-budget');
      await l.settle(period(0).paymentId, 10n); // spent 1010, 2000 in flight: 1990 left
      expect(await l.reserve(period(2))).toBe('over-budget');
      await l.settle(period(1).paymentId, undefined); // the planned fee (10) when LDK gave none
      expect((await l.get(id)).feeMsat).toBe(20n);
      expect(await l.reserve(period(2))).toBe('reserved');
      await t.close();
    });

    it('skipping moves nextPeriod forward only, counting skipped periods; abandoning counts too', async () => {
      const { t, id, period } = await setup();
      const l = t.ledger;
      await l.skipTo(id, 5);
      await l.skipTo(id, 3);
      expect(await l.get(id)).toMatchObject({ nextPeriod: 5, skippedPeriods: 5 });
      await rejects(() => l.reserve(period(4)), /already settled or skipped/);
      expect(await l.reserve(period(7))).toBe('reserved');
      expect(await l.get(id)).toMatchObject({ nextPeriod: 8, skippedPeriods: 7 });
      await l.fail(period(7).paymentId, 'no route');
      await l.abandon(id, 7);
      expect(await l.get(id)).toMatchObject({ skippedPeriods: 8, failedAttempts: 1 });
      expect(await l.openPeriods(id)).toEqual([]);
      await t.close();
    });

    it('survives reopening: reserved periods and states are still there; unknown ids are typed errors', async () => {
      const { t, id, period } = await setup();
      await t.ledger.reserve(period(0));
      await t.ledger.setState(id, 'paused');
      const again = await t.reopen();
      expect(await again.openPeriods()).toMatchObject([{ streamId: id, period: 0, state: 'reserved' }]);
      expect(await again.get(id)).toMatchObject({ state: 'paused', nextPeriod: 1, budgetMsat: 10_000n });
      expect(await again.list()).toHaveLength(1);
      let code: string | undefined;
      try {
        await again.get('s_missing');
      } catch (e) {
        if (isStreamError(e)) code = e.code;
      }
      expect(code).toBe('STREAM_NOT_FOUND');
      await t.close();
    });
  });
}
