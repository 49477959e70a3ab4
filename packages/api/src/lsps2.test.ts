import { describe, expect, it } from 'vitest';
import { formatScid, parseScid, U64_MAX } from './amounts.ts';
import { ApiError } from './errors.ts';
import {
  checkBuy,
  createPromise,
  feeParamsToWire,
  jitBuyInput,
  type OpeningFeeParams,
  openingFeeMsat,
  openingFeeParamsInput,
  type UnsignedFeeParams,
  verifyPromise,
} from './lsps2.ts';

const secret = new Uint8Array(32).fill(7);
const unsigned: UnsignedFeeParams = {
  min_fee_msat: 546_000n,
  proportional: 1_200,
  valid_until: '2030-01-01T00:00:00.000Z',
  min_lifetime: 1_008,
  max_client_to_self_delay: 2_016,
  min_payment_size_msat: 10_000_000n,
  max_payment_size_msat: 4_000_000_000n,
};
const signed = (p: UnsignedFeeParams = unsigned): OpeningFeeParams => ({
  ...p,
  promise: createPromise(p, secret),
});
const now = Date.parse('2029-06-01T00:00:00Z');

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
  return undefined;
}

describe('bLIP 52 opening fee: max(min_fee_msat, ceil(size × proportional / 1e6))', () => {
  it('takes min_fee_msat when the proportional part is smaller', () => {
    expect(openingFeeMsat(100_000_000n, { min_fee_msat: 546_000n, proportional: 1_000 })).toBe(546_000n);
  });
  it('takes the proportional part when larger, rounding up', () => {
    expect(openingFeeMsat(1_000_000_000n, { min_fee_msat: 1n, proportional: 1_000 })).toBe(1_000_000n);
    expect(openingFeeMsat(1_000_000_001n, { min_fee_msat: 1n, proportional: 1_000 })).toBe(1_000_001n);
    expect(openingFeeMsat(1n, { min_fee_msat: 0n, proportional: 1 })).toBe(1n); // ceil(1e-6)
    expect(openingFeeMsat(999_999n, { min_fee_msat: 0n, proportional: 1 })).toBe(1n);
    expect(openingFeeMsat(1_000_001n, { min_fee_msat: 0n, proportional: 1 })).toBe(2n);
  });
  it('zero size or zero proportional yields min_fee_msat', () => {
    expect(openingFeeMsat(0n, { min_fee_msat: 5n, proportional: 4_000_000_000 })).toBe(5n);
    expect(openingFeeMsat(U64_MAX, { min_fee_msat: 5n, proportional: 0 })).toBe(5n);
  });
  it('aborts when the product exceeds u64', () => {
    expect(codeOf(() => openingFeeMsat(U64_MAX, { min_fee_msat: 0n, proportional: 2 }))).toBe('FEE_OVERFLOW');
    expect(codeOf(() => openingFeeMsat(2n ** 63n, { min_fee_msat: 0n, proportional: 2 }))).toBe(
      'FEE_OVERFLOW',
    );
  });
  it('accepts the largest product exactly at u64 but aborts when rounding crosses it', () => {
    // U64_MAX itself × 1 fits; + 999_999 for the ceiling does not
    expect(codeOf(() => openingFeeMsat(U64_MAX, { min_fee_msat: 0n, proportional: 1 }))).toBe('FEE_OVERFLOW');
    const fits = U64_MAX - 999_999n;
    expect(openingFeeMsat(fits, { min_fee_msat: 0n, proportional: 1 })).toBe(U64_MAX / 1_000_000n);
    expect(codeOf(() => openingFeeMsat(fits + 1n, { min_fee_msat: 0n, proportional: 1 }))).toBe(
      'FEE_OVERFLOW',
    );
  });
  it('rejects sizes outside u64', () => {
    expect(codeOf(() => openingFeeMsat(-1n, { min_fee_msat: 0n, proportional: 1 }))).toBe('INVALID_INPUT');
    expect(codeOf(() => openingFeeMsat(U64_MAX + 1n, { min_fee_msat: 0n, proportional: 0 }))).toBe(
      'INVALID_INPUT',
    );
  });
});

