// Consensus rules a light client can check on 80-byte block headers: the link to the previous
// header, proof of work against the target in `bits`, and (mainnet) the difficulty schedule. A
// chain source that lies about the chain must do the work or be caught here.
import { hashFromDisplay, hashToDisplay, headerHash } from './bytes.ts';
import { ChainError } from './errors.ts';
import type { BitcoinNetwork } from './source.ts';

export interface BlockHeader {
  /** Block hash, display hex. */
  hash: string;
  height: number;
  /** The raw 80 bytes (what LDK's Confirm wants). */
  raw: Uint8Array;
  /** Previous block hash, display hex. */
  prevHash: string;
  /** Merkle root of the block's txids, internal byte order (as it sits in the header). */
  merkleRoot: Uint8Array;
  time: number;
  bits: number;
}

/** A header the wallet trusts without checking: the chain it accepts must descend from it. */
export interface Checkpoint {
  height: number;
  /** Display hex. */
  hash: string;
}

/** Decode an 80-byte header found at `height` (the height is the source's claim, checked by linkage). */
export function decodeHeader(raw: Uint8Array, height: number): BlockHeader {
  if (raw.length !== 80) throw new ChainError('BAD_RESPONSE', `header of ${raw.length} bytes, expected 80`);
  const view = new DataView(raw.buffer, raw.byteOffset, 80);
  return {
    hash: headerHash(raw),
    height,
    raw,
    prevHash: hashToDisplay(raw.subarray(4, 36)),
    merkleRoot: raw.slice(36, 68),
    time: view.getUint32(68, true),
    bits: view.getUint32(72, true),
  };
}

/** The 80-byte header from Esplora's block JSON fields (version, prev, merkle root, time, bits, nonce). */
export function encodeHeader(fields: {
  version: number;
  prevHash: string;
  merkleRoot: string;
  time: number;
  bits: number;
  nonce: number;
}): Uint8Array {
  const raw = new Uint8Array(80);
  const view = new DataView(raw.buffer);
  view.setUint32(0, fields.version >>> 0, true);
  raw.set(hashFromDisplay(fields.prevHash), 4);
  raw.set(hashFromDisplay(fields.merkleRoot), 36);
  view.setUint32(68, fields.time, true);
  view.setUint32(72, fields.bits, true);
  view.setUint32(76, fields.nonce, true);
  return raw;
}

/** The target an nBits compact value encodes; a negative or overflowing encoding is refused. */
export function targetFromBits(bits: number): bigint {
  const exponent = bits >>> 24;
  const mantissa = bits & 0x007fffff;
  if (bits & 0x00800000 || (mantissa !== 0 && exponent > 34))
    throw new ChainError('BAD_PROOF_OF_WORK', `bits 0x${bits.toString(16)} encode no valid target`);
  const m = BigInt(mantissa);
  return exponent <= 3 ? m >> BigInt(8 * (3 - exponent)) : m << BigInt(8 * (exponent - 3));
}

/** nBits for a target, as Bitcoin Core's GetCompact rounds it. */
export function bitsFromTarget(target: bigint): number {
  let size = Math.ceil(target.toString(16).length / 2);
  let compact =
    size <= 3 ? Number(target << BigInt(8 * (3 - size))) : Number(target >> BigInt(8 * (size - 3)));
  if (compact & 0x00800000) {
    compact >>= 8;
    size++;
  }
  return ((size << 24) | compact) >>> 0;
}

export interface NetworkRules {
  /** Easiest target allowed (Core's powLimit). */
  powLimit: bigint;
  /** Mainnet: every 2016 blocks the target moves with the time the period took (×¼ … ×4). */
  retarget: boolean;
  /** Where the accepted chain must start; regtest has none (its genesis is each chain's own). */
  checkpoint: Checkpoint | undefined;
}

const TWO_WEEKS = 14 * 24 * 60 * 60;
export const RETARGET_INTERVAL = 2016;

