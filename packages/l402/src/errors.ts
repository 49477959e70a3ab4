// The one failure type of the L402 middleware: an HTTPException (so Hono's error handling turns it
// into its response) with a code the client can act on and, for 401/402, a fresh challenge.
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export type L402ErrorCode =
  /** No L402 credentials: pay the invoice in the challenge. */
  | 'PAYMENT_REQUIRED'
  /** The Authorization header is not `L402 <base64 macaroon>:<64 hex preimage>`. */
  | 'MALFORMED_AUTHORIZATION'
  /** The macaroon does not decode, or its identifier is not ours. */
  | 'MALFORMED_MACAROON'
  /** The identifier names a root key this service does not have (never had, or rotated out). */
  | 'UNKNOWN_KEY'
  /** The HMAC chain does not verify: forged, or a caveat was changed or removed. */
  | 'BAD_SIGNATURE'
  /** sha256(preimage) is not the payment hash in this token's identifier. */
  | 'WRONG_PREIMAGE'
  /** A caveat this service cannot evaluate, or a known caveat with a malformed value. */
  | 'INVALID_CAVEAT'
  /** The token's `expires` caveat has passed: pay again. */
  | 'TOKEN_EXPIRED'
  /** The token's `path` caveat does not cover this request: pay for this resource. */
  | 'WRONG_PATH'
  /** The token's `uses` caveat is spent: pay again. */
  | 'TOKEN_USED_UP'
  /** The Lightning node could not issue an invoice. */
  | 'INVOICE_UNAVAILABLE';

const STATUS: Record<L402ErrorCode, ContentfulStatusCode> = {
  PAYMENT_REQUIRED: 402,
  MALFORMED_AUTHORIZATION: 401,
  MALFORMED_MACAROON: 401,
  UNKNOWN_KEY: 401,
  BAD_SIGNATURE: 401,
  WRONG_PREIMAGE: 401,
  INVALID_CAVEAT: 401,
  TOKEN_EXPIRED: 402,
  WRONG_PATH: 402,
  TOKEN_USED_UP: 402,
  INVOICE_UNAVAILABLE: 503,
};

/**
 * 401 = the credentials are broken or forged; 402 = they were fine but do not (or no longer) pay
 * for this request. Both carry a fresh challenge (`WWW-Authenticate`) in `res`.
 */
export class L402Error extends HTTPException {
  override readonly name = 'L402Error';
  readonly code: L402ErrorCode;

  constructor(code: L402ErrorCode, message: string, options: { challenge?: string; cause?: unknown } = {}) {
    const status = STATUS[code];
    const headers = new Headers({ 'content-type': 'application/json; charset=utf-8' });
    if (options.challenge !== undefined) headers.set('www-authenticate', options.challenge);
    super(status, {
      message,
      cause: options.cause,
      res: new Response(JSON.stringify({ error: code, message }), { status, headers }),
    });
    this.code = code;
  }
}
