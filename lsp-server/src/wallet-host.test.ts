// The wallet's static host over real HTTP: its CSP on every page, caching that lets a new version in
// (html, sw.js, config.json revalidated; hashed assets immutable), app routes as the single page, the
// LSP it offers in config.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../test/temp-dir.ts';
import { serveWallet, type WalletHost } from './wallet-host.ts';

const POLICY = "default-src 'self'; connect-src 'self' https: wss:";
let host: WalletHost;

beforeAll(async () => {
  const dist = tempDir('wallet-dist-');
  mkdirSync(join(dist, 'assets'));
  const meta = POLICY.replaceAll("'", '&#39;');
  writeFileSync(
    join(dist, 'index.html'),
    `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="${meta}"></head></html>`,
  );
  writeFileSync(join(dist, 'sw.js'), '// sw');
  writeFileSync(join(dist, 'assets', 'index-abc123.js'), '// app');
  host = await serveWallet({
    distDir: dist,
    host: '127.0.0.1',
    port: 0,
    defaultLspUrl: 'http://127.0.0.1:8080',
  });
});
afterAll(() => host?.close());

describe('the wallet host', () => {
  it('sends the build’s CSP and revalidates the shell; hashed assets are immutable', async () => {
    for (const path of ['/', '/sw.js']) {
      const res = await fetch(`${host.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(`${POLICY}; frame-ancestors 'none'`);
      expect(res.headers.get('cache-control')).toBe('no-cache');
    }
    const asset = await fetch(`${host.url}/assets/index-abc123.js`);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
  });

  it('serves the single page for app routes, and a 404 for a missing file', async () => {
    const route = await fetch(`${host.url}/settings`);
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('Content-Security-Policy');
    expect((await fetch(`${host.url}/assets/gone-123.js`)).status).toBe(404);
    expect((await fetch(`${host.url}/../package.json`)).status).toBe(404);
  });

  it('names the LSP it offers in config.json', async () => {
    const res = await fetch(`${host.url}/config.json`);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.json()).toEqual({ defaultLspUrl: 'http://127.0.0.1:8080' });
  });
});
