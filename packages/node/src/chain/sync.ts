// Feeds LDK's `Confirm` implementors (ChannelManager, ChainMonitor, OutputSweeper) from a chain
// source, the way lightning-transaction-sync does in Rust (it is not in the bindings):
//   1. reorgs: every relevant tx whose block left the best chain → `transaction_unconfirmed`;
//   2. registered txs and spends of registered outputs that confirmed → `transactions_confirmed`,
//      in block order, with the block's header and each tx's position;
//   3. the tip → `best_block_updated`.
// Repeated until the tip is stable and LDK registered nothing new. Two ways to find what LDK
// watches (`blockScan`): read every block since the last synced height (bitcoind always: it has no
// outspend index; an LSP over Esplora: its cost follows the blocks, not its thousands of channels),
// or ask about each watched tx and output (a wallet: offline for weeks, watching a handful). A block
// scan needs a remembered block still in the best chain at most BLOCK_HISTORY below the tip (the
// history survives restarts: `saved()`); otherwise an Esplora sync asks per item, which is right at
// any depth.

import { hex } from '@scure/base';
import * as ldk from 'lightningdevkit';
import { inBatches, LOOKUPS_AT_ONCE } from './batches.ts';
import {
  assertHashHex,
  assertHeight,
  hashFromDisplay,
  hashToDisplay,
  parseBlock,
  parseTxIo,
  txidOf,
} from './bytes.ts';
import { isChainError } from './errors.ts';
import { type BlockRef, type ChainLog, type ChainSource, silentLog, type TxConfirmation } from './source.ts';

/** Safety bound on sync rounds; an unstable tip after this many is picked up by the next sync. */
const MAX_ROUNDS = 8;
/**
 * Block hashes remembered (and saved) for finding a fork point, and the most blocks an Esplora
 * block scan reads in one sync: further behind (a day of blocks, ~200 MB on mainnet), per-item
 * queries cost less. A deeper reorg is found by checking each confirmed tx's block.
 */
export const BLOCK_HISTORY = 144;
const SAVED_VERSION = 1;

export interface ChainSyncOptions {
  source: ChainSource;
  log?: ChainLog;
  /**
   * Esplora: read every new block instead of asking per watched item (always so for bitcoind).
   * For nodes watching many items (an LSP); the first sync after a restart scans only if `saved`
   * held a block still in the best chain.
   */
  blockScan?: boolean;
  /**
   * Block scans: the height whose successors the first sync scans. Pass the lowest best-block
   * height among the confirmables (ChannelManager, every ChannelMonitor, OutputSweeper) — the
   * node's birth height for a fresh node.
   */
  startHeight?: number;
  /** What `saved()` returned before the restart (block history and confirmed spends). */
  saved?: Uint8Array;
}

export interface SyncReport {
  tip: BlockRef;
  /** Txids handed to `transactions_confirmed` (display hex). */
  confirmed: string[];
  /** Txids handed to `transaction_unconfirmed` (display hex). */
  unconfirmed: string[];
  rounds: number;
}

interface WatchedOutputRef {
  txid: string;
  vout: number;
}

/** A transaction spending an outpoint, and its outputs. */
export interface Spend {
  txid: string;
  outputs: { script: Uint8Array; valueSat: bigint }[];
}

/** A confirmed spend of watched outputs as `saved()` keeps it (hex and decimal strings). */
interface SavedSpend {
  txid: string;
  block: string;
  height: number;
  inputs: string[];
  outputs: [script: string, valueSat: string][];
}

interface Found {
  txid: string;
  raw: Uint8Array;
  conf: TxConfirmation;
}

/** Registrations LDK makes through `Filter`: what a sync must look for. */
export class ChainFilter {
  /** Pass to `ChainMonitor.constructor_new(Option_FilterZ.constructor_some(filter.ldk), …)` and the OutputSweeper. */
  readonly ldk: ldk.Filter;
  readonly txs = new Set<string>();
  readonly outputs = new Map<string, WatchedOutputRef>();
  /** Bumped on every new registration; a sync that saw it change runs again. */
  generation = 0;

  constructor(log: ChainLog) {
    this.ldk = ldk.Filter.new_impl({
      // called from inside LDK (watch_channel, transactions_confirmed): record only, never throw
      register_tx: (txid: Uint8Array, _script: Uint8Array): void => {
        try {
          this.watchTx(hashToDisplay(txid));
        } catch (e) {
          log('error', 'Filter.register_tx failed', { error: String(e) });
        }
      },
      register_output: (output: ldk.WatchedOutput): void => {
        try {
          const outpoint = output.get_outpoint();
          this.watchOutput(hashToDisplay(outpoint.get_txid()), outpoint.get_index());
        } catch (e) {
          log('error', 'Filter.register_output failed', { error: String(e) });
        }
      },
    });
  }

