// The chunked manager snapshot on its own: what a commit writes and deletes, that the store always
// reads back the last snapshot exactly, that a missing or altered chunk is refused by name, and the
// migration between the plain key and chunks. The same on real LDK nodes is in manager-chunks-node.test.ts.
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { isNodeError } from '../errors.ts';
import { MANAGER_CHUNK_PREFIX, MANAGER_KEY, MANAGER_ROOT_KEY } from './keys.ts';
import { hasStoredManager, ManagerChunker, readStoredManager, StoredManager } from './manager-chunks.ts';
import { MemoryStore } from './memory.ts';
import type { StoreWrite } from './store.ts';

/** Deterministic bytes that look like a serialization: records of varied content, some repeated. */
function snapshotBytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    out[i] = i % 97 < 8 ? i % 7 : x >>> 24; // a fixed field every 97 bytes, like a record header
  }
  return out;
}

const chunkKeys = (data: Map<string, Uint8Array>) =>
  [...data.keys()].filter((k) => k.startsWith(MANAGER_CHUNK_PREFIX));
const bytesOf = (writes: StoreWrite[]) => writes.reduce((n, w) => n + (w.value?.length ?? 0), 0);
const chunkWrites = (writes: StoreWrite[]) =>
  writes.filter((w) => w.key.startsWith(MANAGER_CHUNK_PREFIX) && w.value);
const chunkDeletes = (writes: StoreWrite[]) =>
  writes.filter((w) => w.key.startsWith(MANAGER_CHUNK_PREFIX) && !w.value);

/** Byte equality in one call (vitest's deep equality walks a multi-MB array element by element). */
function expectManager(data: Map<string, Uint8Array>, bytes: Uint8Array): void {
  const read = readStoredManager(data);
  expect(read && Buffer.compare(read, bytes)).toBe(0);
}

