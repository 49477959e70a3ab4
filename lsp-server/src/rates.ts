// Exchange rates for the wallets' display: one reading of the operator's source (config.rates), kept
// for RATES_MAX_AGE_SEC and served to every wallet from that one copy, so wallets cannot make the LSP
// hammer the source. A source that answers badly changes nothing: the last good reading stays, with
// its own time, and before any good reading the answer is RATES_UNAVAILABLE — never a wrong number.
import { ApiError, FIAT_PER_BTC, type FiatRate, type RatesOutput } from '@lpw/api';
import type { Deps } from './deps.ts';

/** A source's answer is a few hundred bytes; anything near this is not a rates document. */
const MAX_SOURCE_BYTES = 256 * 1024;
/** After a failed reading, the source is asked again no sooner than this (or the max age, if shorter). */
const RETRY_AFTER_FAILURE_MS = 30_000;

export class RatesSourceError extends Error {
  override readonly name = 'RatesSourceError';
}

/**
 * The rate of each currency in a parsed source document: the value at `path` with {CURRENCY} /
 * {currency} replaced by the code. All or nothing: a source that garbles one currency is not
 * trusted for the others.
 * @example readRates({ data: { rates: { USD: '97000.5' } } }, 'data.rates.{CURRENCY}', ['USD'])
 *   // [{ currency: 'USD', perBtc: '97000.5' }]
 */
export function readRates(document: unknown, path: string, currencies: readonly string[]): FiatRate[] {
  return currencies.map((currency) => {
    let value: unknown = document;
    for (const key of path.split('.')) {
      const name = key.replaceAll('{CURRENCY}', currency).replaceAll('{currency}', currency.toLowerCase());
      value =
        typeof value === 'object' && value !== null && Object.hasOwn(value, name)
          ? (value as Record<string, unknown>)[name]
          : undefined;
    }
    return { currency, perBtc: decimalRate(value, currency) };
  });
}

/**
 * A JSON string or number as a canonical positive decimal with at most 8 decimals (more are cut:
 * display only). A JSON number prints as the shortest decimal that reads back to it, which is what
 * the source wrote unless it wrote more than 17 digits.
 */
function decimalRate(value: unknown, currency: string): string {
  const text =
    typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  const m = text === undefined ? null : /^([0-9]{1,12})(?:\.([0-9]+))?$/.exec(text);
  if (!m)
    throw new RatesSourceError(`${currency}: expected a positive decimal number, got ${preview(value)}`);
  const whole = m[1]!.replace(/^0+(?=\d)/, '');
  const fraction = (m[2] ?? '').slice(0, 8).replace(/0+$/, '');
  const perBtc = fraction ? `${whole}.${fraction}` : whole;
  if (!FIAT_PER_BTC.test(perBtc) || !/[1-9]/.test(perBtc))
    throw new RatesSourceError(`${currency}: the rate must be above zero, got ${preview(value)}`);
  return perBtc;
}

const preview = (value: unknown): string => JSON.stringify(value)?.slice(0, 40) ?? String(value);

export class RatesService {
  private last: RatesOutput | undefined;
  private nextReadMs = 0;
  private reading: Promise<void> | undefined;

  constructor(private readonly deps: Pick<Deps, 'config' | 'log' | 'clock'>) {}

  /** The newest good reading, reading the source first when the last one is older than the max age. */
  async get(): Promise<RatesOutput> {
    const { url } = this.deps.config.rates;
    if (!url) throw new ApiError('RATES_UNAVAILABLE', 'this LSP serves no exchange rates');
    if (this.deps.clock() >= this.nextReadMs) {
      this.reading ??= this.read(url).finally(() => {
        this.reading = undefined;
      });
      await this.reading;
    }
    if (!this.last)
      throw new ApiError('RATES_UNAVAILABLE', 'the exchange rate source has not answered with rates yet');
    return this.last;
  }

  private async read(url: string): Promise<void> {
    const { path, currencies, maxAgeSec, timeoutMs } = this.deps.config.rates;
    const startedMs = this.deps.clock();
    try {
      const response = await fetch(url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new RatesSourceError(`HTTP ${response.status}`);
      const text = await response.text();
      if (text.length > MAX_SOURCE_BYTES)
        throw new RatesSourceError(`answer larger than ${MAX_SOURCE_BYTES} bytes`);
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch {
        throw new RatesSourceError('answer is not JSON');
      }
      this.last = { atMs: startedMs, rates: readRates(document, path, currencies) };
      this.nextReadMs = startedMs + maxAgeSec * 1000;
    } catch (err) {
      // kept: the last good reading (with its own time); the operator hears why
      this.deps.log.warn({ err, source: new URL(url).host }, 'exchange rate source refused');
      this.nextReadMs = startedMs + Math.min(RETRY_AFTER_FAILURE_MS, maxAgeSec * 1000);
    }
  }
}
