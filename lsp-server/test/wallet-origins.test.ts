// The wallet is served from its own origin (issue 10, item 1): a running LSP (createLsp, real HTTP and
// WebSocket) answers the origins in WALLET_ORIGINS with CORS, preflights included, and no other; its
// /peer WebSocket takes a browser's socket only from those origins, even with a valid session.
import { type Devnet, startDevnet } from '@lpw/devnet';
import type { LightningNode, WebSocketConstructor } from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLspClient } from '../src/client/index.ts';
import { loadConfig } from '../src/config.ts';
import { createLsp, type Lsp } from '../src/lsp.ts';
import { walletOf } from './prepared-lsp.ts';
import { tempDir } from './temp-dir.ts';

const WALLET = 'http://127.0.0.1:8081';
const OTHER = 'http://127.0.0.1:9999';

let devnet: Devnet;
let lsp: Lsp;
let wallet: LightningNode;

beforeAll(async () => {
  await initLdkNode();
  devnet = await startDevnet({ seed: 'lsp-wallet-origins-tests' });
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: tempDir('lsp-wallet-origins-'),
    WALLET_ORIGINS: `https://wallet.example, ${WALLET}`,
  });
  lsp = await createLsp(config, {
    seed: new Uint8Array(32).fill(7),
    devnet,
    node: { chainSyncIntervalMs: 0, logLevel: 'error' },
    log: pino({ level: 'silent' }),
  });
  wallet = await walletOf(devnet, lsp.node.nodeId, 0x41);
});
afterAll(async () => {
  await wallet?.stop();
  await lsp?.stop();
  await devnet?.stop();
});

/** The CORS headers of an answer, by name. */
const corsOf = (res: Response) => {
  const cors: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name.startsWith('access-control-')) cors[name] = value;
  });
  return cors;
};

describe('CORS for the wallet origins', () => {
  it('a listed origin reads tRPC answers; another origin, or none, gets no CORS header', async () => {
    const info = (origin?: string) =>
      fetch(`${lsp.url}/trpc/info.get`, origin ? { headers: { origin } } : {});
    const listed = await info(WALLET);
    expect(listed.status).toBe(200);
    expect(listed.headers.get('access-control-allow-origin')).toBe(WALLET);
    expect(listed.headers.get('access-control-expose-headers')).toContain('retry-after');
    expect(listed.headers.get('vary')).toMatch(/origin/i);
    for (const res of [await info(OTHER), await info()]) {
      expect(res.status).toBe(200); // served, but a browser keeps it from the page
      expect(corsOf(res)).toEqual({});
    }
  });

  it('preflights: answered for a listed origin before any login; other origins get nothing', async () => {
    const preflight = (origin: string, path: string, method: string, headers: string) =>
      fetch(`${lsp.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': method,
          'access-control-request-headers': headers,
        },
      });
    const login = await preflight(WALLET, '/trpc/auth.login', 'POST', 'content-type');
    expect(login.status).toBe(204);
    expect(corsOf(login)).toMatchObject({
      'access-control-allow-origin': WALLET,
      'access-control-allow-methods': expect.stringContaining('POST'),
      'access-control-allow-headers': expect.stringContaining('content-type'),
    });
    const backupHeaders = 'authorization, content-type, x-backup-expected-version, x-backup-lease-token';
    const backup = await preflight(WALLET, '/backup/v2/channels', 'PUT', backupHeaders);
    expect(backup.status).toBe(204);
    for (const header of backupHeaders.split(', ')) {
      expect(backup.headers.get('access-control-allow-headers')).toContain(header);
    }
    expect(backup.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(corsOf(await preflight(OTHER, '/trpc/auth.login', 'POST', 'content-type'))).toEqual({});
    expect(corsOf(await preflight(OTHER, '/backup/v2/channels', 'PUT', backupHeaders))).toEqual({});
    // a listed origin with a trailing slash is another string: browsers never send one
    expect(corsOf(await preflight(`${WALLET}/`, '/trpc/auth.login', 'POST', 'content-type'))).toEqual({});
  });

  it('refusals carry the headers too, so the wallet can read why', async () => {
    const res = await fetch(`${lsp.url}/backup/v2/channels`, { headers: { origin: WALLET } });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe(WALLET);
    expect((await res.json()) as { code: string }).toMatchObject({ code: 'SESSION_REQUIRED' });
  });

  it('the admin page and metrics stay without CORS, even for a listed origin', async () => {
    for (const path of ['/admin', '/metrics']) {
      expect(corsOf(await fetch(`${lsp.url}${path}`, { headers: { origin: WALLET } }))).toEqual({});
    }
  });
});

describe('the peer WebSocket checks Origin', () => {
  const wsUrl = () => `${lsp.url.replace(/^http/, 'ws')}${lsp.config.websocketPath}`;
  /** The HTTP status the upgrade got (101 when the socket opened). */
  const upgrade = (token: string, origin?: string) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(wsUrl(), ['lpw-peer', `lpw-token.${token}`], origin ? { origin } : {});
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('error', () => {});
    });

  it('a valid session from another origin is refused; from a listed origin, or no browser, it opens', async () => {
    const client = createLspClient({ url: lsp.url, WebSocket: WebSocket as unknown as WebSocketConstructor });
    const token = await client.login(wallet);
    expect(await upgrade(token, OTHER)).toBe(403);
    expect(await upgrade(token, 'https://wallet.example.evil')).toBe(403);
    expect(await upgrade(token, WALLET)).toBe(101);
    expect(await upgrade(token)).toBe(101); // the CLI sends no Origin
    // the origin check is no substitute for the token: a listed origin still needs a session
    expect(await upgrade('not-a-session', WALLET)).toBe(401);
  });
});
