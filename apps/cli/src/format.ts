// Output at the display edge: msat → sat text for people, JSON (bigints as decimal strings) for machines.

/** 1234000 → "1234", 1234567 → "1234.567" (sats; exact, no floating point). */
export function sat(msat: bigint): string {
  const negative = msat < 0n;
  const abs = negative ? -msat : msat;
  const whole = abs / 1000n;
  const frac = abs % 1000n;
  const text =
    frac === 0n ? whole.toString() : `${whole}.${frac.toString().padStart(3, '0').replace(/0+$/, '')}`;
  return negative ? `-${text}` : text;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

export function isoOrDash(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : new Date(ms).toISOString();
}
