// Fiat beside sats, for display only: bigint msat times the LSP's rate (a decimal string), in bigint
// arithmetic, rounded down to the currency's smallest unit and written by Intl.NumberFormat. No rate
// or a malformed one gives no text, never a wrong number.
import type { FiatRate, RatesOutput } from '@lpw/api';

/** The currencies Settings offers (the LSP's source may serve more). */
export const FIAT_CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF'] as const;

/**
 * A rate as the contract writes it (@lpw/api's FIAT_PER_BTC, checked again here): importing that
 * module would pull the contract's schemas into the app's first chunk.
 */
const PER_BTC = /^(0|[1-9][0-9]{0,11})(?:\.([0-9]{1,8}))?$/;

/** msat in a bitcoin (1e11) times the scale of a rate's 8 decimals (1e8). */
const MSAT_PER_BTC_SCALED = 10n ** 19n;

const formats = new Map<string, Intl.NumberFormat>();
function currencyFormat(currency: string, locale: string | undefined): Intl.NumberFormat | undefined {
  const key = `${locale}/${currency}`;
  let format = formats.get(key);
  if (!format) {
    try {
      format = new Intl.NumberFormat(locale, { style: 'currency', currency });
    } catch {
      return undefined; // a code this browser does not know
    }
    formats.set(key, format);
  }
  return format;
}

/** `minor` smallest units as a decimal string with `digits` decimals: (1234n, 2) → "12.34". */
function decimal(minor: bigint, digits: number): string {
  const text = minor.toString().padStart(digits + 1, '0');
  return digits ? `${text.slice(0, -digits)}.${text.slice(-digits)}` : text;
}

/**
 * "$20.00" for 20,000 sats at 100,000 USD/BTC; "< $0.01" for a few sats; undefined for a rate that
 * is not a positive decimal or a currency Intl does not know.
 * @example formatFiat(20_000_000n, { currency: 'USD', perBtc: '100000' }, 'en-US') // '$20.00'
 */
export function formatFiat(msat: bigint, rate: FiatRate, locale?: string): string | undefined {
  const m = PER_BTC.exec(rate.perBtc);
  const format = currencyFormat(rate.currency, locale);
  if (!m || !format) return undefined;
  const perBtcScaled = BigInt(m[1]! + (m[2] ?? '').padEnd(8, '0'));
  if (perBtcScaled === 0n) return undefined;
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  const abs = msat < 0n ? -msat : msat;
  const minor = (abs * perBtcScaled * 10n ** BigInt(digits)) / MSAT_PER_BTC_SCALED;
  // Intl formats a decimal string exactly (no float on the way); the type says number
  const write = (value: string) => format.format(value as unknown as number);
  if (minor === 0n && abs > 0n) return `< ${write(decimal(1n, digits))}`;
  return `${msat < 0n ? '−' : ''}${write(decimal(minor, digits))}`;
}

/** The rate for `currency` in a reading, if it has one. */
export function rateFor(reading: RatesOutput | undefined, currency: string): FiatRate | undefined {
  return currency ? reading?.rates.find((r) => r.currency === currency) : undefined;
}

/**
 * What the device kept last time, if it is a reading (IndexedDB holds whatever an older version
 * wrote); its rates are checked again when formatted.
 */
export function storedReading(value: unknown): RatesOutput | undefined {
  const r = value as RatesOutput | undefined;
  return typeof r?.atMs === 'number' && Array.isArray(r.rates) ? r : undefined;
}

/** The reading to keep: the newer one (an answer that took long must not replace a later one). */
export function newerReading(kept: RatesOutput | undefined, fresh: RatesOutput): RatesOutput {
  return kept && kept.atMs > fresh.atMs ? kept : fresh;
}
