// Serves the built wallet (apps/wallet/dist) from the LSP's own origin, with the wallet's CSP, and
// passes /esplora/* to the chain source, so the wallet reaches tRPC, /peer and chain data without
// any third-party origin. Registered before the LSP's own middleware; the LSP's paths pass through.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import type { Hono } from 'hono';

export interface WalletAppOptions {
  /** The wallet's build output (index.html, sw.js, assets/). */
  distDir: string;
  /** Where /esplora/* goes (the chain source wallets are told to use, proxied same-origin). */
  esploraUrl: string | undefined;
  /** Paths that stay the LSP's (tRPC, WebSocket, admin, health, metrics). */
  reserved: string[];
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
};

/** The policy the wallet's build wrote into its index.html (the build is the source of truth). */
function walletCsp(root: string): string {
  const html = readFileSync(join(root, 'index.html'), 'utf8');
  const content = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
  if (!content) throw new Error(`${root}/index.html has no Content-Security-Policy: not a wallet build`);
  return content.replaceAll('&#39;', "'").replaceAll('&quot;', '"').replaceAll('&amp;', '&');
}

/** @example serveWalletApp(app, { distDir, esploraUrl, reserved: ['/trpc', '/peer'] }) */
export function serveWalletApp(app: Hono, options: WalletAppOptions): void {
  const root = resolve(options.distDir);
  const csp = walletCsp(root);
  app.all('/esplora/*', async (c) => {
    if (!options.esploraUrl) return c.json({ error: 'no chain source' }, 404);
    if (c.req.method !== 'GET' && !(c.req.method === 'POST' && c.req.path === '/esplora/tx')) {
      return c.json({ error: 'method not allowed' }, 405);
    }
    const url = new URL(c.req.url);
    const target = `${options.esploraUrl.replace(/\/$/, '')}${url.pathname.slice('/esplora'.length)}${url.search}`;
    const body = c.req.method === 'POST' ? await c.req.text() : undefined;
    const answer = await fetch(target, { method: c.req.method, ...(body !== undefined ? { body } : {}) });
    return new Response(answer.body, {
      status: answer.status,
      headers: { 'content-type': answer.headers.get('content-type') ?? 'text/plain' },
    });
  });
  app.get('*', async (c, next) => {
    const path = c.req.path;
    if (options.reserved.some((p) => path === p || path.startsWith(`${p}/`))) return next();
    let file = normalize(join(root, path));
    if (!file.startsWith(root)) return next();
    let bytes: Buffer | undefined;
    try {
      bytes = await readFile(file);
    } catch {
      // an app route (navigation): the single page; a missing asset: the LSP's 404
      if (extname(path) !== '') return next();
      file = join(root, 'index.html');
      bytes = await readFile(file).catch(() => undefined);
      if (!bytes) return next();
    }
    const noCache = file.endsWith('.html') || file.endsWith('sw.js') || file.endsWith('.webmanifest');
    return c.body(new Uint8Array(bytes), 200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': `${csp}; frame-ancestors 'none'`,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': noCache ? 'no-cache' : 'public, max-age=31536000, immutable',
    });
  });
}
