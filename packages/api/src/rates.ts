// `rates.get`: what one bitcoin is worth in a few currencies, read by the LSP from the source its
// operator configured. For display only: amounts stay msat, and a rate crosses the wire as a decimal
// string so no float ever carries it.
import * as z from 'zod/mini';
import { checked } from './schema.ts';

/** Fiat units for one bitcoin: a positive decimal, at most 12 digits before the point and 8 after. */
export const FIAT_PER_BTC = /^(0|[1-9][0-9]{0,11})(\.[0-9]{1,8})?$/;

export const fiatRate = z.object({
  /** ISO 4217 code, e.g. "USD". */
  currency: checked(z.string(), z.regex(/^[A-Z]{3}$/)),
  // one check, not regex + refine: zod 4 runs later checks even after a failed regex
  perBtc: checked(
    z.string(),
    z.refine((s) => FIAT_PER_BTC.test(s) && /[1-9]/.test(s), 'expected a positive decimal rate'),
  ),
});
export type FiatRate = z.infer<typeof fiatRate>;

export const ratesOutput = z.object({
  /** When the LSP read these from its source (ms since the epoch): the wallet shows their age. */
  atMs: checked(z.number(), z.int(), z.minimum(0)),
  rates: checked(z.array(fiatRate), z.maxLength(64)),
});
export type RatesOutput = z.infer<typeof ratesOutput>;
