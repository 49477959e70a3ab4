// The L402 middleware on the devnet: the devnet merchant (a real LDK node) issues the invoices, the
// devnet router (a real LDK node with a channel to the merchant) pays them, and the preimage it
// gets back is the token's proof. Here rather than in packages/l402, which must not depend on the
// devnet's LDK nodes (the devnet's paid API depends on it).
import { serve } from '@hono/node-server';
import { type Devnet, startDevnet } from '@lpw/devnet-chain';
import {
  addFirstPartyCaveat,
  decodeIdentifier,
  decodeMacaroon,
  encodeMacaroon,
  fetchWithL402,
  formatAuthorization,
  L402ClientError,
  type L402Env,
  type L402Options,
  l402,
  type Macaroon,
  MemoryUsageStore,
  mintToken,
  parseCaveats,
  parseChallenge,
  type RootKey,
} from '@lpw/l402';
import { decodeBolt11 } from '@lpw/payment-request';
import { base64 } from '@scure/base';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PublicNetwork, startPublicNetwork } from '../src/network.ts';

const key = (id: string, fill: number): RootKey => ({ id, secret: new Uint8Array(32).fill(fill) });
const KEY_A = key('key-a', 1);
const KEY_B = key('key-b', 2);

let devnet: Devnet;
let net: PublicNetwork;

beforeAll(async () => {
  devnet = await startDevnet({ seed: 'l402-tests' });
  net = await startPublicNetwork(devnet);
}, 120_000);

afterAll(async () => {
  await net?.stop();
  await devnet?.stop();
});

/** A paid API: /api/quote (10 sats, 1 use), /api/data/* (3 uses over the prefix), /api/free. */
function paidApi(overrides: Partial<L402Options> = {}) {
  const app = new Hono<L402Env>();
  const base = { node: net.merchant.node, rootKeys: [KEY_A], ...overrides };
  app.get('/api/quote', l402({ ...base, priceSat: 10 }), (c) =>
    c.json({ quote: 'stay humble', grant: c.get('l402').tokenId }),
  );
  app.get('/api/weather', l402({ ...base, priceSat: 10 }), (c) => c.json({ weather: 'sunny' }));
  app.get('/api/data/*', l402({ ...base, priceSat: 5, maxUses: 3, scope: '/api/data' }), (c) =>
    c.json({ path: c.req.path }),
  );
  app.get('/api/free', (c) => c.json({ free: true }));
  return app;
}

async function challengeOf(res: Response) {
  const challenge = parseChallenge(res.headers.get('www-authenticate'));
  if (!challenge) throw new Error(`no challenge in ${res.status} ${res.headers.get('www-authenticate')}`);
  const macaroon = decodeMacaroon(base64.decode(challenge.macaroon));
  return { ...challenge, macaroonObject: macaroon, identifier: decodeIdentifier(macaroon.identifier) };
}

async function pay(bolt11: string): Promise<string> {
  return (await net.router.node.payInvoice(bolt11)).preimage;
}

const auth = (macaroon: Macaroon | string, preimage: string) =>
  formatAuthorization(
    typeof macaroon === 'string' ? macaroon : base64.encode(encodeMacaroon(macaroon)),
    preimage,
  );

/** Fetches a challenge for `path`, pays it, returns what a client then holds. */
async function paidToken(app: Hono<L402Env>, path: string) {
  const res = await app.request(path);
  expect(res.status).toBe(402);
  const challenge = await challengeOf(res);
  const preimage = await pay(challenge.invoice);
  return { ...challenge, preimage, authorization: auth(challenge.macaroon, preimage) };
}

async function errorOf(res: Response): Promise<string> {
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  return ((await res.json()) as { error: string }).error;
}