  watchTx(txid: string): void {
    if (this.txs.has(txid)) return;
    this.txs.add(txid);
    this.generation++;
  }

  watchOutput(txid: string, vout: number): void {
    const key = `${txid}:${vout}`;
    if (this.outputs.has(key)) return;
    this.outputs.set(key, { txid, vout });
    this.generation++;
  }
}

/**
 * @example
 * const chainSync = new ChainSync({ source, log });
 * const chainMonitor = ldk.ChainMonitor.constructor_new(
 *   ldk.Option_FilterZ.constructor_some(chainSync.filter.ldk), broadcaster.ldk, logger, fees.ldk, persist);
 * // … on start and then every ~30 s (wallet) / on each new block (LSP):
 * await chainSync.sync([channelManager.as_Confirm(), chainMonitor.as_Confirm(), sweeper.as_Confirm()]);
 */
export class ChainSync {
  readonly filter: ChainFilter;
  private readonly source: ChainSource;
  private readonly log: ChainLog;
  /** Whether syncs read blocks (bitcoind, or asked to): then `saved()` is worth storing. */
  readonly blockScan: boolean;
  /** Txs we told LDK about: txid → the block they confirmed in. Re-checked for reorgs. */
  private readonly confirmedTxs = new Map<string, { blockHash: string; height: number }>();
  /** Watched outputs whose spender confirmed (txid of the spender), so we stop asking. */
  private readonly spentOutputs = new Map<string, string>();
  /**
   * Every input of the txs we told LDK about → that tx (its outputs): a closing
   * transaction and the claims spending it, which balances.ts follows to the outputs LDK's
   * balances stand for (LDK 0.1's Balance names no outpoint). Re-learned by a per-item sync after
   * a restart (it asks about every watched output again); kept in `saved()` for block scans, which
   * read only new blocks; unconfirmed by reorgs.
   */
  private readonly confirmedSpends = new Map<string, Spend>();
  /** Where the spends in `saved` confirmed (LDK was told before the restart): checked for reorgs. */
  private readonly savedSpenders = new Map<string, { blockHash: string; height: number }>();
  /** Best chain as we last saw it: height → hash (sync tips for Esplora, every block for bitcoind). */
  private readonly seenBlocks = new Map<number, string>();
  private scannedHeight: number | undefined;
  private lastTip: BlockRef | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: ChainSyncOptions) {
    this.source = opts.source;
    this.log = opts.log ?? silentLog;
    this.filter = new ChainFilter(this.log);
    this.blockScan = opts.blockScan === true || opts.source.kind === 'bitcoind';
    this.scannedHeight = opts.startHeight;
    if (opts.saved && this.blockScan) this.restoreSaved(opts.saved);
  }

  /**
   * Block scans: where the first one starts, once the node knows its confirmables' lowest best
   * block (after reading them back). Ignored once a sync ran.
   */
  setStartHeight(height: number): void {
    if (this.lastTip !== undefined) return;
    if (!Number.isSafeInteger(height) || height < 0) throw new RangeError(`bad start height ${height}`);
    this.scannedHeight = height;
  }

  /** The confirmed transaction spending `outpoint` (`txid:vout`), if LDK was told of it. */
  confirmedSpend(outpoint: string): Spend | undefined {
    return this.confirmedSpends.get(outpoint);
  }

  /** The tip of the last completed sync. */
  get tip(): BlockRef | undefined {
    return this.lastTip;
  }

  /**
   * Bring `confirmables` up to the source's tip. Calls run one at a time (a call made while one
   * runs waits for it). Throws ChainError (e.g. UNREACHABLE) for the caller to log and retry;
   * nothing done before the failure is lost or repeated wrongly (every LDK call is idempotent).
   */
  sync(confirmables: ldk.Confirm[]): Promise<SyncReport> {
    const run = this.queue.then(() => this.syncNow(confirmables));
    this.queue = run.catch(() => {});
    return run;
  }

  private async syncNow(confirmables: ldk.Confirm[]): Promise<SyncReport> {
    const report: SyncReport = { tip: { hash: '', height: 0 }, confirmed: [], unconfirmed: [], rounds: 0 };
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      report.rounds = round;
      const generation = this.filter.generation;
      const tip = await this.source.tip();
      const hashAt = this.blockHashCache();

      const forkHeight = await this.findFork(hashAt);
      report.unconfirmed.push(...(await this.unconfirmReorged(confirmables, hashAt, forkHeight)));

      const byBlocks = this.scansBlocks(tip, forkHeight);
      const confirmedNow = byBlocks
        ? await this.confirmByBlocks(confirmables, tip, hashAt, forkHeight)
        : await this.confirmByTxs(confirmables, tip);
      if (confirmedNow === 'tip-moved') continue;
      // a per-item sync reached the tip: the next block scan starts there
      if (!byBlocks) this.scannedHeight = tip.height;
      report.confirmed.push(...confirmedNow);

      // only a new tip is reported: LDK treats every call as a block (it rebroadcasts channel
      // announcements whenever the reported height is due, so repeating an unchanged tip each
      // periodic sync would send them again and again while the chain sits at such a height)
      if (tip.hash !== this.lastTip?.hash) {
        const header = await this.source.header(tip.hash);
        for (const c of confirmables) c.best_block_updated(header, tip.height);
      }
      this.lastTip = tip;
      this.remember(tip.height, tip.hash);
      report.tip = tip;

      const after = await this.source.tip();
      if (after.hash === tip.hash && this.filter.generation === generation) return report;
    }
    if (this.lastTip) report.tip = this.lastTip;
    this.log('info', 'chain sync stopped before the tip settled; the next sync continues', {
      rounds: MAX_ROUNDS,
    });
    return report;
  }

  /**
   * Whether this round reads blocks: always on bitcoind; on Esplora when asked to, and a remembered
   * block is still in the best chain (a fork point, so nothing below it changed) with at most
   * BLOCK_HISTORY blocks to read from there. Else per-item queries, right at any depth.
   */
  private scansBlocks(tip: BlockRef, forkHeight: number): boolean {
    if (this.source.kind === 'bitcoind') return true;
    if (!this.blockScan || forkHeight < 0) return false;
    const from = Math.min(this.scannedHeight ?? forkHeight, forkHeight);
    return tip.height - from <= BLOCK_HISTORY;
  }

  /** getblockhash memoised for one round (the best chain is read once per height per round). */
  private blockHashCache(): (height: number) => Promise<string | null> {
    const cache = new Map<number, Promise<string | null>>();
    return (height) => {
      let hit = cache.get(height);
      if (!hit) {
        hit = this.source.blockHash(height);
        cache.set(height, hit);
      }
      return hit;
    };
  }

  /**
   * Highest height at which our view of the chain is certainly still the best chain, or -1 when
   * we know nothing (first sync, or a reorg deeper than our history): everything gets checked.
   */
  private async findFork(hashAt: (h: number) => Promise<string | null>): Promise<number> {
    const heights = [...this.seenBlocks.keys()].sort((a, b) => b - a);
    for (const height of heights) {
      if ((await hashAt(height)) === this.seenBlocks.get(height)) {
        for (const h of heights) if (h > height) this.seenBlocks.delete(h);
        if (this.scannedHeight !== undefined && this.scannedHeight > height) this.scannedHeight = height;
        return height;
      }
    }
    if (heights.length > 0)
      this.log('warn', 'reorg deeper than the remembered blocks: every confirmed tx is checked', {
        below: heights[heights.length - 1],
      });
    this.seenBlocks.clear();
    return -1;
  }

  /** Step 1: `transaction_unconfirmed` for every tx whose block is no longer in the best chain. */
  private async unconfirmReorged(
    confirmables: ldk.Confirm[],
    hashAt: (h: number) => Promise<string | null>,
    forkHeight: number,
  ): Promise<string[]> {
    const candidates = new Map<string, { blockHash: string; height: number }>();
    for (const c of confirmables)
      for (const t of c.get_relevant_txids()) {
        const block = t.get_c();
        if (block instanceof ldk.Option_ThirtyTwoBytesZ_Some)
          candidates.set(hashToDisplay(t.get_a()), {
            blockHash: hashToDisplay(block.some),
            height: t.get_b(),
          });
      }
    for (const known of [this.confirmedTxs, this.savedSpenders])
      for (const [txid, at] of known) if (!candidates.has(txid)) candidates.set(txid, at);

    const reorged: string[] = [];
    for (const [txid, at] of candidates) {
      if (at.height <= forkHeight) continue; // below the fork point: its block is still ours
      if ((await hashAt(at.height)) === at.blockHash) continue;
      reorged.push(txid);
    }
    // newest first, so that children leave before their parents
    reorged.sort((a, b) => (candidates.get(b)?.height ?? 0) - (candidates.get(a)?.height ?? 0));
    for (const txid of reorged) {
      const internal = hashFromDisplay(txid);
      for (const c of confirmables) c.transaction_unconfirmed(internal);
      this.confirmedTxs.delete(txid);
      this.savedSpenders.delete(txid);
      for (const [outpoint, spender] of this.spentOutputs)
        if (spender === txid) this.spentOutputs.delete(outpoint);
      for (const [outpoint, spend] of this.confirmedSpends)
        if (spend.txid === txid) this.confirmedSpends.delete(outpoint);
      this.log('info', 'transaction unconfirmed by a reorg', { txid });
    }
    return reorged;
  }

  /**
   * Step 2, Esplora: ask about each watched tx and output not yet known confirmed, a batch at a
   * time (a restart asks about every channel again: round trips per batch, not per question).
   */
  private async confirmByTxs(confirmables: ldk.Confirm[], tip: BlockRef): Promise<string[] | 'tip-moved'> {
    const found = new Map<string, Found>();
    // each tx is asked about once, however many watched outputs it spends
    const asked = new Map<string, Promise<void>>();
    const ask = (txid: string): Promise<void> => {
      let answer = asked.get(txid);
      if (!answer) {
        answer = (async () => {
          const conf = await this.source.txConfirmation(txid);
          if (conf && conf.height <= tip.height) await this.collect(found, txid, conf);
        })();
        asked.set(txid, answer);
      }
      return answer;
    };
    const txs = [...this.filter.txs].filter((txid) => !this.confirmedTxs.has(txid));
    await inBatches(txs, LOOKUPS_AT_ONCE, ask);
    const outputs = [...this.filter.outputs].filter(([key]) => !this.spentOutputs.has(key));
    await inBatches(outputs, LOOKUPS_AT_ONCE, async ([key, out]) => {
      let spend: Awaited<ReturnType<ChainSource['outspend']>>;
      try {
        spend = await this.source.outspend(out.txid, out.vout);
      } catch (e) {
        if (isChainError(e, 'NOT_FOUND')) return; // its tx is not known yet: nothing spends it
        throw e;
      }
      if (!spend.spent || !spend.status.confirmed) return;
      if (this.confirmedTxs.has(spend.txid)) {
        this.spentOutputs.set(key, spend.txid);
        return;
      }
      await ask(spend.txid);
    });
    // everything above was read while the chain may have moved: apply only a consistent picture
    if ((await this.source.tip()).hash !== tip.hash) return 'tip-moved';
    const byBlock = new Map<string, Found[]>();
    for (const f of found.values()) {
      const list = byBlock.get(f.conf.blockHash) ?? [];
      list.push(f);
      byBlock.set(f.conf.blockHash, list);
    }
    const blocks = [...byBlock.values()].sort((a, b) => a[0]!.conf.height - b[0]!.conf.height);
    const confirmed: string[] = [];
    for (const txs of blocks) {
      const { blockHash, height } = txs[0]!.conf;
      const header = await this.source.header(blockHash);
      txs.sort((a, b) => a.conf.position - b.conf.position);
      this.applyBlock(confirmables, header, height, blockHash, txs);
      confirmed.push(...txs.map((t) => t.txid));
    }
    return confirmed;
  }

  private async collect(found: Map<string, Found>, txid: string, conf: TxConfirmation): Promise<void> {
    const raw = await this.source.rawTx(txid);
    if (raw) found.set(txid, { txid, raw, conf });
  }

  /** Step 2, bitcoind: scan each block after the last scanned one for watched txs and spends. */
  private async confirmByBlocks(
    confirmables: ldk.Confirm[],
    tip: BlockRef,
    hashAt: (h: number) => Promise<string | null>,
    forkHeight: number,
  ): Promise<string[] | 'tip-moved'> {
    // no history and no start height: nothing can have confirmed for a node born at the tip
    if (this.scannedHeight === undefined) this.scannedHeight = tip.height;
    if (forkHeight >= 0 && this.scannedHeight > forkHeight) this.scannedHeight = forkHeight;
    const confirmed: string[] = [];
    for (let height = this.scannedHeight + 1; height <= tip.height; height++) {
      const hash = await hashAt(height);
      if (hash === null) return 'tip-moved';
      const block = parseBlock(await this.source.block(hash));
      // LDK may register outputs while we confirm (a commitment tx's outputs, spent in the same
      // block by an HTLC tx): rescan the block until nothing new matches
      const given = new Set<number>();
      for (;;) {
        const matches: Found[] = [];
        block.txs.forEach((raw, position) => {
          if (given.has(position)) return;
          const txid = txidOf(raw);
          if (this.isWatched(txid, raw))
            matches.push({ txid, raw, conf: { blockHash: hash, height, position } });
        });
        if (matches.length === 0) break;
        for (const m of matches) given.add(m.conf.position);
        this.applyBlock(confirmables, block.header, height, hash, matches);
        confirmed.push(...matches.map((m) => m.txid));
      }
      this.scannedHeight = height;
      this.remember(height, hash);
    }
    return confirmed;
  }

  private isWatched(txid: string, raw: Uint8Array): boolean {
    if (this.filter.txs.has(txid)) return true;
    if (this.filter.outputs.size === 0) return false;
    return parseTxIo(raw).inputs.some((i) => this.filter.outputs.has(`${i.txid}:${i.vout}`));
  }

  /** One `transactions_confirmed` per confirmable for txs of one block, in block order. */
  private applyBlock(
    confirmables: ldk.Confirm[],
    header: Uint8Array,
    height: number,
    blockHash: string,
    txs: Found[],
  ): void {
    for (const c of confirmables) {
      const txdata = txs.map((t) => ldk.TwoTuple_usizeTransactionZ.constructor_new(t.conf.position, t.raw));
      c.transactions_confirmed(header, txdata, height);
    }
    for (const t of txs) {
      this.confirmedTxs.set(t.txid, { blockHash, height });
      const io = parseTxIo(t.raw);
      const spend = { txid: t.txid, outputs: io.outputs };
      for (const input of io.inputs) {
        const key = `${input.txid}:${input.vout}`;
        if (this.filter.outputs.has(key)) this.spentOutputs.set(key, t.txid);
        this.confirmedSpends.set(key, spend);
      }
    }
  }

  /**
   * What a block scan needs after a restart, for the store: the remembered blocks (a fork point)
   * and the confirmed spends of watched outputs (closes and claims, which balances follow and a
   * block scan would not read again). Small: closed channels not yet archived, not every channel.
   */
  saved(): Uint8Array {
    const spends = new Map<string, SavedSpend>();
    for (const [outpoint, spend] of this.confirmedSpends) {
      if (!this.filter.outputs.has(outpoint)) continue;
      const at = this.confirmedTxs.get(spend.txid) ?? this.savedSpenders.get(spend.txid);
      if (!at) continue;
      const entry = spends.get(spend.txid) ?? {
        txid: spend.txid,
        block: at.blockHash,
        height: at.height,
        inputs: [],
        outputs: spend.outputs.map((o) => [hex.encode(o.script), o.valueSat.toString()] as [string, string]),
      };
      entry.inputs.push(outpoint);
      spends.set(spend.txid, entry);
    }
    const blocks = [...this.seenBlocks].sort((a, b) => a[0] - b[0]);
    return new TextEncoder().encode(
      JSON.stringify({ v: SAVED_VERSION, blocks, spends: [...spends.values()] }),
    );
  }

  private restoreSaved(bytes: Uint8Array): void {
    try {
      const s = JSON.parse(new TextDecoder().decode(bytes));
      if (s.v !== SAVED_VERSION) throw new Error(`unknown version ${String(s.v)}`);
      for (const [height, hash] of s.blocks as [number, string][])
        this.seenBlocks.set(assertHeight(height, 'height'), assertHashHex(hash, 'block hash'));
      for (const spend of s.spends as SavedSpend[]) {
        const outputs = spend.outputs.map(([script, value]) => ({
          script: hex.decode(script),
          valueSat: BigInt(value),
        }));
        for (const outpoint of spend.inputs)
          this.confirmedSpends.set(outpoint, { txid: spend.txid, outputs });
        this.savedSpenders.set(assertHashHex(spend.txid, 'txid'), {
          blockHash: assertHashHex(spend.block, 'block hash'),
          height: assertHeight(spend.height, 'height'),
        });
      }
    } catch (e) {
      // only a cost: the first sync then asks per item, as after a reorg deeper than the history
      this.seenBlocks.clear();
      this.confirmedSpends.clear();
      this.savedSpenders.clear();
      this.log('warn', 'saved chain sync state unreadable; the first sync asks per item', {
        error: String(e),
      });
    }
  }

  private remember(height: number, hash: string): void {
    this.seenBlocks.set(height, hash);
    if (this.seenBlocks.size > BLOCK_HISTORY) {
      const lowest = Math.min(...this.seenBlocks.keys());
      this.seenBlocks.delete(lowest);
    }
  }
}
