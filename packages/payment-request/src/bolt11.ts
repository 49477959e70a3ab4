// BOLT 11 invoices: decode a string into a typed, signature-checked invoice (every reader rule of the
// spec), and encode typed fields into a signed invoice (the writer rules), with the signer injected.

import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { bech32 } from '@scure/base';
import { fallbackAddress, isValidFallbackProgram, type Network } from './address.ts';
import { PaymentRequestError } from './errors.ts';

export type { Network } from './address.ts';

/** One hop of a private route towards the payee (BOLT 11 `r` entry; the fields of BOLT 7's channel_update). */
export interface RouteHintHop {
  /** Node id (33-byte compressed key, hex) at the start of the channel. */
  readonly pubkey: string;
  readonly shortChannelId: bigint;
  readonly feeBaseMsat: bigint;
  readonly feeProportionalMillionths: number;
  readonly cltvExpiryDelta: number;
}

/** An ordered path of hops from a public node to the payee; one `r` field. */
export type RouteHint = readonly RouteHintHop[];

/** An on-chain fallback as the invoice carries it: 0–16 segwit versions, 17 P2PKH, 18 P2SH. */
export interface FallbackProgram {
  readonly version: number;
  /** Witness program or 20-byte hash, hex. */
  readonly program: string;
}

export interface FallbackAddress extends FallbackProgram {
  /** The same fallback written as an address of the invoice's network. */
  readonly address: string;
}

/** A tagged field exactly as on the wire: its letter and its 5-bit words, unknown ones included. */
export interface Bolt11TaggedField {
  readonly tag: string;
  readonly words: readonly number[];
}

/** What a writer chooses; the input of encodeBolt11. Hex strings are lowercase or uppercase hex. */
export interface Bolt11Fields {
  readonly network: Network;
  /** Omit for "any amount" (donations). */
  readonly amountMsat?: bigint;
  /** Seconds since 1970. */
  readonly timestamp: number;
  /** 32 bytes, hex. */
  readonly paymentHash: string;
  /** 32 bytes, hex. */
  readonly paymentSecret: string;
  /** Exactly one of description and descriptionHash. */
  readonly description?: string;
  /** SHA-256 of a long description, hex. */
  readonly descriptionHash?: string;
  /** Writes an `n` field; must be the signer's key. Omit to let payers recover it from the signature. */
  readonly payeeNodeId?: string;
  /** Omit for the default of 3600 s (no `x` field written). */
  readonly expirySeconds?: number;
  /** Omit for the default of 18 blocks (no `c` field written). */
  readonly minFinalCltvExpiryDelta?: number;
  readonly fallbacks?: readonly FallbackProgram[];
  readonly routeHints?: readonly RouteHint[];
  /** Feature bit numbers that are set, e.g. [8, 14, 17]. Omit or empty for no `9` field. */
  readonly features?: readonly number[];
  /** Payment metadata, hex. */
  readonly metadata?: string;
}

/** A decoded invoice whose signature has been checked. Plain data: safe to post to or from a worker. */
export interface Bolt11Invoice {
  /** The text that was decoded, as given. */
  readonly paymentRequest: string;
  readonly network: Network;
  /** Undefined when the invoice lets the payer choose the amount. */
  readonly amountMsat: bigint | undefined;
  readonly timestamp: number;
  readonly paymentHash: string;
  readonly paymentSecret: string;
  readonly description: string | undefined;
  readonly descriptionHash: string | undefined;
  /** From the `n` field when present, else recovered from the signature. */
  readonly payeeNodeId: string;
  readonly expirySeconds: number;
  /** timestamp + expirySeconds. */
  readonly expiresAt: number;
  readonly minFinalCltvExpiryDelta: number;
  readonly routeHints: readonly RouteHint[];
  /** Set feature bit numbers, ascending. */
  readonly features: readonly number[];
  readonly fallbacks: readonly FallbackAddress[];
  readonly metadata: string | undefined;
  /** 64-byte compact signature (r || s), hex. */
  readonly signature: string;
  readonly recoveryId: number;
  /** Every tagged field in wire order, including unknown and skipped ones. */
  readonly taggedFields: readonly Bolt11TaggedField[];
}

/** Signs the 32-byte invoice hash with the payee's node key; `recovery` is the ECDSA recovery id 0–3. */
export type Bolt11Signer = (hash32: Uint8Array) => { signature64: Uint8Array; recovery: number };

