// `jit`: LSPS2 (bLIP 52) get_info and buy, plus the wallet's own purchases.
import {
  ApiError,
  jitBuyInput,
  jitBuyOutput,
  jitGetInfoInput,
  jitGetInfoOutput,
  jitGetInput,
  jitListOutput,
  jitPurchaseWire,
} from '@lpw/api';
import { publicProcedure, router, walletProcedure } from './trpc.ts';

export const jitRouter = router({
  getInfo: publicProcedure
    .input(jitGetInfoInput)
    .output(jitGetInfoOutput)
    .query(({ ctx, input }) => ctx.services.jit.getInfo(input.token)),
  buy: walletProcedure
    .use(async ({ ctx, next }) => {
      const wait = ctx.services.limits.buyPerWallet.take(ctx.wallet.nodeId);
      if (wait > 0) {
        ctx.deps.metrics.rateLimited.inc(1, { scope: 'wallet' });
        throw new ApiError('RATE_LIMITED', `too many purchases; retry in ${wait} s`, { retryAfterSec: wait });
      }
      return next();
    })
    .input(jitBuyInput)
    .output(jitBuyOutput)
    .mutation(({ ctx, input }) => ctx.services.jit.buy(ctx.wallet.nodeId, input)),
  list: walletProcedure.output(jitListOutput).query(({ ctx }) => ctx.services.jit.list(ctx.wallet.nodeId)),
  get: walletProcedure
    .input(jitGetInput)
    .output(jitPurchaseWire)
    .query(({ ctx, input }) => ctx.services.jit.get(ctx.wallet.nodeId, input.jit_channel_scid)),
});
