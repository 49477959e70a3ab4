// Backup format v2: a clear header the LSP can check (wallet, version, size) without reading the
// body, a BIP 340 signature over the header by the wallet's backup signing key, and the body sealed
// with AES-256-GCM under the header as associated data. The header carries the body's length and
// SHA-256, so the signature covers everything: the LSP can neither forge a backup nor pass an old
// one off as a newer version.
//
//   offset size  field
//        0    4  magic "LPWB"
//        4    1  format version (2)
//        5   33  wallet node id (compressed secp256k1)
//       38   32  signing public key (BIP 340, x-only)
//       70    8  backup version, u64 big-endian, grows with every upload
//       78    8  created at, ms since the epoch, u64 big-endian
//       86    4  channels (full monitors in the body), u32
//       90    4  body length, u32
//       94   32  SHA-256 of the body
//      126   64  signature: BIP 340 over "lpw/backup/v2" ‖ header (bytes 0..125)
//      190    …  body: iv (12) ‖ AES-256-GCM(deflate-raw(entries), aad = header bytes 0..93)
//
// The AAD stops short of the body hash, which can only be computed after sealing; the signature
// covers all 126 header bytes.
//
// entries: u32 count, then per key (sorted): u16 key length, UTF-8 key, u32 value length, value.
import { schnorr } from '@noble/curves/secp256k1.js';
import { equalBytes } from '@noble/curves/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes } from '@noble/hashes/utils.js';
import { countChannels, selectBackedUp } from './content.ts';
import { BackupError } from './errors.ts';
import type { BackupKeys } from './keys.ts';

export const FORMAT_VERSION = 2;
const MAGIC = Uint8Array.of(0x4c, 0x50, 0x57, 0x42); // "LPWB"
export const HEADER_BYTES = 126;
const SIGNATURE_BYTES = 64;
const IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
/** The smallest whole backup: header, signature, iv and the GCM tag. */
export const MIN_BACKUP_BYTES = HEADER_BYTES + SIGNATURE_BYTES + IV_BYTES + GCM_TAG_BYTES;
const SIGNATURE_DOMAIN = new TextEncoder().encode('lpw/backup/v2');

export interface BackupHeader {
  formatVersion: number;
  /** Hex, 33 bytes compressed. */
  nodeId: string;
  /** Hex, 32 bytes x-only. */
  signingPublicKey: string;
  /** Grows with every upload; a safe integer. */
  version: number;
  createdAtMs: number;
  channels: number;
  bodyLength: number;
  bodySha256: Uint8Array;
}

export interface BackupContents {
  nodeId: string;
  version: number;
  createdAtMs: number;
  /** The node store's contents; only the backed-up keys (content.ts) are written. */
  entries: ReadonlyMap<string, Uint8Array>;
}

export interface DecodedBackup {
  header: BackupHeader;
  entries: Map<string, Uint8Array>;
}

const fail = (code: ConstructorParameters<typeof BackupError>[0], message: string, cause?: unknown) =>
  new BackupError(code, message, {}, cause === undefined ? undefined : { cause });

function checkNodeId(nodeId: string): Uint8Array {
  if (typeof nodeId !== 'string' || !/^0[23][0-9a-f]{64}$/.test(nodeId)) {
    throw new BackupError(
      'INVALID_INPUT',
      `"nodeId" expected 33-byte compressed key as hex, got ${String(nodeId).slice(0, 80)}`,
    );
  }
  return hexToBytes(nodeId);
}

function checkCount(value: number, name: string, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new BackupError('INVALID_INPUT', `"${name}" expected an integer 0…${max}, got ${value}`);
  }
}

/**
 * The clear header of a v2 backup, read without keys (the LSP checks wallet and version with it).
 * Throws BACKUP_CORRUPT, BACKUP_UNKNOWN_FORMAT or BACKUP_TRUNCATED.
 */
