// `address`: the wallet's Lightning Address (addresses.ts): claim or change its name, read it, free it.
import { addressClaimInput, addressGetOutput, addressOutput, addressReleaseOutput } from '@lpw/api';
import { router, walletLimitedProcedure, walletProcedure } from './trpc.ts';

export const addressRouter = router({
  get: walletProcedure
    .output(addressGetOutput)
    .query(({ ctx }) => ctx.services.addresses.get(ctx.wallet.nodeId, ctx.origin)),
  claim: walletLimitedProcedure((limits) => limits.addressPerWallet, 'name changes')
    .input(addressClaimInput)
    .output(addressOutput)
    .mutation(({ ctx, input }) => ctx.services.addresses.claim(ctx.wallet.nodeId, input.name, ctx.origin)),
  release: walletProcedure
    .output(addressReleaseOutput)
    .mutation(({ ctx }) => ctx.services.addresses.release(ctx.wallet.nodeId)),
});
