// A stream's periods: what each one owes (msat, floors of the cumulative amount so nothing is lost
// to rounding), the smallest and largest of them, and how many there are until the end time.
import type { StreamRecord } from './ledger.ts';

type Rate = Pick<StreamRecord, 'satsPerMinute' | 'periodMs'>;

/** msat due for period k: the floor of the cumulative amount, so no msat is lost to rounding. */
export function periodAmountMsat(stream: Rate, k: number): bigint {
  const perPeriodTimes60k = stream.satsPerMinute * 1000n * BigInt(stream.periodMs);
  const cumulative = (n: bigint) => (n * perPeriodTimes60k) / 60_000n;
  return cumulative(BigInt(k) + 1n) - cumulative(BigInt(k));
}

/** The largest single-period amount of a stream (routes are priced for it). */
export function maxPeriodAmountMsat(stream: Rate): bigint {
  const perPeriodTimes60k = stream.satsPerMinute * 1000n * BigInt(stream.periodMs);
  return (perPeriodTimes60k + 59_999n) / 60_000n;
}

/** How many periods start before the end time. */
export function periodCount(stream: Pick<StreamRecord, 'startMs' | 'endMs' | 'periodMs'>): number {
  return Math.ceil((stream.endMs - stream.startMs) / stream.periodMs);
}

/** The smallest single-period amount of a stream (0 when the rate is below 1 msat a period). */
export function minPeriodAmountMsat(stream: Rate): bigint {
  return (stream.satsPerMinute * 1000n * BigInt(stream.periodMs)) / 60_000n;
}