function refused(data: Map<string, Uint8Array>): string {
  try {
    readStoredManager(data);
  } catch (error) {
    expect(isNodeError(error, 'RESTORE_FAILED')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected RESTORE_FAILED');
}

describe('chunked manager snapshot', () => {
  it('a small change rewrites a few chunks, shares the rest, deletes what the new tree drops', () => {
    const store = new MemoryStore();
    const stored = new StoredManager(store.data, true);
    const first = snapshotBytes(3_000_000);
    const w1 = stored.writes(first);
    store.commit(w1);
    expectManager(store.data, first);
    const held = chunkKeys(store.data).length;
    expect(held).toBeGreaterThan(300); // ~6 KiB chunks plus their index nodes

    // one channel's few hundred bytes change in the middle (same length)
    const second = first.slice();
    for (let i = 1_500_000; i < 1_500_300; i++) second[i] = second[i]! ^ 0x5a;
    const w2 = stored.writes(second);
    store.commit(w2);
    expectManager(store.data, second);
    expect(chunkWrites(w2).length).toBeLessThanOrEqual(4); // the data chunk(s), their index nodes
    expect(chunkDeletes(w2).length).toBe(chunkWrites(w2).length);
    expect(bytesOf(w2)).toBeLessThan(100_000);
    expect(chunkKeys(store.data).length).toBe(held);

    // bytes inserted near the start shift everything after them: the cuts find their places again
    const third = new Uint8Array(second.length + 500);
    third.set(second.subarray(0, 10_000));
    third.set(snapshotBytes(500, 7), 10_000);
    third.set(second.subarray(10_000), 10_500);
    const w3 = stored.writes(third);
    store.commit(w3);
    expectManager(store.data, third);
    expect(chunkWrites(w3).length).toBeLessThanOrEqual(5);
    expect(bytesOf(w3)).toBeLessThan(100_000);

    // nothing orphaned: every stored chunk belongs to the stored tree
    const fresh = new ManagerChunker().chunk(third);
    expect(new Set(chunkKeys(store.data))).toEqual(
      new Set([...fresh.chunks.keys()].map((h) => `${MANAGER_CHUNK_PREFIX}${h}`)),
    );
    expect(store.data.get(MANAGER_ROOT_KEY)).toEqual(fresh.root);
  });

  it('reusing the previous snapshot chunks gives exactly what chunking from scratch gives', () => {
    const chunker = new ManagerChunker();
    const a = snapshotBytes(400_000, 3);
    chunker.chunk(a);
    const b = a.slice(0, 390_000);
    b[200_000] = b[200_000]! ^ 1;
    const reused = chunker.chunk(b);
    const scratch = new ManagerChunker().chunk(b);
    expect(reused.root).toEqual(scratch.root);
    expect([...reused.chunks.keys()]).toEqual([...scratch.chunks.keys()]);
  });

  it('the tree grows levels: the root stays small however big the manager', () => {
    const { root, chunks } = new ManagerChunker().chunk(snapshotBytes(30_000_000, 5));
    expect(root[1]).toBeGreaterThanOrEqual(1);
    expect(root.length).toBeLessThanOrEqual(10 + 64 * 32);
    for (const [hex, chunk] of chunks) expect(Buffer.from(sha256(chunk)).toString('hex')).toBe(hex);
  }, 60_000);

  it('a missing or altered chunk is refused by name, never read as another manager', () => {
    const data = new Map<string, Uint8Array>();
    const apply = (writes: StoreWrite[]) => {
      for (const w of writes) w.value ? data.set(w.key, w.value) : data.delete(w.key);
    };
    apply(new StoredManager(data, true).writes(snapshotBytes(200_000)));
    const [victim] = chunkKeys(data);
    const hex = victim!.slice(MANAGER_CHUNK_PREFIX.length);

    const missing = new Map(data);
    missing.delete(victim!);
    expect(refused(missing)).toContain(`manager chunk ${hex} is missing`);

    const altered = new Map(data);
    const bytes = Uint8Array.from(data.get(victim!)!);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    altered.set(victim!, bytes);
    expect(refused(altered)).toContain(`manager chunk ${hex} is altered`);

    const truncatedRoot = new Map(data);
    truncatedRoot.set(MANAGER_ROOT_KEY, data.get(MANAGER_ROOT_KEY)!.subarray(0, 20));
    expect(refused(truncatedRoot)).toContain(MANAGER_ROOT_KEY);

    // a plain key left beside the root (never written so) does not win over it
    const both = new Map(data);
    both.set(MANAGER_KEY, Uint8Array.of(1, 2, 3));
    both.delete(victim!);
    expect(refused(both)).toContain('is missing');
  });

  it('a store with the plain key migrates to chunks in the first chunked commit, and back', () => {
    const store = new MemoryStore({ initial: new Map([[MANAGER_KEY, snapshotBytes(50_000, 9)]]) });
    expectManager(store.data, snapshotBytes(50_000, 9));
    const next = snapshotBytes(60_000, 10);
    const toChunks = new StoredManager(store.data, true).writes(next);
    expect(toChunks).toContainEqual({ key: MANAGER_KEY, value: null });
    store.commit(toChunks);
    expect(store.data.has(MANAGER_KEY)).toBe(false);
    expectManager(store.data, next);

    // a node told to keep the plain key again (a wallet restored from an LSP-side copy, say)
    const plain = snapshotBytes(70_000, 11);
    store.commit(new StoredManager(store.data, false).writes(plain));
    expect(chunkKeys(store.data)).toEqual([]);
    expect(store.data.has(MANAGER_ROOT_KEY)).toBe(false);
    expectManager(store.data, plain);
    expect(hasStoredManager(store.data)).toBe(true);
    expect(hasStoredManager(new Map())).toBe(false);
  });

  it('a failed commit retried under a newer snapshot leaves exactly the newer one', () => {
    // the commit queue merges a failed batch under the writes queued since (newer values win)
    const store = new MemoryStore();
    const stored = new StoredManager(store.data, true);
    store.commit(stored.writes(snapshotBytes(100_000, 1)));
    const failed = stored.writes(snapshotBytes(100_000, 2));
    const newer = stored.writes(snapshotBytes(100_000, 3));
    const merged = new Map<string, Uint8Array | null>();
    for (const w of [...failed, ...newer]) merged.set(w.key, w.value);
    store.commit([...merged].map(([key, value]) => ({ key, value })));
    expectManager(store.data, snapshotBytes(100_000, 3));
    expect(chunkKeys(store.data).length).toBe(
      new ManagerChunker().chunk(snapshotBytes(100_000, 3)).chunks.size,
    );
  });
});