export const DEFAULT_EXPIRY_SECONDS = 3600;
export const DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA = 18;
/**
 * The longest description (UTF-8 bytes) one `d` field holds: 1,023 5-bit words. A longer one can
 * only be committed to as a hash (`h`), which a payer cannot read from the invoice.
 */
export const MAX_DESCRIPTION_BYTES = 639;

const BECH32_ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const TIMESTAMP_WORDS = 7;
const SIGNATURE_WORDS = 104;
const MAX_FIELD_WORDS = 1023;
const HASH_FIELD_WORDS = 52;
const PUBKEY_FIELD_WORDS = 53;
const ROUTE_HOP_BYTES = 51;
const MAX_TIMESTAMP = 2 ** 35 - 1;
const U64_MAX = 2n ** 64n - 1n;

// Longer prefixes first, so `lnbcrt` is regtest and not mainnet with amount "rt".
const CURRENCY_PREFIXES: readonly (readonly [string, Network])[] = [
  ['bcrt', 'regtest'],
  ['bc', 'bitcoin'],
  ['tbs', 'signet'],
  ['tb', 'testnet'],
  ['sb', 'simnet'],
];

// msat per unit of the human-readable amount; `p` (pico-bitcoin) is a tenth of a msat, handled apart.
const MSAT_PER_MULTIPLIER: Readonly<Record<string, bigint>> = {
  '': 100_000_000_000n,
  m: 100_000_000n,
  u: 100_000n,
  n: 100n,
};

// Even feature bits allowed in the `9` context (BOLT 9) that a payer here understands: var_onion_optin,
// payment_secret, basic_mpp, option_route_blinding, option_attribution_data, option_payment_metadata.
const KNOWN_EVEN_FEATURES: ReadonlySet<number> = new Set([8, 14, 16, 24, 36, 48]);

const TAG = {
  paymentHash: 'p',
  paymentSecret: 's',
  description: 'd',
  metadata: 'm',
  payeeNodeId: 'n',
  descriptionHash: 'h',
  expiry: 'x',
  minFinalCltvExpiryDelta: 'c',
  fallback: 'f',
  routeHint: 'r',
  features: '9',
} as const;

// ---------------------------------------------------------------------------------------------------
// Decoding

/**
 * Decode and verify a BOLT 11 invoice.
 * @example
 * const invoice = decodeBolt11('lnbc2500u1pvjluez...');
 * invoice.amountMsat; // 250000000n
 */
export function decodeBolt11(text: string): Bolt11Invoice {
  if (lastDecoded?.text === text) return lastDecoded.invoice;
  const invoice = deepFreeze(decodeVerified(text));
  lastDecoded = { text, invoice };
  return invoice;
}

/**
 * The last invoice decoded, frozen (callers share it): a payment passes its invoice through three
 * layers that each check it (the wallet's command, the LSP client, the node's payment handle), and
 * the signature's key recovery is most of a decode's cost (~2 ms in a browser worker).
 */
