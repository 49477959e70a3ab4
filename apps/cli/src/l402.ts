// `l402 fetch`: @lpw/l402's paying fetch with this wallet's pay(), its refusals as CliErrors.
import { fetchWithL402, L402ClientError, type L402Offer, type L402Receipt } from '@lpw/l402';
import { CliError } from './errors.ts';

export interface L402Result {
  response: Response;
  /** Set when a payment was made for this request. */
  paid?: { amountMsat: bigint; feeMsat: bigint; paymentHash: string; authorization: string };
  /** A token bought earlier was accepted: nothing was paid. */
  reused: boolean;
}

export async function l402Fetch(
  url: string,
  options: {
    maxSats: bigint;
    pay: (bolt11: string) => Promise<{ preimage: string; feeMsat: bigint }>;
    init?: RequestInit;
    /** A token bought earlier, tried first. */
    authorization?: string;
    /** Before paying: a durable note of the purchase. */
    approve?: (offer: L402Offer) => void;
    /** After paying, before the retry: the token, durably. */
    onPaid?: (receipt: L402Receipt) => void;
  },
): Promise<L402Result> {
  if (options.maxSats > BigInt(Number.MAX_SAFE_INTEGER))
    throw new CliError('INVALID_INPUT', '--max-sats is out of range');
  let feeMsat = 0n;
  let receipt: L402Receipt | undefined;
  try {
    const response = await fetchWithL402(url, {
      maxSats: Number(options.maxSats),
      ...(options.init ? { init: options.init } : {}),
      ...(options.authorization ? { authorization: options.authorization } : {}),
      ...(options.approve ? { approve: options.approve } : {}),
      pay: async (bolt11) => {
        const paid = await options.pay(bolt11);
        feeMsat = paid.feeMsat;
        return paid.preimage;
      },
      onPaid: (r) => {
        receipt = r;
        options.onPaid?.(r);
      },
    });
    const refused = response.status === 401 || response.status === 402;
    if (receipt && refused)
      throw new CliError('L402_FAILED', `${url} refused the paid token (HTTP ${response.status})`);
    return {
      response,
      reused: options.authorization !== undefined && !receipt && !refused,
      ...(receipt
        ? {
            paid: {
              amountMsat: receipt.amountMsat,
              feeMsat,
              paymentHash: receipt.paymentHash,
              authorization: receipt.authorization,
            },
          }
        : {}),
    };
  } catch (e) {
    if (e instanceof L402ClientError)
      throw new CliError(e.code === 'PRICE_TOO_HIGH' ? 'FEE_TOO_HIGH' : 'L402_FAILED', e.message, {
        cause: e,
      });
    if (e instanceof TypeError && !(e instanceof CliError))
      throw new CliError('L402_FAILED', `fetching ${url} failed: ${e.message}`, { cause: e });
    throw e;
  }
}
