// Leaving the LSP for good, in a phone-sized Chromium: a wallet funded through a JIT channel sees its
// service provider stop; the wallet still starts (reload, unlock) with its own chain source, Home
// offers the way out after the time set in Settings, the person force-closes (told the wait in
// blocks and hours, and the close's fee — with the high-fees notice during a ×10 spike — which the
// sweep then pays in fair weather), the devnet mines past the CSV delay, the sweep lands on chain, and everything
// is sent to an outside address with the fee shown first — which the chain's UTXO set then holds.
import { scriptAddress } from '@lpw/devnet';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Page } from 'playwright-core';
import { type Journey, startJourney, stopJourney } from '../harness/journey.ts';
import { expect, shot, test } from '../harness/runner.ts';
import type { Stack } from '../harness/stack.ts';
import { createWallet, unlock, waitConnected } from '../harness/wallet.ts';

// a P2WPKH output of nobody in this test: where the coins leave to
const outsideScript = Uint8Array.from([
  0x00,
  0x14,
  ...sha256(new TextEncoder().encode('e2e outside')).slice(0, 20),
]);
const outsideAddress = scriptAddress(outsideScript)!;

let stack: Stack;
let journey: Journey | undefined;
let page: Page;
let errors: string[];
const state = { toSelfDelay: 0, fundingTxid: '', fundingVout: 0, totalBeforeMsat: 0n, forceFeeMsat: 0n };

/** Screens of this journey, to look at (e2e/screenshots). */
const screen = (name: string) => shot(page, `exit-${name}`);
const msatOf = async (testId: string) =>
  BigInt((await page.getByTestId(testId).getAttribute('data-msat')) ?? '0');
const back = () => page.getByRole('button', { name: 'Back', exact: true }).click();
/** Home's total: every bucket of the node in the worker (packages/node balances.ts), each sat once. */
const homeTotalMsat = async () =>
  BigInt((await page.getByRole('region', { name: 'Balance' }).getAttribute('data-total-msat')) ?? '-1');
/** What the wallet's force close pays it on chain: its commitment's P2WSH (to_local) output, in msat. */
const toLocalMsat = () => {
  const spend = stack.devnet.chain.outspend(state.fundingTxid, state.fundingVout)!;
  const commitment = stack.devnet.chain.getTransaction(spend.txid)!.tx;
  return commitment.outputs.filter((o) => o.script.length === 34).reduce((n, o) => n + o.value, 0n) * 1000n;
};

// the tests are one journey, each step starting where the last ended: a failure skips the rest
test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  journey = await startJourney({ seed: 'lpw-e2e-exit' });
  ({ stack, page, errors } = journey);
});

test.afterAll(() => stopJourney(journey));