export function readBackupHeader(blob: Uint8Array): BackupHeader {
  if (!(blob instanceof Uint8Array)) throw fail('BACKUP_CORRUPT', 'a backup is bytes');
  const magicLength = Math.min(blob.length, MAGIC.length);
  for (let i = 0; i < magicLength; i++) {
    if (blob[i] !== MAGIC[i]) throw fail('BACKUP_CORRUPT', 'not a wallet backup (unknown leading bytes)');
  }
  if (blob.length < MAGIC.length + 1) throw fail('BACKUP_TRUNCATED', `backup cut at ${blob.length} bytes`);
  const formatVersion = blob[4]!;
  if (formatVersion !== FORMAT_VERSION) {
    throw fail(
      'BACKUP_UNKNOWN_FORMAT',
      `backup format ${formatVersion} is not one this wallet reads (${FORMAT_VERSION})`,
    );
  }
  if (blob.length < HEADER_BYTES + SIGNATURE_BYTES) {
    throw fail('BACKUP_TRUNCATED', `backup cut at ${blob.length} bytes, inside its header`);
  }
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const version = view.getBigUint64(70);
  const createdAtMs = view.getBigUint64(78);
  const nodeIdBytes = blob.subarray(5, 38);
  if (nodeIdBytes[0] !== 2 && nodeIdBytes[0] !== 3)
    throw fail('BACKUP_CORRUPT', 'backup header names no valid node id');
  if (
    version < 1n ||
    version > BigInt(Number.MAX_SAFE_INTEGER) ||
    createdAtMs > BigInt(Number.MAX_SAFE_INTEGER)
  ) {
    throw fail('BACKUP_CORRUPT', 'backup header holds a version or time out of range');
  }
  return {
    formatVersion,
    nodeId: bytesToHex(nodeIdBytes),
    signingPublicKey: bytesToHex(blob.subarray(38, 70)),
    version: Number(version),
    createdAtMs: Number(createdAtMs),
    channels: view.getUint32(86),
    bodyLength: view.getUint32(90),
    bodySha256: blob.slice(94, 126),
  };
}

function signedMessage(header: Uint8Array): Uint8Array {
  const out = new Uint8Array(SIGNATURE_DOMAIN.length + header.length);
  out.set(SIGNATURE_DOMAIN);
  out.set(header, SIGNATURE_DOMAIN.length);
  return out;
}

async function aesKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw as BufferSource, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** Seals `contents` as a signed v2 backup (only the backed-up keys of `entries` go in). */
export async function encodeBackup(contents: BackupContents, keys: BackupKeys): Promise<Uint8Array> {
  const nodeId = checkNodeId(contents.nodeId);
  checkCount(contents.version, 'version', Number.MAX_SAFE_INTEGER);
  if (contents.version < 1) throw new BackupError('INVALID_INPUT', '"version" starts at 1');
  checkCount(contents.createdAtMs, 'createdAtMs', Number.MAX_SAFE_INTEGER);
  const entries = selectBackedUp(contents.entries);
  const plain = await deflate(encodeEntries(entries));
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const bodyLength = IV_BYTES + plain.length + GCM_TAG_BYTES;
  checkCount(bodyLength, 'body length', 0xffff_ffff);

  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  header.set(MAGIC, 0);
  header[4] = FORMAT_VERSION;
  header.set(nodeId, 5);
  header.set(keys.signingPublicKey, 38);
  view.setBigUint64(70, BigInt(contents.version));
  view.setBigUint64(78, BigInt(contents.createdAtMs));
  view.setUint32(86, countChannels(entries));
  view.setUint32(90, bodyLength);
  // the hash is of the body, which needs the header as AAD: hash after sealing, so it goes in last
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: header.subarray(0, 94) as BufferSource },
      await aesKey(keys.encryptionKey),
      plain as BufferSource,
    ),
  );
  const body = new Uint8Array(bodyLength);
  body.set(iv);
  body.set(sealed, IV_BYTES);
  header.set(sha256(body), 94);

  const out = new Uint8Array(HEADER_BYTES + SIGNATURE_BYTES + bodyLength);
  out.set(header);
  out.set(schnorr.sign(signedMessage(header), keys.signingKey), HEADER_BYTES);
  out.set(body, HEADER_BYTES + SIGNATURE_BYTES);
  return out;
}

/**
 * Checks and opens a backup of the wallet `nodeId` with its keys. Every refusal is a BackupError
 * (BACKUP_CORRUPT, BACKUP_TRUNCATED, BACKUP_UNKNOWN_FORMAT, BACKUP_WRONG_WALLET, BACKUP_WRONG_KEY,
 * BACKUP_BAD_SIGNATURE); nothing is returned from a copy that fails any check.
 */
