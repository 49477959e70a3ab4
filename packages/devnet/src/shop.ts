// The devnet merchant's demo shop: pick an item, get its invoice as a QR code to scan with the
// wallet, see it marked paid. And a Lightning faucet, so a new wallet can receive its first sats. Server-rendered, no script (a meta refresh follows the payment), so it
// works under a strict CSP and on any phone. Mounted at /shop by startPaidApi.
import type { LightningNode } from '@lpw/node';
import { decodeBolt11 } from '@lpw/payment-request';
import { Hono } from 'hono';
import { html, raw } from 'hono/html';
import QRCode from 'qrcode';

export interface ShopItem {
  id: string;
  name: string;
  priceSat: bigint;
}

export const SHOP_ITEMS: readonly ShopItem[] = [
  { id: 'coffee', name: 'Coffee', priceSat: 5_000n },
  { id: 'croissant', name: 'Croissant', priceSat: 3_500n },
  { id: 'book', name: 'A book about Bitcoin', priceSat: 20_000n },
  { id: 'tip', name: 'A 100-sat tip', priceSat: 100n },
];

type Merchant = Pick<LightningNode, 'createInvoice' | 'listPayments'>;
/** The devnet's Lightning faucet pays invoices from this node (the router: it has liquidity). */
type FaucetPayer = Pick<LightningNode, 'payInvoice'>;

/** The most the faucet sends per invoice. */
export const FAUCET_MAX_SAT = 100_000n;

const page = (title: string, body: unknown, refreshSecs?: number) => html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    ${refreshSecs ? html`<meta http-equiv="refresh" content="${refreshSecs}" />` : ''}
    <title>${title} · Devnet Café</title>
    <style>
      body { font: 17px/1.45 system-ui, sans-serif; margin: 0; background: #faf7f2; color: #2b2118; }
      main { max-width: 26rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
      h1 { font-size: 1.6rem; margin: 0 0 1rem; }
      a.item { display: flex; justify-content: space-between; padding: 1rem 1.1rem; margin: .6rem 0;
        background: #fff; border: 1px solid #e7ddd0; border-radius: .9rem; color: inherit; text-decoration: none; }
      .qr { background: #fff; border-radius: 1rem; padding: .8rem; border: 1px solid #e7ddd0; }
      .qr svg { display: block; width: 100%; height: auto; }
      code { display: block; word-break: break-all; font-size: .7rem; color: #6b5a49; margin-top: .8rem; }
      .paid { font-size: 1.4rem; color: #1d7a46; font-weight: 700; }
      .muted { color: #7a6a5a; }
    </style>
  </head>
  <body><main>${body}</main></body>
</html>`;

const sats = (n: bigint) => `${n.toLocaleString('en-US')} sats`;

/** The shop's routes; `base` is where it is mounted (links are absolute). */
export function shopApp(merchant: Merchant, base: string, faucet?: FaucetPayer): Hono {
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
  });

  app.get('/', (c) =>
    c.html(
      page(
        'Menu',
        html`<h1>Devnet Café</h1>
          <p class="muted">Pay with your Lightning wallet: pick something, scan the code.</p>
          ${SHOP_ITEMS.map(
            (item) =>
              html`<a class="item" href="${base}/buy/${item.id}"><span>${item.name}</span><strong>${sats(item.priceSat)}</strong></a>`,
          )}
          ${faucet ? html`<p class="muted">No sats yet? <a href="${base}/faucet">The devnet faucet</a> pays your wallet's invoice.</p>` : ''}`,
      ),
    ),
  );

  app.get('/buy/:item', (c) => {
    const item = SHOP_ITEMS.find((i) => i.id === c.req.param('item'));
    if (!item)
      return c.html(page('Not on the menu', html`<h1>Not on the menu</h1><a href="${base}">Back</a>`), 404);
    const invoice = merchant.createInvoice({
      amountMsat: item.priceSat * 1000n,
      description: item.name,
      expirySecs: 3600,
    });
    return c.redirect(`${base}/order/${invoice.paymentHash}`);
  });

  app.get('/order/:hash', async (c) => {
    const hash = c.req.param('hash');
    if (!/^[0-9a-f]{64}$/.test(hash)) return c.text('unknown order', 404);
    const records = merchant
      .listPayments()
      .filter((p) => p.paymentHash === hash && p.direction === 'inbound');
    const record = records[0];
    if (!record?.invoice)
      return c.html(page('Unknown order', html`<h1>Unknown order</h1><a href="${base}">Menu</a>`), 404);
    if (record.status === 'succeeded') {
      return c.html(
        page(
          'Paid',
          html`<h1>${record.description ?? 'Order'}</h1>
            <p class="paid">Paid ✓ ${sats((record.amountMsat ?? 0n) / 1000n)}</p>
            <p class="muted">Thank you! <a href="${base}">Back to the menu</a></p>`,
        ),
      );
    }
    const svg = await QRCode.toString(`lightning:${record.invoice}`.toUpperCase(), {
      type: 'svg',
      errorCorrectionLevel: 'M',
      margin: 1,
    });
    return c.html(
      page(
        'Pay',
        html`<h1>${record.description ?? 'Order'}</h1>
          <p>${sats((record.amountMsat ?? 0n) / 1000n)} — scan with your wallet. This page updates when paid.</p>
          <div class="qr">${raw(svg)}</div>
          <code>${record.invoice}</code>`,
        2,
      ),
    );
  });
  if (faucet) {
    const form = (message?: unknown) =>
      page(
        'Faucet',
        html`<h1>Devnet faucet</h1>
          <p class="muted">Paste an invoice from your wallet (up to ${sats(FAUCET_MAX_SAT)}); the devnet router pays it.</p>
          ${message ?? ''}
          <form method="post" action="${base}/faucet">
            <textarea name="invoice" rows="6" style="width:100%;font:inherit" required></textarea>
            <p><button type="submit" style="font:inherit;padding:.6rem 1.2rem">Send me the sats</button></p>
          </form>
          <a href="${base}">Back to the shop</a>`,
      );
    app.get('/faucet', (c) => c.html(form()));
    app.post('/faucet', async (c) => {
      const body = await c.req.parseBody();
      const invoice = typeof body.invoice === 'string' ? body.invoice.trim().replace(/^lightning:/i, '') : '';
      const refuse = (text: string) => c.html(form(html`<p style="color:#a33">${text}</p>`), 400);
      const decoded = (() => {
        try {
          return decodeBolt11(invoice);
        } catch {
          return undefined;
        }
      })();
      if (!decoded) return refuse('That is not a Lightning invoice.');
      if (decoded.network !== 'regtest') return refuse('That invoice is not for the devnet (regtest).');
      if (decoded.amountMsat === undefined)
        return refuse('Ask for an amount in your wallet, then paste that invoice.');
      if (decoded.amountMsat > FAUCET_MAX_SAT * 1000n)
        return refuse(`The faucet sends at most ${sats(FAUCET_MAX_SAT)}.`);
      try {
        const sent = await faucet.payInvoice(invoice, { maxFeeMsat: 100_000n, timeoutMs: 60_000 });
        return c.html(
          page(
            'Sent',
            html`<h1>Sent</h1><p class="paid">${sats(sent.amountMsat / 1000n)} are on their way to your wallet.</p><a href="${base}">Back to the shop</a>`,
          ),
        );
      } catch (error) {
        return refuse(`The faucet could not pay it: ${(error as Error).message}`);
      }
    });
  }
  return app;
}
