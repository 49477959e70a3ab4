// Other origins from the wallet, in Chromium against the real stack: the merchant's site (another
// port than the wallet's, sending CORS headers) asked directly by the browser — a Lightning Address
// payment, and an L402 link paid within the budget set for that site, its token reused, then a
// dearer link refused with nothing paid — with the LSP's relay never used, though the LSP is made
// hostile. Then a site without CORS headers: reached through the relay, said on screen ("via your
// LSP"); the hostile relay's substituted invoice is caught, nothing paid; the honest relay's is paid.
// The wallet is funded first through a JIT channel, as in the journey.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { BrowserContext, Page } from 'playwright-core';
import { type Journey, startJourney, stopJourney } from '../harness/journey.ts';
import { expect, shot, test } from '../harness/runner.ts';
import type { Stack } from '../harness/stack.ts';
import { createWallet, receiveThroughJit, unlock, waitConnected } from '../harness/wallet.ts';

let stack: Stack;
let journey: Journey | undefined;
let context: BrowserContext;
let page: Page;
let errors: string[];
/** While true, the LSP's relay answers an LNURL callback with an invoice to the LSP's own node. */
let hostile = false;
/** Payment hashes of the LSP's invoices the hostile relay passed off as the site's. */
const substituted: string[] = [];
/** The merchant's site behind a server that sends no CORS headers (as many sites don't). */
let noCors: Server;
let noCorsUrl: string;

/** Inbound payments the merchant has been paid, in msat. */
const merchantReceived = () =>
  stack.net.merchant.node
    .listPayments()
    .filter((p) => p.direction === 'inbound' && p.status === 'succeeded')
    .map((p) => p.amountMsat);

async function send(text: string) {
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByTestId('screen-send').waitFor();
  await page.locator('textarea[name=invoice]').fill(text);
  await page.getByRole('button', { name: 'Continue' }).click();
}

async function home() {
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByTestId('screen-home').waitFor();
}

// the tests are one journey, each step starting where the last ended: a failure skips the rest
test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  journey = await startJourney({ seed: 'lpw-e2e-l402' });
  ({ stack, context, page, errors } = journey);
  await installHostileRelay();
  noCors = await startNoCorsSite(stack.paidApi.url);
  noCorsUrl = `http://127.0.0.1:${(noCors.address() as AddressInfo).port}`;
  await page.goto(stack.front.url);
  await page.getByTestId('screen-welcome').waitFor();
  await createWallet(page);
  await waitConnected(page);
  // 20,000 sats in through a JIT channel, paid by the router
  await receiveThroughJit(page, 20_000, (bolt11) =>
    stack.net.router.node.payInvoice(bolt11, { timeoutMs: 90_000 }),
  );
});

test.afterAll(async () => {
  noCors?.closeAllConnections();
  noCors?.close();
  await stopJourney(journey);
});