describe('bLIP 52 promise', () => {
  it('verifies our own promise and survives the wire round trip', () => {
    const p = signed();
    expect(verifyPromise(p, secret)).toBe(true);
    const back = openingFeeParamsInput.parse(JSON.parse(JSON.stringify(feeParamsToWire(p))));
    expect(back).toEqual(p);
    expect(verifyPromise(back, secret)).toBe(true);
  });
  it('fails when any field changes (forgery)', () => {
    const p = signed();
    const changes: Partial<OpeningFeeParams>[] = [
      { min_fee_msat: 545_999n },
      { proportional: 1_199 },
      { valid_until: '2030-01-01T00:00:01.000Z' },
      { min_lifetime: 1_007 },
      { max_client_to_self_delay: 2_017 },
      { min_payment_size_msat: 1n },
      { max_payment_size_msat: 4_000_000_001n },
    ];
    for (const change of changes) {
      expect(verifyPromise({ ...p, ...change }, secret)).toBe(false);
      expect(codeOf(() => checkBuy({ ...p, ...change }, undefined, secret, now))).toBe(
        'INVALID_OPENING_FEE_PARAMS',
      );
    }
    expect(verifyPromise(p, new Uint8Array(32).fill(8))).toBe(false);
    expect(verifyPromise({ ...p, promise: p.promise.toUpperCase() }, secret)).toBe(false);
    expect(verifyPromise({ ...p, promise: 'x' }, secret)).toBe(false);
  });
  it('the 201 error carries LSPS2 code 201; sizes map to 202/203', () => {
    const p = signed();
    try {
      checkBuy({ ...p, proportional: 0 }, undefined, secret, now);
      expect.unreachable();
    } catch (e) {
      expect((e as ApiError).lsps2Code).toBe(201);
    }
    expect(codeOf(() => checkBuy(p, 9_999_999n, secret, now))).toBe('PAYMENT_SIZE_TOO_SMALL');
    expect(codeOf(() => checkBuy(p, 4_000_000_001n, secret, now))).toBe('PAYMENT_SIZE_TOO_LARGE');
    expect(checkBuy(p, 10_000_000n, secret, now).openingFeeMsat).toBe(546_000n);
    expect(checkBuy(p, 4_000_000_000n, secret, now).openingFeeMsat).toBe(4_800_000n);
  });
  it('rejects an expired promise with 201', () => {
    const p = signed();
    expect(codeOf(() => checkBuy(p, undefined, secret, Date.parse(p.valid_until)))).toBe(
      'INVALID_OPENING_FEE_PARAMS',
    );
    expect(checkBuy(p, undefined, secret, Date.parse(p.valid_until) - 1).openingFeeMsat).toBeUndefined();
  });
  it('a fee that eats the whole payment is 202; a fee that overflows is 203', () => {
    const p = signed({ ...unsigned, min_fee_msat: 10_000_000n });
    expect(codeOf(() => checkBuy(p, 10_000_000n, secret, now))).toBe('PAYMENT_SIZE_TOO_SMALL');
    const big = signed({ ...unsigned, proportional: 4_000_000_000, max_payment_size_msat: U64_MAX });
    expect(codeOf(() => checkBuy(big, U64_MAX, secret, now))).toBe('PAYMENT_SIZE_TOO_LARGE');
  });
});

describe('wire validation', () => {
  it('refuses non-canonical or out-of-range msat strings', () => {
    const wire = feeParamsToWire(signed());
    for (const bad of ['-1', '01', '1.5', '1e3', '', ' 1', '18446744073709551616', 'NaN']) {
      expect(openingFeeParamsInput.safeParse({ ...wire, min_fee_msat: bad }).success, bad).toBe(false);
    }
    expect(openingFeeParamsInput.safeParse({ ...wire, min_fee_msat: '18446744073709551615' }).success).toBe(
      true,
    );
    expect(openingFeeParamsInput.safeParse({ ...wire, proportional: 2 ** 32 }).success).toBe(false);
    expect(openingFeeParamsInput.safeParse({ ...wire, valid_until: '2030-01-01' }).success).toBe(false);
    expect(openingFeeParamsInput.safeParse({ ...wire, valid_until: '2030-13-45T00:00:00Z' }).success).toBe(
      false,
    );
    expect(jitBuyInput.safeParse({ opening_fee_params: wire, payment_size_msat: 5 }).success).toBe(false);
    expect(jitBuyInput.safeParse({ opening_fee_params: wire, extra: 1 }).success).toBe(false);
  });
  it('formats and parses BOLT 7 short channel ids', () => {
    const scid = (700_000n << 40n) | (1_234n << 16n) | 1n;
    expect(formatScid(scid)).toBe('700000x1234x1');
    expect(parseScid('700000x1234x1')).toBe(scid);
    expect(parseScid(formatScid(U64_MAX))).toBe(U64_MAX);
    expect(() => parseScid('16777216x0x0')).toThrow(RangeError);
    expect(() => parseScid('1x2')).toThrow(RangeError);
  });
});
