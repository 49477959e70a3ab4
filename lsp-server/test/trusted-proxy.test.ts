// Per-IP limits behind a reverse proxy (TRUSTED_PROXIES), over real HTTP from two loopback
// addresses: 127.0.0.1 plays the operator's nginx, 127.0.0.2 anyone else who reaches the port.
import { request } from 'node:http';
import { loginMessage, signNodeMessage } from '@lpw/api';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLightning, startServer, type TestLightning, type TestServer } from './server.ts';
import { backends } from './stores.ts';

const PROXY = '127.0.0.1';
const STRANGER = '127.0.0.2';

interface Via {
  /** The local address the TCP connection comes from. */
  from: string;
  forwardedFor?: string;
}

function send(
  url: string,
  via: Via,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = { ...init.headers };
  if (via.forwardedFor) headers['x-forwarded-for'] = via.forwardedFor;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers, localAddress: via.from }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        let json: unknown = text;
        try {
          json = JSON.parse(text);
        } catch {
          // admin answers are text
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Logs in a fresh node id (a new wallet to the LSP); the HTTP status of the login. */
async function loginNewWallet(s: TestServer, via: Via): Promise<number> {
  const secretKey = secp256k1.utils.randomSecretKey();
  const challenge = await send(`${s.url}/trpc/auth.challenge`, via, { method: 'POST', body: '{}' });
  expect(challenge.status).toBe(200);
  const c = (challenge.json as { result: { data: { challenge: string } } }).result.data.challenge;
  const login = await send(`${s.url}/trpc/auth.login`, via, {
    method: 'POST',
    body: JSON.stringify({
      nodeId: bytesToHex(secp256k1.getPublicKey(secretKey, true)),
      challenge: c,
      signature: signNodeMessage(loginMessage(c), secretKey),
    }),
  });
  return login.status;
}

let ln: TestLightning;
beforeAll(async () => {
  ln = await startLightning();
});
afterAll(() => ln?.stop());

describe('the LSP behind a trusted reverse proxy', () => {
  const servers: TestServer[] = [];
  const start = async (env: Record<string, string>) => {
    const s = await startServer(backends()[0]!, ln, { TRUSTED_PROXIES: PROXY, ...env });
    servers.push(s);
    return s;
  };
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  it('new wallets per IP: a spoofed X-Forwarded-For from an untrusted peer buys nothing; two clients behind the proxy each get their own budget', async () => {
    const s = await start({ RATE_NEW_WALLETS_PER_HOUR: '2', RATE_AUTH_PER_MIN: '100' });
    // a stranger rotating the header: one budget, its socket's
    const spoofed = (i: number) => ({ from: STRANGER, forwardedFor: `198.51.100.${i}` });
    expect(await loginNewWallet(s, spoofed(1))).toBe(200);
    expect(await loginNewWallet(s, spoofed(2))).toBe(200);
    expect(await loginNewWallet(s, spoofed(3))).toBe(429);
    expect(await loginNewWallet(s, { from: STRANGER })).toBe(429);

    // through the proxy: the right-most hop is the client nginx saw; what the client wrote left of
    // it changes nothing
    const alice = (spoof: string) => ({ from: PROXY, forwardedFor: `${spoof}, 203.0.113.10` });
    const bob = { from: PROXY, forwardedFor: '203.0.113.20' };
    expect(await loginNewWallet(s, alice('10.0.0.1'))).toBe(200);
    expect(await loginNewWallet(s, alice('10.0.0.2'))).toBe(200);
    expect(await loginNewWallet(s, alice('10.0.0.3'))).toBe(429);
    expect(await loginNewWallet(s, bob)).toBe(200);
    expect(await loginNewWallet(s, bob)).toBe(200);
    expect(await loginNewWallet(s, bob)).toBe(429);
  });

  it('requests per IP: counted per client behind the proxy, per socket otherwise', async () => {
    const s = await start({ RATE_REQUESTS_PER_MIN: '3' });
    const info = (via: Via) => send(`${s.url}/trpc/info.get`, via).then((r) => r.status);
    for (let i = 0; i < 3; i++)
      expect(await info({ from: STRANGER, forwardedFor: `198.51.100.${i}` })).toBe(200);
    expect(await info({ from: STRANGER, forwardedFor: '198.51.100.99' })).toBe(429);
    for (const client of ['203.0.113.10', '203.0.113.20']) {
      for (let i = 0; i < 3; i++) expect(await info({ from: PROXY, forwardedFor: client })).toBe(200);
      expect(await info({ from: PROXY, forwardedFor: client })).toBe(429);
    }
  });

  it('admin backoff: a guesser behind the proxy does not lock out the operator behind it', async () => {
    const s = await start({ ADMIN_LOCKOUT_AFTER: '2' });
    const admin = (via: Via, password: string) =>
      send(`${s.url}/admin`, via, {
        headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
      }).then((r) => r.status);
    const guesser = { from: PROXY, forwardedFor: '203.0.113.66' };
    for (let i = 0; i < 3; i++) await admin(guesser, `wrong-${i}`);
    expect(await admin(guesser, 'correct horse battery')).toBe(429);
    expect(await admin({ from: PROXY, forwardedFor: '192.0.2.5' }, 'correct horse battery')).toBe(200);
    // a stranger cannot pass as the operator's address: its socket is what is locked
    for (let i = 0; i < 3; i++)
      await admin({ from: STRANGER, forwardedFor: `198.51.100.${i}` }, `wrong-${i}`);
    expect(await admin({ from: STRANGER, forwardedFor: '192.0.2.5' }, 'correct horse battery')).toBe(429);
  });
});
