import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../test/stores.ts';
import { BackupHealth } from '../history/backup-health.ts';
import type { JitPurchaseRecord, LspStore } from './types.ts';

const A = `02${'a'.repeat(64)}`;
const B = `03${'b'.repeat(64)}`;
const params = {
  min_fee_msat: 546_000n,
  proportional: 1_000,
  valid_until: '2030-01-01T00:00:00.000Z',
  min_lifetime: 1008,
  max_client_to_self_delay: 2016,
  min_payment_size_msat: 1_000n,
  max_payment_size_msat: 18_446_744_073_709_551_615n,
  promise: 'ab'.repeat(32),
};

for (const backend of backends()) {
  describe(`store on ${backend.name}`, () => {
    let store: LspStore;
    beforeAll(async () => {
      store = await backend.open();
      await store.touchWallet(A, 1_000);
      await store.touchWallet(B, 2_000);
    });
    afterAll(() => store?.close());

    it('records wallets and their last login', async () => {
      const again = await store.touchWallet(A, 5_000);
      expect(again).toEqual({ nodeId: A, createdAtMs: 1_000, lastLoginAtMs: 5_000 });
      expect((await store.listWallets()).map((w) => w.nodeId)).toEqual([A, B]);
    });

    it('challenges are single use and expire; logins commit together, each answered', async () => {
      const login = (challenge: string, nowMs: number, tokenHash: string) => ({
        challenge,
        nowMs,
        tokenHash,
        session: { nodeId: A, expiresAtMs: 50_000 },
      });
      await store.insertChallenges([
        { challenge: 'c1', expiresAtMs: 10_000 },
        { challenge: 'c2', expiresAtMs: 10_000 },
      ]);
      expect(
        await store.completeLogins([
          login('c1', 9_999, 'l1'),
          login('c1', 9_999, 'l1b'), // used a moment ago, in the same commit
          login('c2', 10_000, 'l2'), // expired
          login('never', 0, 'l3'),
        ]),
      ).toEqual([true, false, false, false]);
      expect(await store.getSession('l1', 9_999)).toEqual({ nodeId: A, expiresAtMs: 50_000 });
      expect((await store.getWallet(A))?.lastLoginAtMs).toBe(9_999);
      // a refused login stores no session, and an expired challenge is gone
      for (const hash of ['l1b', 'l2', 'l3']) expect(await store.getSession(hash, 0)).toBeUndefined();
      expect(await store.completeLogins([login('c2', 0, 'l2b')])).toEqual([false]);
      // concurrent claims: exactly one wins
      await store.insertChallenges([{ challenge: 'c3', expiresAtMs: 10_000 }]);
      const wins = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.completeLogins([login('c3', 1, `w${i}`)])),
      );
      expect(wins.flat().filter(Boolean)).toHaveLength(1);
    });

    it('sessions end at expiry and can be swept', async () => {
      await store.insertSession('h1', { nodeId: A, expiresAtMs: 20_000 });
      expect(await store.getSession('h1', 19_999)).toEqual({ nodeId: A, expiresAtMs: 20_000 });
      expect(await store.getSession('h1', 20_000)).toBeUndefined();
      expect(await store.sweepExpired(20_000)).toBeGreaterThanOrEqual(1);
      expect(await store.getSession('h1', 0)).toBeUndefined();
    });

    it('keeps JIT purchases with exact u64 amounts', async () => {
      const p: JitPurchaseRecord = {
        scid: 0xffff_ffff_ffff_fffen,
        nodeId: A,
        params,
        paymentSizeMsat: 18_446_744_073_709_551_615n,
        openingFeeMsat: null,
        state: 'PENDING',
        createdAtMs: 3,
        updatedAtMs: 3,
      };
      await store.insertJitPurchase(p);
      expect(await store.getJitPurchase(p.scid)).toEqual(p);
      await expect(store.insertJitPurchase(p)).rejects.toThrow();
      expect(await store.setJitPurchaseState(p.scid, 'OPENED', 4)).toBe(true);
      expect((await store.listJitPurchases(A))[0]?.state).toBe('OPENED');
      expect(await store.listJitPurchases(B)).toEqual([]);
    });

    it('logs forwards newest first', async () => {
      for (const i of [1, 2, 3]) {
        await store.insertForward({
          nodeId: A,
          inboundChannel: 'in',
          outboundChannel: 'out',
          inboundMsat: 1_000n * BigInt(i),
          outboundMsat: 900n * BigInt(i),
          feeMsat: 100n * BigInt(i),
          outcome: 'forwarded',
          latencyMs: 12,
          createdAtMs: i,
        });
      }
      const list = await store.listForwards(2);
      expect(list.map((f) => f.feeMsat)).toEqual([300n, 200n]);
      // a batch is one transaction, in order
      const batch = [4, 5].map((i) => ({
        ...list[0]!,
        id: undefined,
        feeMsat: 100n * BigInt(i),
        createdAtMs: i,
      }));
      await store.insertForwards(batch);
      await store.insertForwards([]);
      expect((await store.listForwards(3)).map((f) => f.feeMsat)).toEqual([500n, 400n, 300n]);
    });

    it('leases: tokens increase, a newer lease fences the older', async () => {
      const l1 = await store.acquireLease(A, 'device-one', 100_000);
      const l2 = await store.acquireLease(A, 'device-two', 100_000);
      expect(l2.fencingToken).toBe(l1.fencingToken + 1);
      const lb = await store.acquireLease(B, 'device-bbb', 100_000);
      expect(lb.fencingToken).toBe(1);
      const blob = new Uint8Array([1, 2, 3]);
      const put = (token: number, expectedVersion: number, nowMs = 50_000, nodeId = A) =>
        store.putBackup({ nodeId, key: 'cm', expectedVersion, blob, fencingToken: token, nowMs, maxKeys: 2 });
      expect(await put(l1.fencingToken, 0)).toEqual({ ok: false, reason: 'LEASE_FENCED', currentToken: 2 });
      expect(await put(l2.fencingToken, 0)).toEqual({ ok: true, version: 1 });
      expect(await put(l2.fencingToken, 0)).toEqual({
        ok: false,
        reason: 'VERSION_CONFLICT',
        currentVersion: 1,
      });
      expect(await put(l2.fencingToken, 1)).toEqual({ ok: true, version: 2 });
      expect(await put(l2.fencingToken, 2, 100_000)).toMatchObject({ reason: 'LEASE_FENCED' }); // expired
      // B's token 1 is not A's
      expect(await put(1, 2, 50_000)).toMatchObject({ reason: 'LEASE_FENCED' });
      const got = await store.getBackup(A, 'cm');
      expect(got?.version).toBe(2);
      expect(got?.blob).toEqual(blob);
      expect(await store.getBackup(B, 'cm')).toBeUndefined();
      expect(await store.listBackups(A)).toEqual([{ key: 'cm', version: 2, size: 3, updatedAtMs: 50_000 }]);
      // quota counts keys per wallet
      expect(
        await store.putBackup({
          nodeId: A,
          key: 'k2',
          expectedVersion: 0,
          blob,
          fencingToken: 2,
          nowMs: 1,
          maxKeys: 2,
        }),
      ).toEqual({ ok: true, version: 1 });
      expect(
        await store.putBackup({
          nodeId: A,
          key: 'k3',
          expectedVersion: 0,
          blob,
          fencingToken: 2,
          nowMs: 1,
          maxKeys: 2,
        }),
      ).toEqual({ ok: false, reason: 'QUOTA_EXCEEDED', quota: 'keys' });
      expect(await store.releaseLease(A, 1, 1)).toBe(false);
      expect(await store.releaseLease(A, 2, 1)).toBe(true);
      expect(await put(2, 2, 2)).toMatchObject({ reason: 'LEASE_FENCED' });
    });

    it('concurrent CAS writes: exactly one wins per version', async () => {
      const l = await store.acquireLease(B, 'device-bbb', 1e12);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.putBackup({
            nodeId: B,
            key: 'race',
            expectedVersion: 0,
            blob: new Uint8Array([i]),
            fencingToken: l.fencingToken,
            nowMs: 1,
            maxKeys: 10,
          }),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok && r.reason === 'VERSION_CONFLICT')).toHaveLength(9);
    });

    it('node KV: atomic multi-key commits, deletes, namespaces apart', async () => {
      const kv = store.nodeStore('lsp-0');
      const other = store.nodeStore('lsp-1');
      await kv.commit([
        { key: 'manager', value: new Uint8Array([1]) },
        { key: 'monitors/a', value: new Uint8Array([2, 2]) },
      ]);
      await other.commit([{ key: 'manager', value: new Uint8Array([9]) }]);
      await kv.commit([
        { key: 'monitors/a', value: null },
        { key: 'monitors/b', value: new Uint8Array(70_000).fill(5) },
      ]);
      const loaded = await kv.load();
      expect([...loaded.keys()].sort()).toEqual(['manager', 'monitors/b']);
      expect(loaded.get('manager')).toEqual(new Uint8Array([1]));
      expect(loaded.get('monitors/b')?.length).toBe(70_000);
      expect((await other.load()).get('manager')).toEqual(new Uint8Array([9]));
      // a commit the database refuses halfway (NULL key) leaves nothing behind
      const before = await kv.load();
      await expect(
        kv.commit([
          { key: 'manager', value: new Uint8Array([7]) },
          { key: null as unknown as string, value: new Uint8Array([8]) },
        ]),
      ).rejects.toThrow();
      expect(await kv.load()).toEqual(before);
      await expect(kv.commit([{ key: 'x', value: 'text' as unknown as Uint8Array }])).rejects.toThrow(
        /bytes/,
      );
    });

    it('orders are stored per wallet', async () => {
      const body = {
        order_id: '4f1b8b1e-0a6c-4c4e-9a53-2d8e1b1b1b1b',
        lsp_balance_sat: '100000',
        client_balance_sat: '0',
        required_channel_confirmations: 0,
        funding_confirms_within_blocks: 6,
        channel_expiry_blocks: 4320,
        token: '',
        created_at: '2029-01-01T00:00:00.000Z',
        announce_channel: false,
        order_state: 'CREATED' as const,
        payment: { bolt11: null, onchain: null },
        channel: null,
      };
      await store.insertOrder({
        orderId: body.order_id,
        nodeId: A,
        state: 'CREATED',
        body,
        createdAtMs: 1,
        updatedAtMs: 1,
      });
      expect((await store.getOrder(body.order_id))?.body).toEqual(body);
      expect(await store.listOrders(B)).toEqual([]);
      const done = { ...body, order_state: 'COMPLETED' as const };
      expect(await store.updateOrder(body.order_id, 'COMPLETED', done, 2)).toBe(true);
      expect((await store.listOrders(A))[0]?.state).toBe('COMPLETED');
    });

    it('keeps the admin action log and the failing backups across a restart', async () => {
      const open = backend.database();
      let db = await open();
      await db.recordAdminAction({
        atMs: 10,
        action: 'routing-fees',
        params: { baseMsat: '1000', proportionalMillionths: '250' },
        outcome: 'done',
        detail: 'Routing fees: 1000 msat + 250 ppm',
      });
      await db.recordAdminAction({
        atMs: 20,
        action: 'close-channel',
        params: { channelId: 'ab'.repeat(32), mode: 'force' },
        outcome: 'failed',
        detail: 'Not closed: no such channel',
      });
      let health = new BackupHealth();
      await health.attach(db);
      await health.failed(A, 'QUOTA_EXCEEDED', 30);
      await health.failed(B, 'INVALID_BACKUP', 40);
      await health.succeeded(B);
      await db.close();

      db = await open();
      const log = await db.listAdminActions(10);
      expect(log.map((e) => [e.action, e.outcome, e.atMs])).toEqual([
        ['close-channel', 'failed', 20],
        ['routing-fees', 'done', 10],
      ]);
      expect(log[1]?.params).toEqual({ baseMsat: '1000', proportionalMillionths: '250' });
      expect(await db.listAdminActions(1)).toHaveLength(1);
      health = new BackupHealth();
      await health.attach(db);
      expect(health.failingWallets()).toEqual([{ nodeId: A, code: 'QUOTA_EXCEEDED', atMs: 30 }]);
      // a stored write ends the failure, in the database too
      await health.succeeded(A);
      expect(await db.listBackupFailures()).toEqual([]);
      await db.close();
    });

    it('Lightning Address names: one per wallet, one wallet per name, changed and released', async () => {
      const claimed = await store.claimAddressName(A, 'alice', 100);
      expect(claimed).toEqual({ ok: true, record: { name: 'alice', nodeId: A, createdAtMs: 100 } });
      // the name is A's: B is refused and nothing changes; A claiming it again keeps it as it was
      expect(await store.claimAddressName(B, 'alice', 200)).toEqual({ ok: false, reason: 'NAME_TAKEN' });
      expect(await store.claimAddressName(A, 'alice', 300)).toEqual(claimed);
      expect(await store.getAddressName('alice')).toEqual({ name: 'alice', nodeId: A, createdAtMs: 100 });
      expect(await store.addressNameOf(B)).toBeUndefined();
      // a change frees the old name for anyone
      expect((await store.claimAddressName(A, 'al', 400)).ok).toBe(true);
      expect(await store.getAddressName('alice')).toBeUndefined();
      expect((await store.addressNameOf(A))?.name).toBe('al');
      expect((await store.claimAddressName(B, 'alice', 500)).ok).toBe(true);
      // concurrent claims of one free name: exactly one wallet gets it
      const results = await Promise.all([A, B].map((w) => store.claimAddressName(w, 'bob', 600)));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(await store.releaseAddressName(A)).toBe(true);
      expect(await store.releaseAddressName(A)).toBe(false);
      expect(await store.addressNameOf(A)).toBeUndefined();
    });

    it('snapshot lists every table', async () => {
      const snap = await store.snapshot();
      expect(Object.keys(snap)).toContain('backups');
      expect(Object.keys(snap)).toContain('lightning_addresses');
      expect(snap.schema_migrations).toHaveLength(6);
    });
  });
}
