// The L402 HTTP headers: the challenge a 402 carries and the credentials a paid request sends.
//   WWW-Authenticate: L402 macaroon="<base64>", invoice="<bolt11>"
//   Authorization: L402 <base64 macaroon>:<hex preimage>      (scheme `LSAT` accepted too)
import { base64, base64nopad, base64url, base64urlnopad } from '@scure/base';
import { L402Error } from './errors.ts';

export interface L402Challenge {
  /** Base64 of the v2 binary macaroon, as sent. */
  macaroon: string;
  invoice: string;
}

export interface L402Credentials {
  macaroon: Uint8Array;
  /** 64 lowercase hex characters. */
  preimage: string;
}

/** Longer than any token we mint by far; bounds the work a hostile header can cause. */
const MAX_AUTHORIZATION_CHARS = 8192;

export function formatChallenge(challenge: L402Challenge): string {
  return `L402 macaroon="${challenge.macaroon}", invoice="${challenge.invoice}"`;
}

export function formatAuthorization(macaroonBase64: string, preimage: string): string {
  return `L402 ${macaroonBase64}:${preimage.toLowerCase()}`;
}

/**
 * Finds the L402 (or LSAT) challenge in a WWW-Authenticate value, which may list several challenges
 * separated by commas. Undefined when there is none with both a macaroon and an invoice.
 */
export function parseChallenge(header: string | null | undefined): L402Challenge | undefined {
  if (typeof header !== 'string' || header.length > 64 * 1024) return undefined;
  // a challenge: scheme, then auth-params `name="value"` or `name=token` separated by commas
  const scheme = /(?:^|,)\s*(L402|LSAT)\s+/gi;
  for (let match = scheme.exec(header); match !== null; match = scheme.exec(header)) {
    const params = new Map<string, string>();
    const param = /\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))\s*(,|$)/y;
    param.lastIndex = match.index + match[0].length;
    for (let p = param.exec(header); p !== null; p = param.exec(header)) {
      params.set(p[1]!.toLowerCase(), (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1'));
      if (p[4] === '') break;
    }
    const macaroon = params.get('macaroon');
    const invoice = params.get('invoice');
    if (macaroon && invoice) return { macaroon, invoice };
  }
  return undefined;
}

/**
 * Reads `Authorization: L402 <macaroon>:<preimage>`. Undefined when the header is absent or uses
 * another scheme (the request is simply unpaid); L402Error MALFORMED_AUTHORIZATION when it is an
 * L402/LSAT header that does not parse.
 */
export function parseAuthorization(header: string | null | undefined): L402Credentials | undefined {
  if (typeof header !== 'string') return undefined;
  const value = header.trim();
  const scheme = /^(L402|LSAT)(?:\s+|$)/i.exec(value);
  if (!scheme) return undefined;
  const malformed = (why: string) => new L402Error('MALFORMED_AUTHORIZATION', `Authorization: ${why}`);
  if (value.length > MAX_AUTHORIZATION_CHARS)
    throw malformed(`longer than ${MAX_AUTHORIZATION_CHARS} characters`);
  const token = value.slice(scheme[0].length);
  const colon = token.lastIndexOf(':');
  if (colon < 0) throw malformed(`expected "${scheme[1]} <macaroon>:<preimage>"`);
  const macaroonText = token.slice(0, colon);
  const preimage = token.slice(colon + 1);
  if (!/^[0-9a-fA-F]{64}$/.test(preimage)) throw malformed('preimage expected 64 hex characters');
  if (macaroonText.includes(',')) throw malformed('several macaroons (discharges) are not supported');
  const macaroon = decodeBase64(macaroonText);
  if (!macaroon) throw malformed('macaroon is not base64');
  return { macaroon, preimage: preimage.toLowerCase() };
}

/** Standard or URL-safe alphabet, padded or not (clients differ). */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length === 0 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
  const urlSafe = /[-_]/.test(text);
  const padded = text.endsWith('=');
  try {
    if (urlSafe) return padded ? base64url.decode(text) : base64urlnopad.decode(text);
    return padded || text.length % 4 === 0 ? base64.decode(text) : base64nopad.decode(text);
  } catch {
    return undefined;
  }
}
