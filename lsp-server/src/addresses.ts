// Lightning Addresses for the LSP's wallets: `name@<LSP host>` (LUD-16), claimed by the wallet over
// tRPC and kept with its account; LNURL-pay (LUD-06, LUD-12 comments) answered by asking the wallet's
// own node for the invoice over its BOLT 8 link (a custom message, ADDRESS_INVOICE_MESSAGE_TYPE). The
// wallet makes the invoice, so its keys never leave it; the LSP checks what it gets back (amount,
// description hash, payee) before a payer sees it. A wallet that is closed gets the payer a clear
// LNURL error at once; one that does not answer, the same error after `invoiceTimeoutMs`.
import { randomBytes } from 'node:crypto';
import {
  ADDRESS_COMMENT_ALLOWED,
  ADDRESS_INVOICE_MESSAGE_TYPE,
  type AddressInvoiceAnswer,
  type AddressOutput,
  type AddressRefusalCode,
  ApiError,
  addressInvoiceAnswer,
  addressMetadata,
  addressName,
  RECIPIENT_OFFLINE_REASON,
  readAddressMessage,
  writeAddressMessage,
} from '@lpw/api';
import type { LightningNode } from '@lpw/node';
import { type Bolt11Invoice, decodeBolt11 } from '@lpw/payment-request';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Deps } from './deps.ts';

/** A LUD-06 answer: the payRequest, the invoice, or `{status: 'ERROR', reason}` (with its HTTP status). */
export type LnurlAnswer =
  | { ok: true; body: Record<string, unknown> }
  | { ok: false; status: 200 | 404; body: { status: 'ERROR'; reason: string } };

const lnurlError = (reason: string, status: 200 | 404 = 200): LnurlAnswer => ({
  ok: false,
  status,
  body: { status: 'ERROR', reason },
});

/** What the payer is told when the wallet refused, per code (never the wallet's own words). */
const REFUSAL_REASONS: Record<AddressRefusalCode, string> = {
  AMOUNT_OUT_OF_RANGE: 'the recipient cannot receive this amount now',
  FEE_ABOVE_CAP: 'the recipient cannot receive this amount now (a channel for it costs more than they allow)',
  BAD_REQUEST: 'the recipient could not make an invoice',
  FAILED: 'the recipient could not make an invoice',
};

// bigint: Math.max takes numbers only
const maxMsat = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** An invoice must stay payable at least this long after we hand it out. */
const MIN_INVOICE_LIFE_MS = 60_000;

type AddressNode = Pick<
  LightningNode,
  'nodeId' | 'network' | 'isConnected' | 'listChannels' | 'customMessages'
>;

/**
 * Asks wallets' nodes for invoices over custom messages and pairs each answer with its question:
 * an answer whose id we did not ask, or that comes from another node than the one asked, is dropped.
 */
export class AddressInvoices {
  private readonly waiting = new Map<
    string,
    { nodeId: string; done: (answer: AddressInvoiceAnswer | undefined) => void }
  >();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly node: AddressNode,
    private readonly log: Deps['log'],
  ) {
    this.unsubscribe = node.customMessages.onMessage(ADDRESS_INVOICE_MESSAGE_TYPE, (peerId, payload) =>
      this.received(peerId, payload),
    );
  }

  /** The wallet's answer, or undefined when it did not come within `timeoutMs`. */
  ask(
    nodeId: string,
    request: { amountMsat: bigint; metadata: string; comment?: string },
    timeoutMs: number,
  ): Promise<AddressInvoiceAnswer | undefined> {
    const id = randomBytes(16).toString('hex');
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const finish = (answer: AddressInvoiceAnswer | undefined) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(answer);
      };
      this.waiting.set(id, { nodeId, done: finish });
      try {
        this.node.customMessages.send(
          nodeId,
          ADDRESS_INVOICE_MESSAGE_TYPE,
          writeAddressMessage({
            method: 'address.invoice',
            id,
            amount_msat: request.amountMsat.toString(),
            metadata: request.metadata,
            ...(request.comment ? { comment: request.comment } : {}),
          }),
        );
      } catch (error) {
        // gone between the check and the send: as offline
        this.log.debug({ err: error, nodeId }, 'address invoice request not sent');
        finish(undefined);
      }
    });
  }

  private received(peerId: string, payload: Uint8Array): void {
    const answer = readAddressMessage(addressInvoiceAnswer, payload);
    if (!answer) {
      this.log.warn({ peerId, bytes: payload.length }, 'address invoice answer malformed; dropped');
      return;
    }
    const waiting = this.waiting.get(answer.id);
    if (!waiting) return; // too late, or never asked
    // one wallet never answers for another
    if (waiting.nodeId !== peerId) {
      this.log.warn(
        { peerId, askedNodeId: waiting.nodeId },
        'address invoice answer from another node; dropped',
      );
      return;
    }
    waiting.done(answer);
  }

  close(): void {
    this.unsubscribe();
    for (const { done } of this.waiting.values()) done(undefined);
  }
}

