// What a QR code or a paste may hold — BOLT 11, BOLT 12 offer, LNURL, Lightning Address, bitcoin
// address or BIP 21 URI — read into one typed payment request, checked against the wallet's network.

import { decodeAddress, looksLikeAddress, type Network, type OnchainAddress } from './address.ts';
import { assertPayable, type Bolt11Invoice, decodeBolt11 } from './bolt11.ts';
import { assertOfferPayable, type Bolt12Offer, decodeOffer } from './bolt12.ts';
import { PaymentRequestError } from './errors.ts';
import { decodeLnurl, decodeLud17, looksLikeLnurl, parseLightningAddress } from './lnurl.ts';

/** An on-chain way to pay that came with a Lightning request (BIP 21 unified QR). */
export interface OnchainFallback {
  readonly fallbackAddress?: string;
  /** The BIP 21 amount, in sats. */
  readonly fallbackAmountSat?: bigint;
}

/** BIP 21 `label` and `message`, percent-decoded. */
export interface Bip21Notes {
  readonly label?: string;
  readonly message?: string;
}

export type PaymentRequest =
  | ({ readonly kind: 'bolt11'; readonly invoice: Bolt11Invoice } & OnchainFallback & Bip21Notes)
  | ({ readonly kind: 'bolt12-offer'; readonly offer: Bolt12Offer } & OnchainFallback & Bip21Notes)
  /** A bech32 LNURL or lnurlp:// link, as the URL to fetch with resolvePayRequest. */
  | { readonly kind: 'lnurl-pay'; readonly url: string }
  | {
      readonly kind: 'lightning-address';
      readonly user: string;
      readonly domain: string;
      readonly url: string;
    }
  | ({
      readonly kind: 'onchain';
      readonly address: string;
      readonly addressType: OnchainAddress['type'];
      readonly amountSat?: bigint;
    } & Bip21Notes);

export interface ParseOptions {
  /** The wallet's network; requests for another one are refused with WRONG_NETWORK. */
  readonly network: Network;
  /** Now, in seconds since 1970, for expiry checks. */
  readonly nowSec: number;
}

const UNRECOGNIZED_MESSAGE =
  'This QR code or text is not a Lightning invoice, Lightning address or bitcoin address';
const SATS_PER_BTC = 100_000_000n;
const MAX_MONEY_SAT = 21_000_000n * SATS_PER_BTC;
const BOLT11_PREFIX = /^ln(bcrt|bc|tbs|tb|sb)[0-9]*[munp]?1/;

/**
 * Read what a QR code or a paste holds. Whitespace around it is ignored; schemes and bech32 are
 * case-insensitive. Throws PaymentRequestError: UNRECOGNIZED for anything else, WRONG_NETWORK,
 * INVOICE_EXPIRED / OFFER_EXPIRED, or the code of the rule a damaged request breaks.
 * @example
 * const request = parsePaymentRequest('lightning:LNBC2500U1PVJLUEZ...', { network: 'bitcoin', nowSec });
 * if (request.kind === 'bolt11') request.invoice.amountMsat;
 */
