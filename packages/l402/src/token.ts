// L402 tokens: the identifier (which invoice, which token, which root key), the first-party caveats
// this service mints and checks (path, expires, uses), and verification of macaroon + preimage.
//
// Identifier (big-endian), 67..130 bytes:
//   version u16 = 0 | payment hash (32) | token id (32 random bytes) | key id length u8 | key id (ASCII)
// The first 66 bytes are the L402 specification's version-0 identifier (version, payment hash, user
// id), so an L402 client that decodes it finds the payment hash where it expects; the key id after
// them is ours: it names the service root key that signed the token, so keys can be rotated (add a
// new one in front, keep the old one until its tokens expire, then drop it to revoke them).
//
// Caveats are `key=value` strings (the L402 convention):
//   path=/api/quote    the request path must be this path or below it (segment boundary)
//   expires=1767225600 unix seconds; refused from then on
//   uses=3             at most 3 requests, counted per token id by a UsageStore
// A holder may add caveats (attenuate): each one must hold, so repeated ones only narrow. A caveat
// we cannot evaluate is refused (fail closed, as the macaroons paper has it), rather than skipped as
// the L402 text allows: ignoring a restriction the holder added would grant more than they meant.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { L402Error } from './errors.ts';
import {
  constantTimeEqual,
  decodeMacaroon,
  type Macaroon,
  MacaroonError,
  mintMacaroon,
  verifyMacaroonSignature,
} from './macaroon.ts';

/** A service secret. The first of a list mints; every one listed verifies. */
export interface RootKey {
  /** 1–64 characters of [A-Za-z0-9._-], written into each token's identifier. */
  id: string;
  /** At least 32 bytes of secret randomness. */
  secret: Uint8Array;
}

export interface TokenIdentifier {
  version: 0;
  paymentHash: string;
  tokenId: string;
  keyId: string;
}

export interface TokenCaveats {
  /** Path prefixes; the request must be under every one. */
  paths: string[];
  /** Earliest `expires` (unix seconds), if any. */
  expiresAtSec?: number;
  /** Smallest `uses`, if any. */
  maxUses?: number;
}

/** What a verified token grants; the middleware puts it in the context as `l402`. */
export interface L402Grant extends TokenIdentifier, TokenCaveats {
  preimage: string;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const HEX32 = /^[0-9a-f]{64}$/;

export function assertRootKeys(keys: readonly RootKey[]): void {
  if (!Array.isArray(keys) || keys.length === 0) throw new TypeError('"rootKeys" expected at least one key');
  const seen = new Set<string>();
  for (const key of keys) {
    if (typeof key?.id !== 'string' || !KEY_ID.test(key.id))
      throw new TypeError(`"rootKeys[].id" expected 1-64 of [A-Za-z0-9._-], got ${JSON.stringify(key?.id)}`);
    if (seen.has(key.id)) throw new TypeError(`"rootKeys" lists key id ${key.id} twice`);
    seen.add(key.id);
    if (!(key.secret instanceof Uint8Array) || key.secret.length < 32)
      throw new TypeError(`"rootKeys[${key.id}].secret" expected at least 32 bytes`);
  }
}

export function encodeIdentifier(id: TokenIdentifier): Uint8Array {
  if (!HEX32.test(id.paymentHash)) throw new TypeError('"paymentHash" expected 64 lowercase hex');
  if (!HEX32.test(id.tokenId)) throw new TypeError('"tokenId" expected 64 lowercase hex');
  if (!KEY_ID.test(id.keyId)) throw new TypeError('"keyId" expected 1-64 of [A-Za-z0-9._-]');
  const keyId = utf8ToBytes(id.keyId);
  const out = new Uint8Array(2 + 32 + 32 + 1 + keyId.length);
  out.set(hexToBytes(id.paymentHash), 2); // version 0 in the first two bytes
  out.set(hexToBytes(id.tokenId), 34);
  out[66] = keyId.length;
  out.set(keyId, 67);
  return out;
}

/** Decodes our identifier; throws L402Error MALFORMED_MACAROON for anything else. */
export function decodeIdentifier(bytes: Uint8Array): TokenIdentifier {
  const malformed = (why: string) => new L402Error('MALFORMED_MACAROON', `macaroon identifier: ${why}`);
  if (bytes.length < 68) throw malformed(`${bytes.length} bytes, expected at least 68`);
  const version = (bytes[0]! << 8) | bytes[1]!;
  if (version !== 0) throw malformed(`unknown version ${version}`);
  const keyIdLength = bytes[66]!;
  if (bytes.length !== 67 + keyIdLength) throw malformed('key id length does not match');
  const keyId = String.fromCharCode(...bytes.subarray(67));
  if (!KEY_ID.test(keyId)) throw malformed('key id is not [A-Za-z0-9._-]');
  return {
    version: 0,
    paymentHash: bytesToHex(bytes.subarray(2, 34)),
    tokenId: bytesToHex(bytes.subarray(34, 66)),
    keyId,
  };
}

/** Mints the macaroon of a new token for an invoice's payment hash. */
export function mintToken(params: {
  rootKey: RootKey;
  paymentHash: string;
  /** Path prefix the token is good for. */
  path: string;
  expiresAtSec: number;
  maxUses: number;
  location?: string;
  /** 32 random bytes; fresh from crypto.getRandomValues unless given (tests). */
  tokenId?: Uint8Array;
}): { macaroon: Macaroon; identifier: TokenIdentifier } {
  const tokenId = params.tokenId ?? crypto.getRandomValues(new Uint8Array(32));
  const identifier: TokenIdentifier = {
    version: 0,
    paymentHash: params.paymentHash.toLowerCase(),
    tokenId: bytesToHex(tokenId),
    keyId: params.rootKey.id,
  };
  const caveats = [`path=${params.path}`, `expires=${params.expiresAtSec}`, `uses=${params.maxUses}`];
  const macaroon = mintMacaroon(
    params.rootKey.secret,
    encodeIdentifier(identifier),
    caveats,
    params.location,
  );
  return { macaroon, identifier };
}

/** Parses every caveat; refuses unknown keys and malformed values (INVALID_CAVEAT). */
export function parseCaveats(caveats: readonly Uint8Array[]): TokenCaveats {
  const parsed: TokenCaveats = { paths: [] };
  for (const raw of caveats) {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new L402Error('INVALID_CAVEAT', 'caveat is not UTF-8');
    }
    const eq = text.indexOf('=');
    const key = eq < 0 ? text : text.slice(0, eq).trim();
    const value = eq < 0 ? '' : text.slice(eq + 1).trim();
    const shown = JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
    if (key === 'path') {
      if (!value.startsWith('/') || value.length > 1024)
        throw new L402Error('INVALID_CAVEAT', `caveat ${shown}: expected an absolute path`);
      parsed.paths.push(value);
    } else if (key === 'expires' || key === 'uses') {
      if (!/^[0-9]{1,15}$/.test(value))
        throw new L402Error('INVALID_CAVEAT', `caveat ${shown}: expected a non-negative integer`);
      const n = Number(value);
      if (key === 'expires') parsed.expiresAtSec = Math.min(parsed.expiresAtSec ?? n, n);
      else parsed.maxUses = Math.min(parsed.maxUses ?? n, n);
    } else {
      throw new L402Error('INVALID_CAVEAT', `caveat ${shown} is not one this service can check`);
    }
  }
  return parsed;
}

