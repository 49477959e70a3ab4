// Opening a web link that may charge by L402: fetch it (directly, or through the LSP's relay when the
// browser cannot: then `viaLsp` says so to the person), and on a 402 pay
// within the budget the person set for that site, then fetch again with the token. @lpw/l402's
// fetchWithL402 speaks the protocol; this file keeps the money rules: a budget per site (asked the
// first time), what was spent, tokens kept and reused — all stored before the step that depends on
// them, so a reload neither pays twice for a token already bought nor forgets money spent.
import {
  fetchWithL402,
  formatAuthorization,
  L402ClientError,
  type L402Offer,
  tokenCovers,
  tokenScope,
} from '@lpw/l402';
import { maxRoutingFeeMsat } from './send-input.ts';
import { routeOf } from './web-fetch.ts';

const minMsat = (a: bigint, b: bigint): bigint => (a < b ? a : b);

export interface SiteToken {
  /** `L402 <macaroon>:<preimage>`, sent as Authorization. */
  authorization: string;
  paymentHash: string;
  amountMsat: bigint;
  /** The token's path caveats (empty: unknown, tried anywhere on the site). */
  paths: string[];
  expiresAtSec: number | undefined;
  boughtAt: number;
}

/** A payment started for a token and not known to have ended when it was last looked at. */
export interface PendingPurchase {
  paymentHash: string;
  macaroon: string;
  amountMsat: bigint;
  /** The most routing fee this payment may cost: counted as spent until the actual fee is known. */
  maxFeeMsat?: bigint;
  at: number;
}

/** One site (an origin) the person pays by L402. */
export interface PaidSite {
  origin: string;
  /** The most the site may be paid in total; undefined until the person sets it. */
  budgetMsat: bigint | undefined;
  /** Prices and routing fees paid so far (a payment in flight counts its most fee). */
  spentMsat: bigint;
  tokens: SiteToken[];
  pending: PendingPurchase | undefined;
}

export interface SiteStore {
  get(origin: string): Promise<PaidSite | undefined>;
  /** Resolves once the record is durable. */
  put(site: PaidSite): Promise<void>;
}

export type PaidUrlErrorCode =
  /** The price is more than is left of the site's budget; nothing was paid. */
  | 'OVER_BUDGET'
  /** The person did not set a budget; nothing was paid. */
  | 'CANCELLED'
  /** An earlier payment to this site has not finished; nothing new is paid until it has. */
  | 'PURCHASE_PENDING'
  /** A 402 without a usable L402 challenge. */
  | 'BAD_CHALLENGE'
  /** The payment did not go through (the wallet's own error is the cause). */
  | 'PAYMENT_FAILED';

