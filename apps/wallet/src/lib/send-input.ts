// What the person scanned or pasted, read by @lpw/payment-request's parsePaymentRequest, turned into
// what the Send screen shows: an invoice to review, an LNURL-pay / Lightning Address service to ask
// for one, a web link to open (L402) — or a sentence saying why not. Nothing here changes any state;
// the only I/O is the injected `fetch` of the LNURL steps (direct, or the LSP's relay when the
// browser cannot reach the site: then the result says so, `viaLsp`).
import {
  type Bolt11Invoice,
  type Bolt12Offer,
  fetchInvoice,
  type LnurlFetch,
  type Network,
  type PaymentRequest,
  PaymentRequestError,
  type PaymentRequestErrorCode,
  type PayRequest,
  parsePaymentRequest,
  resolvePayRequest,
} from '@lpw/payment-request';
import type { PaymentView } from '../worker/protocol.ts';
import { formatAmount, parseAmountInput, type Unit } from './units.ts';
import { routeOf } from './web-fetch.ts';

export interface PayableInvoice {
  bolt11: string;
  amountMsat: bigint | undefined;
  description: string | undefined;
  payeeNodeId: string;
  /** Who the person meant to pay, when known (a Lightning Address or the LNURL service's host). */
  payeeName?: string;
  expiresAt: number;
  paymentHash: string;
  /**
   * An LNURL step that fetched this invoice went through the LSP's relay, which could have changed
   * what it passed on: the confirm screen says so. Absent for an invoice scanned or pasted.
   */
  viaLsp?: boolean;
  /**
   * A BOLT 12 offer (`bolt11` then holds its `lno1…` text): the worker asks its node for an
   * invoice when paying. Its payee hides behind a blinded path (`payeeNodeId` and `paymentHash`
   * are empty), and without an expiry it never expires.
   */
  offer?: true;
}

/** An LNURL-pay service's parameters, and whether they came through the LSP's relay. */
export interface FetchedPayRequest extends PayRequest {
  readonly viaLsp: boolean;
}

/** An LNURL-pay service (LNURL or Lightning Address) to fetch before there is an invoice. */
export interface LnurlTarget {
  url: string;
  /** What to call it: `alice@example.com`, or the service's host. */
  name: string;
  host: string;
}

/**
 * What the screen does with the input: review an invoice, ask an LNURL-pay service for one, or
 * open a web link (which may ask for an L402 payment).
 */
export type SendTarget =
  | { kind: 'invoice'; invoice: PayableInvoice }
  | { kind: 'lnurl'; target: LnurlTarget }
  | { kind: 'url'; url: string; host: string };

export type SendInputErrorCode =
  | 'EMPTY'
  | 'NOT_AN_INVOICE'
  | 'UNSUPPORTED'
  /** On-chain addresses: this wallet pays Lightning only. */
  | 'LIGHTNING_ONLY'
  | 'INVALID'
  | 'WRONG_NETWORK'
  | 'EXPIRED'
  /** The LNURL service cannot be reached (network, timeout). */
  | 'SERVICE_UNREACHABLE'
  /** The wallet's service provider would not contact that site (not a public https address). */
  | 'RELAY_REFUSED'
  /** The wallet's node has not told its network yet. */
  | 'NOT_READY'
  /** The LNURL service refused or answered something unusable. */
  | 'SERVICE_ERROR'
  /** An LNURL invoice for another amount, or not committing to the metadata shown (LUD-06): not paid. */
  | 'INVOICE_MISMATCH'
  | 'OUT_OF_RANGE';