test.describe('other sites, directly when they allow it, through the LSP relay when not', () => {
  test('pays the merchant’s Lightning Address on another origin directly: a hostile relay cannot touch it', async () => {
    const site = new URL(stack.paidApi.url).host;
    expect(site).not.toBe(new URL(stack.front.url).host);
    hostile = true;
    const relayedBefore = await relayedOk();
    await send(`merchant@${site}`);
    await page.getByTestId('screen-send-lnurl').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('lnurl-payee').textContent()).toBe(`merchant@${site}`);
    expect(await page.getByTestId('lnurl-description').textContent()).toBe('Pay the devnet merchant');
    await page.locator('input[name=amount]').fill('1000');
    await shot(page, 'l402-01-lightning-address');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByTestId('screen-send-review').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('review-payee').textContent()).toBe(`merchant@${site}`);
    await page
      .getByRole('button', { name: 'Pay' })
      .and(page.locator(':enabled'))
      .waitFor({ timeout: 30_000 });
    await shot(page, 'l402-02-lightning-address-review');
    expect(await page.getByTestId('via-lsp').count()).toBe(0);
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.getByTestId('screen-send-done').waitFor({ timeout: 90_000 });
    await shot(page, 'l402-03-lightning-address-paid');
    const preimage = ((await page.getByTestId('preimage').textContent()) ?? '').trim();
    const paid = stack.net.merchant.node.payment(bytesToHex(sha256(hexToBytes(preimage))));
    expect(paid?.status).toBe('succeeded');
    expect(paid?.amountMsat).toBe(1_000_000n);
    // both LNURL steps went straight to the site: the LSP relayed nothing, substituted nothing
    expect((await relayedOk()) - relayedBefore).toBe(0);
    expect(substituted).toEqual([]);
    hostile = false;
    await home();
  });

  // A site's budget covers its prices and their routing fees: on the devnet the LSP and the router
  // each charge 1 sat per payment (LDK's default base fee, no proportional fee).
  test('opens an L402 link: asks a budget once, pays within it, shows the answer, reuses the token', async () => {
    const url = `${stack.paidApi.url}/api/quote`;
    const before = merchantReceived().length;
    const relayedBefore = await relayedOk();
    await send(url);
    await page.getByTestId('screen-url-budget').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('url-price').textContent()).toBe('10 sats');
    await page.locator('input[name=budget]').fill('25');
    await shot(page, 'l402-04-budget');
    await page.getByRole('button', { name: 'Set budget and pay' }).click();
    await page.getByTestId('screen-url-opened').waitFor({ timeout: 90_000 });
    await shot(page, 'l402-05-paid-answer');
    expect(await page.getByTestId('url-status').textContent()).toBe('HTTP 200');
    expect(await page.getByTestId('url-paid').textContent()).toBe('12 sats');
    expect(JSON.parse((await page.getByTestId('url-body').textContent())!).quote).toMatch(/\w/);
    expect(await page.getByTestId('site-spent').textContent()).toBe('12 sats');
    expect(await page.getByTestId('site-left').textContent()).toBe('25 sats, 13 sats left');
    const received = merchantReceived().slice(before);
    expect(received).toEqual([10_000n]);

    // again: the token bought is reused, nothing paid
    await page.getByRole('button', { name: 'Open again' }).click();
    await page.getByTestId('screen-url-opened').waitFor({ timeout: 30_000 });
    await page.waitForFunction(() =>
      /token/.test(document.querySelector('[data-testid=url-paid]')?.textContent ?? ''),
    );
    expect(await page.getByTestId('url-paid').textContent()).toBe(
      'nothing: a token you bought earlier was used',
    );
    await shot(page, 'l402-06-token-reused');
    expect(merchantReceived().length - before).toBe(1);
    // challenge, paid retry and token reuse (Authorization: a CORS preflight) all went direct
    expect(await page.getByTestId('via-lsp').count()).toBe(0);
    expect((await relayedOk()) - relayedBefore).toBe(0);
    await home();
  });

  test('what was spent survives a reload; a link dearer than the budget left is refused, nothing paid; a raised budget pays it', async () => {
    await page.reload();
    await unlock(page);
    await waitConnected(page);
    // Settings lists the site with what it was paid
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByTestId('paid-sites').waitFor();
    expect(await page.getByTestId('site-spent').textContent()).toBe('12 sats');
    expect(await page.getByTestId('site-left').textContent()).toBe('25 sats, 13 sats left');
    await shot(page, 'l402-07-settings-sites');
    await page.getByRole('button', { name: 'Back', exact: true }).click();

    const paymentsBefore = await page.getByTestId('payment-row').count();
    const before = merchantReceived().length;
    await send(`${stack.paidApi.url}/api/weather?city=Lisbon`);
    await page.getByTestId('screen-url-refused').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('url-refused').textContent()).toBe(
      `${new URL(stack.paidApi.url).host} asks 20 sats, but only 13 sats are left of your budget for it. Nothing was paid.`,
    );
    await shot(page, 'l402-08-over-budget');
    expect(merchantReceived().length).toBe(before);
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByTestId('screen-home').waitFor();
    expect(await page.getByTestId('payment-row').count()).toBe(paymentsBefore);

    // the person raises the budget on that screen, and the link is paid
    await send(`${stack.paidApi.url}/api/weather?city=Lisbon`);
    await page.getByTestId('screen-url-refused').waitFor({ timeout: 30_000 });
    await page.locator('input[name=site-budget]').fill('40');
    await page.getByRole('button', { name: 'Save budget' }).click();
    await page.getByText('Budget saved.').waitFor();
    expect(await page.getByTestId('site-left').textContent()).toBe('40 sats, 28 sats left');
    await page.getByRole('button', { name: 'Open again' }).click();
    await page.getByTestId('screen-url-opened').waitFor({ timeout: 90_000 });
    expect(JSON.parse((await page.getByTestId('url-body').textContent())!)).toMatchObject({ city: 'Lisbon' });
    expect(await page.getByTestId('site-spent').textContent()).toBe('34 sats');
    await shot(page, 'l402-09-raised-budget-paid');
    expect(merchantReceived().slice(before)).toEqual([20_000n]);
    expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });

  test('reaches a site without CORS through the relay and says so; an invoice the relay swapped is refused, nothing paid', async () => {
    await home();
    const site = new URL(noCorsUrl).host;
    const before = merchantReceived().length;
    const paymentsBefore = await page.getByTestId('payment-row').count();
    const relayedBefore = await relayedOk();
    hostile = true;
    await send(`merchant@${site}`);
    await page.getByTestId('screen-send-lnurl').waitFor({ timeout: 30_000 });
    // the browser could not read the site's answer (no CORS): the LSP relayed it, and the screen says so
    expect(await page.getByTestId('via-lsp').textContent()).toMatch(/^Fetched via your LSP/);
    await page.locator('input[name=amount]').fill('1000');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByTestId('send-lnurl-error').waitFor({ timeout: 30_000 });
    expect(substituted).toHaveLength(1);
    // the LSP's invoice does not commit to the metadata the site showed (description hash)
    expect(await page.getByTestId('send-lnurl-error').textContent()).toBe(
      `The invoice that came via your LSP for ${site} doesn't match what the site showed, so it was not paid.`,
    );
    await shot(page, 'l402-10-relay-swapped-invoice-refused');
    expect(merchantReceived().length).toBe(before);
    expect(stack.lspNode.payment(substituted[0]!)?.status).not.toBe('succeeded');

    // an honest relay: its invoice is checked the same way, paid, and the confirm screen says "via your LSP"
    hostile = false;
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByTestId('screen-send-review').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('via-lsp').textContent()).toMatch(/via your LSP/);
    await page
      .getByRole('button', { name: 'Pay' })
      .and(page.locator(':enabled'))
      .waitFor({ timeout: 30_000 });
    await shot(page, 'l402-11-via-lsp-review');
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.getByTestId('screen-send-done').waitFor({ timeout: 90_000 });
    expect(merchantReceived().slice(before)).toEqual([1_000_000n]);
    // step 1, the swapped callback, the honest callback
    expect((await relayedOk()) - relayedBefore).toBe(3);
    await home();
    expect(await page.getByTestId('payment-row').count()).toBe(paymentsBefore + 1);
  });
});

