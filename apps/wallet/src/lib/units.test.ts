import { describe, expect, it } from 'vitest';
import { AmountInputError, formatAmount, msatToSatCeil, msatToSatFloor, parseAmountInput } from './units.ts';

describe('display amounts', () => {
  it('rounds balances down and costs up, never the other way', () => {
    expect(msatToSatFloor(1_999n)).toBe(1n);
    expect(msatToSatCeil(1_001n)).toBe(2n);
    expect(msatToSatCeil(2_000n)).toBe(2n);
    expect(formatAmount(19_919_999n, 'sat')).toBe('19\u202f919 sats');
    expect(formatAmount(80_001n, 'sat', 'ceil')).toBe('81 sats');
    expect(formatAmount(1_000n, 'sat')).toBe('1 sat');
  });
  it('shows BTC with 8 decimals', () => {
    expect(formatAmount(20_000_000n, 'btc')).toBe('0.00020000 BTC');
    expect(formatAmount(2_100_000_000_000_000_000n, 'btc')).toBe('21000000.00000000 BTC');
  });
});

describe('typed amounts', () => {
  it('parses sats and BTC to msat exactly', () => {
    expect(parseAmountInput('20000', 'sat')).toBe(20_000_000n);
    expect(parseAmountInput('20 000', 'sat')).toBe(20_000_000n);
    expect(parseAmountInput('0.0002', 'btc')).toBe(20_000_000n);
    expect(parseAmountInput('1', 'btc')).toBe(100_000_000_000n);
    expect(parseAmountInput('  ', 'sat')).toBeUndefined();
  });
  it.each([
    ['1.5', 'sat'],
    ['-3', 'sat'],
    ['0', 'sat'],
    ['1e3', 'sat'],
    ['0.000000001', 'btc'],
    ['21000001', 'btc'],
    ['abc', 'btc'],
  ] as const)('refuses %s %s', (text, unit) => {
    expect(() => parseAmountInput(text, unit)).toThrow(AmountInputError);
  });
});
