// The relay over real HTTP: a wallet session asks the LSP to fetch from a local site. On a devnet
// LSP loopback is allowed (that is where the devnet's merchant lives); on any other LSP every
// private, loopback, link-local or multicast destination is refused, also behind a name or redirect.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusal, startLightning, startServer, type TestLightning, type TestServer } from './server.ts';
import { backends } from './stores.ts';

const wallet = new Uint8Array(32).fill(0xc3);
const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** The site the relay reaches: answers by path; remembers the headers of the last request. */
let site: Server;
let siteUrl: string;
let lastHeaders: Record<string, string | string[] | undefined> = {};
beforeAll(async () => {
  site = createServer((req, res) => {
    lastHeaders = req.headers;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/json') {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'a=b' });
      return res.end(JSON.stringify({ hello: 'wallet' }));
    }
    if (path === '/binary') {
      res.writeHead(200, { 'content-type': 'image/png' });
      return res.end(BINARY);
    }
    if (path === '/paid') {
      res.writeHead(402, { 'www-authenticate': 'L402 macaroon="AgE=", invoice="lnbcrt1"' });
      return res.end('{"error":"PAYMENT_REQUIRED"}');
    }
    if (path === '/echo') {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`${req.method} ${body}`);
      });
      return;
    }
    if (path === '/big') {
      // chunked, no content-length: the cap must count what arrives
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 1);
      for (let i = 0; i < 32; i++) res.write(chunk);
      return res.end();
    }
    if (path === '/slow') return; // never answers
    if (path === '/to-private') {
      res.writeHead(302, { location: 'http://10.0.0.1/' });
      return res.end();
    }
    if (path === '/to-json') {
      res.writeHead(302, { location: '/json' });
      return res.end();
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
});
afterAll(() => {
  site?.closeAllConnections();
  return new Promise<void>((resolve) => site?.close(() => resolve()));
});

let ln: TestLightning;
beforeAll(async () => {
  ln = await startLightning();
});
afterAll(() => ln?.stop());

const [sqlite] = backends();

