// `jit`: LSPS2 (bLIP 52) get_info and buy, plus the wallet's own purchases.
import {
  jitBuyInput,
  jitBuyOutput,
  jitGetInfoInput,
  jitGetInfoOutput,
  jitGetInput,
  jitListOutput,
  jitPurchaseWire,
} from '@lpw/api';
import { publicProcedure, router, walletLimitedProcedure, walletProcedure } from './trpc.ts';

export const jitRouter = router({
  getInfo: publicProcedure
    .input(jitGetInfoInput)
    .output(jitGetInfoOutput)
    .query(({ ctx, input }) => ctx.services.jit.getInfo(input.token)),
  buy: walletLimitedProcedure((limits) => limits.buyPerWallet, 'purchases')
    .input(jitBuyInput)
    .output(jitBuyOutput)
    .mutation(({ ctx, input }) => ctx.services.jit.buy(ctx.wallet.nodeId, input)),
  list: walletProcedure.output(jitListOutput).query(({ ctx }) => ctx.services.jit.list(ctx.wallet.nodeId)),
  get: walletProcedure
    .input(jitGetInput)
    .output(jitPurchaseWire)
    .query(({ ctx, input }) => ctx.services.jit.get(ctx.wallet.nodeId, input.jit_channel_scid)),
});
