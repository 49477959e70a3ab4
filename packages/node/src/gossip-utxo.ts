// LDK's UtxoLookup over the node's chain source: a channel_announcement enters the graph only if its
// short channel id points at a real output on the chain. LDK itself then checks that the output is
// the P2WSH 2-of-2 of the announced bitcoin keys and takes its value as the channel's capacity.
// Without it any peer can fill the graph with channels that do not exist.
//
// The chain source is HTTP, so the answer is LDK's UtxoFuture, resolved later. An announcement's
// block is fetched once and its outputs kept while the next announcements (LDK's backfill walks the
// graph in SCID order, so they mostly share blocks) are checked against it: a mainnet-sized sync is
// a few hundred block downloads, not one round trip per channel.
import * as ldk from 'lightningdevkit';
import { parseBlock, parseTxIo, type TxIo } from './chain/bytes.ts';
import type { ChainSource } from './chain/source.ts';
import { type CallbackErrorSink, guard, type Retainer } from './ldk/callbacks.ts';

/** Blocks whose outputs are kept: enough for LDK's at most ~36 lookups in flight, in SCID order. */
const BLOCKS_KEPT = 16;

/**
 * Funding outputs looked up for channel_announcements: `found` ones LDK then compares with the
 * announced keys (a wrong script is refused there), `missing` ones (no block, transaction or output
 * at that place) are refused, `failed` ones could not be read (refused too; the peer may resend).
 */
export interface FundingChecks {
  pending: number;
  found: number;
  missing: number;
  failed: number;
  /** Blocks read from the chain source: one per block of announcements, not one per channel. */
  blocksFetched: number;
}

export interface GossipUtxoContext {
  source: ChainSource;
  /** The chain this node is on (genesis, as LDK's ChainHash): another chain's SCIDs are unknown. */
  chainHash: Uint8Array;
  graph: ldk.NetworkGraph;
  retainer: Retainer;
  onCallbackError: CallbackErrorSink;
  /** The node stopped: a late answer is dropped (the graph may be gone). */
  stopped: () => boolean;
  /** An answer changed the graph and maybe LDK's gossip back-pressure: process_events soon. */
  wake: () => void;
  /** A lookup that failed for a reason other than "no such output" (the chain source, mostly). */
  onLookupFailed: (scid: bigint, error: unknown) => void;
}

/** Where a short channel id points (BOLT 7: 3 bytes block height, 3 bytes tx index, 2 bytes output). */
export function scidParts(scid: bigint): { height: number; txIndex: number; vout: number } {
  return {
    height: Number(scid >> 40n),
    txIndex: Number((scid >> 16n) & 0xffffffn),
    vout: Number(scid & 0xffffn),
  };
}

export class GossipUtxoLookup {
  readonly handle: ldk.UtxoLookup;
  /** Outputs of each transaction of the blocks lately read, by height (insertion order is age). */
  private readonly blocks = new Map<number, Promise<TxIo['outputs'][] | undefined>>();
  private sync: ldk.P2PGossipSync | undefined;
  private readonly counts: FundingChecks = { pending: 0, found: 0, missing: 0, failed: 0, blocksFetched: 0 };

  constructor(private readonly c: GossipUtxoContext) {
    const impl: ldk.UtxoLookupInterface = {
      get_utxo: guard(
        'UtxoLookup.get_utxo',
        (chainHash: Uint8Array, scid: bigint) => this.lookup(chainHash, scid),
        () => ldk.UtxoResult.constructor_sync(unknown('UnknownTx')),
        c.onCallbackError,
      ),
    };
    c.retainer.keep(impl);
    this.handle = c.retainer.keep(ldk.UtxoLookup.new_impl(impl));
  }

  /** What the lookups found so far. */
  get checks(): FundingChecks {
    return { ...this.counts };
  }

  /** The gossip sync that answers forward validated announcements through (its peers get them). */
  attach(sync: ldk.P2PGossipSync): void {
    this.sync = sync;
    sync.add_utxo_lookup(ldk.Option_UtxoLookupZ.constructor_some(this.handle));
  }

  /** The output a short channel id points at, or undefined when the chain has none there. */
  async output(scid: bigint): Promise<{ script: Uint8Array; valueSat: bigint } | undefined> {
    const { height, txIndex, vout } = scidParts(scid);
    const txs = await this.blockOutputs(height);
    return txs?.[txIndex]?.[vout];
  }

  private lookup(chainHash: Uint8Array, scid: bigint): ldk.UtxoResult {
    if (!sameBytes(chainHash, this.c.chainHash))
      return ldk.UtxoResult.constructor_sync(unknown('UnknownChain'));
    const future = ldk.UtxoFuture.constructor_new();
    this.counts.pending++;
    // answered from a promise continuation: never inside the LDK call that asked
    this.output(scid).then(
      (found) => {
        this.counts.pending--;
        this.counts[found ? 'found' : 'missing']++;
        this.resolve(
          future,
          found
            ? ldk.Result_TxOutUtxoLookupErrorZ.constructor_ok(
                ldk.TxOut.constructor_new(found.valueSat, found.script),
              )
            : unknown('UnknownTx'),
        );
      },
      (error: unknown) => {
        this.counts.pending--;
        this.counts.failed++;
        this.c.onLookupFailed(scid, error);
        this.resolve(future, unknown('UnknownTx'));
      },
    );
    return ldk.UtxoResult.constructor_async(future);
  }

  private resolve(future: ldk.UtxoFuture, result: ldk.Result_TxOutUtxoLookupErrorZ): void {
    if (this.c.stopped()) return;
    try {
      if (this.sync) future.resolve(this.c.graph, this.sync, result);
      else future.resolve_without_forwarding(this.c.graph, result);
    } catch (error) {
      this.c.onCallbackError('UtxoFuture.resolve', error);
    }
    this.c.wake();
  }

  /** Every transaction's outputs in the best chain's block at `height`; undefined above the tip. */
  private blockOutputs(height: number): Promise<TxIo['outputs'][] | undefined> {
    let kept = this.blocks.get(height);
    if (kept) {
      // most recently used last: the oldest is evicted first
      this.blocks.delete(height);
      this.blocks.set(height, kept);
      return kept;
    }
    kept = this.fetchBlock(height);
    this.blocks.set(height, kept);
    // a failed read is not kept: the next announcement of that block asks again
    kept.then(
      (txs) => {
        if (!txs) this.blocks.delete(height);
      },
      () => this.blocks.delete(height),
    );
    while (this.blocks.size > BLOCKS_KEPT) this.blocks.delete(this.blocks.keys().next().value!);
    return kept;
  }

  private async fetchBlock(height: number): Promise<TxIo['outputs'][] | undefined> {
    const hash = await this.c.source.blockHash(height);
    if (hash === null) return undefined;
    this.counts.blocksFetched++;
    return parseBlock(await this.c.source.block(hash)).txs.map((raw) => parseTxIo(raw).outputs);
  }
}

function unknown(kind: 'UnknownTx' | 'UnknownChain'): ldk.Result_TxOutUtxoLookupErrorZ {
  return ldk.Result_TxOutUtxoLookupErrorZ.constructor_err(
    kind === 'UnknownTx'
      ? ldk.UtxoLookupError.LDKUtxoLookupError_UnknownTx
      : ldk.UtxoLookupError.LDKUtxoLookupError_UnknownChain,
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