/** Relayed requests the LSP answered, from its metrics. */
async function relayedOk(): Promise<number> {
  const text = await (await fetch(`${stack.lsp.url}/metrics`)).text();
  return Number(/lsp_relay_requests_total\{outcome="ok"\} (\d+)/.exec(text)?.[1] ?? 0);
}

/**
 * The LSP turned hostile, between the wallet and its relay: while `hostile`, an LNURL callback's
 * answer is replaced by an invoice of the same amount from the LSP's own node. (Interception covers
 * the wallet's worker, which makes the relay calls.)
 */
async function installHostileRelay(): Promise<void> {
  await context.route('**/trpc/relay.fetch**', async (route) => {
    const response = await route.fetch();
    if (!hostile) return route.fulfill({ response });
    const json = (await response.json()) as { result?: { data?: { url: string; body_base64: string } } };
    const answer = json.result?.data;
    const asked = answer ? new URL(answer.url) : undefined;
    if (answer && asked?.pathname.endsWith('/callback')) {
      const amountMsat = BigInt(asked.searchParams.get('amount') ?? '0');
      const own = stack.lspNode.createInvoice({ amountMsat, description: 'the LSP', expirySecs: 600 });
      answer.body_base64 = Buffer.from(JSON.stringify({ pr: own.bolt11, routes: [] })).toString('base64');
      substituted.push(own.paymentHash);
    }
    return route.fulfill({ response, json });
  });
}

/** The merchant's site passed through with only its content type: no CORS headers. */
async function startNoCorsSite(siteUrl: string): Promise<Server> {
  const server = createServer(async (req, res) => {
    const answer = await fetch(`${siteUrl}${req.url}`);
    // its callback is here too, so both LNURL steps need the relay
    const body = (await answer.text()).replaceAll(
      siteUrl,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    );
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
