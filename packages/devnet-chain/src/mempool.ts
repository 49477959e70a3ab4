// The mempool and its admission policy, in bitcoind's order (MemPoolAccept::PreChecks, then the
// BIP 125 replacement rules, then scripts), rejecting with bitcoind's reason strings and RPC codes.
import { COINBASE_MATURITY } from './block.ts';
import { RejectError, RPC_CODE } from './errors.ts';
import { isCoinbase, NULL_TXID, parseScript, scriptKind, type Tx, type TxOutput } from './tx.ts';
import { verifyInputScripts } from './verify.ts';

export interface Coin extends TxOutput {
  txid: string;
  vout: number;
  /** Height of the block that created it; for a mempool output, the next block's height. */
  height: number;
  coinbase: boolean;
  confirmed: boolean;
}

export interface MempoolEntry {
  tx: Tx;
  fee: bigint;
  /** The outputs this transaction spends, in input order. */
  spent: TxOutput[];
  /** Tip height when it entered (bitcoind's `height`). */
  height: number;
  /** Entry sequence, the devnet's deterministic stand-in for arrival time. */
  sequence: number;
}

/** What admission needs to know about the chain below the mempool. */
export interface ChainView {
  tipHeight: number;
  /** BIP 113 median of the last 11 block times ending at `height`. */
  medianTimePast(height: number): number;
  confirmedCoin(txid: string, vout: number): Coin | undefined;
}

export interface Policy {
  /** sat/vB under which nothing is relayed (bitcoind -minrelaytxfee, also the RBF increment). */
  minRelayFeeRate: number;
  /**
   * sat/vB under which a full mempool refuses transactions (getmempoolinfo's mempoolminfee; Core
   * raises it under load). At or below minRelayFeeRate it never refuses anything on its own.
   */
  mempoolMinFeeRate: number;
  /** Replace without BIP 125 signalling, as bitcoind ≥ 28 does by default. */
  fullRbf: boolean;
}

export const outpointKey = (txid: string, vout: number): string => `${txid}:${vout}`;
const MAX_STANDARD_TX_WEIGHT = 400_000;
const MAX_MONEY = 21_000_000n * 100_000_000n;
const MAX_REPLACEMENTS = 100;
const SEQUENCE_FINAL = 0xffffffff;
const LOCKTIME_THRESHOLD = 500_000_000;
const SEQUENCE_DISABLE_FLAG = 1 << 31;
const SEQUENCE_TYPE_FLAG = 1 << 22;
const SEQUENCE_MASK = 0xffff;

export class Mempool {
  readonly entries = new Map<string, MempoolEntry>();
  /** outpoint → txid of the mempool transaction spending it. */
  readonly spends = new Map<string, string>();
  private nextSequence = 0;

  get(txid: string): MempoolEntry | undefined {
    return this.entries.get(txid);
  }

  add(entry: Omit<MempoolEntry, 'sequence'>): void {
    this.entries.set(entry.tx.txid, { ...entry, sequence: this.nextSequence++ });
    for (const input of entry.tx.inputs) this.spends.set(outpointKey(input.txid, input.vout), entry.tx.txid);
  }

  remove(txid: string): void {
    const entry = this.entries.get(txid);
    if (!entry) return;
    this.entries.delete(txid);
    for (const input of entry.tx.inputs) this.spends.delete(outpointKey(input.txid, input.vout));
  }

  clear(): void {
    this.entries.clear();
    this.spends.clear();
  }

  /** An unspent-or-not output created by a mempool transaction. */
  output(txid: string, vout: number): TxOutput | undefined {
    return this.entries.get(txid)?.tx.outputs[vout];
  }

  /** Transactions that spend `txid` directly or indirectly (not including it). */
  descendants(txid: string): Set<string> {
    const found = new Set<string>();
    const queue = [txid];
    while (queue.length) {
      const entry = this.entries.get(queue.pop()!);
      if (!entry) continue;
      entry.tx.outputs.forEach((_, vout) => {
        const child = this.spends.get(outpointKey(entry.tx.txid, vout));
        if (child && !found.has(child)) {
          found.add(child);
          queue.push(child);
        }
      });
    }
    return found;
  }

  /** Unconfirmed transactions `txid` depends on (not including it). */
  ancestors(txid: string): Set<string> {
    const found = new Set<string>();
    const queue = [txid];
    while (queue.length) {
      const entry = this.entries.get(queue.pop()!);
      if (!entry) continue;
      for (const input of entry.tx.inputs) {
        if (this.entries.has(input.txid) && !found.has(input.txid)) {
          found.add(input.txid);
          queue.push(input.txid);
        }
      }
    }
    return found;
  }

