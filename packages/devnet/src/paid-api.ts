// A demo paid API on the devnet merchant: L402 (HTTP 402 + Lightning invoice from the merchant
// node), so a wallet can try paying per request. Started by `npm start` (lsp-server/src/dev.ts).
//   GET /             free: what is on offer and the prices
//   GET /api/quote    10 sats for 3 quotes (the token serves three requests)
//   GET /api/weather  20 sats: made-up weather for ?city= (the devnet has no real world)
//   GET /shop         the demo shop: invoices as QR codes to scan with the wallet (shop.ts)
//   merchant@<host:port>  the merchant's Lightning Address (LNURL-pay, lnurl-pay.ts)
import { serve } from '@hono/node-server';
import { type L402Env, l402, MemoryUsageStore, type RootKey, type UsageStore } from '@lpw/l402';
import type { LightningNode } from '@lpw/node';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { lnurlPayApp } from './lnurl-pay.ts';
import { shopApp } from './shop.ts';

export interface PaidApiOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Service root key; random per start by default (the devnet forgets everything at stop anyway). */
  rootKey?: RootKey;
  /** A node that pays invoices pasted into the shop's faucet (the devnet router); no faucet without. */
  faucet?: Pick<LightningNode, 'payInvoice'>;
  /** Where token uses are counted (default: memory, per process); a database survives restarts. */
  usage?: UsageStore;
}

export interface PaidApi {
  url: string;
  port: number;
  app: Hono<L402Env>;
  close(): Promise<void>;
}

const QUOTES = [
  'Not your keys, not your coins.',
  "Don't trust, verify.",
  'Running bitcoin. — Hal Finney',
  'The root problem with conventional currency is all the trust that is required to make it work.',
  'Stay humble, stack sats.',
  'Fix the money, fix the world.',
  'A payment channel is a promise you can enforce.',
];

export function paidApiApp(
  merchant: Pick<LightningNode, 'createInvoice'>,
  rootKey: RootKey,
  usage: UsageStore = new MemoryUsageStore(),
): Hono<L402Env> {
  const app = new Hono<L402Env>();
  // any web page may call the API (a browser wallet directly, not through its LSP): the token is
  // sent as Authorization (a preflight), and scripts may read the challenge only if it is exposed
  const open = cors({ origin: '*', allowHeaders: ['Authorization'], exposeHeaders: ['WWW-Authenticate'] });
  app.use('/', open);
  app.use('/api/*', open);
  // one store for both routes: token ids are random, so their counters never meet
  const paid = (priceSat: number, description: string, maxUses = 1) =>
    l402({ node: merchant, rootKeys: [rootKey], priceSat, description, maxUses, store: usage });
  app.get('/', (c) =>
    c.json({
      about:
        'devnet demo paid API (L402): pay the invoice in the 402, retry with Authorization: L402 <macaroon>:<preimage>',
      endpoints: [
        { path: '/api/quote', priceSat: 10, uses: 3 },
        { path: '/api/weather?city=NAME', priceSat: 20, uses: 1 },
      ],
    }),
  );
  app.get('/api/quote', paid(10, 'devnet paid API: three quotes', 3), (c) =>
    c.json({ quote: QUOTES[Math.floor(Math.random() * QUOTES.length)] }),
  );
  app.get('/api/weather', paid(20, 'devnet paid API: one weather report'), (c) => {
    const city = (c.req.query('city') ?? 'Devnet City').slice(0, 64);
    // made up, but stable for a city within an hour
    let h = Math.floor(Date.now() / 3_600_000);
    for (const ch of city) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    const skies = ['sunny', 'cloudy', 'rain', 'fog', 'wind', 'snow'];
    return c.json({ city, sky: skies[h % skies.length], temperatureC: (h % 35) - 5, madeUp: true });
  });
  return app;
}

/** Serves the demo paid API with invoices from `merchant`. */
export async function startPaidApi(
  merchant: Pick<LightningNode, 'createInvoice' | 'listPayments'>,
  options: PaidApiOptions = {},
): Promise<PaidApi> {
  const host = options.host ?? '127.0.0.1';
  const rootKey = options.rootKey ?? { id: 'devnet', secret: crypto.getRandomValues(new Uint8Array(32)) };
  const app = paidApiApp(merchant, rootKey, options.usage);
  // the merchant's demo shop (invoices as QR codes for the wallet to scan) on the same server
  app.route('/shop', shopApp(merchant, '/shop', options.faucet));
  app.route('/', lnurlPayApp(merchant));
  const server = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://${host}:${port}`,
    port,
    app,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
