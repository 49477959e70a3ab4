// Macaroons with first-party caveats (Birgisson et al., "Macaroons: Cookies with Contextual Caveats
// for Decentralized Authorization in the Cloud", NDSS 2014): an HMAC-SHA256 chain from a root key
// over the identifier and then each caveat, serialized in the libmacaroons v2 binary format.
//
// Why v2 binary and not JSON: it is what L402 servers and clients exchange (Aperture and lnd encode
// macaroons with gopkg.in/macaroon.v2 in this format), so our tokens can be inspected with their
// tools, and it is compact in a header (~160 bytes for our L402 token; a JSON form with base64 fields is about twice that).
// Signatures follow libmacaroons exactly (root key personalised with HMAC keyed by
// "macaroons-key-generator"), proven by its published vectors in macaroon.test.ts.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

/** A malformed serialized macaroon; the message names what is wrong. */
export class MacaroonError extends Error {
  override readonly name = 'MacaroonError';
}

export interface Macaroon {
  /** Hint of where the macaroon is used; not covered by the signature (as in libmacaroons). */
  readonly location?: string;
  readonly identifier: Uint8Array;
  /** First-party caveat predicates, in the order they were added (each one is signed). */
  readonly caveats: readonly Uint8Array[];
  /** 32 bytes: the last link of the HMAC chain. */
  readonly signature: Uint8Array;
}

const KEY_GENERATOR = utf8ToBytes('macaroons-key-generator');

/** libmacaroons' key personalisation: the chain starts from HMAC("macaroons-key-generator", rootKey). */
function derivedKey(rootKey: Uint8Array): Uint8Array {
  // libmacaroons pads the generator to 32 bytes with zeros; HMAC pads its key to the block size
  // with zeros anyway, so the unpadded string gives the same result.
  return hmac(sha256, KEY_GENERATOR, rootKey);
}

/** Mints a macaroon: signature = HMAC(derived root key, identifier), then chained over `caveats`. */
export function mintMacaroon(
  rootKey: Uint8Array,
  identifier: Uint8Array,
  caveats: readonly (string | Uint8Array)[] = [],
  location?: string,
): Macaroon {
  let macaroon: Macaroon = {
    ...(location !== undefined ? { location } : {}),
    identifier: Uint8Array.from(identifier),
    caveats: [],
    signature: hmac(sha256, derivedKey(rootKey), identifier),
  };
  for (const caveat of caveats) macaroon = addFirstPartyCaveat(macaroon, caveat);
  return macaroon;
}

/** Attenuates: anyone holding a macaroon can add a caveat (new signature = HMAC(old signature, caveat)). */
export function addFirstPartyCaveat(macaroon: Macaroon, caveat: string | Uint8Array): Macaroon {
  const predicate = typeof caveat === 'string' ? utf8ToBytes(caveat) : Uint8Array.from(caveat);
  return {
    ...macaroon,
    caveats: [...macaroon.caveats, predicate],
    signature: hmac(sha256, macaroon.signature, predicate),
  };
}