/**
 * Checkpoints: the last block of a difficulty period (height ≡ 2015 mod 2016), so the periods after
 * it are checked whole. Taken from Electrum's published checkpoints (2026-08); refresh them with
 * each release — headers from the checkpoint to the tip are fetched at the first start.
 */
export const NETWORK_RULES: Readonly<Record<BitcoinNetwork, NetworkRules>> = {
  mainnet: {
    powLimit: 0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffn,
    retarget: true,
    checkpoint: {
      height: 953_567,
      hash: '00000000000000000001b315e72169bef4867bf780527aa97c625ee9c001dc5d',
    },
  },
  testnet: {
    powLimit: 0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffn,
    retarget: false,
    checkpoint: {
      height: 5_011_775,
      hash: '000000000000041b511bf0b926371d5045f70bbc30d36b66f1c84ed30d765886',
    },
  },
  testnet4: {
    powLimit: 0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffn,
    retarget: false,
    checkpoint: {
      height: 139_103,
      hash: '000000000001fa52cf7346a418640560743e051f8096a21ca452f3569bfe4f9e',
    },
  },
  signet: {
    powLimit: 0x00000377ae000000000000000000000000000000000000000000000000000000n,
    retarget: false,
    checkpoint: {
      height: 308_447,
      hash: '0000000fce481bd689af96794ea36ad8e80bc4635f068104aeff53bc17326ecf',
    },
  },
  regtest: {
    powLimit: 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffn,
    retarget: false,
    checkpoint: undefined,
  },
};

/** The work a header proves: the expected number of hashes to meet its target (Core's GetBlockProof). */
export function headerWork(header: BlockHeader): bigint {
  return (1n << 256n) / (targetFromBits(header.bits) + 1n);
}

/** Proof of work: the hash is at most the target its own bits claim, which the network allows. */
export function checkProofOfWork(header: BlockHeader, rules: NetworkRules): void {
  const target = targetFromBits(header.bits);
  if (target === 0n || target > rules.powLimit)
    throw new ChainError(
      'BAD_PROOF_OF_WORK',
      `block ${header.height} claims bits 0x${header.bits.toString(16)}, easier than the network allows`,
    );
  if (BigInt(`0x${header.hash}`) > target)
    throw new ChainError(
      'BAD_PROOF_OF_WORK',
      `block ${header.height} (${header.hash}) does not meet its target (bits 0x${header.bits.toString(16)})`,
    );
}

/**
 * Mainnet's difficulty schedule (Core's GetNextWorkRequired): inside a period the bits repeat; at a
 * period start they follow from the previous period's duration. `periodStart` is the first header
 * of the previous period, or undefined when it lies below the checkpoint: then only the ×4 bound
 * is checked.
 */
export function checkDifficulty(
  header: BlockHeader,
  prev: BlockHeader,
  periodStart: BlockHeader | undefined,
  rules: NetworkRules,
): void {
  if (!rules.retarget) return;
  if (header.height % RETARGET_INTERVAL !== 0) {
    if (header.bits !== prev.bits)
      throw new ChainError(
        'BAD_DIFFICULTY',
        `block ${header.height} changes the difficulty inside a period (0x${header.bits.toString(16)} after 0x${prev.bits.toString(16)})`,
      );
    return;
  }
  const prevTarget = targetFromBits(prev.bits);
  if (periodStart === undefined) {
    const target = targetFromBits(header.bits);
    if (target > prevTarget * 4n || target * 4n < prevTarget)
      throw new ChainError('BAD_DIFFICULTY', `block ${header.height} moves the difficulty more than 4×`);
    return;
  }
  const span = Math.min(Math.max(prev.time - periodStart.time, TWO_WEEKS / 4), TWO_WEEKS * 4);
  let target = (prevTarget * BigInt(span)) / BigInt(TWO_WEEKS);
  if (target > rules.powLimit) target = rules.powLimit;
  const expected = bitsFromTarget(target);
  if (header.bits !== expected)
    throw new ChainError(
      'BAD_DIFFICULTY',
      `block ${header.height} has bits 0x${header.bits.toString(16)}, the schedule says 0x${expected.toString(16)}`,
    );
}

