// The checked header chain kept across starts (a node store value): the last KEPT_HEADERS headers of
// the chain we believe, and the header of every block a transaction of ours was proven in (a later
// start still proves those confirmations to LDK without the headers between). Read back, the window
// is checked again (link, proof of work, difficulty) and must belong to the same anchor (checkpoint
// or regtest genesis); a record that fails any of it is dropped and the chain fetched from the anchor.
import { hashFromDisplay, hashToDisplay } from './bytes.ts';
import {
  type BlockHeader,
  checkProofOfWork,
  decodeHeader,
  HeaderChain,
  type NetworkRules,
} from './headers.ts';

/** One difficulty period (about two weeks): a reorganisation deeper than this is an error, never followed. */
export const KEPT_HEADERS = 2016;
const VERSION = 1;

export interface KeptChain {
  chain: HeaderChain;
  /** txid → the block it was proven in. */
  proven: Map<string, string>;
  /** The blocks of `proven`, by hash. */
  provenBlocks: Map<string, BlockHeader>;
}

/** v1 | anchor (32) | window start height (u32) | count (u32) | count × 80 | proven (u32) | (txid 32, height u32, header 80)… */
export function encodeKept(anchorHash: string, kept: KeptChain, window = KEPT_HEADERS): Uint8Array {
  const { chain } = kept;
  const from = Math.max(chain.base.height, chain.tip.height - window + 1);
  const count = chain.tip.height - from + 1;
  const proven = [...kept.proven].flatMap(([txid, hash]) => {
    const block = kept.provenBlocks.get(hash);
    return block ? [{ txid, block }] : [];
  });
  const out = new Uint8Array(1 + 32 + 8 + count * 80 + 4 + proven.length * (32 + 4 + 80));
  const view = new DataView(out.buffer);
  out[0] = VERSION;
  out.set(hashFromDisplay(anchorHash), 1);
  view.setUint32(33, from, true);
  view.setUint32(37, count, true);
  let at = 41;
  for (let height = from; height <= chain.tip.height; height++, at += 80) out.set(chain.at(height)!.raw, at);
  view.setUint32(at, proven.length, true);
  at += 4;
  for (const { txid, block } of proven) {
    out.set(hashFromDisplay(txid), at);
    view.setUint32(at + 32, block.height, true);
    out.set(block.raw, at + 36);
    at += 116;
  }
  return out;
}

/**
 * The chain a record holds, checked again; undefined when it belongs to another anchor. Throws
 * ChainError (or RangeError on a truncated record) when it fails a check: the caller drops it.
 */
export function decodeKept(
  record: Uint8Array,
  anchorHash: string,
  rules: NetworkRules,
): KeptChain | undefined {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  if (record[0] !== VERSION || hashToDisplay(record.subarray(1, 33)) !== anchorHash) return undefined;
  const from = view.getUint32(33, true);
  const count = view.getUint32(37, true);
  if (count === 0) return undefined;
  const headers: BlockHeader[] = [];
  let at = 41;
  for (let i = 0; i < count; i++, at += 80) headers.push(decodeHeader(record.slice(at, at + 80), from + i));
  // the oldest kept header stands in for the anchor; every one above it is checked again
  const chain = new HeaderChain(headers[0]!, rules);
  chain.connect(headers.slice(1));
  const proven = new Map<string, string>();
  const provenBlocks = new Map<string, BlockHeader>();
  const provenCount = view.getUint32(at, true);
  at += 4;
  for (let i = 0; i < provenCount; i++, at += 116) {
    const txid = hashToDisplay(record.subarray(at, at + 32));
    const block = decodeHeader(record.slice(at + 36, at + 116), view.getUint32(at + 32, true));
    // inside the window a proof counts only for a block still in the chain
    if (block.height >= from && !chain.holds(block.hash, block.height)) continue;
    checkProofOfWork(block, rules);
    proven.set(txid, block.hash);
    provenBlocks.set(block.hash, block);
  }
  if (at !== record.length)
    throw new RangeError(`kept header record has ${record.length - at} bytes too many`);
  return { chain, proven, provenBlocks };
}
