// `rates`: the price of a bitcoin in a few currencies, for wallets to show fiat beside sats. Public
// (no session needed) and served from one cached reading (rates.ts); every call still counts against
// the caller's per-IP request bucket.
import { ratesOutput } from '@lpw/api';
import { publicProcedure, router } from './trpc.ts';

export const ratesRouter = router({
  get: publicProcedure.output(ratesOutput).query(({ ctx }) => ctx.services.rates.get()),
});