export class AddressService {
  constructor(
    private readonly deps: Pick<Deps, 'config' | 'store' | 'log' | 'clock'> & { node: AddressNode },
    private readonly invoices: AddressInvoices,
  ) {}

  /** The origin addresses live under: PUBLIC_URL, else (regtest only) the one the request came to. */
  publicUrl(requestOrigin: string): string | undefined {
    const { config } = this.deps;
    return config.publicUrl ?? (config.network === 'regtest' ? requestOrigin : undefined);
  }

  private requirePublicUrl(requestOrigin: string): string {
    const url = this.publicUrl(requestOrigin);
    if (!url)
      throw new ApiError('ADDRESSES_OFF', 'this LSP serves no Lightning Addresses (no PUBLIC_URL set)');
    return url;
  }

  private output(name: string, publicUrl: string): AddressOutput {
    return { name, address: `${name}@${new URL(publicUrl).host}` };
  }

  async get(nodeId: string, requestOrigin: string): Promise<AddressOutput | null> {
    const record = await this.deps.store.addressNameOf(nodeId);
    const url = this.publicUrl(requestOrigin);
    return record && url ? this.output(record.name, url) : null;
  }

  async claim(nodeId: string, name: string, requestOrigin: string): Promise<AddressOutput> {
    const url = this.requirePublicUrl(requestOrigin);
    const claimed = await this.deps.store.claimAddressName(nodeId, name, this.deps.clock());
    if (!claimed.ok) throw new ApiError('NAME_TAKEN', `${name} is taken; choose another name`);
    this.deps.log.info({ nodeId, name }, 'lightning address claimed');
    return this.output(name, url);
  }

  async release(nodeId: string): Promise<{ released: boolean }> {
    return { released: await this.deps.store.releaseAddressName(nodeId) };
  }

  /** The LSP's own channels with the wallet that can carry a payment to it now. */
  private usableChannels(nodeId: string) {
    return this.deps.node.listChannels(nodeId).filter((c) => c.isUsable);
  }

  /**
   * What a payer may send: with a usable channel, from 1 sat (what does not fit buys a JIT channel,
   * as the wallet's own receive does); without one, the LSP's JIT range.
   */
  private sendable(nodeId: string): { minMsat: bigint; maxMsat: bigint } {
    const { fee } = this.deps.config;
    const channels = this.usableChannels(nodeId);
    const directMax = channels.reduce((m, c) => maxMsat(m, c.outboundMsat), 0n);
    return {
      minMsat: channels.length > 0 ? 1_000n : fee.minPaymentSizeMsat,
      maxMsat: maxMsat(directMax, fee.maxPaymentSizeMsat),
    };
  }

  /** Who holds `name` (a name that cannot be one is nobody's). */
  private async holder(name: string): Promise<string | undefined> {
    if (!addressName.safeParse(name).success) return undefined;
    return (await this.deps.store.getAddressName(name))?.nodeId;
  }

