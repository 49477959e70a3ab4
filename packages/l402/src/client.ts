// Client side of L402: fetch, and when the answer is a 402 challenge, pay its invoice (within a
// price cap) and fetch again with the token. The wallet (CLI, app) supplies `pay`.

import { decodeBolt11 } from '@lpw/payment-request';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { decodeBase64, formatAuthorization, parseChallenge } from './header.ts';
import { decodeMacaroon } from './macaroon.ts';
import { decodeIdentifier, parseCaveats, pathCovered } from './token.ts';

export type L402ClientErrorCode =
  /** 402 without a usable `WWW-Authenticate: L402 macaroon=…, invoice=…`. */
  | 'NO_CHALLENGE'
  /** The challenge's macaroon or invoice does not decode, or they name different payments. */
  | 'BAD_CHALLENGE'
  /** The invoice asks more than `maxSats` (or has no amount). */
  | 'PRICE_TOO_HIGH'
  /** `pay` returned something that is not this invoice's preimage. */
  | 'BAD_PREIMAGE';

export class L402ClientError extends Error {
  override readonly name = 'L402ClientError';
  constructor(
    readonly code: L402ClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface L402Receipt {
  /** `L402 <macaroon>:<preimage>`: pass it back as `authorization` to reuse the token. */
  authorization: string;
  bolt11: string;
  paymentHash: string;
  amountMsat: bigint;
}

/** A challenge that checked out and is within `maxSats`, before anything is paid. */
export interface L402Offer {
  /** Base64 of the macaroon, as sent. */
  macaroon: string;
  bolt11: string;
  paymentHash: string;
  amountMsat: bigint;
}

export interface FetchWithL402Options {
  /** Pays a BOLT 11 invoice, resolves with its preimage (64 hex). Failures propagate as thrown. */
  pay: (bolt11: string) => Promise<string>;
  /**
   * Asked before paying (a budget check, the person's consent, a durable note of the purchase);
   * throwing refuses the payment and propagates.
   */
  approve?: (offer: L402Offer) => void | Promise<void>;
  /** The most this call may pay, in sats; a dearer invoice is refused before paying. */
  maxSats: number;
  /** Request init; its body must be replayable (string, bytes), as the request may be sent twice. */
  init?: RequestInit;
  /** A token from an earlier receipt, tried first. */
  authorization?: string;
  /** Told after a payment, with the token for reuse; awaited before the retry (store it durably). */
  onPaid?: (receipt: L402Receipt) => unknown;
  fetch?: typeof fetch;
}

/**
 * `fetch` that pays L402 challenges: returns the response of the paid retry (or the first
 * response when it is not a 402). Throws L402ClientError when the challenge is unusable or too dear.
 *
 * @example
 * ```ts
 * const res = await fetchWithL402('http://127.0.0.1:8090/api/quote', {
 *   pay: async (bolt11) => (await node.payInvoice(bolt11)).preimage,
 *   maxSats: 20,
 * });
 * console.log(await res.json());
 * ```
 */
export async function fetchWithL402(url: string | URL, options: FetchWithL402Options): Promise<Response> {
  if (!Number.isSafeInteger(options.maxSats) || options.maxSats < 0)
    throw new TypeError(`"maxSats" expected a non-negative integer, got ${String(options.maxSats)}`);
  const doFetch = options.fetch ?? fetch;
  const send = (authorization?: string) => {
    const headers = new Headers(options.init?.headers);
    if (authorization !== undefined) headers.set('authorization', authorization);
    return doFetch(url, { ...options.init, headers });
  };
  const first = await send(options.authorization);
  if (first.status !== 402 && !(first.status === 401 && options.authorization !== undefined)) return first;
  const challenge = parseChallenge(first.headers.get('www-authenticate'));
  if (!challenge) {
    if (first.status === 401) return first;
    throw new L402ClientError('NO_CHALLENGE', `${first.status} without an L402 challenge`);
  }
  await first.body?.cancel();

  let paymentHash: string;
  let amountMsat: bigint | undefined;
  try {
    const bytes = decodeBase64(challenge.macaroon);
    if (!bytes) throw new Error('macaroon is not base64');
    paymentHash = decodeIdentifier(decodeMacaroon(bytes).identifier).paymentHash;
    const invoice = decodeBolt11(challenge.invoice);
    amountMsat = invoice.amountMsat;
    if (invoice.paymentHash !== paymentHash)
      throw new Error('invoice and macaroon name different payment hashes');
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new L402ClientError('BAD_CHALLENGE', `unusable L402 challenge: ${why}`, { cause });
  }
  if (amountMsat === undefined) throw new L402ClientError('PRICE_TOO_HIGH', 'invoice has no amount');
  if (amountMsat > BigInt(options.maxSats) * 1000n)
    throw new L402ClientError(
      'PRICE_TOO_HIGH',
      `invoice asks ${amountMsat} msat, more than ${options.maxSats} sats`,
    );

  await options.approve?.({
    macaroon: challenge.macaroon,
    bolt11: challenge.invoice,
    paymentHash,
    amountMsat,
  });
  const preimage = (await options.pay(challenge.invoice)).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(preimage) || bytesToHex(sha256(hexToBytes(preimage))) !== paymentHash)
    throw new L402ClientError('BAD_PREIMAGE', "pay() did not return the invoice's preimage");
  const authorization = formatAuthorization(challenge.macaroon, preimage);
  await options.onPaid?.({ authorization, bolt11: challenge.invoice, paymentHash, amountMsat });
  return send(authorization);
}

/** Where and until when a token we bought is good, read from its macaroon (caveats unknown here: anywhere, no end). */
export interface TokenScope {
  paths: string[];
  expiresAtSec: number | undefined;
}

/** The scope of a token bought with `macaroon` (base64, as the challenge sent it). */
export function tokenScope(macaroon: string): TokenScope {
  try {
    const bytes = decodeBase64(macaroon);
    if (!bytes) return { paths: [], expiresAtSec: undefined };
    const caveats = parseCaveats(decodeMacaroon(bytes).caveats);
    return { paths: caveats.paths, expiresAtSec: caveats.expiresAtSec };
  } catch {
    return { paths: [], expiresAtSec: undefined }; // caveats another service speaks: try it, the site decides
  }
}

/** Whether a token of `scope` may be good for `path` at `nowSec` (5 s of margin before it expires). */
export function tokenCovers(scope: TokenScope, path: string, nowSec: number): boolean {
  return (
    (scope.expiresAtSec === undefined || scope.expiresAtSec > nowSec + 5) &&
    scope.paths.every((p) => pathCovered(p, path))
  );
}
