// CORS for the web wallets the operator lists (WALLET_ORIGINS): the wallet is served from its own
// origin, so its tRPC calls and backups to the LSP are cross-origin. Only a listed origin gets CORS
// headers (preflight or not); any other origin gets none and the browser keeps the answer from it.
// No credentials: wallets authenticate with a bearer token they hold, never a cookie.
import { HEADER_EXPECTED_VERSION, HEADER_LEASE_TOKEN, HEADER_VERSION } from '@lpw/backup';
import type { MiddlewareHandler } from 'hono';

/** What the wallet sends beyond the CORS-safelisted headers (tRPC's JSON, the token, backup headers). */
const ALLOW_HEADERS = ['authorization', 'content-type', HEADER_EXPECTED_VERSION, HEADER_LEASE_TOKEN].join(
  ', ',
);
/** What the wallet reads beyond the safelisted response headers (a rate limit's wait, a backup's version). */
const EXPOSE_HEADERS = ['retry-after', HEADER_VERSION].join(', ');
const ALLOW_METHODS = 'GET, POST, PUT';
/** Browsers cap this (Chromium at 2 h); 10 minutes spares a preflight per call without pinning a change long. */
const MAX_AGE_SEC = 600;

/** The CORS headers of an answer made outside Hono (the door's refusals): none for an unlisted origin. */
export function walletCorsHeaders(
  origins: readonly string[],
  origin: string | undefined,
): Record<string, string> {
  if (origin === undefined || !origins.includes(origin)) return { vary: 'Origin' };
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': EXPOSE_HEADERS,
    vary: 'Origin',
  };
}

/**
 * @example app.use('/trpc/*', walletCors(config.walletOrigins));
 */
export function walletCors(origins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(origins);
  return async (c, next) => {
    const origin = c.req.header('origin');
    const listed = origin !== undefined && allowed.has(origin);
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      // a preflight: answered here, before any auth or rate limit (it carries no token)
      if (!listed) return c.body(null, 204, { Vary: 'Origin' });
      return c.body(null, 204, {
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': ALLOW_METHODS,
        'Access-Control-Allow-Headers': ALLOW_HEADERS,
        'Access-Control-Max-Age': String(MAX_AGE_SEC),
        Vary: 'Origin',
      });
    }
    await next();
    // the answer differs by Origin: a shared cache must not hand one origin's answer to another
    c.res.headers.append('Vary', 'Origin');
    if (listed) {
      c.res.headers.set('Access-Control-Allow-Origin', origin);
      c.res.headers.set('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    }
  };
}