  /** Transactions in an order where parents precede children (entry order guarantees it). */
  ordered(): MempoolEntry[] {
    return [...this.entries.values()].sort((a, b) => a.sequence - b.sequence);
  }
}

export interface Admission {
  tx: Tx;
  fee: bigint;
  spent: TxOutput[];
  /** Mempool transactions that leave if this one enters (conflicts and their descendants). */
  evicts: Set<string>;
}

/** Decide whether `tx` may enter the mempool; throws RejectError with bitcoind's reason. */
export function admit(tx: Tx, view: ChainView, pool: Mempool, policy: Policy): Admission {
  checkTransaction(tx);
  if (isCoinbase(tx)) throw new RejectError('coinbase');
  checkStandard(tx);

  const nextHeight = view.tipHeight + 1;
  const mtp = view.medianTimePast(view.tipHeight);
  if (!isFinalTx(tx, nextHeight, mtp)) throw new RejectError('non-final');

  const existing = pool.get(tx.txid);
  if (existing) {
    throw new RejectError(
      existing.tx.wtxid === tx.wtxid ? 'txn-already-in-mempool' : 'txn-same-nonwitness-data-in-mempool',
      RPC_CODE.VERIFY_ALREADY_IN_CHAIN,
    );
  }

  // Conflicts, BIP 125 rule 1: every directly conflicting transaction must be replaceable.
  const conflicts = new Set<string>();
  for (const input of tx.inputs) {
    const spender = pool.spends.get(outpointKey(input.txid, input.vout));
    if (!spender) continue;
    if (!policy.fullRbf && !signalsReplaceability(spender, pool))
      throw new RejectError('txn-mempool-conflict');
    conflicts.add(spender);
  }

  // Inputs: confirmed unspent coins or outputs of mempool transactions.
  const spent: Coin[] = [];
  for (const input of tx.inputs) {
    const coin = view.confirmedCoin(input.txid, input.vout);
    if (coin) {
      spent.push(coin);
      continue;
    }
    const output = pool.output(input.txid, input.vout);
    if (!output) {
      // Core (MemPoolAccept::PreChecks): inputs missing because the tx itself is already in the chain
      // (an output of it is unspent), else an orphan or a double spend of a confirmed coin
      if (isConfirmedUnspent(tx, view)) throw new RejectError('txn-already-known');
      throw new RejectError('bad-txns-inputs-missingorspent', RPC_CODE.VERIFY_ERROR);
    }
    if (conflicts.has(input.txid)) {
      throw new RejectError(
        'bad-txns-spends-conflicting-tx',
        RPC_CODE.VERIFY_REJECTED,
        `${tx.txid} spends conflicting transaction ${input.txid}`,
      );
    }
    spent.push({
      ...output,
      txid: input.txid,
      vout: input.vout,
      height: nextHeight,
      coinbase: false,
      confirmed: false,
    });
  }

  if (!sequenceLocksSatisfied(tx, spent, view)) throw new RejectError('non-BIP68-final');

  let valueIn = 0n;
  for (const coin of spent) {
    if (coin.coinbase && nextHeight - coin.height < COINBASE_MATURITY) {
      throw new RejectError(
        'bad-txns-premature-spend-of-coinbase',
        RPC_CODE.VERIFY_REJECTED,
        `tried to spend coinbase at depth ${nextHeight - coin.height}`,
      );
    }
    valueIn += coin.value;
  }
  const valueOut = tx.outputs.reduce((n, o) => n + o.value, 0n);
  if (valueIn < valueOut) {
    throw new RejectError(
      'bad-txns-in-belowout',
      RPC_CODE.VERIFY_REJECTED,
      `value in (${formatMoney(valueIn)}) < value out (${formatMoney(valueOut)})`,
    );
  }
  const fee = valueIn - valueOut;
  // Core checks the (rolling) mempool minimum first, and only while the mempool is full.
  if (policy.mempoolMinFeeRate > policy.minRelayFeeRate) {
    const poolFee = feeAt(policy.mempoolMinFeeRate, tx.vsize);
    if (fee < poolFee)
      throw new RejectError('mempool min fee not met', RPC_CODE.VERIFY_REJECTED, `${fee} < ${poolFee}`);
  }
  const minFee = feeAt(policy.minRelayFeeRate, tx.vsize);
  if (fee < minFee)
    throw new RejectError('min relay fee not met', RPC_CODE.VERIFY_REJECTED, `${fee} < ${minFee}`);

  const evicts = conflicts.size
    ? checkReplacement(tx, fee, spent, conflicts, pool, policy)
    : new Set<string>();

  verifyInputScripts(tx, spent);
  return { tx, fee, spent, evicts };
}

