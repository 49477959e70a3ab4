// The ChannelManager snapshot as content-defined chunks, so a commit's bytes stop growing with the
// channel count. A snapshot of N channels is N × a few KB, but one payment changes a few hundred
// bytes of it: cut at content boundaries (a gear rolling hash, FastCDC's cut rule), each chunk is
// stored under the SHA-256 of its bytes, and a commit writes only the chunks the store does not hold
// yet, a small hash tree over them (index nodes cut by their hashes, so an unchanged stretch of
// chunks keeps its index nodes too) and its root, and deletes what the new tree no longer lists —
// all inside the one atomic commit that carries the monitor writes (invariant 1 unchanged: the
// store always holds exactly one complete snapshot). Restore reassembles the snapshot from the
// root and checks every chunk's hash: a missing or altered chunk is a RESTORE_FAILED naming it,
// never an older manager.
//
// Wallets keep the plain `ldk/manager` key (one or two channels: chunking would not pay, and their
// backup, export and offline start read that key); the LSP and routers store chunks. Either form
// is read, and a commit in the other form migrates the store within that same commit.
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { NodeError } from '../errors.ts';
import { toHex } from '../ldk/values.ts';
import { MANAGER_CHUNK_PREFIX, MANAGER_KEY, MANAGER_ROOT_KEY, managerChunkKey } from './keys.ts';
import type { StoreWrite } from './store.ts';

/**
 * Data chunks: no cut in the first 512 bytes, then a cut where 11 bits of the gear hash are 0, at
 * most 8 KiB. A payment rewrites a channel's ~3 KiB stretch or two and the manager's tail (measured
 * on LDK 0.1 snapshots), so small chunks keep a commit small. The cap matters: the snapshots hold
 * long low-entropy runs where a gear hash settles and never cuts (chunks of the 32 KiB cap were
 * most of what a commit wrote before it was 8 KiB).
 */
const MIN_CHUNK = 512;
const MAX_CHUNK = 8 * 1024;
/** The top 11 bits: the low bits of a gear hash only see the last few bytes. */
const CUT_MASK = 0xffe0_0000;
const HASH = 32;
/** Index nodes end after a hash whose first byte is below 8 (1 in 32: ~1 KiB nodes), at most 128 hashes. */
const INDEX_CUT_BELOW = 8;
const INDEX_MAX = 128;
/** The tree grows a level while its top lists more hashes than this (the root stays ≤ ~2 KiB). */
const ROOT_MAX = 64;
const ROOT_VERSION = 1;
/** version, height, total length (u64 BE) */
const ROOT_HEADER = 10;

/** 256 fixed pseudo-random words: the cut points (and so the chunks) are the same in every process. */
const GEAR = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    const h = sha256(new TextEncoder().encode(`lpw manager gear ${i}`));
    table[i] = new DataView(h.buffer, h.byteOffset).getUint32(0);
  }
  return table;
})();

/** A snapshot as stored: its root and every chunk of its tree (data and index), by hex hash. */
export interface ChunkedManager {
  root: Uint8Array;
  chunks: Map<string, Uint8Array>;
}

interface Leaf {
  bytes: Uint8Array;
  hash: Uint8Array;
  /** Cut by the end of the snapshot, not by its content: another snapshot need not cut there. */
  last: boolean;
}

/**
 * Chunks snapshot after snapshot. Hashing every chunk of a 30 MB manager costs about as much as
 * LDK's write itself, so the chunks of the previous snapshot are remembered: where the next
 * snapshot's bytes at a cut point equal one of them, that chunk is reused (its bytes are compared,
 * not hashed). The result is exactly what chunking from scratch gives, because a chunk's end
 * depends only on its own bytes.
 */
export class ManagerChunker {
  private previous = new Map<string, Leaf[]>();

