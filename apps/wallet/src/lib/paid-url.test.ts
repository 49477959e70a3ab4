// The wallet's L402 money rules against the devnet's demo paid API (the real Hono app and L402
// middleware, in process): budget asked once, paid within it, token kept and reused, refusal over
// budget with nothing paid, and a purchase interrupted mid-payment finished without paying twice.
// Invoices are signed here with a known preimage, so "paying" is handing it back; the real payment
// path (worker → LSP → merchant) is the browser test's (e2e/tests/l402.test.ts).
import { paidApiApp } from '@lpw/devnet/paid-api';
import { decodeBolt11, encodeBolt11 } from '@lpw/payment-request';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  type OpenPaidUrlDeps,
  openPaidUrl,
  type PaidSite,
  PaidUrlError,
  type PaymentOutcome,
} from './paid-url.ts';

const SITE = 'http://paid.example';
/** What routing costs each payment here (the devnet's two hops charge 1 sat each). */
const ROUTE_FEE_MSAT = 2_000n;
const nodeKey = new Uint8Array(32).fill(7);
const preimages = new Map<string, string>();
const merchant = {
  createInvoice(request: { amountMsat?: bigint; description: string; expirySecs: number }) {
    const preimage = crypto.getRandomValues(new Uint8Array(32));
    const paymentHash = bytesToHex(sha256(preimage));
    preimages.set(paymentHash, bytesToHex(preimage));
    const timestamp = Math.floor(Date.now() / 1000);
    const bolt11 = encodeBolt11(
      {
        network: 'regtest',
        amountMsat: request.amountMsat,
        timestamp,
        paymentHash,
        paymentSecret: bytesToHex(crypto.getRandomValues(new Uint8Array(32))),
        description: request.description,
        expirySeconds: request.expirySecs,
        features: [8, 14],
      },
      nodeKey,
    );
    return { bolt11, paymentHash, expiresAt: (timestamp + request.expirySecs) * 1000 };
  },
};

/** One wallet: a durable store (cloned like IndexedDB does), payments it made, their outcomes. */
function wallet(budgetSat: bigint | 'cancel' = 25n) {
  const app = paidApiApp(merchant, { id: 'test', secret: new Uint8Array(32).fill(9) });
  const records = new Map<string, PaidSite>();
  const paid: bigint[] = [];
  const outcomes = new Map<string, PaymentOutcome>();
  const asked: bigint[] = [];
  const maxFees: bigint[] = [];
  const deps: OpenPaidUrlDeps = {
    fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
      app.request(String(input), init)) as typeof fetch,
    store: {
      get: async (origin) => structuredClone(records.get(origin)),
      put: async (site) => {
        records.set(site.origin, structuredClone(site));
      },
    },
    async pay(bolt11, amountMsat, maxFeeMsat) {
      const hash = decodeBolt11(bolt11).paymentHash;
      maxFees.push(maxFeeMsat);
      if (ROUTE_FEE_MSAT > maxFeeMsat) {
        outcomes.set(hash, { failed: true });
        throw new Error('The network fee for this payment is above the limit.');
      }
      paid.push(amountMsat);
      outcomes.set(hash, { preimage: preimages.get(hash)!, feeMsat: ROUTE_FEE_MSAT });
      return { preimage: preimages.get(hash)!, feeMsat: ROUTE_FEE_MSAT };
    },
    paymentOutcome: (hash) => outcomes.get(hash),
    async askBudget({ priceMsat }) {
      asked.push(priceMsat);
      if (budgetSat === 'cancel') throw new Error('cancelled');
      return budgetSat * 1000n;
    },
    nowMs: () => Date.now(),
  };
  return { deps, records, paid, outcomes, asked, maxFees, site: () => records.get(SITE)! };
}
const text = (body: Uint8Array) => new TextDecoder().decode(body);