let lastDecoded: { text: string; invoice: Bolt11Invoice } | undefined;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function decodeVerified(text: string): Bolt11Invoice {
  if (typeof text !== 'string') {
    throw new PaymentRequestError(
      'INVALID_BECH32',
      `A BOLT 11 invoice must be text, got type=${typeof text}`,
    );
  }
  const { hrp, words } = decodeBech32(text);
  const { network, amountMsat } = parseHumanReadablePart(hrp);

  if (words.length < TIMESTAMP_WORDS + SIGNATURE_WORDS) {
    throw new PaymentRequestError(
      'TOO_SHORT',
      `The invoice is too short: it has ${words.length} data characters, but a timestamp and a signature alone need ${TIMESTAMP_WORDS + SIGNATURE_WORDS}`,
    );
  }
  const signedWords = words.slice(0, words.length - SIGNATURE_WORDS);
  const signatureBytes = wordsToBytes(words.slice(words.length - SIGNATURE_WORDS), false);
  const timestamp = Number(wordsToBigInt(signedWords.slice(0, TIMESTAMP_WORDS)));
  const taggedFields = splitTaggedFields(signedWords.slice(TIMESTAMP_WORDS));

  const hash = invoiceHash(hrp, signedWords);
  const signature64 = signatureBytes.slice(0, 64);
  const recoveryId = signatureBytes[64]!;
  const explicitPayee = firstOfLength(taggedFields, TAG.payeeNodeId, PUBKEY_FIELD_WORDS);
  const payeeNodeId = explicitPayee
    ? verifyWithPayee(signature64, hash, wordsToBytes(explicitPayee, false))
    : recoverPayee(signature64, recoveryId, hash);

  const paymentHash = firstOfLength(taggedFields, TAG.paymentHash, HASH_FIELD_WORDS);
  if (!paymentHash) {
    throw new PaymentRequestError(
      'MISSING_PAYMENT_HASH',
      'The invoice has no payment hash (`p` field of 52 characters)',
    );
  }
  const paymentSecret = firstOfLength(taggedFields, TAG.paymentSecret, HASH_FIELD_WORDS);
  if (!paymentSecret) {
    throw new PaymentRequestError(
      'MISSING_PAYMENT_SECRET',
      'The invoice has no payment secret (`s` field); paying it would let forwarding nodes probe the payee',
    );
  }
  const descriptionWords = first(taggedFields, TAG.description);
  const descriptionHash = firstOfLength(taggedFields, TAG.descriptionHash, HASH_FIELD_WORDS);
  if (descriptionWords && descriptionHash) {
    throw new PaymentRequestError(
      'INVALID_DESCRIPTION',
      'The invoice has both a description and a description hash; it must have exactly one',
    );
  }
  if (!descriptionWords && !descriptionHash) {
    throw new PaymentRequestError(
      'MISSING_DESCRIPTION',
      'The invoice has neither a description nor a description hash',
    );
  }

  const expiryWords = first(taggedFields, TAG.expiry);
  const expirySeconds = expiryWords ? readMinimalNumber(expiryWords, 'expiry (`x`)') : DEFAULT_EXPIRY_SECONDS;
  const cltvWords = first(taggedFields, TAG.minFinalCltvExpiryDelta);
  const minFinalCltvExpiryDelta = cltvWords
    ? readMinimalNumber(cltvWords, 'min_final_cltv_expiry_delta (`c`)')
    : DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA;
  const featureWords = first(taggedFields, TAG.features);
  const features = featureWords ? readFeatures(featureWords) : [];
  const metadataWords = first(taggedFields, TAG.metadata);

  return {
    paymentRequest: text,
    network,
    amountMsat,
    timestamp,
    paymentHash: bytesToHex(wordsToBytes(paymentHash, false)),
    paymentSecret: bytesToHex(wordsToBytes(paymentSecret, false)),
    description: descriptionWords ? readDescription(descriptionWords) : undefined,
    descriptionHash: descriptionHash ? bytesToHex(wordsToBytes(descriptionHash, false)) : undefined,
    payeeNodeId,
    expirySeconds,
    expiresAt: timestamp + expirySeconds,
    minFinalCltvExpiryDelta,
    routeHints: readRouteHints(taggedFields),
    features,
    fallbacks: readFallbacks(taggedFields, network),
    metadata: metadataWords ? bytesToHex(wordsToBytes(metadataWords, false)) : undefined,
    signature: bytesToHex(signature64),
    recoveryId,
    taggedFields,
  };
}

/** Whether the invoice's expiry has been reached at `nowSec` (seconds since 1970). */
export function isExpired(invoice: Pick<Bolt11Invoice, 'expiresAt'>, nowSec: number): boolean {
  return nowSec >= invoice.expiresAt;
}

/**
 * Throw unless this invoice can be paid by a wallet on `network` at `nowSec`.
 * @example
 * assertPayable(decodeBolt11(text), { network: 'bitcoin', nowSec: Math.floor(Date.now() / 1000) });
 */
export function assertPayable(
  invoice: Pick<Bolt11Invoice, 'network' | 'expiresAt'>,
  options: { network: Network; nowSec: number },
): void {
  if (invoice.network !== options.network) {
    throw new PaymentRequestError(
      'WRONG_NETWORK',
      `This invoice is for ${invoice.network}, but this wallet is on ${options.network}`,
    );
  }
  if (isExpired(invoice, options.nowSec)) {
    const when = new Date(invoice.expiresAt * 1000).toISOString();
    throw new PaymentRequestError('INVOICE_EXPIRED', `This invoice expired at ${when}`);
  }
}

