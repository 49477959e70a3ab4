// Node message signatures in the Lightning "signmessage" format (lnd, CLN and LDK agree): zbase32 of
// a 65-byte recoverable ECDSA signature (header 31 + recovery id, then r, s) over
// sha256d("Lightning Signed Message:" + message). Wallets prove their node id with it at login.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { ApiError } from './errors.ts';

const ZBASE32 = 'ybndrfg8ejkmcpqxot1uwisza345h769';
const PREFIX = utf8ToBytes('Lightning Signed Message:');

export function zbase32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ZBASE32[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ZBASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** Decodes whole bytes; trailing bits that do not fill a byte must be zero. Undefined when malformed. */
export function zbase32Decode(text: string): Uint8Array | undefined {
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of text) {
    const v = ZBASE32.indexOf(ch);
    if (v < 0) return undefined;
    buffer = (buffer << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >> bits) & 0xff);
    }
    buffer &= (1 << bits) - 1;
  }
  if (buffer !== 0) return undefined;
  return Uint8Array.from(out);
}

function messageHash(message: string): Uint8Array {
  return sha256(sha256(concatBytes(PREFIX, utf8ToBytes(message))));
}

/**
 * Sign `message` with a node's 32-byte secret key; returns the zbase32 signature string.
 * @example const sig = signNodeMessage(challenge, nodeSecretKey); // 104 zbase32 characters
 */
export function signNodeMessage(message: string, nodeSecretKey: Uint8Array): string {
  if (!(nodeSecretKey instanceof Uint8Array) || nodeSecretKey.length !== 32) {
    throw new ApiError('INVALID_INPUT', '"nodeSecretKey" expected 32 bytes');
  }
  const recovered = secp256k1.sign(messageHash(message), nodeSecretKey, {
    prehash: false,
    format: 'recovered',
  });
  // noble: [recovery, r, s]; Lightning: [31 + recovery (compressed key), r, s]
  const sig = recovered.slice();
  sig[0] = 31 + recovered[0]!;
  return zbase32Encode(sig);
}

/** The compressed public key (hex) that signed `message`, or undefined for a malformed signature. */
export function recoverNodeId(message: string, zbase32Sig: string): string | undefined {
  if (typeof zbase32Sig !== 'string' || zbase32Sig.length !== 104) return undefined;
  const raw = zbase32Decode(zbase32Sig);
  if (raw?.length !== 65) return undefined;
  const header = raw![0]!;
  // 27..30 uncompressed-key headers, 31..34 compressed; both name the same recovery id
  if (header < 27 || header > 34) return undefined;
  const recovered = raw.slice();
  recovered[0] = (header - 27) & 3;
  try {
    const pub = secp256k1.recoverPublicKey(recovered, messageHash(message), { prehash: false });
    return bytesToHex(pub);
  } catch {
    return undefined;
  }
}

/** True when `zbase32Sig` is `nodeIdHex`'s signature of `message`. Never throws on malformed input. */
export function verifyNodeMessage(message: string, zbase32Sig: string, nodeIdHex: string): boolean {
  if (typeof nodeIdHex !== 'string' || !/^0[23][0-9a-f]{64}$/.test(nodeIdHex)) return false;
  const signer = recoverNodeId(message, zbase32Sig);
  if (signer === undefined) return false;
  // recoverPublicKey returns the compressed form; compare bytes, not case
  return bytesToHex(hexToBytes(signer)) === nodeIdHex;
}