test.describe('leaving the LSP', () => {
  test('creates a wallet, sets its chain source and when to suggest leaving, is funded through JIT', async () => {
    await page.goto(stack.front.url);
    await page.getByTestId('screen-welcome').waitFor();
    await createWallet(page);
    await waitConnected(page);
    await page.getByRole('button', { name: 'Settings' }).click();
    // the chain source chosen here, not the LSP's: it stays when the LSP goes
    await page.locator('input[name=esplora-url]').fill(stack.liar.url);
    await page.locator('input[name=leave-after-hours]').fill('0.002'); // 7.2 s
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Lock and unlock the wallet').waitFor();
    await screen('01-settings-chain-source');
    await page.getByRole('button', { name: 'Lock wallet' }).click();
    await unlock(page);
    await waitConnected(page);

    await page.getByRole('button', { name: 'Receive' }).click();
    if (await page.getByTestId('storage-warning').isVisible())
      await page.getByRole('button', { name: 'I understand, continue' }).click();
    await page.locator('input[name=amount]').fill('50000');
    await page.getByRole('button', { name: 'Create invoice' }).click();
    await page.getByRole('button', { name: 'Agree and create invoice' }).click({ timeout: 30_000 });
    await page.getByTestId('screen-receive-invoice').waitFor({ timeout: 30_000 });
    const bolt11 = (await page.getByTestId('invoice-text').textContent())!.trim();
    await stack.net.merchant.node.payInvoice(bolt11, { timeoutMs: 90_000 });
    await page.getByTestId('screen-receive-done').waitFor({ timeout: 90_000 });
    await page.getByRole('button', { name: 'Done' }).click();
    const channel = stack.lspNode.listChannels().find((c) => !c.isAnnounced && c.isUsable);
    expect(channel?.fundingTxo).toBeDefined();
    const [fundingTxid, fundingVout] = channel!.fundingTxo!.split(':');
    state.fundingTxid = fundingTxid!;
    state.fundingVout = Number(fundingVout);

    await page.getByRole('button', { name: 'Channel' }).click();
    await page.getByRole('button', { name: 'Force close' }).waitFor();
    await screen('02-channel-with-close');
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await page.getByTestId('confirm-close').waitFor();
    // the fee of each close before confirming: none for a cooperative close (the LSP opened the
    // channel), the sweep of the wallet's output for a force close
    expect(await msatOf('close-fee')).toBe(0n);
    expect(await page.getByTestId('close-fee').textContent()).toMatch(/Network fee for you: none/);
    await screen('03-channel-confirm-close');
    await page.getByRole('button', { name: 'Keep channel' }).click();
    await page.getByRole('button', { name: 'Force close' }).click();
    await page.getByTestId('confirm-force').waitFor();
    state.forceFeeMsat = await msatOf('close-fee');
    expect(state.forceFeeMsat).toBeGreaterThan(0n);
    expect(await page.getByTestId('close-fee').textContent()).toContain(
      `about ${state.forceFeeMsat / 1000n} sats`,
    );
    expect(await page.getByTestId('close-fees-high').count()).toBe(0); // fair weather: no notice
    await screen('03b-channel-confirm-force-fair');
    await page.getByRole('button', { name: 'Keep channel' }).click();
    await back();
    await page.getByRole('button', { name: 'On-chain' }).click();
    await page.getByTestId('screen-onchain').waitFor();
    expect(await msatOf('onchain-balance')).toBe(0n);
    await page.getByRole('button', { name: 'Show a receive address' }).click();
    expect(await page.getByTestId('onchain-address').textContent()).toMatch(/^bcrt1q/);
    await screen('04-onchain-receive');
    await back();
  });

  test('with the LSP gone for good, the wallet starts without it and Home offers the way out', async () => {
    await stack.stopLsp();
    stack.front.cut(true);
    await page.reload();
    await unlock(page);
    // the node runs (its own chain source, the LSP's identity as last seen), the LSP does not answer
    await page.getByTestId('status-offline').waitFor({ timeout: 60_000 });
    await page.getByTestId('leave-notice').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('leave-notice').textContent()).toMatch(
      /has not answered for .*close your channel/,
    );
    await screen('05-home-leave-notice');
    state.totalBeforeMsat = await homeTotalMsat();
    expect(state.totalBeforeMsat).toBeGreaterThan(40_000_000n);
  });

  test('force-closes from the notice, told the wait in blocks and hours; the countdown follows the chain', async () => {
    await page.getByRole('button', { name: 'Take my money out' }).click();
    await page.getByTestId('screen-channel').waitFor();
    // a cooperative close needs the LSP: not offered now
    expect(await page.getByRole('button', { name: 'Close', exact: true }).isDisabled()).toBe(true);
    // a ×10 fee spike: the confirmation says fees are high and shows the close's fee at today's rates
    stack.devnet.chain.weather.spike(10);
    stack.devnet.mine(1);
    await page.getByRole('button', { name: 'Force close' }).click();
    const confirm = page.getByTestId('confirm-force');
    await page.getByTestId('close-fees-high').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('close-fees-high').textContent()).toMatch(
      /^Network fees are high right now; payments under \d+ sats wait; closing costs more than usual too\.$/,
    );
    const spikeFeeMsat = await msatOf('close-fee');
    expect(spikeFeeMsat).toBeGreaterThan(state.forceFeeMsat * 9n);
    expect(spikeFeeMsat).toBeLessThan(state.forceFeeMsat * 11n);
    const text = (await confirm.textContent()) ?? '';
    const [, blocks, hours] = /locked for (\d+) blocks \(about ([\d.]+) (hours|days)\)/.exec(text) ?? [];
    state.toSelfDelay = Number(blocks);
    expect(state.toSelfDelay).toBeGreaterThan(6);
    expect(Number(hours)).toBeGreaterThan(0);
    await screen('06-channel-confirm-force');
    await page.getByRole('button', { name: 'Force close now' }).click();
    // the commitment reaches the chain through the wallet's own chain source
    await expect
      .poll(() => stack.devnet.chain.outspend(state.fundingTxid, state.fundingVout), { timeout: 60_000 })
      .toBeDefined();
    stack.devnet.chain.weather.crash(); // fair weather again from the next block: the sweep pays that
    stack.devnet.mine(1);
    const row = page.getByTestId('closing-row');
    await expect
      .poll(async () => row.getAttribute('data-blocks-left'), { timeout: 60_000 })
      .toBe(String(state.toSelfDelay - 1));
    expect(await row.textContent()).toMatch(new RegExp(`${state.toSelfDelay - 1} blocks left \\(about`));
    await screen('07-channel-closing-countdown');
    // at the close the total is what the commitment pays us, to the sat, as before it (the LSP paid its fee)
    await back();
    expect(await homeTotalMsat()).toBe(toLocalMsat());
    expect(toLocalMsat()).toBe(state.totalBeforeMsat);
  });

  test('past the CSV delay the sweep arrives; everything goes to an outside address, fee shown first', async () => {
    // halfway through the CSV wait: the same total, counted once, and the On-chain screen says where it is
    const half = Math.floor(state.toSelfDelay / 2);
    stack.devnet.mine(half);
    await page.getByRole('button', { name: 'On-chain' }).click();
    const row = page.getByTestId('closing-row');
    await expect
      .poll(async () => row.getAttribute('data-blocks-left'), { timeout: 60_000 })
      .toBe(String(state.toSelfDelay - 1 - half));
    expect(await msatOf('exits')).toBe(toLocalMsat());
    expect(await msatOf('onchain-balance')).toBe(0n);
    await back();
    expect(await homeTotalMsat()).toBe(toLocalMsat());
    stack.devnet.mine(state.toSelfDelay - 1 - half);
    await page.getByRole('button', { name: 'On-chain' }).click();
    // the sweeper broadcasts once LDK hands it the matured output; a block confirms it
    for (let i = 0; i < 12 && (await msatOf('onchain-balance')) === 0n; i++) {
      await page.waitForTimeout(10_000);
      stack.devnet.mine(1);
      if (i === 0) await screen('08-onchain-sweep-on-its-way');
    }
    const balanceMsat = await msatOf('onchain-balance');
    expect(balanceMsat).toBeGreaterThan(40_000_000n);
    // after the sweep: the sweep's output, nothing left on its way, and Home's total is that coin
    const commitmentTxid = stack.devnet.chain.outspend(state.fundingTxid, state.fundingVout)!.txid;
    const commitment = stack.devnet.chain.getTransaction(commitmentTxid)!.tx;
    const toLocal = commitment.outputs.findIndex((o) => o.script.length === 34);
    const sweep = stack.devnet.chain.getTransaction(
      stack.devnet.chain.outspend(commitmentTxid, toLocal)!.txid,
    )!;
    expect(balanceMsat).toBe(sweep.tx.outputs.reduce((n, o) => n + o.value, 0n) * 1000n);
    expect(balanceMsat).toBe(toLocalMsat() - sweep.fee * 1000n);
    // the sweep paid the fee the force-close confirmation showed in fair weather
    expect(sweep.fee * 1000n).toBe(state.forceFeeMsat);
    await expect.poll(() => page.getByTestId('exits').count()).toBe(0);
    await back();
    expect(await homeTotalMsat()).toBe(balanceMsat);
    await page.getByRole('button', { name: 'On-chain' }).click();

    // bad input: refused in words, nothing signed
    const destination = page.locator('input[name=onchain-destination]');
    await destination.fill('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4');
    await page.locator('input[name=onchain-amount]').fill('1000');
    await page.getByRole('button', { name: 'Review' }).click();
    expect(await page.getByTestId('onchain-error').textContent()).toMatch(/another bitcoin network/);
    await destination.fill(`bitcoin:${outsideAddress}?amount=1.2.3`);
    await page.getByRole('button', { name: 'Review' }).click();
    await expect.poll(() => page.getByTestId('onchain-error').textContent()).toMatch(/link is broken/);
    await screen('09-onchain-refused');
    expect(stack.devnet.chain.mempool.ordered()).toEqual([]);

    await destination.fill(`bitcoin:${outsideAddress}?label=savings`);
    await page.locator('input[name=onchain-all]').check();
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByTestId('onchain-review').waitFor();
    const amountMsat = await msatOf('onchain-review-amount');
    const feeMsat = await msatOf('onchain-review-fee');
    expect(amountMsat + feeMsat).toBe(balanceMsat);
    expect(stack.devnet.chain.mempool.ordered()).toEqual([]); // shown, not signed
    await screen('10-onchain-review');
    await page.getByRole('button', { name: 'Send now' }).click();
    const sent = page.getByTestId('onchain-sent');
    await sent.waitFor({ timeout: 30_000 });
    const txid = /[0-9a-f]{64}/.exec((await sent.textContent()) ?? '')![0];
    await screen('11-onchain-sent');
    stack.devnet.mine(1);
    const coins = stack.devnet.chain.unspentFor(outsideScript, false);
    expect(coins.map((c) => [c.txid, c.value])).toEqual([[txid, amountMsat / 1000n]]);
    expect(stack.devnet.chain.getTransaction(txid)!.fee).toBe(feeMsat / 1000n);
    await back();
    await screen('12-home-after-exit');
    // LDK logs its own force close at error level: expected here
    expect(
      errors.filter((e) => !/Failed to load resource|ERR_|WebSocket|Force-closing channel/.test(e)),
    ).toEqual([]);
  });
});
