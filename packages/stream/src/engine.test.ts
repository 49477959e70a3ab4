// What a new stream must be, checked before anything is stored; and the per-period amounts of a
// rate add up exactly (no msat lost to rounding).
import { describe, expect, it } from 'vitest';
import { checkStreamRequest, type StreamRequest } from './engine.ts';
import { isStreamError } from './errors.ts';
import { maxPeriodAmountMsat, periodAmountMsat } from './runner.ts';

const now = 1_700_000_000_000;
const good: StreamRequest = {
  to: `02${'ab'.repeat(32)}`,
  satsPerMinute: 60n,
  periodMs: 1000,
  budgetMsat: 100_000n,
  untilMs: now + 60_000,
};
const codeOf = (request: StreamRequest) => {
  try {
    checkStreamRequest(request, now);
    return 'ok';
  } catch (e) {
    return isStreamError(e) ? e.code : String(e);
  }
};

describe('checkStreamRequest', () => {
  it('accepts a well-formed request, with the defaults filled in', () => {
    expect(checkStreamRequest({ ...good, periodMs: undefined }, now)).toEqual({
      payee: good.to,
      satsPerMinute: 60n,
      periodMs: 60_000,
      budgetMsat: 100_000n,
      maxFeeMsat: 5_000n,
      startMs: now,
      endMs: now + 60_000,
      onRestart: 'resume',
    });
  });

  it('names what is wrong', () => {
    expect(codeOf({ ...good, to: 'merchant' })).toBe('INVALID_NODE_ID');
    expect(codeOf({ ...good, to: `04${'ab'.repeat(32)}` })).toBe('INVALID_NODE_ID');
    expect(codeOf({ ...good, satsPerMinute: 0n })).toBe('INVALID_RATE');
    expect(codeOf({ ...good, periodMs: 5 })).toBe('INVALID_PERIOD');
    expect(codeOf({ ...good, untilMs: now })).toBe('END_IN_PAST');
    expect(codeOf({ ...good, maxFeeMsatPerPayment: -1n })).toBe('INVALID_FEE_LIMIT');
    // one period is 1 sat + a 5 sat fee limit: 5,999 msat cannot pay it
    expect(codeOf({ ...good, budgetMsat: 5_999n })).toBe('BUDGET_BELOW_ONE_PERIOD');
    expect(codeOf({ ...good, budgetMsat: 6_000n })).toBe('ok');
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
