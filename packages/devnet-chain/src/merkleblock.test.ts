// BIP 37 merkleblock proofs, as Esplora's /tx/:txid/merkleblock-proof and bitcoind's gettxoutproof
// serve them: each is read back with the parser below (written from BIP 37, not from the devnet's
// encoder), and must rebuild the merkle root of the block header it carries and match exactly the
// transactions asked for.
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Block } from './block.ts';
import { type Devnet, startDevnet } from './index.ts';
import { testKey } from './testkit.ts';

const sha256d = (b: Uint8Array) => sha256(sha256(b));
const displayHex = (b: Uint8Array) => hex.encode(Uint8Array.from(b).reverse());

interface MerkleBlock {
  header: Uint8Array;
  totalTxs: number;
  hashes: Uint8Array[];
  flags: Uint8Array;
}

function parseMerkleBlock(proofHex: string): MerkleBlock {
  const bytes = hex.decode(proofHex);
  let at = 0;
  const take = (n: number) => {
    if (at + n > bytes.length) throw new Error('truncated');
    at += n;
    return bytes.subarray(at - n, at);
  };
  const uint = (b: Uint8Array) => b.reduceRight((n, byte) => n * 256 + byte, 0);
  const varint = () => {
    const first = take(1)[0]!;
    return first < 0xfd ? first : uint(take(first === 0xfd ? 2 : 4));
  };
  const header = take(80);
  const totalTxs = uint(take(4));
  const hashes = Array.from({ length: varint() }, () => take(32));
  const flags = take(varint());
  if (at !== bytes.length) throw new Error(`${bytes.length - at} trailing bytes`);
  return { header, totalTxs, hashes, flags };
}

/** BIP 37's traversal: the root the partial tree commits to and the matched leaves (position, txid). */
function extractMatches(mb: MerkleBlock): { root: string; matched: [number, string][] } {
  const width = (height: number) => (mb.totalTxs + (1 << height) - 1) >> height;
  let height = 0;
  while (width(height) > 1) height++;
  let bitsUsed = 0;
  let hashesUsed = 0;
  const matched: [number, string][] = [];
  const walk = (h: number, pos: number): Uint8Array => {
    if (bitsUsed >= mb.flags.length * 8) throw new Error('ran out of flag bits');
    const flag = (mb.flags[bitsUsed >> 3]! >> (bitsUsed & 7)) & 1;
    bitsUsed++;
    if (h === 0 || !flag) {
      const hash = mb.hashes[hashesUsed++];
      if (!hash) throw new Error('ran out of hashes');
      if (h === 0 && flag) matched.push([pos, displayHex(hash)]);
      return hash;
    }
    const left = walk(h - 1, pos * 2);
    const right = pos * 2 + 1 < width(h - 1) ? walk(h - 1, pos * 2 + 1) : left;
    if (right !== left && hex.encode(right) === hex.encode(left)) throw new Error('CVE-2012-2459 duplicate');
    return sha256d(new Uint8Array([...left, ...right]));
  };
  const root = displayHex(walk(height, 0));
  // every hash used, and no flag byte beyond the one holding the last bit used
  if (hashesUsed !== mb.hashes.length) throw new Error('unused hashes');
  if (Math.ceil(bitsUsed / 8) !== mb.flags.length) throw new Error('unused flag bytes');
  return { root, matched };
}

/** What a client checks: the header is the block's, and its merkle root is what the proof rebuilds. */
function verify(proofHex: string, block: Block) {
  const mb = parseMerkleBlock(proofHex);
  expect(displayHex(sha256d(mb.header))).toBe(block.hash);
  expect(mb.totalTxs).toBe(block.txs.length);
  const { root, matched } = extractMatches(mb);
  expect(root).toBe(displayHex(mb.header.subarray(36, 68)));
  expect(root).toBe(block.merkleRoot);
  return matched;
}

let devnet: Devnet;
let block: Block;
const get = async (path: string) => {
  const res = await fetch(`${devnet.esploraUrl}${path}`);
  return { status: res.status, text: await res.text() };
};
async function rpc(method: string, ...params: unknown[]) {
  const res = await fetch(devnet.rpcUrl, {
    method: 'POST',
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
}

beforeAll(async () => {
  devnet = await startDevnet({ seed: 'merkleblock' });
  // coinbase + 6: odd widths at two levels of the tree, where the last node pairs with itself
  for (let i = 0; i < 6; i++) devnet.fund(testKey(`payee-${i}`).address, 10_000 + i);
  [block] = devnet.mine(1) as [Block];
  expect(block.txs).toHaveLength(7);
});
afterAll(() => devnet.stop());

describe('BIP 37 merkleblock proofs', () => {
  it('Esplora /tx/:txid/merkleblock-proof: for each tx of a 7-tx block, the root of the header and that tx alone', async () => {
    for (const [index, tx] of block.txs.entries()) {
      const proof = await get(`/tx/${tx.txid}/merkleblock-proof`);
      expect(proof.status).toBe(200);
      expect(proof.text).toMatch(/^[0-9a-f]+$/);
      expect(verify(proof.text, block)).toEqual([[index, tx.txid]]);
      // bitcoind's gettxoutproof is the same bytes
      expect((await rpc('gettxoutproof', [tx.txid])).result).toBe(proof.text);
    }
  });

  it('a block with its coinbase alone: one hash, one flag bit', async () => {
    const [lone] = devnet.mine(1) as [Block];
    const proof = (await get(`/tx/${lone.txs[0]!.txid}/merkleblock-proof`)).text;
    const mb = parseMerkleBlock(proof);
    expect([mb.hashes.length, hex.encode(mb.flags)]).toEqual([1, '01']);
    expect(verify(proof, lone)).toEqual([[0, lone.txs[0]!.txid]]);
  });

  it('gettxoutproof proves several txids of one block at once, in the named block, and refuses as bitcoind does', async () => {
    const [a, b] = [block.txs[1]!.txid, block.txs[6]!.txid];
    const both = (await rpc('gettxoutproof', [b, a], block.hash)).result as string;
    expect(verify(both, block)).toEqual([
      [1, a],
      [6, b],
    ]);
    expect((await rpc('gettxoutproof', [a, a])).error).toEqual({
      code: -8,
      message: `Invalid parameter, duplicated txid: ${a}`,
    });
    const elsewhere = devnet.chain.tip().txs[0]!.txid;
    expect((await rpc('gettxoutproof', [a, elsewhere])).error).toEqual({
      code: -5,
      message: 'Not all transactions found in specified or retrieved block',
    });
    const pending = devnet.fund(testKey('pending').address, 20_000);
    expect((await rpc('gettxoutproof', [pending])).error).toEqual({
      code: -5,
      message: 'Transaction not yet in block',
    });
    expect((await rpc('gettxoutproof', a)).error?.code).toBe(-3);
  });

  it('an unconfirmed tx has no proof (electrs: 404 "Transaction not found or is unconfirmed"), an unknown one is not found', async () => {
    const pending = devnet.fund(testKey('unconfirmed').address, 30_000);
    const unconfirmed = { status: 404, text: 'Transaction not found or is unconfirmed' };
    expect(await get(`/tx/${pending}/merkleblock-proof`)).toEqual(unconfirmed);
    expect(await get(`/tx/${pending}/merkle-proof`)).toEqual(unconfirmed);
    expect(await get(`/tx/${'ab'.repeat(32)}/merkleblock-proof`)).toEqual({
      status: 404,
      text: 'Transaction not found',
    });
  });
});