export class SendInputError extends Error {
  override readonly name = 'SendInputError';
  constructor(
    readonly code: SendInputErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const NETWORK_NAMES: Record<string, string> = {
  bitcoin: 'Bitcoin mainnet',
  testnet: 'testnet',
  signet: 'signet',
  regtest: 'regtest (a test network)',
  simnet: 'simnet (a test network)',
};
const NETWORKS: readonly Network[] = ['bitcoin', 'testnet', 'signet', 'regtest', 'simnet'];

const LIGHTNING_ONLY_ONCHAIN =
  'This is an on-chain bitcoin address. This wallet pays Lightning only: ask for a Lightning invoice or Lightning address instead.';

const networkName = (network: string) => NETWORK_NAMES[network] ?? network;

function isNetwork(network: string | undefined): network is Network {
  return network !== undefined && (NETWORKS as readonly string[]).includes(network);
}

/** The networks the text parses for (for WRONG_NETWORK: which one it is really for), and its kind. */
function parseOnAnyNetwork(
  text: string,
  nowSec: number,
): { request: PaymentRequest | undefined; networks: Network[]; error: unknown } {
  const networks: Network[] = [];
  let request: PaymentRequest | undefined;
  let error: unknown;
  for (const network of NETWORKS) {
    try {
      const parsed = parsePaymentRequest(text, { network, nowSec });
      request ??= parsed;
      networks.push(network);
    } catch (err) {
      if (err instanceof PaymentRequestError && err.code === 'WRONG_NETWORK') continue;
      // valid for this network, refused for another reason (expired…)
      networks.push(network);
      error ??= err;
    }
  }
  return { request, networks, error };
}

export function toPayable(invoice: Bolt11Invoice, payeeName?: string): PayableInvoice {
  return {
    bolt11: invoice.paymentRequest.trim().toLowerCase(),
    amountMsat: invoice.amountMsat,
    description: invoice.description,
    payeeNodeId: invoice.payeeNodeId,
    ...(payeeName === undefined ? {} : { payeeName }),
    expiresAt: invoice.expiresAt * 1000,
    paymentHash: invoice.paymentHash,
  };
}

/** An offer as the confirm screen shows it; offers priced in a currency are not paid here. */
export function offerPayable(offer: Bolt12Offer): PayableInvoice {
  if (offer.currency !== undefined)
    throw new SendInputError(
      'UNSUPPORTED',
      `This offer asks for an amount in ${offer.currency}; this wallet pays offers priced in bitcoin.`,
    );
  if (offer.quantityMax !== undefined)
    throw new SendInputError(
      'UNSUPPORTED',
      'This offer sells items by quantity, which this wallet does not choose.',
    );
  return {
    bolt11: offer.offer,
    amountMsat: offer.amountMsat,
    description: offer.description,
    payeeNodeId: '',
    ...(offer.issuer === undefined ? {} : { payeeName: offer.issuer }),
    expiresAt: offer.absoluteExpiry === undefined ? Number.MAX_SAFE_INTEGER : offer.absoluteExpiry * 1000,
    paymentHash: '',
    offer: true,
  };
}

function fromRequest(request: PaymentRequest): SendTarget {
  switch (request.kind) {
    case 'bolt11':
      return { kind: 'invoice', invoice: toPayable(request.invoice) };
    case 'lnurl-pay': {
      const host = new URL(request.url).host;
      return { kind: 'lnurl', target: { url: request.url, name: host, host } };
    }
    case 'lightning-address':
      return {
        kind: 'lnurl',
        target: { url: request.url, name: `${request.user}@${request.domain}`, host: request.domain },
      };
    case 'onchain':
      throw new SendInputError('LIGHTNING_ONLY', LIGHTNING_ONLY_ONCHAIN);
    case 'bolt12-offer':
      return { kind: 'invoice', invoice: offerPayable(request.offer) };
  }
}

/**
 * Read what was scanned or pasted: a BOLT 11 invoice (plain, `lightning:`, BIP 21 `lightning=`), an
 * LNURL-pay link or a Lightning Address. Throws SendInputError with a sentence for the person.
 * @param network the network this wallet runs on ('regtest', 'bitcoin', …); undefined: not checked
 * @example readSendInput(scannedText, 'regtest', Date.now())
 */
export function readSendInput(text: string, network: string | undefined, nowMs: number): SendTarget {
  if (typeof text !== 'string' || text.trim() === '') throw new SendInputError('EMPTY', 'Nothing to pay');
  if (text.length > 7_500)
    throw new SendInputError('NOT_AN_INVOICE', 'That is far too long to be an invoice.');
  const web = webLink(text.trim());
  if (web) return { kind: 'url', url: web.toString(), host: web.host };
  const nowSec = Math.floor(nowMs / 1000);
  if (!isNetwork(network)) {
    const { request, error } = parseOnAnyNetwork(text, nowSec);
    if (request) return fromRequest(request);
    throw inputError(error ?? new PaymentRequestError('UNRECOGNIZED', ''));
  }
  try {
    return fromRequest(parsePaymentRequest(text, { network, nowSec }));
  } catch (err) {
    if (err instanceof PaymentRequestError && err.code === 'WRONG_NETWORK') {
      const { request, networks } = parseOnAnyNetwork(text, nowSec);
      if (request?.kind === 'onchain') throw new SendInputError('LIGHTNING_ONLY', LIGHTNING_ONLY_ONCHAIN);
      const what =
        request?.kind === 'bolt11' ? 'invoice' : request?.kind === 'bolt12-offer' ? 'offer' : 'request';
      const named = networks.length > 0 ? networks.map(networkName).join(' or ') : 'another network';
      throw new SendInputError(
        'WRONG_NETWORK',
        `This ${what} is for ${named}, but this wallet uses ${networkName(network)}.`,
      );
    }
    throw inputError(err);
  }
}

/** An http(s) link that is not a payment request's web fallback (`?lightning=`): a page to open. */
function webLink(text: string): URL | undefined {
  if (!/^https?:\/\//i.test(text) || /\s/.test(text)) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.searchParams.has('lightning') || url.username !== '' || url.password !== '') return undefined;
  return url;
}

const INVOICE_CODES: ReadonlySet<PaymentRequestErrorCode> = new Set<PaymentRequestErrorCode>([
  'INVALID_BECH32',
  'INVALID_CHECKSUM',
  'INVALID_PREFIX',
  'UNKNOWN_NETWORK',
  'INVALID_AMOUNT',
  'TOO_SHORT',
  'INVALID_SIGNATURE',
  'MISSING_PAYMENT_HASH',
  'MISSING_PAYMENT_SECRET',
  'MISSING_DESCRIPTION',
  'INVALID_DESCRIPTION',
  'UNKNOWN_REQUIRED_FEATURE',
  'MISSING_FEATURE_DEPENDENCY',
  'INVALID_FIELD',
]);

/** A parse error (no network I/O yet) in the person's words. */
function inputError(err: unknown): SendInputError {
  if (err instanceof SendInputError) return err;
  if (!(err instanceof PaymentRequestError)) {
    return new SendInputError('INVALID', 'This could not be read.');
  }
  const code = err.code;
  if (INVOICE_CODES.has(code))
    return new SendInputError('INVALID', `This invoice is not valid: ${err.message}.`);
  switch (code) {
    case 'UNRECOGNIZED':
      return new SendInputError(
        'NOT_AN_INVOICE',
        'This is not a Lightning invoice, Lightning address or LNURL this wallet can pay.',
      );
    case 'INVOICE_EXPIRED':
      return new SendInputError('EXPIRED', 'This invoice has expired. Ask the recipient for a new one.');
    case 'INVALID_OFFER':
      return new SendInputError('INVALID', `This offer is not valid: ${err.message}.`);
    case 'OFFER_EXPIRED':
      return new SendInputError('EXPIRED', 'This offer has expired. Ask the recipient for a new one.');
    case 'INVALID_ADDRESS':
      return new SendInputError(
        'LIGHTNING_ONLY',
        `This looks like a damaged bitcoin address (${err.message}). This wallet pays Lightning only.`,
      );
    case 'INVALID_URI':
      return new SendInputError('INVALID', `This bitcoin: link is not valid: ${err.message}.`);
    case 'INVALID_LNURL':
      return new SendInputError('INVALID', `This LNURL is not valid: ${err.message}.`);
    case 'UNSUPPORTED':
      return new SendInputError('UNSUPPORTED', `${err.message}.`);
    default:
      return serviceError(err, undefined);
  }
}

/** What the LSP's relay said, when a request to another origin failed there (code from the worker). */
function relayRefusal(err: unknown): { code: string; reason: string } | undefined {
  const cause = (err as { cause?: unknown })?.cause ?? err;
  const code = (cause as { code?: unknown })?.code;
  if (typeof code !== 'string' || !code.startsWith('RELAY_')) return undefined;
  return { code, reason: String((cause as Error).message ?? '').replace(/^[A-Z_]+: /, '') };
}

/**
 * An error of the LNURL steps in the person's words; `viaLsp`: the answer came through the LSP's
 * relay, which may be what changed it.
 */
export function serviceError(err: unknown, host: string | undefined, viaLsp = false): SendInputError {
  if (err instanceof SendInputError) return err;
  const name = host ?? 'The payment service';
  const relay = relayRefusal(err);
  if (relay?.code === 'RELAY_REFUSED') {
    return new SendInputError(
      'RELAY_REFUSED',
      `Your service provider won't contact ${host ?? 'this site'} for you: ${relay.reason}. Nothing was paid.`,
    );
  }
  if (relay?.code === 'RELAY_TOO_LARGE') {
    return new SendInputError(
      'SERVICE_ERROR',
      `${name} answered too much to be an LNURL service. Nothing was paid.`,
    );
  }
  if (!(err instanceof PaymentRequestError)) {
    return new SendInputError(
      'SERVICE_ERROR',
      `${name} could not be used: ${String((err as Error)?.message ?? err)}`,
    );
  }
  switch (err.code) {
    case 'LNURL_UNREACHABLE':
      return new SendInputError(
        'SERVICE_UNREACHABLE',
        `${name} can't be reached right now. Try again in a moment.`,
      );
    case 'LNURL_ERROR':
      return new SendInputError('SERVICE_ERROR', `${name} refused: ${err.reason ?? 'no reason given'}`);
    case 'LNURL_BAD_RESPONSE':
      return new SendInputError(
        'SERVICE_ERROR',
        `${name} answered something this wallet can't use. Nothing was paid.`,
      );
    case 'AMOUNT_MISMATCH':
    case 'DESCRIPTION_HASH_MISMATCH':
      return new SendInputError(
        'INVOICE_MISMATCH',
        viaLsp
          ? `The invoice that came via your LSP for ${host ?? 'this site'} doesn't match what the site showed, so it was not paid.`
          : `${name} sent an invoice that doesn't match what it showed, so it was not paid.`,
      );
    case 'AMOUNT_OUT_OF_RANGE':
      return new SendInputError('OUT_OF_RANGE', `${err.message}.`);
    case 'COMMENT_TOO_LONG':
      return new SendInputError('INVALID', `${err.message}.`);
    case 'INVOICE_EXPIRED':
      return new SendInputError('EXPIRED', `${name} sent an invoice that has already expired. Try again.`);
    case 'WRONG_NETWORK':
      return new SendInputError(
        'WRONG_NETWORK',
        `${name} sent an invoice for another network: ${err.message}.`,
      );
    case 'UNSUPPORTED':
    case 'INVALID_LNURL':
      return new SendInputError('UNSUPPORTED', `${err.message}.`);
    default:
      return new SendInputError(
        'SERVICE_ERROR',
        `${name} sent an invoice that is not valid: ${err.message}.`,
      );
  }
}

/** `fetch`, noting whether any of its answers came through the LSP's relay (web-fetch.ts). */
function noting(fetch: LnurlFetch): { fetch: LnurlFetch; viaLsp: () => boolean } {
  let viaLsp = false;
  return {
    fetch: async (url, init) => {
      const answer = await fetch(url, init);
      if (routeOf(answer) === 'relay') viaLsp = true;
      return answer;
    },
    viaLsp: () => viaLsp,
  };
}

/** Step 1 of LNURL-pay: the service's limits and description. Throws SendInputError. */
export async function resolveLnurl(target: LnurlTarget, fetch: LnurlFetch): Promise<FetchedPayRequest> {
  const noted = noting(fetch);
  try {
    return { ...(await resolvePayRequest(target.url, noted.fetch)), viaLsp: noted.viaLsp() };
  } catch (err) {
    throw serviceError(err, target.host);
  }
}

/** What the person typed for an LNURL-pay amount, checked against the service's range. */
export function lnurlAmountMsat(text: string, unit: Unit, payRequest: PayRequest): bigint {
  const amountMsat = parseAmountInput(text, unit);
  if (amountMsat === undefined) throw new SendInputError('OUT_OF_RANGE', 'Enter an amount.');
  const min = payRequest.minSendableMsat;
  const max = payRequest.maxSendableMsat;
  if (amountMsat < min || amountMsat > max) {
    throw new SendInputError(
      'OUT_OF_RANGE',
      min === max
        ? `This service takes exactly ${formatAmount(min, unit, 'ceil')}.`
        : `Enter between ${formatAmount(min, unit, 'ceil')} and ${formatAmount(max, unit)}.`,
    );
  }
  return amountMsat;
}

/** Step 2 of LNURL-pay: the invoice for `amountMsat`, checked, ready for the review screen. */
export async function invoiceFromLnurl(
  target: LnurlTarget,
  payRequest: FetchedPayRequest,
  amountMsat: bigint,
  fetch: LnurlFetch,
  options: { network: string | undefined; nowMs: number },
): Promise<PayableInvoice> {
  const { network } = options;
  if (!isNetwork(network)) {
    throw new SendInputError('NOT_READY', 'Your wallet is not running yet. Try again in a moment.');
  }
  const nowSec = Math.floor(options.nowMs / 1000);
  const noted = noting(fetch);
  let request: PaymentRequest;
  try {
    // checked whichever way it came: amount, network, expiry, and description hash = SHA-256 of the
    // metadata of step 1 (fetched directly when the site allowed it, so a relay that swaps only the
    // invoice is caught)
    const bolt11 = await fetchInvoice(payRequest, amountMsat, noted.fetch, { network, nowSec });
    request = parsePaymentRequest(bolt11, { network, nowSec });
  } catch (err) {
    throw serviceError(err, target.host, noted.viaLsp());
  }
  if (request.kind !== 'bolt11') throw new SendInputError('SERVICE_ERROR', `${target.host} sent no invoice.`);
  // the invoice carries only the hash of the description; show the text it commits to
  return {
    ...toPayable(request.invoice, target.name),
    description: payRequest.description,
    viaLsp: payRequest.viaLsp || noted.viaLsp(),
  };
}

/** The most we let routing cost: 1% of the amount, at least 10 sats (shown before paying). */
export function maxRoutingFeeMsat(amountMsat: bigint): bigint {
  const onePercent = amountMsat / 100n;
  return onePercent > 10_000n ? onePercent : 10_000n;
}

/**
 * The history's payment of this invoice, when it was paid or is being paid (a second payment must
 * not be offered); a failed attempt is not one: the invoice may be paid again.
 */
export function earlierPayment(
  payments: readonly PaymentView[] | undefined,
  paymentHash: string,
): PaymentView | undefined {
  return payments?.find((p) => p.paymentHash === paymentHash && p.status !== 'failed');
}
