// Byte helpers of the chain layer: hex in display order (what Esplora and bitcoind speak) versus
// internal byte order (what LDK and the consensus encoding use), txids of raw transactions, and
// splitting a raw block into its transactions.
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import { ChainError } from './errors.ts';

export const sha256d = (b: Uint8Array): Uint8Array => sha256(sha256(b));

const HASH_HEX = /^[0-9a-f]{64}$/;

/** Check a 32-byte hash in display hex, as a chain source returns it. */
export function assertHashHex(value: unknown, what: string): string {
  if (typeof value !== 'string' || !HASH_HEX.test(value.toLowerCase()))
    throw new ChainError('BAD_RESPONSE', `"${what}" expected 64 hex chars, got ${describe(value)}`);
  return value.toLowerCase();
}

export function assertHeight(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new ChainError('BAD_RESPONSE', `"${what}" expected a block height, got ${describe(value)}`);
  return value;
}

export function describe(value: unknown): string {
  const s = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

export function hexToBytes(value: string, what: string): Uint8Array {
  const v = value.trim().toLowerCase();
  if (v.length % 2 !== 0 || !/^[0-9a-f]*$/.test(v))
    throw new ChainError('BAD_RESPONSE', `"${what}" is not hex: ${describe(value)}`);
  return hex.decode(v);
}

export const bytesToHex = (b: Uint8Array): string => hex.encode(b);

/** 32-byte hash in internal order (LDK) from display hex (Esplora, bitcoind). */
export const hashFromDisplay = (displayHex: string): Uint8Array => hex.decode(displayHex).reverse();
/** Display hex from a 32-byte hash in internal order. */
export const hashToDisplay = (internal: Uint8Array): string =>
  hex.encode(Uint8Array.from(internal).reverse());

/** Block hash (display hex) of an 80-byte header. */
export const headerHash = (header: Uint8Array): string => hashToDisplay(sha256d(header));

class Cursor {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  skip(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length)
      throw new ChainError('BAD_RESPONSE', 'truncated block or tx');
    this.pos += n;
  }
  byte(): number {
    this.skip(1);
    return this.buf[this.pos - 1]!;
  }
  varint(): number {
    const first = this.byte();
    if (first < 0xfd) return first;
    const len = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
    let v = 0;
    for (let i = 0; i < len; i++) v += this.buf[this.pos + i]! * 2 ** (8 * i);
    this.skip(len);
    if (!Number.isSafeInteger(v)) throw new ChainError('BAD_RESPONSE', 'varint too large');
    return v;
  }
}

/** Skips a transaction's input and output lists (from the input count on); returns the input count. */
function skipInputsAndOutputs(c: Cursor): number {
  const nIn = c.varint();
  for (let i = 0; i < nIn; i++) {
    c.skip(36); // outpoint
    c.skip(c.varint()); // scriptSig
    c.skip(4); // sequence
  }
  const nOut = c.varint();
  for (let i = 0; i < nOut; i++) {
    c.skip(8); // value
    c.skip(c.varint()); // scriptPubKey
  }
  return nIn;
}

/** Length in bytes of the serialized (possibly segwit) transaction starting at `c.pos`. */
function skipTx(c: Cursor): void {
  c.skip(4); // version
  let segwit = false;
  if (c.buf[c.pos] === 0 && c.buf[c.pos + 1] !== 0) {
    segwit = true;
    c.skip(2);
  }
  const nIn = skipInputsAndOutputs(c);
  if (segwit)
    for (let i = 0; i < nIn; i++) {
      const items = c.varint();
      for (let j = 0; j < items; j++) c.skip(c.varint());
    }
  c.skip(4); // locktime
}

/** The consensus txid (display hex) of a raw transaction, witness stripped. */
export function txidOf(raw: Uint8Array): string {
  return hashToDisplay(sha256d(stripWitness(raw)));
}

function stripWitness(raw: Uint8Array): Uint8Array {
  if (!(raw[4] === 0 && raw[5] !== 0)) return raw;
  const c = new Cursor(raw);
  c.skip(6);
  skipInputsAndOutputs(c);
  const ioEnd = c.pos;
  const out = new Uint8Array(4 + (ioEnd - 6) + 4);
  out.set(raw.subarray(0, 4), 0);
  out.set(raw.subarray(6, ioEnd), 4);
  out.set(raw.subarray(raw.length - 4), 4 + ioEnd - 6);
  return out;
}

export interface ParsedBlock {
  header: Uint8Array;
  hash: string;
  /** Raw transactions in block order (position = index). */
  txs: Uint8Array[];
}

/** Split a raw block into header and raw transactions. */
export function parseBlock(raw: Uint8Array): ParsedBlock {
  if (raw.length < 81) throw new ChainError('BAD_RESPONSE', 'block shorter than a header');
  const c = new Cursor(raw);
  c.skip(80);
  const n = c.varint();
  const txs: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const start = c.pos;
    skipTx(c);
    txs.push(raw.slice(start, c.pos));
  }
  if (c.pos !== raw.length)
    throw new ChainError('BAD_RESPONSE', 'trailing bytes after the last tx of a block');
  const header = raw.slice(0, 80);
  return { header, hash: headerHash(header), txs };
}

export interface TxIo {
  /** Outpoints spent, txid in display hex. */
  inputs: { txid: string; vout: number }[];
  outputs: { script: Uint8Array; valueSat: bigint }[];
}

/** Inputs and outputs of a raw transaction (enough to match it against watched items). */
export function parseTxIo(raw: Uint8Array): TxIo {
  const c = new Cursor(raw);
  c.skip(4);
  if (raw[4] === 0 && raw[5] !== 0) c.skip(2);
  const inputs: TxIo['inputs'] = [];
  const nIn = c.varint();
  for (let i = 0; i < nIn; i++) {
    const prev = raw.subarray(c.pos, c.pos + 32);
    c.skip(32);
    const vout = new DataView(raw.buffer, raw.byteOffset + c.pos, 4).getUint32(0, true);
    c.skip(4);
    inputs.push({ txid: hashToDisplay(prev), vout });
    c.skip(c.varint());
    c.skip(4);
  }
  const outputs: TxIo['outputs'] = [];
  const nOut = c.varint();
  for (let i = 0; i < nOut; i++) {
    const valueSat = new DataView(raw.buffer, raw.byteOffset + c.pos, 8).getBigUint64(0, true);
    c.skip(8);
    const len = c.varint();
    const script = raw.slice(c.pos, c.pos + len);
    c.skip(len);
    outputs.push({ script, valueSat });
  }
  return { inputs, outputs };
}
