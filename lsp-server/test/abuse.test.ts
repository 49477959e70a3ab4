// The LSP under abuse (issue 12): every limit proven over real HTTP against a running LSP, on both
// store backends. Over a limit the answer is typed, carries a retry time, and is never a 500.
import { createServer, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { loginMessage, signNodeMessage } from '@lpw/api';
import { waitUntil } from '@lpw/devnet';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createLsp } from '../src/lsp.ts';
import { startLightning, startServer, type TestLightning, type TestServer } from './server.ts';
import { backends } from './stores.ts';
import { tempDir } from './temp-dir.ts';

interface Refusal {
  status: number;
  retryAfter: string | null;
  app?: string;
  details?: Record<string, unknown>;
}

/** One tRPC call (or batch) as raw HTTP, to see the status and headers a client library hides. */
async function call(
  s: TestServer,
  path: string,
  options: { token?: string; input?: unknown; method?: 'GET' | 'POST'; batch?: boolean } = {},
): Promise<Refusal & { body: unknown }> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const query = new URLSearchParams();
  if (options.batch) query.set('batch', '1');
  if (method === 'GET' && options.input !== undefined) query.set('input', JSON.stringify(options.input));
  const res = await fetch(`${s.url}/trpc/${path}?${query}`, {
    method,
    headers,
    ...(method === 'POST' ? { body: JSON.stringify(options.input ?? {}) } : {}),
  });
  const body = (await res.json()) as unknown;
  const error = (
    Array.isArray(body) ? body.find((b) => b.error)?.error : (body as { error?: unknown }).error
  ) as { data?: { app?: { code: string; details: Record<string, unknown> } } } | undefined;
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    app: error?.data?.app?.code,
    details: error?.data?.app?.details,
    body,
  };
}

/** A GET as a client behind the proxy sends it, timed: what a door refusal looks like on the wire. */
async function hit(s: { url: string }, path: string, headers: Record<string, string>) {
  const started = performance.now();
  const res = await fetch(`${s.url}/trpc/${path}`, { headers });
  const body = (await res.json()) as { error?: { data?: { app?: { code: string } } } };
  return {
    status: res.status,
    app: body.error?.data?.app?.code,
    retryAfter: res.headers.get('retry-after'),
    connection: res.headers.get('connection'),
    allowOrigin: res.headers.get('access-control-allow-origin'),
    ms: performance.now() - started,
  };
}

/** Holds the thread for `ms`, as a costly request does. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

const batchOf = (n: number, procedure: string) => Array(n).fill(procedure).join(',');
/** The error code of each call in a batch's answer (undefined: the call succeeded). */
const codesIn = (body: unknown) =>
  (body as { error?: { data: { app: { code: string } } } }[]).map((r) => r.error?.data.app.code);
const freshKey = () => secp256k1.utils.randomSecretKey();
/** A payee on the curve but outside the LSP's graph: each query runs pathfinding and finds nothing. */
const nowhere = Buffer.from(secp256k1.getPublicKey(new Uint8Array(32).fill(0x5e), true)).toString('hex');
/** A route query's input for a payee on no channel (the answer is NOT_FOUND, or a refusal). */
const routeToNowhere = { payee_node_id: nowhere, amount_msat: '1000', final_cltv_expiry_delta: 18 };
const order = {
  lsp_balance_sat: '1000000',
  client_balance_sat: '0',
  required_channel_confirmations: 0,
  funding_confirms_within_blocks: 6,
  channel_expiry_blocks: 4320,
  announce_channel: false,
};

let ln: TestLightning;
beforeAll(async () => {
  ln = await startLightning();
});
afterAll(() => ln?.stop());

