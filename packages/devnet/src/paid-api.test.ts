import { type Devnet, startDevnet } from '@lpw/devnet-chain';
import { fetchWithL402 } from '@lpw/l402';
import { decodeBolt11, fetchInvoice, parsePaymentRequest, resolvePayRequest } from '@lpw/payment-request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PublicNetwork, startPublicNetwork } from './network.ts';
import { type PaidApi, startPaidApi } from './paid-api.ts';

describe('the devnet demo paid API', () => {
  let devnet: Devnet;
  let network: PublicNetwork;
  let api: PaidApi;

  beforeAll(async () => {
    devnet = await startDevnet({ seed: 'paid-api-test' });
    network = await startPublicNetwork(devnet);
    api = await startPaidApi(network.merchant.node, { faucet: network.router.node });
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await network?.stop();
    await devnet?.stop();
  });

  it('lists its prices for free and charges per request, paid by the router over Lightning', async () => {
    const menu = (await (await fetch(`${api.url}/`)).json()) as { endpoints: Array<{ priceSat: number }> };
    expect(menu.endpoints.map((e) => e.priceSat)).toEqual([10, 20]);
    const unpaid = await fetch(`${api.url}/api/quote`);
    expect(unpaid.status).toBe(402);
    expect(unpaid.headers.get('www-authenticate')).toMatch(/^L402 macaroon="/);

    const before = network.merchant.node.listPayments().filter((p) => p.status === 'succeeded').length;
    const pay = async (bolt11: string) => (await network.router.node.payInvoice(bolt11)).preimage;
    const quote = await fetchWithL402(`${api.url}/api/quote`, { pay, maxSats: 10 });
    expect(quote.status).toBe(200);
    expect(((await quote.json()) as { quote: string }).quote).toMatch(/\w/);
    const weather = await fetchWithL402(`${api.url}/api/weather?city=Lisbon`, { pay, maxSats: 20 });
    expect(await weather.json()).toMatchObject({ city: 'Lisbon', madeUp: true });
    const received = network.merchant.node.listPayments().filter((p) => p.status === 'succeeded');
    expect(received.length - before).toBe(2);
    expect(received.map((p) => p.amountMsat)).toEqual(expect.arrayContaining([10_000n, 20_000n]));
  });

  it('a quote token serves three requests, then a fourth needs a new payment', async () => {
    let paid = 0;
    const pay = async (bolt11: string) => {
      paid++;
      return (await network.router.node.payInvoice(bolt11)).preimage;
    };
    let authorization: string | undefined;
    for (let i = 0; i < 4; i++) {
      const res = await fetchWithL402(`${api.url}/api/quote`, {
        pay,
        maxSats: 10,
        ...(authorization ? { authorization } : {}),
        onPaid: (receipt) => {
          authorization = receipt.authorization;
        },
      });
      expect(res.status).toBe(200);
    }
    expect(paid).toBe(2);
  });

  it('the merchant has a Lightning Address: LNURL-pay answers, and its invoice commits to the metadata', async () => {
    const host = new URL(api.url).host;
    const request = parsePaymentRequest(`merchant@${host}`, { network: 'regtest', nowSec: 0 });
    expect(request.kind).toBe('lightning-address');
    const url = request.kind === 'lightning-address' ? request.url : '';
    const payRequest = await resolvePayRequest(url, fetch);
    expect(payRequest).toMatchObject({
      description: 'Pay the devnet merchant',
      identifier: `merchant@${host}`,
    });
    const nowSec = Math.floor(Date.now() / 1000);
    // fetchInvoice checks amount, network and description hash = SHA-256(metadata)
    const bolt11 = await fetchInvoice(payRequest, 21_000n, fetch, { network: 'regtest', nowSec });
    expect(decodeBolt11(bolt11).amountMsat).toBe(21_000n);
    await network.router.node.payInvoice(bolt11);
    await expect(
      fetchInvoice(payRequest, 2_000_000_000n, fetch, { network: 'regtest', nowSec }),
    ).rejects.toThrow(/accepts/);
    expect((await fetch(`${api.url}/.well-known/lnurlp/nobody`)).status).toBe(404);
  });

  // what a browser checks before it lets a page on another origin (the wallet) read these answers
  it('its Lightning Address and paid API answer any origin (CORS), the L402 challenge readable by scripts', async () => {
    const origin = { origin: 'http://wallet.example' };
    const address = await fetch(`${api.url}/.well-known/lnurlp/merchant`, { headers: origin });
    expect(address.headers.get('access-control-allow-origin')).toBe('*');
    const { callback } = (await address.json()) as { callback: string };
    const invoice = await fetch(`${callback}?amount=1000`, { headers: origin });
    expect(invoice.headers.get('access-control-allow-origin')).toBe('*');
    const challenge = await fetch(`${api.url}/api/quote`, { headers: origin });
    expect(challenge.status).toBe(402);
    expect(challenge.headers.get('access-control-allow-origin')).toBe('*');
    expect(challenge.headers.get('access-control-expose-headers')).toMatch(/www-authenticate/i);
    // a token is sent as Authorization, which is not a simple header: the browser asks first
    const preflight = await fetch(`${api.url}/api/quote`, {
      method: 'OPTIONS',
      headers: {
        ...origin,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    // the shop is a page for people, not an API: no CORS
    expect(
      (await fetch(`${api.url}/shop`, { headers: origin })).headers.get('access-control-allow-origin'),
    ).toBeNull();
  });

  it('the shop shows the invoice of an item as a QR code and marks the order paid once it is', async () => {
    const menu = await (await fetch(`${api.url}/shop`)).text();
    expect(menu).toContain('Coffee');
    expect(menu).not.toContain('<script');
    const order = await fetch(`${api.url}/shop/buy/coffee`);
    expect(order.url).toMatch(/\/shop\/order\/[0-9a-f]{64}$/);
    const unpaid = await order.text();
    expect(unpaid).toContain('<svg');
    const bolt11 = /<code>(lnbcrt[0-9a-z]+)<\/code>/.exec(unpaid)?.[1];
    expect(bolt11).toBeDefined();
    expect(order.headers.get('content-security-policy')).toContain("default-src 'none'");
    await network.router.node.payInvoice(bolt11!);
    const paid = await (await fetch(order.url)).text();
    expect(paid).toContain('Paid ✓ 5,000 sats');
    expect((await fetch(`${api.url}/shop/buy/unicorn`)).status).toBe(404);
    expect((await fetch(`${api.url}/shop/order/${'ab'.repeat(32)}`)).status).toBe(404);
  });

  it('the faucet pays a pasted regtest invoice from the router and refuses bad ones with a reason', async () => {
    const post = (invoice: string) =>
      fetch(`${api.url}/shop/faucet`, { method: 'POST', body: new URLSearchParams({ invoice }) });
    const invoice = network.merchant.node.createInvoice({
      amountMsat: 2_500_000n,
      description: 'faucet',
      expirySecs: 600,
    });
    const sent = await post(`lightning:${invoice.bolt11}`);
    expect(sent.status).toBe(200);
    expect(await sent.text()).toContain('2,500 sats are on their way');
    const record = network.merchant.node.listPayments().find((p) => p.paymentHash === invoice.paymentHash);
    expect(record?.status).toBe('succeeded');

    const garbage = await post('not an invoice');
    expect(garbage.status).toBe(400);
    expect(await garbage.text()).toContain('not a Lightning invoice');
    const tooMuch = network.merchant.node.createInvoice({
      amountMsat: 200_000_000n,
      description: 'greedy',
      expirySecs: 600,
    });
    const refused = await post(tooMuch.bolt11);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('at most 100,000 sats');
    const noAmount = network.merchant.node.createInvoice({ description: 'any', expirySecs: 600 });
    expect((await post(noAmount.bolt11)).status).toBe(400);
  });
});