/** Whether an output of `tx` is an unspent coin of the chain: the tx is confirmed, and not spent away. */
export const isConfirmedUnspent = (tx: Tx, view: ChainView): boolean =>
  tx.outputs.some((_, vout) => view.confirmedCoin(tx.txid, vout));

/** Consensus CheckTransaction: context-free sanity. */
function checkTransaction(tx: Tx): void {
  if (tx.inputs.length === 0) throw new RejectError('bad-txns-vin-empty');
  if (tx.outputs.length === 0) throw new RejectError('bad-txns-vout-empty');
  if (tx.strippedSize * 4 > 4_000_000) throw new RejectError('bad-txns-oversize');
  let total = 0n;
  for (const output of tx.outputs) {
    if (output.value < 0n) throw new RejectError('bad-txns-vout-negative');
    if (output.value > MAX_MONEY) throw new RejectError('bad-txns-vout-toolarge');
    total += output.value;
    if (total > MAX_MONEY) throw new RejectError('bad-txns-txouttotal-toolarge');
  }
  const seen = new Set<string>();
  for (const input of tx.inputs) {
    const key = outpointKey(input.txid, input.vout);
    if (seen.has(key)) throw new RejectError('bad-txns-inputs-duplicate');
    seen.add(key);
  }
  if (!isCoinbase(tx) && tx.inputs.some((i) => i.txid === NULL_TXID && i.vout === 0xffffffff)) {
    throw new RejectError('bad-txns-prevout-null');
  }
}

/** Policy IsStandardTx, the parts that matter for the scripts we relay. */
function checkStandard(tx: Tx): void {
  if (tx.version < 1 || tx.version > 3) throw new RejectError('version');
  if (tx.weight > MAX_STANDARD_TX_WEIGHT) throw new RejectError('tx-size');
  for (const input of tx.inputs) {
    if (input.scriptSig.length > 1650) throw new RejectError('scriptsig-size');
    const ops = parseScript(input.scriptSig);
    if (!ops || ops.some((o) => !o.data && o.op > 0x60)) throw new RejectError('scriptsig-not-pushonly');
  }
  for (const output of tx.outputs) {
    const kind = scriptKind(output.script);
    if (kind === 'nonstandard') throw new RejectError('scriptpubkey');
    if (kind === 'op_return' && output.script.length > 83) throw new RejectError('scriptpubkey');
    if (isDust(output)) throw new RejectError('dust');
  }
  if (tx.strippedSize < 65) throw new RejectError('tx-size-small');
}

/** bitcoind's GetDustThreshold at the default 3 sat/vB dust relay fee. */
export function dustThreshold(output: TxOutput): bigint {
  const kind = scriptKind(output.script);
  if (kind === 'op_return') return 0n;
  const outputSize = 8 + (output.script.length < 0xfd ? 1 : 3) + output.script.length;
  const witness =
    kind === 'v0_p2wpkh' ||
    kind === 'v0_p2wsh' ||
    kind === 'v1_p2tr' ||
    kind === 'unknown_witness' ||
    kind === 'anchor';
  // Cost of spending it later: outpoint + scriptSig length + sequence, plus the signature data.
  const spendSize = witness ? 32 + 4 + 1 + Math.floor(107 / 4) + 4 : 32 + 4 + 1 + 107 + 4;
  return BigInt((outputSize + spendSize) * 3);
}
const isDust = (output: TxOutput): boolean => output.value < dustThreshold(output);

/** Consensus IsFinalTx for a block at `height` whose lock time cutoff is `time` (BIP 113 MTP). */
export function isFinalTx(tx: Tx, height: number, time: number): boolean {
  if (tx.lockTime === 0) return true;
  const cutoff = tx.lockTime < LOCKTIME_THRESHOLD ? height : time;
  if (tx.lockTime < cutoff) return true;
  return tx.inputs.every((i) => i.sequence === SEQUENCE_FINAL);
}

/** BIP 68 relative lock times, evaluated for inclusion in the next block. */
function sequenceLocksSatisfied(tx: Tx, spent: Coin[], view: ChainView): boolean {
  if (tx.version < 2) return true;
  let minHeight = -1;
  let minTime = -1;
  tx.inputs.forEach((input, i) => {
    if (input.sequence & SEQUENCE_DISABLE_FLAG) return;
    const coinHeight = spent[i]!.height;
    const value = input.sequence & SEQUENCE_MASK;
    if (input.sequence & SEQUENCE_TYPE_FLAG) {
      // Time locks count from the median time past of the block before the coin's block.
      const coinTime = view.medianTimePast(Math.max(coinHeight - 1, 0));
      minTime = Math.max(minTime, coinTime + value * 512 - 1);
    } else {
      minHeight = Math.max(minHeight, coinHeight + value - 1);
    }
  });
  const nextHeight = view.tipHeight + 1;
  return minHeight < nextHeight && minTime < view.medianTimePast(view.tipHeight);
}

