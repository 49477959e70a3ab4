// A payment stream in the browser wallet against the real stack: funded through a JIT channel, a
// per-second keysend stream to the devnet merchant survives a page reload mid-stream without paying
// any period twice (the wallet's totals equal what the merchant received, to the msat), pauses,
// resumes and stops; a short stream to the merchant's Lightning Address (an invoice per payment,
// fetched through the LSP's relay) pays exactly what the merchant received; bad input is refused in
// words and starts nothing; history shows one entry per stream.
import { waitUntil } from '@lpw/devnet';
import type { Page } from 'playwright-core';
import { type Journey, startJourney, stopJourney } from '../harness/journey.ts';
import { expect, shot, test } from '../harness/runner.ts';
import type { Stack } from '../harness/stack.ts';
import { createWallet, receiveThroughJit, unlock, waitConnected } from '../harness/wallet.ts';

let stack: Stack;
let journey: Journey | undefined;
let page: Page;
let errors: string[];
/** Keysends the merchant received since the stream started. */
const received: Array<{ paymentHash: string; amountMsat: bigint }> = [];
const totals = { balanceBeforeMsat: 0n, paidMsat: 0n, feeMsat: 0n, count: 0 };

/** The merchant's Lightning Address, as `npm start` prints it. */
const address = () => `merchant@127.0.0.1:${stack.paidApi.port}`;

/** Home's balance in msat (the screen shows whole sats; the element carries the exact value). */
async function balanceMsat(): Promise<bigint> {
  return BigInt((await page.getByTestId('balance').getAttribute('data-msat')) ?? '0');
}

// the tests are one journey, each step starting where the last ended: a failure skips the rest
test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  journey = await startJourney({ seed: 'lpw-e2e-stream', echoConsole: true });
  ({ stack, page, errors } = journey);
});

test.afterAll(() => stopJourney(journey));

/** The stream card's figures as the screen has them (exact msat in data attributes). */
async function card() {
  const el = page.getByTestId('stream-card').first();
  const [state, count, paid, fee] = await Promise.all([
    el.getAttribute('data-state'),
    el.getAttribute('data-count'),
    el.getAttribute('data-paid-msat'),
    el.getAttribute('data-fee-msat'),
  ]);
  return { state, count: Number(count), paidMsat: BigInt(paid ?? '0'), feeMsat: BigInt(fee ?? '0') };
}

async function waitForCount(atLeast: number, timeoutMs = 60_000) {
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-testid=stream-card]')?.getAttribute('data-count')) >= n,
    atLeast,
    { timeout: timeoutMs, polling: 250 },
  );
}

async function fillStream(fields: { to: string; rate: string; budget: string; minutes: string }) {
  await page.locator('textarea[name=to]').fill(fields.to);
  await page.locator('input[name=rate]').fill(fields.rate);
  await page.locator('input[name=budget]').fill(fields.budget);
  await page.locator('input[name=minutes]').fill(fields.minutes);
}

