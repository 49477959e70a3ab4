// Lightning Addresses the LSP serves for its wallets: `name@<lsp domain>` (LUD-16) answered with a
// LUD-06 payRequest (LUD-12 comments); the tRPC shapes a wallet claims, reads and releases its name
// with; and the BOLT 8 custom message in which the LSP asks the wallet's own node for the invoice.
import * as z from 'zod/mini';
import { msatString } from './amounts.ts';
import { checked } from './schema.ts';

/** Longest name we take: LUD-16 sets none; 64 keeps addresses readable and rows small. */
export const MAX_ADDRESS_NAME_LENGTH = 64;

/** LUD-16: the username part is a-z0-9-_. only. */
export const addressName = checked(
  z.string(),
  z.minLength(1, 'a name needs at least one character'),
  z.maxLength(MAX_ADDRESS_NAME_LENGTH, `a name has at most ${MAX_ADDRESS_NAME_LENGTH} characters`),
  z.regex(/^[a-z0-9._-]*$/, 'a name may hold only a-z, 0-9, "-", "_" and "." (LUD-16)'),
);

export const addressClaimInput = z.strictObject({ name: addressName });
export type AddressClaimInput = z.infer<typeof addressClaimInput>;

/** The wallet's address: its name and the whole `name@domain` to hand out. */
export const addressOutput = z.object({ name: z.string(), address: z.string() });
export type AddressOutput = z.infer<typeof addressOutput>;
export const addressGetOutput = z.nullable(addressOutput);
export const addressReleaseOutput = z.object({ released: z.boolean() });

/** LUD-12 `commentAllowed`: the longest comment (characters) a payer may send with a payment. */
export const ADDRESS_COMMENT_ALLOWED = 140;

/** The LNURL error a payer gets while the address's wallet is closed or does not answer in time. */
export const RECIPIENT_OFFLINE_REASON = 'recipient offline, try again when they are online';

/**
 * LUD-06 metadata of `address`: the text a payer's wallet shows, and LUD-16's `text/identifier`. The
 * invoice's `h` is SHA-256 of exactly this string, so both sides build it here.
 */
export function addressMetadata(address: string): string {
  return JSON.stringify([
    ['text/plain', `Pay to ${address}`],
    ['text/identifier', address],
  ]);
}

/**
 * The custom message (BOLT 1) that carries "invoice please" and its answer between the LSP's node
 * and a wallet's, as UTF-8 JSON. Odd, so a node that does not know it ignores it; not LSPS0's 37913.
 */
export const ADDRESS_INVOICE_MESSAGE_TYPE = 37915;

/** One request's id: 16 random bytes, hex. An answer names it; the LSP drops answers it did not ask. */
const requestId = checked(z.string(), z.regex(/^[0-9a-f]{32}$/, 'expected a 16-byte hex id'));

/** LSP → wallet: make an invoice of `amount_msat` whose `h` is SHA-256 of `metadata`. */
export const addressInvoiceRequest = z.strictObject({
  method: z.literal('address.invoice'),
  id: requestId,
  amount_msat: msatString,
  /** The LUD-06 metadata the payer got, verbatim (JSON text). */
  metadata: checked(z.string(), z.maxLength(4096)),
  /** The payer's LUD-12 comment, if any. */
  comment: z.optional(checked(z.string(), z.maxLength(ADDRESS_COMMENT_ALLOWED))),
});
export type AddressInvoiceRequest = z.infer<typeof addressInvoiceRequest>;

/** Why a wallet made no invoice; the LSP tells the payer in its own words per code. */
export const addressRefusalCode = z.enum(['AMOUNT_OUT_OF_RANGE', 'FEE_ABOVE_CAP', 'BAD_REQUEST', 'FAILED']);
export type AddressRefusalCode = z.infer<typeof addressRefusalCode>;

/** Wallet → LSP: the invoice, or why there is none. */
export const addressInvoiceAnswer = z.union([
  z.strictObject({ id: requestId, bolt11: checked(z.string(), z.minLength(1), z.maxLength(8192)) }),
  z.strictObject({
    id: requestId,
    error: z.strictObject({
      code: addressRefusalCode,
      message: checked(z.string(), z.maxLength(300)),
    }),
  }),
]);
export type AddressInvoiceAnswer = z.infer<typeof addressInvoiceAnswer>;

/** A custom message's bytes as JSON checked by `schema`, or undefined (not JSON, or not that shape). */
export function readAddressMessage<T extends z.ZodMiniType>(
  schema: T,
  payload: Uint8Array,
): z.infer<T> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

export function writeAddressMessage(message: AddressInvoiceRequest | AddressInvoiceAnswer): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message));
}