/** Whether `description` is the one the invoice's `h` field commits to (BOLT 11 reader rule). */
export function verifyDescriptionHash(
  invoice: Pick<Bolt11Invoice, 'descriptionHash'>,
  description: string,
): boolean {
  return (
    invoice.descriptionHash !== undefined &&
    bytesToHex(sha256(utf8ToBytes(description))) === invoice.descriptionHash
  );
}

function decodeBech32(text: string): { hrp: string; words: number[] } {
  const lower = text.toLowerCase();
  if (text !== lower && text !== text.toUpperCase()) {
    throw new PaymentRequestError('INVALID_BECH32', 'The invoice mixes upper and lower case letters');
  }
  const separator = lower.lastIndexOf('1');
  if (separator < 1) {
    throw new PaymentRequestError(
      'INVALID_BECH32',
      'The text is not an invoice: it has no "1" after a prefix such as "lnbc"',
    );
  }
  for (const char of lower.slice(0, separator)) {
    const code = char.charCodeAt(0);
    if (code < 33 || code > 126) {
      throw new PaymentRequestError(
        'INVALID_BECH32',
        `The invoice prefix contains an invalid character ${JSON.stringify(char)}`,
      );
    }
  }
  const data = lower.slice(separator + 1);
  for (const char of data) {
    if (!BECH32_ALPHABET.includes(char)) {
      throw new PaymentRequestError(
        'INVALID_BECH32',
        `The invoice contains ${JSON.stringify(char)}, which bech32 does not use`,
      );
    }
  }
  if (data.length < 6) {
    throw new PaymentRequestError('INVALID_BECH32', 'The invoice is too short to hold a bech32 checksum');
  }
  // Everything but the checksum is checked above, so a failure here is the checksum's.
  try {
    const decoded = bech32.decode(lower as `${string}1${string}`, false);
    return { hrp: decoded.prefix, words: Array.from(decoded.words) };
  } catch {
    throw new PaymentRequestError(
      'INVALID_CHECKSUM',
      'The invoice checksum does not match: a character was mistyped, lost or changed',
    );
  }
}

function parseHumanReadablePart(hrp: string): { network: Network; amountMsat: bigint | undefined } {
  if (!hrp.startsWith('ln')) {
    throw new PaymentRequestError(
      'INVALID_PREFIX',
      `"${hrp}" is not a Lightning invoice prefix; it must start with "ln"`,
    );
  }
  const rest = hrp.slice(2);
  for (const [prefix, network] of CURRENCY_PREFIXES) {
    const amount = rest.startsWith(prefix) ? rest.slice(prefix.length) : undefined;
    if (amount !== undefined && (amount === '' || /^[0-9]/.test(amount))) {
      return { network, amountMsat: amount === '' ? undefined : parseAmount(amount) };
    }
  }
  throw new PaymentRequestError('UNKNOWN_NETWORK', `The invoice prefix "${hrp}" names no known network`);
}

function parseAmount(amount: string): bigint {
  const match = /^([0-9]+)([munp]?)$/.exec(amount);
  if (!match) {
    throw new PaymentRequestError(
      'INVALID_AMOUNT',
      `The invoice amount "${amount}" must be digits followed by nothing or one multiplier of m, u, n, p`,
    );
  }
  const [, digits = '', multiplier = ''] = match;
  if (digits.startsWith('0')) {
    throw new PaymentRequestError(
      'INVALID_AMOUNT',
      `The invoice amount "${amount}" must be positive with no leading zero`,
    );
  }
  let amountMsat: bigint;
  if (multiplier === 'p') {
    if (!digits.endsWith('0')) {
      throw new PaymentRequestError(
        'INVALID_AMOUNT',
        `The invoice amount "${amount}" is not a whole number of millisatoshis (a pico-bitcoin amount must end in 0)`,
      );
    }
    amountMsat = BigInt(digits) / 10n;
  } else {
    amountMsat = BigInt(digits) * MSAT_PER_MULTIPLIER[multiplier]!;
  }
  if (amountMsat > U64_MAX) {
    throw new PaymentRequestError(
      'INVALID_AMOUNT',
      `The invoice amount "${amount}" is larger than any payment can be`,
    );
  }
  return amountMsat;
}

