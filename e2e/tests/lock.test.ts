// The vault's three locks in the built wallet, without an LSP (locking needs none): a passphrase, and a
// passkey whose PRF output is the key (Chromium's virtual authenticator stands in for a phone's). A wrong
// secret is refused with words that name it and starts nothing; the right one opens the wallet again.
// A forgotten lock: the lock screen's way out restores from the words (against the real stack).
// Each test gets the runner's own page, in a fresh context on the project's device.
import type { Page } from 'playwright-core';
import { watchErrors } from '../harness/browser.ts';
import { type Front, startFront } from '../harness/front.ts';
import { expect, shot, test } from '../harness/runner.ts';
import { type Stack, startStack } from '../harness/stack.ts';
import {
  balanceSat,
  confirmNewWords,
  createWallet,
  DIST,
  receiveThroughJit,
  waitConnected,
} from '../harness/wallet.ts';

let front: Front;

test.beforeAll(async () => {
  front = await startFront({ distDir: DIST });
  front.setLsp('http://127.0.0.1:9'); // nothing listens: locking needs no LSP
});

test.afterAll(async () => {
  await front?.close();
});

/** Opens the wallet; returns the page's errors from then on. */
async function openWallet(page: Page): Promise<string[]> {
  // WebAuthn names its relying party by domain, and an IP address is none: the wallet runs at localhost
  await page.goto(front.url.replace('127.0.0.1', 'localhost'));
  return watchErrors(page);
}

async function lockFromSettings(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Lock wallet' }).click();
  await page.getByTestId('screen-lock').waitFor({ timeout: 30_000 });
}

test.describe('locking the wallet', () => {
  test('with a passphrase: refuses a short one and a wrong one, opens with the right one', async ({
    page,
  }) => {
    const errors = await openWallet(page);
    const words = await confirmNewWords(page);
    await page.getByRole('radio', { name: 'Passphrase' }).check();
    await page.locator('input[name=passphrase]').fill('too short');
    await page.locator('input[name=passphrase-again]').fill('too short');
    await page.getByRole('button', { name: 'Create wallet' }).click();
    await page.getByText('Use at least 12 characters.').waitFor();
    const passphrase = 'river lamp orbit candle';
    await page.locator('input[name=passphrase]').fill(passphrase);
    await page.locator('input[name=passphrase-again]').fill(passphrase);
    await shot(page, 'lock-choose-passphrase');
    await page.getByRole('button', { name: 'Create wallet' }).click();
    await page.getByTestId('screen-home').waitFor({ timeout: 30_000 });

    await lockFromSettings(page);
    await expect(page.locator('input[name=passphrase]').getAttribute('inputmode')).resolves.toBe('text');
    await page.locator('input[name=passphrase]').fill(`${passphrase}!`);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText('Wrong passphrase.').waitFor({ timeout: 30_000 });
    await shot(page, 'lock-wrong-passphrase');
    await page.locator('input[name=passphrase]').fill(passphrase);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByTestId('screen-home').waitFor({ timeout: 30_000 });

    // the words come back only through the lock, and are the ones created
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('button', { name: /recovery words/i }).click();
    await page.locator('input[name=passphrase]').fill(passphrase);
    await page.getByRole('button', { name: 'Show words' }).click();
    await page.getByTestId('screen-words').waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-testid=recovery-words] .w').allTextContents()).toEqual(words);
    expect(errors.filter((e) => /Content Security Policy|pageerror/.test(e))).toEqual([]);
  });

  test('with a passkey: its PRF output opens the wallet, and another passkey does not', async ({
    context,
    page,
  }) => {
    const errors = await openWallet(page);
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const authenticator = {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      hasPrf: true,
    } as const;
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: authenticator,
    });
    await confirmNewWords(page);
    await page.getByRole('radio', { name: 'Passkey' }).check();
    await shot(page, 'lock-choose-passkey');
    await page.getByRole('button', { name: 'Create wallet' }).click();
    await page.getByTestId('screen-home').waitFor({ timeout: 30_000 });
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);

    await lockFromSettings(page);
    await page.getByRole('button', { name: 'Unlock with passkey' }).click();
    await page.getByTestId('screen-home').waitFor({ timeout: 30_000 });

    // the passkey is gone (another phone, a wiped authenticator): nothing opens, and the page says why
    await lockFromSettings(page);
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    await cdp.send('WebAuthn.addVirtualAuthenticator', { options: authenticator });
    await page.getByRole('button', { name: 'Unlock with passkey' }).click();
    await page.getByText(/The passkey did not open the wallet/).waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('screen-lock').isVisible()).resolves.toBe(true);
    await shot(page, 'lock-passkey-missing');
    expect(errors.filter((e) => /Content Security Policy|pageerror/.test(e))).toEqual([]);
  });
});

test.describe('a forgotten lock', () => {
  let stack: Stack;
  test.beforeAll(async () => {
    stack = await startStack({ distDir: DIST, seed: 'lpw-e2e-lock-forgot' });
  });
  test.afterAll(async () => {
    await stack?.stop();
  });

  test('restores from the words on the lock screen: the same wallet, its channel and money, under a new lock', async ({
    page,
  }) => {
    const errors = watchErrors(page);
    await page.goto(stack.front.url);
    await page.getByTestId('screen-welcome').waitFor({ timeout: 60_000 });
    const words = await createWallet(page);
    await waitConnected(page);

    // money in: a JIT channel the devnet router pays into
    await receiveThroughJit(page, 20_000, (bolt11) =>
      stack.net.router.node.payInvoice(bolt11, { timeoutMs: 90_000 }),
    );
    const funded = await balanceSat(page);
    expect(funded).toBeGreaterThan(0n);

    // the PIN is forgotten: the lock screen's way out warns first, then takes the words
    await lockFromSettings(page);
    await page.getByRole('button', { name: /Forgot\? Restore from your words/ }).click();
    await page.getByTestId('forgot-warning').waitFor();
    await shot(page, 'lock-forgot-warning');
    await page.getByRole('button', { name: 'Back' }).first().click();
    await page.getByTestId('screen-lock').waitFor(); // backing out changes nothing
    await page.getByRole('button', { name: /Forgot\? Restore from your words/ }).click();
    await page.getByRole('button', { name: 'I have my words, continue' }).click();
    await page.locator('textarea[name=words]').fill(words.join(' '));
    await page.getByRole('button', { name: 'Continue' }).click();
    const passphrase = 'kettle amber north violin';
    await page.getByRole('radio', { name: 'Passphrase' }).check();
    await page.locator('input[name=passphrase]').fill(passphrase);
    await page.locator('input[name=passphrase-again]').fill(passphrase);
    await page.getByRole('button', { name: 'Restore wallet' }).click();
    await page.getByTestId('screen-home').waitFor({ timeout: 30_000 });
    await waitConnected(page);
    // the device's own wallet runs on: its channel (no close), its money
    await expect.poll(() => balanceSat(page), { timeout: 30_000 }).toBe(funded);
    await expect(page.getByTestId('recovery-notice').count()).resolves.toBe(0);
    await shot(page, 'lock-forgot-restored');

    // the new lock is the one stored: a reload asks for the passphrase, and it opens the wallet
    await page.reload();
    await page.getByTestId('screen-lock').waitFor({ timeout: 30_000 });
    await page.locator('input[name=passphrase]').fill(passphrase);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByTestId('screen-home').waitFor({ timeout: 30_000 });
    await waitConnected(page);
    expect(await balanceSat(page)).toBe(funded);
    expect(errors.filter((e) => /Content Security Policy|pageerror/.test(e))).toEqual([]);
  });
});
