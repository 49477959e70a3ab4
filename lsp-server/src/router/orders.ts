// `orders`: LSPS1 (bLIP 51) get_info, create_order, get_order.
import {
  ordersCreateInput,
  ordersGetInfoOutput,
  ordersGetInput,
  ordersListOutput,
  orderWire,
} from '@lpw/api';
import { publicProcedure, router, walletExpensiveProcedure, walletProcedure } from './trpc.ts';

export const ordersRouter = router({
  getInfo: publicProcedure.output(ordersGetInfoOutput).query(({ ctx }) => ctx.services.orders.getInfo()),
  create: walletExpensiveProcedure((limits) => limits.ordersPerWallet, 'orders')
    .input(ordersCreateInput)
    .output(orderWire)
    .mutation(({ ctx, input }) => ctx.services.orders.create(ctx.wallet.nodeId, input)),
  get: walletProcedure
    .input(ordersGetInput)
    .output(orderWire)
    .query(({ ctx, input }) => ctx.services.orders.get(ctx.wallet.nodeId, input.order_id)),
  list: walletProcedure
    .output(ordersListOutput)
    .query(({ ctx }) => ctx.services.orders.list(ctx.wallet.nodeId)),
});
