// Fuzz: for every procedure, ≥ 500 malformed or random inputs (seeded PRNG) over raw HTTP. Never a
// 5xx, the server keeps answering, and the store is byte-for-byte what it was.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLightning, startServer, type TestLightning, type TestServer } from './server.ts';
import { backends } from './stores.ts';

const ROUNDS = 500;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// values no field accepts: wrong types, out of range, non-integers, strings too long for every field
const BAD = [
  null,
  -1,
  1.5,
  2 ** 53,
  -1e9,
  [],
  {},
  { a: 1 },
  'x y'.repeat(100),
  'é'.repeat(300),
  '\u0000'.repeat(300),
];

function randomJson(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * (depth > 2 ? 6 : 9));
  switch (k) {
    case 0:
      return null;
    case 1:
      return Math.floor(r() * 2 ** 40) * (r() < 0.5 ? -1 : 1) + (r() < 0.3 ? 0.5 : 0);
    case 2:
      return r() < 0.5;
    case 3:
      return String.fromCharCode(
        ...Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 0xd7ff)),
      );
    case 4:
      return BAD[Math.floor(r() * BAD.length)];
    case 5:
      return '9'.repeat(Math.floor(r() * 60));
    case 6:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomJson(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 4); i > 0; i--) o[`k${Math.floor(r() * 1e6)}`] = randomJson(r, depth + 1);
      return o;
    }
  }
}

/** Replace one leaf (possibly nested) with a bad value, add an unknown key, or drop a required one. */
function mutate(valid: Record<string, unknown>, r: () => number): unknown {
  const copy = structuredClone(valid);
  const paths: string[][] = [];
  const walk = (o: Record<string, unknown>, path: string[]) => {
    for (const [k, v] of Object.entries(o)) {
      paths.push([...path, k]);
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, [...path, k]);
    }
  };
  walk(copy, []);
  const choice = r();
  if (paths.length === 0 || choice < 0.15) return { ...copy, [`extra${Math.floor(r() * 100)}`]: 1 };
  const path = paths[Math.floor(r() * paths.length)]!;
  let parent: Record<string, unknown> = copy;
  for (const p of path.slice(0, -1)) parent = parent[p] as Record<string, unknown>;
  const leaf = path.at(-1)!;
  parent[leaf] = BAD[Math.floor(r() * BAD.length)];
  return copy;
}

const alice = new Uint8Array(32).fill(0xa1);
const aliceId = bytesToHex(secp256k1.getPublicKey(alice, true));

let ln: TestLightning;
beforeAll(async () => {
  ln = await startLightning();
});
afterAll(() => ln?.stop());

