// LNURL-pay over HTTP (LUD-06, LUD-16 Lightning Addresses, LUD-12 comments), with `fetch` injected:
// every answer of the service is checked by hand before the wallet sees it, and the invoice it
// returns must commit to the amount asked for and to the metadata shown to the person.

import type { Network } from './address.ts';
import { assertPayable, type Bolt11Invoice, decodeBolt11, verifyDescriptionHash } from './bolt11.ts';
import { PaymentRequestError } from './errors.ts';
import { checkLnurlUrl } from './lnurl.ts';

/** The part of `fetch` used here; `globalThis.fetch` fits, and so does any test double. */
export type LnurlFetch = (
  url: string,
  init: { signal?: AbortSignal; headers: Record<string, string> },
) => Promise<{ ok: boolean; status: number; url?: string; text(): Promise<string> }>;

export interface LnurlRequestOptions {
  /** Cancels the request; without it, a request gives up after `timeoutMs`. */
  readonly signal?: AbortSignal;
  /** Default 30 s. */
  readonly timeoutMs?: number;
}

/** A service's validated answer to the first LNURL-pay request (LUD-06). */
export interface PayRequest {
  /** The URL this was fetched from. */
  readonly url: string;
  /** Where to ask for an invoice; checked to be HTTPS (or .onion / loopback). */
  readonly callback: string;
  readonly minSendableMsat: bigint;
  readonly maxSendableMsat: bigint;
  /** The metadata string exactly as sent: the invoice's description hash is its SHA-256. */
  readonly metadata: string;
  /** The `text/plain` entry of the metadata, to show the person. */
  readonly description: string;
  /** `text/long-desc`, when given. */
  readonly longDescription: string | undefined;
  /** `text/identifier` or `text/email` (LUD-16), when given. */
  readonly identifier: string | undefined;
  /** LUD-12: the longest comment the service accepts; undefined or 0 when it takes none. */
  readonly commentAllowed: number | undefined;
}

const DEFAULT_TIMEOUT_MS = 30_000;
// Metadata may carry a base64 image (LUD-06), so allow some room, but not without limit.
const MAX_RESPONSE_CHARS = 1_000_000;

/**
 * Fetch and validate an LNURL-pay service's parameters (the URL from parsePaymentRequest's
 * `lnurl-pay` or `lightning-address` result).
 * @example
 * const payRequest = await resolvePayRequest(request.url, fetch);
 * payRequest.minSendableMsat; // 1000n
 */
export async function resolvePayRequest(
  url: string,
  fetch: LnurlFetch,
  options: LnurlRequestOptions = {},
): Promise<PayRequest> {
  const checkedUrl = checkLnurlUrl(url);
  const answer = await getJson(checkedUrl, fetch, options);
  if (answer.tag !== 'payRequest') {
    if (answer.tag === 'withdrawRequest' || answer.tag === 'channelRequest') {
      throw new PaymentRequestError(
        'UNSUPPORTED',
        `This LNURL is for ${answer.tag === 'withdrawRequest' ? 'withdrawing' : 'opening a channel'}, not paying`,
      );
    }
    throw badResponse(`its tag is ${JSON.stringify(answer.tag)}, not "payRequest"`);
  }
  const callback = readCallback(answer.callback);
  const minSendableMsat = readMsat(answer.minSendable, 'minSendable');
  const maxSendableMsat = readMsat(answer.maxSendable, 'maxSendable');
  if (minSendableMsat > maxSendableMsat) {
    throw badResponse(`its minSendable (${minSendableMsat}) is above its maxSendable (${maxSendableMsat})`);
  }
  if (maxSendableMsat === 0n) throw badResponse('its maxSendable is zero');
  if (typeof answer.metadata !== 'string') throw badResponse('its metadata is not a string');
  const entries = readMetadata(answer.metadata);
  const plain = entries.filter(([type]) => type === 'text/plain');
  if (plain.length !== 1) throw badResponse(`its metadata has ${plain.length} text/plain entries, not one`);
  const entry = (type: string) => entries.find(([entryType]) => entryType === type)?.[1];
  const commentAllowed = answer.commentAllowed;
  if (
    commentAllowed !== undefined &&
    !(Number.isSafeInteger(commentAllowed) && (commentAllowed as number) >= 0)
  ) {
    throw badResponse('its commentAllowed is not a non-negative integer');
  }
  return {
    url: checkedUrl,
    callback,
    minSendableMsat,
    maxSendableMsat,
    metadata: answer.metadata,
    description: plain[0]![1],
    longDescription: entry('text/long-desc'),
    identifier: entry('text/identifier') ?? entry('text/email'),
    commentAllowed: commentAllowed as number | undefined,
  };
}

export interface FetchInvoiceOptions extends LnurlRequestOptions {
  /** The wallet's network: an invoice for another one is refused. */
  readonly network: Network;
  readonly nowSec: number;
  /** LUD-12 comment; refused when longer than the service's commentAllowed. */
  readonly comment?: string;
}

/**
 * Ask the service for an invoice of `amountMsat` and check it: readable BOLT 11, exactly that
 * amount, description hash = SHA-256 of the metadata (LUD-06), the wallet's network, not expired.
 * @example
 * const bolt11 = await fetchInvoice(payRequest, 21_000n, fetch, { network: 'bitcoin', nowSec });
 */
