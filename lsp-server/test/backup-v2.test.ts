// Backups v2 over the binary routes, on both store backends, over real HTTP: compare-and-swap,
// versions that only grow, the wallet check on the clear header, lease fencing and LEASE_HELD, the
// size limit as a typed refusal; then the package's uploader and chooseNewest against the LSP.
import {
  BackedUpStore,
  BackupError,
  type BackupTransport,
  BackupUploader,
  chooseNewest,
  deriveBackupKeys,
  encodeBackup,
  httpBlobClient,
} from '@lpw/backup';
import { MemoryStore, nodeIdentity } from '@lpw/node';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLspClient } from '../src/client/index.ts';
import { startLightning, startServer, type TestLightning, type TestServer } from './server.ts';
import { backends } from './stores.ts';

const alice = new Uint8Array(32).fill(0xa2);
const bob = new Uint8Array(32).fill(0xb2);
const aliceId = bytesToHex(secp256k1.getPublicKey(alice, true));
const bobId = bytesToHex(secp256k1.getPublicKey(bob, true));
const keys = deriveBackupKeys(new Uint8Array(64).fill(7));
const state = new Map([
  ['ldk/manager', new Uint8Array(300).fill(1)],
  ['ldk/monitor/aa:0', crypto.getRandomValues(new Uint8Array(2_000))],
]);
const blobOf = (version: number, nodeId = aliceId) =>
  encodeBackup({ nodeId, version, createdAtMs: 1, entries: state }, keys);

async function refused(p: Promise<unknown>): Promise<{ code: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof BackupError) return { code: e.code, details: e.details };
    if (e instanceof TRPCClientError) {
      const app = (e.data as { app?: { code: string; details: Record<string, unknown> } }).app;
      return { code: app?.code ?? 'NONE', details: app?.details ?? {} };
    }
    throw e;
  }
  throw new Error('expected a refusal');
}

/** The wallet side of the lease API as the package wants it (tRPC errors → BackupErrors). */
function transport(s: TestServer, token: string): BackupTransport {
  const api = s.client(token).backup;
  const blobs = httpBlobClient({ baseUrl: s.url, token: () => token });
  const typed = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (e) {
      const app =
        e instanceof TRPCClientError
          ? (e.data as { app?: { code: string; details: Record<string, unknown> } }).app
          : undefined;
      if (app?.code === 'LEASE_HELD')
        throw new BackupError('LEASE_HELD', String((e as Error).message), app.details);
      throw new BackupError('BACKUP_UNAVAILABLE', String(e), { lspCode: app?.code });
    }
  };
  return {
    acquireLease: async (r) => {
      const lease = await typed(api.acquireLease.mutate(r));
      return {
        fencingToken: lease.fencingToken,
        deviceId: lease.deviceId,
        expiresAtMs: Date.parse(lease.expiresAt),
      };
    },
    releaseLease: async (fencingToken) => {
      await typed(api.releaseLease.mutate({ fencingToken }));
    },
    currentVersion: async (key) =>
      (await typed(api.list.query())).entries.find((e) => e.key === key)?.version ?? 0,
    put: blobs.put,
    get: blobs.get,
  };
}

let ln: TestLightning;
beforeAll(async () => {
  ln = await startLightning();
});
afterAll(() => ln?.stop());