describe('L402 middleware on the devnet', () => {
  it('answers an unpaid request with 402 and a parseable challenge for the price, path, expiry and uses', async () => {
    const app = paidApi();
    const before = Math.floor(Date.now() / 1000);
    const res = await app.request('/api/quote');
    expect(res.status).toBe(402);
    expect(await errorOf(res)).toBe('PAYMENT_REQUIRED');
    expect(res.headers.get('www-authenticate')).toMatch(
      /^L402 macaroon="[A-Za-z0-9+/=]+", invoice="lnbcrt[0-9a-z]+"$/,
    );
    const challenge = await challengeOf(res);
    const invoice = decodeBolt11(challenge.invoice);
    expect(invoice.amountMsat).toBe(10_000n);
    expect(invoice.network).toBe('regtest');
    expect(invoice.paymentHash).toBe(challenge.identifier.paymentHash);
    expect(challenge.identifier).toMatchObject({ version: 0, keyId: 'key-a' });
    expect(challenge.identifier.tokenId).toMatch(/^[0-9a-f]{64}$/);
    const caveats = parseCaveats(challenge.macaroonObject.caveats);
    expect(caveats.paths).toEqual(['/api/quote']);
    expect(caveats.maxUses).toBe(1);
    expect(caveats.expiresAtSec).toBeGreaterThanOrEqual(before + 3600);
    expect(caveats.expiresAtSec).toBeLessThanOrEqual(before + 3602);
    // a fresh token and invoice per challenge
    const again = await challengeOf(await app.request('/api/quote'));
    expect(again.identifier.tokenId).not.toBe(challenge.identifier.tokenId);
    expect(again.identifier.paymentHash).not.toBe(challenge.identifier.paymentHash);
  });

  it('lets the request through once the invoice is paid (real LDK payment, preimage as proof)', async () => {
    const app = paidApi();
    const token = await paidToken(app, '/api/quote');
    const res = await app.request('/api/quote', { headers: { authorization: token.authorization } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ quote: 'stay humble', grant: token.identifier.tokenId });
    // the merchant really received it
    const received = net.merchant.node
      .listPayments()
      .find((p) => p.paymentHash === token.identifier.paymentHash);
    expect(received?.status).toBe('succeeded');
  });

  it('reuses a token within its caveats (path prefix, 3 uses, LSAT scheme), then refuses the 4th use', async () => {
    const app = paidApi();
    const token = await paidToken(app, '/api/data/a');
    expect(parseCaveats(token.macaroonObject.caveats).paths).toEqual(['/api/data']);
    const get = (path: string, authorization = token.authorization) =>
      app.request(path, { headers: { authorization } });
    expect((await get('/api/data/a')).status).toBe(200);
    expect((await get('/api/data/b/c')).status).toBe(200);
    expect((await get('/api/data/d', `LSAT ${token.macaroon}:${token.preimage}`)).status).toBe(200);
    const fourth = await get('/api/data/a');
    expect(fourth.status).toBe(402);
    expect(await errorOf(fourth)).toBe('TOKEN_USED_UP');
    expect(parseChallenge(fourth.headers.get('www-authenticate'))).toBeDefined();
    // one-use tokens: the second request with it pays again
    const once = await paidToken(app, '/api/quote');
    expect((await get('/api/quote', once.authorization)).status).toBe(200);
    expect((await get('/api/quote', once.authorization)).status).toBe(402);
  });

  it('lets exactly one of concurrent requests through on a one-use token', async () => {
    const app = paidApi();
    const token = await paidToken(app, '/api/quote');
    const statuses = await Promise.all(
      Array.from({ length: 8 }, () =>
        app.request('/api/quote', { headers: { authorization: token.authorization } }),
      ),
    ).then((all) => all.map((r) => r.status));
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 402)).toHaveLength(7);
  });

  it('refuses an expired token with 402 TOKEN_EXPIRED and a fresh challenge', async () => {
    let now = Date.now();
    const app = paidApi({ now: () => now, tokenLifetimeSecs: 60 });
    const token = await paidToken(app, '/api/data/x');
    const get = () => app.request('/api/data/x', { headers: { authorization: token.authorization } });
    now += 59_000;
    expect((await get()).status).toBe(200);
    now += 1_000;
    const res = await get();
    expect(res.status).toBe(402);
    expect(await errorOf(res)).toBe('TOKEN_EXPIRED');
    expect(parseChallenge(res.headers.get('www-authenticate'))).toBeDefined();
  });

  it('refuses forged tokens: changed caveat, wrong signature, wrong root key, unknown key id', async () => {
    const app = paidApi();
    const token = await paidToken(app, '/api/data/x');
    const m = token.macaroonObject;
    const get = (authorization: string) => app.request('/api/data/x', { headers: { authorization } });

    // changed caveat: widen the path and the uses, keep the signature
    const widened: Macaroon = {
      ...m,
      caveats: m.caveats.map((c) =>
        new TextEncoder().encode(new TextDecoder().decode(c).replace(/^uses=3$/, 'uses=1000')),
      ),
    };
    let res = await get(auth(widened, token.preimage));
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toBe('BAD_SIGNATURE');
    // dropped caveat
    res = await get(auth({ ...m, caveats: m.caveats.slice(0, 2) }, token.preimage));
    expect(await errorOf(res)).toBe('BAD_SIGNATURE');
    // wrong signature
    const signature = Uint8Array.from(m.signature);
    signature[0]! ^= 1;
    res = await get(auth({ ...m, signature }, token.preimage));
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toBe('BAD_SIGNATURE');
    // minted with another secret under our key id, for a really paid payment hash
    const forged = mintToken({
      rootKey: { id: 'key-a', secret: new Uint8Array(32).fill(9) },
      paymentHash: token.identifier.paymentHash,
      path: '/',
      expiresAtSec: 2 ** 40,
      maxUses: 1_000_000,
    }).macaroon;
    res = await get(auth(forged, token.preimage));
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toBe('BAD_SIGNATURE');
    // a key id the service does not have
    const stranger = mintToken({
      rootKey: key('key-z', 1),
      paymentHash: token.identifier.paymentHash,
      path: '/',
      expiresAtSec: 2 ** 40,
      maxUses: 1,
    }).macaroon;
    res = await get(auth(stranger, token.preimage));
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toBe('UNKNOWN_KEY');
    // none of those consumed a use of the real token
    for (let i = 0; i < 3; i++) expect((await get(token.authorization)).status).toBe(200);
  });

  it('rotates root keys: tokens of the old key verify while it is listed, are refused once dropped', async () => {
    const store = new MemoryUsageStore();
    const token = await paidToken(paidApi({ store }), '/api/data/x');
    const rotated = paidApi({ rootKeys: [KEY_B, KEY_A], store });
    expect(
      (await rotated.request('/api/data/x', { headers: { authorization: token.authorization } })).status,
    ).toBe(200);
    expect((await challengeOf(await rotated.request('/api/quote'))).identifier.keyId).toBe('key-b');
    const dropped = paidApi({ rootKeys: [KEY_B], store });
    const res = await dropped.request('/api/data/x', { headers: { authorization: token.authorization } });
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toBe('UNKNOWN_KEY');
  });

  it('refuses a token on another path (402 WRONG_PATH) and honours caveats the holder added', async () => {
    const app = paidApi();
    const quote = await paidToken(app, '/api/quote');
    let res = await app.request('/api/weather', { headers: { authorization: quote.authorization } });
    expect(res.status).toBe(402);
    expect(await errorOf(res)).toBe('WRONG_PATH');
    expect((await challengeOf(res)).macaroonObject.caveats.map((c) => new TextDecoder().decode(c))).toContain(
      'path=/api/weather',
    );
    const data = await paidToken(app, '/api/data/x');
    const get = (path: string, m: Macaroon) =>
      app.request(path, { headers: { authorization: auth(m, data.preimage) } });
    // attenuated by the holder (no key needed): narrower path, fewer uses, an unknown predicate
    const narrow = addFirstPartyCaveat(data.macaroonObject, 'path=/api/data/x');
    expect((await get('/api/data/x', narrow)).status).toBe(200);
    res = await get('/api/data/y', narrow);
    expect(res.status).toBe(402);
    expect(await errorOf(res)).toBe('WRONG_PATH');
    res = await get('/api/data/x', addFirstPartyCaveat(data.macaroonObject, 'method=POST'));
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toBe('INVALID_CAVEAT');
    const oneUse = addFirstPartyCaveat(data.macaroonObject, 'uses=1');
    res = await get('/api/data/x', oneUse); // the token was used once already (narrow)
    expect(res.status).toBe(402);
    expect(await errorOf(res)).toBe('TOKEN_USED_UP');
    expect((await get('/api/data/x', data.macaroonObject)).status).toBe(200);
  });

  it('refuses the preimage of another invoice (401 WRONG_PREIMAGE), even one paid to the merchant', async () => {
    const app = paidApi();
    const first = await paidToken(app, '/api/quote');
    const second = await paidToken(app, '/api/quote');
    const res = await app.request('/api/quote', {
      headers: { authorization: auth(first.macaroon, second.preimage) },
    });
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toBe('WRONG_PREIMAGE');
    // the unpaid challenge's hash with an unrelated 32 bytes
    const unpaid = await challengeOf(await app.request('/api/quote'));
    const guess = await app.request('/api/quote', {
      headers: { authorization: auth(unpaid.macaroon, '00'.repeat(32)) },
    });
    expect(await errorOf(guess)).toBe('WRONG_PREIMAGE');
    // and both real tokens still work once, each with its own preimage
    expect(
      (await app.request('/api/quote', { headers: { authorization: first.authorization } })).status,
    ).toBe(200);
    expect(
      (await app.request('/api/quote', { headers: { authorization: second.authorization } })).status,
    ).toBe(200);
  });

  it('never answers a malformed Authorization header with a 5xx', async () => {
    const app = paidApi();
    const token = await paidToken(app, '/api/quote');
    const hex = '11'.repeat(32);
    const junk = [
      'L402',
      'L402 ',
      'l402 abc',
      'L402 :',
      `L402 :${hex}`,
      `L402 !!!!:${hex}`,
      `L402 ${token.macaroon}:`,
      `L402 ${token.macaroon}:xyz`,
      `L402 ${token.macaroon}:${hex}00`,
      `L402 ${token.macaroon},${token.macaroon}:${token.preimage}`,
      `L402 ${token.macaroon.slice(0, 40)}:${token.preimage}`,
      `L402 ${base64.encode(new Uint8Array(200).fill(2))}:${hex}`,
      `L402 ${base64.encode(encodeMacaroon({ identifier: new Uint8Array(3), caveats: [], signature: new Uint8Array(32) }))}:${hex}`,
      `L402 ${base64.encode(encodeMacaroon({ identifier: new Uint8Array(67 + 5), caveats: [], signature: new Uint8Array(32) }))}:${hex}`,
      `L402 ${'A'.repeat(20_000)}:${hex}`,
      `LSAT ${token.macaroon}:${token.preimage}:${token.preimage}`,
      `L402 ${token.macaroon.replace(/=+$/, '')}\u00e9\t:${token.preimage}`,
      'L402 ====:====',
      `L402 ${token.macaroon}${token.preimage}`,
    ];
    for (const authorization of junk) {
      const res = await app.request('/api/quote', { headers: { authorization } });
      expect([401, 402], authorization.slice(0, 60)).toContain(res.status);
      expect(parseChallenge(res.headers.get('www-authenticate'))).toBeDefined();
      await errorOf(res);
    }
    // another scheme is simply an unpaid request
    const bearer = await app.request('/api/quote', { headers: { authorization: 'Bearer abc' } });
    expect(bearer.status).toBe(402);
    expect(await errorOf(bearer)).toBe('PAYMENT_REQUIRED');
    // the token was not spent by any of it
    expect(
      (await app.request('/api/quote', { headers: { authorization: token.authorization } })).status,
    ).toBe(200);
  });

  it('answers 503 INVOICE_UNAVAILABLE when the node cannot issue an invoice', async () => {
    const app = paidApi({
      node: {
        createInvoice() {
          throw new Error('node stopped');
        },
      },
    });
    const res = await app.request('/api/quote');
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toBe('INVOICE_UNAVAILABLE');
  });
});