  chunk(bytes: Uint8Array): ChunkedManager {
    const leaves: Leaf[] = [];
    for (let start = 0; start < bytes.length; ) {
      const leaf = this.reuse(bytes, start) ?? newLeaf(bytes, start);
      leaves.push(leaf);
      start += leaf.bytes.length;
    }
    this.previous = new Map();
    for (const leaf of leaves) {
      if (leaf.last) continue;
      const key = probeKey(leaf.bytes, 0);
      const same = this.previous.get(key);
      if (same) same.push(leaf);
      else this.previous.set(key, [leaf]);
    }
    const chunks = new Map<string, Uint8Array>();
    for (const leaf of leaves) chunks.set(toHex(leaf.hash), leaf.bytes);
    let level = leaves.map((l) => l.hash);
    let height = 0;
    while (level.length > ROOT_MAX) {
      level = indexNodes(level).map((node) => {
        const hash = sha256(node);
        chunks.set(toHex(hash), node);
        return hash;
      });
      height++;
    }
    const root = new Uint8Array(ROOT_HEADER + level.length * HASH);
    root[0] = ROOT_VERSION;
    root[1] = height;
    new DataView(root.buffer).setBigUint64(2, BigInt(bytes.length));
    for (const [i, hash] of level.entries()) root.set(hash, ROOT_HEADER + i * HASH);
    return { root, chunks };
  }

  private reuse(bytes: Uint8Array, start: number): Leaf | undefined {
    if (bytes.length - start < MIN_CHUNK) return undefined;
    for (const leaf of this.previous.get(probeKey(bytes, start)) ?? []) {
      if (leaf.bytes.length <= bytes.length - start && equalAt(bytes, start, leaf.bytes)) return leaf;
    }
    return undefined;
  }
}

/** Where the chunk starting at `start` ends: FastCDC's cut rule over a gear hash. */
export function cutPoint(bytes: Uint8Array, start: number): number {
  const end = Math.min(bytes.length, start + MAX_CHUNK);
  if (end - start <= MIN_CHUNK) return end;
  let h = 0;
  for (let i = start + MIN_CHUNK; i < end; i++) {
    h = ((h << 1) + GEAR[bytes[i]!]!) >>> 0;
    if ((h & CUT_MASK) === 0) return i + 1;
  }
  return end;
}

function newLeaf(bytes: Uint8Array, start: number): Leaf {
  const end = cutPoint(bytes, start);
  const chunk = bytes.subarray(start, end);
  return { bytes: chunk, hash: sha256(chunk), last: end === bytes.length && end - start < MAX_CHUNK };
}

/** The first 16 bytes: which earlier chunks may start here (then compared in full). */
function probeKey(bytes: Uint8Array, start: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + 16));
}

/**
 * Four bytes a step: a commit compares most of the snapshot against the previous one's chunks, and
 * a byte loop was ~11% of an LSP's CPU at 1,000 channels (2.2× slower than this, measured).
 */
function equalAt(bytes: Uint8Array, start: number, chunk: Uint8Array): boolean {
  const n = chunk.length;
  const x = new DataView(bytes.buffer, bytes.byteOffset + start, n);
  const y = new DataView(chunk.buffer, chunk.byteOffset, n);
  let i = 0;
  for (; i + 4 <= n; i += 4) if (x.getUint32(i) !== y.getUint32(i)) return false;
  for (; i < n; i++) if (bytes[start + i] !== chunk[i]) return false;
  return true;
}

/** Hashes grouped into index nodes, cut by the hashes themselves (content-defined, like the data). */
function indexNodes(hashes: Uint8Array[]): Uint8Array[] {
  const nodes: Uint8Array[] = [];
  let from = 0;
  for (let i = 0; i < hashes.length; i++) {
    if (hashes[i]![0]! < INDEX_CUT_BELOW || i - from + 1 === INDEX_MAX || i === hashes.length - 1) {
      nodes.push(concatBytes(...hashes.slice(from, i + 1)));
      from = i + 1;
    }
  }
  return nodes;
}

/** True when the store holds a manager, in either form. */
export function hasStoredManager(data: ReadonlyMap<string, Uint8Array>): boolean {
  return data.has(MANAGER_ROOT_KEY) || data.has(MANAGER_KEY);
}

/**
 * The stored manager's bytes (undefined when the store holds none): the plain key, or the chunks
 * reassembled from the root, every chunk checked against its hash. A missing or altered chunk, or
 * a root that does not add up, throws RESTORE_FAILED naming it.
 */
