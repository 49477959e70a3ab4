// L402 on the app's database (issue 12, item 2): token uses are counted in the LSP's store, so they
// survive a restart and hold across two processes behind one database (two app instances on one
// SQLite file, and on one PostgreSQL schema); an unpaid challenge stores nothing, neither a payment
// record on the invoicing node nor a row in the database.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { paidApiApp } from '@lpw/devnet/paid-api';
import { encodeMacaroon, formatAuthorization, mintToken, type RootKey } from '@lpw/l402';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { l402UsageStore } from '../src/l402-usage.ts';
import { openStore } from '../src/store/index.ts';
import type { LspStore } from '../src/store/types.ts';
import { startLightning, type TestLightning } from './server.ts';
import { testSchema } from './stores.ts';
import { tempDir } from './temp-dir.ts';

const rootKey: RootKey = { id: 'l402-usage-test', secret: new Uint8Array(32).fill(0x42) };

/** A paid token for /api/quote as if its invoice had been paid: we hold the preimage. */
function paidToken(maxUses: number): string {
  const preimage = randomBytes(32);
  const { macaroon } = mintToken({
    rootKey,
    paymentHash: bytesToHex(sha256(preimage)),
    path: '/api/quote',
    expiresAtSec: Math.floor(Date.now() / 1000) + 3600,
    maxUses,
  });
  return formatAuthorization(
    Buffer.from(encodeMacaroon(macaroon)).toString('base64'),
    preimage.toString('hex'),
  );
}

interface Instance {
  url: string;
  store: LspStore;
  close(): Promise<void>;
}

let ln: TestLightning;
beforeAll(async () => {
  ln = await startLightning();
});
afterAll(() => ln?.stop());

const databases: { name: string; url: () => string; schema?: string }[] = [
  { name: 'one SQLite file', url: () => join(tempDir('lsp-l402-'), 'lsp.sqlite') },
];
const pgUrl = inject('pgUrl');
if (pgUrl)
  databases.push({
    name: 'one PostgreSQL database',
    url: () => pgUrl,
    schema: testSchema(),
  });

for (const database of databases) {
  describe(`L402 uses on ${database.name}`, () => {
    const url = database.url();
    const open: Instance[] = [];
    /** One app process: its own connection to the shared database, its own HTTP server. */
    const instance = async (): Promise<Instance> => {
      const store = await openStore(url, database.schema ? { schema: database.schema } : {});
      const app = paidApiApp(ln.node, rootKey, l402UsageStore(store));
      const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
        const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
      });
      const { port } = server.address() as { port: number };
      const made: Instance = {
        url: `http://127.0.0.1:${port}`,
        store,
        async close() {
          await new Promise<void>((resolve) => server.close(() => resolve()));
          await store.close();
          open.splice(open.indexOf(made), 1);
        },
      };
      open.push(made);
      return made;
    };
    afterAll(async () => {
      for (const i of [...open]) await i.close();
    });
    const get = async (i: Instance, authorization?: string) => {
      const res = await fetch(`${i.url}/api/quote`, authorization ? { headers: { authorization } } : {});
      await res.arrayBuffer();
      return res.status;
    };

    it('a uses=3 token serves 3 requests across two processes, and none after a restart', async () => {
      const a = await instance();
      const b = await instance();
      const token = paidToken(3);
      expect([await get(a, token), await get(b, token), await get(a, token)]).toEqual([200, 200, 200]);
      expect(await get(b, token)).toBe(402);
      await a.close();
      const again = await instance();
      expect(await get(again, token)).toBe(402);
    });

    it('concurrent requests on both processes never take more than the token’s uses', async () => {
      const a = await instance();
      const b = await instance();
      const token = paidToken(3);
      const statuses = await Promise.all(Array.from({ length: 20 }, (_, n) => get(n % 2 ? a : b, token)));
      expect(statuses.filter((s) => s === 200)).toHaveLength(3);
      expect(statuses.filter((s) => s === 402)).toHaveLength(17);
    });

    it('30 unpaid requests: 30 challenges, no payment record and no row stored', async () => {
      const a = await instance();
      const paymentsBefore = ln.node.listPayments().length;
      const rowsBefore = (await a.store.snapshot()).l402_uses;
      const statuses = await Promise.all(Array.from({ length: 30 }, () => get(a)));
      expect(statuses).toEqual(Array(30).fill(402));
      expect(ln.node.listPayments().length).toBe(paymentsBefore);
      expect((await a.store.snapshot()).l402_uses).toEqual(rowsBefore);
    });

    it('counters of expired tokens are swept', async () => {
      const a = await instance();
      expect(await a.store.consumeL402Use('ab'.repeat(32), 2, 1_000)).toBe(true);
      expect(await a.store.consumeL402Use('ab'.repeat(32), 2, 1_000)).toBe(true);
      expect(await a.store.consumeL402Use('ab'.repeat(32), 2, 1_000)).toBe(false);
      await a.store.sweepExpired(1_001_000);
      expect((await a.store.snapshot()).l402_uses?.some((r) => r.token_id === 'ab'.repeat(32))).toBe(false);
    });
  });
}
