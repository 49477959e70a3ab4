// Reading a rates document: the configured path per currency, decimals kept as text, and every
// malformed value refused (the whole reading with it).
import { describe, expect, it } from 'vitest';
import { RatesSourceError, readRates } from './rates.ts';

describe('readRates', () => {
  it('follows the path, with {CURRENCY} or {currency} standing for the code', () => {
    const coinbase = { data: { currency: 'BTC', rates: { USD: '97123.455', EUR: '89000.1' } } };
    expect(readRates(coinbase, 'data.rates.{CURRENCY}', ['USD', 'EUR'])).toEqual([
      { currency: 'USD', perBtc: '97123.455' },
      { currency: 'EUR', perBtc: '89000.1' },
    ]);
    const coingecko = { bitcoin: { usd: 97123, jpy: 15234567.5 } };
    expect(readRates(coingecko, 'bitcoin.{currency}', ['USD', 'JPY'])).toEqual([
      { currency: 'USD', perBtc: '97123' },
      { currency: 'JPY', perBtc: '15234567.5' },
    ]);
  });

  it('keeps at most 8 decimals and writes the number canonically', () => {
    expect(readRates({ USD: '0097000.123456789000' }, '{CURRENCY}', ['USD'])).toEqual([
      { currency: 'USD', perBtc: '97000.12345678' },
    ]);
    expect(readRates({ USD: ' 5.50 ' }, '{CURRENCY}', ['USD'])[0]!.perBtc).toBe('5.5');
  });

  it('refuses a missing, malformed, zero, negative or absurd rate, naming the currency', () => {
    const bad: unknown[] = [
      {},
      { USD: null },
      { USD: 'abc' },
      { USD: '' },
      { USD: '0' },
      { USD: '0.000000001' },
      { USD: -5 },
      { USD: '-5' },
      { USD: '1e5' },
      { USD: 1e21 },
      { USD: '1234567890123' },
      { USD: { value: 5 } },
      { USD: [97000] },
      'USD',
      null,
    ];
    for (const document of bad) {
      expect(() => readRates(document, '{CURRENCY}', ['USD']), JSON.stringify(document)).toThrow(
        RatesSourceError,
      );
      expect(() => readRates(document, '{CURRENCY}', ['USD'])).toThrow(/^USD: /);
    }
  });

  it('refuses the whole reading when one currency is bad', () => {
    expect(() => readRates({ USD: '97000', EUR: 'n/a' }, '{CURRENCY}', ['USD', 'EUR'])).toThrow(/^EUR: /);
  });

  it('does not read inherited properties', () => {
    expect(() => readRates({}, 'constructor.name', ['USD'])).toThrow(RatesSourceError);
  });
});