for (const backend of backends()) {
  describe(`backups v2 on ${backend.name}`, () => {
    let s: TestServer;
    let aliceToken: string;
    let bobToken: string;
    beforeAll(async () => {
      s = await startServer(backend, ln, {
        RATE_AUTH_PER_MIN: '1000',
        SESSION_TTL_SEC: '86400',
        MAX_BACKUP_BLOB_BYTES: '65536',
      });
      aliceToken = await s.login(alice);
      bobToken = await s.login(bob);
    });
    afterAll(() => s?.close());

    it('stores the bytes as the version in their header; CAS and growing versions enforced', async () => {
      const lease = await s
        .client(aliceToken)
        .backup.acquireLease.mutate({ deviceId: 'alice-phone', ttlSec: 600 });
      const http = httpBlobClient({ baseUrl: s.url, token: () => aliceToken });
      const put = (blob: Uint8Array, expectedVersion: number) =>
        http.put('cs', blob, { expectedVersion, leaseToken: lease.fencingToken });
      expect(await http.get('cs')).toBeUndefined();
      const v5 = await blobOf(5);
      expect(await put(v5, 0)).toEqual({ version: 5 }); // a wallet may continue above an old copy
      expect(await http.get('cs')).toEqual({ blob: v5, version: 5 });
      expect(await refused(put(await blobOf(6), 0))).toEqual({
        code: 'VERSION_CONFLICT',
        details: { currentVersion: 5, lspCode: 'VERSION_CONFLICT', status: 409 },
      });
      expect((await refused(put(await blobOf(5), 5))).details).toMatchObject({
        lspCode: 'BACKUP_VERSION_NOT_GROWING',
        status: 409,
      });
      expect((await refused(put(await blobOf(4), 5))).details).toMatchObject({
        lspCode: 'BACKUP_VERSION_NOT_GROWING',
      });
      expect(await put(await blobOf(6), 5)).toEqual({ version: 6 });
      expect((await s.client(aliceToken).backup.list.query()).entries).toEqual([
        expect.objectContaining({ key: 'cs', version: 6 }),
      ]);
    });

    it('refuses what the clear header shows to be wrong, and changes nothing', async () => {
      const lease = await s
        .client(aliceToken)
        .backup.acquireLease.mutate({ deviceId: 'alice-phone', ttlSec: 600 });
      const http = httpBlobClient({ baseUrl: s.url, token: () => aliceToken });
      const put = (blob: Uint8Array) =>
        http.put('cs', blob, { expectedVersion: 6, leaseToken: lease.fencingToken });
      const good = await blobOf(7);
      expect(await refused(put(await blobOf(7, bobId)))).toMatchObject({
        code: 'BACKUP_WRONG_WALLET',
        details: { status: 403 },
      });
      expect(await refused(put(good.subarray(0, good.length - 1)))).toMatchObject({
        code: 'BACKUP_TRUNCATED',
        details: { status: 400 },
      });
      expect(await refused(put(good.subarray(0, 20)))).toMatchObject({ code: 'BACKUP_TRUNCATED' });
      expect(await refused(put(new TextEncoder().encode('{"not":"a backup"}')))).toMatchObject({
        code: 'BACKUP_CORRUPT',
      });
      const v1 = good.slice();
      v1[4] = 0x31;
      expect(await refused(put(v1))).toMatchObject({ code: 'BACKUP_UNKNOWN_FORMAT' });
      expect((await http.get('cs'))?.version).toBe(6);
      // another wallet's session sees none of it
      expect(await httpBlobClient({ baseUrl: s.url, token: () => bobToken }).get('cs')).toBeUndefined();
    });

    it('refuses a body over the limit while reading it, as BACKUP_TOO_LARGE with size and limit', async () => {
      const lease = await s
        .client(aliceToken)
        .backup.acquireLease.mutate({ deviceId: 'alice-phone', ttlSec: 600 });
      const big = new Uint8Array(70_000);
      big.set(await blobOf(7));
      const http = httpBlobClient({ baseUrl: s.url, token: () => aliceToken });
      expect(
        await refused(http.put('cs', big, { expectedVersion: 6, leaseToken: lease.fencingToken })),
      ).toEqual({
        code: 'BACKUP_TOO_LARGE',
        details: { sizeBytes: 70_000, limitBytes: 65_536, lspCode: 'BACKUP_TOO_LARGE', status: 413 },
      });
      // streamed without a length: cut off at the limit all the same
      const res = await fetch(`${s.url}/backup/v2/cs`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${aliceToken}`,
          'x-backup-expected-version': '6',
          'x-backup-lease-token': String(lease.fencingToken),
        },
        body: new Blob([big]).stream(),
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ code: 'BACKUP_TOO_LARGE', details: { limitBytes: 65_536 } });
    });

    it('answers bad requests with typed JSON, never a 500', async () => {
      const noSession = await fetch(`${s.url}/backup/v2/cs`);
      expect(noSession.status).toBe(401);
      expect(await noSession.json()).toMatchObject({ code: 'SESSION_REQUIRED' });
      const badKey = await fetch(`${s.url}/backup/v2/${encodeURIComponent('../x')}`, {
        headers: { authorization: `Bearer ${aliceToken}` },
      });
      expect(badKey.status).toBe(400);
      expect(await badKey.json()).toMatchObject({ code: 'INVALID_INPUT', details: { field: 'key' } });
      const noHeaders = await fetch(`${s.url}/backup/v2/cs`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${aliceToken}` },
        body: (await blobOf(9)) as BodyInit,
      });
      expect(noHeaders.status).toBe(400);
      expect(await noHeaders.json()).toMatchObject({
        code: 'INVALID_INPUT',
        details: { field: 'x-backup-expected-version' },
      });
    });

    it('fences a device whose lease was taken over; no-takeover mode refuses with LEASE_HELD', async () => {
      const a = s.client(aliceToken).backup;
      const http = httpBlobClient({ baseUrl: s.url, token: () => aliceToken });
      const phone = await a.acquireLease.mutate({ deviceId: 'alice-phone', ttlSec: 600 });
      const laptop = await a.acquireLease.mutate({ deviceId: 'alice-laptop', ttlSec: 600 }); // takes over
      expect(
        await refused(
          http.put('cs', await blobOf(7), { expectedVersion: 6, leaseToken: phone.fencingToken }),
        ),
      ).toMatchObject({
        code: 'LEASE_FENCED',
        details: { status: 409 },
      });
      const held = await refused(
        a.acquireLease.mutate({ deviceId: 'alice-cli-01', ttlSec: 600, takeOver: false }),
      );
      expect(held).toEqual({
        code: 'LEASE_HELD',
        details: { deviceId: 'alice-laptop', expiresAt: new Date(s.now.ms + 600_000).toISOString() },
      });
      // the laptop's lease is untouched by the refusal, and it renews without taking over
      expect(
        await http.put('cs', await blobOf(7), { expectedVersion: 6, leaseToken: laptop.fencingToken }),
      ).toEqual({ version: 7 });
      const renewed = await a.acquireLease.mutate({ deviceId: 'alice-laptop', ttlSec: 600, takeOver: false });
      expect(renewed.fencingToken).toBe(laptop.fencingToken + 1);
      // once it expires, another device gets it without taking over
      s.now.ms += 601_000;
      const cli = await a.acquireLease.mutate({ deviceId: 'alice-cli-01', ttlSec: 600, takeOver: false });
      expect(cli).toMatchObject({ deviceId: 'alice-cli-01', fencingToken: renewed.fencingToken + 1 });
    });

    it('uploader + gated store: a commit resolves once the LSP holds it; restore sees a rollback', async () => {
      const bobKeys = deriveBackupKeys(new Uint8Array(64).fill(9));
      const statuses: number[] = [];
      let deviceCopy: Uint8Array | undefined;
      const uploader = new BackupUploader({
        transport: transport(s, bobToken),
        nodeId: bobId,
        keys: bobKeys,
        deviceId: 'bob-phone-1',
        takeOver: true,
        key: 'channel-state',
        onDurable: (blob) => {
          deviceCopy = blob;
        },
        onStatus: (st) => statuses.push(st.version),
      });
      await uploader.start();
      const store = new BackedUpStore(new MemoryStore(), uploader);
      await store.load();
      for (let i = 1; i <= 5; i++) {
        await store.commit([
          { key: 'ldk/manager', value: Uint8Array.of(i) },
          { key: `payment/${i}`, value: Uint8Array.of(i) }, // never leaves the device
        ]);
        // durable at the LSP by the time commit() resolves
        expect(uploader.status).toMatchObject({ behindBy: 0, version: i });
      }
      await store.commit([{ key: 'payment/9', value: Uint8Array.of(9) }]); // no channel state: no upload
      expect(uploader.status.uploads).toBe(5);
      expect(uploader.status.lastGoodAt).toBeGreaterThan(0);

      // the LSP rolls back to version 2 (an old blob written straight into its store)
      const old = await encodeBackup(
        { nodeId: bobId, version: 2, createdAtMs: 1, entries: new Map([['ldk/manager', Uint8Array.of(2)]]) },
        bobKeys,
      );
      const row = await s.store.getBackup(bobId, 'channel-state');
      await s.store.putBackup({
        nodeId: bobId,
        key: 'channel-state',
        expectedVersion: row!.version,
        version: row!.version + 1,
        blob: old,
        fencingToken: (await s.store.getLease(bobId))!.fencingToken,
        nowMs: s.now.ms,
        maxKeys: 8,
      });
      const lspCopy = await uploader.fetch();
      const choice = await chooseNewest(
        [
          { source: 'lsp', blob: lspCopy?.blob },
          { source: 'device', blob: deviceCopy },
        ],
        { nodeId: bobId, keys: bobKeys },
      );
      expect(choice.chosen).toMatchObject({ source: 'device', header: { version: 5 } });
      expect(choice.chosen?.entries.get('ldk/manager')).toEqual(Uint8Array.of(5));
      expect(choice.chosen?.entries.has('payment/1')).toBe(false);
      expect(choice.rollbackReport).toBe(
        'Your LSP served backup version 2, but this device holds version 5. An LSP that serves an old backup may be trying to make your wallet use an old channel state; the wallet used the newest copy.',
      );
      await uploader.close();
    });

    // last: it moves the LSP's clock past every session of this describe
    it("the client's session logs in again when a binary route answers SESSION_EXPIRED", async () => {
      const carol = new Uint8Array(32).fill(0xc2);
      const client = createLspClient({ url: s.url, identity: nodeIdentity(carol) });
      await client.login(nodeIdentity(carol));
      const firstToken = client.token;
      const http = httpBlobClient({ baseUrl: s.url, token: () => client.token ?? '' });
      s.now.ms += s.config.limits.sessionTtlSec * 1000; // the LSP's clock only: the client thinks it fresh
      expect((await refused(http.get('cs'))).details).toMatchObject({ lspCode: 'SESSION_EXPIRED' });
      expect(await client.session(() => http.get('cs'))).toBeUndefined();
      expect(client.token).not.toBe(firstToken);
    });
  });
}