  /** LUD-16 / LUD-06 first step: `GET /.well-known/lnurlp/<name>`. */
  async payRequest(name: string, requestOrigin: string): Promise<LnurlAnswer> {
    const url = this.publicUrl(requestOrigin);
    const nodeId = url ? await this.holder(name) : undefined;
    if (!url || !nodeId) return lnurlError(`no Lightning Address ${name} here`, 404);
    // said now, before the payer types an amount
    if (!this.deps.node.isConnected(nodeId)) return lnurlError(RECIPIENT_OFFLINE_REASON);
    const { minMsat, maxMsat } = this.sendable(nodeId);
    const address = this.output(name, url).address;
    return {
      ok: true,
      body: {
        tag: 'payRequest',
        callback: `${url}/.well-known/lnurlp/${name}/callback`,
        minSendable: Number(minMsat),
        maxSendable: Number(maxMsat),
        metadata: addressMetadata(address),
        commentAllowed: ADDRESS_COMMENT_ALLOWED,
      },
    };
  }

  /** LUD-06 second step: `GET <callback>?amount=<msat>[&comment=…]` → `{pr, routes: []}`. */
  async invoice(
    name: string,
    requestOrigin: string,
    query: { amount?: string | undefined; comment?: string | undefined },
  ): Promise<LnurlAnswer> {
    const url = this.publicUrl(requestOrigin);
    const nodeId = url ? await this.holder(name) : undefined;
    if (!url || !nodeId) return lnurlError(`no Lightning Address ${name} here`, 404);
    if (!query.amount || !/^[1-9][0-9]{0,15}$/.test(query.amount))
      return lnurlError('amount must be a whole number of msat');
    const amountMsat = BigInt(query.amount);
    const { minMsat, maxMsat } = this.sendable(nodeId);
    if (amountMsat < minMsat || amountMsat > maxMsat)
      return lnurlError(`amount must be ${minMsat} to ${maxMsat} msat`);
    const comment = query.comment ?? '';
    // LUD-12 counts characters; a code point beyond the BMP is one, as the payer counted it
    if ([...comment].length > ADDRESS_COMMENT_ALLOWED)
      return lnurlError(`comment must be at most ${ADDRESS_COMMENT_ALLOWED} characters`);
    if (!this.deps.node.isConnected(nodeId)) return lnurlError(RECIPIENT_OFFLINE_REASON);
    const metadata = addressMetadata(this.output(name, url).address);
    const answer = await this.invoices.ask(
      nodeId,
      { amountMsat, metadata, ...(comment ? { comment } : {}) },
      this.deps.config.addresses.invoiceTimeoutMs,
    );
    if (!answer) return lnurlError(RECIPIENT_OFFLINE_REASON);
    if ('error' in answer) {
      this.deps.log.info({ name, code: answer.error.code }, 'wallet made no invoice for its address');
      return lnurlError(REFUSAL_REASONS[answer.error.code]);
    }
    const problem = this.invoiceProblem(answer.bolt11, { nodeId, amountMsat, metadata });
    if (problem) {
      // a wallet that lies (or is broken) gets its payer an error, never the invoice
      this.deps.log.warn({ name, nodeId, problem }, 'wallet sent a wrong invoice for its address; refused');
      return lnurlError('the recipient sent an invalid invoice');
    }
    return { ok: true, body: { pr: answer.bolt11, routes: [] } };
  }

  /** Why `bolt11` is not the invoice asked for, or undefined. */
  private invoiceProblem(
    bolt11: string,
    asked: { nodeId: string; amountMsat: bigint; metadata: string },
  ): string | undefined {
    let invoice: Bolt11Invoice;
    try {
      invoice = decodeBolt11(bolt11);
    } catch (error) {
      return `not a BOLT 11 invoice: ${(error as Error).message}`;
    }
    if (invoice.network !== this.deps.node.network)
      return `for ${invoice.network}, not ${this.deps.node.network}`;
    if (invoice.payeeNodeId !== asked.nodeId) return 'payee is not the address owner';
    if (invoice.amountMsat !== asked.amountMsat)
      return `amount ${invoice.amountMsat ?? 'none'} msat, asked ${asked.amountMsat}`;
    const metadataHash = bytesToHex(sha256(new TextEncoder().encode(asked.metadata)));
    if (invoice.descriptionHash !== metadataHash) return 'description hash is not sha256(metadata)';
    if (invoice.expiresAt * 1000 < this.deps.clock() + MIN_INVOICE_LIFE_MS) return 'expires too soon';
    return undefined;
  }
}
