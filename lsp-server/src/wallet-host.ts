// A static host for the built wallet (apps/wallet/dist) on its own origin, not the LSP's: what
// `npm start` and the e2e journeys serve, and what any static host does in production (see
// docs/operating.md). The wallet's CSP as a header (read from the build's index.html, the source of
// truth), revalidated html / sw.js / manifest / config.json and immutable hashed assets, the single
// page for app routes, and config.json naming the LSP the wallet offers on first run.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';

export interface WalletHostOptions {
  /** The wallet's build output (index.html, sw.js, assets/). */
  distDir: string;
  host: string;
  /** 0: any free port. */
  port: number;
  /** The LSP the wallet offers on its welcome screen (config.json); absent: the dist's own config.json, if any. */
  defaultLspUrl?: string;
}

export interface WalletHost {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The policy the wallet's build wrote into its index.html. */
export function builtWalletCsp(distDir: string): string {
  const html = readFileSync(join(distDir, 'index.html'), 'utf8');
  const content = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
  if (!content) throw new Error(`${distDir}/index.html has no Content-Security-Policy: not a wallet build`);
  return content.replaceAll('&#39;', "'").replaceAll('&quot;', '"').replaceAll('&amp;', '&');
}

/** Vite names what is under assets/ by content hash: a new build is a new name. */
const cacheControlOf = (path: string) =>
  /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache';

/** @example const wallet = await serveWallet({ distDir, host: '127.0.0.1', port: 8081, defaultLspUrl: lsp.url }); */
export async function serveWallet(options: WalletHostOptions): Promise<WalletHost> {
  const root = resolve(options.distDir);
  const csp = builtWalletCsp(root);
  const app = new Hono();
  app.use('*', async (c, next) => {
    await next();
    c.header('Content-Security-Policy', `${csp}; frame-ancestors 'none'`);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
  });
  if (options.defaultLspUrl !== undefined) {
    const config = JSON.stringify({ defaultLspUrl: options.defaultLspUrl });
    app.get('/config.json', (c) =>
      c.body(config, 200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' }),
    );
  }
  const found = (path: string, c: { header(name: string, value: string): void }) =>
    c.header('Cache-Control', cacheControlOf(path));
  app.use('*', serveStatic({ root, onFound: found }));
  // an app route (a navigation, no file extension) is the single page; a missing file stays a 404
  app.get('*', async (c, next) => {
    if (/\.[a-z0-9]+$/i.test(c.req.path)) return next();
    return serveStatic({ root, path: 'index.html', onFound: found })(c, next);
  });
  app.notFound((c) => c.text('not found', 404));
  const server = await new Promise<ReturnType<typeof serve>>((done) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () => done(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((done) => {
        (server as unknown as import('node:http').Server).closeAllConnections?.();
        server.close(() => done());
      }),
  };
}
