// LNURL-pay for the wallets' Lightning Addresses (addresses.ts), as LUD-16 and LUD-06 name them:
//   GET /.well-known/lnurlp/:name                               the payRequest
//   GET /.well-known/lnurlp/:name/callback?amount=&comment=     the invoice, `{pr, routes: []}`
// (the callback under the same prefix: one proxy location serves both)
// Open to every origin (LUD-01: `Access-Control-Allow-Origin: *`): payers' web wallets ask directly.
// Each callback wakes a wallet (and may have it buy a JIT channel), so callbacks are limited per
// client IP and per address before anything is asked.
import { type Context, Hono } from 'hono';
import { cors } from 'hono/cors';
import type { AddressService } from './addresses.ts';
import type { RateLimiter } from './rate-limit.ts';

/** Invoice requests one address takes per minute, from all payers together. */
export const ADDRESS_INVOICES_PER_MIN = 30;

export function addressRoutes(
  addresses: AddressService,
  limits: { perIp: RateLimiter; perAddress: RateLimiter; ip: (c: Context) => string },
): Hono {
  const app = new Hono();
  // by path, not '*': mounted at '/', a '*' middleware would answer every route of the LSP
  app.use('/.well-known/lnurlp/*', cors());
  // the origin the payer reached us at (addresses.ts uses it only without PUBLIC_URL, on regtest)
  const origin = (c: Context) => new URL(c.req.url).origin;
  const busy = (c: Context, wait: number) =>
    c.json({ status: 'ERROR', reason: `too many requests; retry in ${wait} s` }, 429, {
      'Retry-After': String(wait),
    });

  app.get('/.well-known/lnurlp/:name', async (c) => {
    const wait = limits.perIp.take(limits.ip(c));
    if (wait > 0) return busy(c, wait);
    const answer = await addresses.payRequest(c.req.param('name'), origin(c));
    return answer.ok ? c.json(answer.body) : c.json(answer.body, answer.status);
  });

  app.get('/.well-known/lnurlp/:name/callback', async (c) => {
    const name = c.req.param('name');
    const wait = Math.max(limits.perIp.take(limits.ip(c)), limits.perAddress.take(name));
    if (wait > 0) return busy(c, wait);
    const answer = await addresses.invoice(name, origin(c), {
      amount: c.req.query('amount'),
      comment: c.req.query('comment'),
    });
    return answer.ok ? c.json(answer.body) : c.json(answer.body, answer.status);
  });
  return app;
}