export class PaidUrlError extends Error {
  override readonly name = 'PaidUrlError';
  constructor(
    readonly code: PaidUrlErrorCode,
    message: string,
    readonly facts: { origin: string; priceMsat?: bigint; leftMsat?: bigint } = { origin: '' },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface PaymentOutcome {
  preimage?: string;
  /** The routing fee a succeeded payment cost. */
  feeMsat?: bigint;
  failed?: boolean;
}

export interface OpenPaidUrlDeps {
  /** fetch for any origin (directFirstFetch: its relayed answers are marked, routeOf). */
  fetch: typeof fetch;
  store: SiteStore;
  /** Pays the invoice with at most `maxFeeMsat` routing fee; resolves with its preimage and fee. */
  pay(bolt11: string, amountMsat: bigint, maxFeeMsat: bigint): Promise<{ preimage: string; feeMsat: bigint }>;
  /** The outcome of an earlier payment, from the wallet's history; undefined while unknown. */
  paymentOutcome(paymentHash: string): PaymentOutcome | undefined;
  /** First payment at a site: the person sets its budget (msat), seeing the price; rejecting cancels. */
  askBudget(offer: PaidUrlOffer): Promise<bigint>;
  /** Told just before paying. */
  onPaying?(offer: PaidUrlOffer): void;
  nowMs(): number;
}

/** What a site asks, as the person is shown it. */
export interface PaidUrlOffer {
  origin: string;
  priceMsat: bigint;
  /** The challenge came through the LSP's relay, which could have changed it. */
  viaLsp: boolean;
}

export interface OpenedUrl {
  url: string;
  status: number;
  contentType: string | undefined;
  body: Uint8Array;
  /** What this opening paid, routing fee included (0: nothing). */
  paidMsat: bigint;
  /** A stored token was accepted: nothing was paid. */
  reusedToken: boolean;
  /** Some request of this opening went through the LSP's relay. */
  viaLsp: boolean;
  site: PaidSite;
}

/** Whatever the amount of a sat, msat are what is stored; this is the largest safe `maxSats`. */
const NO_CAP_SATS = Math.floor(Number.MAX_SAFE_INTEGER / 1000);
const MAX_TOKENS_PER_SITE = 20;

export const emptySite = (origin: string): PaidSite => ({
  origin,
  budgetMsat: undefined,
  spentMsat: 0n,
  tokens: [],
  pending: undefined,
});

export const budgetLeftMsat = (site: PaidSite): bigint | undefined =>
  site.budgetMsat === undefined
    ? undefined
    : site.budgetMsat > site.spentMsat
      ? site.budgetMsat - site.spentMsat
      : 0n;

/** A stored token that may be good for `url` now: its paths cover it and it has not expired. */
export function tokenFor(site: PaidSite, url: URL, nowSec: number): SiteToken | undefined {
  return site.tokens
    .filter((t) => tokenCovers(t, url.pathname, nowSec))
    .sort((a, b) => b.boughtAt - a.boughtAt)[0];
}

/** An earlier purchase whose payment has ended since: its token kept, or its price given back. */
function settlePending(site: PaidSite, deps: Pick<OpenPaidUrlDeps, 'paymentOutcome' | 'nowMs'>): PaidSite {
  const pending = site.pending;
  if (!pending) return site;
  const outcome = deps.paymentOutcome(pending.paymentHash);
  const reservedMsat = pending.amountMsat + (pending.maxFeeMsat ?? 0n);
  if (outcome?.preimage) {
    // the fee actually paid replaces the most it could have been (unknown: the most stays spent)
    const feeMsat = outcome.feeMsat ?? pending.maxFeeMsat ?? 0n;
    const spentMsat = site.spentMsat - reservedMsat + pending.amountMsat + feeMsat;
    return withToken({ ...site, pending: undefined, spentMsat }, pending, outcome.preimage, deps.nowMs());
  }
  if (outcome?.failed) return { ...site, pending: undefined, spentMsat: site.spentMsat - reservedMsat };
  return site;
}

function withToken(site: PaidSite, bought: PendingPurchase, preimage: string, nowMs: number): PaidSite {
  const token: SiteToken = {
    authorization: formatAuthorization(bought.macaroon, preimage),
    paymentHash: bought.paymentHash,
    amountMsat: bought.amountMsat,
    ...tokenScope(bought.macaroon),
    boughtAt: nowMs,
  };
  const nowSec = Math.floor(nowMs / 1000);
  const kept = site.tokens.filter((t) => t.expiresAtSec === undefined || t.expiresAtSec > nowSec);
  return { ...site, tokens: [...kept, token].slice(-MAX_TOKENS_PER_SITE) };
}

/**
 * Open `url`: with a stored token for it if there is one; on an L402 challenge, pay within the
 * site's budget (asking for one the first time) and open it again with the new token.
 * Throws PaidUrlError for the money rules; relay and network failures propagate as they come.
 */
export async function openPaidUrl(url: string, deps: OpenPaidUrlDeps): Promise<OpenedUrl> {
  const target = new URL(url);
  const origin = target.origin;
  let site = (await deps.store.get(origin)) ?? emptySite(origin);
  const settled = settlePending(site, deps);
  if (settled !== site) {
    site = settled;
    await deps.store.put(site);
  }
  const token = tokenFor(site, target, Math.floor(deps.nowMs() / 1000));
  let paidMsat = 0n;
  let paidFeeMsat: bigint | undefined;
  let viaLsp = false;
  const fetchNoting: typeof fetch = async (input, init) => {
    const answer = await deps.fetch(input, init);
    if (routeOf(answer) === 'relay') viaLsp = true;
    return answer;
  };
  let response: Response;
  try {
    response = await fetchWithL402(url, {
      fetch: fetchNoting,
      maxSats: NO_CAP_SATS, // the budget below is the cap
      ...(token ? { authorization: token.authorization } : {}),
      approve: async (offer: L402Offer) => {
        const priceMsat = offer.amountMsat;
        if (site.pending) {
          throw new PaidUrlError(
            'PURCHASE_PENDING',
            `An earlier payment to ${target.host} has not finished yet. Nothing new was paid; try again in a moment.`,
            { origin, priceMsat },
          );
        }
        if (site.budgetMsat === undefined) {
          let budgetMsat: bigint;
          try {
            budgetMsat = await deps.askBudget({ origin, priceMsat, viaLsp });
          } catch (cause) {
            throw new PaidUrlError(
              'CANCELLED',
              'No budget was set, so nothing was paid.',
              { origin, priceMsat },
              { cause },
            );
          }
          site = { ...site, budgetMsat };
          await deps.store.put(site);
        }
        const leftMsat = budgetLeftMsat(site) ?? 0n;
        // the routing fee comes out of the same budget: at most what the price leaves of it
        const feeCapMsat = minMsat(maxRoutingFeeMsat(priceMsat), leftMsat - priceMsat);
        if (priceMsat > leftMsat) {
          throw new PaidUrlError(
            'OVER_BUDGET',
            `${target.host} asks more than is left of your budget for it. Nothing was paid.`,
            { origin, priceMsat, leftMsat },
          );
        }
        // spent and the purchase are durable before the payment starts
        site = {
          ...site,
          spentMsat: site.spentMsat + priceMsat + feeCapMsat,
          pending: {
            paymentHash: offer.paymentHash,
            macaroon: offer.macaroon,
            amountMsat: priceMsat,
            maxFeeMsat: feeCapMsat,
            at: deps.nowMs(),
          },
        };
        await deps.store.put(site);
        deps.onPaying?.({ origin, priceMsat, viaLsp });
      },
      pay: async (bolt11) => {
        const pending = site.pending!;
        try {
          const paid = await deps.pay(bolt11, pending.amountMsat, pending.maxFeeMsat ?? 0n);
          paidFeeMsat = paid.feeMsat;
          return paid.preimage;
        } catch (cause) {
          // a payment that certainly failed gives its price back; one that may still complete stays
          if (deps.paymentOutcome(pending.paymentHash)?.failed) {
            site = settlePending(site, deps);
            await deps.store.put(site);
          }
          throw new PaidUrlError(
            'PAYMENT_FAILED',
            `The payment to ${target.host} did not go through: ${(cause as Error)?.message ?? cause}`,
            { origin, priceMsat: pending.amountMsat },
            { cause },
          );
        }
      },
      // the token is durable before the second request
      onPaid: async (receipt) => {
        const pending = site.pending!;
        const preimage = receipt.authorization.slice(receipt.authorization.lastIndexOf(':') + 1);
        site = settlePending(site, { ...deps, paymentOutcome: () => ({ preimage, feeMsat: paidFeeMsat }) });
        // a token the site refused (used up, expired) is dropped
        if (token)
          site = { ...site, tokens: site.tokens.filter((t) => t.authorization !== token.authorization) };
        paidMsat = pending.amountMsat + (paidFeeMsat ?? pending.maxFeeMsat ?? 0n);
        await deps.store.put(site);
      },
    });
  } catch (error) {
    if (
      error instanceof L402ClientError &&
      (error.code === 'NO_CHALLENGE' || error.code === 'BAD_CHALLENGE')
    ) {
      throw new PaidUrlError(
        'BAD_CHALLENGE',
        `${target.host} asked for a payment this wallet can't read (${error.message}).`,
        { origin },
        { cause: error },
      );
    }
    throw error;
  }
  return {
    url: response.url || url,
    status: response.status,
    contentType: response.headers.get('content-type') ?? undefined,
    body: new Uint8Array(await response.arrayBuffer()),
    paidMsat,
    reusedToken: token !== undefined && paidMsat === 0n && response.status !== 401 && response.status !== 402,
    viaLsp,
    site,
  };
}

/** Change a site's budget; below what was already spent, nothing is left to spend. */
export async function setSiteBudget(store: SiteStore, origin: string, budgetMsat: bigint): Promise<PaidSite> {
  if (typeof budgetMsat !== 'bigint' || budgetMsat < 0n) throw new RangeError('budget must be ≥ 0 msat');
  const site = (await store.get(origin)) ?? emptySite(origin);
  const updated = { ...site, budgetMsat };
  await store.put(updated);
  return updated;
}
