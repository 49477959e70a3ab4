// What the operator set and saw on the admin page outlives a restart, on both stores: the routing
// fees (the node starts with them), the action log, and a wallet whose backups were failing. Real
// HTTP against a real LSP (createLsp: store, LDK node on the devnet, admin routes).
import { loginMessage, signNodeMessage } from '@lpw/api';
import { type Devnet, startDevnet } from '@lpw/devnet';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { createTRPCClient, httpLink } from '@trpc/client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createLsp, type Lsp } from '../src/lsp.ts';
import type { AppRouter } from '../src/router/index.ts';
import { backends } from './stores.ts';
import { tempDir } from './temp-dir.ts';

const PASSWORD = 'operator password 16';
const AUTH = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const WALLET_KEY = new Uint8Array(32).fill(0x61);
const WALLET_ID = bytesToHex(secp256k1.getPublicKey(WALLET_KEY, true));

let devnet: Devnet;
beforeAll(async () => {
  devnet = await startDevnet({ seed: 'admin-restart' });
});
afterAll(() => devnet?.stop());

for (const backend of backends()) {
  describe(`admin state across a restart on ${backend.name}`, () => {
    const database = backend.database();
    let lsp: Lsp | undefined;
    const start = async () => {
      lsp = await createLsp(
        loadConfig({
          LOG_LEVEL: 'silent',
          PORT: '0',
          HOST: '127.0.0.1',
          DATA_DIR: tempDir('lsp-admin-restart-'),
          ADMIN_PASSWORD: PASSWORD,
          HISTORY_SAMPLE_SEC: '3600',
        }),
        {
          store: await database(),
          seed: new Uint8Array(32).fill(9),
          devnet,
          node: { chainSyncIntervalMs: 0, logLevel: 'error' },
          log: pino({ level: 'silent' }),
        },
      );
      return lsp;
    };
    afterAll(() => lsp?.stop(), 60_000);

    const page = async (path = '/admin') => {
      const res = await fetch(`${lsp!.url}${path}`, { headers: { authorization: AUTH } });
      expect(res.status).toBe(200);
      return res.text();
    };
    const post = async (path: string, fields: Record<string, string>) => {
      const csrf = /name="csrf" value="([^"]+)"/.exec(await page())?.[1] ?? '';
      const res = await fetch(`${lsp!.url}${path}`, {
        method: 'POST',
        headers: {
          authorization: AUTH,
          'content-type': 'application/x-www-form-urlencoded',
          origin: lsp!.url,
        },
        body: new URLSearchParams({ csrf, ...fields }),
        redirect: 'manual',
      });
      return {
        status: res.status,
        location: decodeURIComponent(res.headers.get('location') ?? ''),
        html: await res.text(),
      };
    };
    const alert = async (kind: string) =>
      new RegExp(`lsp_alert\\{kind="${kind}"\\} (\\d)`).exec(
        await (await fetch(`${lsp!.url}/metrics`)).text(),
      )?.[1];

    it('routing fees: shown with example fees before they change; bad input changes nothing', async () => {
      await start();
      const before = lsp!.node.forwardingFees();
      const review = await post('/admin/routing-fees', { baseMsat: '5000', proportionalMillionths: '2500' });
      expect(review.status).toBe(200);
      // 100,000 sat: 5,000 msat + 100,000,000 × 2,500 / 10^6 = 255,000 msat
      expect(review.html).toContain(`msat now → 255,000 msat`);
      expect(review.html).toContain('name="confirm" value="yes"');
      const bad = await post('/admin/routing-fees', {
        baseMsat: '4294967296',
        proportionalMillionths: '1',
        confirm: 'yes',
      });
      expect(bad.location).toContain('base fee (msat) must be at most 4,294,967,295');
      expect(lsp!.node.forwardingFees()).toEqual(before);
      expect(await lsp!.store.listAdminActions(10)).toEqual([]);

      const changed = await post('/admin/routing-fees', {
        baseMsat: '5000',
        proportionalMillionths: '2500',
        confirm: 'yes',
      });
      expect(changed.status).toBe(303);
      expect(changed.location).toContain('Routing fees: 5000 msat + 2500 ppm');
      expect(lsp!.node.forwardingFees()).toEqual({ baseMsat: 5000, proportionalMillionths: 2500 });
    });

    it('a refused backup marks the wallet failing', async () => {
      const trpc = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${lsp!.url}/trpc` })] });
      const { challenge } = await trpc.auth.challenge.mutate();
      const { token } = await trpc.auth.login.mutate({
        nodeId: WALLET_ID,
        challenge,
        signature: signNodeMessage(loginMessage(challenge), WALLET_KEY),
      });
      const put = await fetch(`${lsp!.url}/backup/v2/cs`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${token}`,
          'x-backup-expected-version': '0',
          'x-backup-lease-token': '1',
        },
        body: new Uint8Array([1, 2, 3]),
      });
      expect(put.status).toBeGreaterThanOrEqual(400);
      expect(await alert('backup_failing')).toBe('1');
    });

    it('after a restart: the node charges the stored routing fees, the log and the failing backup are shown', async () => {
      await lsp!.stop();
      await start();
      expect(lsp!.node.forwardingFees()).toEqual({ baseMsat: 5000, proportionalMillionths: 2500 });
      const html = await page();
      expect(html).toContain('Now: base 5,000 msat, proportional 2,500 ppm');
      const log = /<h2 id="log-h">Action log<\/h2>(.*?)<\/section>/s.exec(html)?.[1] ?? '';
      expect(log).toContain('routing-fees');
      expect(log).toContain('baseMsat=<code>5000</code>');
      expect(log).toContain('<span data-outcome="done">done</span>: Routing fees: 5000 msat + 2500 ppm');
      // the refused change was never confirmed: one entry only
      expect(log.match(/<tr>/g)).toHaveLength(2); // the head row and one entry
      expect(await alert('backup_failing')).toBe('1');
      expect(await page(`/admin/wallets/${WALLET_ID}`)).toMatch(
        /data-backup-state>failing: latest write refused \(/,
      );
    });
  });
}
