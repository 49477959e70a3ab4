// What the person scanned or pasted, turned into an invoice we can pay — or a sentence saying why not.
// BOLT 11 is decoded by @lpw/payment-request; `lightning:` and BIP 21 `bitcoin:?lightning=` wrappers
// are unwrapped here. Nothing here changes any state.
import { type Bolt11Invoice, decodeBolt11, PaymentRequestError } from '@lpw/payment-request';

export interface PayableInvoice {
  bolt11: string;
  amountMsat: bigint | undefined;
  description: string | undefined;
  payeeNodeId: string;
  expiresAt: number;
  paymentHash: string;
}

export class SendInputError extends Error {
  override readonly name = 'SendInputError';
  constructor(
    readonly code: 'EMPTY' | 'NOT_AN_INVOICE' | 'UNSUPPORTED' | 'INVALID' | 'WRONG_NETWORK' | 'EXPIRED',
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
};

function unwrap(text: string): string {
  let t = text.trim();
  if (/^lightning:/i.test(t)) t = t.slice('lightning:'.length);
  if (/^bitcoin:/i.test(t)) {
    const query = t.indexOf('?');
    const params = new URLSearchParams(query >= 0 ? t.slice(query + 1) : '');
    const ln = params.get('lightning') ?? params.get('LIGHTNING');
    if (!ln) {
      throw new SendInputError(
        'UNSUPPORTED',
        'This is an on-chain Bitcoin address. This wallet pays Lightning invoices only.',
      );
    }
    t = ln.trim();
  }
  return t;
}

/**
 * @param network the network this wallet runs on ('regtest', 'bitcoin', …)
 * @example parsePayable(scannedText, 'regtest', Date.now())
 */
export function parsePayable(text: string, network: string | undefined, nowMs: number): PayableInvoice {
  if (typeof text !== 'string' || text.trim() === '') throw new SendInputError('EMPTY', 'Nothing to pay');
  if (text.length > 7_500)
    throw new SendInputError('NOT_AN_INVOICE', 'That is far too long to be an invoice.');
  const candidate = unwrap(text);
  if (/^lnurl/i.test(candidate) || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(candidate)) {
    throw new SendInputError(
      'UNSUPPORTED',
      'Lightning addresses and LNURL are not supported yet. Ask for an invoice (starts with “ln”).',
    );
  }
  if (/^ln[a-z0-9]*1/i.test(candidate) === false) {
    throw new SendInputError('NOT_AN_INVOICE', 'This is not a Lightning invoice.');
  }
  let invoice: Bolt11Invoice;
  try {
    invoice = decodeBolt11(candidate.toLowerCase());
  } catch (error) {
    const message = error instanceof PaymentRequestError ? error.message : 'It could not be read.';
    throw new SendInputError('INVALID', `This invoice is not valid: ${message}`);
  }
  if (network && invoice.network !== network) {
    throw new SendInputError(
      'WRONG_NETWORK',
      `This invoice is for ${NETWORK_NAMES[invoice.network] ?? invoice.network}, but this wallet uses ${NETWORK_NAMES[network] ?? network}.`,
    );
  }
  if (invoice.expiresAt * 1000 <= nowMs) {
    throw new SendInputError('EXPIRED', 'This invoice has expired. Ask the recipient for a new one.');
  }
  return {
    bolt11: candidate.toLowerCase(),
    amountMsat: invoice.amountMsat,
    description: invoice.description,
    payeeNodeId: invoice.payeeNodeId,
    expiresAt: invoice.expiresAt * 1000,
    paymentHash: invoice.paymentHash,
  };
}

/** The most we let routing cost: 1% of the amount, at least 10 sats (shown before paying). */
export function maxRoutingFeeMsat(amountMsat: bigint): bigint {
  const onePercent = amountMsat / 100n;
  return onePercent > 10_000n ? onePercent : 10_000n;
}
