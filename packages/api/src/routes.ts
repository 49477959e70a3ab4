// `routes.find`: the LSP computes a route on its gossip graph for a wallet that keeps none.
import * as z from 'zod/mini';
import { msatInput, msatString, nodeIdHex, scidString, u32 } from './amounts.ts';
import { checked } from './schema.ts';

export const routesFindInput = z.strictObject({
  payee_node_id: nodeIdHex,
  amount_msat: msatInput,
  final_cltv_expiry_delta: checked(u32, z.maximum(2016)),
});

export const routeHopWire = z.object({
  node_id: nodeIdHex,
  short_channel_id: scidString,
  fee_msat: msatString,
  cltv_expiry_delta: u32,
});
export const routesFindOutput = z.object({ paths: z.array(z.object({ hops: z.array(routeHopWire) })) });
export type RoutesFindOutput = z.infer<typeof routesFindOutput>;