describe('fetchWithL402 over HTTP', () => {
  it('pays the challenge within maxSats and returns the paid response; the token is reusable', async () => {
    const app = paidApi();
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as { port: number };
    try {
      const paid: string[] = [];
      let receipt: { authorization: string; amountMsat: bigint } | undefined;
      const res = await fetchWithL402(`http://127.0.0.1:${port}/api/data/q`, {
        pay: async (bolt11) => {
          paid.push(bolt11);
          return pay(bolt11);
        },
        maxSats: 5,
        onPaid: (r) => (receipt = r),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ path: '/api/data/q' });
      expect(paid).toHaveLength(1);
      expect(receipt?.amountMsat).toBe(5_000n);
      // reuse: no new payment while the token has uses left
      const again = await fetchWithL402(`http://127.0.0.1:${port}/api/data/r`, {
        pay: () => Promise.reject(new Error('should not pay')),
        maxSats: 5,
        authorization: receipt!.authorization,
      });
      expect(again.status).toBe(200);
      // too dear: refused before paying
      const dear = fetchWithL402(`http://127.0.0.1:${port}/api/quote`, {
        pay: () => Promise.reject(new Error('should not pay')),
        maxSats: 9,
      });
      await expect(dear).rejects.toMatchObject({ name: 'L402ClientError', code: 'PRICE_TOO_HIGH' });
      // approve() sees the offer before any payment; its refusal propagates and nothing is paid
      const offers: Array<{ amountMsat: bigint; paymentHash: string }> = [];
      const declined = fetchWithL402(`http://127.0.0.1:${port}/api/quote`, {
        pay: () => Promise.reject(new Error('should not pay')),
        maxSats: 10,
        approve: (offer) => {
          offers.push(offer);
          throw new Error('over budget');
        },
      });
      await expect(declined).rejects.toThrow('over budget');
      expect(offers).toHaveLength(1);
      expect(offers[0]!.amountMsat).toBe(10_000n);
      expect(offers[0]!.paymentHash).toMatch(/^[0-9a-f]{64}$/);
      // not a paid route: passes through untouched
      const free = await fetchWithL402(`http://127.0.0.1:${port}/api/free`, {
        pay: () => Promise.reject(),
        maxSats: 0,
      });
      expect(await free.json()).toEqual({ free: true });
      // a pay() that returns the wrong preimage is caught before the retry
      await expect(
        fetchWithL402(`http://127.0.0.1:${port}/api/quote`, {
          pay: async () => '00'.repeat(32),
          maxSats: 10,
        }),
      ).rejects.toBeInstanceOf(L402ClientError);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