function splitTaggedFields(words: readonly number[]): Bolt11TaggedField[] {
  const fields: Bolt11TaggedField[] = [];
  let at = 0;
  while (at < words.length) {
    if (at + 3 > words.length) {
      throw new PaymentRequestError(
        'INVALID_FIELD',
        'The invoice ends in the middle of a tagged field header',
      );
    }
    const tag = BECH32_ALPHABET[words[at]!]!;
    const length = words[at + 1]! * 32 + words[at + 2]!;
    const start = at + 3;
    if (start + length > words.length) {
      throw new PaymentRequestError(
        'INVALID_FIELD',
        `The invoice's \`${tag}\` field claims ${length} characters but runs into the signature`,
      );
    }
    fields.push({ tag, words: words.slice(start, start + length) });
    at = start + length;
  }
  return fields;
}

function first(fields: readonly Bolt11TaggedField[], tag: string): readonly number[] | undefined {
  return fields.find((field) => field.tag === tag)?.words;
}

// Readers skip p, h, s and n fields of any other length (spec "Examples": fields which must be ignored).
function firstOfLength(
  fields: readonly Bolt11TaggedField[],
  tag: string,
  length: number,
): readonly number[] | undefined {
  return fields.find((field) => field.tag === tag && field.words.length === length)?.words;
}

// With an `n` field the spec requires a plain verification, which rejects high-S signatures.
function verifyWithPayee(signature64: Uint8Array, hash: Uint8Array, payee: Uint8Array): string {
  let valid = false;
  try {
    valid = secp256k1.verify(signature64, hash, payee, { prehash: false, lowS: true });
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new PaymentRequestError(
      'INVALID_SIGNATURE',
      'The invoice signature is not a valid low-S signature by the payee named in its `n` field',
    );
  }
  return bytesToHex(payee);
}

// Without an `n` field the payee is whoever signed; recovery accepts high-S signatures as the spec asks.
function recoverPayee(signature64: Uint8Array, recoveryId: number, hash: Uint8Array): string {
  if (recoveryId > 3) {
    throw new PaymentRequestError(
      'INVALID_SIGNATURE',
      `The invoice signature has recovery id ${recoveryId}; it must be 0–3`,
    );
  }
  try {
    const signature = secp256k1.Signature.fromBytes(signature64, 'compact').addRecoveryBit(recoveryId);
    return bytesToHex(signature.recoverPublicKey(hash).toBytes(true));
  } catch {
    throw new PaymentRequestError(
      'INVALID_SIGNATURE',
      'The invoice signature is not valid: no payee key can be recovered from it',
    );
  }
}

function readMinimalNumber(words: readonly number[], name: string): number {
  if (words[0] === 0) {
    throw new PaymentRequestError(
      'INVALID_FIELD',
      `The invoice's ${name} field starts with a zero character; it must be minimal`,
    );
  }
  const value = wordsToBigInt(words);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new PaymentRequestError('INVALID_FIELD', `The invoice's ${name} value ${value} is out of range`);
  }
  return Number(value);
}

function readFeatures(words: readonly number[]): number[] {
  if (words[0] === 0) {
    throw new PaymentRequestError(
      'INVALID_FIELD',
      'The invoice feature field (`9`) starts with a zero character; it must be minimal',
    );
  }
  const bits: number[] = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[words.length - 1 - index]!;
    for (let bit = 0; bit < 5; bit++) {
      if (word & (1 << bit)) bits.push(index * 5 + bit);
    }
  }
  const unknownRequired = bits.filter((bit) => bit % 2 === 0 && !KNOWN_EVEN_FEATURES.has(bit));
  if (unknownRequired.length > 0) {
    throw new PaymentRequestError(
      'UNKNOWN_REQUIRED_FEATURE',
      `The invoice requires feature bit${unknownRequired.length > 1 ? 's' : ''} ${unknownRequired.join(', ')}, which this wallet does not support`,
    );
  }
  return bits;
}

function readDescription(words: readonly number[]): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(wordsToBytes(words, false));
  } catch {
    throw new PaymentRequestError('INVALID_DESCRIPTION', 'The invoice description is not valid UTF-8 text');
  }
}