test.describe('payment streams in the wallet', () => {
  test('a funded wallet (20,000 sats through a JIT channel)', async () => {
    await page.goto(stack.front.url);
    await createWallet(page);
    await waitConnected(page);
    await receiveThroughJit(page, 20_000, (bolt11) =>
      stack.net.router.node.payInvoice(bolt11, { timeoutMs: 90_000 }),
    );
    await page.waitForFunction(
      () => document.querySelector('[data-testid=balance]')?.getAttribute('data-msat') !== '0',
    );
    totals.balanceBeforeMsat = await balanceMsat();
  });

  test('refuses bad stream input in words and starts nothing', async () => {
    await page.getByRole('button', { name: 'Streams' }).click();
    await page.getByTestId('screen-streams').waitFor();
    const merchant = stack.net.merchant.nodeId;
    const cases: Array<[Parameters<typeof fillStream>[0], RegExp]> = [
      [{ to: 'merchant', rate: '60', budget: '1000', minutes: '5' }, /node id .*, a Lightning Address/],
      [{ to: merchant, rate: '0', budget: '1000', minutes: '5' }, /at least 1 sat per minute/],
      // once a minute, 60 sats + a 5 sat fee limit: 64 sats cannot pay one period
      [{ to: merchant, rate: '60', budget: '64', minutes: '5' }, /at least one payment.*65 sats/],
      [{ to: merchant, rate: '60', budget: '1000', minutes: '0' }, /end time is in the past/],
    ];
    for (const [fields, words] of cases) {
      await fillStream(fields);
      await page.getByRole('button', { name: 'Start stream' }).click();
      await page.getByTestId('stream-error').waitFor();
      expect(await page.getByTestId('stream-error').textContent()).toMatch(words);
    }
    // every 10 s (the shortest period for an address), 5 sats a minute is 833 msat a payment: the
    // merchant's service takes 1 sat at least
    await fillStream({ to: address(), rate: '5', budget: '1000', minutes: '5' });
    await page.getByLabel('Every 10 seconds').check();
    await page.getByRole('button', { name: 'Start stream' }).click();
    await page.getByTestId('stream-error').waitFor();
    expect(await page.getByTestId('stream-error').textContent()).toMatch(/does not take payments this small/);
    await page.getByLabel('Once a minute (default)').check();
    await shot(page, 'stream-01-refused');
    expect(await page.getByTestId('stream-card').count()).toBe(0);
  });

  test('streams every second to the merchant, survives a reload mid-stream and never pays a period twice', async () => {
    stack.net.merchant.node.on('payment-received', (e) =>
      received.push({ paymentHash: e.paymentHash, amountMsat: e.amountMsat }),
    );
    await fillStream({ to: stack.net.merchant.nodeId, rate: '60', budget: '2000', minutes: '5' });
    await page.getByLabel('Every second').check();
    await shot(page, 'stream-02-form');
    await page.getByRole('button', { name: 'Start stream' }).click();
    await page.getByTestId('stream-card').waitFor();
    await waitForCount(5);
    await shot(page, 'stream-03-running');
    const beforeReload = await card();
    expect(beforeReload.state).toBe('running');

    // reload mid-stream: periods are reserved and keysends in flight
    await page.reload();
    await unlock(page);
    await waitConnected(page);
    await page.getByRole('button', { name: 'Streams' }).click();
    await waitForCount(beforeReload.count + 5);
    await shot(page, 'stream-04-after-reload');
    expect((await card()).state).toBe('running');

    await page.getByRole('button', { name: 'Pause' }).click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid=stream-card]')?.getAttribute('data-state') === 'paused',
    );
    // payments sent before the pause may settle after it (seconds on a loaded machine): counted from
    // when none is in flight, nothing more may be paid while paused
    await page.waitForFunction(
      () => document.querySelector('[data-testid=stream-card]')?.getAttribute('data-in-flight-msat') === '0',
      undefined,
      { timeout: 30_000, polling: 100 },
    );
    const paused = await card();
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await card()).count).toBe(paused.count); // nothing paid while paused
    expect(await page.getByTestId('stream-state').textContent()).toBe('Paused');
    await shot(page, 'stream-05-paused');

    await page.getByRole('button', { name: 'Resume' }).click();
    await waitForCount(paused.count + 3);
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid=stream-card]')?.getAttribute('data-state') === 'stopped',
      undefined,
      { timeout: 60_000 },
    );
    await shot(page, 'stream-06-stopped');
    const final = await card();
    Object.assign(totals, { paidMsat: final.paidMsat, feeMsat: final.feeMsat, count: final.count });

    // the merchant got exactly what the wallet accounts for: one keysend per paid period, no repeats
    await waitUntil('the merchant to see every payment', () => received.length >= final.count, 10_000);
    expect(received.length).toBe(final.count);
    expect(new Set(received.map((r) => r.paymentHash)).size).toBe(received.length);
    expect(received.reduce((sum, r) => sum + r.amountMsat, 0n)).toBe(final.paidMsat);
    expect(final.paidMsat).toBe(BigInt(final.count) * 1000n); // 60 sats a minute = 1 sat a second
    expect(final.feeMsat).toBeGreaterThanOrEqual(0n);
    console.log(
      `e2e stream: ${final.count} payments (${beforeReload.count} before the reload), ${final.paidMsat} msat + ${final.feeMsat} msat fees`,
    );
  });

  test('streams to the merchant’s Lightning Address every 10 s: an invoice per payment, exact accounting', async () => {
    const mark = received.length;
    await page.getByRole('button', { name: 'New stream' }).click();
    await fillStream({ to: address(), rate: '60', budget: '1000', minutes: '5' });
    await page.getByLabel('Every 10 seconds').check();
    await shot(page, 'stream-07-address-form');
    const started = Date.now();
    await page.getByRole('button', { name: 'Start stream' }).click();
    const el = page.getByTestId('stream-card').filter({ hasText: address() });
    await el.waitFor();
    expect(await el.getByTestId('stream-to').textContent()).toBe(`To ${address()}`);
    const count = async () => Number(await el.getAttribute('data-count'));
    await waitUntil('the first payment to the address', async () => (await count()) >= 1, 30_000);
    const firstMs = Date.now() - started;
    await waitUntil('the second payment to the address', async () => (await count()) >= 2, 30_000);
    await el.getByRole('button', { name: 'Stop' }).click();
    await waitUntil('the stop', async () => (await el.getAttribute('data-state')) === 'stopped', 60_000);
    await shot(page, 'stream-08-address-stopped');
    const paidMsat = BigInt((await el.getAttribute('data-paid-msat')) ?? '0');
    const feeMsat = BigInt((await el.getAttribute('data-fee-msat')) ?? '0');
    const n = await count();
    await waitUntil('the merchant to see every payment', () => received.length - mark >= n, 10_000);
    const got = received.slice(mark);
    expect(got.length).toBe(n);
    expect(new Set(got.map((r) => r.paymentHash)).size).toBe(n);
    expect(got.reduce((sum, r) => sum + r.amountMsat, 0n)).toBe(paidMsat);
    expect(paidMsat).toBe(BigInt(n) * 10_000n); // 60 sats a minute = 10 sats every 10 s
    totals.paidMsat += paidMsat;
    totals.feeMsat += feeMsat;
    console.log(
      `e2e address stream: ${n} payments, ${paidMsat} msat + ${feeMsat} msat fees; start to first payment ${firstMs} ms (pay request + invoice through the relay, route, payment)`,
    );
  });

  test('history shows each stream as one entry; the balance went down by exactly their payments and fees', async () => {
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    await page.getByTestId('screen-home').waitFor();
    expect(await page.getByTestId('stream-row').count()).toBe(2);
    const counts = await page
      .getByTestId('stream-row')
      .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-count'))));
    expect(counts).toContain(totals.count);
    await page.waitForFunction(
      (want) => document.querySelector('[data-testid=balance]')?.getAttribute('data-msat') === want,
      (totals.balanceBeforeMsat - totals.paidMsat - totals.feeMsat).toString(),
      { timeout: 30_000 },
    );
    // the JIT receive is the only other entry: no row per keysend
    expect(await page.getByTestId('payment-row').count()).toBe(1);
    await shot(page, 'stream-07-home-history');
    expect(errors.filter((e) => !/favicon/.test(e))).toEqual([]);
  });
});
