import { describe, expect, it } from 'vitest';
import { formatFiat, newerReading, rateFor, storedReading } from './fiat.ts';
import { rateAge, timeLeft } from './time.ts';

const usd = { currency: 'USD', perBtc: '100000' };

describe('fiat beside sats', () => {
  it('converts msat exactly and rounds down to the currency’s smallest unit', () => {
    expect(formatFiat(20_000_000n, usd, 'en-US')).toBe('$20.00');
    expect(formatFiat(19_999_999n, usd, 'en-US')).toBe('$19.99');
    expect(formatFiat(2_100_000_000_000_000_000n, usd, 'en-US')).toBe('$2,100,000,000,000.00');
    // a rate with 8 decimals and an amount in msat: no float on the way (97123.45678901 × 0.00012345 BTC)
    expect(formatFiat(12_345_000n, { currency: 'USD', perBtc: '97123.45678901' }, 'en-US')).toBe('$11.98');
  });

  it('writes each currency with its own digits and symbol', () => {
    expect(formatFiat(20_000_000n, { currency: 'JPY', perBtc: '15000000' }, 'en-US')).toBe('¥3,000');
    expect(formatFiat(20_000_000n, { currency: 'EUR', perBtc: '92000' }, 'de-DE')).toBe('18,40\u00a0€');
    expect(formatFiat(20_000_000n, { currency: 'GBP', perBtc: '79000' }, 'en-GB')).toBe('£15.80');
  });

  it('says "less than" for an amount below one smallest unit, and zero for nothing', () => {
    expect(formatFiat(5_000n, usd, 'en-US')).toBe('< $0.01');
    expect(formatFiat(0n, usd, 'en-US')).toBe('$0.00');
    expect(formatFiat(-20_000_000n, usd, 'en-US')).toBe('−$20.00');
  });

  it('gives no text, never a wrong number, for a bad rate or an unknown currency', () => {
    for (const perBtc of ['0', '0.00', '', 'abc', '-100', '1e5', '97,000', '1234567890123', ' 100'])
      expect(formatFiat(20_000_000n, { currency: 'USD', perBtc }, 'en-US'), perBtc).toBeUndefined();
    expect(formatFiat(20_000_000n, { currency: 'usd!', perBtc: '100' }, 'en-US')).toBeUndefined();
  });

  it('picks the chosen currency from a reading; none chosen or none served: nothing', () => {
    const reading = { atMs: 1, rates: [usd, { currency: 'EUR', perBtc: '92000' }] };
    expect(rateFor(reading, 'EUR')?.perBtc).toBe('92000');
    expect(rateFor(reading, 'CHF')).toBeUndefined();
    expect(rateFor(reading, '')).toBeUndefined();
    expect(rateFor(undefined, 'USD')).toBeUndefined();
  });
});

describe('the rates kept on the device', () => {
  it('keeps a stored reading only if it has the shape of one', () => {
    const reading = { atMs: 1_000, rates: [usd] };
    expect(storedReading(reading)).toBe(reading);
    for (const junk of [undefined, null, 'USD', { atMs: '1000', rates: [usd] }, { atMs: 1, rates: {} }])
      expect(storedReading(junk)).toBeUndefined();
  });

  it('never replaces a reading with an older one', () => {
    const old = { atMs: 1_000, rates: [usd] };
    const fresh = { atMs: 2_000, rates: [{ currency: 'USD', perBtc: '101000' }] };
    expect(newerReading(undefined, old)).toBe(old);
    expect(newerReading(old, fresh)).toBe(fresh);
    expect(newerReading(fresh, old)).toBe(fresh);
  });
});

describe('durations in words', () => {
  it('counts an invoice down, and says nothing once it expired', () => {
    expect(timeLeft(3_599_999)).toBe('59:59');
    expect(timeLeft(65_000)).toBe('1:05');
    expect(timeLeft(999)).toBe('0:00');
    expect(timeLeft(0)).toBeUndefined();
    expect(timeLeft(-5)).toBeUndefined();
    expect(timeLeft(3_600_000)).toBe('1 h 00 min');
    expect(timeLeft(47 * 3_600_000 + 59 * 60_000)).toBe('47 h 59 min');
    expect(timeLeft(7 * 86_400_000)).toBe('7 days');
  });

  it('shows a rate’s age only once it is an hour old', () => {
    const now = 10 * 86_400_000;
    expect(rateAge(now - 59 * 60_000, now)).toBeUndefined();
    expect(rateAge(now - 3 * 3_600_000 - 1, now)).toBe('3 h ago');
    expect(rateAge(now - 3 * 86_400_000, now)).toBe('3 days ago');
  });
});
