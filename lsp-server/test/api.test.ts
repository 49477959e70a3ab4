// Every procedure over real HTTP, on both store backends, with a real LDK node behind it.
import { feeParamsToWire, loginMessage, openingFeeParamsInput, parseScid, signNodeMessage } from '@lpw/api';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusal, startLightning, startServer, type TestLightning, type TestServer } from './server.ts';
import { backends } from './stores.ts';

const alice = new Uint8Array(32).fill(0xa1);
const bob = new Uint8Array(32).fill(0xb0);
const aliceId = bytesToHex(secp256k1.getPublicKey(alice, true));
const bobId = bytesToHex(secp256k1.getPublicKey(bob, true));

let ln: TestLightning;
beforeAll(async () => {
  ln = await startLightning();
});
afterAll(() => ln?.stop());

for (const backend of backends()) {
  describe(`lsp api on ${backend.name}`, () => {
    let s: TestServer;
    let aliceToken: string;
    let bobToken: string;
    beforeAll(async () => {
      s = await startServer(backend, ln, {
        RATE_AUTH_PER_MIN: '1000',
        RATE_BUY_PER_MIN: '1000',
        SESSION_TTL_SEC: '86400',
      });
      aliceToken = await s.login(alice);
      bobToken = await s.login(bob);
    });
    afterAll(() => s?.close());

    it('info: node id, network, limits, features', async () => {
      const info = await s.client().info.get.query();
      expect(info).toMatchObject({
        nodeId: ln.node.nodeId,
        network: 'regtest',
        websocketPath: '/peer',
        limits: { minJitPaymentMsat: '10000000', maxJitPaymentMsat: '10000000000' },
      });
      expect(info.features).toContain('lsps2');
    });

    describe('auth', () => {
      it('whoami names the session owner', async () => {
        expect((await s.client(aliceToken).auth.whoami.query()).nodeId).toBe(aliceId);
        expect((await s.client(bobToken).auth.whoami.query()).nodeId).toBe(bobId);
      });
      it('refuses a wrong signature, and it does not burn the challenge', async () => {
        const { challenge } = await s.client().auth.challenge.mutate();
        const forged = signNodeMessage(loginMessage(challenge), bob); // bob signs, claims alice
        expect(
          await refusal(s.client().auth.login.mutate({ nodeId: aliceId, challenge, signature: forged })),
        ).toMatchObject({
          http: 401,
          app: 'INVALID_SIGNATURE',
        });
        const wrongMessage = signNodeMessage(challenge, alice); // not the login message
        expect(
          await refusal(
            s.client().auth.login.mutate({ nodeId: aliceId, challenge, signature: wrongMessage }),
          ),
        ).toMatchObject({
          app: 'INVALID_SIGNATURE',
        });
        const good = signNodeMessage(loginMessage(challenge), alice);
        expect(
          (await s.client().auth.login.mutate({ nodeId: aliceId, challenge, signature: good })).nodeId,
        ).toBe(aliceId);
      });
      it('refuses a reused, an unknown and an expired challenge', async () => {
        const { challenge } = await s.client().auth.challenge.mutate();
        const signature = signNodeMessage(loginMessage(challenge), alice);
        await s.client().auth.login.mutate({ nodeId: aliceId, challenge, signature });
        expect(
          await refusal(s.client().auth.login.mutate({ nodeId: aliceId, challenge, signature })),
        ).toMatchObject({
          app: 'INVALID_CHALLENGE',
        });
        const unknown = 'ab'.repeat(32);
        const sig2 = signNodeMessage(loginMessage(unknown), alice);
        expect(
          await refusal(
            s.client().auth.login.mutate({ nodeId: aliceId, challenge: unknown, signature: sig2 }),
          ),
        ).toMatchObject({
          app: 'INVALID_CHALLENGE',
        });
        const late = await s.client().auth.challenge.mutate();
        s.now.ms += 60_000;
        const sig3 = signNodeMessage(loginMessage(late.challenge), alice);
        expect(
          await refusal(
            s.client().auth.login.mutate({ nodeId: aliceId, challenge: late.challenge, signature: sig3 }),
          ),
        ).toMatchObject({
          app: 'INVALID_CHALLENGE',
        });
      });
      it('refuses missing, unknown and expired sessions; logout ends one', async () => {
        expect(await refusal(s.client().auth.whoami.query())).toMatchObject({
          http: 401,
          app: 'SESSION_REQUIRED',
        });
        expect(await refusal(s.client('bogus-token').auth.whoami.query())).toMatchObject({
          app: 'SESSION_EXPIRED',
        });
        const short = await s.login(alice);
        s.now.ms += s.config.limits.sessionTtlSec * 1000;
        expect(await refusal(s.client(short).backup.list.query())).toMatchObject({ app: 'SESSION_EXPIRED' });
        aliceToken = await s.login(alice);
        bobToken = await s.login(bob);
        const other = await s.login(alice);
        await s.client(other).auth.logout.mutate();
        expect(await refusal(s.client(other).auth.whoami.query())).toMatchObject({ app: 'SESSION_EXPIRED' });
        expect((await s.client(aliceToken).auth.whoami.query()).nodeId).toBe(aliceId);
      });
    });

    describe('backup', () => {
      const blob = Buffer.from('encrypted channel state').toString('base64');
      it('CAS writes under a lease; conflicts report the current version', async () => {
        const a = s.client(aliceToken).backup;
        const lease = await a.acquireLease.mutate({ deviceId: 'alice-phone', ttlSec: 600 });
        expect(
          await a.put.mutate({ key: 'manager', version: 0, blob, leaseToken: lease.fencingToken }),
        ).toEqual({
          key: 'manager',
          version: 1,
        });
        expect(
          await refusal(a.put.mutate({ key: 'manager', version: 0, blob, leaseToken: lease.fencingToken })),
        ).toMatchObject({
          http: 409,
          app: 'VERSION_CONFLICT',
          details: { currentVersion: 1 },
        });
        await a.put.mutate({ key: 'manager', version: 1, blob, leaseToken: lease.fencingToken });
        expect(await a.get.query({ key: 'manager' })).toMatchObject({ key: 'manager', version: 2, blob });
        expect(await a.get.query({ key: 'none' })).toBeNull();
        expect((await a.list.query()).entries).toEqual([
          expect.objectContaining({ key: 'manager', version: 2, size: Buffer.from(blob, 'base64').length }),
        ]);
      });
      it('a newer lease fences the older device; expiry and release fence too', async () => {
        const a = s.client(aliceToken).backup;
        const phone = await a.acquireLease.mutate({ deviceId: 'alice-phone', ttlSec: 600 });
        const laptop = await a.acquireLease.mutate({ deviceId: 'alice-laptop', ttlSec: 600 });
        expect(laptop.fencingToken).toBe(phone.fencingToken + 1);
        expect(
          await refusal(a.put.mutate({ key: 'manager', version: 2, blob, leaseToken: phone.fencingToken })),
        ).toMatchObject({
          http: 409,
          app: 'LEASE_FENCED',
        });
        await a.put.mutate({ key: 'manager', version: 2, blob, leaseToken: laptop.fencingToken });
        s.now.ms += 600_000;
        expect(
          await refusal(a.put.mutate({ key: 'manager', version: 3, blob, leaseToken: laptop.fencingToken })),
        ).toMatchObject({
          app: 'LEASE_FENCED',
        });
        const next = await a.acquireLease.mutate({ deviceId: 'alice-laptop', ttlSec: 60 });
        expect(await a.releaseLease.mutate({ fencingToken: next.fencingToken })).toEqual({ released: true });
        expect(
          await refusal(a.put.mutate({ key: 'manager', version: 3, blob, leaseToken: next.fencingToken })),
        ).toMatchObject({
          app: 'LEASE_FENCED',
        });
      });
      it('two wallets can never read or write each other’s backups', async () => {
        const b = s.client(bobToken).backup;
        expect(await b.get.query({ key: 'manager' })).toBeNull();
        expect((await b.list.query()).entries).toEqual([]);
        // alice's current fencing token is meaningless for bob
        const aliceLease = await s
          .client(aliceToken)
          .backup.acquireLease.mutate({ deviceId: 'alice-phone', ttlSec: 600 });
        expect(
          await refusal(
            b.put.mutate({ key: 'manager', version: 3, blob, leaseToken: aliceLease.fencingToken }),
          ),
        ).toMatchObject({
          app: 'LEASE_FENCED',
        });
        const bobLease = await b.acquireLease.mutate({ deviceId: 'bob-phone-1', ttlSec: 600 });
        await b.put.mutate({ key: 'manager', version: 0, blob: 'Ym9i', leaseToken: bobLease.fencingToken });
        expect((await s.client(aliceToken).backup.get.query({ key: 'manager' }))?.version).toBe(3);
        expect((await b.get.query({ key: 'manager' }))?.blob).toBe('Ym9i');
      });
      it('refuses oversized blobs and too many keys', async () => {
        const small = await startServer(backend, ln, {
          MAX_BACKUP_BLOB_BYTES: '16',
          MAX_BACKUP_KEYS: '1',
          RATE_AUTH_PER_MIN: '100',
        });
        try {
          const t = await small.login(alice);
          const b = small.client(t).backup;
          const lease = await b.acquireLease.mutate({ deviceId: 'alice-phone', ttlSec: 60 });
          const big = Buffer.alloc(17).toString('base64');
          expect(
            await refusal(b.put.mutate({ key: 'k', version: 0, blob: big, leaseToken: lease.fencingToken })),
          ).toMatchObject({
            http: 413,
            app: 'BLOB_TOO_LARGE',
          });
          await b.put.mutate({ key: 'k', version: 0, blob: 'AAAA', leaseToken: lease.fencingToken });
          expect(
            await refusal(
              b.put.mutate({ key: 'k2', version: 0, blob: 'AAAA', leaseToken: lease.fencingToken }),
            ),
          ).toMatchObject({
            app: 'QUOTA_EXCEEDED',
          });
        } finally {
          await small.close();
        }
      });
    });

    describe('jit (LSPS2)', () => {
      it('getInfo offers promised params; buy returns an intercept SCID', async () => {
        const menu = (await s.client().jit.getInfo.query({})).opening_fee_params_menu;
        expect(menu).toHaveLength(1);
        const params = menu[0]!;
        expect(params).toMatchObject({
          min_fee_msat: '2000000',
          proportional: 4000,
          min_payment_size_msat: '10000000',
        });
        expect(Date.parse(params.valid_until)).toBe(s.now.ms - (s.now.ms % 1000) + 3_600_000);
        const bought = await s
          .client(aliceToken)
          .jit.buy.mutate({ opening_fee_params: params, payment_size_msat: '50000000' });
        expect(bought).toMatchObject({ lsp_cltv_expiry_delta: 72, client_trusts_lsp: false });
        expect(bought.jit_channel_scid).toMatch(/^\d+x\d+x\d+$/);
        const record = await s.store.getJitPurchase(parseScid(bought.jit_channel_scid));
        expect(record).toMatchObject({
          nodeId: aliceId,
          state: 'PENDING',
          paymentSizeMsat: 50_000_000n,
          openingFeeMsat: 2_000_000n,
        });
        // var-invoice mode: no payment size
        const second = await s.client(aliceToken).jit.buy.mutate({ opening_fee_params: params });
        expect(second.jit_channel_scid).not.toBe(bought.jit_channel_scid);
        expect((await s.client(aliceToken).jit.list.query()).purchases).toHaveLength(2);
        expect(
          (await s.client(aliceToken).jit.get.query({ jit_channel_scid: bought.jit_channel_scid })).state,
        ).toBe('PENDING');
        expect(s.metrics.jitBuys.get()).toBeGreaterThanOrEqual(2n);
      });
      it('bLIP 52 refusals: 201 forged or expired, 202 too small, 203 too large', async () => {
        const params = (await s.client().jit.getInfo.query({})).opening_fee_params_menu[0]!;
        const buy = (p: typeof params, size?: string) =>
          refusal(
            s
              .client(aliceToken)
              .jit.buy.mutate({ opening_fee_params: p, ...(size ? { payment_size_msat: size } : {}) }),
          );
        expect(await buy({ ...params, min_fee_msat: '1' })).toMatchObject({
          http: 400,
          app: 'INVALID_OPENING_FEE_PARAMS',
          lsps2: 201,
        });
        expect(await buy({ ...params, promise: 'f'.repeat(64) })).toMatchObject({ lsps2: 201 });
        expect(await buy(params, '9999999')).toMatchObject({ app: 'PAYMENT_SIZE_TOO_SMALL', lsps2: 202 });
        expect(await buy(params, '10000000001')).toMatchObject({ app: 'PAYMENT_SIZE_TOO_LARGE', lsps2: 203 });
        const before = await s.store.snapshot();
        s.now.ms += 3_600_000;
        expect(await buy(params, '50000000')).toMatchObject({ lsps2: 201 });
        expect(await s.store.snapshot()).toEqual(before);
        // params re-parsed from the wire still carry a valid promise for the new menu
        const fresh = (await s.client().jit.getInfo.query({})).opening_fee_params_menu[0]!;
        expect(feeParamsToWire(openingFeeParamsInput.parse(fresh))).toEqual(fresh);
      });
      it('buy needs a session; wallets never see each other’s purchases', async () => {
        const params = (await s.client().jit.getInfo.query({})).opening_fee_params_menu[0]!;
        expect(await refusal(s.client().jit.buy.mutate({ opening_fee_params: params }))).toMatchObject({
          http: 401,
        });
        const mine = (await s.client(aliceToken).jit.list.query()).purchases[0]!;
        expect((await s.client(bobToken).jit.list.query()).purchases).toEqual([]);
        expect(
          await refusal(s.client(bobToken).jit.get.query({ jit_channel_scid: mine.jit_channel_scid })),
        ).toMatchObject({
          http: 404,
          app: 'NOT_FOUND',
        });
      });
      it('tokens: when configured, an unknown token is 200', async () => {
        const gated = await startServer(backend, ln, { CONFIG_FILE: '' });
        gated.config.jitTokens.push('vip');
        try {
          expect(await refusal(gated.client().jit.getInfo.query({ token: 'nope' }))).toMatchObject({
            app: 'UNRECOGNIZED_OR_STALE_TOKEN',
            lsps2: 200,
          });
          expect(await refusal(gated.client().jit.getInfo.query({}))).toMatchObject({ lsps2: 200 });
          expect(
            (await gated.client().jit.getInfo.query({ token: 'vip' })).opening_fee_params_menu,
          ).toHaveLength(1);
        } finally {
          await gated.close();
        }
      });
    });

    describe('orders (LSPS1)', () => {
      const order = {
        lsp_balance_sat: '1000000',
        client_balance_sat: '0',
        required_channel_confirmations: 0,
        funding_confirms_within_blocks: 6,
        channel_expiry_blocks: 4320,
        announce_channel: false,
      };
      it('getInfo, create (a real invoice from the node), get, list', async () => {
        const info = await s.client().orders.getInfo.query();
        expect(info.options.min_initial_lsp_balance_sat).toBe('100000');
        const created = await s.client(aliceToken).orders.create.mutate(order);
        expect(created).toMatchObject({ order_state: 'CREATED', lsp_balance_sat: '1000000' });
        // 1000 base + ceil(1,000,000 × 5000 / 1e6) = 6000 sat
        expect(created.payment.bolt11).toMatchObject({
          fee_total_sat: '6000',
          order_total_sat: '6000',
          state: 'EXPECT_PAYMENT',
        });
        expect(created.payment.bolt11?.invoice).toMatch(/^lnbcrt60u1/);
        expect(await s.client(aliceToken).orders.get.query({ order_id: created.order_id })).toEqual(created);
        expect((await s.client(aliceToken).orders.list.query()).orders.map((o) => o.order_id)).toContain(
          created.order_id,
        );
        expect(
          await refusal(s.client(bobToken).orders.get.query({ order_id: created.order_id })),
        ).toMatchObject({ app: 'NOT_FOUND' });
        expect((await s.client(bobToken).orders.list.query()).orders).toEqual([]);
      });
      it('refuses sizes outside the options, naming the field', async () => {
        expect(
          await refusal(s.client(aliceToken).orders.create.mutate({ ...order, lsp_balance_sat: '99999' })),
        ).toMatchObject({
          http: 400,
          app: 'INVALID_INPUT',
          details: { field: 'lsp_balance_sat' },
        });
        expect(
          await refusal(s.client(aliceToken).orders.create.mutate({ ...order, client_balance_sat: '1' })),
        ).toMatchObject({
          details: { field: 'client_balance_sat' },
        });
      });
    });

    it('routes.find: no route to a node outside our graph is NOT_FOUND, typed', async () => {
      expect(
        await refusal(
          s
            .client(aliceToken)
            .routes.find.query({ payee_node_id: bobId, amount_msat: '1000', final_cltv_expiry_delta: 18 }),
        ),
      ).toMatchObject({ http: 404, app: 'NOT_FOUND' });
    });

    it('/health and /metrics', async () => {
      expect(await (await fetch(`${s.url}/health`)).json()).toEqual({ ok: true, nodeId: ln.node.nodeId });
      const res = await fetch(`${s.url}/metrics`);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      for (const name of [
        'lsp_channels 0',
        'lsp_channel_capacity_msat 0',
        'lsp_inbound_liquidity_msat',
        'lsp_outbound_liquidity_msat',
        'lsp_jit_channels_opened_total 0',
        'lsp_fees_earned_msat_total 0',
        'lsp_payments_forwarded_total 0',
        'lsp_payments_failed_total 0',
        'lsp_forward_latency_seconds_bucket{le="+Inf"} 0',
        'lsp_wallets 2',
        'lsp_wasm_memory_limit_bytes 1073741824',
        'lsp_channel_monitor_bytes_max 0',
      ]) {
        expect(text).toContain(name);
      }
      // the WASM heap the LSP's node lives in: at least its initial 16 MiB
      expect(Number(/lsp_wasm_memory_bytes (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(16 * 1_048_576);
      expect(text).toMatch(/lsp_jit_buys_total [1-9]/);
    });

    it('admin: password required, page lists wallets, CSP without inline script, open-channel form validated', async () => {
      expect((await fetch(`${s.url}/admin`)).status).toBe(401);
      const bad = `Basic ${Buffer.from('admin:wrong password!!').toString('base64')}`;
      expect((await fetch(`${s.url}/admin`, { headers: { authorization: bad } })).status).toBe(401);
      const auth = `Basic ${Buffer.from('admin:correct horse battery').toString('base64')}`;
      const res = await fetch(`${s.url}/admin`, { headers: { authorization: auth } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      const html = await res.text();
      expect(html).toContain(aliceId);
      expect(html).toContain(ln.node.nodeId);
      // scripts only from files of our own, and the chart data as an inert JSON block
      expect(html).not.toMatch(/<script(?! src="\/admin\/[a-z]+\.js"| type="application\/json")|style="/);
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
      const form = new URLSearchParams({
        csrf,
        peerId: bobId,
        address: 'not an address',
        capacitySat: '100000',
      });
      const post = await fetch(`${s.url}/admin/channels`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', origin: s.url },
        body: form,
        redirect: 'manual',
      });
      expect(post.status).toBe(303);
      expect(decodeURIComponent(post.headers.get('location') ?? '')).toContain('address must be host:port');
      const crossSite = await fetch(`${s.url}/admin/channels`, {
        method: 'POST',
        headers: {
          authorization: auth,
          'content-type': 'application/x-www-form-urlencoded',
          origin: 'https://evil.example',
        },
        body: form,
        redirect: 'manual',
      });
      expect(crossSite.status).toBe(403);
      const noToken = await fetch(`${s.url}/admin/channels`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', origin: s.url },
        body: new URLSearchParams({
          peerId: bobId,
          address: '127.0.0.1:1',
          capacitySat: '100000',
          confirm: 'yes',
        }),
        redirect: 'manual',
      });
      expect(noToken.status).toBe(403);
      // a peer that is not there: the node's typed error comes back as a message, not a 500
      const unreachable = new URLSearchParams({
        csrf,
        peerId: bobId,
        address: '127.0.0.1:1',
        capacitySat: '100000',
        confirm: 'yes',
      });
      const tried = await fetch(`${s.url}/admin/channels`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', origin: s.url },
        body: unreachable,
        redirect: 'manual',
      });
      expect(tried.status).toBe(303);
      expect(decodeURIComponent(tried.headers.get('location') ?? '')).toContain('Not opened');
    });
  });
}

describe('rate limits and body limit', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(backends()[0]!, ln, {
      RATE_AUTH_PER_MIN: '3',
      RATE_BUY_PER_MIN: '2',
      BODY_LIMIT_BYTES: '2048',
    });
  });
  afterAll(() => s?.close());

  it('auth per IP: the 4th challenge in a minute is TOO_MANY_REQUESTS, then it refills', async () => {
    for (let i = 0; i < 3; i++) await s.client().auth.challenge.mutate();
    expect(await refusal(s.client().auth.challenge.mutate())).toMatchObject({
      http: 429,
      app: 'RATE_LIMITED',
    });
    s.now.ms += 20_000;
    await s.client().auth.challenge.mutate();
  });
  it('jit.buy per wallet', async () => {
    s.now.ms += 60_000;
    const token = await s.login(alice);
    const params = (await s.client().jit.getInfo.query({})).opening_fee_params_menu[0]!;
    await s.client(token).jit.buy.mutate({ opening_fee_params: params });
    await s.client(token).jit.buy.mutate({ opening_fee_params: params });
    expect(await refusal(s.client(token).jit.buy.mutate({ opening_fee_params: params }))).toMatchObject({
      http: 429,
    });
  });
  it('bodies over the limit are 413 before parsing', async () => {
    const res = await fetch(`${s.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ x: 'y'.repeat(4096) }),
    });
    expect(res.status).toBe(413);
  });
});
