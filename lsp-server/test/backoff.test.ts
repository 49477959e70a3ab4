// Clients back off when the LSP says RATE_LIMITED (src/client/backoff.ts, used by createLspClient,
// the CLI and the wallet's worker): against a running LSP with tiny limits over real HTTP, a refused
// call waits what the LSP asked and goes through; a wait too long to sit out, or a refusal that
// outlasts the retries, ends in LspBusyError saying when to come back.
import { loginMessage, signNodeMessage } from '@lpw/api';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLspClient, isLspBusy, LspBusyError } from '../src/client/index.ts';
import { loadConfig } from '../src/config.ts';
import { createLsp, type Lsp } from '../src/lsp.ts';
import { startLightning, startServer, type TestLightning } from './server.ts';
import { backends } from './stores.ts';
import { tempDir } from './temp-dir.ts';

/** Single info.get calls until the LSP refuses one: the caller's per-IP bucket is empty. */
async function drainRequests(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`${url}/trpc/info.get`)).status === 429) return;
  }
  throw new Error('the LSP never refused: is RATE_REQUESTS_PER_MIN set?');
}

async function loginFresh(client: ReturnType<typeof createLspClient>): Promise<string> {
  const secretKey = secp256k1.utils.randomSecretKey();
  const { challenge } = await client.trpc.auth.challenge.mutate();
  const signature = signNodeMessage(loginMessage(challenge), secretKey);
  const nodeId = bytesToHex(secp256k1.getPublicKey(secretKey, true));
  return (await client.trpc.auth.login.mutate({ nodeId, challenge, signature })).token;
}

let ln: TestLightning;
beforeAll(async () => {
  ln = await startLightning();
});
afterAll(() => ln?.stop());

describe('a client backs off when the LSP is rate limiting', () => {
  let lsp: Lsp;
  beforeAll(async () => {
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: tempDir('lsp-backoff-'),
      // a token every 3 s per IP once the burst of 20 is spent; one new identity per hour
      RATE_REQUESTS_PER_MIN: '20',
      RATE_NEW_WALLETS_PER_HOUR: '1',
    });
    lsp = await createLsp(config, {
      store: await backends()[0]!.open(),
      seed: new Uint8Array(32).fill(0x4e),
      devnet: ln.devnet,
      node: { chainSyncIntervalMs: 0, logLevel: 'error' },
      log: pino({ level: 'silent' }),
    });
  });
  afterAll(() => lsp?.stop());

  it('a wait longer than a client sits out is LspBusyError at once, saying when to come back', async () => {
    // first in this LSP's life: its per-IP request bucket is full, only the identity quota bites
    const client = createLspClient({ url: lsp.url });
    await loginFresh(client); // the one new identity this IP gets this hour
    const t0 = performance.now();
    const refused = await loginFresh(client).catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(2_000); // no sleeping on a wait of an hour
    expect(isLspBusy(refused)).toBe(true);
    const busy = refused as LspBusyError;
    expect(busy).toBeInstanceOf(LspBusyError);
    expect(busy.retryAfterSec).toBeGreaterThan(3_000); // an hour's quota: ~3,600 s
    expect(busy.message).toBe(`The LSP is busy; try again in ${busy.retryAfterSec} s`);
    // the LSP's own refusal stays readable for code that maps it
    expect((busy.data as { app?: { code?: string } }).app?.code).toBe('RATE_LIMITED');
  });

  it('a refused call waits the LSP’s Retry-After, then goes through', async () => {
    const client = createLspClient({ url: lsp.url });
    await drainRequests(lsp.url);
    const refusedBefore = lsp.metrics.rateLimited.get({ scope: 'ip' });
    const t0 = performance.now();
    const info = await client.info();
    const waitedMs = performance.now() - t0;
    expect(info.nodeId).toBe(lsp.node.nodeId);
    // refused once (retry in 3 s), served on the retry: not sooner than asked, not much later
    expect(lsp.metrics.rateLimited.get({ scope: 'ip' }) - refusedBefore).toBe(1n);
    expect(waitedMs).toBeGreaterThanOrEqual(3_000);
    expect(waitedMs).toBeLessThan(6_000);
  });
});

describe('a client backs off a bounded number of times', () => {
  it('refused every time: the first call and maxRetries more, then LspBusyError', async () => {
    // this LSP's clock stands still, so its bucket never refills: every retry is refused too
    const s = await startServer(backends()[0]!, ln, { RATE_REQUESTS_PER_MIN: '60' });
    try {
      await drainRequests(s.url);
      const refusedBefore = s.metrics.rateLimited.get({ scope: 'ip' });
      const client = createLspClient({ url: s.url, backoff: { maxRetries: 2 } });
      const t0 = performance.now();
      const refused = await client.info().catch((e: unknown) => e);
      expect(isLspBusy(refused)).toBe(true);
      expect((refused as LspBusyError).retryAfterSec).toBe(1);
      expect(s.metrics.rateLimited.get({ scope: 'ip' }) - refusedBefore).toBe(3n);
      // two waits of 1 s (+ up to a quarter of jitter)
      expect(performance.now() - t0).toBeGreaterThanOrEqual(2_000);
      expect(s.metrics.httpRequests.get({ status: '5xx' })).toBe(0n);
    } finally {
      await s.close();
    }
  });
});
