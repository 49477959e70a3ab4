// L402 client (the HTTP 402 flow): a 402 answer with `WWW-Authenticate: L402 macaroon="…",
// invoice="…"` is paid (if the invoice is within `maxSats`), and the request is repeated with
// `Authorization: L402 <macaroon>:<preimage hex>`. Legacy `LSAT` challenges are accepted too.
import { WalletError } from './errors.ts';

export interface L402Challenge {
  scheme: 'L402' | 'LSAT';
  macaroon: string;
  invoice: string;
}

/** Finds the L402 (or LSAT) challenge in a WWW-Authenticate header value. */
export function parseL402Challenge(header: string | null): L402Challenge | undefined {
  if (!header) return undefined;
  const m = /(L402|LSAT)\s+(.*)$/i.exec(header);
  if (!m) return undefined;
  const params = new Map<string, string>();
  for (const p of m[2]!.matchAll(/([A-Za-z]+)\s*=\s*"([^"]*)"/g)) params.set(p[1]!.toLowerCase(), p[2]!);
  const macaroon = params.get('macaroon') ?? params.get('token');
  const invoice = params.get('invoice');
  if (!macaroon || !invoice) return undefined;
  return { scheme: m[1]!.toUpperCase() as 'L402' | 'LSAT', macaroon, invoice };
}

export interface L402Result {
  response: Response;
  /** Set when a payment was made for this request. */
  paid?: { amountMsat: bigint; feeMsat: bigint; paymentHash: string; preimage: string };
}

/**
 * `pay` pays a BOLT 11 invoice and returns the preimage; it is called only for invoices whose amount
 * is known and at most `maxSats`.
 */
export async function fetchWithL402(
  url: string,
  options: {
    maxSats: bigint;
    invoiceAmountMsat: (bolt11: string) => bigint | undefined;
    pay: (bolt11: string) => Promise<{ preimage: string; feeMsat: bigint; paymentHash: string }>;
    init?: RequestInit;
    fetch?: typeof fetch;
  },
): Promise<L402Result> {
  const doFetch = options.fetch ?? fetch;
  const first = await doFetch(url, options.init);
  if (first.status !== 402) return { response: first };
  const challenge = parseL402Challenge(first.headers.get('www-authenticate'));
  if (!challenge) throw new WalletError('L402_FAILED', `${url} answered 402 without an L402 challenge`);
  const amountMsat = options.invoiceAmountMsat(challenge.invoice);
  if (amountMsat === undefined) throw new WalletError('L402_FAILED', 'the L402 invoice has no amount');
  if (amountMsat > options.maxSats * 1000n)
    throw new WalletError(
      'FEE_TOO_HIGH',
      `the resource costs ${amountMsat} msat, more than --max-sats ${options.maxSats}`,
    );
  await first.body?.cancel();
  const paid = await options.pay(challenge.invoice);
  const headers = new Headers(options.init?.headers);
  headers.set('authorization', `${challenge.scheme} ${challenge.macaroon}:${paid.preimage}`);
  const response = await doFetch(url, { ...options.init, headers });
  if (response.status === 402 || response.status === 401)
    throw new WalletError('L402_FAILED', `${url} refused the paid token (HTTP ${response.status})`);
  return { response, paid: { amountMsat, ...paid } };
}