/**
 * The header chain the node believes: from its checkpoint (or a regtest genesis) to the tip, every
 * link, proof of work and difficulty checked. Replaced above a fork point on a reorg.
 */
export class HeaderChain {
  private readonly byHeight = new Map<number, BlockHeader>();
  private readonly byHash = new Map<string, BlockHeader>();
  private top: BlockHeader;

  constructor(
    readonly base: BlockHeader,
    readonly rules: NetworkRules,
  ) {
    this.byHeight.set(base.height, base);
    this.byHash.set(base.hash, base);
    this.top = base;
  }

  /** The held header with this hash, if it is in the chain. */
  find(hash: string): BlockHeader | undefined {
    return this.byHash.get(hash);
  }

  get tip(): BlockHeader {
    return this.top;
  }

  at(height: number): BlockHeader | undefined {
    return this.byHeight.get(height);
  }

  /** The held header with this hash at this height, if it is in the chain. */
  holds(hash: string, height: number): BlockHeader | undefined {
    const header = this.byHeight.get(height);
    return header?.hash === hash ? header : undefined;
  }

  /**
   * Check `headers` (ascending heights, the first one's parent held) and make them the chain above
   * that parent. Nothing changes unless every header passes, and unless they prove at least the work
   * of the headers they replace: a weaker fork is CHAIN_ROLLBACK (what a miner-less liar can serve).
   */
  connect(headers: BlockHeader[]): void {
    if (headers.length === 0) return;
    const parent = this.byHeight.get(headers[0]!.height - 1);
    if (!parent || parent.hash !== headers[0]!.prevHash)
      throw new ChainError(
        'BROKEN_HEADER_CHAIN',
        `block ${headers[0]!.height} does not link to a header we hold`,
      );
    let prev = parent;
    for (const header of headers) {
      if (header.height !== prev.height + 1 || header.prevHash !== prev.hash)
        throw new ChainError(
          'BROKEN_HEADER_CHAIN',
          `block ${header.height} (${header.hash}) does not link to block ${prev.height} (${prev.hash})`,
        );
      checkProofOfWork(header, this.rules);
      const periodStart = this.periodStartBefore(header.height, headers);
      checkDifficulty(header, prev, periodStart, this.rules);
      prev = header;
    }
    if (this.top.height > parent.height) {
      let replaced = 0n;
      for (let h = parent.height + 1; h <= this.top.height; h++)
        replaced += headerWork(this.byHeight.get(h)!);
      const offered = headers.reduce((sum, header) => sum + headerWork(header), 0n);
      if (offered < replaced)
        throw new ChainError(
          'CHAIN_ROLLBACK',
          `the chain served replaces blocks ${parent.height + 1}–${this.top.height} with a chain of less work (to block ${prev.height})`,
        );
    }
    for (let h = this.top.height; h > parent.height; h--) {
      const gone = this.byHeight.get(h);
      if (gone) this.byHash.delete(gone.hash);
      this.byHeight.delete(h);
    }
    for (const header of headers) {
      this.byHeight.set(header.height, header);
      this.byHash.set(header.hash, header);
    }
    this.top = prev;
  }

  /** First header of the period before the one `height` starts (for the retarget), if held. */
  private periodStartBefore(height: number, pending: BlockHeader[]): BlockHeader | undefined {
    if (!this.rules.retarget || height % RETARGET_INTERVAL !== 0) return undefined;
    const start = height - RETARGET_INTERVAL;
    const first = pending[0]!.height;
    return start >= first ? pending[start - first] : this.byHeight.get(start);
  }
}