// An `r` field whose size is not whole hops cannot be followed; like other malformed optional fields it is skipped.
function readRouteHints(fields: readonly Bolt11TaggedField[]): RouteHint[] {
  const hints: RouteHint[] = [];
  for (const field of fields) {
    if (field.tag !== TAG.routeHint) continue;
    const bytes = wordsToBytes(field.words, false);
    if (bytes.length === 0 || bytes.length % ROUTE_HOP_BYTES !== 0) continue;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const hops: RouteHintHop[] = [];
    for (let at = 0; at < bytes.length; at += ROUTE_HOP_BYTES) {
      hops.push({
        pubkey: bytesToHex(bytes.subarray(at, at + 33)),
        shortChannelId: view.getBigUint64(at + 33),
        feeBaseMsat: BigInt(view.getUint32(at + 41)),
        feeProportionalMillionths: view.getUint32(at + 45),
        cltvExpiryDelta: view.getUint16(at + 49),
      });
    }
    hints.push(hops);
  }
  return hints;
}

// Unknown versions must be skipped (spec); a known version with an impossible program length is skipped
// too, because a fallback is optional and the Lightning payment can still go ahead.
function readFallbacks(fields: readonly Bolt11TaggedField[], network: Network): FallbackAddress[] {
  const fallbacks: FallbackAddress[] = [];
  for (const field of fields) {
    if (field.tag !== TAG.fallback || field.words.length === 0) continue;
    const version = field.words[0]!;
    const program = wordsToBytes(field.words.slice(1), false);
    if (!isValidFallbackProgram(version, program)) continue;
    fallbacks.push({
      version,
      program: bytesToHex(program),
      address: fallbackAddress(network, version, program),
    });
  }
  return fallbacks;
}

// ---------------------------------------------------------------------------------------------------
// Encoding

/**
 * Encode and sign an invoice. `sign` is the payee's node key: a signer callback, or a 32-byte private key.
 * @example
 * const text = encodeBolt11({ network: 'regtest', amountMsat: 10_000n, timestamp, paymentHash,
 *   paymentSecret, description: 'coffee', features: [8, 14, 17] }, nodeSigner);
 */
export function encodeBolt11(fields: Bolt11Fields, sign: Bolt11Signer | Uint8Array): string {
  const taggedFields: Bolt11TaggedField[] = [];
  const add = (tag: string, words: readonly number[]) => taggedFields.push({ tag, words });

  add(TAG.paymentSecret, bytesToWords(hexField(fields.paymentSecret, 32, 'paymentSecret')));
  add(TAG.paymentHash, bytesToWords(hexField(fields.paymentHash, 32, 'paymentHash')));
  if ((fields.description === undefined) === (fields.descriptionHash === undefined)) {
    throw invalidInput('exactly one of description and descriptionHash must be given');
  }
  if (fields.description !== undefined) {
    if (typeof fields.description !== 'string') throw invalidInput('"description" expected string');
    add(TAG.description, bytesToWords(utf8ToBytes(fields.description)));
  }
  if (fields.descriptionHash !== undefined) {
    add(TAG.descriptionHash, bytesToWords(hexField(fields.descriptionHash, 32, 'descriptionHash')));
  }
  if (fields.payeeNodeId !== undefined) {
    add(TAG.payeeNodeId, bytesToWords(hexField(fields.payeeNodeId, 33, 'payeeNodeId')));
  }
  if (fields.expirySeconds !== undefined) {
    add(TAG.expiry, numberToWords(safeInteger(fields.expirySeconds, 'expirySeconds')));
  }
  if (fields.minFinalCltvExpiryDelta !== undefined) {
    add(
      TAG.minFinalCltvExpiryDelta,
      numberToWords(safeInteger(fields.minFinalCltvExpiryDelta, 'minFinalCltvExpiryDelta')),
    );
  }
  for (const fallback of fields.fallbacks ?? []) {
    const program = hexField(fallback.program, undefined, 'fallback program');
    if (!isValidFallbackProgram(fallback.version, program)) {
      throw invalidInput(
        `fallback version ${fallback.version} with a ${program.length}-byte program is not a valid address`,
      );
    }
    add(TAG.fallback, [fallback.version, ...bytesToWords(program)]);
  }
  for (const hint of fields.routeHints ?? []) add(TAG.routeHint, bytesToWords(routeHintBytes(hint)));
  const featureWords = featuresToWords(fields.features ?? []);
  if (featureWords.length > 0) add(TAG.features, featureWords);
  if (fields.metadata !== undefined)
    add(TAG.metadata, bytesToWords(hexField(fields.metadata, undefined, 'metadata')));

  const text = encodeBolt11TaggedFields(
    { network: fields.network, amountMsat: fields.amountMsat, timestamp: fields.timestamp, taggedFields },
    sign,
  );
  if (fields.payeeNodeId !== undefined) {
    // The `n` field promises who signed; a mismatch would produce an invoice nobody can pay.
    decodeBolt11(text);
  }
  return text;
}

