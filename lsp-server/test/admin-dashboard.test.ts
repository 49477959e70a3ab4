// The operator's page in Chromium against a devnet LSP that did real work: a JIT open with its fee and
// a routed payment. The page's figures must be the LSP's own records (via the history sampler on its
// timer), the charts must draw, the page must fit a phone, pass an accessibility check, and its
// actions (fee policy, wallet view, cooperative close) must do what they showed.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openingFeeParamsInput } from '@lpw/api';
import { waitUntil } from '@lpw/devnet';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_KINDS } from '../src/alerts.ts';
import type { LspClient } from '../src/client/index.ts';
import { type Stack, startStack } from './lightning.ts';
import { backends } from './stores.ts';

const PASSWORD = 'operator password 16';
const SHOTS = join(tmpdir(), 'lsp-admin-screenshots');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

describe('the admin page on a devnet LSP, in Chromium', () => {
  let s: Stack;
  let browser: Browser;
  let walletId: string;
  let walletChannelId: string;
  let walletToken: string;
  let wallet: Awaited<ReturnType<Stack['wallet']>>['node'];
  let walletClient: LspClient;

  beforeAll(async () => {
    s = await startStack(
      backends()[0]!,
      { ADMIN_PASSWORD: PASSWORD, HISTORY_SAMPLE_SEC: '5' },
      'admin-dashboard',
    );
    // real work for the history: a JIT open (the router pays a new wallet), then the wallet pays the
    // merchant through the LSP (a routed forward with its fee)
    const { node, client } = await s.wallet(0x51);
    wallet = node;
    walletClient = client;
    walletId = wallet.nodeId;
    walletToken = client.token!;
    const jit = await client.receiveJit(wallet, { amountMsat: 500_000_000n, description: 'first' });
    const received = wallet.waitFor('payment-received', (e) => e.paymentHash === jit.paymentHash, 60_000);
    await s.net.router.node.payInvoice(jit.bolt11, { timeoutMs: 60_000 });
    await received;
    walletChannelId = wallet.listChannels()[0]!.channelId;
    await waitUntil(
      'LSP graph has the public channels',
      () => s.lsp.graphSummary().channels.length >= 3,
      30_000,
    );
    const invoice = s.net.merchant.node.createInvoice({
      amountMsat: 10_000_000n,
      description: 'x',
      expirySecs: 600,
    });
    await waitUntil(
      'a route to the merchant',
      () =>
        client.findRoute(s.net.merchant.nodeId, 10_000_000n, 18).then(
          () => true,
          () => false,
        ),
      60_000,
    );
    await client.payWithRoute(wallet, invoice.bolt11, { maxFeeMsat: 1_000_000n });
    await waitUntil(
      'both forwards recorded',
      async () => (await s.store.listForwards(10)).length >= 2,
      30_000,
    );
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    mkdirSync(SHOTS, { recursive: true });
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  }, 60_000);

  const open = async (viewport: { width: number; height: number }, path = '/admin') => {
    const context = await browser.newContext({
      viewport,
      httpCredentials: { username: 'admin', password: PASSWORD },
      // only so the test can inject axe-core; the page itself runs under the LSP's CSP
      bypassCSP: true,
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // a failed load is told by its response below (with its URL), not by the console's line
    page.on(
      'console',
      (m) => m.type() === 'error' && !m.text().startsWith('Failed to load') && errors.push(m.text()),
    );
    // the browser's own /favicon.ico guess is the one request allowed to miss
    page.on(
      'response',
      (r) =>
        r.status() >= 400 && !r.url().endsWith('/favicon.ico') && errors.push(`${r.status()} ${r.url()}`),
    );
    await page.goto(`${s.server.url}${path}`);
    return { page, errors };
  };
  const total = (page: Page, name: string) => page.locator(`[data-total="${name}"]`).textContent();

  it('shows the LSP’s own records: forwards, fees, JIT opens, channels; draws the charts; fits desktop and phone', async () => {
    const forwards = await s.store.listForwards(100);
    const ok = forwards.filter((f) => f.outcome === 'forwarded');
    const feesMsat = ok.reduce((a, f) => a + f.feeMsat, 0n);
    const jitChannels = await s.store.listJitChannelsBetween(0, Date.now());
    expect(jitChannels).toHaveLength(1);
    // the sampler runs on its 5 s timer: wait until its history has every record
    await waitUntil(
      'history caught up with the records',
      async () => {
        const html = await (
          await fetch(`${s.server.url}/admin`, {
            headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` },
          })
        ).text();
        return (
          html.includes(`data-total="forwards">${ok.length}<`) && html.includes('data-total="jit-opens">1<')
        );
      },
      60_000,
    );

    const { page, errors } = await open({ width: 1280, height: 900 });
    expect(await total(page, 'forwards')).toBe(String(ok.length));
    expect(await total(page, 'forward-fees-msat')).toBe(feesMsat.toString());
    expect(await total(page, 'jit-opens')).toBe('1');
    expect(await total(page, 'jit-fees-msat')).toBe(jitChannels[0]!.openingFeeMsat.toString());
    // every channel of the node, each with its balance meter at its outbound amount
    const channels = s.lsp.listChannels();
    expect(await page.locator('meter').count()).toBe(channels.length);
    const walletMeter = page.locator('tr', { hasText: walletChannelId.slice(0, 16) }).locator('meter');
    const live = channels.find((c) => c.channelId === walletChannelId)!;
    expect(await walletMeter.getAttribute('value')).toBe(live.outboundMsat.toString());
    // every alert kind listed; the router is connected, so no public peer is offline
    expect(await page.locator('[data-alert]').count()).toBe(ALERT_KINDS.length);
    // the largest channel's monitor is small here: its alert shows, not firing
    expect(await page.locator('[data-alert="channel_monitor"]').getAttribute('class')).toBe('ok');
    expect(await page.locator('[data-alert="peer_offline"]').getAttribute('class')).toBe('ok');
    // uPlot drew the six charts
    await page.waitForFunction(() => document.querySelectorAll('.chart canvas').length === 6, undefined, {
      timeout: 10_000,
    });
    await page.screenshot({ path: join(SHOTS, 'admin-desktop.png'), fullPage: true });

    const phone = await open({ width: 390, height: 844 });
    await phone.page.waitForFunction(() => document.querySelectorAll('.chart canvas').length === 6);
    await phone.page.screenshot({ path: join(SHOTS, 'admin-phone.png'), fullPage: true });
    // nothing wider than the phone: tables scroll inside their own box
    const overflowing = await phone.page.evaluate(() =>
      Array.from(document.querySelectorAll('body *'))
        .filter((e) => !e.parentElement?.closest('.scroll') && e.getBoundingClientRect().right > 390.5)
        .map(
          (e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`,
        ),
    );
    expect(overflowing).toEqual([]);
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect([...errors, ...phone.errors]).toEqual([]);
    await page.context().close();
    await phone.page.context().close();
  }, 120_000);

  it('passes an axe-core accessibility check (no serious or critical violations) on the dashboard and a wallet', async () => {
    for (const path of ['/admin', `/admin/wallets/${walletId}`, `/admin/channels/${walletChannelId}`]) {
      const { page } = await open({ width: 1280, height: 900 }, path);
      await page.addScriptTag({ path: AXE });
      const violations = await page.evaluate(async () => {
        const result = await (
          window as unknown as {
            axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> };
          }
        ).axe.run();
        return result.violations.map((v) => ({ id: v.id, impact: v.impact, count: v.nodes.length }));
      });
      expect(
        violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
        path,
      ).toEqual([]);
      await page.context().close();
    }
  }, 60_000);

  it('a wallet’s view: its channel, its JIT purchase with the fee, its backup state', async () => {
    const { page } = await open({ width: 390, height: 844 }, '/admin');
    await page.getByRole('link', { name: walletId }).click();
    await page.waitForURL(`**/admin/wallets/${walletId}`);
    const [purchase] = await s.store.listJitPurchases(walletId);
    expect(purchase?.state).toBe('FORWARDED');
    const row = page.locator('tr', { hasText: purchase!.scid.toString() });
    await expect(row.textContent()).resolves.toContain('FORWARDED');
    await expect(row.textContent()).resolves.toContain(purchase!.openingFeeMsat!.toString());
    expect(await page.locator('meter').count()).toBe(1);
    expect(await page.locator('[data-backup-state]').textContent()).toBe('no backup yet');
    await page.screenshot({ path: join(SHOTS, 'admin-wallet-phone.png'), fullPage: true });
    await page.context().close();
  }, 60_000);

  it('a refused backup raises the backup alert, on /metrics and on the wallet’s page', async () => {
    const metric = async () =>
      /lsp_alert\{kind="backup_failing"\} (\d)/.exec(
        await (await fetch(`${s.server.url}/metrics`)).text(),
      )?.[1];
    expect(await metric()).toBe('0');
    // bytes that are no backup at all: the LSP refuses them
    const put = await fetch(`${s.server.url}/backup/v2/cs`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${walletToken}`,
        'x-backup-expected-version': '0',
        'x-backup-lease-token': '1',
      },
      body: new Uint8Array([1, 2, 3]),
    });
    expect(put.status).toBeGreaterThanOrEqual(400);
    const { code } = (await put.json()) as { code: string };
    expect(await metric()).toBe('1');
    const { page } = await open({ width: 1280, height: 900 }, `/admin/wallets/${walletId}`);
    expect(await page.locator('[data-backup-state]').textContent()).toContain(
      `failing: latest write refused (${code})`,
    );
    await page.goto(`${s.server.url}/admin`);
    expect(await page.locator('[data-alert="backup_failing"]').textContent()).toContain(
      walletId.slice(0, 12),
    );
    await page.context().close();
  }, 60_000);

  it('changes the JIT fee policy after showing what it does to fees; new menus carry it', async () => {
    const { page } = await open({ width: 1280, height: 900 });
    await page.getByLabel('Minimum fee (msat)').fill('3000000');
    await page.getByLabel('Proportional (ppm)').fill('5000');
    await page.getByRole('button', { name: 'Review the change' }).click();
    // the confirmation: 100,000 sat pays max(3,000, 500) = 3,000 sat instead of 2,000 sat
    await expect(page.locator('dd', { hasText: 'sat now →' }).nth(1).textContent()).resolves.toBe(
      '2,000 sat now → 3,000 sat',
    );
    expect(s.config.fee.minFeeMsat).toBe(2_000_000n); // nothing changed before confirming
    await page.getByRole('button', { name: 'Change the fee policy' }).click();
    await expect(page.locator('.message').textContent()).resolves.toContain('minimum 3000000 msat, 5000 ppm');
    const { client } = await s.wallet(0x52);
    const menu = (await client.trpc.jit.getInfo.query({})).opening_fee_params_menu;
    expect(openingFeeParamsInput.parse(menu[0])).toMatchObject({
      min_fee_msat: 3_000_000n,
      proportional: 5_000,
    });
    await page.context().close();
  }, 60_000);

  it('changes the routing fees after showing them; a real forward then earns exactly the new fee; the action log shows both changes', async () => {
    const { page } = await open({ width: 1280, height: 900 });
    const before = s.lsp.forwardingFees();
    await page.getByLabel('Base fee (msat)').fill('3000');
    await page.getByLabel('Proportional fee (ppm)').fill('4000');
    await page.getByRole('button', { name: 'Review the routing fees' }).click();
    // 10,000 sat forwarded: 3,000 + 10,000,000 × 4,000 / 10^6 = 43,000 msat
    await expect(page.locator('dd', { hasText: 'msat now →' }).first().textContent()).resolves.toMatch(
      / → 43,000 msat$/,
    );
    expect(s.lsp.forwardingFees()).toEqual(before); // nothing changed before confirming
    await page.getByRole('button', { name: 'Change the routing fees' }).click();
    await expect(page.locator('.message').textContent()).resolves.toContain(
      'Routing fees: 3000 msat + 4000 ppm',
    );
    expect(s.lsp.forwardingFees()).toEqual({ baseMsat: 3000, proportionalMillionths: 4000 });

    // the wallet pays the merchant through the LSP (wallet → LSP → router → merchant), on a route the
    // LSP finds on its graph once its own new channel_update is in it
    const lspFee = (forwardedMsat: bigint) => 3000n + (forwardedMsat * 4000n) / 1_000_000n;
    const amountMsat = 10_000_000n;
    await waitUntil(
      'the LSP’s graph carries its new routing fee',
      async () => {
        const [path] = (await walletClient.findRoute(s.net.merchant.nodeId, amountMsat, 18)).paths;
        const fee = (i: number) => BigInt(String(path!.hops[i]!.fee_msat));
        return fee(0) === lspFee(fee(1) + fee(2));
      },
      60_000,
    );
    const invoice = s.net.merchant.node.createInvoice({
      amountMsat,
      description: 'new fees',
      expirySecs: 600,
    });
    const forwardsBefore = (await s.store.listForwards(100)).length;
    await walletClient.payWithRoute(wallet, invoice.bolt11, { maxFeeMsat: 1_000_000n });
    await waitUntil(
      'the forward recorded',
      async () => (await s.store.listForwards(100)).length > forwardsBefore,
      30_000,
    );
    const [forward] = await s.store.listForwards(1);
    expect(forward!.outcome).toBe('forwarded');
    expect(forward!.feeMsat).toBe(lspFee(forward!.outboundMsat));

    // a channel opened after the change charges the new fees too: a new wallet's JIT channel, then
    // the router pays the wallet over it (the invoice's route hint carries the LSP's fees as the
    // wallet learnt them from the LSP's channel update)
    const { node: late, client: lateClient } = await s.wallet(0x53);
    const jit = await lateClient.receiveJit(late, { amountMsat: 200_000_000n, description: 'after' });
    const opened = late.waitFor('payment-received', (e) => e.paymentHash === jit.paymentHash, 60_000);
    await s.net.router.node.payInvoice(jit.bolt11, { timeoutMs: 60_000 });
    await opened;
    const lateChannelId = late.listChannels()[0]!.channelId;
    await waitUntil(
      'the router pays the new wallet over its new channel',
      async () => {
        const invoice = late.createInvoice({ amountMsat: 5_000_000n, description: 'hint', expirySecs: 600 });
        return s.net.router.node.payInvoice(invoice.bolt11, { timeoutMs: 30_000 }).then(
          () => true,
          () => false,
        );
      },
      90_000,
    );
    await waitUntil(
      'the forward over the new channel recorded',
      async () => (await s.store.listForwards(1))[0]?.outboundChannel === lateChannelId,
      30_000,
    );
    const [overNew] = await s.store.listForwards(1);
    expect(overNew!.feeMsat).toBe(lspFee(overNew!.outboundMsat));

    // the action log on the page: both fee changes, newest first, as the store has them
    await page.reload();
    const logged = await s.store.listAdminActions(50);
    expect(logged.map((a) => a.action)).toEqual(['routing-fees', 'jit-fee-policy']);
    const rows = page.locator('section[aria-labelledby="log-h"] tbody tr');
    expect(await rows.count()).toBe(2);
    await expect(rows.nth(0).textContent()).resolves.toContain('proportionalMillionths=4000');
    await expect(rows.nth(1).textContent()).resolves.toContain('minFeeMsat=3000000');
    await page.screenshot({ path: join(SHOTS, 'admin-after-actions-desktop.png'), fullPage: true });
    const phone = await open({ width: 390, height: 844 });
    await phone.page.screenshot({ path: join(SHOTS, 'admin-after-actions-phone.png'), fullPage: true });
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await phone.page.context().close();
    await page.context().close();
  }, 120_000);

  it('a channel’s page charts its own liquidity over time, at the sampled figures', async () => {
    const live = () => s.lsp.listChannels().find((c) => c.channelId === walletChannelId)!;
    const latest = async (page: Page) =>
      page.evaluate(() => {
        const data = JSON.parse(document.getElementById('history-data')!.textContent!) as {
          charts: { series: { label: string; values: (number | null)[] }[] }[];
        };
        const last = (label: string) =>
          data.charts[0]!.series.find((x) => x.label === label)!
            .values.filter((v) => v !== null)
            .at(-1);
        return { outbound: last('outbound'), inbound: last('inbound') };
      });
    // the sampler (every 5 s) keeps the hour's latest figure per channel
    await waitUntil(
      'the channel’s sample caught up with the forward',
      async () => {
        const { page } = await open({ width: 1280, height: 900 }, `/admin/channels/${walletChannelId}`);
        const got = await latest(page);
        await page.context().close();
        return got.outbound === Number(live().outboundMsat / 1000n);
      },
      60_000,
    );
    for (const [name, viewport] of [
      ['desktop', { width: 1280, height: 900 }],
      ['phone', { width: 390, height: 844 }],
    ] as const) {
      const { page, errors } = await open(viewport, '/admin');
      await page
        .locator('a', { hasText: walletChannelId.slice(0, 16) })
        .first()
        .click();
      await page.waitForURL(`**/admin/channels/${walletChannelId}`);
      await page.waitForFunction(() => document.querySelectorAll('.chart canvas').length === 1);
      expect(await latest(page)).toEqual({
        outbound: Number(live().outboundMsat / 1000n),
        inbound: Number(live().inboundMsat / 1000n),
      });
      expect(await page.locator('meter').getAttribute('value')).toBe(live().outboundMsat.toString());
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        viewport.width,
      );
      await page.screenshot({ path: join(SHOTS, `admin-channel-${name}.png`), fullPage: true });
      expect(errors).toEqual([]);
      await page.context().close();
    }
  }, 120_000);

  it('closes the wallet’s channel cooperatively after showing the fee', async () => {
    const { page } = await open({ width: 1280, height: 900 }, `/admin/channels/${walletChannelId}/close`);
    expect(await page.locator('[data-fee="cooperative"]').textContent()).toMatch(/sat \([\d,]+ msat\)/);
    expect(await page.locator('[data-fee="force"]').textContent()).toMatch(/sat \([\d,]+ msat\)/);
    await page.screenshot({ path: join(SHOTS, 'admin-close-desktop.png'), fullPage: true });
    await page.getByRole('button', { name: 'Close cooperatively' }).click();
    await expect(page.locator('.message').textContent()).resolves.toContain('Closing channel');
    await waitUntil(
      'the channel is closed',
      () => !s.lsp.listChannels().some((c) => c.channelId === walletChannelId),
      60_000,
    );
    await page.context().close();
  }, 90_000);
});