export async function decodeBackup(
  blob: Uint8Array,
  expect: { nodeId: string; keys: BackupKeys },
): Promise<DecodedBackup> {
  checkNodeId(expect.nodeId);
  const header = readBackupHeader(blob);
  if (header.nodeId !== expect.nodeId) {
    throw fail('BACKUP_WRONG_WALLET', `backup of wallet ${header.nodeId.slice(0, 16)}…, not of this one`);
  }
  if (header.signingPublicKey !== bytesToHex(expect.keys.signingPublicKey)) {
    throw fail('BACKUP_WRONG_KEY', 'backup signed by a key other than this wallet’s');
  }
  const headerBytes = blob.subarray(0, HEADER_BYTES);
  const signature = blob.subarray(HEADER_BYTES, HEADER_BYTES + SIGNATURE_BYTES);
  if (!schnorr.verify(signature, signedMessage(headerBytes), expect.keys.signingPublicKey)) {
    throw fail('BACKUP_BAD_SIGNATURE', 'backup header signature does not verify: forged or altered');
  }
  const body = blob.subarray(HEADER_BYTES + SIGNATURE_BYTES);
  if (body.length < header.bodyLength) {
    throw fail('BACKUP_TRUNCATED', `backup body is ${body.length} of ${header.bodyLength} bytes`);
  }
  if (body.length > header.bodyLength) throw fail('BACKUP_CORRUPT', 'bytes after the backup body');
  if (header.bodyLength < IV_BYTES + GCM_TAG_BYTES || !equalBytes(sha256(body), header.bodySha256)) {
    throw fail('BACKUP_CORRUPT', 'backup body does not match its signed hash');
  }
  let plain: Uint8Array;
  try {
    plain = new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: body.subarray(0, IV_BYTES) as BufferSource,
          additionalData: headerBytes.subarray(0, 94) as BufferSource,
        },
        await aesKey(expect.keys.encryptionKey),
        body.subarray(IV_BYTES) as BufferSource,
      ),
    );
  } catch (cause) {
    // signed by our key, body as signed: only another encryption key fails here
    throw fail('BACKUP_WRONG_KEY', 'backup does not decrypt with this wallet’s key', cause);
  }
  let entries: Map<string, Uint8Array>;
  try {
    entries = decodeEntries(await inflate(plain));
  } catch (cause) {
    throw fail('BACKUP_CORRUPT', 'backup contents unreadable', cause);
  }
  if (countChannels(entries) !== header.channels) {
    throw fail(
      'BACKUP_CORRUPT',
      `backup header says ${header.channels} channels, body holds ${countChannels(entries)}`,
    );
  }
  return { header, entries };
}

function encodeEntries(entries: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const enc = new TextEncoder();
  const keys = [...entries.keys()].sort();
  const encoded = keys.map((k) => enc.encode(k));
  let size = 4;
  for (let i = 0; i < keys.length; i++) size += 2 + encoded[i]!.length + 4 + entries.get(keys[i]!)!.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, keys.length);
  let at = 4;
  for (let i = 0; i < keys.length; i++) {
    const k = encoded[i]!;
    const v = entries.get(keys[i]!)!;
    view.setUint16(at, k.length);
    out.set(k, at + 2);
    at += 2 + k.length;
    view.setUint32(at, v.length);
    out.set(v, at + 4);
    at += 4 + v.length;
  }
  return out;
}

function decodeEntries(bytes: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder('utf-8', { fatal: true });
  const need = (at: number, n: number) => {
    if (at + n > bytes.length) throw new Error('entries truncated');
  };
  need(0, 4);
  const count = view.getUint32(0);
  let at = 4;
  const entries = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    need(at, 2);
    const keyLength = view.getUint16(at);
    need(at + 2, keyLength + 4);
    const key = dec.decode(bytes.subarray(at + 2, at + 2 + keyLength));
    at += 2 + keyLength;
    const valueLength = view.getUint32(at);
    need(at + 4, valueLength);
    entries.set(key, bytes.slice(at + 4, at + 4 + valueLength));
    at += 4 + valueLength;
  }
  if (at !== bytes.length) throw new Error('bytes after the last entry');
  return entries;
}

// Compression Streams are in browsers, workers and Node alike (no Node builtin needed). The bytes go
// in through the stream's own writer: a Blob → Response round trip costs ~8 ms more in a browser
// worker (measured in Chromium, same bytes out), and every backup of a held commit pays it.
async function pipeThrough(
  bytes: Uint8Array,
  stream: CompressionStream | DecompressionStream,
): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  // a failure (bad input to inflate) surfaces on the reader below; these would repeat it unheard
  writer.write(bytes as BufferSource).catch(() => {});
  writer.close().catch(() => {});
  const chunks: Uint8Array[] = [];
  const reader = stream.readable.getReader();
  for (let part = await reader.read(); !part.done; part = await reader.read()) chunks.push(part.value);
  return concatBytes(...chunks);
}
const deflate = (bytes: Uint8Array) => pipeThrough(bytes, new CompressionStream('deflate-raw'));
const inflate = (bytes: Uint8Array) => pipeThrough(bytes, new DecompressionStream('deflate-raw'));
