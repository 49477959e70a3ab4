// The regtest chain: active blocks, UTXO set and indexes, the mempool, mining on demand and
// reorgs by invalidateBlock. Deterministic: block times derive from height, never the wall clock.
import { hex } from '@scure/base';
import {
  assembleBlock,
  type Block,
  blockSubsidy,
  blockWork,
  buildCoinbase,
  COINBASE_MATURITY,
  MAX_BLOCK_WEIGHT,
} from './block.ts';
import { DevnetError, RejectError, RPC_CODE } from './errors.ts';
import { type FeeShape, FeeWeather } from './fee-weather.ts';
import {
  admit,
  type ChainView,
  type Coin,
  isConfirmedUnspent,
  Mempool,
  type MempoolEntry,
  outpointKey,
  type Policy,
} from './mempool.ts';
import {
  addressScript,
  decodeTx,
  isCoinbase,
  isHexString,
  scriptHash,
  type Tx,
  type TxOutput,
} from './tx.ts';

export interface ChainOptions {
  /** Script every coinbase pays to unless mine() is given an address (the faucet's). */
  coinbaseScript: Uint8Array;
  /** Time of the genesis block; each block is `blockSpacing` seconds later. */
  startTime?: number;
  blockSpacing?: number;
  /** Relay floor in sat/vB (also the BIP 125 increment). */
  minRelayFeeRate?: number;
  /** The fair-weather fee level estimates answer, in sat/vB (`chain.weather` scripts it over time). */
  feeRate?: number;
  /** How estimates fall with the confirmation target (default: flat, every target alike). */
  feeShape?: FeeShape;
  fullRbf?: boolean;
}

export interface TxLocation {
  blockHash: string;
  height: number;
  time: number;
  index: number;
}

export interface Spend {
  txid: string;
  vin: number;
  /** undefined while the spender is unconfirmed. */
  location?: TxLocation;
}

export interface ChainTx {
  tx: Tx;
  /** Outputs spent by each input (empty for a coinbase). */
  spent: TxOutput[];
  fee: bigint;
  location?: TxLocation;
}

export type BlockEvent = { type: 'connected'; block: Block } | { type: 'disconnected'; block: Block };
export type BlockListener = (event: BlockEvent) => void;

export interface MempoolAcceptResult {
  txid: string;
  wtxid: string;
  allowed: boolean;
  vsize?: number;
  fee?: bigint;
  rejectReason?: string;
}

export class Chain implements ChainView {
  private readonly blocksByHash = new Map<string, Block>();
  private readonly active: Block[] = [];
  private readonly invalid = new Set<string>();
  private readonly utxos = new Map<string, Coin>();
  private readonly txIndex = new Map<string, TxLocation>();
  private readonly spentOutputs = new Map<string, TxOutput[]>();
  private readonly confirmedSpends = new Map<string, Spend>();
  private readonly scriptTxs = new Map<string, Set<string>>();
  private readonly listeners = new Set<BlockListener>();
  readonly mempool = new Mempool();
  private readonly policy: Policy;
  private readonly coinbaseScript: Uint8Array;
  private readonly startTime: number;
  private readonly blockSpacing: number;
  /** Counts every block ever built so a rebuilt height after a reorg gets a different coinbase. */
  private blocksBuilt = 0;
  /** The fee market the chain's own estimators (Esplora, estimatesmartfee) answer from. */
  readonly weather: FeeWeather;

  constructor(options: ChainOptions) {
    this.coinbaseScript = options.coinbaseScript;
    this.startTime = options.startTime ?? 1_700_000_000;
    this.blockSpacing = options.blockSpacing ?? 600;
    const minRelayFeeRate = options.minRelayFeeRate ?? 1;
    this.policy = { minRelayFeeRate, mempoolMinFeeRate: minRelayFeeRate, fullRbf: options.fullRbf ?? false };
    this.weather = new FeeWeather({
      baseSatPerVb: options.feeRate ?? 2,
      ...(options.feeShape ? { shape: options.feeShape } : {}),
      tipHeight: () => this.tipHeight,
    });
    this.mineBlock(this.coinbaseScript); // genesis
  }

