// Block construction by consensus rules: 80-byte headers ground to the regtest target, merkle roots,
// and coinbases carrying the BIP 34 height and the BIP 141 witness commitment.
import { hex } from '@scure/base';
import {
  concatBytes,
  decodeTx,
  encodeTx,
  NULL_TXID,
  pushNumber,
  reverse,
  sha256d,
  type Tx,
  toHex,
} from './tx.ts';

export const REGTEST_BITS = 0x207fffff;
/** Regtest halves the subsidy every 150 blocks. */
export const HALVING_INTERVAL = 150;
export const COINBASE_MATURITY = 100;
export const MAX_BLOCK_WEIGHT = 4_000_000;
const WITNESS_COMMITMENT_HEADER = Uint8Array.of(0xaa, 0x21, 0xa9, 0xed);

export interface Header {
  version: number;
  prevHash: string; // display order
  merkleRoot: string; // display order
  time: number;
  bits: number;
  nonce: number;
}

export interface Block extends Header {
  hash: string;
  height: number;
  header: Uint8Array;
  txs: Tx[];
  size: number;
  strippedSize: number;
  weight: number;
}

const u32le = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};

export function encodeHeader(h: Header): Uint8Array {
  return concatBytes(
    u32le(h.version),
    reverse(hex.decode(h.prevHash)),
    reverse(hex.decode(h.merkleRoot)),
    u32le(h.time),
    u32le(h.bits),
    u32le(h.nonce),
  );
}

export function decodeHeader(bytes: Uint8Array): Header {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 80);
  return {
    version: view.getUint32(0, true),
    prevHash: toHex(reverse(bytes.subarray(4, 36))),
    merkleRoot: toHex(reverse(bytes.subarray(36, 68))),
    time: view.getUint32(68, true),
    bits: view.getUint32(72, true),
    nonce: view.getUint32(76, true),
  };
}

/** The 256-bit target an nBits compact value encodes. */
export function targetFromBits(bits: number): bigint {
  const exponent = bits >>> 24;
  const mantissa = BigInt(bits & 0x007fffff);
  return exponent <= 3 ? mantissa >> BigInt(8 * (3 - exponent)) : mantissa << BigInt(8 * (exponent - 3));
}

/** Work a block of this nBits adds to the chain: 2^256 / (target + 1). */
export const blockWork = (bits: number): bigint => (1n << 256n) / (targetFromBits(bits) + 1n);

export const hashMeetsTarget = (hashDisplayHex: string, bits: number): boolean =>
  BigInt(`0x${hashDisplayHex}`) <= targetFromBits(bits);

/**
 * Every level of the merkle tree over display-order hashes, leaves first, each node as internal-order
 * bytes; an odd level pairs its last node with itself (consensus).
 */
function merkleLevels(hashes: string[]): Uint8Array[][] {
  const levels = [hashes.map((h) => reverse(hex.decode(h)))];
  for (let level = levels[0]!; level.length > 1; level = levels.at(-1)!) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(sha256d(concatBytes(level[i]!, level[i + 1] ?? level[i]!)));
    levels.push(next);
  }
  return levels;
}

/** Merkle root over display-order hashes. */
export function merkleRoot(hashes: string[]): string {
  if (hashes.length === 0) return NULL_TXID;
  return toHex(reverse(merkleLevels(hashes).at(-1)![0]!));
}

/** Sibling hashes from leaf `pos` up to the root (Esplora's merkle-proof `merkle`). */
export function merkleBranch(hashes: string[], pos: number): string[] {
  const levels = merkleLevels(hashes);
  return levels.slice(0, -1).map((level, height) => {
    const index = pos >> height;
    return toHex(reverse(level[index ^ 1] ?? level[index]!));
  });
}

/**
 * A BIP 37 merkleblock proving the transactions at `matched` positions: the header, the block's
 * transaction count, then the partial merkle tree — walked depth first from the root, one flag bit
 * per node visited (1: a matched leaf is below it, so its children follow; 0: its hash stands in for
 * its subtree; a leaf's hash is always given), bits packed least significant first. What Core's
 * `gettxoutproof` and Esplora's `/tx/:txid/merkleblock-proof` return, as hex.
 */
