/**
 * @module L402 middleware for Hono: charge sats per request with HTTP 402 and Lightning invoices.
 */

import { base64 } from '@scure/base';
import type { Context, MiddlewareHandler } from 'hono';
import { L402Error, type L402ErrorCode } from '../../errors.ts';
import { formatChallenge, parseAuthorization } from '../../header.ts';
import { encodeMacaroon } from '../../macaroon.ts';
import { MemoryUsageStore, type UsageStore } from '../../store.ts';
import { assertRootKeys, type L402Grant, mintToken, type RootKey, verifyToken } from '../../token.ts';

/** The slice of a Lightning node the middleware needs (`LightningNode` from @lpw/node fits). */
export interface InvoiceIssuer {
  createInvoice(request: {
    amountMsat: bigint;
    description: string;
    expirySecs: number;
    /** Keep nothing until paid: a challenge goes to anyone who asks (`LightningNode` honours it). */
    stateless?: boolean;
  }): { bolt11: string; paymentHash: string } | Promise<{ bolt11: string; paymentHash: string }>;
}

export interface L402Options {
  /** Issues the invoices; the preimage the payer presents is the proof, so nothing watches it. */
  node: InvoiceIssuer;
  /** Service secrets: the first mints, all verify (rotation: prepend a new key, drop old ones later). */
  rootKeys: readonly RootKey[];
  /** Price of one token, in whole sats. */
  priceSat: number;
  /** Requests one token pays for (default 1: a price per request). */
  maxUses?: number;
  /** Seconds a token stays valid after its challenge (default 3600). */
  tokenLifetimeSecs?: number;
  /** Path prefix tokens are good for (default: the path requested). Cover routes of one price only. */
  scope?: string;
  /** Invoice description (default `L402 <path>`). */
  description?: string | ((c: Context) => string);
  /** Seconds the invoice can be paid in (default 600). */
  invoiceExpirySecs?: number;
  /** Counts uses per token id (default: in memory, per middleware). Share one across routes of a scope. */
  store?: UsageStore;
  /** Macaroon location hint. */
  location?: string;
  /** Clock in ms (tests). */
  now?: () => number;
}

export type L402Env = { Variables: { l402: L402Grant } };

/**
 * Protects the routes after it: a request without a valid L402 token gets `402` with
 * `WWW-Authenticate: L402 macaroon="…", invoice="…"`; after paying the invoice, the client sends
 * `Authorization: L402 <macaroon>:<preimage hex>` and gets through (the grant is `c.get('l402')`).
 * Refusals are {@link L402Error}s: 401 for broken or forged credentials, 402 for expired, used-up or
 * other-path tokens, each with a fresh challenge and `{ error, message }` as JSON.
 *
 * @example
 * ```ts
 * const app = new Hono();
 * const rootKeys = [{ id: '2025-01', secret: serviceSecret }]; // 32+ random bytes, kept secret
 * app.get('/api/quote', l402({ node, rootKeys, priceSat: 10 }), (c) => c.json({ quote: pick() }));
 * ```
 */
export function l402(options: L402Options): MiddlewareHandler<L402Env> {
  assertRootKeys(options.rootKeys);
  const rootKeys = [...options.rootKeys];
  const priceSat = positiveInteger(options.priceSat, 'priceSat');
  const priceMsat = BigInt(priceSat) * 1000n;
  const maxUses = positiveInteger(options.maxUses ?? 1, 'maxUses');
  const lifetimeSecs = positiveInteger(options.tokenLifetimeSecs ?? 3600, 'tokenLifetimeSecs');
  const invoiceExpirySecs = positiveInteger(options.invoiceExpirySecs ?? 600, 'invoiceExpirySecs');
  if (options.scope !== undefined && !options.scope.startsWith('/'))
    throw new TypeError(`"scope" expected an absolute path, got ${JSON.stringify(options.scope)}`);
  const now = options.now ?? Date.now;
  const nowSec = () => Math.floor(now() / 1000);
  const store = options.store ?? new MemoryUsageStore(nowSec);

  const challenge = async (c: Context): Promise<string> => {
    const path = options.scope ?? c.req.path;
    const description =
      typeof options.description === 'function'
        ? options.description(c)
        : (options.description ?? `L402 ${path}`);
    let invoice: { bolt11: string; paymentHash: string };
    try {
      invoice = await options.node.createInvoice({
        amountMsat: priceMsat,
        description,
        expirySecs: invoiceExpirySecs,
        // unpaid challenges must cost the service nothing stored: the token carries the payment
        // hash, the preimage proves payment, so the issuer needs no record of the invoice
        stateless: true,
      });
    } catch (cause) {
      throw new L402Error('INVOICE_UNAVAILABLE', 'the Lightning node could not issue an invoice', { cause });
    }
    const { macaroon } = mintToken({
      rootKey: rootKeys[0]!,
      paymentHash: invoice.paymentHash,
      path,
      expiresAtSec: nowSec() + lifetimeSecs,
      maxUses,
      ...(options.location !== undefined ? { location: options.location } : {}),
    });
    return formatChallenge({ macaroon: base64.encode(encodeMacaroon(macaroon)), invoice: invoice.bolt11 });
  };
  const refuse = async (c: Context, code: L402ErrorCode, message: string): Promise<never> => {
    throw new L402Error(code, message, { challenge: await challenge(c) });
  };

  return async (c, next) => {
    let grant: L402Grant;
    try {
      const credentials = parseAuthorization(c.req.header('authorization'));
      if (!credentials) return await refuse(c, 'PAYMENT_REQUIRED', `pay ${priceSat} sats for ${c.req.path}`);
      grant = verifyToken({ ...credentials, rootKeys, path: c.req.path, nowSec: nowSec() });
      if (
        grant.maxUses !== undefined &&
        !(await store.consume(grant.tokenId, grant.maxUses, grant.expiresAtSec))
      )
        throw new L402Error('TOKEN_USED_UP', `token already used ${grant.maxUses} time(s)`);
    } catch (error) {
      // every refusal carries a fresh challenge, so the client can pay and retry at once
      if (error instanceof L402Error && error.status !== 503 && !error.res?.headers.has('www-authenticate'))
        return await refuse(c, error.code, error.message);
      throw error;
    }
    c.set('l402', grant);
    await next();
  };
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new TypeError(`"${name}" expected a positive integer, got ${String(value)}`);
  return value;
}