/** BIP 125: explicit signal (nSequence ≤ 0xfffffffd) on it or on any unconfirmed ancestor. */
function signalsReplaceability(txid: string, pool: Mempool): boolean {
  for (const id of [txid, ...pool.ancestors(txid)]) {
    if (pool.get(id)?.tx.inputs.some((i) => i.sequence <= 0xfffffffd)) return true;
  }
  return false;
}

/** BIP 125 rules 2–6 (with bitcoind's messages); returns every transaction to evict. */
function checkReplacement(
  tx: Tx,
  fee: bigint,
  spent: Coin[],
  conflicts: Set<string>,
  pool: Mempool,
  policy: Policy,
): Set<string> {
  const evicts = new Set<string>();
  for (const id of conflicts) {
    evicts.add(id);
    for (const d of pool.descendants(id)) evicts.add(d);
  }
  if (evicts.size > MAX_REPLACEMENTS) {
    throw new RejectError(
      'too many potential replacements',
      RPC_CODE.VERIFY_REJECTED,
      `rejecting replacement ${tx.txid}; too many potential replacements (${evicts.size} > ${MAX_REPLACEMENTS})`,
    );
  }
  // Rule 6: a higher feerate than every transaction it directly replaces.
  for (const id of conflicts) {
    const old = pool.get(id)!;
    if (fee * BigInt(old.tx.vsize) <= old.fee * BigInt(tx.vsize)) {
      throw new RejectError(
        'insufficient fee',
        RPC_CODE.VERIFY_REJECTED,
        `rejecting replacement ${tx.txid}; new feerate ${formatFeeRate(fee, tx.vsize)} <= old feerate ${formatFeeRate(old.fee, old.tx.vsize)}`,
      );
    }
  }
  // Rule 2: no new unconfirmed inputs beyond those the replaced transactions already had.
  const parentsOfConflicts = new Set<string>();
  for (const id of conflicts) for (const input of pool.get(id)!.tx.inputs) parentsOfConflicts.add(input.txid);
  spent.forEach((coin, idx) => {
    if (!coin.confirmed && !parentsOfConflicts.has(coin.txid)) {
      throw new RejectError(
        'replacement-adds-unconfirmed',
        RPC_CODE.VERIFY_REJECTED,
        `replacement ${tx.txid} adds unconfirmed input, idx ${idx}`,
      );
    }
  });
  // Rules 3 and 4: pay at least what it evicts, plus its own relay bandwidth.
  const evictedFees = [...evicts].reduce((n, id) => n + pool.get(id)!.fee, 0n);
  if (fee < evictedFees) {
    throw new RejectError(
      'insufficient fee',
      RPC_CODE.VERIFY_REJECTED,
      `rejecting replacement ${tx.txid}, less fees than conflicting txs; ${formatMoney(fee)} < ${formatMoney(evictedFees)}`,
    );
  }
  const additional = fee - evictedFees;
  const required = feeAt(policy.minRelayFeeRate, tx.vsize);
  if (additional < required) {
    throw new RejectError(
      'insufficient fee',
      RPC_CODE.VERIFY_REJECTED,
      `rejecting replacement ${tx.txid}, not enough additional fees to relay; ${formatMoney(additional)} < ${formatMoney(required)}`,
    );
  }
  return evicts;
}

/** Fee in sats for `vsize` at `rate` sat/vB, rounded up like CFeeRate::GetFee. */
export const feeAt = (rate: number, vsize: number): bigint => BigInt(Math.ceil(rate * vsize));

/** bitcoind's FormatMoney: 8 decimals, trailing zeros trimmed down to two. */
export function formatMoney(sats: bigint): string {
  const sign = sats < 0n ? '-' : '';
  const abs = sats < 0n ? -sats : sats;
  const text = `${abs / 100_000_000n}.${(abs % 100_000_000n).toString().padStart(8, '0')}`;
  return sign + text.replace(/(\.\d\d\d*?)0+$/, '$1');
}

const formatFeeRate = (fee: bigint, vsize: number): string => {
  const satPerKvB = (fee * 1000n) / BigInt(vsize);
  return `${(satPerKvB / 100_000_000n).toString()}.${(satPerKvB % 100_000_000n).toString().padStart(8, '0')} BTC/kvB`;
};
