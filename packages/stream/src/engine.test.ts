// What a new stream must be, checked before anything is stored (a Lightning Address recipient too:
// the shortest period allowed for it, the amounts its service takes); and the per-period amounts of
// a rate add up exactly (no msat lost to rounding).
import { describe, expect, it } from 'vitest';
import { checkStreamRequest, type StreamRequest } from './engine.ts';
import { isStreamError } from './errors.ts';
import { checkPeriodAmounts } from './lnurl.ts';
import { maxPeriodAmountMsat, minPeriodAmountMsat, periodAmountMsat } from './periods.ts';

const now = 1_700_000_000_000;
const good: StreamRequest = {
  to: `02${'ab'.repeat(32)}`,
  satsPerMinute: 60n,
  periodMs: 1000,
  budgetMsat: 100_000n,
  untilMs: now + 60_000,
};
const lnurl = { minPeriodMs: 10_000 };
const codeOf = (request: StreamRequest) => {
  try {
    checkStreamRequest(request, now, lnurl);
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
    expect(codeOf({ ...good, to: 'merchant' })).toBe('INVALID_RECIPIENT');
    expect(codeOf({ ...good, to: `04${'ab'.repeat(32)}` })).toBe('INVALID_RECIPIENT');
    expect(codeOf({ ...good, to: 'lnbcrt1invoice' })).toBe('INVALID_RECIPIENT');
    expect(codeOf({ ...good, satsPerMinute: 0n })).toBe('INVALID_RATE');
    expect(codeOf({ ...good, periodMs: 5 })).toBe('INVALID_PERIOD');
    expect(codeOf({ ...good, untilMs: now })).toBe('END_IN_PAST');
    expect(codeOf({ ...good, maxFeeMsatPerPayment: -1n })).toBe('INVALID_FEE_LIMIT');
    // one period is 1 sat + a 5 sat fee limit: 5,999 msat cannot pay it
    expect(codeOf({ ...good, budgetMsat: 5_999n })).toBe('BUDGET_BELOW_ONE_PERIOD');
    expect(codeOf({ ...good, budgetMsat: 6_000n })).toBe('ok');
  });
});

describe('a Lightning Address recipient', () => {
  const address = { ...good, to: ' Merchant@example.com ', periodMs: 10_000 };

  it('is kept as typed; a node id is kept lowercase', () => {
    expect(checkStreamRequest(address, now, lnurl).payee).toBe('Merchant@example.com');
    expect(checkStreamRequest({ ...good, to: good.to.toUpperCase() }, now).payee).toBe(good.to);
  });

  it('needs a wallet that can reach it, and a period no shorter than its minimum', () => {
    expect(() => checkStreamRequest(address, now)).toThrow('node ids only');
    expect(codeOf({ ...address, periodMs: 9_999 })).toBe('INVALID_PERIOD');
    expect(codeOf(address)).toBe('ok');
  });

  it('is refused when a period pays less than it takes, or more', () => {
    const takes = { minSendableMsat: 1_000n, maxSendableMsat: 100_000n };
    const refusal = (stream: { satsPerMinute: bigint; periodMs: number }) => {
      try {
        checkPeriodAmounts(takes as Parameters<typeof checkPeriodAmounts>[0], stream);
        return 'ok';
      } catch (e) {
        return isStreamError(e, 'AMOUNT_OUT_OF_RANGE') ? e.message : String(e);
      }
    };
    // 5 sats a minute every 10 s: 833 or 834 msat a period, below 1 sat
    expect(refusal({ satsPerMinute: 5n, periodMs: 10_000 })).toMatch(/does not take payments this small/);
    expect(refusal({ satsPerMinute: 6n, periodMs: 10_000 })).toBe('ok');
    expect(refusal({ satsPerMinute: 600n, periodMs: 10_000 })).toBe('ok'); // 100 sats
    // 601 sats a minute every 10 s: up to 100,167 msat a period
    expect(refusal({ satsPerMinute: 601n, periodMs: 10_000 })).toMatch(/does not take payments this large/);
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
        expect(amount).toBeGreaterThanOrEqual(minPeriodAmountMsat(stream));
        total += amount;
      }
      expect(total).toBe((satsPerMinute * 1000n * BigInt(periods * periodMs)) / 60_000n);
    }
  });
});
