// Fee policy arithmetic: BOLT 3 dust thresholds without anchors, when a small payment waits, and
// what the person is told.
import { describe, expect, it } from 'vitest';
import { isNodeError } from './errors.ts';
import { assertPaymentNotDust, feeWeatherReport, htlcDustThresholdMsat } from './fee-policy.ts';

const refusal = (fn: () => void): string => {
  try {
    fn();
  } catch (e) {
    if (isNodeError(e, 'FEES_TOO_HIGH')) return e.message;
    throw e;
  }
  return 'allowed';
};

describe('fee policy', () => {
  it('an HTLC is dust under the dust limit plus the HTLC-success fee (703 WU) at the feerate', () => {
    expect(htlcDustThresholdMsat(253)).toBe(532_000n); // 354 + ⌈177.859⌉
    expect(htlcDustThresholdMsat(5_000)).toBe(3_869_000n);
    expect(htlcDustThresholdMsat(50_000)).toBe(35_504_000n);
  });

  it('small payments go in fair weather within the dust budget, wait when fees are high', () => {
    const fair = [{ feerateSatPerKw: 500, dustInFlightMsat: 0n }];
    expect(refusal(() => assertPaymentNotDust(1_000n, fair))).toBe('allowed'); // a 1-sat stream payment
    expect(
      refusal(() => assertPaymentNotDust(1_000n, [{ feerateSatPerKw: 500, dustInFlightMsat: 25_000_000n }])),
    ).toBe('FEES_TOO_HIGH: network fees are high right now; payments under 706 sats wait');
    const high = [{ feerateSatPerKw: 50_000, dustInFlightMsat: 0n }];
    expect(refusal(() => assertPaymentNotDust(35_503_999n, high))).toBe(
      'FEES_TOO_HIGH: network fees are high right now; payments under 35504 sats wait',
    );
    expect(refusal(() => assertPaymentNotDust(35_504_000n, high))).toBe('allowed');
    // one channel where it is not dust is enough
    expect(refusal(() => assertPaymentNotDust(1_000_000n, [...high, ...fair]))).toBe('allowed');
  });

  it('reports high fees from the channel or from the estimate the LSP has not applied yet', () => {
    const base = {
      nextBlockSatPerKw: 600,
      commitmentSatPerKw: 500,
      dayAheadSatPerKw: 400,
      sweepSatPerKw: 500,
    };
    const fair = feeWeatherReport({
      ...base,
      channels: [{ feerateSatPerKw: 500, weFund: false, nonDustHtlcs: 0, usable: true }],
    });
    expect(fair).toMatchObject({
      high: false,
      smallPaymentMinMsat: 0n,
      notice: undefined,
      channelSatPerKw: 500,
    });
    expect(fair.closeCostMsat).toEqual({ cooperative: 0n, force: 242_000n }); // ⌊484 × 0.5⌋ sat
    const coming = feeWeatherReport({
      ...base,
      commitmentSatPerKw: 5_000,
      channels: [{ feerateSatPerKw: 500, weFund: true, nonDustHtlcs: 2, usable: true }],
    });
    expect(coming).toMatchObject({ high: true, smallPaymentMinMsat: 3_869_000n });
    // funder: the closing tx (674 WU at the commitment estimate); force: commitment with 2 HTLC outputs + sweep
    expect(coming.closeCostMsat).toEqual({ cooperative: 3_370_000n, force: 242_000n + 534_000n });
    expect(feeWeatherReport({ ...base, channels: [] }).channelSatPerKw).toBeUndefined();
    // the peer gone: no channel is usable, yet a force close still costs its sweep
    const alone = feeWeatherReport({
      ...base,
      channels: [{ feerateSatPerKw: 500, weFund: false, nonDustHtlcs: 0, usable: false }],
    });
    expect(alone).toMatchObject({ channelSatPerKw: undefined, high: false });
    expect(alone.closeCostMsat).toEqual({ cooperative: 0n, force: 242_000n });
  });
});
