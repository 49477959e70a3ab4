// Steps a person takes in the wallet, as page actions (by visible text and form names).
import { execSync } from 'node:child_process';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

export const WALLET_DIR = join(import.meta.dirname, '..', '..', 'apps', 'wallet');
export const DIST = join(WALLET_DIR, 'dist');

let built = false;
/** Builds the wallet once per process (the journeys test what ships; Playwright's global setup). */
export function buildWallet(): void {
  if (built || process.env.E2E_SKIP_BUILD) return;
  // NODE_ENV set by a caller (vitest sets test) would make Vite bundle React's development build; a
  // devnet build: its CSP lets it reach the LSP and chain on loopback without TLS
  execSync('npx --yes pnpm@10.34.9 run build', {
    cwd: WALLET_DIR,
    stdio: 'pipe',
    env: { ...process.env, NODE_ENV: 'production', VITE_DEVNET: '1' },
  });
  built = true;
}

export const PIN = '482915';

/** Create → words → confirm three of them → PIN. Returns the 12 words. */
export async function createWallet(
  page: Page,
  onScreen?: (name: string) => Promise<unknown>,
): Promise<string[]> {
  const words = await confirmNewWords(page, onScreen);
  await page.locator('input[name=pin]').fill(PIN);
  await page.locator('input[name=pin-again]').fill(PIN);
  await onScreen?.('04-create-pin');
  await page.getByRole('button', { name: 'Create wallet' }).click();
  await page.getByTestId('screen-home').waitFor({ timeout: 30_000 });
  return words;
}

/** Create → words → confirm three of them, up to choosing the lock. Returns the 12 words. */
export async function confirmNewWords(
  page: Page,
  onScreen?: (name: string) => Promise<unknown>,
): Promise<string[]> {
  await page.getByRole('button', { name: 'Create a new wallet' }).click();
  const words = await page.locator('[data-testid=recovery-words] .w').allTextContents();
  await onScreen?.('02-create-words');
  await page.getByRole('button', { name: 'I wrote them down' }).click();
  await page.getByTestId('screen-create-confirm').waitFor();
  for (const input of await page.locator('input[name^=word-]').all()) {
    const n = Number((await input.getAttribute('name'))!.slice('word-'.length));
    await input.fill(words[n - 1]!);
  }
  await onScreen?.('03-create-confirm');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByTestId('screen-create-pin').waitFor();
  return words;
}

export async function restoreWallet(page: Page, words: string[], backupFile?: string): Promise<void> {
  await page.getByRole('button', { name: 'Restore from recovery words' }).click();
  await page.locator('textarea[name=words]').fill(words.join(' '));
  if (backupFile) await page.locator('input[name=backup-file]').setInputFiles(backupFile);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.locator('input[name=pin]').fill(PIN);
  await page.locator('input[name=pin-again]').fill(PIN);
  await page.getByRole('button', { name: 'Restore wallet' }).click();
  await page.getByTestId('screen-home').waitFor({ timeout: 30_000 });
}

/** `clicked`: called as the Unlock button is tapped (the bench times a start's steps from there). */
export async function unlock(page: Page, clicked?: () => void): Promise<void> {
  await page.getByTestId('screen-lock').waitFor({ timeout: 30_000 });
  await page.locator('input[name=pin]').fill(PIN);
  await page.getByRole('button', { name: 'Unlock' }).click();
  clicked?.();
  await page.getByTestId('screen-home').waitFor({ timeout: 30_000 });
}

/** Waits until the node runs and the LSP peer link is up (no status notice on home). */
export async function waitConnected(page: Page, timeoutMs = 90_000): Promise<void> {
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid=screen-home]') !== null &&
      document.querySelector('[data-testid^=status]') === null,
    undefined,
    { timeout: timeoutMs, polling: 250 },
  );
}

/** Balance text as shown, parsed back to whole sats ("19 920 sats" → 19920n). */
export async function balanceSat(page: Page): Promise<bigint> {
  const text = (await page.getByTestId('balance').textContent()) ?? '';
  return BigInt(text.replace(/[^0-9]/g, '') || '0');
}

/**
 * Money in as a new user gets it: Receive, the LSP's fee agreed, the invoice paid by `pay` (a devnet
 * node opening the JIT channel), Done, back on Home.
 */
export async function receiveThroughJit(
  page: Page,
  sats: number,
  pay: (bolt11: string) => Promise<unknown>,
): Promise<void> {
  await page.getByRole('button', { name: 'Receive' }).click();
  await page.getByTestId('screen-receive').waitFor();
  if (await page.getByTestId('storage-warning').isVisible())
    await page.getByRole('button', { name: 'I understand, continue' }).click();
  await page.locator('input[name=amount]').fill(String(sats));
  await page.getByRole('button', { name: 'Create invoice' }).click();
  await page.getByRole('button', { name: 'Agree and create invoice' }).click({ timeout: 30_000 });
  const bolt11 = (await page.getByTestId('invoice-text').textContent({ timeout: 30_000 }))!.trim();
  await Promise.all([pay(bolt11), page.getByTestId('screen-receive-done').waitFor({ timeout: 90_000 })]);
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByTestId('screen-home').waitFor();
}
