// A stream route over the payer's direct channel to the payee (the devnet router to the merchant,
// or a wallet to its LSP): the route the devnet stream tests pay along: no hints, no routing fee.
import type { KeysendRoute } from '../src/keysend.ts';

export const directRoute = async (payee: string, maxAmountMsat: bigint): Promise<KeysendRoute> => ({
  payee,
  maxAmountMsat,
  feeMsat: 0n,
  hints: [],
});
