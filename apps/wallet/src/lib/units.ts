// Amounts at the display edge: bigint msat inside, sats (default) or BTC on screen, and the parsing
// of what a person types. Nothing here rounds money that is then spent: display only rounds down.

export type Unit = 'sat' | 'btc';

const MSAT_PER_SAT = 1000n;
const SAT_PER_BTC = 100_000_000n;

/** Whole sats, rounded down (a balance is never shown higher than it is). */
export function msatToSatFloor(msat: bigint): bigint {
  if (msat < 0n) return -msatToSatFloor(-msat);
  return msat / MSAT_PER_SAT;
}

/** Sats rounded up (a fee or cost is never shown lower than it is). */
export function msatToSatCeil(msat: bigint): bigint {
  if (msat < 0n) return -msatToSatFloor(-msat);
  return (msat + MSAT_PER_SAT - 1n) / MSAT_PER_SAT;
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

/** "20 000 sats" / "0.00020000 BTC". `round` picks floor (balances) or ceil (costs). */
export function formatAmount(msat: bigint, unit: Unit, round: 'floor' | 'ceil' = 'floor'): string {
  const sat = round === 'floor' ? msatToSatFloor(msat) : msatToSatCeil(msat);
  const negative = sat < 0n;
  const abs = negative ? -sat : sat;
  const sign = negative ? '−' : '';
  if (unit === 'btc') {
    const whole = abs / SAT_PER_BTC;
    const frac = (abs % SAT_PER_BTC).toString().padStart(8, '0');
    return `${sign}${whole}.${frac} BTC`;
  }
  return `${sign}${groupThousands(abs.toString())} ${abs === 1n ? 'sat' : 'sats'}`;
}

export class AmountInputError extends Error {
  override readonly name = 'AmountInputError';
}

/**
 * What a person typed, in the chosen unit, to msat. Empty → undefined. Refuses anything that is
 * not a plain positive number or that has more precision than 1 sat.
 * @example parseAmountInput('20000', 'sat') // 20_000_000n
 */
export function parseAmountInput(text: string, unit: Unit): bigint | undefined {
  const cleaned = text.replace(/[\s\u202f_,]/g, '');
  if (cleaned === '') return undefined;
  if (unit === 'sat') {
    if (!/^[0-9]{1,16}$/.test(cleaned)) throw new AmountInputError('Enter a whole number of sats');
    const sat = BigInt(cleaned);
    if (sat === 0n) throw new AmountInputError('Enter an amount above zero');
    return sat * MSAT_PER_SAT;
  }
  const m = /^([0-9]{1,8})(?:\.([0-9]{0,8}))?$/.exec(cleaned);
  if (!m) throw new AmountInputError('Enter an amount in BTC with at most 8 decimals');
  const sat = BigInt(m[1]!) * SAT_PER_BTC + BigInt((m[2] ?? '').padEnd(8, '0') || '0');
  if (sat === 0n) throw new AmountInputError('Enter an amount above zero');
  if (sat > 21_000_000n * SAT_PER_BTC) throw new AmountInputError('That is more than all bitcoin');
  return sat * MSAT_PER_SAT;
}