export function merkleBlock(block: Block, matched: ReadonlySet<number>): Uint8Array {
  const levels = merkleLevels(block.txs.map((t) => t.txid));
  const hashes: Uint8Array[] = [];
  const bits: boolean[] = [];
  const visit = (height: number, pos: number) => {
    const first = pos << height;
    const last = Math.min((pos + 1) << height, block.txs.length);
    let aboveMatch = false;
    for (let i = first; i < last && !aboveMatch; i++) aboveMatch = matched.has(i);
    bits.push(aboveMatch);
    if (height === 0 || !aboveMatch) {
      hashes.push(levels[height]![pos]!);
      return;
    }
    visit(height - 1, pos * 2);
    if (pos * 2 + 1 < levels[height - 1]!.length) visit(height - 1, pos * 2 + 1);
  };
  visit(levels.length - 1, 0);
  const flags = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((bit, i) => {
    if (bit) flags[i >> 3]! |= 1 << (i & 7);
  });
  return concatBytes(
    block.header,
    u32le(block.txs.length),
    encodeVarint(hashes.length),
    ...hashes,
    encodeVarint(flags.length),
    flags,
  );
}

export const blockSubsidy = (height: number): bigint => {
  const halvings = Math.floor(height / HALVING_INTERVAL);
  return halvings >= 64 ? 0n : (50n * 100_000_000n) >> BigInt(halvings);
};

/** The commitment output script: OP_RETURN 0x24 aa21a9ed || sha256d(witness root || reserved). */
export function witnessCommitmentScript(nonCoinbaseWtxids: string[]): Uint8Array {
  // The coinbase's own wtxid counts as zero.
  const root = merkleRoot([NULL_TXID, ...nonCoinbaseWtxids]);
  const commitment = sha256d(concatBytes(reverse(hex.decode(root)), new Uint8Array(32)));
  return concatBytes(Uint8Array.of(0x6a, 0x24), WITNESS_COMMITMENT_HEADER, commitment);
}

/**
 * Coinbase as bitcoind's miner writes it: scriptSig `<height> <extraNonce>`, reward output, then the
 * witness commitment (added once the other wtxids are known), witness = one 32-byte zero item.
 */
export function buildCoinbase(
  height: number,
  extraNonce: number,
  payTo: Uint8Array,
  reward: bigint,
  wtxids: string[],
) {
  const coinbaseInput = {
    txid: NULL_TXID,
    vout: 0xffffffff,
    scriptSig: concatBytes(pushNumber(height), pushNumber(extraNonce)),
    sequence: 0xffffffff,
    witness: [new Uint8Array(32)],
  };
  const outputs = [
    { value: reward, script: payTo },
    { value: 0n, script: witnessCommitmentScript(wtxids) },
  ];
  return decodeTx(encodeTx({ version: 2, lockTime: 0, inputs: [coinbaseInput], outputs }));
}

/** Grind the nonce until the header hash meets nBits (regtest: about every second try). */
export function mineHeader(h: Omit<Header, 'nonce'>): { header: Uint8Array; hash: string; nonce: number } {
  for (let nonce = 0; nonce <= 0xffffffff; nonce++) {
    const header = encodeHeader({ ...h, nonce });
    const hash = toHex(reverse(sha256d(header)));
    if (hashMeetsTarget(hash, h.bits)) return { header, hash, nonce };
  }
  throw new Error('nonce space exhausted'); // unreachable at regtest difficulty
}

export function assembleBlock(
  height: number,
  prevHash: string,
  time: number,
  coinbase: Tx,
  txs: Tx[],
): Block {
  const all = [coinbase, ...txs];
  const root = merkleRoot(all.map((t) => t.txid));
  const fields = { version: 0x20000000, prevHash, merkleRoot: root, time, bits: REGTEST_BITS };
  const { header, hash, nonce } = mineHeader(fields);
  const txCountVarint = encodeVarint(all.length);
  const size = 80 + txCountVarint.length + all.reduce((n, t) => n + t.size, 0);
  const strippedSize = 80 + txCountVarint.length + all.reduce((n, t) => n + t.strippedSize, 0);
  return {
    ...fields,
    nonce,
    hash,
    height,
    header,
    txs: all,
    size,
    strippedSize,
    weight: strippedSize * 3 + size,
  };
}

export function encodeVarint(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  if (n <= 0xffff) return Uint8Array.of(0xfd, n & 0xff, n >> 8);
  return concatBytes(Uint8Array.of(0xfe), u32le(n));
}

/** Full serialized block (header, tx count, txs with witnesses). */
export const serializeBlock = (b: Block): Uint8Array =>
  concatBytes(b.header, encodeVarint(b.txs.length), ...b.txs.map((t) => t.raw));
