// The devnet router's direct channel to the merchant as the LSP's routes.find would answer it: the
// route the devnet stream tests pay along (the router is the payer, so there is no LSP hop).
import { formatScid } from '@lpw/api';
import type { PublicNetwork } from '@lpw/devnet/network';
import { keysendRoute } from '../src/keysend.ts';

export const directRoute = (net: PublicNetwork) => async (payee: string, maxAmountMsat: bigint) =>
  keysendRoute(payee, maxAmountMsat, {
    paths: [
      {
        hops: [
          {
            node_id: payee,
            short_channel_id: formatScid(net.channelScid),
            fee_msat: maxAmountMsat.toString(),
            cltv_expiry_delta: 40,
          },
        ],
      },
    ],
  });
