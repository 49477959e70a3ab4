// The wallet checks its chain view, in a phone-sized Chromium: Settings takes a second chain
// source; when the first (the one the LSP names, here a lying proxy) holds the tip back, the next
// periodic sync is refused and Home says the sources disagree; a tip without proof of work is named
// as such; once the source is honest again the warning goes.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openProfile, removeProfile, watchErrors } from '../harness/browser.ts';
import { type Stack, startStack } from '../harness/stack.ts';
import { buildWallet, createWallet, DIST, unlock, waitConnected } from '../harness/wallet.ts';

/** Screens of this journey, to look at: in the system's temporary directory. */
const SHOTS = join(tmpdir(), 'lpw-chain-view-shots');
/** The wallet syncs every 30 s: a warning appears (or goes) within one sync and a margin. */
const SYNC_WAIT_MS = 90_000;

let stack: Stack;
let profile: string;
let context: BrowserContext;
let page: Page;
let errors: string[];

const shot = async (name: string) => {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
};
const warning = () => page.getByTestId('chain-watch-warning');

beforeAll(async () => {
  buildWallet();
  stack = await startStack({ distDir: DIST, seed: 'lpw-e2e-chain-view' });
  profile = mkdtempSync(join(tmpdir(), 'lpw-e2e-profile-'));
  context = await openProfile(profile);
  page = await context.newPage();
  errors = watchErrors(page);
});

afterEach(async (test) => {
  if (test.task.result?.state === 'fail' && page && !page.isClosed())
    await shot(`failed-${test.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}`).catch(() => {});
});

afterAll(async () => {
  await context?.close();
  await stack?.stop();
  if (profile) removeProfile(profile);
});

describe('a checked chain view', () => {
  it('takes a second chain source in Settings', async () => {
    await page.goto(stack.front.url);
    await page.getByTestId('screen-welcome').waitFor();
    await createWallet(page);
    await waitConnected(page);
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.locator('input[name=second-esplora-url]').fill(stack.secondEsploraUrl);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Lock and unlock the wallet').waitFor();
    await shot('01-settings-second-chain-source');
    await page.getByRole('button', { name: 'Lock wallet' }).click();
    await unlock(page);
    await waitConnected(page);
    expect(await warning().count()).toBe(0);
  });

  it('says so on Home when the first source holds the tip back, and when it fakes a block', async () => {
    stack.liar.lie({ kind: 'hold-tip', height: stack.devnet.chain.tipHeight });
    stack.devnet.mine(2);
    await expect
      .poll(async () => ((await warning().count()) ? await warning().textContent() : ''), {
        timeout: SYNC_WAIT_MS,
      })
      .toMatch(/two chain sources disagree/);
    await shot('02-home-sources-disagree');

    stack.liar.lie({ kind: 'bad-pow' });
    await expect
      .poll(async () => ((await warning().count()) ? await warning().textContent() : ''), {
        timeout: SYNC_WAIT_MS,
      })
      .toMatch(/disagree|without valid proof of work/);
  });

  it('the warning goes once the source is honest again', async () => {
    stack.liar.lie({ kind: 'honest' });
    await expect.poll(() => warning().count(), { timeout: SYNC_WAIT_MS }).toBe(0);
    await shot('03-home-clear');
    expect(errors).toEqual([]);
  });
});
