// A stream route over the devnet router's direct channel to the merchant: the route the devnet
// stream tests pay along (the router is the payer, the merchant its peer: no hints, no routing fee).
import type { KeysendRoute } from '../src/keysend.ts';

export const directRoute = async (payee: string, maxAmountMsat: bigint): Promise<KeysendRoute> => ({
  payee,
  maxAmountMsat,
  feeMsat: 0n,
  hints: [],
});
