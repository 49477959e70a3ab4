// What a person expects on the payment screens, on a phone against the real stack (the LSP serving
// the devnet's fixed rates, 1 BTC = 100,000 USD): fiat beside sats on Home, Receive and Send, in the
// currency chosen in Settings (none: sats only); an old rate kept on the device shown with its age
// while the LSP is away; a live "Expires in" on both sides and an invoice that expires on the confirm
// screen refused; Share where the browser has the Web Share API, Copy always; and an invoice already
// paid said so before the confirm screen, with no way to pay it twice.
import { decodeBolt11 } from '@lpw/payment-request';
import type { Page } from 'playwright-core';
import { type Journey, startJourney, stopJourney } from '../harness/journey.ts';
import { expect, shot, test } from '../harness/runner.ts';
import type { Stack } from '../harness/stack.ts';
import { createWallet, unlock, waitConnected } from '../harness/wallet.ts';

let stack: Stack;
let journey: Journey | undefined;
let page: Page;
let errors: string[];

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  journey = await startJourney();
  ({ stack, page, errors } = journey);
});

test.afterAll(() => stopJourney(journey));

/** Cents of `msat` at the devnet's 100,000 USD a bitcoin, rounded down as the wallet rounds. */
const usdCents = (msat: bigint): bigint => msat / 10_000n;
/** The cents a "≈ $19.84" text says. */
const centsOf = (text: string | null): bigint => BigInt((text ?? '').replace(/[^0-9]/g, '') || '-1');

const text = (testId: string) => page.getByTestId(testId).textContent();
const balanceMsat = async () => BigInt((await page.getByTestId('balance').getAttribute('data-msat')) ?? '0');

async function pasteToSend(bolt11: string): Promise<void> {
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('textarea[name=invoice]').fill(bolt11);
  await page.getByRole('button', { name: 'Continue' }).click();
}

