// The wallet checks its chain view, in a phone-sized Chromium: Settings takes a second chain
// source; when the first (the one the LSP names, here a lying proxy) holds the tip back, the next
// periodic sync is refused and Home says the sources disagree; a tip without proof of work is named
// as such; once the source is honest again the warning goes.
import type { Page } from 'playwright-core';
import { type Journey, startJourney, stopJourney } from '../harness/journey.ts';
import { expect, shot, test } from '../harness/runner.ts';
import type { Stack } from '../harness/stack.ts';
import { createWallet, unlock, waitConnected } from '../harness/wallet.ts';

/** The wallet syncs every 30 s: a warning appears (or goes) within one sync and a margin. */
const SYNC_WAIT_MS = 90_000;

let stack: Stack;
let journey: Journey | undefined;
let page: Page;
let errors: string[];

/** Screens of this journey, to look at (e2e/screenshots). */
const screen = (name: string) => shot(page, `chain-view-${name}`);
const warning = () => page.getByTestId('chain-watch-warning');

// the tests are one journey, each step starting where the last ended: a failure skips the rest
test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  journey = await startJourney({ seed: 'lpw-e2e-chain-view' });
  ({ stack, page, errors } = journey);
});

test.afterAll(() => stopJourney(journey));

test.describe('a checked chain view', () => {
  test('takes a second chain source in Settings', async () => {
    await page.goto(stack.front.url);
    await page.getByTestId('screen-welcome').waitFor();
    await createWallet(page);
    await waitConnected(page);
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.locator('input[name=second-esplora-url]').fill(stack.secondEsploraUrl);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Lock and unlock the wallet').waitFor();
    await screen('01-settings-second-chain-source');
    await page.getByRole('button', { name: 'Lock wallet' }).click();
    await unlock(page);
    await waitConnected(page);
    expect(await warning().count()).toBe(0);
  });

  test('says so on Home when the first source holds the tip back, and when it fakes a block', async () => {
    stack.liar.lie({ kind: 'hold-tip', height: stack.devnet.chain.tipHeight });
    stack.devnet.mine(2);
    await expect
      .poll(async () => ((await warning().count()) ? await warning().textContent() : ''), {
        timeout: SYNC_WAIT_MS,
      })
      .toMatch(/two chain sources disagree/);
    await screen('02-home-sources-disagree');

    stack.liar.lie({ kind: 'bad-pow' });
    await expect
      .poll(async () => ((await warning().count()) ? await warning().textContent() : ''), {
        timeout: SYNC_WAIT_MS,
      })
      .toMatch(/disagree|without valid proof of work/);
  });

  test('the warning goes once the source is honest again', async () => {
    stack.liar.lie({ kind: 'honest' });
    await expect.poll(() => warning().count(), { timeout: SYNC_WAIT_MS }).toBe(0);
    await screen('03-home-clear');
    expect(errors).toEqual([]);
  });
});