/**
 * Sign and encode tagged fields given as raw words, in the order given (unknown tags included). The
 * building block of encodeBolt11; also re-encodes a decoded invoice's `taggedFields` byte for byte.
 */
export function encodeBolt11TaggedFields(
  invoice: {
    network: Network;
    amountMsat?: bigint | undefined;
    timestamp: number;
    taggedFields: readonly Bolt11TaggedField[];
  },
  sign: Bolt11Signer | Uint8Array,
): string {
  const prefix = CURRENCY_PREFIXES.find(([, network]) => network === invoice.network)?.[0];
  if (prefix === undefined) throw invalidInput(`unknown network ${JSON.stringify(invoice.network)}`);
  const hrp = `ln${prefix}${invoice.amountMsat === undefined ? '' : encodeAmount(invoice.amountMsat)}`;
  const timestamp = safeInteger(invoice.timestamp, 'timestamp');
  if (timestamp > MAX_TIMESTAMP) throw invalidInput(`"timestamp" ${timestamp} does not fit in 35 bits`);

  const words: number[] = [...numberToWords(timestamp, TIMESTAMP_WORDS)];
  for (const field of invoice.taggedFields) {
    const type = BECH32_ALPHABET.indexOf(field.tag);
    if (field.tag.length !== 1 || type < 0)
      throw invalidInput(`tag ${JSON.stringify(field.tag)} is not a bech32 character`);
    if (field.words.length > MAX_FIELD_WORDS) {
      throw invalidInput(
        `the \`${field.tag}\` field is ${field.words.length} characters; at most ${MAX_FIELD_WORDS} fit`,
      );
    }
    if (field.words.some((word) => !Number.isInteger(word) || word < 0 || word > 31)) {
      throw invalidInput(`the \`${field.tag}\` field holds a value that is not 5 bits`);
    }
    words.push(type, field.words.length >> 5, field.words.length & 31, ...field.words);
  }

  const signer = sign instanceof Uint8Array ? privateKeySigner(sign) : sign;
  const { signature64, recovery } = signer(invoiceHash(hrp, words));
  if (!(signature64 instanceof Uint8Array) || signature64.length !== 64) {
    throw invalidInput('the signer must return a 64-byte compact signature');
  }
  if (!Number.isInteger(recovery) || recovery < 0 || recovery > 3) {
    throw invalidInput(`the signer returned recovery id ${recovery}; it must be 0–3`);
  }
  words.push(...bytesToWords(concatBytes(signature64, Uint8Array.of(recovery))));
  return bech32.encode(hrp, words, false);
}

/** A signer over a raw 32-byte secp256k1 private key (RFC 6979 deterministic, low-S). */
export function privateKeySigner(privateKey: Uint8Array): Bolt11Signer {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== 32) {
    throw invalidInput('"privateKey" expected 32 bytes');
  }
  return (hash32) => {
    const recovered = secp256k1.sign(hash32, privateKey, { prehash: false, format: 'recovered' });
    const signature = secp256k1.Signature.fromBytes(recovered, 'recovered');
    return { signature64: signature.toBytes('compact'), recovery: signature.recovery! };
  };
}

// Shortest form: the largest multiplier that keeps the amount a whole number.
function encodeAmount(amountMsat: bigint): string {
  if (typeof amountMsat !== 'bigint' || amountMsat <= 0n || amountMsat > U64_MAX) {
    throw invalidInput(`"amountMsat" expected a positive bigint below 2^64, got ${String(amountMsat)}`);
  }
  for (const multiplier of ['', 'm', 'u', 'n']) {
    const perUnit = MSAT_PER_MULTIPLIER[multiplier]!;
    if (amountMsat % perUnit === 0n) return `${amountMsat / perUnit}${multiplier}`;
  }
  return `${amountMsat * 10n}p`;
}