/** `path` is `prefix` or below it; `/api/quote` covers `/api/quote/x` but not `/api/quotes`. */
export function pathCovered(prefix: string, path: string): boolean {
  if (path === prefix) return true;
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return path.startsWith(base);
}

/**
 * Checks a presented token for a request to `path` at `nowSec`: the macaroon's signature under the
 * root key its identifier names, the preimage against that identifier's payment hash, then the
 * caveats. Uses are not counted here (see UsageStore). Throws L402Error naming the first failure.
 */
export function verifyToken(params: {
  macaroon: Uint8Array;
  preimage: string;
  rootKeys: readonly RootKey[];
  path: string;
  nowSec: number;
}): L402Grant {
  if (!/^[0-9a-fA-F]{64}$/.test(params.preimage))
    throw new L402Error('MALFORMED_AUTHORIZATION', 'preimage expected 64 hex characters');
  let macaroon: Macaroon;
  try {
    macaroon = decodeMacaroon(params.macaroon);
  } catch (error) {
    if (error instanceof MacaroonError) throw new L402Error('MALFORMED_MACAROON', error.message);
    throw error;
  }
  const identifier = decodeIdentifier(macaroon.identifier);
  const rootKey = params.rootKeys.find((k) => k.id === identifier.keyId);
  if (!rootKey) throw new L402Error('UNKNOWN_KEY', `no root key "${identifier.keyId}" (rotated out?)`);
  if (!verifyMacaroonSignature(macaroon, rootKey.secret))
    throw new L402Error('BAD_SIGNATURE', 'macaroon signature does not verify');
  if (!constantTimeEqual(sha256(hexToBytes(params.preimage)), hexToBytes(identifier.paymentHash)))
    throw new L402Error('WRONG_PREIMAGE', "preimage does not hash to this token's payment hash");
  const caveats = parseCaveats(macaroon.caveats);
  if (caveats.expiresAtSec !== undefined && params.nowSec >= caveats.expiresAtSec)
    throw new L402Error('TOKEN_EXPIRED', `token expired at ${caveats.expiresAtSec} (unix seconds)`);
  const outside = caveats.paths.find((prefix) => !pathCovered(prefix, params.path));
  if (outside !== undefined) throw new L402Error('WRONG_PATH', `token is for ${outside}, not ${params.path}`);
  if (caveats.maxUses === 0) throw new L402Error('TOKEN_USED_UP', 'token allows 0 uses');
  return { ...identifier, ...caveats, preimage: params.preimage.toLowerCase() };
}
