// The wallet's side of its Lightning Address: the LSP asks the wallet's node for an invoice over the
// BOLT 8 link (ADDRESS_INVOICE_MESSAGE_TYPE) and the wallet answers with one it made itself, whose
// `h` is SHA-256 of the metadata the LSP sent (LUD-06). Only the LSP may ask, and only for this
// wallet's own address: the metadata must name it, so the LSP cannot have the wallet sign an invoice
// that a payer of another address would take. How the invoice is made (in a channel, or through a
// JIT channel within the person's fee limit) is the caller's.
import {
  ADDRESS_INVOICE_MESSAGE_TYPE,
  type AddressInvoiceAnswer,
  type AddressInvoiceRequest,
  type AddressRefusalCode,
  addressInvoiceRequest,
  readAddressMessage,
  writeAddressMessage,
} from '@lpw/api';
import type { LightningNode } from '@lpw/node';
import { decodeBolt11 } from '@lpw/payment-request';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/** A refusal the maker throws: the LSP tells the payer in its own words per code. */
export class AddressRefusal extends Error {
  override readonly name = 'AddressRefusal';
  constructor(
    readonly code: AddressRefusalCode,
    message: string,
  ) {
    super(message);
  }
}

export interface AddressInvoiceOrder {
  amountMsat: bigint;
  /** The metadata as the LSP sent it (what the payer saw). */
  metadata: string;
  /** SHA-256 of `metadata`, hex: what the invoice must commit to. */
  descriptionHash: string;
  /** The payer's LUD-12 comment, for the payment's record. */
  comment: string | undefined;
}

export interface AddressInvoiceServer {
  node: Pick<LightningNode, 'customMessages'>;
  lspNodeId: string;
  /** The wallet's address now (`name@host`), or undefined when it has none. */
  address: () => Promise<string | undefined>;
  /** Makes the invoice (BOLT 11); throws AddressRefusal to say why not. */
  makeInvoice: (order: AddressInvoiceOrder) => Promise<string>;
  log?: (level: 'info' | 'warn', message: string) => void;
}

/** The `text/identifier` a LUD-06 metadata names, or undefined. */
export function metadataIdentifier(metadata: string): string | undefined {
  let entries: unknown;
  try {
    entries = JSON.parse(metadata);
  } catch {
    return undefined;
  }
  if (!Array.isArray(entries)) return undefined;
  const found = entries.find(
    (e): e is [string, string] => Array.isArray(e) && e[0] === 'text/identifier' && typeof e[1] === 'string',
  );
  return found?.[1];
}

/**
 * Answers the LSP's invoice requests until the returned function is called.
 * @example
 * const stop = serveAddressInvoices({ node, lspNodeId, address: async () => 'alice@lsp.example',
 *   makeInvoice: async (o) => node.createInvoice({ amountMsat: o.amountMsat, description: o.metadata,
 *     hashDescription: true, expirySecs: 600 }).bolt11 });
 */
export function serveAddressInvoices(server: AddressInvoiceServer): () => void {
  const { node, lspNodeId } = server;
  const answer = async (request: AddressInvoiceRequest): Promise<AddressInvoiceAnswer> => {
    const refuse = (code: AddressRefusalCode, message: string): AddressInvoiceAnswer => {
      server.log?.('warn', `address invoice refused (${code}): ${message}`);
      return { id: request.id, error: { code, message: message.slice(0, 300) } };
    };
    const amountMsat = BigInt(request.amount_msat);
    if (amountMsat === 0n) return refuse('BAD_REQUEST', 'amount is zero');
    const own = await server.address().catch(() => undefined);
    const named = metadataIdentifier(request.metadata);
    if (!own || named !== own)
      return refuse(
        'BAD_REQUEST',
        `the metadata names ${named ?? 'no address'}, not ${own ?? 'an address of ours'}`,
      );
    // the hash is ours to compute: the LSP sends the metadata, never the hash
    const descriptionHash = bytesToHex(sha256(new TextEncoder().encode(request.metadata)));
    let bolt11: string;
    try {
      bolt11 = await server.makeInvoice({
        amountMsat,
        metadata: request.metadata,
        descriptionHash,
        comment: request.comment,
      });
    } catch (error) {
      if (error instanceof AddressRefusal) return refuse(error.code, error.message);
      return refuse('FAILED', error instanceof Error ? error.message : String(error));
    }
    const made = decodeBolt11(bolt11);
    if (made.amountMsat !== amountMsat || made.descriptionHash !== descriptionHash)
      return refuse('FAILED', 'the invoice made does not match the request');
    return { id: request.id, bolt11 };
  };
  return node.customMessages.onMessage(ADDRESS_INVOICE_MESSAGE_TYPE, (peerId, payload) => {
    if (peerId !== lspNodeId) return; // only our LSP asks for our invoices
    const request = readAddressMessage(addressInvoiceRequest, payload);
    if (!request) {
      server.log?.('warn', 'address invoice request malformed; dropped');
      return;
    }
    void answer(request).then((reply) => {
      try {
        node.customMessages.send(lspNodeId, ADDRESS_INVOICE_MESSAGE_TYPE, writeAddressMessage(reply));
      } catch (error) {
        server.log?.('warn', `address invoice answer not sent: ${(error as Error).message}`);
      }
    });
  });
}