for (const backend of backends()) {
  describe(`limits that hold, on ${backend.name}`, () => {
    const servers: TestServer[] = [];
    const start = async (env: Record<string, string>) => {
      const s = await startServer(backend, ln, env);
      servers.push(s);
      return s;
    };
    afterAll(() => Promise.all(servers.map((s) => s.close())));

    it('a batch above MAX_BATCH_CALLS runs none of its calls; every call in a batch is counted', async () => {
      // the clock stands still here, so every refusal after the first is early: answered at once
      const s = await start({ MAX_BATCH_CALLS: '10', RATE_REQUESTS_PER_MIN: '25', TARPIT_MAX_SEC: '0' });
      const tooBig = await call(s, batchOf(11, 'info.get'), { batch: true });
      expect(tooBig).toMatchObject({ status: 413, app: 'BATCH_TOO_LARGE', details: { limit: 10 } });
      // 25 calls a minute: two batches of 10 pass, the third batch would make 30
      expect((await call(s, batchOf(10, 'info.get'), { batch: true })).status).toBe(200);
      expect((await call(s, batchOf(10, 'info.get'), { batch: true })).status).toBe(200);
      const over = await call(s, batchOf(10, 'info.get'), { batch: true });
      expect(over).toMatchObject({ status: 429, app: 'RATE_LIMITED' });
      expect(Number(over.retryAfter)).toBeGreaterThan(0);
      expect(over.details?.retryAfterSec).toBe(Number(over.retryAfter));
      // the five tokens left still serve five single calls
      for (let i = 0; i < 5; i++) expect((await call(s, 'info.get')).status).toBe(200);
      expect((await call(s, 'info.get')).status).toBe(429);
      s.now.ms += 60_000;
      expect((await call(s, 'info.get')).status).toBe(200);
    });

    it("per IP: at most RATE_REQUESTS_BURST at once, then the minute's rate", async () => {
      const s = await start({ RATE_REQUESTS_PER_MIN: '600', RATE_REQUESTS_BURST: '5', TARPIT_MAX_SEC: '0' });
      for (let i = 0; i < 5; i++) expect((await call(s, 'info.get')).status).toBe(200);
      expect(await call(s, 'info.get')).toMatchObject({ status: 429, app: 'RATE_LIMITED', retryAfter: '1' });
      // ten a second come back, not the minute's 600
      s.now.ms += 200;
      for (let i = 0; i < 2; i++) expect((await call(s, 'info.get')).status).toBe(200);
      expect((await call(s, 'info.get')).status).toBe(429);
    });

    it('refused at the door, before any body is read: too many open, a body of unknown size, too large a body', async () => {
      const s = await start({ MAX_IN_FLIGHT_PER_IP: '2', BODY_LIMIT_BYTES: '2048', TARPIT_MAX_SEC: '0' });
      const { port } = new URL(s.url);
      // two logins whose bodies never finish arriving: both held open by the LSP, waiting
      const open = [0, 1].map(() => {
        const req = request({
          host: '127.0.0.1',
          port,
          path: '/trpc/auth.login',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': '100' },
        });
        req.on('error', () => {}); // destroyed below
        req.write('{"nodeId":');
        return req;
      });
      await waitUntil(
        'both requests open at the LSP',
        async () => (await call(s, 'info.get')).status === 429,
        10_000,
      );
      const third = await call(s, 'info.get');
      expect(third).toMatchObject({ status: 429, app: 'RATE_LIMITED', retryAfter: '1' });
      for (const req of open) req.destroy();
      await waitUntil(
        'the open requests closed',
        async () => (await call(s, 'info.get')).status === 200,
        10_000,
      );
      // chunked: refused at once, whatever its size would have been
      const chunked = await fetch(`${s.url}/trpc/auth.challenge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new ReadableStream({
          start: (controller) => controller.enqueue(new TextEncoder().encode('{}')), // never closed
        }),
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(411);
      expect(await chunked.json()).toMatchObject({ error: { data: { app: { code: 'LENGTH_REQUIRED' } } } });
      const tooLarge = await fetch(`${s.url}/trpc/auth.login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pad: 'x'.repeat(4096) }),
      });
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.headers.get('connection')).toBe('close');
    });

    it('per wallet: orders and route queries, with Retry-After; a batch cannot escape them', async () => {
      const s = await start({ RATE_ORDERS_PER_MIN: '2', RATE_ROUTES_PER_MIN: '3', RATE_AUTH_PER_MIN: '100' });
      const token = await s.login(freshKey());
      for (let i = 0; i < 2; i++) {
        expect((await call(s, 'orders.create', { token, method: 'POST', input: order })).status).toBe(200);
      }
      const third = await call(s, 'orders.create', { token, method: 'POST', input: order });
      expect(third).toMatchObject({ status: 429, app: 'RATE_LIMITED' });
      expect(Number(third.retryAfter)).toBe(third.details?.retryAfterSec);
      const input = Object.fromEntries([0, 1, 2, 3, 4].map((i) => [i, routeToNowhere]));
      const batch = await call(s, batchOf(5, 'routes.find'), { token, batch: true, input });
      const codes = codesIn(batch.body);
      // three pathfinding runs (no route: NOT_FOUND), the other two refused without running
      expect(codes.filter((c) => c === 'NOT_FOUND')).toHaveLength(3);
      expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(2);
      expect(batch.retryAfter).not.toBeNull();
      // another wallet has its own allowance
      const other = await s.login(freshKey());
      expect((await call(s, 'routes.find', { token: other, input: routeToNowhere })).app).toBe('NOT_FOUND');
    });

    it("route queries burst at most RATE_ROUTES_BURST, then come at the minute's rate", async () => {
      const s = await start({ RATE_ROUTES_PER_MIN: '120', RATE_ROUTES_BURST: '3', RATE_AUTH_PER_MIN: '100' });
      const token = await s.login(freshKey());
      const codesOf = async (n: number) => {
        const input = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, routeToNowhere]));
        const batch = await call(s, batchOf(n, 'routes.find'), { token, batch: true, input });
        return {
          retryAfter: batch.retryAfter,
          codes: codesIn(batch.body),
        };
      };
      // a fresh session: three pathfinding runs (no route: NOT_FOUND), not 120; which of the batch's
      // calls take the three is the order their session lookups finish in (a database round trip each)
      const first = await codesOf(5);
      expect(first.codes.sort()).toEqual([
        'NOT_FOUND',
        'NOT_FOUND',
        'NOT_FOUND',
        'RATE_LIMITED',
        'RATE_LIMITED',
      ]);
      expect(first.retryAfter).toBe('1');
      // two a second come back (120 a minute)
      s.now.ms += 1_000;
      const second = await codesOf(3);
      expect(second.codes.sort()).toEqual(['NOT_FOUND', 'NOT_FOUND', 'RATE_LIMITED']);
    });

    it('a batch refused in part, asked again within its wait, is refused whole at the door', async () => {
      const s = await start({
        RATE_ROUTES_PER_MIN: '120',
        RATE_ROUTES_BURST: '2',
        RATE_AUTH_PER_MIN: '100',
        TARPIT_MAX_SEC: '0',
      });
      const token = await s.login(freshKey());
      const input = Object.fromEntries([0, 1, 2, 3].map((i) => [i, routeToNowhere]));
      const ask = () => call(s, batchOf(4, 'routes.find'), { token, batch: true, input });
      const first = await ask();
      expect(Array.isArray(first.body)).toBe(true); // two ran, two refused
      expect(first.retryAfter).toBe('1');
      // the same batch again at once: the door's own refusal, none of its calls run
      const again = await ask();
      expect(again).toMatchObject({ status: 429, app: 'RATE_LIMITED', retryAfter: '1' });
      expect(Array.isArray(again.body)).toBe(false);
      expect(s.metrics.rateLimited.get({ scope: 'repeat' })).toBe(1n);
      // after its wait it runs again: two pathfinding runs refilled, two refused
      s.now.ms += 1_000;
      const later = await ask();
      expect(codesIn(later.body).sort()).toEqual(['NOT_FOUND', 'NOT_FOUND', 'RATE_LIMITED', 'RATE_LIMITED']);
    });

    it('routes.find to a node id off the curve is INVALID_INPUT, and the LSP lives on', async () => {
      const s = await start({});
      const token = await s.login(freshKey());
      const offCurve = `02${'11'.repeat(32)}`; // LDK would panic on it, killing the WASM instance
      const bad = { ...routeToNowhere, payee_node_id: offCurve };
      expect(await call(s, 'routes.find', { token, input: bad })).toMatchObject({
        status: 400,
        app: 'INVALID_INPUT',
        details: { field: 'payee_node_id' },
      });
      const good = routeToNowhere;
      expect((await call(s, 'routes.find', { token, input: good })).app).toBe('NOT_FOUND');
      // the node remembers the keys it found on the curve (nodeIdBytes), never one that was not
      expect((await call(s, 'routes.find', { token, input: good })).app).toBe('NOT_FOUND');
      expect((await call(s, 'routes.find', { token, input: bad })).app).toBe('INVALID_INPUT');
    });

    it('a client that ignores 429 gets its refusals late, then is banned; others are answered at once', async () => {
      const wallet = 'https://wallet.example';
      const s = await start({
        RATE_REQUESTS_PER_MIN: '3',
        TARPIT_MAX_SEC: '1',
        BAN_AFTER_EARLY_RETRIES: '4',
        BAN_SEC: '60',
        TRUSTED_PROXIES: '127.0.0.1',
        WALLET_ORIGINS: wallet,
      });
      const from = (ip: string) => ({ 'x-forwarded-for': ip, origin: wallet });
      for (let i = 0; i < 3; i++) expect((await hit(s, 'info.get', from('10.0.0.1'))).status).toBe(200);
      // the first refusal is answered at once, typed, with its wait, readable by the wallet's origin
      const first = await hit(s, 'info.get', from('10.0.0.1'));
      expect(first).toMatchObject({
        status: 429,
        app: 'RATE_LIMITED',
        retryAfter: '20',
        allowOrigin: wallet,
      });
      expect(first.ms).toBeLessThan(900);
      // back before those 20 s (the clock stands still): each refusal now comes a second late, so
      // two lanes that never back off make about two requests a second between them, not thousands
      const lanes = await Promise.all(
        [0, 1].map(async () => {
          const seen: Awaited<ReturnType<typeof hit>>[] = [];
          const until = performance.now() + 2_500;
          while (performance.now() < until) seen.push(await hit(s, 'info.get', from('10.0.0.1')));
          return seen;
        }),
      );
      const early = lanes.flat();
      expect(early.length).toBeLessThanOrEqual(8);
      for (const r of early) {
        expect(r).toMatchObject({ status: 429, app: 'RATE_LIMITED', connection: 'close' });
        expect(r.ms).toBeGreaterThanOrEqual(900);
      }
      expect(s.metrics.tarpit.get({ outcome: 'held' })).toBe(BigInt(early.length));
      // past four early returns the address is banned: refused for BAN_SEC even once its bucket refills
      s.now.ms += 30_000;
      const banned = await hit(s, 'info.get', from('10.0.0.1'));
      expect(banned).toMatchObject({ status: 429, app: 'RATE_LIMITED' });
      expect(Number(banned.retryAfter)).toBeGreaterThan(20);
      expect(s.metrics.rateLimited.get({ scope: 'banned' })).toBeGreaterThan(0n);
      // another address is served at once all along, and the banned one after its ban
      const other = await hit(s, 'info.get', from('10.0.0.2'));
      expect(other).toMatchObject({ status: 200 });
      expect(other.ms).toBeLessThan(900);
      s.now.ms += 31_000;
      expect((await hit(s, 'info.get', from('10.0.0.1'))).status).toBe(200);
      expect(s.metrics.httpRequests.get({ status: '5xx' })).toBe(0n);
    });

    it('a query refused inside is answered at the door until its wait is over; a mutation is not', async () => {
      const s = await start({ RATE_ROUTES_PER_MIN: '1', RATE_ORDERS_PER_MIN: '1', TARPIT_MAX_SEC: '0' });
      const token = await s.login(freshKey());
      expect((await call(s, 'routes.find', { token, input: routeToNowhere })).app).toBe('NOT_FOUND');
      const inside = await call(s, 'routes.find', { token, input: routeToNowhere });
      expect(inside).toMatchObject({ status: 429, app: 'RATE_LIMITED', retryAfter: '60' });
      expect(s.metrics.rateLimited.get({ scope: 'repeat' })).toBe(0n);
      // the same query again: the door answers it, with the wait left, before tRPC runs
      const atDoor = await call(s, 'routes.find', { token, input: routeToNowhere });
      expect(atDoor).toMatchObject({ status: 429, app: 'RATE_LIMITED', retryAfter: '60' });
      expect(s.metrics.rateLimited.get({ scope: 'repeat' })).toBe(1n);
      // another wallet asking the same is not refused for the first one's quota
      const other = await s.login(freshKey());
      expect((await call(s, 'routes.find', { token: other, input: routeToNowhere })).app).toBe('NOT_FOUND');
      // a mutation's body may decide whether it fits (a known wallet's login, a smaller backup):
      // each one reaches the procedure, which refuses it itself
      for (const expected of [200, 429, 429]) {
        expect((await call(s, 'orders.create', { token, method: 'POST', input: order })).status).toBe(
          expected,
        );
      }
      expect(s.metrics.rateLimited.get({ scope: 'repeat' })).toBe(1n);
      s.now.ms += 60_000;
      expect((await call(s, 'routes.find', { token, input: routeToNowhere })).app).toBe('NOT_FOUND');
    });

    it('expensive procedures queue behind a small gate; a full queue is TOO_MANY_REQUESTS, never a 500', async () => {
      const s = await start({
        EXPENSIVE_CONCURRENCY: '1',
        EXPENSIVE_QUEUE: '2',
        RATE_ROUTES_PER_MIN: '1000',
        MAX_BATCH_CALLS: '10',
      });
      const token = await s.login(freshKey());
      const input = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [i, routeToNowhere]));
      const [batch, info] = await Promise.all([
        call(s, batchOf(10, 'routes.find'), { token, batch: true, input }),
        call(s, 'info.get'),
      ]);
      expect(info.status).toBe(200);
      const codes = (batch.body as { error?: { data: { app: { code: string }; httpStatus: number } } }[]).map(
        (r) => r.error?.data.app.code,
      );
      // every call either ran (no route: NOT_FOUND) or was told to come back; how many ran depends
      // on how the calls' session lookups interleave (gate.test.ts proves the bound itself)
      expect(codes.every((c) => c === 'NOT_FOUND' || c === 'RATE_LIMITED')).toBe(true);
      if (codes.includes('RATE_LIMITED')) expect(batch.retryAfter).toBe('1');
      expect(batch.status).toBeLessThan(500);
      expect(s.metrics.httpRequests.get({ status: '5xx' })).toBe(0n);
    });

    it('a full gate refuses the address holding the most places, not a wallet that comes along', async () => {
      const s = await start({
        TRUSTED_PROXIES: '127.0.0.1',
        EXPENSIVE_CONCURRENCY: '1',
        EXPENSIVE_QUEUE: '3',
        EXPENSIVE_QUEUE_PER_IP: '3',
        RATE_ROUTES_PER_MIN: '1000',
        RATE_ROUTES_BURST: '1000',
      });
      const find = async (ip: string, token: string) => {
        const res = await fetch(
          `${s.url}/trpc/routes.find?input=${encodeURIComponent(JSON.stringify(routeToNowhere))}`,
          {
            headers: { 'x-forwarded-for': ip, authorization: `Bearer ${token}` },
          },
        );
        const body = (await res.json()) as { error?: { data?: { app?: { code: string } } } };
        return {
          status: res.status,
          app: body.error?.data?.app?.code,
          retryAfter: res.headers.get('retry-after'),
        };
      };
      const flood = await s.login(freshKey());
      const wallet = await s.login(freshKey());
      // a slow pathfinding holds the one slot; the flood's three queries fill the queue behind it
      let release!: () => void;
      const running = s.expensive.run(() => new Promise<void>((resolve) => (release = resolve)), '10.0.0.9');
      const floods = [1, 2, 3].map(() => find('10.0.0.1', flood));
      await waitUntil('the queue full of the flood', () => s.expensive.load.waiting === 3, 10_000);
      // a wallet from another address takes the flood's newest place, which is told to come back
      const mine = find('10.0.0.2', wallet);
      const refused = await Promise.race(floods);
      expect(refused).toMatchObject({ status: 429, app: 'RATE_LIMITED', retryAfter: '1' });
      expect(s.expensive.load.waiting).toBe(3);
      release();
      await running;
      // the wallet's query ran (no route: NOT_FOUND), and so did the flood's other two
      expect(await mine).toMatchObject({ status: 404, app: 'NOT_FOUND' });
      const answers = await Promise.all(floods);
      expect(answers.filter((a) => a.app === 'NOT_FOUND')).toHaveLength(2);
      expect(s.metrics.httpRequests.get({ status: '5xx' })).toBe(0n);
    });

    it("while the loop lags, requests take turns by address: a wallet's, mid-session, starts ahead of a flood's", async () => {
      const s = await start({
        TRUSTED_PROXIES: '127.0.0.1',
        FAIR_LAG_MS: '5',
        FAIR_HELD_PER_IP: '4',
        MAX_IN_FLIGHT_PER_IP: '8',
        RATE_REQUESTS_PER_MIN: '1000000',
        TARPIT_MAX_SEC: '0',
        BAN_AFTER_EARLY_RETRIES: '1000000',
      });
      const FLOOD = '10.0.0.1';
      // the same app and door, served behind a listener that writes down, in order, each request
      // reaching the door and each one the door lets into the app, with what the flood had waiting
      const seen: { ip: string; at: 'door' | 'app'; floodWaiting: number }[] = [];
      const note = (req: IncomingMessage, at: 'door' | 'app') => {
        const ip = String(req.headers['x-forwarded-for']);
        seen.push({ ip, at, floodWaiting: s.door.fair.held(FLOOD) });
        return ip;
      };
      const app = getRequestListener(s.app.fetch);
      const guarded = s.door.guard((req, res) => {
        // each flood request costs the LSP's thread 15 ms: the flood keeps the loop lagging
        if (note(req, 'app') === FLOOD) spin(15);
        app(req, res);
      });
      const server = createServer((req, res) => {
        note(req, 'door');
        guarded(req, res);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const lsp = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
      try {
        // eight requests always open from one address, whatever the answers
        let flooding = true;
        const floodStatuses: number[] = [];
        const lanes = Array.from({ length: 8 }, async () => {
          while (flooding)
            floodStatuses.push((await hit(lsp, 'info.get', { 'x-forwarded-for': FLOOD })).status);
        });
        await waitUntil(
          'the flood waiting for its turns',
          () => s.metrics.fairHeld.get({ outcome: 'served' }) >= 20n,
          60_000,
        );
        const occasional = ['10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.4', '10.0.1.5'];
        const checked: number[] = [];
        for (const ip of occasional) {
          // a wallet mid-session: a few calls made, so counted a few tens of ms late, not seconds
          for (let i = 0; i < 3; i++)
            expect((await hit(lsp, 'info.get', { 'x-forwarded-for': ip })).status).toBe(200);
          checked.push(seen.length);
          expect((await hit(lsp, 'info.get', { 'x-forwarded-for': ip })).status).toBe(200);
        }
        flooding = false;
        await Promise.all(lanes);

        for (const [k, ip] of occasional.entries()) {
          const atDoor = seen.findIndex((e, i) => i >= checked[k]! && e.ip === ip && e.at === 'door');
          const inApp = seen.findIndex((e, i) => i >= checked[k]! && e.ip === ip && e.at === 'app');
          // it came in behind flood requests already waiting, and none of the flood's started before it
          expect(seen[atDoor]!.floodWaiting, ip).toBeGreaterThan(0);
          const floodStarted = seen.slice(atDoor, inApp).filter((e) => e.ip === FLOOD && e.at === 'app');
          expect(floodStarted, ip).toHaveLength(0);
        }
        // the flood never had more than FAIR_HELD_PER_IP waiting; the rest were told to retry, typed
        expect(Math.max(...seen.map((e) => e.floodWaiting))).toBe(4);
        expect(s.metrics.rateLimited.get({ scope: 'held' })).toBeGreaterThan(0n);
        expect(floodStatuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
        expect(s.metrics.httpRequests.get({ status: '5xx' })).toBe(0n);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('SERVER_TIMING: answers say how long they waited for their turn, ran, and what CPU the LSP spent meanwhile', async () => {
      const timing = async (s: TestServer) =>
        (await fetch(`${s.url}/trpc/info.get`)).headers.get('server-timing');
      // off by default: it would tell any client how busy the LSP is
      expect(await timing(await start({}))).toBeNull();
      const header = await timing(await start({ SERVER_TIMING: 'true' }));
      expect(header).toMatch(/^queue;dur=\d+\.\d\d, app;dur=\d+\.\d\d, cpu;dur=\d+\.\d\d$/);
    });

    it("while the loop keeps up, a wallet's requests start at once and a heavy address's take turns", async () => {
      const s = await start({ FAIR_LAG_MS: '1000' });
      for (let i = 0; i < 8; i++) expect((await call(s, 'info.get')).status).toBe(200);
      expect(s.metrics.fairHeld.get({ outcome: 'served' })).toBe(0n);
      // past 8 calls of use (the clock stands still) the address is heavy: still served, in turns
      for (let i = 0; i < 4; i++) expect((await call(s, 'info.get')).status).toBe(200);
      expect(s.metrics.fairHeld.get({ outcome: 'served' })).toBe(4n);
      expect(s.door.fair.held()).toBe(0);
    });

    it('per IP: new identities, while a known wallet still logs in', async () => {
      const s = await start({ RATE_NEW_WALLETS_PER_HOUR: '3', RATE_AUTH_PER_MIN: '100' });
      const known = freshKey();
      await s.login(known);
      await s.login(freshKey());
      await s.login(freshKey());
      const refused = await s
        .login(freshKey())
        .catch((e: { data?: { app?: unknown; httpStatus?: number } }) => e);
      expect(refused).toMatchObject({ data: { httpStatus: 429, app: { code: 'RATE_LIMITED' } } });
      await s.login(known); // not new: not counted
      s.now.ms += 20 * 60_000; // a third of an hour refills one
      await s.login(freshKey());
    });

    it('a new identity over the quota is refused before its signature is checked; forged logins spend no quota', async () => {
      // the clock stands still: the last login comes back within the quota refusal's wait, answered at once
      const s = await start({
        RATE_NEW_WALLETS_PER_HOUR: '1',
        RATE_AUTH_PER_MIN: '100',
        TARPIT_MAX_SEC: '0',
      });
      const known = freshKey();
      const forged = async (secretKey: Uint8Array) => {
        const { challenge } = await s.client().auth.challenge.mutate();
        const nodeId = Buffer.from(secp256k1.getPublicKey(secretKey, true)).toString('hex');
        // signed by another key: a bad signature for this node id
        const signature = signNodeMessage(loginMessage(challenge), freshKey());
        return call(s, 'auth.login', { method: 'POST', input: { nodeId, challenge, signature } });
      };
      // with the quota left, a forged new identity is told its signature is bad, and takes nothing
      expect(await forged(freshKey())).toMatchObject({ status: 401, app: 'INVALID_SIGNATURE' });
      await s.login(known); // the one new wallet of the hour
      // now a new identity is refused for the quota whatever it signed: no signature check was made
      const over = await forged(freshKey());
      expect(over).toMatchObject({ status: 429, app: 'RATE_LIMITED' });
      expect(Number(over.retryAfter)).toBeGreaterThan(0);
      // a known wallet's forged login is still a bad signature, not a quota refusal
      expect(await forged(known)).toMatchObject({ status: 401, app: 'INVALID_SIGNATURE' });
    });

    it('per wallet stored backup bytes, and per IP backup bytes added', async () => {
      const s = await start({
        MAX_BACKUP_BLOB_BYTES: '2000',
        MAX_BACKUP_BYTES_PER_WALLET: '3000',
        BACKUP_BYTES_PER_HOUR_PER_IP: '7000',
        SESSION_TTL_SEC: '86400',
        RATE_AUTH_PER_MIN: '100',
      });
      const blob = (n: number) => Buffer.alloc(n, 7).toString('base64');
      const put = async (token: string, key: string, version: number, size: number) => {
        const lease = await s
          .client(token)
          .backup.acquireLease.mutate({ deviceId: 'phone-0001', ttlSec: 600 });
        return call(s, 'backup.put', {
          token,
          method: 'POST',
          input: { key, version, blob: blob(size), leaseToken: lease.fencingToken },
        });
      };
      const a = await s.login(freshKey());
      expect((await put(a, 'cm', 0, 2000)).status).toBe(200);
      // a second key would make 4000 of 3000: refused, nothing stored
      expect(await put(a, 'other', 0, 2000)).toMatchObject({
        status: 403,
        app: 'QUOTA_EXCEEDED',
        details: { limit: 3000 },
      });
      expect((await s.client(a).backup.list.query()).entries.map((e) => e.key)).toEqual(['cm']);
      // replacing the key counts it at its new size: 1000 + 2000 fits
      expect((await put(a, 'other', 0, 1000)).status).toBe(200);
      // 5000 bytes written from this IP so far; a new wallet gets 2000 more, then the IP waits
      const b = await s.login(freshKey());
      expect((await put(b, 'cm', 0, 2000)).status).toBe(200);
      const over = await put(b, 'x', 0, 500);
      expect(over).toMatchObject({ status: 429, app: 'RATE_LIMITED' });
      expect(Number(over.retryAfter)).toBeGreaterThan(0);
      // rewriting a key at its size stores nothing more: a streaming wallet is not held back
      expect((await put(b, 'cm', 1, 2000)).status).toBe(200);
      s.now.ms += 3_600_000;
      expect((await put(b, 'x', 0, 500)).status).toBe(200);
    });
  });
}

describe('admin and metrics fit for mainnet', () => {
  const servers: TestServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));
  const start = async (env: Record<string, string>) => {
    const s = await startServer(backends()[0]!, ln, env);
    servers.push(s);
    return s;
  };
  const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;

  it('admin: 200 wrong passwords meet a per-IP backoff that ends; the right password works after it', async () => {
    const s = await start({ ADMIN_LOCKOUT_AFTER: '5', ADMIN_LOCKOUT_MAX_SEC: '4' });
    const statuses: number[] = [];
    const started = performance.now();
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${s.url}/admin`, { headers: { authorization: basic(`wrong-${i}`) } });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    const ms = Math.round(performance.now() - started);
    const count = (status: number) => statuses.filter((x) => x === status).length;
    console.log(`admin: 200 wrong passwords in ${ms} ms: ${count(401)} × 401, ${count(429)} × 429`);
    expect(count(401)).toBe(5); // the clock stands still: only five were ever checked
    expect(count(429)).toBe(195);
    const locked = await fetch(`${s.url}/admin`, {
      headers: { authorization: basic('correct horse battery') },
    });
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBe('1');
    s.now.ms += 1_000; // the wait ends; the operator gets in and the count clears
    expect(
      (await fetch(`${s.url}/admin`, { headers: { authorization: basic('correct horse battery') } })).status,
    ).toBe(200);
    // each wrong one past the threshold doubles the wait, up to ADMIN_LOCKOUT_MAX_SEC
    const waits: string[] = [];
    for (let i = 0; i < 30 && waits.length < 4; i++) {
      const res = await fetch(`${s.url}/admin`, { headers: { authorization: basic('nope') } });
      if (res.status === 401) continue;
      waits.push(res.headers.get('retry-after')!);
      s.now.ms += Number(res.headers.get('retry-after')) * 1_000;
    }
    expect(waits).toEqual(['1', '2', '4', '4']);
    // a browser's first visit (no credentials) is not a guess
    s.now.ms += 10_000;
    for (let i = 0; i < 10; i++) expect((await fetch(`${s.url}/admin`)).status).toBe(401);
  });

  it('/metrics asks for METRICS_TOKEN when one is set', async () => {
    const token = 'm'.repeat(20) + 'etrics-token-0123456789';
    const s = await start({ METRICS_TOKEN: token });
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${s.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(
      401,
    );
    const ok = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('lsp_onchain_balance_sat');
  });

  it('/metrics is off outside regtest unless a token or a separate address is configured', async () => {
    const s = await start({ NETWORK: 'signet', ADMIN_PASSWORD: 'Zr8v!q2LmX9#tKp4' });
    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/METRICS_TOKEN or METRICS_LISTEN/);
  });

  it('METRICS_LISTEN serves /metrics on its own address, not on the public port', async () => {
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: tempDir('lsp-metrics-'),
      METRICS_LISTEN: '127.0.0.1:0',
    });
    const lsp = await createLsp(config, {
      store: await backends()[0]!.open(),
      seed: new Uint8Array(32).fill(0x4d),
      devnet: ln.devnet,
      node: { chainSyncIntervalMs: 0, logLevel: 'error' },
      log: pino({ level: 'silent' }),
    });
    try {
      const pub = await fetch(`${lsp.url}/metrics`);
      expect(pub.status).toBe(404);
      expect(await pub.text()).not.toContain('127.0.0.1'); // the address stays private
      const own = await fetch(`http://127.0.0.1:${lsp.server.metricsPort}/metrics`);
      expect(own.status).toBe(200);
      expect(await own.text()).toContain('lsp_wallets');
      expect((await fetch(`http://127.0.0.1:${lsp.server.metricsPort}/trpc/info.get`)).status).toBe(404);
    } finally {
      await lsp.stop();
    }
  });
});
