// `routes.find`: the LSP computes a route on its gossip graph for a wallet that keeps none.
import { z } from 'zod';
import { msatInput, msatString, nodeIdHex, scidString, u32 } from './amounts.ts';

export const routesFindInput = z
  .object({
    payee_node_id: nodeIdHex,
    amount_msat: msatInput,
    final_cltv_expiry_delta: u32.max(2016),
  })
  .strict();

export const routeHopWire = z.object({
  node_id: nodeIdHex,
  short_channel_id: scidString,
  fee_msat: msatString,
  cltv_expiry_delta: u32,
});
export const routesFindOutput = z.object({ paths: z.array(z.object({ hops: z.array(routeHopWire) })) });
export type RoutesFindOutput = z.infer<typeof routesFindOutput>;
