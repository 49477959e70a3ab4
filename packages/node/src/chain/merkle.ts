// Merkle proofs (Esplora's `GET /tx/:txid/merkle-proof`): the sibling hashes from a transaction up
// to the merkle root its block header commits to. A source that invents a confirmation has to
// find a second preimage of sha256d to pass.
import { concatBytes } from '@noble/hashes/utils.js';
import { hashFromDisplay, sha256d } from './bytes.ts';

/** The merkle root (internal byte order) that `branch` (display hex, leaf upwards) leads `txid` at `pos` to. */
export function merkleRootOf(txid: string, branch: string[], pos: number): Uint8Array {
  let node = hashFromDisplay(txid);
  let index = pos;
  for (const sibling of branch) {
    const other = hashFromDisplay(sibling);
    node = index & 1 ? sha256d(concatBytes(other, node)) : sha256d(concatBytes(node, other));
    index = Math.floor(index / 2);
  }
  return node;
}

/**
 * Whether the proof holds: it reaches `root` and has exactly the depth a block of that position
 * needs (a shorter branch could pass an inner node off as a transaction).
 */
export function merkleProofHolds(txid: string, branch: string[], pos: number, root: Uint8Array): boolean {
  if (!Number.isSafeInteger(pos) || pos < 0 || pos >= 2 ** branch.length) return false;
  const computed = merkleRootOf(txid, branch, pos);
  return computed.length === root.length && computed.every((b, i) => b === root[i]);
}

/** The merkle root (internal byte order) of a block's txids (display hex, block order). */
export function merkleRootOfTxids(txids: string[]): Uint8Array {
  let level = txids.map(hashFromDisplay);
  if (level.length === 0) return new Uint8Array(32);
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(sha256d(concatBytes(level[i]!, level[i + 1] ?? level[i]!)));
    level = next;
  }
  return level[0]!;
}
