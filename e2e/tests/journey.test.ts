// The person's journey on a phone-sized Chromium against the real stack: create, receive through a
// JIT channel, pay by camera scan, reload, second tab, offline, restore on a fresh profile from its
// words and an exported backup file while the LSP serves an old backup.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OpeningFeeParamsWire, openingFeeMsat, openingFeeParamsInput } from '@lpw/api';
import { readBackupHeader } from '@lpw/backup';
import { waitUntil } from '@lpw/devnet';
import { decodeBolt11, encodeBolt11 } from '@lpw/payment-request';
import { formatAmount } from '@lpw/wallet/units';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { BrowserContext, Page } from 'playwright-core';
import { removeProfile, watchErrors } from '../harness/browser.ts';
import { expect, openDevice, shot, test } from '../harness/runner.ts';
import { type Stack, startStack } from '../harness/stack.ts';
import {
  balanceSat,
  createWallet,
  DIST,
  PIN,
  restoreWallet,
  unlock,
  waitConnected,
} from '../harness/wallet.ts';
import { writeQrVideo } from '../harness/y4m.ts';

let stack: Stack;
/** Browser profiles made by this file, deleted once their browser is closed. */
const profiles: string[] = [];
let context: BrowserContext;
let page: Page;
let errors: string[];
const state = {
  words: [] as string[],
  feeMsat: 0n,
  balanceMsat: 0n,
  balanceSat: 0n,
  walletId: '',
  /** The LSP's backup right after the first channel: what a rolling-back LSP serves later. */
  oldBackup: undefined as Uint8Array | undefined,
};

// the tests are one journey, each step starting where the last ended: a failure skips the rest
test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  stack = await startStack({ distDir: DIST });
  const profile = mkdtempSync(join(tmpdir(), 'lpw-e2e-profile-'));
  profiles.push(profile);
  context = await openDevice(profile);
  page = await context.newPage();
  errors = watchErrors(page);
  page.on('console', (m) => console.log(`[browser ${m.type()}] ${m.text()}`));
});

test.afterAll(async () => {
  await context?.close();
  await stack?.stop();
  for (const dir of profiles) removeProfile(dir);
  if (profiles[0]) rmSync(`${profiles[0]}-qr.y4m`, { force: true }); // the fake camera's video
});

