// BOLT 12 offers in the browser wallet against the real stack: the wallet shows its reusable offer
// on Receive and the devnet merchant pays it twice (the LSP is the offer's introduction node and
// forwards the messages and the payments); the person pastes the merchant's offer in Send, sees what
// it is for and enters an amount, and pays it. Every amount is checked on both ends.
import { waitUntil } from '@lpw/devnet';
import type { Page } from 'playwright-core';
import { type Journey, startJourney, stopJourney } from '../harness/journey.ts';
import { expect, shot, test } from '../harness/runner.ts';
import type { Stack } from '../harness/stack.ts';
import { balanceSat, createWallet, receiveThroughJit, waitConnected } from '../harness/wallet.ts';

let stack: Stack;
let journey: Journey | undefined;
let page: Page;
let errors: string[];

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  journey = await startJourney({ seed: 'lpw-e2e-offers' });
  ({ stack, page, errors } = journey);
});

test.afterAll(() => stopJourney(journey));

test.describe('BOLT 12 offers in the wallet', () => {
  test('a wallet funded through a JIT channel (20,000 sats)', async () => {
    await page.goto(stack.front.url);
    await createWallet(page);
    await waitConnected(page);
    await receiveThroughJit(page, 20_000, (bolt11) =>
      stack.net.router.node.payInvoice(bolt11, { timeoutMs: 90_000 }),
    );
    await page.waitForFunction(
      () => document.querySelector('[data-testid=balance]')?.getAttribute('data-msat') !== '0',
    );
  });

  test('Receive shows the reusable offer; the merchant pays it twice', async () => {
    const before = await balanceSat(page);
    await page.getByRole('button', { name: 'Receive' }).click();
    await page.getByRole('button', { name: 'Show my reusable offer' }).click();
    await page.getByTestId('screen-receive-offer').waitFor();
    const offer = (await page.getByTestId('offer-text').textContent())!.trim();
    expect(offer).toMatch(/^lno1/);
    await expect(page.getByRole('img', { name: 'Offer QR code' })).toBeVisible();
    await shot(page, 'offers-receive');
    const merchant = stack.net.merchant.node.bolt12Payment;
    expect(merchant.decodeOffer(offer).introductionNodeIds).toEqual([stack.lspNode.nodeId]);
    for (const sats of [2_100n, 3_400n]) {
      const id = await merchant.payOffer(offer, sats * 1000n);
      expect((await merchant.outcome(id, 60_000)).amountMsat).toBe(sats * 1000n);
    }
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    await page.getByTestId('screen-home').waitFor();
    await waitUntil(
      'both offer payments in the balance',
      async () => (await balanceSat(page)) === before + 5_500n,
      60_000,
    );
  });

  test("Send takes the merchant's offer: what it is for, an amount, then paid", async () => {
    const before = await balanceSat(page);
    const offer = stack.net.merchant.node.bolt12Payment.offer();
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('textarea[name=invoice]').fill(offer);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByTestId('screen-send-review').waitFor();
    await page.getByText('a BOLT 12 offer (its node stays private)').waitFor();
    // its route comes with the payee's invoice, and an offer without an expiry has no countdown
    await expect(page.getByTestId('review-fee')).toContainText('known once the payee answers');
    await expect(page.getByText(/Expires in/)).toHaveCount(0);
    await page.getByRole('textbox', { name: /Amount in/ }).fill('1500');
    await shot(page, 'offers-send-review');
    const received = stack.net.merchant.node.waitFor(
      'payment-received',
      (e) => e.amountMsat === 1_500_000n,
      90_000,
    );
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.getByTestId('screen-send-done').waitFor({ timeout: 90_000 });
    await received;
    await shot(page, 'offers-send-done');
    await page.getByRole('button', { name: 'Done' }).click();
    await waitUntil('the payment out of the balance', async () => (await balanceSat(page)) < before, 30_000);
    const after = await balanceSat(page);
    // 1,500 sats and a routing fee of at most the wallet's limit
    expect(before - after).toBeGreaterThanOrEqual(1_500n);
    expect(before - after).toBeLessThan(1_600n);
    expect(errors).toEqual([]);
  });
});
