// Exchange rates for fiat beside sats: the LSP's reading (rates.get, asked through the worker while
// connected), kept in idb-keyval so a wallet offline still shows fiat, with the reading's age.
import type { RatesOutput } from '@lpw/api';
import { get, set } from 'idb-keyval';
import { create } from 'zustand';
import { newerReading, storedReading } from '../lib/fiat.ts';
import { useWallet } from './wallet.ts';

const KEY = 'lpw-rates';
/** The LSP reads its source every few minutes; asking it more often shows nothing newer. */
const ASK_EVERY_MS = 5 * 60_000;

export const useRates = create<{ reading: RatesOutput | undefined }>(() => ({ reading: undefined }));

const keep = (fresh: RatesOutput) => {
  const reading = newerReading(useRates.getState().reading, fresh);
  useRates.setState({ reading });
  return reading;
};

void get(KEY).then(
  (value) => {
    const stored = storedReading(value);
    if (stored) keep(stored);
  },
  () => {},
);

let askedAtMs = -ASK_EVERY_MS;
useWallet.subscribe(({ worker, snapshot }) => {
  if (!worker || snapshot?.status !== 'running' || !snapshot.lsp.reachable) return;
  if (Date.now() - askedAtMs < ASK_EVERY_MS) return;
  askedAtMs = Date.now();
  // no rates (none served, or the LSP's source is failing): the kept ones stay, with their age
  worker.call({ type: 'rates' }).then(
    (fresh) => set(KEY, keep(fresh)),
    () => {},
  );
});
