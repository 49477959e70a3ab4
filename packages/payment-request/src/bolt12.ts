// BOLT 12 offers (`lno1…`): bech32 without a checksum over a TLV stream; decoded here with every
// reader rule of 12-offer-encoding.md that can be checked without talking to the offerer.

import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { bech32 } from '@scure/base';
import type { Network } from './address.ts';
import { PaymentRequestError } from './errors.ts';

/** Where a blinded path enters the network: a node id, or one end of a channel (`sciddir`). */
export type BlindedPathIntroduction =
  | { readonly nodeId: string }
  | { readonly shortChannelId: bigint; readonly direction: 0 | 1 };

export interface BlindedHop {
  /** 33-byte point, hex. */
  readonly blindedNodeId: string;
  readonly encryptedRecipientData: string;
}

export interface BlindedPath {
  readonly introduction: BlindedPathIntroduction;
  /** The first blinding point (`path_key`), hex. */
  readonly pathKey: string;
  readonly hops: readonly BlindedHop[];
}

/** A TLV record exactly as in the offer: known, unknown odd and experimental ones alike. */
export interface TlvRecord {
  readonly type: number;
  /** Value bytes, hex. */
  readonly value: string;
}

/** A decoded offer. Plain data: safe to post to or from a worker. */
export interface Bolt12Offer {
  /** The offer as one lowercase string (`+` joins removed), as a BOLT 12 payer hands it to its node. */
  readonly offer: string;
  /** Chain hashes (hex, as on the wire); empty means bitcoin only. */
  readonly chains: readonly string[];
  /** The networks among `chains` that this package knows (bitcoin when chains is empty). */
  readonly networks: readonly Network[];
  readonly metadata: string | undefined;
  /** ISO 4217 code when the amount is in a fiat currency's minor unit. */
  readonly currency: string | undefined;
  /** The offer amount in the currency's minor unit, or in msat when there is no currency. */
  readonly amount: bigint | undefined;
  /** Set only when the amount is in bitcoin. */
  readonly amountMsat: bigint | undefined;
  readonly description: string | undefined;
  /** Set feature bit numbers, ascending. */
  readonly features: readonly number[];
  /** Seconds since 1970 after which the offer is void (capped at Number.MAX_SAFE_INTEGER). */
  readonly absoluteExpiry: number | undefined;
  readonly paths: readonly BlindedPath[];
  readonly issuer: string | undefined;
  /** Undefined: one item per invoice. 0: any quantity. n: at most n. */
  readonly quantityMax: bigint | undefined;
  /** 33-byte point, hex. */
  readonly issuerId: string | undefined;
  readonly records: readonly TlvRecord[];
}

const BECH32_ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

// Genesis block hashes in the byte order BOLT 12 writes them (little-endian, as in block headers).
const CHAIN_HASHES: Readonly<Record<string, Network>> = {
  '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000': 'bitcoin',
  '43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000': 'testnet',
  f61eee3b63a380a477a063af32b2bbc97c9ff9f01f2c4225e973988108000000: 'signet',
  '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f': 'regtest',
};

const TYPE = {
  chains: 2,
  metadata: 4,
  currency: 6,
  amount: 8,
  description: 10,
  features: 12,
  absoluteExpiry: 14,
  paths: 16,
  issuer: 18,
  quantityMax: 20,
  issuerId: 22,
} as const;
const KNOWN_TYPES: ReadonlySet<number> = new Set(Object.values(TYPE));

