// Streams to a Lightning Address or LNURL-pay recipient (LUD-06, LUD-16): every period asks the
// recipient's service for an invoice of exactly that period's amount and checks it BEFORE anything
// is reserved — amount, description hash against the metadata, network, not expired, and the same
// payee node as the periods before it. Unreachable service: an outage (waited out, then the
// stream fails); an invoice that breaks a rule: the stream fails at once, nothing paid for it.
import {
  decodeBolt11,
  fetchInvoice,
  type LnurlFetch,
  type Network,
  PaymentRequestError,
  type PayRequest,
  parsePaymentRequest,
  resolvePayRequest,
} from '@lpw/payment-request';
import { StreamError } from './errors.ts';
import { maxPeriodAmountMsat, minPeriodAmountMsat } from './periods.ts';

/** Who a stream pays: a node (keysend) or an LNURL-pay service (an invoice per period). */
export type Recipient = { kind: 'node'; nodeId: string } | { kind: 'lnurl'; url: string };

/** How a wallet reaches LNURL services, and the shortest period it allows a stream to them. */
export interface LnurlAccess {
  fetch: LnurlFetch;
  /** Each period costs one round trip to the service (through the LSP's relay in the PWA). */
  minPeriodMs: number;
}

const NODE_ID = /^0[23][0-9a-f]{64}$/;

/** `to` as a node id, a Lightning Address or an LNURL-pay (bech32 or lnurlp://), or INVALID_RECIPIENT. */
const sats = (n: bigint) => `${n} sat${n === 1n ? '' : 's'}`;

export function parseRecipient(to: string, nowSec: number): Recipient {
  const text = to.trim();
  if (NODE_ID.test(text.toLowerCase())) return { kind: 'node', nodeId: text.toLowerCase() };
  let parsed: ReturnType<typeof parsePaymentRequest> | undefined;
  try {
    // the network decides only invoices and on-chain addresses, which a stream refuses anyway
    parsed = parsePaymentRequest(text, { network: 'bitcoin', nowSec });
  } catch {
    parsed = undefined;
  }
  if (parsed?.kind === 'lightning-address' || parsed?.kind === 'lnurl-pay')
    return { kind: 'lnurl', url: parsed.url };
  throw new StreamError(
    'INVALID_RECIPIENT',
    'The recipient must be a node id (66 hex characters starting 02 or 03), a Lightning Address or an LNURL-pay.',
  );
}

/** An invoice a recipient gave for one period, checked. */
export interface PeriodInvoice {
  bolt11: string;
  paymentHash: string;
  payeeNodeId: string;
  minFinalCltvExpiryDelta: number;
}

// what the service got wrong in its invoice (it is refused and the stream fails), as opposed to
// not answering or answering nonsense (an outage, waited out)
const BAD_INVOICE = new Set<PaymentRequestError['code']>([
  'AMOUNT_MISMATCH',
  'DESCRIPTION_HASH_MISMATCH',
  'WRONG_NETWORK',
  'INVOICE_EXPIRED',
]);

function streamErrorOf(e: unknown): StreamError {
  if (e instanceof StreamError) return e;
  if (e instanceof PaymentRequestError) {
    if (BAD_INVOICE.has(e.code)) return new StreamError('INVOICE_REFUSED', e.message);
    if (e.code === 'AMOUNT_OUT_OF_RANGE') return new StreamError('AMOUNT_OUT_OF_RANGE', e.message);
    return new StreamError('RECIPIENT_UNREACHABLE', e.message);
  }
  return new StreamError('RECIPIENT_UNREACHABLE', e instanceof Error ? e.message : String(e));
}

/** Refuses a stream whose period amounts the recipient does not take (minSendable…maxSendable). */
export function checkPeriodAmounts(
  payRequest: PayRequest,
  stream: { satsPerMinute: bigint; periodMs: number },
): void {
  if (minPeriodAmountMsat(stream) < payRequest.minSendableMsat)
    throw new StreamError(
      'AMOUNT_OUT_OF_RANGE',
      `This recipient does not take payments this small: at least ${sats((payRequest.minSendableMsat + 999n) / 1000n)} a payment (raise the rate or pay less often).`,
    );
  if (maxPeriodAmountMsat(stream) > payRequest.maxSendableMsat)
    throw new StreamError(
      'AMOUNT_OUT_OF_RANGE',
      `This recipient does not take payments this large: at most ${sats(payRequest.maxSendableMsat / 1000n)} a payment (lower the rate or pay more often).`,
    );
}

/** The recipient's LNURL-pay service as one stream run sees it: resolved once, payee pinned. */
export class LnurlPayee {
  private payRequest: PayRequest | undefined;
  /** The node the first invoice named: every later one must name it too. */
  private nodeId: string | undefined;

  constructor(
    private readonly url: string,
    private readonly fetch: LnurlFetch,
    private readonly network: Network,
  ) {}

  /** The service's parameters (fetched once per run); StreamError on failure. */
  async resolve(): Promise<PayRequest> {
    try {
      this.payRequest ??= await resolvePayRequest(this.url, this.fetch, { timeoutMs: 10_000 });
    } catch (e) {
      throw streamErrorOf(e);
    }
    return this.payRequest;
  }

  /** An invoice for exactly `amountMsat`, checked; StreamError on failure (nothing was sent). */
  async invoice(amountMsat: bigint, nowSec: number): Promise<PeriodInvoice> {
    const payRequest = await this.resolve();
    try {
      const bolt11 = await fetchInvoice(payRequest, amountMsat, this.fetch, {
        network: this.network,
        nowSec,
        timeoutMs: 10_000,
      });
      const invoice = decodeBolt11(bolt11);
      this.nodeId ??= invoice.payeeNodeId;
      if (invoice.payeeNodeId !== this.nodeId)
        throw new StreamError(
          'INVOICE_REFUSED',
          `The recipient's invoice names another node (${invoice.payeeNodeId}) than its earlier ones (${this.nodeId}).`,
        );
      return {
        bolt11,
        paymentHash: invoice.paymentHash,
        payeeNodeId: invoice.payeeNodeId,
        minFinalCltvExpiryDelta: invoice.minFinalCltvExpiryDelta,
      };
    } catch (e) {
      throw streamErrorOf(e);
    }
  }
}
