// `routes`: a path over the LSP's graph for a wallet without gossip. Computing it is the node's job.
import { formatScid, routesFindInput, routesFindOutput } from '@lpw/api';
import { findLspRoute } from '../node/routes.ts';
import { router, walletExpensiveProcedure } from './trpc.ts';

export const routesRouter = router({
  find: walletExpensiveProcedure((limits) => limits.routesPerWallet, 'route queries')
    .input(routesFindInput)
    .output(routesFindOutput)
    .query(async ({ ctx, input }) => {
      const paths = findLspRoute(ctx.deps.node, {
        payerNodeId: ctx.wallet.nodeId,
        payeeNodeId: input.payee_node_id,
        amountMsat: input.amount_msat,
        finalCltvExpiryDelta: input.final_cltv_expiry_delta,
      });
      return {
        paths: paths.map((hops) => ({
          hops: hops.map((h) => ({
            node_id: h.nodeId,
            short_channel_id: formatScid(h.shortChannelId),
            fee_msat: h.feeMsat.toString(),
            cltv_expiry_delta: h.cltvExpiryDelta,
          })),
        })),
      };
    }),
});