export async function fetchInvoice(
  payRequest: PayRequest,
  amountMsat: bigint,
  fetch: LnurlFetch,
  options: FetchInvoiceOptions,
): Promise<string> {
  if (typeof amountMsat !== 'bigint' || amountMsat <= 0n) {
    throw new PaymentRequestError('AMOUNT_OUT_OF_RANGE', 'The amount must be a positive number of msat');
  }
  if (amountMsat < payRequest.minSendableMsat || amountMsat > payRequest.maxSendableMsat) {
    throw new PaymentRequestError(
      'AMOUNT_OUT_OF_RANGE',
      `This service accepts ${formatSat(payRequest.minSendableMsat)} to ${formatSat(payRequest.maxSendableMsat)}`,
    );
  }
  const callback = new URL(payRequest.callback);
  callback.searchParams.set('amount', amountMsat.toString());
  const comment = options.comment ?? '';
  if (comment !== '') {
    const allowed = payRequest.commentAllowed ?? 0;
    if (comment.length > allowed) {
      throw new PaymentRequestError(
        'COMMENT_TOO_LONG',
        allowed === 0
          ? 'This service does not take a comment'
          : `This service takes comments of up to ${allowed} characters`,
      );
    }
    callback.searchParams.set('comment', comment);
  }

  const answer = await getJson(callback.toString(), fetch, options);
  if (typeof answer.pr !== 'string') throw badResponse('it sent no invoice ("pr")');
  let invoice: Bolt11Invoice;
  try {
    invoice = decodeBolt11(answer.pr);
  } catch (error) {
    throw badResponse(`its invoice cannot be read (${(error as Error).message})`, error);
  }
  if (invoice.amountMsat !== amountMsat) {
    throw new PaymentRequestError(
      'AMOUNT_MISMATCH',
      `The service sent an invoice for ${invoice.amountMsat === undefined ? 'any amount' : `${invoice.amountMsat} msat`}, but ${amountMsat} msat was asked for`,
    );
  }
  if (!verifyDescriptionHash(invoice, payRequest.metadata)) {
    throw new PaymentRequestError(
      'DESCRIPTION_HASH_MISMATCH',
      'The service sent an invoice that does not commit to what it showed (description hash ≠ SHA-256 of its metadata)',
    );
  }
  assertPayable(invoice, options);
  return answer.pr;
}

// ---------------------------------------------------------------------------------------------------

async function getJson(
  url: string,
  fetch: LnurlFetch,
  options: LnurlRequestOptions,
): Promise<Record<string, unknown>> {
  const host = new URL(url).host;
  const signal = options.signal ?? AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let status: number;
  let ok: boolean;
  let body: string;
  try {
    const response = await fetch(url, { signal, headers: { accept: 'application/json' } });
    // A redirect must not lead away from HTTPS.
    if (response.url) checkLnurlUrl(response.url, `The service at ${host} redirected, and the new address`);
    status = response.status;
    ok = response.ok;
    body = await response.text();
  } catch (error) {
    if (error instanceof PaymentRequestError) throw error;
    throw new PaymentRequestError(
      'LNURL_UNREACHABLE',
      `The service at ${host} could not be reached (${(error as Error).message})`,
      { cause: error },
    );
  }
  if (body.length > MAX_RESPONSE_CHARS)
    throw badResponse(`its answer is longer than ${MAX_RESPONSE_CHARS} characters`);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw badResponse(`it answered HTTP ${status} with something that is not JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw badResponse(`it answered HTTP ${status} with JSON that is not an object`);
  }
  const answer = json as Record<string, unknown>;
  if (typeof answer.status === 'string' && answer.status.toUpperCase() === 'ERROR') {
    const reason = typeof answer.reason === 'string' ? answer.reason.slice(0, 500) : 'no reason given';
    throw new PaymentRequestError('LNURL_ERROR', `The service at ${host} refused: ${reason}`, { reason });
  }
  if (!ok) throw badResponse(`it answered HTTP ${status}`);
  return answer;
}

function readCallback(value: unknown): string {
  if (typeof value !== 'string') throw badResponse('its callback is not a string');
  try {
    return checkLnurlUrl(value, 'Its callback');
  } catch (error) {
    throw badResponse((error as Error).message.replace(/^Its/, 'its'), error);
  }
}

function readMsat(value: unknown, name: string): bigint {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badResponse(`its ${name} is not a whole, non-negative number of msat`);
  }
  return BigInt(value);
}

function readMetadata(metadata: string): (readonly [string, string])[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata);
  } catch {
    throw badResponse('its metadata is not JSON');
  }
  if (!Array.isArray(parsed)) throw badResponse('its metadata is not a list');
  return parsed.map((entry: unknown) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') {
      throw badResponse('its metadata has an entry that is not a [type, text] pair');
    }
    return [entry[0], entry[1]] as const;
  });
}

function formatSat(msat: bigint): string {
  const whole = msat / 1000n;
  const rest = msat % 1000n;
  return rest === 0n ? `${whole} sat` : `${whole}.${rest.toString().padStart(3, '0').replace(/0+$/, '')} sat`;
}

function badResponse(problem: string, cause?: unknown): PaymentRequestError {
  return new PaymentRequestError('LNURL_BAD_RESPONSE', `The LNURL service answered badly: ${problem}`, {
    cause,
  });
}