/** Offer TLVs live in 1–79; experimental ones in 1,000,000,000–1,999,999,999. Anything else is refused. */
function isOfferType(type: bigint): boolean {
  return (type >= 1n && type <= 79n) || (type >= 1_000_000_000n && type <= 1_999_999_999n);
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decode and check a BOLT 12 offer.
 * @example
 * const offer = decodeOffer('lno1pgx9getnwss8vetrw3hhyuckyypwa3eyt44h6txtxquqh7lz5djge4afgfjn7k4rgrkuag0jsd5xvxg');
 * offer.description; // 'Test vectors'
 */
export function decodeOffer(text: string): Bolt12Offer {
  const { offer, bytes } = decodeBech32NoChecksum(text);
  const records = readTlvStream(bytes);
  const value = (type: number) => records.find((record) => record.type === type)?.bytes;

  for (const record of records) {
    if (!KNOWN_TYPES.has(record.type) && record.type % 2 === 0) {
      throw invalidOffer(`it has field ${record.type}, which is required but unknown to this wallet`);
    }
  }

  const chainsBytes = value(TYPE.chains);
  const chains = chainsBytes === undefined ? [] : readChains(chainsBytes);
  const currencyBytes = value(TYPE.currency);
  const currency = currencyBytes && readUtf8(currencyBytes, 'currency');
  const amountBytes = value(TYPE.amount);
  const amount = amountBytes && readTu64(amountBytes, 'amount');
  const descriptionBytes = value(TYPE.description);
  const description = descriptionBytes && readUtf8(descriptionBytes, 'description');
  const features = readFeatures(value(TYPE.features) ?? new Uint8Array());
  const expiryBytes = value(TYPE.absoluteExpiry);
  const absoluteExpiry = expiryBytes && readTu64(expiryBytes, 'absolute expiry');
  const pathsBytes = value(TYPE.paths);
  const paths = pathsBytes === undefined ? [] : readBlindedPaths(pathsBytes);
  const issuerBytes = value(TYPE.issuer);
  const issuer = issuerBytes && readUtf8(issuerBytes, 'issuer');
  const quantityBytes = value(TYPE.quantityMax);
  const quantityMax = quantityBytes && readTu64(quantityBytes, 'quantity_max');
  const issuerIdBytes = value(TYPE.issuerId);
  const issuerId = issuerIdBytes && readPoint(issuerIdBytes, 'issuer id');

  if (amount === 0n) throw invalidOffer('its amount is zero');
  if (amount !== undefined && description === undefined) {
    throw invalidOffer('it has an amount but no description of what is paid for');
  }
  if (currency !== undefined && amount === undefined) throw invalidOffer('it names a currency but no amount');
  if (issuerId === undefined && pathsBytes === undefined) {
    throw invalidOffer('it names neither an issuer nor a path to reach one');
  }

  return {
    offer,
    chains,
    networks:
      chains.length === 0
        ? ['bitcoin']
        : chains.flatMap((chain) => (CHAIN_HASHES[chain] ? [CHAIN_HASHES[chain]] : [])),
    metadata: value(TYPE.metadata) && bytesToHex(value(TYPE.metadata)!),
    currency,
    amount,
    amountMsat: currency === undefined ? amount : undefined,
    description,
    features,
    absoluteExpiry:
      absoluteExpiry === undefined
        ? undefined
        : Number(absoluteExpiry > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : absoluteExpiry),
    paths,
    issuer,
    quantityMax,
    issuerId,
    records: records.map((record) => ({ type: record.type, value: bytesToHex(record.bytes) })),
  };
}

/** Throws WRONG_NETWORK or OFFER_EXPIRED when a wallet on `network` at `nowSec` cannot use the offer. */
export function assertOfferPayable(
  offer: Pick<Bolt12Offer, 'networks' | 'absoluteExpiry'>,
  options: { network: Network; nowSec: number },
): void {
  if (!offer.networks.includes(options.network)) {
    const named =
      offer.networks.length > 0 ? offer.networks.join(' or ') : 'a chain this wallet does not know';
    throw new PaymentRequestError(
      'WRONG_NETWORK',
      `This offer is for ${named}, but this wallet is on ${options.network}`,
    );
  }
  if (offer.absoluteExpiry !== undefined && options.nowSec >= offer.absoluteExpiry) {
    const when = new Date(offer.absoluteExpiry * 1000).toISOString();
    throw new PaymentRequestError('OFFER_EXPIRED', `This offer expired at ${when}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Encoding layers

function decodeBech32NoChecksum(text: string): { offer: string; bytes: Uint8Array } {
  const trimmed = text.trim();
  // "+ followed by whitespace" lets long offers span lines; it is only valid between characters.
  if (/^\+|\+\s*$/.test(trimmed)) throw invalidOffer('it starts or ends with "+"');
  const joined = trimmed.replace(/\+\s*/g, '');
  const lower = joined.toLowerCase();
  if (joined !== lower && joined !== joined.toUpperCase()) {
    throw invalidOffer('it mixes upper and lower case letters');
  }
  if (!lower.startsWith('lno1')) throw invalidOffer('it does not start with "lno1"');
  const words: number[] = [];
  for (const char of lower.slice(4)) {
    const word = BECH32_ALPHABET.indexOf(char);
    if (word < 0) throw invalidOffer(`it contains ${JSON.stringify(char)}, which bech32 does not use`);
    words.push(word);
  }
  const bytes = bech32.fromWordsUnsafe(words);
  if (!bytes) throw invalidOffer('its last character carries invalid padding bits');
  if (bytes.length === 0) throw invalidOffer('it is empty');
  return { offer: lower, bytes };
}

interface RawRecord {
  readonly type: number;
  readonly bytes: Uint8Array;
}

function readTlvStream(bytes: Uint8Array): RawRecord[] {
  const reader = new ByteReader(bytes);
  const records: RawRecord[] = [];
  let previous = -1n;
  while (!reader.done()) {
    const type = reader.bigSize('a field type');
    if (type <= previous) throw invalidOffer(`field ${type} comes after field ${previous}, out of order`);
    if (!isOfferType(type)) throw invalidOffer(`field ${type} is outside the ranges an offer may use`);
    const length = reader.bigSize(`the length of field ${type}`);
    if (length > BigInt(reader.remaining())) throw invalidOffer(`field ${type} is cut short`);
    records.push({ type: Number(type), bytes: reader.take(Number(length), `field ${type}`) });
    previous = type;
  }
  return records;
}

class ByteReader {
  private position = 0;
  constructor(private readonly bytes: Uint8Array) {}

  done(): boolean {
    return this.position >= this.bytes.length;
  }

  remaining(): number {
    return this.bytes.length - this.position;
  }

  take(length: number, what: string): Uint8Array {
    if (length > this.remaining()) throw invalidOffer(`${what} is cut short`);
    const slice = this.bytes.slice(this.position, this.position + length);
    this.position += length;
    return slice;
  }

  u8(what: string): number {
    return this.take(1, what)[0]!;
  }

  bigEndian(length: number, what: string): bigint {
    let value = 0n;
    for (const byte of this.take(length, what)) value = (value << 8n) | BigInt(byte);
    return value;
  }

  /** BOLT 1 BigSize, minimally encoded. */
  bigSize(what: string): bigint {
    const first = this.u8(what);
    if (first < 0xfd) return BigInt(first);
    const [length, minimum] =
      first === 0xfd ? [2, 0xfdn] : first === 0xfe ? [4, 0x1_0000n] : [8, 0x1_0000_0000n];
    const value = this.bigEndian(length, what);
    if (value < minimum) throw invalidOffer(`${what} is not minimally encoded`);
    return value;
  }
}

// ---------------------------------------------------------------------------------------------------
// Field types

function readChains(bytes: Uint8Array): string[] {
  if (bytes.length === 0 || bytes.length % 32 !== 0) {
    throw invalidOffer(`its chain list is ${bytes.length} bytes, not a non-empty list of 32-byte hashes`);
  }
  const chains: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += 32)
    chains.push(bytesToHex(bytes.slice(offset, offset + 32)));
  return chains;
}

function readUtf8(bytes: Uint8Array, name: string): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw invalidOffer(`its ${name} is not valid UTF-8 text`);
  }
}

/** BOLT 1 truncated integer: up to 8 bytes, no leading zero byte. */
function readTu64(bytes: Uint8Array, name: string): bigint {
  if (bytes.length > 8) throw invalidOffer(`its ${name} is longer than 8 bytes`);
  if (bytes[0] === 0) throw invalidOffer(`its ${name} is not minimally encoded`);
  return new ByteReader(bytes).bigEndian(bytes.length, name);
}

function readPoint(bytes: Uint8Array, name: string): string {
  const hex = bytesToHex(bytes);
  try {
    if (bytes.length !== 33) throw new Error('not 33 bytes');
    secp256k1.Point.fromHex(hex);
  } catch {
    throw invalidOffer(`its ${name} is not a valid public key`);
  }
  return hex;
}

// No feature bit is defined for offers yet (BOLT 9), so any even (required) bit is one we lack.
function readFeatures(bytes: Uint8Array): number[] {
  const bits: number[] = [];
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[bytes.length - 1 - index]!;
    for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) bits.push(index * 8 + bit);
  }
  const required = bits.find((bit) => bit % 2 === 0);
  if (required !== undefined) {
    throw invalidOffer(`it requires feature ${required}, which this wallet does not know`);
  }
  return bits;
}

function readBlindedPaths(bytes: Uint8Array): BlindedPath[] {
  const reader = new ByteReader(bytes);
  const paths: BlindedPath[] = [];
  while (!reader.done()) paths.push(readBlindedPath(reader));
  if (paths.length === 0) throw invalidOffer('its list of paths is empty');
  return paths;
}

function readBlindedPath(reader: ByteReader): BlindedPath {
  const kind = reader.u8('a path');
  let introduction: BlindedPathIntroduction;
  if (kind === 0 || kind === 1) {
    introduction = { shortChannelId: reader.bigEndian(8, 'a path'), direction: kind };
  } else {
    const rest = reader.take(32, 'a path');
    const nodeId = new Uint8Array(33);
    nodeId[0] = kind;
    nodeId.set(rest, 1);
    introduction = { nodeId: readPoint(nodeId, 'path entry node') };
  }
  const pathKey = readPoint(reader.take(33, 'a path key'), 'path key');
  const hopCount = reader.u8('a path');
  if (hopCount === 0) throw invalidOffer('one of its paths has no hops');
  const hops: BlindedHop[] = [];
  for (let hop = 0; hop < hopCount; hop++) {
    const blindedNodeId = readPoint(reader.take(33, 'a path hop'), 'blinded node id');
    const dataLength = Number(reader.bigEndian(2, 'a path hop'));
    hops.push({ blindedNodeId, encryptedRecipientData: bytesToHex(reader.take(dataLength, 'a path hop')) });
  }
  return { introduction, pathKey, hops };
}

function invalidOffer(problem: string): PaymentRequestError {
  return new PaymentRequestError('INVALID_OFFER', `This BOLT 12 offer cannot be used: ${problem}`);
}
