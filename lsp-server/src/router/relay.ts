// `relay`: one HTTP request to another origin for the wallet (its CSP allows only this origin).
import { relayFetchInput, relayFetchOutput } from '@lpw/api';
import { router, walletLimitedProcedure } from './trpc.ts';

export const relayRouter = router({
  fetch: walletLimitedProcedure((limits) => limits.relayPerWallet, 'relayed requests')
    .input(relayFetchInput)
    .output(relayFetchOutput)
    .mutation(({ ctx, input }) => ctx.services.relay.fetch(ctx.wallet.nodeId, input)),
});
