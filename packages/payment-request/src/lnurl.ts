// LNURL as text: bech32 `lnurl1…` (LUD-01), `lnurlp://` links (LUD-17) and Lightning Addresses
// (LUD-16), each turned into the HTTPS URL a wallet fetches. No I/O here; see lnurl-pay.ts.

import { bech32 } from '@scure/base';
import { PaymentRequestError } from './errors.ts';

export interface LightningAddress {
  /** Lowercase, as LUD-16 allows only `a-z0-9-_.` (people type capitals anyway). */
  readonly user: string;
  /** Host, with a port when one was given (devnet). */
  readonly domain: string;
  /** `https://<domain>/.well-known/lnurlp/<user>` (http for .onion and loopback hosts). */
  readonly url: string;
}

// LUD-17: the scheme names the LNURL kind, so a wallet knows before fetching.
const LUD17_SCHEMES: Readonly<Record<string, string>> = {
  lnurlp: 'pay',
  lnurlw: 'withdraw',
  lnurlc: 'channel',
  keyauth: 'auth',
};

const LIGHTNING_ADDRESS = /^([a-z0-9._+-]+)@([a-z0-9.-]+(?::[0-9]{1,5})?)$/;
const LNURL_CHARS = /^lnurl1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]+$/;

/**
 * Whether plain HTTP is acceptable for this host: Tor hides and authenticates the server, and a
 * loopback host (the devnet) never leaves the machine. Everything else must be HTTPS (LUD-01).
 */
export function allowsPlainHttp(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host.endsWith('.onion') || host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}

/**
 * Check that `url` is one a wallet may fetch for LNURL: absolute, HTTPS (or HTTP to .onion or
 * loopback), no credentials. Returns it normalised by the URL parser.
 */
export function checkLnurlUrl(url: string, what = 'The LNURL'): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidLnurl(`${what} does not hold a valid web address`);
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && allowsPlainHttp(parsed.hostname))) {
    throw invalidLnurl(`${what} points to ${parsed.protocol}//${parsed.host}, but only https is safe`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw invalidLnurl(`${what} carries a user name or password`);
  }
  return parsed.toString();
}

/** Whether `text` (lowercased) has the shape of a bech32 LNURL. */
export function looksLikeLnurl(lower: string): boolean {
  return LNURL_CHARS.test(lower);
}

/**
 * Decode a bech32 LNURL into its URL (LUD-01); refuses LNURL-auth, which is not a payment.
 * @example
 * decodeLnurl('LNURL1DP68GURN8GHJ7...'); // 'https://service.com/api?q=3fc3645b...'
 */
export function decodeLnurl(text: string): string {
  const lower = text.toLowerCase();
  if (text !== lower && text !== text.toUpperCase()) {
    throw invalidLnurl('The LNURL mixes upper and lower case letters');
  }
  let bytes: Uint8Array;
  try {
    const decoded = bech32.decodeToBytes(lower, false);
    if (decoded.prefix !== 'lnurl') throw new Error('prefix');
    bytes = decoded.bytes;
  } catch {
    throw invalidLnurl('The LNURL is damaged: its checksum does not match');
  }
  let url: string;
  try {
    url = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalidLnurl('The LNURL does not hold text');
  }
  return refuseNonPayment(checkLnurlUrl(url));
}

/** Turn a LUD-17 link (`lnurlp://host/path`) into its URL; other LNURL kinds are refused. */
export function decodeLud17(text: string): string | undefined {
  const match = /^([a-z]+):\/\/(.*)$/is.exec(text);
  const scheme = match?.[1]?.toLowerCase();
  if (!match || scheme === undefined || !(scheme in LUD17_SCHEMES)) return undefined;
  if (scheme !== 'lnurlp') {
    throw new PaymentRequestError(
      'UNSUPPORTED',
      `This is an LNURL-${LUD17_SCHEMES[scheme]} link; this wallet can only pay (LNURL-pay)`,
    );
  }
  let host: string;
  try {
    host = new URL(`https://${match[2]}`).hostname;
  } catch {
    throw invalidLnurl('The lnurlp:// link does not hold a valid web address');
  }
  const protocol = allowsPlainHttp(host) ? 'http' : 'https';
  return checkLnurlUrl(`${protocol}://${match[2]}`, 'The lnurlp:// link');
}

/**
 * Read `user@domain` as a Lightning Address (LUD-16), or undefined when the text is not shaped
 * like one.
 * @example
 * parseLightningAddress('Satoshi@Example.com')?.url; // 'https://example.com/.well-known/lnurlp/satoshi'
 */
export function parseLightningAddress(text: string): LightningAddress | undefined {
  const match = LIGHTNING_ADDRESS.exec(text.toLowerCase());
  if (!match) return undefined;
  const [, user = '', domain = ''] = match;
  let hostname: string;
  try {
    hostname = new URL(`https://${domain}`).hostname;
  } catch {
    return undefined;
  }
  // A host with no dot is not on the internet; only loopback is accepted (devnet).
  if (!hostname.includes('.') && !allowsPlainHttp(hostname)) return undefined;
  const protocol = allowsPlainHttp(hostname) ? 'http' : 'https';
  return { user, domain, url: `${protocol}://${domain}/.well-known/lnurlp/${user}` };
}

// LUD-04: an LNURL-auth URL says so in its query (`tag=login`); other kinds are only known after the
// fetch, where resolvePayRequest checks `tag`.
function refuseNonPayment(url: string): string {
  if (new URL(url).searchParams.get('tag') === 'login') {
    throw new PaymentRequestError(
      'UNSUPPORTED',
      'This is an LNURL-auth login code, not a payment; this wallet cannot log in with it',
    );
  }
  return url;
}

function invalidLnurl(message: string): PaymentRequestError {
  return new PaymentRequestError('INVALID_LNURL', message);
}