/** True when `macaroon`'s signature is the chain from `rootKey` (constant time in the signature). */
export function verifyMacaroonSignature(macaroon: Macaroon, rootKey: Uint8Array): boolean {
  let signature = hmac(sha256, derivedKey(rootKey), macaroon.identifier);
  for (const caveat of macaroon.caveats) signature = hmac(sha256, signature, caveat);
  return constantTimeEqual(signature, macaroon.signature);
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

// ---------------------------------------------------------------- v2 binary format
// version byte 2; then fields (type varint, length varint, bytes) grouped in sections ended by EOS
// (a 0 byte): [location] identifier EOS, per caveat: [location] identifier [vid] EOS, then EOS
// closing the caveats, then the signature field.

const VERSION_2 = 2;
const EOS = 0;
const FIELD_LOCATION = 1;
const FIELD_IDENTIFIER = 2;
const FIELD_VID = 4;
const FIELD_SIGNATURE = 6;
/** Far above any L402 token; bounds the work a hostile header can cause. */
const MAX_SERIALIZED_BYTES = 4096;

export function encodeMacaroon(macaroon: Macaroon): Uint8Array {
  const out: number[] = [VERSION_2];
  const field = (type: number, value: Uint8Array) => {
    out.push(type);
    pushVarint(out, value.length);
    for (const byte of value) out.push(byte);
  };
  if (macaroon.location !== undefined) field(FIELD_LOCATION, utf8ToBytes(macaroon.location));
  field(FIELD_IDENTIFIER, macaroon.identifier);
  out.push(EOS);
  for (const caveat of macaroon.caveats) {
    field(FIELD_IDENTIFIER, caveat);
    out.push(EOS);
  }
  out.push(EOS);
  field(FIELD_SIGNATURE, macaroon.signature);
  return Uint8Array.from(out);
}

/**
 * Decodes a v2 binary macaroon. Third-party caveats (with a verification id) are refused: this
 * package mints and accepts first-party caveats only.
 */
export function decodeMacaroon(bytes: Uint8Array): Macaroon {
  if (bytes.length > MAX_SERIALIZED_BYTES)
    throw new MacaroonError(`macaroon longer than ${MAX_SERIALIZED_BYTES} bytes`);
  if (bytes[0] !== VERSION_2)
    throw new MacaroonError(`unsupported macaroon version byte ${bytes[0] ?? 'none'}`);
  const reader = new FieldReader(bytes, 1);
  let field = reader.next();
  let location: string | undefined;
  if (field?.type === FIELD_LOCATION) {
    location = utf8(field.value, 'location');
    field = reader.next();
  }
  if (field?.type !== FIELD_IDENTIFIER) throw new MacaroonError('macaroon has no identifier');
  const identifier = field.value;
  if (reader.next() !== null) throw new MacaroonError('unexpected field after the identifier');
  const caveats: Uint8Array[] = [];
  for (;;) {
    field = reader.next();
    if (field === null) break; // EOS closing the caveat list
    if (field.type === FIELD_LOCATION) field = reader.next();
    if (field?.type !== FIELD_IDENTIFIER) throw new MacaroonError('caveat has no identifier');
    caveats.push(field.value);
    field = reader.next();
    if (field?.type === FIELD_VID) throw new MacaroonError('third-party caveats are not supported');
    if (field !== null) throw new MacaroonError('unexpected field in a caveat');
  }
  field = reader.next();
  if (field?.type !== FIELD_SIGNATURE) throw new MacaroonError('macaroon has no signature');
  if (field.value.length !== 32) throw new MacaroonError('signature is not 32 bytes');
  if (!reader.atEnd()) throw new MacaroonError('trailing bytes after the signature');
  return { ...(location !== undefined ? { location } : {}), identifier, caveats, signature: field.value };
}

/** Reads fields; `null` stands for an end-of-section marker. */
class FieldReader {
  private pos: number;
  constructor(
    private readonly bytes: Uint8Array,
    start: number,
  ) {
    this.pos = start;
  }

  atEnd(): boolean {
    return this.pos === this.bytes.length;
  }

  next(): { type: number; value: Uint8Array } | null {
    const type = this.varint('field type');
    if (type === EOS) return null;
    if (![FIELD_LOCATION, FIELD_IDENTIFIER, FIELD_VID, FIELD_SIGNATURE].includes(type)) {
      throw new MacaroonError(`unknown field type ${type}`);
    }
    const length = this.varint('field length');
    if (this.pos + length > this.bytes.length) throw new MacaroonError('field runs past the end');
    const value = this.bytes.slice(this.pos, this.pos + length);
    this.pos += length;
    return { type, value };
  }

  private varint(what: string): number {
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const byte = this.bytes[this.pos++];
      if (byte === undefined) throw new MacaroonError(`${what}: unexpected end of macaroon`);
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new MacaroonError(`${what}: varint too long`);
  }
}

function pushVarint(out: number[], n: number): void {
  let rest = n;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  out.push(rest);
}

function utf8(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MacaroonError(`${what} is not UTF-8`);
  }
}
