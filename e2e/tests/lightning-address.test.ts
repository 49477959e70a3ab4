// A Lightning Address in the browser wallet against the real stack: a new user claims a name in
// Settings (a taken one is refused in words), Receive shows the address with a copy button, and the
// devnet merchant pays it with a third-party LNURL client (`lnurl-pay`, its invoice checks on): the
// LSP asks the open wallet's node for each invoice. The first payment opens the channel (JIT, within
// Settings' fee limit), the second lands in it with the payer's comment in the history. Locked, the
// wallet cannot answer: the payer is told "recipient offline".
import { RECIPIENT_OFFLINE_REASON } from '@lpw/api';
import { waitUntil } from '@lpw/devnet';
import { parseLightningAddress } from '@lpw/payment-request';
import { bech32 } from '@scure/base';
import { requestInvoice } from 'lnurl-pay';
import type { Page } from 'playwright-core';
import { type Journey, startJourney, stopJourney } from '../harness/journey.ts';
import { expect, shot, test } from '../harness/runner.ts';
import type { Stack } from '../harness/stack.ts';
import { balanceSat, createWallet, waitConnected } from '../harness/wallet.ts';

let stack: Stack;
let journey: Journey | undefined;
let page: Page;
let errors: string[];
let address = '';

/**
 * The LUD-01 `lnurl1…` of the address's LUD-16 URL: third-party clients read only internet domains
 * as addresses (no `host:port`), so the devnet's loopback address reaches them in this form.
 */
const lnurlOf = (text: string) =>
  bech32.encode('lnurl', bech32.toWords(new TextEncoder().encode(parseLightningAddress(text)!.url)), 2000);

/** The merchant pays `sats` to the wallet's address, as any LNURL payer would. */
async function merchantPays(sats: number, comment?: string) {
  const { invoice } = await requestInvoice({
    lnUrlOrAddress: lnurlOf(address),
    tokens: sats as never,
    ...(comment ? { comment } : {}),
    validateInvoice: true,
  });
  return stack.net.merchant.node.payInvoice(invoice, { timeoutMs: 60_000 });
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  journey = await startJourney({ seed: 'lpw-e2e-lnaddr', echoConsole: true });
  ({ stack, page, errors } = journey);
});

test.afterAll(() => stopJourney(journey));

test.describe('a Lightning Address for the wallet', () => {
  test('a new user claims a name in Settings; a taken one is refused in words', async () => {
    await page.goto(stack.front.url);
    await page.getByTestId('screen-welcome').waitFor();
    await createWallet(page);
    await waitConnected(page);
    // someone else holds "bob" at this LSP already
    const bob = `02${'b'.repeat(64)}`;
    await stack.lspStore.touchWallet(bob, Date.now());
    expect((await stack.lspStore.claimAddressName(bob, 'bob', Date.now())).ok).toBe(true);

    await page.getByRole('button', { name: 'Settings' }).click();
    const section = page.getByTestId('address-section');
    await section.getByText('None yet').waitFor();
    await section.locator('input[name=address-name]').fill('bob');
    await section.getByRole('button', { name: 'Claim address' }).click();
    await section.getByText('That name is taken. Choose another.').waitFor();
    await section.locator('input[name=address-name]').fill('no spaces here');
    await section.getByRole('button', { name: 'Claim address' }).click();
    await section.getByText(/A name is 1 to 64 of/).waitFor();
    // capitals are typed; the name is lowercase
    await section.locator('input[name=address-name]').fill('Alice');
    await section.getByRole('button', { name: 'Claim address' }).click();
    const host = new URL(stack.lsp.url).host;
    address = `alice@${host}`;
    await section.getByText(`Your address is now ${address}.`).waitFor();
    await section.getByTestId('address-current').getByText(address).waitFor();
    await section.scrollIntoViewIfNeeded();
    await shot(page, 'lnaddr-01-settings-claimed');
    expect((await stack.lspStore.getAddressName('alice'))?.nodeId).toBeDefined();
  });

  test('Receive shows the address with a copy button', async () => {
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    await page.getByRole('button', { name: 'Receive' }).click();
    await page.getByTestId('screen-receive').waitFor();
    if (await page.getByTestId('storage-warning').isVisible())
      await page.getByRole('button', { name: 'I understand, continue' }).click();
    expect(await page.getByTestId('lightning-address').textContent()).toBe(address);
    await page.getByTestId('copy-address').click();
    await page.getByTestId('copy-address').getByText('Copied').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(address);
    await shot(page, 'lnaddr-02-receive-address');
    await page.getByRole('button', { name: 'Back', exact: true }).click();
  });

  test('the merchant pays the address: the first payment opens the channel, the second lands in it', async () => {
    await merchantPays(20_000);
    // 20,000 less the LSP's opening fee (2,000 sats at this size), within the default limit of 5,000
    await page.waitForFunction(
      () => document.querySelector('[data-testid=balance]')?.textContent?.replace(/[^0-9]/g, '') === '18000',
      undefined,
      { timeout: 60_000, polling: 250 },
    );
    await merchantPays(1_500, 'for the coffee');
    await page.waitForFunction(
      () => document.querySelector('[data-testid=balance]')?.textContent?.replace(/[^0-9]/g, '') === '19500',
      undefined,
      { timeout: 60_000, polling: 250 },
    );
    expect(await balanceSat(page)).toBe(19_500n);
    await page.getByTestId('payment-row').getByText('for the coffee').first().waitFor();
    await shot(page, 'lnaddr-03-home-paid');
  });

  test('locked, the wallet cannot make invoices: the payer hears "recipient offline"', async () => {
    const nodeId = (await stack.lspStore.getAddressName('alice'))!.nodeId;
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Lock wallet' }).click();
    await page.getByTestId('screen-lock').waitFor();
    await waitUntil('the LSP sees the wallet gone', () => !stack.lspNode.isConnected(nodeId), 30_000);
    const started = Date.now();
    await expect(merchantPays(1_000)).rejects.toThrow(RECIPIENT_OFFLINE_REASON);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(errors).toEqual([]);
  });
});