describe('relay on a devnet LSP (loopback allowed)', () => {
  let s: TestServer;
  let token: string;
  beforeAll(async () => {
    s = await startServer(sqlite!, ln, { RELAY_ALLOW_LOOPBACK: 'true', RELAY_TIMEOUT_MS: '1500' });
    token = await s.login(wallet);
  });
  afterAll(() => s?.close());

  it('GET: status, content-type and body come back; only the allowed request headers reach the site', async () => {
    const answer = await s.client(token).relay.fetch.mutate({
      url: `${siteUrl}/json`,
      headers: { accept: 'application/json', authorization: 'L402 abc:def' },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers).toEqual({ 'content-type': 'application/json' }); // no set-cookie
    expect(JSON.parse(Buffer.from(answer.body_base64, 'base64').toString())).toEqual({ hello: 'wallet' });
    expect(lastHeaders.authorization).toBe('L402 abc:def');
    expect(lastHeaders.accept).toBe('application/json');
    // the wallet's session token never leaves the LSP
    expect(JSON.stringify(lastHeaders)).not.toContain(token);
    expect(lastHeaders.cookie).toBeUndefined();
  });

  it('binary bodies survive, a 402 keeps its WWW-Authenticate, POST sends its body', async () => {
    const c = s.client(token);
    const binary = await c.relay.fetch.mutate({ url: `${siteUrl}/binary` });
    expect(Buffer.from(binary.body_base64, 'base64').equals(BINARY)).toBe(true);
    const paid = await c.relay.fetch.mutate({ url: `${siteUrl}/paid` });
    expect(paid.status).toBe(402);
    expect(paid.headers['www-authenticate']).toBe('L402 macaroon="AgE=", invoice="lnbcrt1"');
    const posted = await c.relay.fetch.mutate({
      url: `${siteUrl}/echo`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"x":1}',
    });
    expect(Buffer.from(posted.body_base64, 'base64').toString()).toBe('POST {"x":1}');
  });

  it('follows a redirect it may follow, and names where the answer came from', async () => {
    const answer = await s.client(token).relay.fetch.mutate({ url: `${siteUrl}/to-json` });
    expect(answer.status).toBe(200);
    expect(answer.url).toBe(`${siteUrl}/json`);
  });

  it('refuses a redirect to a private address (the site is loopback, the target 10.0.0.1)', async () => {
    const r = await refusal(s.client(token).relay.fetch.mutate({ url: `${siteUrl}/to-private` }));
    expect(r).toMatchObject({ http: 403, app: 'RELAY_REFUSED' });
    expect(r.message).toContain('10.0.0.1');
  });

  it('an answer above 1 MB is refused, not truncated', async () => {
    const r = await refusal(s.client(token).relay.fetch.mutate({ url: `${siteUrl}/big` }));
    expect(r).toMatchObject({ http: 413, app: 'RELAY_TOO_LARGE' });
  });

  it('a site that does not answer times out at RELAY_TIMEOUT_MS', async () => {
    const t0 = Date.now();
    const r = await refusal(s.client(token).relay.fetch.mutate({ url: `${siteUrl}/slow` }));
    expect(r).toMatchObject({ http: 504, app: 'RELAY_TIMEOUT' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_400);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('a closed port is unreachable, in a typed error', async () => {
    const r = await refusal(s.client(token).relay.fetch.mutate({ url: 'http://127.0.0.1:1/' }));
    expect(r).toMatchObject({ http: 502, app: 'RELAY_UNREACHABLE' });
  });

  it('bad input gets INVALID_INPUT: other methods, other headers, GET with a body, not a URL', async () => {
    const c = s.client(token);
    const bad = [
      { url: `${siteUrl}/json`, method: 'DELETE' },
      { url: `${siteUrl}/json`, headers: { cookie: 'a=b' } },
      { url: `${siteUrl}/json`, headers: { host: 'example.com' } },
      { url: `${siteUrl}/echo`, body: 'x' },
      { url: 'not a url' },
    ];
    for (const input of bad) {
      // biome-ignore lint/suspicious/noExplicitAny: deliberately outside the contract
      const r = await refusal(c.relay.fetch.mutate(input as any));
      expect(r, JSON.stringify(input)).toMatchObject({ http: 400, app: 'INVALID_INPUT' });
    }
  });

  it('needs a wallet session', async () => {
    const r = await refusal(s.client().relay.fetch.mutate({ url: `${siteUrl}/json` }));
    expect(r).toMatchObject({ http: 401, app: 'SESSION_REQUIRED' });
  });

  it('counts outcomes in /metrics', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toMatch(/lsp_relay_requests_total\{outcome="ok"\} [1-9]/);
    expect(text).toMatch(/lsp_relay_requests_total\{outcome="refused"\} [1-9]/);
    expect(text).toMatch(/lsp_relay_requests_total\{outcome="timeout"\} 1/);
    expect(text).toMatch(/lsp_relay_requests_total\{outcome="too_large"\} 1/);
  });
});

describe('relay on a production LSP (no loopback)', () => {
  let s: TestServer;
  let token: string;
  beforeAll(async () => {
    s = await startServer(sqlite!, ln, { RATE_RELAY_PER_MIN: '100' });
    token = await s.login(wallet);
  });
  afterAll(() => s?.close());

  it('refuses every destination that is not the public internet, by literal address, by name, by scheme', async () => {
    const c = s.client(token);
    const refusedUrls = [
      `${siteUrl}/json`, // http, loopback
      'https://127.0.0.1/',
      'https://127.1.2.3:8443/',
      'https://localhost/', // a name: its resolved addresses are checked
      'https://10.1.2.3/',
      'https://172.16.0.1/',
      'https://192.168.1.1/',
      'https://100.64.0.1/',
      'https://169.254.169.254/latest/meta-data/', // cloud metadata
      'https://0.0.0.0/',
      'https://224.0.0.1/',
      'https://[::1]/',
      'https://[::]/',
      'https://[fe80::1]/',
      'https://[fd00::1]/',
      'https://[ff02::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:a9fe:a9fe]/',
      'http://example.com/', // not https
      'ftp://example.com/',
      'file:///etc/passwd',
      'https://user:pw@example.com/',
    ];
    for (const url of refusedUrls) {
      const r = await refusal(c.relay.fetch.mutate({ url }));
      expect(r, url).toMatchObject({ http: 403, app: 'RELAY_REFUSED' });
    }
    // nothing reached the local site
    lastHeaders = {};
    await refusal(c.relay.fetch.mutate({ url: `${siteUrl}/json` }));
    expect(lastHeaders).toEqual({});
  });

  it('a devnet-only setting is refused on other networks', async () => {
    const { loadConfig } = await import('../src/config.ts');
    expect(() => loadConfig({ RELAY_ALLOW_LOOPBACK: 'true', NETWORK: 'signet' })).toThrow(
      /RELAY_ALLOW_LOOPBACK is for a regtest devnet only/,
    );
  });
});

describe('relay rate limit', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(sqlite!, ln, { RELAY_ALLOW_LOOPBACK: 'true', RATE_RELAY_PER_MIN: '2' });
  });
  afterAll(() => s?.close());

  it('per wallet, like the other limits: RATE_LIMITED with a retry time', async () => {
    const c = s.client(await s.login(wallet));
    await c.relay.fetch.mutate({ url: `${siteUrl}/json` });
    await c.relay.fetch.mutate({ url: `${siteUrl}/json` });
    const r = await refusal(c.relay.fetch.mutate({ url: `${siteUrl}/json` }));
    expect(r).toMatchObject({ http: 429, app: 'RATE_LIMITED' });
  });
});
