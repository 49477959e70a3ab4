// The devnet merchant's Lightning Address (LUD-16) and LNURL-pay service (LUD-06, LUD-12 comments):
// `merchant@<host:port>` of the paid API's server, invoices from the merchant node that commit to
// the metadata shown (description hash). For trying and testing wallets; no state kept. Open to every
// origin (LUD-01: `Access-Control-Allow-Origin: *`), so a browser wallet asks it directly.
import type { LightningNode } from '@lpw/node';
import { Hono } from 'hono';
import { cors } from 'hono/cors';

export const LNURL_USER = 'merchant';
const MIN_SENDABLE_MSAT = 1_000n;
const MAX_SENDABLE_MSAT = 1_000_000_000n;
const COMMENT_ALLOWED = 140;

/** Mount at `/`: serves `/.well-known/lnurlp/merchant` and its callback. */
export function lnurlPayApp(merchant: Pick<LightningNode, 'createInvoice'>): Hono {
  const app = new Hono();
  app.use('/.well-known/lnurlp/*', cors());
  app.use(`/lnurlp/${LNURL_USER}/*`, cors());
  const metadataFor = (host: string) =>
    JSON.stringify([
      ['text/plain', 'Pay the devnet merchant'],
      ['text/identifier', `${LNURL_USER}@${host}`],
    ]);
  const error = (reason: string) => ({ status: 'ERROR', reason });
  app.get(`/.well-known/lnurlp/:user`, (c) => {
    if (c.req.param('user') !== LNURL_USER) return c.json(error('no such user'), 404);
    const url = new URL(c.req.url);
    return c.json({
      tag: 'payRequest',
      callback: `${url.origin}/lnurlp/${LNURL_USER}/callback`,
      minSendable: Number(MIN_SENDABLE_MSAT),
      maxSendable: Number(MAX_SENDABLE_MSAT),
      metadata: metadataFor(url.host),
      commentAllowed: COMMENT_ALLOWED,
    });
  });
  app.get(`/lnurlp/${LNURL_USER}/callback`, (c) => {
    const amount = c.req.query('amount') ?? '';
    if (!/^[1-9][0-9]{0,15}$/.test(amount)) return c.json(error('amount must be a whole number of msat'));
    const amountMsat = BigInt(amount);
    if (amountMsat < MIN_SENDABLE_MSAT || amountMsat > MAX_SENDABLE_MSAT) {
      return c.json(error(`amount must be ${MIN_SENDABLE_MSAT} to ${MAX_SENDABLE_MSAT} msat`));
    }
    if ((c.req.query('comment') ?? '').length > COMMENT_ALLOWED) return c.json(error('comment too long'));
    const invoice = merchant.createInvoice({
      amountMsat,
      description: metadataFor(new URL(c.req.url).host),
      hashDescription: true,
      expirySecs: 600,
    });
    return c.json({ pr: invoice.bolt11, routes: [] });
  });
  return app;
}