for (const backend of backends()) {
  describe(`fuzz on ${backend.name}`, () => {
    let s: TestServer;
    let token: string;
    let feeParams: Record<string, unknown>;
    beforeAll(async () => {
      s = await startServer(backend, ln, {
        RATE_AUTH_PER_MIN: '1000000',
        RATE_BUY_PER_MIN: '1000000',
        RATE_REQUESTS_PER_MIN: '10000000',
        // the clock stands still here: nothing refills, so the burst is the fuzzer's whole budget
        RATE_REQUESTS_BURST: '10000000',
        SESSION_TTL_SEC: '86400',
        // a fuzzer never waits its Retry-After: neither held nor banned for it here (abuse.test.ts)
        TARPIT_MAX_SEC: '0',
        BAN_AFTER_EARLY_RETRIES: '1000000',
      });
      token = await s.login(alice);
      feeParams = (await s.client().jit.getInfo.query({})).opening_fee_params_menu[0]!;
    });
    afterAll(() => s?.close());

    const procedures = (): {
      path: string;
      kind: 'query' | 'mutation';
      valid: Record<string, unknown> | undefined;
    }[] => [
      { path: 'info.get', kind: 'query', valid: undefined },
      {
        path: 'auth.login',
        kind: 'mutation',
        valid: { nodeId: aliceId, challenge: 'ab'.repeat(32), signature: 'y'.repeat(104) },
      },
      { path: 'auth.whoami', kind: 'query', valid: undefined },
      { path: 'backup.acquireLease', kind: 'mutation', valid: { deviceId: 'device-abc', ttlSec: 60 } },
      { path: 'backup.releaseLease', kind: 'mutation', valid: { fencingToken: 1 } },
      { path: 'backup.put', kind: 'mutation', valid: { key: 'k', version: 0, blob: 'AAAA', leaseToken: 1 } },
      { path: 'backup.get', kind: 'query', valid: { key: 'k' } },
      { path: 'backup.list', kind: 'query', valid: undefined },
      { path: 'jit.getInfo', kind: 'query', valid: {} },
      {
        path: 'jit.buy',
        kind: 'mutation',
        valid: { opening_fee_params: feeParams, payment_size_msat: '50000000' },
      },
      { path: 'jit.list', kind: 'query', valid: undefined },
      { path: 'jit.get', kind: 'query', valid: { jit_channel_scid: '1x2x3' } },
      { path: 'orders.getInfo', kind: 'query', valid: undefined },
      {
        path: 'orders.create',
        kind: 'mutation',
        valid: {
          lsp_balance_sat: '1000000',
          client_balance_sat: '0',
          required_channel_confirmations: 0,
          funding_confirms_within_blocks: 6,
          channel_expiry_blocks: 4320,
          announce_channel: false,
        },
      },
      { path: 'orders.get', kind: 'query', valid: { order_id: '4f1b8b1e-0a6c-4c4e-9a53-2d8e1b1b1b1b' } },
      { path: 'orders.list', kind: 'query', valid: undefined },
      {
        path: 'routes.find',
        kind: 'query',
        valid: { payee_node_id: aliceId, amount_msat: '1', final_cltv_expiry_delta: 9 },
      },
      { path: 'address.get', kind: 'query', valid: undefined },
      // every mutation of a valid name is an invalid one (BAD holds no LUD-16 name)
      { path: 'address.claim', kind: 'mutation', valid: { name: 'alice' } },
      { path: 'address.release', kind: 'mutation', valid: undefined },
    ];

    async function send(path: string, kind: 'query' | 'mutation', input: unknown, raw?: string, auth = true) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (auth) headers.authorization = `Bearer ${token}`;
      const res =
        kind === 'query'
          ? await fetch(
              `${s.url}/trpc/${path}${raw !== undefined ? `?input=${encodeURIComponent(raw)}` : input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`,
              { headers },
            )
          : await fetch(`${s.url}/trpc/${path}`, {
              method: 'POST',
              headers,
              body: raw ?? (input === undefined ? undefined : JSON.stringify(input)),
            });
      await res.arrayBuffer();
      return res.status;
    }

    it(`${ROUNDS}+ bad inputs per procedure: no 5xx, no state change`, async () => {
      const before = await s.store.snapshot();
      const statuses = new Map<number, number>();
      for (const [i, proc] of procedures().entries()) {
        const r = prng(1000 + i);
        for (let n = 0; n < ROUNDS; n++) {
          const pick = r();
          let input: unknown;
          let raw: string | undefined;
          if (pick < 0.45 && proc.valid) input = mutate(proc.valid, r);
          else if (pick < 0.9) input = randomJson(r);
          else
            raw = String.fromCharCode(
              ...Array.from({ length: Math.floor(r() * 30) }, () => Math.floor(r() * 256)),
            );
          // inputs of procedures without input are ignored by design; they must still not break anything
          const status = await send(proc.path, proc.kind, input, raw, r() < 0.9);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status >= 500)
            throw new Error(`${proc.path} answered ${status} to ${raw ?? JSON.stringify(input)}`);
        }
      }
      expect([...statuses.keys()].every((k) => k < 500)).toBe(true);
      expect(statuses.get(400)).toBeGreaterThan(ROUNDS);
      expect(await s.store.snapshot()).toEqual(before);
      // still serving
      expect((await s.client(token).auth.whoami.query()).nodeId).toBe(aliceId);
    }, 300_000);

    it('auth.challenge and auth.logout with random inputs: no 5xx', async () => {
      const r = prng(7);
      for (let n = 0; n < ROUNDS; n++) {
        expect(await send('auth.challenge', 'mutation', randomJson(r), undefined, false)).toBeLessThan(500);
      }
      for (let n = 0; n < ROUNDS; n++) {
        expect(await send('auth.logout', 'mutation', randomJson(r), undefined, false)).toBe(401);
      }
    }, 120_000);
  });
}