  // --- reading ---------------------------------------------------------------------------

  get tipHeight(): number {
    return this.active.length - 1;
  }

  tip(): Block {
    return this.active[this.active.length - 1]!;
  }

  /** Block by hash (any branch, including invalidated) or by height on the active chain. */
  getBlock(hashOrHeight: string | number): Block | undefined {
    return typeof hashOrHeight === 'number' ? this.active[hashOrHeight] : this.blocksByHash.get(hashOrHeight);
  }

  isActive(hash: string): boolean {
    const block = this.blocksByHash.get(hash);
    return !!block && this.active[block.height]?.hash === hash;
  }

  /** bitcoind's confirmations: depth on the active chain, -1 off it. */
  confirmations(hash: string): number {
    const block = this.blocksByHash.get(hash);
    return block && this.isActive(hash) ? this.tipHeight - block.height + 1 : -1;
  }

  chainWork(height: number): bigint {
    let work = 0n;
    for (let h = 0; h <= height; h++) work += blockWork(this.active[h]!.bits);
    return work;
  }

  medianTimePast(height: number): number {
    const times = this.active.slice(Math.max(0, height - 10), height + 1).map((b) => b.time);
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)] ?? this.startTime;
  }

  /** A confirmed or mempool transaction, with its spent outputs and where it is. */
  getTransaction(txid: string): ChainTx | undefined {
    const entry = this.mempool.get(txid);
    if (entry) return { tx: entry.tx, spent: entry.spent, fee: entry.fee };
    const location = this.txIndex.get(txid);
    if (!location) return undefined;
    const tx = this.active[location.height]!.txs[location.index]!;
    const spent = this.spentOutputs.get(txid) ?? [];
    const fee = isCoinbase(tx)
      ? 0n
      : spent.reduce((n, o) => n + o.value, 0n) - tx.outputs.reduce((n, o) => n + o.value, 0n);
    return { tx, spent, fee, location };
  }

  confirmedCoin(txid: string, vout: number): Coin | undefined {
    return this.utxos.get(outpointKey(txid, vout));
  }

  /** An unspent output: confirmed, or (with includeMempool) created in the mempool; minus mempool spends. */
  utxo(outpoint: { txid: string; vout: number }, includeMempool = true): Coin | undefined {
    const key = outpointKey(outpoint.txid, outpoint.vout);
    if (includeMempool && this.mempool.spends.has(key)) return undefined;
    const coin = this.utxos.get(key);
    if (coin || !includeMempool) return coin;
    const output = this.mempool.output(outpoint.txid, outpoint.vout);
    return output
      ? {
          ...output,
          txid: outpoint.txid,
          vout: outpoint.vout,
          height: this.tipHeight + 1,
          coinbase: false,
          confirmed: false,
        }
      : undefined;
  }

  /** Who spends an output, confirmed first, then mempool. */
  outspend(txid: string, vout: number): Spend | undefined {
    const key = outpointKey(txid, vout);
    const confirmed = this.confirmedSpends.get(key);
    if (confirmed) return confirmed;
    const spender = this.mempool.spends.get(key);
    if (!spender) return undefined;
    const vin = this.mempool.get(spender)!.tx.inputs.findIndex((i) => i.txid === txid && i.vout === vout);
    return { txid: spender, vin };
  }

  /** Transactions touching a script (paying to it or spending from it): mempool first, then newest confirmed first. */
  scriptHistory(script: Uint8Array): ChainTx[] {
    const hash = scriptHash(script);
    const unconfirmed = this.mempool
      .ordered()
      .filter(
        (e) =>
          e.tx.outputs.some((o) => scriptHash(o.script) === hash) ||
          e.spent.some((o) => scriptHash(o.script) === hash),
      )
      .reverse()
      .map((e) => this.getTransaction(e.tx.txid)!);
    const confirmed = [...(this.scriptTxs.get(hash) ?? [])]
      .map((txid) => this.getTransaction(txid)!)
      .sort((a, b) => b.location!.height - a.location!.height || b.location!.index - a.location!.index);
    return [...unconfirmed, ...confirmed];
  }

  scriptHistoryByHash(hash: string): ChainTx[] {
    // Look the script up from any output that paid to it.
    for (const txid of this.scriptTxs.get(hash) ?? []) {
      const output = this.getTransaction(txid)!.tx.outputs.find((o) => scriptHash(o.script) === hash);
      if (output) return this.scriptHistory(output.script);
    }
    for (const entry of this.mempool.entries.values()) {
      const output = entry.tx.outputs.find((o) => scriptHash(o.script) === hash);
      if (output) return this.scriptHistory(output.script);
    }
    return [];
  }

  /** Unspent outputs paying to `script`, including mempool outputs and excluding mempool-spent ones. */
  unspentFor(script: Uint8Array, includeMempool = true): Coin[] {
    const hash = scriptHash(script);
    const coins: Coin[] = [];
    for (const coin of this.utxos.values()) {
      if (scriptHash(coin.script) !== hash) continue;
      if (includeMempool && this.mempool.spends.has(outpointKey(coin.txid, coin.vout))) continue;
      coins.push(coin);
    }
    if (!includeMempool) return coins;
    for (const entry of this.mempool.ordered()) {
      entry.tx.outputs.forEach((output, vout) => {
        if (scriptHash(output.script) !== hash) return;
        const coin = this.utxo({ txid: entry.tx.txid, vout });
        if (coin) coins.push(coin);
      });
    }
    return coins;
  }

  /** Whether a coinbase coin can be spent in the next block. */
  isMature(coin: Coin): boolean {
    return !coin.coinbase || this.tipHeight + 1 - coin.height >= COINBASE_MATURITY;
  }

  /**
   * Fee estimate in sat/vB from `weather` (the chain's own by default), never below what the
   * mempool takes: Core's estimatesmartfee clamps to mempoolminfee and minrelaytxfee, and
   * Esplora serves estimatesmartfee's answers.
   */
  estimateFeeRate(targetBlocks: number, weather: FeeWeather = this.weather): number {
    return Math.max(weather.estimate(targetBlocks), this.mempoolMinFeeRate);
  }

  /** The weather's fair-weather level; setting it sets the level now (as before weather existed). */
  get feeRate(): number {
    return this.weather.level();
  }

  set feeRate(satPerVb: number) {
    this.weather.set(satPerVb);
  }

  get minRelayFeeRate(): number {
    return this.policy.minRelayFeeRate;
  }

  get fullRbf(): boolean {
    return this.policy.fullRbf;
  }

  /** getmempoolinfo's mempoolminfee in sat/vB: never below minrelaytxfee. */
  get mempoolMinFeeRate(): number {
    return Math.max(this.policy.mempoolMinFeeRate, this.policy.minRelayFeeRate);
  }

  /**
   * A mempool under load (as Core's rolling minimum): new transactions below `satPerVb` are refused
   * with `mempool min fee not met`, and those already in wait unmined until it falls again or a
   * child pays for them (package feerate). Set it back to minRelayFeeRate for a quiet mempool.
   */
  set mempoolMinFeeRate(satPerVb: number) {
    if (typeof satPerVb !== 'number' || !Number.isFinite(satPerVb) || satPerVb < 0)
      throw new DevnetError(
        'INVALID_ARGUMENT',
        `"mempoolMinFeeRate" expected a non-negative number, got ${satPerVb}`,
      );
    this.policy.mempoolMinFeeRate = satPerVb;
  }

  // --- writing ---------------------------------------------------------------------------

  /** Validate and add to the mempool; returns the txid or throws RejectError / DevnetError('TX_DECODE'). */
  submitTransaction(raw: Uint8Array | string): string {
    const tx = decodeTx(toBytes(raw));
    // bitcoind's sendrawtransaction looks for the tx in the UTXO set before the mempool checks
    // (BroadcastTransaction), and says so in its own words; testmempoolaccept says txn-already-known
    if (isConfirmedUnspent(tx, this))
      throw new RejectError('Transaction outputs already in utxo set', RPC_CODE.VERIFY_ALREADY_IN_CHAIN);
    const admission = admit(tx, this, this.mempool, this.policy);
    for (const id of admission.evicts) this.mempool.remove(id);
    this.mempool.add({ tx, fee: admission.fee, spent: admission.spent, height: this.tipHeight });
    return tx.txid;
  }

  /** testmempoolaccept: the full check without adding. */
  testMempoolAccept(raw: Uint8Array | string): MempoolAcceptResult {
    const tx = decodeTx(toBytes(raw));
    try {
      const { fee } = admit(tx, this, this.mempool, this.policy);
      return { txid: tx.txid, wtxid: tx.wtxid, allowed: true, vsize: tx.vsize, fee };
    } catch (e) {
      if (!(e instanceof RejectError)) throw e;
      // bitcoind reports missing inputs as `missing-inputs` here, though sendrawtransaction says more.
      const reason = e.reason === 'bad-txns-inputs-missingorspent' ? 'missing-inputs' : e.reason;
      return { txid: tx.txid, wtxid: tx.wtxid, allowed: false, rejectReason: reason };
    }
  }

  /** Mine `n` blocks with the mempool's transactions; coinbases pay `payTo` (address or script). */
  mine(n = 1, payTo?: string | Uint8Array): Block[] {
    if (!Number.isInteger(n) || n < 0)
      throw new DevnetError('INVALID_ARGUMENT', `"n" expected a non-negative integer, got ${n}`);
    const script =
      payTo === undefined ? this.coinbaseScript : typeof payTo === 'string' ? addressScript(payTo) : payTo;
    const blocks: Block[] = [];
    for (let i = 0; i < n; i++) blocks.push(this.mineBlock(script));
    return blocks;
  }

  /**
   * Mark a block and its descendants invalid and disconnect them; their transactions go back to
   * the mempool when still valid (as bitcoind's invalidateblock). Mining then extends the new tip.
   */
  invalidateBlock(hash: string): void {
    const block = this.blocksByHash.get(hash);
    if (!block) throw new DevnetError('BLOCK_NOT_FOUND', 'Block not found');
    if (block.height === 0) throw new DevnetError('INVALID_ARGUMENT', 'Cannot invalidate the genesis block');
    this.invalid.add(hash);
    if (!this.isActive(hash)) return;
    const disconnected = this.active.splice(block.height);
    for (const b of disconnected) this.invalid.add(b.hash);
    this.rebuildIndexes();
    for (const b of [...disconnected].reverse()) this.emit({ type: 'disconnected', block: b });
    const resubmit = [
      ...disconnected.flatMap((b) => b.txs.filter((t) => !isCoinbase(t))),
      ...this.mempool.ordered().map((e) => e.tx),
    ];
    this.mempool.clear();
    for (const tx of resubmit) {
      try {
        this.submitTransaction(tx.raw);
      } catch (e) {
        // As bitcoind, transactions the new chain no longer allows are dropped from the mempool.
        if (!(e instanceof RejectError)) throw e;
      }
    }
  }

  onBlock(listener: BlockListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- internals -------------------------------------------------------------------------

  private mineBlock(payTo: Uint8Array): Block {
    const height = this.active.length;
    const prevHash = height === 0 ? '0'.repeat(64) : this.tip().hash;
    const selected = this.selectTransactions();
    const fees = selected.reduce((n, e) => n + e.fee, 0n);
    const coinbase = buildCoinbase(
      height,
      this.blocksBuilt++,
      payTo,
      blockSubsidy(height) + fees,
      selected.map((e) => e.tx.wtxid),
    );
    const time = this.startTime + height * this.blockSpacing;
    const block = assembleBlock(
      height,
      prevHash,
      time,
      coinbase,
      selected.map((e) => e.tx),
    );
    this.blocksByHash.set(block.hash, block);
    this.active.push(block);
    for (const e of selected) this.mempool.remove(e.tx.txid);
    this.connectBlock(block);
    this.emit({ type: 'connected', block });
    return block;
  }

  /**
   * Mempool transactions in parent-before-child order, within the block weight limit. Under load
   * (mempoolminfee above the relay floor) only packages paying the mempool minimum get in: a
   * transaction whose own-plus-unconfirmed-ancestors feerate reaches it, with those ancestors.
   */
  private selectTransactions(): MempoolEntry[] {
    const selected: MempoolEntry[] = [];
    const included = new Set<string>();
    const eligible = this.minableTxids();
    let weight = 4000; // room for the header and the coinbase
    for (const entry of this.mempool.ordered()) {
      if (eligible && !eligible.has(entry.tx.txid)) continue;
      const parentsIn = entry.tx.inputs.every((i) => !this.mempool.get(i.txid) || included.has(i.txid));
      if (!parentsIn || weight + entry.tx.weight > MAX_BLOCK_WEIGHT) continue;
      selected.push(entry);
      included.add(entry.tx.txid);
      weight += entry.tx.weight;
    }
    return selected;
  }

  /** Txids a block under load may include; undefined when the mempool is quiet (all of them). */
  private minableTxids(): Set<string> | undefined {
    const floor = this.policy.mempoolMinFeeRate;
    if (floor <= this.policy.minRelayFeeRate) return undefined;
    const minable = new Set<string>();
    for (const entry of this.mempool.entries.values()) {
      const ancestors = [...this.mempool.ancestors(entry.tx.txid)].map((id) => this.mempool.get(id)!);
      const fee = ancestors.reduce((n, a) => n + a.fee, entry.fee);
      const vsize = ancestors.reduce((n, a) => n + a.tx.vsize, entry.tx.vsize);
      if (Number(fee) / vsize < floor) continue;
      minable.add(entry.tx.txid);
      for (const a of ancestors) minable.add(a.tx.txid);
    }
    return minable;
  }

  private connectBlock(block: Block): void {
    block.txs.forEach((tx, index) => {
      const location = { blockHash: block.hash, height: block.height, time: block.time, index };
      const coinbase = index === 0;
      const spent: TxOutput[] = [];
      if (!coinbase) {
        tx.inputs.forEach((input, vin) => {
          const key = outpointKey(input.txid, input.vout);
          const coin = this.utxos.get(key);
          // Blocks only ever contain mempool-validated transactions, so the coin exists.
          if (!coin) throw new Error(`connectBlock: missing coin ${key} in ${block.hash}`);
          spent.push({ value: coin.value, script: coin.script });
          this.utxos.delete(key);
          this.confirmedSpends.set(key, { txid: tx.txid, vin, location });
          this.indexScript(coin.script, tx.txid);
        });
      }
      tx.outputs.forEach((output, vout) => {
        this.indexScript(output.script, tx.txid);
        if (output.script[0] === 0x6a) return; // OP_RETURN never enters the UTXO set
        this.utxos.set(outpointKey(tx.txid, vout), {
          ...output,
          txid: tx.txid,
          vout,
          height: block.height,
          coinbase,
          confirmed: true,
        });
      });
      this.spentOutputs.set(tx.txid, spent);
      this.txIndex.set(tx.txid, location);
    });
  }

  private indexScript(script: Uint8Array, txid: string): void {
    const hash = scriptHash(script);
    const txids = this.scriptTxs.get(hash) ?? new Set<string>();
    txids.add(txid);
    this.scriptTxs.set(hash, txids);
  }

  /** Replaying the active chain is simpler than undo data and fast at devnet sizes. */
  private rebuildIndexes(): void {
    this.utxos.clear();
    this.txIndex.clear();
    this.spentOutputs.clear();
    this.confirmedSpends.clear();
    this.scriptTxs.clear();
    for (const block of this.active) this.connectBlock(block);
  }

  private emit(event: BlockEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (e) {
        console.error(`devnet: block listener failed on ${event.type} ${event.block.hash}`, e);
      }
    }
  }
}

function toBytes(raw: Uint8Array | string): Uint8Array {
  if (typeof raw !== 'string') return raw;
  if (!isHexString(raw))
    throw new DevnetError('TX_DECODE', 'TX decode failed. Make sure the tx has at least one input.');
  return hex.decode(raw.toLowerCase());
}