export function parsePaymentRequest(text: string, options: ParseOptions): PaymentRequest {
  if (typeof text !== 'string') throw new PaymentRequestError('UNRECOGNIZED', UNRECOGNIZED_MESSAGE);
  const trimmed = text.trim();
  const lower = trimmed.toLowerCase();
  if (lower.startsWith('bitcoin:')) return parseBip21(trimmed, options);
  if (lower.startsWith('lightning:')) {
    const target = trimmed.slice('lightning:'.length).replace(/^\/\//, '');
    const request = parseLightningTarget(target, options);
    if (!request) {
      throw new PaymentRequestError(
        'UNRECOGNIZED',
        'This "lightning:" link holds no Lightning invoice, offer, LNURL or Lightning address',
      );
    }
    return request;
  }
  if (/^https?:\/\//.test(lower)) return parseWebFallback(trimmed, options);
  const request = parseLightningTarget(trimmed, options);
  if (request) return request;
  if (looksLikeAddress(trimmed)) {
    const address = decodeOnchainAddress(trimmed, options.network);
    return { kind: 'onchain', address: address.address, addressType: address.type };
  }
  throw new PaymentRequestError('UNRECOGNIZED', UNRECOGNIZED_MESSAGE);
}

/** The Lightning forms (what may follow `lightning:`), or undefined when the text is none of them. */
function parseLightningTarget(text: string, options: ParseOptions): PaymentRequest | undefined {
  const lower = text.toLowerCase();
  const lud17 = decodeLud17(text);
  if (lud17 !== undefined) return { kind: 'lnurl-pay', url: lud17 };
  if (looksLikeLnurl(lower)) return { kind: 'lnurl-pay', url: decodeLnurl(text) };
  if (lower.startsWith('lno1')) {
    const offer = decodeOffer(text);
    assertOfferPayable(offer, options);
    return { kind: 'bolt12-offer', offer };
  }
  if (lower.startsWith('lni1') || lower.startsWith('lnr1')) {
    throw new PaymentRequestError(
      'UNSUPPORTED',
      'This is a BOLT 12 invoice or invoice request, not an offer; scan the offer (lno1…) instead',
    );
  }
  if (BOLT11_PREFIX.test(lower)) {
    const invoice = decodeBolt11(text);
    assertPayable(invoice, options);
    return { kind: 'bolt11', invoice };
  }
  const lightningAddress = parseLightningAddress(text);
  if (lightningAddress) return { kind: 'lightning-address', ...lightningAddress };
  return undefined;
}

// LUD-01 fallback: a web link that carries the LNURL in `?lightning=` for wallets scanning it.
function parseWebFallback(text: string, options: ParseOptions): PaymentRequest {
  let lightning: string | null = null;
  try {
    lightning = new URL(text).searchParams.get('lightning');
  } catch {
    // not a URL: falls through to UNRECOGNIZED
  }
  const request = lightning === null ? undefined : parseLightningTarget(lightning, options);
  if (!request) {
    throw new PaymentRequestError(
      'UNRECOGNIZED',
      'This is a web link, not a Lightning invoice, Lightning address or bitcoin address',
    );
  }
  return request;
}

// ---------------------------------------------------------------------------------------------------
// BIP 21 (with BIP 321's additions: keys case-insensitive, empty address, `lightning`/`lno`)

function parseBip21(uri: string, options: ParseOptions): PaymentRequest {
  const body = uri.slice('bitcoin:'.length);
  const queryStart = body.indexOf('?');
  const addressText = queryStart < 0 ? body : body.slice(0, queryStart);
  const params = readQuery(queryStart < 0 ? '' : body.slice(queryStart + 1));

  const amountText = params.get('amount');
  const amountSat = amountText === undefined ? undefined : parseBtcAmount(amountText);
  const notes: Bip21Notes = {
    ...(params.has('label') ? { label: params.get('label') } : {}),
    ...(params.has('message') ? { message: params.get('message') } : {}),
  };
  const address =
    addressText === '' ? undefined : decodeOnchainAddress(decodeComponent(addressText), options.network);
  const fallback: OnchainFallback = address
    ? {
        fallbackAddress: address.address,
        ...(amountSat === undefined ? {} : { fallbackAmountSat: amountSat }),
      }
    : {};

  // Unified QR: pay over Lightning when the URI offers it; the address stays as the fallback.
  for (const key of ['lightning', 'lno']) {
    const target = params.get(key);
    if (target === undefined) continue;
    const request = parseLightningTarget(target, options);
    if (request?.kind === 'bolt11' || request?.kind === 'bolt12-offer')
      return { ...request, ...fallback, ...notes };
    if (request) return request;
    throw new PaymentRequestError(
      'INVALID_URI',
      `The "${key}" part of this bitcoin: link is not a Lightning request`,
    );
  }
  if (!address) throw new PaymentRequestError('INVALID_URI', 'This bitcoin: link names no address to pay');
  return {
    kind: 'onchain',
    address: address.address,
    addressType: address.type,
    ...(amountSat === undefined ? {} : { amountSat }),
    ...notes,
  };
}

const SINGLE_KEYS = new Set(['amount', 'label', 'message', 'lightning', 'lno']);
// Required parameters (`req-…`) this reader understands; BIP 21 says to refuse any other.
const KNOWN_REQUIRED_KEYS: ReadonlySet<string> = new Set();

function readQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  if (query === '') return params;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    const key = decodeComponent(equals < 0 ? part : part.slice(0, equals)).toLowerCase();
    const value = decodeComponent(equals < 0 ? '' : part.slice(equals + 1));
    if (key.startsWith('req-') && !KNOWN_REQUIRED_KEYS.has(key)) {
      throw new PaymentRequestError(
        'INVALID_URI',
        `This bitcoin: link requires "${key.slice(4)}", which this wallet does not support`,
      );
    }
    if (SINGLE_KEYS.has(key) && params.has(key)) {
      throw new PaymentRequestError('INVALID_URI', `This bitcoin: link gives "${key}" more than once`);
    }
    if (!params.has(key)) params.set(key, value);
  }
  return params;
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new PaymentRequestError('INVALID_URI', 'This bitcoin: link has a broken %-escape');
  }
}

/**
 * BIP 21 amount: decimal bitcoin, at most 8 decimal places, to sats exactly (no floating point).
 * @example
 * parseBtcAmount('0.00012345'); // 12345n
 */
export function parseBtcAmount(text: string): bigint {
  const match = /^([0-9]*)(?:\.([0-9]*))?$/.exec(text);
  const whole = match?.[1] ?? '';
  const fraction = match?.[2] ?? '';
  if (!match || (whole === '' && fraction === '')) {
    throw new PaymentRequestError('INVALID_URI', `The amount "${text}" is not a decimal number of bitcoin`);
  }
  if (fraction.length > 8) {
    throw new PaymentRequestError('INVALID_URI', `The amount "${text}" is more precise than one satoshi`);
  }
  const amountSat = BigInt(whole || '0') * SATS_PER_BTC + BigInt(fraction.padEnd(8, '0'));
  if (amountSat === 0n) throw new PaymentRequestError('INVALID_URI', 'The amount is zero');
  if (amountSat > MAX_MONEY_SAT) {
    throw new PaymentRequestError('INVALID_URI', `The amount "${text}" is more than 21 million bitcoin`);
  }
  return amountSat;
}

function decodeOnchainAddress(text: string, network: Network): OnchainAddress {
  const address = decodeAddress(text);
  if (!address.networks.includes(network)) {
    throw new PaymentRequestError(
      'WRONG_NETWORK',
      `This is a ${address.networks.join('/')} address, but this wallet is on ${network}`,
    );
  }
  return address;
}