describe('opening an L402 link', () => {
  it('asks for a budget once, pays within it, keeps the token and reuses it, refuses over budget', async () => {
    const w = wallet(25n);
    const first = await openPaidUrl(`${SITE}/api/quote`, w.deps);
    expect(first.status).toBe(200);
    expect(JSON.parse(text(first.body)).quote).toMatch(/\w/);
    expect(first.paidMsat).toBe(10_000n + ROUTE_FEE_MSAT); // the price and its routing fee
    expect(w.asked).toEqual([10_000n]); // the price, shown when the budget is asked
    expect(w.paid).toEqual([10_000n]);
    expect(w.maxFees).toEqual([10_000n]); // the usual fee limit: the budget leaves room for it
    expect(w.site()).toMatchObject({ budgetMsat: 25_000n, spentMsat: 12_000n, pending: undefined });
    expect(w.site().tokens).toHaveLength(1);
    expect(w.site().tokens[0]!.paths).toEqual(['/api/quote']);

    const second = await openPaidUrl(`${SITE}/api/quote`, w.deps);
    expect(second.status).toBe(200);
    expect(second.reusedToken).toBe(true);
    expect(second.paidMsat).toBe(0n);
    expect(w.paid).toHaveLength(1);

    // the weather costs 20 sats; 13 are left
    const over = await openPaidUrl(`${SITE}/api/weather?city=Lisbon`, w.deps).catch((e: unknown) => e);
    expect(over).toBeInstanceOf(PaidUrlError);
    expect(over).toMatchObject({ code: 'OVER_BUDGET', facts: { priceMsat: 20_000n, leftMsat: 13_000n } });
    expect(w.paid).toHaveLength(1);
    expect(w.site().spentMsat).toBe(12_000n);
    expect(w.asked).toHaveLength(1); // the budget is not asked again
  });

  it('a used-up token is replaced by a new purchase within budget', async () => {
    const w = wallet(100n);
    for (let i = 0; i < 4; i++) await openPaidUrl(`${SITE}/api/quote`, w.deps); // 3 uses per token
    expect(w.paid).toEqual([10_000n, 10_000n]);
    expect(w.site().spentMsat).toBe(24_000n);
    expect(w.site().tokens).toHaveLength(1);
  });

  it('no budget set: nothing paid, nothing spent', async () => {
    const w = wallet('cancel');
    await expect(openPaidUrl(`${SITE}/api/quote`, w.deps)).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(w.paid).toEqual([]);
    expect(w.site()).toBeUndefined();
  });

  it('a payment cut off (reload) stays spent; next time its token is finished from history, not paid again', async () => {
    const w = wallet(25n);
    const realPay = w.deps.pay;
    // the page goes away while the payment is in flight: pay never returns here
    w.deps.pay = async (bolt11, amountMsat, maxFeeMsat) => {
      await realPay(bolt11, amountMsat, maxFeeMsat); // it does complete in the worker…
      throw new Error('page reloaded'); // …but this page never hears of it
    };
    await expect(openPaidUrl(`${SITE}/api/quote`, w.deps)).rejects.toMatchObject({ code: 'PAYMENT_FAILED' });
    expect(w.site().spentMsat).toBe(20_000n); // the price and the most its fee could be
    expect(w.site().pending).toBeDefined();
    w.deps.pay = realPay;
    const again = await openPaidUrl(`${SITE}/api/quote`, w.deps);
    expect(again.status).toBe(200);
    expect(again.reusedToken).toBe(true);
    expect(w.paid).toHaveLength(1);
    expect(w.site()).toMatchObject({ spentMsat: 12_000n, pending: undefined }); // the fee it did cost
  });

  it('never goes over the budget for the routing fee: a budget of exactly the price pays nothing', async () => {
    const w = wallet(10n);
    await expect(openPaidUrl(`${SITE}/api/quote`, w.deps)).rejects.toMatchObject({ code: 'PAYMENT_FAILED' });
    expect(w.maxFees).toEqual([0n]); // nothing of the budget was left for a fee
    expect(w.paid).toEqual([]);
    expect(w.site()).toMatchObject({ spentMsat: 0n, pending: undefined, budgetMsat: 10_000n });
  });

  it('a payment that failed gives its price back to the budget', async () => {
    const w = wallet(25n);
    w.deps.pay = async (bolt11) => {
      const hash = decodeBolt11(bolt11).paymentHash;
      w.outcomes.set(hash, { failed: true });
      throw new Error('no route');
    };
    await expect(openPaidUrl(`${SITE}/api/quote`, w.deps)).rejects.toMatchObject({ code: 'PAYMENT_FAILED' });
    expect(w.site()).toMatchObject({ spentMsat: 0n, pending: undefined, budgetMsat: 25_000n });
  });

  it('a free page opens without any of this', async () => {
    const w = wallet(25n);
    const menu = await openPaidUrl(`${SITE}/`, w.deps);
    expect(JSON.parse(text(menu.body)).endpoints).toHaveLength(2);
    expect(w.asked).toEqual([]);
  });
});