// also on the desktop project: the main journey is the smoke test of that layout
test.describe('wallet journey', { tag: '@desktop' }, () => {
  test('a new user opens the URL and creates a wallet; the node starts and connects to the LSP', async () => {
    await page.goto(stack.front.url);
    await page.getByTestId('screen-welcome').waitFor();
    // the wallet's code comes from its own origin; it offers the LSP on another (config.json)
    expect(new URL(stack.front.lspUrl).origin).not.toBe(new URL(stack.front.url).origin);
    expect(await page.locator('input[name=lsp-url]').inputValue()).toBe(stack.front.lspUrl);
    await shot(page, '01-welcome');
    // installable: Chromium's own check (manifest, icons, service worker with a fetch handler)
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
      installabilityErrors: Array<{ errorId: string }>;
    };
    expect(installabilityErrors).toEqual([]);
    const manifest = (await cdp.send('Page.getAppManifest')) as { url: string; errors: unknown[] };
    expect(manifest.errors).toEqual([]);
    await cdp.detach();
    state.words = await createWallet(page, (name) => shot(page, name));
    expect(state.words).toHaveLength(12);
    await waitConnected(page);
    await shot(page, '05-home-empty');
    expect(await balanceSat(page)).toBe(0n);
  });

  test('receives 20,000 sats from the merchant through a JIT channel: fee shown first, balance = amount − fee', async () => {
    await page.getByRole('button', { name: 'Receive' }).click();
    await page.getByTestId('screen-receive').waitFor();
    if (await page.getByTestId('storage-warning').isVisible()) {
      await shot(page, '06-receive-storage-warning');
      await page.getByRole('button', { name: 'I understand, continue' }).click();
    }
    await page.locator('input[name=amount]').fill('20000');
    await page.locator('input[name=note]').fill('From the merchant');
    await shot(page, '07-receive-form');
    await page.getByRole('button', { name: 'Create invoice' }).click();
    await page.getByTestId('screen-receive-fee').waitFor({ timeout: 30_000 });
    // LSPS2: max(min_fee_msat, ceil(20,000,000 × proportional / 1e6)) from the LSP's own menu
    const menu = await fetch(`${stack.front.lspUrl}/trpc/jit.getInfo?input=${encodeURIComponent('{}')}`).then(
      (r) => r.json() as Promise<{ result: { data: { opening_fee_params_menu: OpeningFeeParamsWire[] } } }>,
    );
    const params = openingFeeParamsInput.parse(menu.result.data.opening_fee_params_menu[0]);
    const feeMsat = openingFeeMsat(20_000_000n, params);
    state.feeMsat = feeMsat;
    expect(await page.getByTestId('jit-fee').textContent()).toBe(formatAmount(feeMsat, 'sat', 'ceil'));
    expect(await page.getByTestId('jit-net').textContent()).toBe(formatAmount(20_000_000n - feeMsat, 'sat'));
    await shot(page, '08-receive-fee');
    await page.getByRole('button', { name: 'Agree and create invoice' }).click();
    await page.getByTestId('screen-receive-invoice').waitFor({ timeout: 30_000 });
    const bolt11 = (await page.getByTestId('invoice-text').textContent())!.trim();
    expect(decodeBolt11(bolt11).amountMsat).toBe(20_000_000n);
    await shot(page, '09-receive-invoice');
    // merchant → router → LSP (public channels, learnt by gossip) → the wallet (the invoice's hint)
    const paid = stack.net.merchant.node.payInvoice(bolt11, { timeoutMs: 90_000 });
    paid.catch(() => {}); // awaited below, once the screen shows the outcome
    await page.getByTestId('screen-receive-done').waitFor({ timeout: 90_000 });
    await paid;
    await shot(page, '10-receive-done');
    expect(await page.getByTestId('received-amount').textContent()).toBe(
      `+${formatAmount(20_000_000n - feeMsat, 'sat')}`,
    );
    await page.getByRole('button', { name: 'Done' }).click();
    await page.waitForFunction(
      (want) => document.querySelector('[data-testid=balance]')?.textContent === want,
      formatAmount(20_000_000n - feeMsat, 'sat'),
      { timeout: 30_000 },
    );
    await shot(page, '11-home-after-receive');
    // the JIT channel exists at the LSP: private, usable, to a peer that is not the router
    const jitChannel = stack.lspNode
      .listChannels()
      .find((c) => !c.isAnnounced && c.isUsable && c.peerId !== stack.net.router.nodeId);
    expect(jitChannel).toBeDefined();
    state.walletId = jitChannel!.peerId;
    state.oldBackup = (await stack.lspStore.getBackup(state.walletId, 'channel-state'))?.blob;
    expect(state.oldBackup).toBeDefined();
    state.balanceMsat = 20_000_000n - feeMsat;
    state.balanceSat = state.balanceMsat / 1000n;
  });

  test('pays a merchant invoice by scanning its QR code with the camera: review, then proof of payment', async () => {
    const invoice = stack.net.merchant.node.createInvoice({
      amountMsat: 5_000_000n,
      description: 'Coffee',
      expirySecs: 900,
    });
    const video = `${profiles[0]}-qr.y4m`;
    writeQrVideo(video, invoice.bolt11.toUpperCase());
    // the fake camera is chosen at launch: reopen the same profile with it (the wallet locks)
    await context.close();
    context = await openDevice(profiles[0]!, { cameraY4m: video });
    page = await context.newPage();
    errors = watchErrors(page);
    await page.goto(stack.front.url);
    await shot(page, '12-lock');
    await unlock(page);
    await waitConnected(page);
    expect(await page.getByTestId('balance').textContent()).toBe(formatAmount(state.balanceMsat, 'sat'));
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('button', { name: 'Scan QR code' }).click();
    // the camera view, while it lasts: a clear QR is often decoded before a screenshot is taken
    if (await page.getByTestId('qr-reader').isVisible()) await shot(page, '13-send-scanning');
    await page.getByTestId('screen-send-review').waitFor({ timeout: 30_000 });
    // once the channel is reestablished after the unlock, Pay is possible
    await page
      .getByRole('button', { name: 'Pay' })
      .and(page.locator(':enabled'))
      .waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('review-amount').textContent()).toBe('5\u202f000 sats');
    await page.getByText('Coffee').first().waitFor();
    await page.waitForFunction(
      () => /about/.test(document.querySelector('[data-testid=review-fee]')?.textContent ?? ''),
      undefined,
      { timeout: 30_000 },
    );
    await shot(page, '14-send-review');
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.getByTestId('screen-send-done').waitFor({ timeout: 90_000 });
    await shot(page, '15-send-done');
    const preimage = ((await page.getByTestId('preimage').textContent()) ?? '').trim();
    expect(bytesToHex(sha256(hexToBytes(preimage)))).toBe(invoice.paymentHash);
    expect(stack.net.merchant.node.payment(invoice.paymentHash)?.status).toBe('succeeded');
    await page.getByRole('button', { name: 'Done' }).click();
    const history = await page.getByTestId('payment-row').allTextContents();
    expect(history[0]).toContain('Coffee');
    const fee = history[0]!.match(/fee ([0-9\u202f]+) sats?/);
    // balance = before − 5,000 sats − routing fee (both exact in msat; the display floors)
    const after = await balanceSat(page);
    expect(after).toBeLessThanOrEqual(state.balanceMsat / 1000n - 5_000n);
    expect(after).toBeGreaterThanOrEqual(state.balanceMsat / 1000n - 5_000n - 20n);
    state.balanceSat = after;
    await shot(page, '16-home-after-send');
    void fee;
  });

  test('refuses bad input with a clear message and changes nothing', async () => {
    const before = await balanceSat(page);
    const rowsBefore = await page.getByTestId('payment-row').count();
    await page.getByRole('button', { name: 'Send' }).click();
    const tryPaste = async (text: string, expected: RegExp, name: string) => {
      await page.locator('textarea[name=invoice]').fill(text);
      await page.getByRole('button', { name: 'Continue' }).click();
      const error = page.getByTestId('send-input-error');
      await error.waitFor();
      expect(await error.textContent()).toMatch(expected);
      await shot(page, name);
    };
    await tryPaste('hello, this is not money', /not a Lightning invoice/, '17-send-garbage');
    const merchantInvoice = stack.net.merchant.node.createInvoice({
      amountMsat: 1_000n,
      description: 'x',
      expirySecs: 60,
    }).bolt11;
    await tryPaste(`${merchantInvoice.slice(0, -6)}qqqqqq`, /not valid/, '18-send-invalid');
    const key = new Uint8Array(32).fill(7);
    const fields = {
      amountMsat: 1_000_000n,
      paymentHash: '11'.repeat(32),
      paymentSecret: '22'.repeat(32),
      description: 'old',
      features: [8, 14],
    };
    const expired = encodeBolt11(
      { ...fields, network: 'regtest', timestamp: Math.floor(Date.now() / 1000) - 7200, expirySeconds: 3600 },
      key,
    );
    await tryPaste(expired, /expired/, '19-send-expired');
    const mainnet = encodeBolt11(
      { ...fields, network: 'bitcoin', timestamp: Math.floor(Date.now() / 1000), expirySeconds: 3600 },
      key,
    );
    await tryPaste(mainnet, /Bitcoin mainnet.*regtest/, '20-send-wrong-network');
    // over the balance: the review says so and Pay stays disabled
    const big = stack.net.merchant.node.createInvoice({
      amountMsat: (before + 1_000n) * 1000n,
      description: 'Too much',
      expirySecs: 600,
    });
    await page.locator('textarea[name=invoice]').fill(big.bolt11);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByTestId('send-over-balance').waitFor();
    expect(await page.getByRole('button', { name: 'Pay' }).isDisabled()).toBe(true);
    await shot(page, '21-send-over-balance');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    expect(await balanceSat(page)).toBe(before);
    expect(await page.getByTestId('payment-row').count()).toBe(rowsBefore);
  });

  test('keeps its LSP while a channel is open: Settings refuses another and says why', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    expect(await page.locator('input[name=lsp-url]').inputValue()).toBe(stack.front.lspUrl);
    await page.getByTestId('lsp-locked').waitFor();
    await page.locator('input[name=lsp-url]').fill('https://another-lsp.example');
    await page.getByRole('button', { name: 'Save' }).click();
    await page
      .getByText(`Close your channel first (Channel screen): it is with ${stack.front.lspUrl}`)
      .waitFor();
    await shot(page, '21b-settings-lsp-refused');
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    await page.getByRole('button', { name: 'Settings' }).click();
    expect(await page.locator('input[name=lsp-url]').inputValue()).toBe(stack.front.lspUrl);
    await page.getByRole('button', { name: 'Back', exact: true }).click();
  });

  test('reloads with its state intact; a second tab refuses to start a node', async () => {
    await page.reload();
    await unlock(page);
    await waitConnected(page);
    expect(await balanceSat(page)).toBe(state.balanceSat);
    const second = await context.newPage();
    await second.goto(stack.front.url);
    await unlock(second);
    await second.getByTestId('status-locked-elsewhere').waitFor({ timeout: 30_000 });
    expect(await second.getByTestId('status-locked-elsewhere').textContent()).toMatch(/another tab/);
    await shot(second, '22-second-tab');
    await second.close();
  });

  test("reloads just after the LSP stored a backup the wallet never heard back about: that copy is the wallet's own, so the channel stays open and the payment completes", async () => {
    const versionAtLsp = async () =>
      readBackupHeader((await stack.lspStore.getBackup(state.walletId, 'channel-state'))!.blob).version;
    const before = await versionAtLsp();
    await page.getByRole('button', { name: 'Receive' }).click();
    await page.locator('input[name=amount]').fill('1000');
    await page.getByRole('button', { name: 'Create invoice' }).click();
    await page.getByTestId('screen-receive-invoice').waitFor({ timeout: 30_000 });
    const bolt11 = (await page.getByTestId('invoice-text').textContent())!.trim();
    stack.front.holdBackupAnswers(true);
    const paid = stack.net.merchant.node.payInvoice(bolt11, { timeoutMs: 120_000 });
    paid.catch(() => {}); // awaited below
    await waitUntil(
      'the LSP to store an upload whose answer is held',
      () => stack.front.heldBackupAnswers > 0,
      60_000,
    );
    expect(await versionAtLsp()).toBeGreaterThan(before);
    await page.reload(); // the worker dies before it hears that the LSP stored that version
    stack.front.holdBackupAnswers(false);
    await unlock(page);
    await waitConnected(page);
    await paid;
    state.balanceSat += 1_000n;
    await page.waitForFunction(
      (want) => document.querySelector('[data-testid=balance]')?.textContent === want,
      formatAmount(state.balanceSat * 1000n, 'sat'),
      { timeout: 60_000 },
    );
    expect(await page.getByText(/another device/).count()).toBe(0);
    const channel = stack.lspNode.listChannels().find((c) => c.peerId === state.walletId);
    expect(channel?.isUsable).toBe(true);
  });

  test('with the LSP unreachable: balance, history and words stay; send and receive say why', async () => {
    stack.front.cut(true);
    try {
      await lspDownChecks();
    } finally {
      stack.front.cut(false);
    }
    await page.getByRole('button', { name: 'Try again' }).click();
    await waitConnected(page);
  });

  async function lspDownChecks() {
    await page.getByTestId('status-offline').waitFor({ timeout: 60_000 });
    expect(await balanceSat(page)).toBe(state.balanceSat);
    await shot(page, '23-lsp-down-home');
    await page.getByRole('button', { name: 'Receive' }).click();
    await page.getByTestId('receive-blocked').waitFor();
    expect(await page.getByRole('button', { name: 'Create invoice' }).isDisabled()).toBe(true);
    await shot(page, '24-lsp-down-receive');
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Show recovery words' }).click();
    await page.locator('input[name=pin]').fill(PIN);
    await page.getByRole('button', { name: 'Show words' }).click();
    await page.getByTestId('screen-words').waitFor();
    expect(await page.locator('[data-testid=recovery-words] .w').allTextContents()).toEqual(state.words);
    await shot(page, '25-words');
    await page.getByRole('button', { name: 'Back', exact: true }).click();
  }

  test('opens offline from the service worker and shows the balance from local state', async () => {
    await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, undefined, {
      timeout: 30_000,
    });
    await context.setOffline(true);
    await page.reload();
    await unlock(page);
    await page.getByTestId('balance').waitFor();
    await page.waitForFunction(
      (want) => document.querySelector('[data-testid=balance]')?.textContent === want,
      formatAmount(state.balanceSat * 1000n, 'sat'),
      { timeout: 30_000 },
    );
    expect(await page.getByTestId('payment-row').count()).toBeGreaterThanOrEqual(2);
    await shot(page, '26-offline-home');
    await context.setOffline(false);
  });

  test('restores from its words and an exported file while the LSP serves an old backup: it says so, uses the newest, and brings the channel money back on chain', async () => {
    // the person saves a backup file (Settings), the same signed v2 blob the LSP holds
    await page.getByRole('button', { name: 'Settings' }).click();
    await page
      .getByTestId('backup-saved-at')
      .getByText(/Last saved at your LSP/)
      .waitFor({ timeout: 30_000 });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-backup').click(),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'lpw-e2e-file-'));
    profiles.push(dir);
    const file = join(dir, download.suggestedFilename());
    await download.saveAs(file);
    const fileVersion = readBackupHeader(new Uint8Array(readFileSync(file))).version;
    await shot(page, '27-settings-backup');
    const fundingTxo = stack.lspNode.listChannels().find((c) => c.peerId === state.walletId)!.fundingTxo!;
    // one wallet runs in one place: close this one first (the restore takes the backup lease)
    await context.close();
    // the LSP rolls back: it serves the blob it held after the first payment, labelled as its newest
    const old = state.oldBackup!;
    const oldVersion = readBackupHeader(old).version;
    expect(oldVersion).toBeLessThanOrEqual(fileVersion - 3);
    const row = (await stack.lspStore.getBackup(state.walletId, 'channel-state'))!;
    const lease = await stack.lspStore.acquireLease(state.walletId, 'rogue-lsp-01', Date.now() + 60_000);
    const put = await stack.lspStore.putBackup({
      nodeId: state.walletId,
      key: 'channel-state',
      expectedVersion: row.version,
      version: row.version + 1,
      blob: old,
      fencingToken: lease.fencingToken,
      nowMs: Date.now(),
      maxKeys: 256,
    });
    expect(put.ok).toBe(true);
    await stack.lspStore.releaseLease(state.walletId, lease.fencingToken, Date.now());

    const fresh = mkdtempSync(join(tmpdir(), 'lpw-e2e-profile-'));
    profiles.push(fresh);
    context = await openDevice(fresh);
    page = await context.newPage();
    errors = watchErrors(page);
    await page.goto(stack.front.url);
    await restoreWallet(page, state.words, file);
    // the wallet noticed, says so in words, and runs on the file's newer state, not the LSP's
    await page
      .getByTestId('backup-warning')
      .getByText(
        `Your LSP served backup version ${oldVersion}, but the backup file holds version ${fileVersion}. An LSP that serves an old backup may be trying to make your wallet use an old channel state; the wallet used the newest copy.`,
      )
      .waitFor({ timeout: 60_000 });
    // restored channel state may be older than the channel's last one (the LSP controls the copy):
    // the wallet closes the channel without publishing anything, the LSP answers its reconnection
    // by publishing its latest commitment, and our share pays the wallet's own key (recovery mode)
    await page.getByTestId('recovery-notice').waitFor({ timeout: 60_000 });
    await shot(page, '28-restored-home-recovery');
    const [fundingTxid, fundingVout] = fundingTxo.split(':');
    await expect
      .poll(() => stack.devnet.chain.outspend(fundingTxid!, Number(fundingVout))?.txid, { timeout: 60_000 })
      .toBeDefined();
    const closeTxid = stack.devnet.chain.outspend(fundingTxid!, Number(fundingVout))!.txid;
    stack.devnet.mine(1);
    const recovered = formatAmount(state.balanceSat * 1000n, 'sat');
    await page
      .getByTestId('recovery-notice')
      .getByText(`Recovered: ${recovered} from your closed channel arrived in your on-chain wallet.`)
      .waitFor({ timeout: 60_000 });
    await page.getByTestId('home-onchain').getByText(recovered).waitFor({ timeout: 30_000 });
    await shot(page, '29-restored-recovered');
    // the devnet's UTXO set is the judge: the LSP's closing transaction pays the wallet's whole
    // balance (the LSP, the funder, paid the commitment's fee), unspent, and nothing else of ours
    // touched the funding output
    const close = stack.devnet.chain.getTransaction(closeTxid)!;
    expect(close.location).toBeDefined();
    const ours = close.tx.outputs.findIndex((o) => o.value === state.balanceSat);
    expect(ours).toBeGreaterThanOrEqual(0);
    expect(stack.devnet.chain.utxo({ txid: closeTxid, vout: ours }, false)?.value).toBe(state.balanceSat);
    // the LSP no longer has the channel, and holds the current (channel-less) state's backup,
    // above every version it has seen
    await expect
      .poll(() => stack.lspNode.listChannels().some((c) => c.peerId === state.walletId), { timeout: 30_000 })
      .toBe(false);
    await expect
      .poll(
        async () =>
          readBackupHeader((await stack.lspStore.getBackup(state.walletId, 'channel-state'))!.blob).version,
        {
          timeout: 60_000,
        },
      )
      .toBeGreaterThan(fileVersion);
    expect(errors.filter((e) => e.startsWith('pageerror') || /Content Security Policy/i.test(e))).toEqual([]);
  });
});