function routeHintBytes(hint: RouteHint): Uint8Array {
  if (hint.length === 0) throw invalidInput('a route hint needs at least one hop');
  const bytes = new Uint8Array(hint.length * ROUTE_HOP_BYTES);
  const view = new DataView(bytes.buffer);
  hint.forEach((hop, index) => {
    const at = index * ROUTE_HOP_BYTES;
    bytes.set(hexField(hop.pubkey, 33, 'route hint pubkey'), at);
    view.setBigUint64(at + 33, unsigned(hop.shortChannelId, 64, 'shortChannelId'));
    view.setUint32(at + 41, Number(unsigned(hop.feeBaseMsat, 32, 'feeBaseMsat')));
    view.setUint32(
      at + 45,
      Number(
        unsigned(
          BigInt(safeInteger(hop.feeProportionalMillionths, 'feeProportionalMillionths')),
          32,
          'feeProportionalMillionths',
        ),
      ),
    );
    view.setUint16(
      at + 49,
      Number(unsigned(BigInt(safeInteger(hop.cltvExpiryDelta, 'cltvExpiryDelta')), 16, 'cltvExpiryDelta')),
    );
  });
  return bytes;
}

function featuresToWords(features: readonly number[]): number[] {
  const words: number[] = [];
  for (const bit of features) {
    if (!Number.isInteger(bit) || bit < 0 || bit >= MAX_FIELD_WORDS * 5)
      throw invalidInput(`feature bit ${bit} is out of range`);
    const fromEnd = Math.floor(bit / 5);
    while (words.length <= fromEnd) words.unshift(0);
    words[words.length - 1 - fromEnd]! |= 1 << (bit % 5);
  }
  return words;
}

// ---------------------------------------------------------------------------------------------------
// Words, bytes and numbers

// The signed message: the human-readable part as UTF-8, then the data words padded with 0 bits to a byte.
function invoiceHash(hrp: string, signedWords: readonly number[]): Uint8Array {
  return sha256(concatBytes(utf8ToBytes(hrp), wordsToBytes(signedWords, true)));
}

function wordsToBytes(words: readonly number[], padPartialByte: boolean): Uint8Array {
  const bytes: number[] = [];
  let accumulator = 0;
  let bits = 0;
  for (const word of words) {
    accumulator = ((accumulator << 5) | word) & 0xfff;
    bits += 5;
    while (bits >= 8) {
      bits -= 8;
      bytes.push((accumulator >> bits) & 0xff);
    }
  }
  if (padPartialByte && bits > 0) bytes.push((accumulator << (8 - bits)) & 0xff);
  return Uint8Array.from(bytes);
}

function bytesToWords(bytes: Uint8Array): number[] {
  return Array.from(bech32.toWords(bytes));
}

function wordsToBigInt(words: readonly number[]): bigint {
  let value = 0n;
  for (const word of words) value = (value << 5n) | BigInt(word);
  return value;
}

// Big-endian 5-bit words; minimal (no leading zero word) unless a fixed width is asked for.
function numberToWords(value: number, width?: number): number[] {
  const words: number[] = [];
  let rest = BigInt(value);
  while (rest > 0n || (width !== undefined && words.length < width)) {
    words.unshift(Number(rest & 31n));
    rest >>= 5n;
  }
  return words;
}

function hexField(value: string, length: number | undefined, name: string): Uint8Array {
  if (typeof value !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(value)) {
    throw invalidInput(`"${name}" expected hex, got ${JSON.stringify(value)}`);
  }
  const bytes = hexToBytes(value.toLowerCase());
  if (length !== undefined && bytes.length !== length) {
    throw invalidInput(`"${name}" expected ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

function safeInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw invalidInput(`"${name}" expected a non-negative integer, got ${value}`);
  return value;
}

function unsigned(value: bigint, bits: number, name: string): bigint {
  if (typeof value !== 'bigint' || value < 0n || value >= 1n << BigInt(bits)) {
    throw invalidInput(`"${name}" expected a bigint of at most ${bits} bits, got ${String(value)}`);
  }
  return value;
}

function invalidInput(problem: string): PaymentRequestError {
  return new PaymentRequestError('INVALID_FIELD', `Cannot encode the invoice: ${problem}`);
}