export function readStoredManager(data: ReadonlyMap<string, Uint8Array>): Uint8Array | undefined {
  const root = data.get(MANAGER_ROOT_KEY);
  if (!root) return data.get(MANAGER_KEY);
  if (root.length < ROOT_HEADER || root[0] !== ROOT_VERSION || (root.length - ROOT_HEADER) % HASH !== 0) {
    throw new NodeError('RESTORE_FAILED', `${MANAGER_ROOT_KEY}: not a version ${ROOT_VERSION} manager root`);
  }
  const total = Number(new DataView(root.buffer, root.byteOffset).getBigUint64(2));
  let level = splitHashes(root.subarray(ROOT_HEADER));
  for (let height = root[1]!; height > 0; height--) {
    level = level.flatMap((hash) => {
      const node = checkedChunk(data, hash);
      if (node.length % HASH !== 0) {
        throw new NodeError('RESTORE_FAILED', `manager index chunk ${toHex(hash)} is not a list of hashes`);
      }
      return splitHashes(node);
    });
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const hash of level) {
    const chunk = checkedChunk(data, hash);
    if (at + chunk.length > total) {
      throw new NodeError(
        'RESTORE_FAILED',
        `manager chunks hold more than the ${total} bytes the root names`,
      );
    }
    bytes.set(chunk, at);
    at += chunk.length;
  }
  if (at !== total) {
    throw new NodeError('RESTORE_FAILED', `manager chunks hold ${at} bytes, the root names ${total}`);
  }
  return bytes;
}

function splitHashes(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += HASH) out.push(bytes.subarray(i, i + HASH));
  return out;
}

function checkedChunk(data: ReadonlyMap<string, Uint8Array>, hash: Uint8Array): Uint8Array {
  const hex = toHex(hash);
  const chunk = data.get(managerChunkKey(hex));
  if (!chunk) throw new NodeError('RESTORE_FAILED', `manager chunk ${hex} is missing`);
  if (toHex(sha256(chunk)) !== hex) {
    throw new NodeError('RESTORE_FAILED', `manager chunk ${hex} is altered (its bytes hash otherwise)`);
  }
  return chunk;
}

/**
 * The writes that replace the stored manager with a new snapshot, in the form this node keeps.
 * Tracks which chunks the store will hold once everything queued so far is committed (the commit
 * queue applies batches in order, a retried batch merged under newer writes), so each commit
 * writes only new chunks and deletes exactly the ones no longer listed.
 */
export class StoredManager {
  private readonly chunker = new ManagerChunker();
  /** Chunk hashes (hex) the store holds, including any left over that the next commit deletes. */
  private held = new Set<string>();
  private plain: boolean;
  private rooted: boolean;

  constructor(
    data: ReadonlyMap<string, Uint8Array>,
    readonly chunked: boolean,
  ) {
    this.plain = data.has(MANAGER_KEY);
    this.rooted = data.has(MANAGER_ROOT_KEY);
    for (const key of data.keys()) {
      if (key.startsWith(MANAGER_CHUNK_PREFIX)) this.held.add(key.slice(MANAGER_CHUNK_PREFIX.length));
    }
  }

  writes(bytes: Uint8Array): StoreWrite[] {
    const writes: StoreWrite[] = [];
    if (!this.chunked) {
      writes.push({ key: MANAGER_KEY, value: bytes });
      if (this.rooted) writes.push({ key: MANAGER_ROOT_KEY, value: null });
      for (const hex of this.held) writes.push({ key: managerChunkKey(hex), value: null });
      this.held.clear();
      this.plain = true;
      this.rooted = false;
      return writes;
    }
    const { root, chunks } = this.chunker.chunk(bytes);
    for (const [hex, chunk] of chunks) {
      if (!this.held.has(hex)) writes.push({ key: managerChunkKey(hex), value: chunk });
    }
    for (const hex of this.held) {
      if (!chunks.has(hex)) writes.push({ key: managerChunkKey(hex), value: null });
    }
    writes.push({ key: MANAGER_ROOT_KEY, value: root });
    if (this.plain) writes.push({ key: MANAGER_KEY, value: null }); // migrated in this commit
    this.held = new Set(chunks.keys());
    this.plain = false;
    this.rooted = true;
    return writes;
  }
}