test.describe('payment screens', () => {
  test('Home shows the balance in dollars beside sats as soon as the wallet is connected', async () => {
    await page.goto(stack.front.url);
    await createWallet(page);
    await waitConnected(page);
    await expect(page.getByTestId('balance-fiat')).toHaveText(/^≈ .*\$0\.00$/, { timeout: 30_000 });
  });

  test('Receive: fiat beside the amount, a live "Expires in", and Copy (Share where the browser has it)', async () => {
    await page.getByRole('button', { name: 'Receive' }).click();
    if (await page.getByTestId('storage-warning').isVisible())
      await page.getByRole('button', { name: 'I understand, continue' }).click();
    await page.locator('input[name=amount]').fill('20000');
    await page.getByRole('button', { name: 'Create invoice' }).click();
    await page.getByTestId('screen-receive-fee').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Agree and create invoice' }).click();
    await page.getByTestId('screen-receive-invoice').waitFor({ timeout: 30_000 });
    expect(await text('receive-fiat')).toMatch(/^≈ .*\$20\.00$/);
    const bolt11 = (await text('invoice-text'))!.trim();
    const invoice = decodeBolt11(bolt11);
    const first = await text('expires-in');
    expect(first).toMatch(/^Expires in \d+:\d\d$/);
    // counts down: a later reading says less time
    await expect(page.getByTestId('expires-in')).not.toHaveText(first!, { timeout: 5_000 });
    // this Chromium (Linux, headless) has no Web Share API: Copy alone, which copies the invoice
    const hasShare = await page.evaluate(() => typeof navigator.share === 'function');
    await expect(page.getByRole('button', { name: 'Share' })).toHaveCount(hasShare ? 1 : 0);
    await page.getByRole('button', { name: 'Copy' }).click();
    await expect(page.getByRole('button', { name: 'Copied' })).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(bolt11);
    await shot(page, 'screens-01-receive-invoice');
    const paid = stack.net.merchant.node.payInvoice(bolt11, { timeoutMs: 90_000 });
    paid.catch(() => {});
    await page.getByTestId('screen-receive-done').waitFor({ timeout: 90_000 });
    await paid;
    expect(invoice.amountMsat).toBe(20_000_000n);
    await page.getByRole('button', { name: 'Done' }).click();
    await expect.poll(balanceMsat, { timeout: 30_000 }).toBeGreaterThan(0n);
    expect(centsOf(await text('balance-fiat'))).toBe(usdCents(await balanceMsat()));
    await shot(page, 'screens-02-home-fiat');
  });

  test('with the Web Share API, Share hands the invoice to the share sheet as a lightning: link', async () => {
    // what a phone's browser has; this Chromium lacks it, so the page gets a recording stand-in
    await page.evaluate(() => {
      const w = window as unknown as { shared?: ShareData };
      Object.defineProperty(navigator, 'share', {
        configurable: true,
        value: async (data: ShareData) => {
          w.shared = data;
        },
      });
    });
    await page.getByRole('button', { name: 'Receive' }).click();
    await page.locator('input[name=amount]').fill('1000');
    await page.getByRole('button', { name: 'Create invoice' }).click();
    await page.getByTestId('screen-receive-invoice').waitFor({ timeout: 30_000 });
    const bolt11 = (await text('invoice-text'))!.trim();
    expect(await text('receive-fiat')).toMatch(/^≈ .*\$1\.00$/);
    await shot(page, 'screens-03-receive-share');
    await page.getByRole('button', { name: 'Share' }).click();
    const shared = await page.evaluate(() => (window as unknown as { shared?: ShareData }).shared);
    expect(shared).toEqual({ text: `lightning:${bolt11}` });
    await page.getByRole('button', { name: 'Back', exact: true }).click();
  });

  test('Send: fiat and a live "Expires in" before paying; the paid invoice pasted again is "Already paid", with no Pay', async () => {
    const invoice = stack.net.merchant.node.createInvoice({
      amountMsat: 5_000_000n,
      description: 'Coffee',
      expirySecs: 900,
    });
    await pasteToSend(invoice.bolt11);
    await page.getByTestId('screen-send-review').waitFor();
    expect(await text('review-amount')).toBe('5\u202f000 sats');
    expect(await text('review-fiat')).toMatch(/^≈ .*\$5\.00$/);
    const first = await text('expires-in');
    // 15 minutes from the invoice's timestamp (LDK's: the newest block's time, a little behind)
    expect(first).toMatch(/^Expires in 1\d:\d\d$/);
    await expect(page.getByTestId('expires-in')).not.toHaveText(first!, { timeout: 5_000 });
    const pay = page.getByRole('button', { name: 'Pay' });
    await pay.and(page.locator(':enabled')).waitFor({ timeout: 30_000 });
    await shot(page, 'screens-04-send-review');
    await pay.click();
    await page.getByTestId('screen-send-done').waitFor({ timeout: 90_000 });
    await page.getByRole('button', { name: 'Done' }).click();
    // the history row has its dollars too
    await expect(page.getByTestId('payment-row').first()).toContainText('Coffee');
    await expect(page.getByTestId('payment-row').first().locator('.fiat')).toHaveText(/^≈ .*\$5\.00$/);

    await pasteToSend(invoice.bolt11);
    await page.getByTestId('screen-send-already-paid').waitFor();
    expect(await text('already-paid')).toMatch(
      /^You already paid this invoice on .+\. It cannot be paid twice\.$/,
    );
    await expect(page.getByRole('button', { name: 'Pay' })).toHaveCount(0);
    await shot(page, 'screens-05-send-already-paid');
    await page.getByRole('button', { name: 'Done' }).click();
    // paid once: the merchant has one payment for that hash, and the wallet one row
    expect(stack.net.merchant.node.payment(invoice.paymentHash)?.status).toBe('succeeded');
    await expect(page.getByTestId('payment-row').filter({ hasText: 'Coffee' })).toHaveCount(1);
  });

  test('an invoice that expires on the confirm screen is refused in words, and Pay is off', async () => {
    // LDK dates an invoice by the newest block it saw, which may be behind the clock: expire 10 s from now
    const probe = stack.net.merchant.node.createInvoice({
      amountMsat: 1_000n,
      description: 'probe',
      expirySecs: 3600,
    });
    const behindSecs = Math.ceil((Date.now() - (probe.expiresAt - 3_600_000)) / 1000);
    const invoice = stack.net.merchant.node.createInvoice({
      amountMsat: 2_000_000n,
      description: 'Quick tea',
      expirySecs: Math.max(0, behindSecs) + 10,
    });
    await pasteToSend(invoice.bolt11);
    await page.getByTestId('screen-send-review').waitFor();
    expect(await text('expires-in')).toMatch(/^Expires in 0:[01]\d$/);
    await expect(page.getByTestId('expires-in')).toHaveText('Expired', { timeout: 15_000 });
    expect(await text('send-expired')).toMatch(/^This invoice expired at .+ and can no longer be paid\./);
    await expect(page.getByRole('button', { name: 'Pay' })).toBeDisabled();
    await shot(page, 'screens-06-send-expired');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    expect(stack.net.merchant.node.payment(invoice.paymentHash)?.status).not.toBe('succeeded');
  });

  test('Settings: another currency shows on Home; none shows sats only', async () => {
    const choose = async (currency: string) => {
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.locator('select[name=currency]').selectOption(currency);
      if (currency === 'EUR') {
        await page.locator('select[name=currency]').scrollIntoViewIfNeeded();
        await shot(page, 'screens-07-settings-currency');
      }
      await page.getByRole('button', { name: 'Back', exact: true }).click();
    };
    await choose('EUR');
    await expect(page.getByTestId('balance-fiat')).toHaveText(/^≈ .*€/);
    // 92,000 EUR a bitcoin: the cents follow from the balance in msat
    expect(centsOf(await text('balance-fiat'))).toBe(((await balanceMsat()) * 92_000n) / 1_000_000_000n);
    await shot(page, 'screens-08-home-eur');
    await choose('');
    await expect(page.getByTestId('balance')).toBeVisible();
    await expect(page.getByTestId('balance-fiat')).toHaveCount(0);
    await expect(page.locator('.fiat')).toHaveCount(0);
    await choose('USD');
    await expect(page.getByTestId('balance-fiat')).toHaveText(/\$/);
    expect(errors).toEqual([]);
  });

  test('offline, the rate kept on the device is shown with its age', async () => {
    // the phone was away for three hours: its kept reading is that old, and the LSP is unreachable
    await page.evaluate(
      () =>
        new Promise<void>((resolve, reject) => {
          const open = indexedDB.open('keyval-store');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const store = open.result.transaction('keyval', 'readwrite').objectStore('keyval');
            const get = store.get('lpw-rates');
            get.onsuccess = () => {
              store.put({ ...get.result, atMs: Date.now() - 3 * 3_600_000 - 60_000 }, 'lpw-rates');
              store.transaction.oncomplete = () => resolve();
            };
          };
        }),
    );
    stack.front.cut(true);
    try {
      await page.reload();
      await unlock(page);
      await page.getByTestId('status-offline').waitFor({ timeout: 60_000 });
      await expect(page.getByTestId('balance-fiat')).toHaveText(/^≈ .*\$\d+\.\d\d · rate from 3 h ago$/);
      await shot(page, 'screens-09-home-offline-rate-age');
    } finally {
      stack.front.cut(false);
    }
  });
});
