// The wallet's checked chain view: a ChainSource over one or two Esplora servers that believes
// neither. It keeps the header chain from a checkpoint (link, proof of work, difficulty: headers.ts),
// proves every confirmation it passes on with a merkle proof against a header it holds (merkle.ts),
// and, given a second server, compares tips, confirmations and confirmed spends: when the two
// disagree it throws SOURCES_DISAGREE, so a sync stops before LDK is fed either view.
import { parseBlock, txidOf } from './bytes.ts';
import { ChainError, type ChainErrorCode, isChainError } from './errors.ts';
import type { EsploraSource, EsploraTx } from './esplora.ts';
import { type BlockHeader, type Checkpoint, decodeHeader, HeaderChain, NETWORK_RULES } from './headers.ts';
import { decodeKept, encodeKept, KEPT_HEADERS } from './kept.ts';
import { merkleProofHolds, merkleRootOfTxids } from './merkle.ts';
import {
  type BitcoinNetwork,
  type BlockRef,
  type ChainLog,
  type ChainSource,
  type FeeRates,
  type Outspend,
  silentLog,
  type TxConfirmation,
  type TxStatus,
} from './source.ts';

/** Esplora's `GET /blocks/:height` answers ten blocks; this many such requests run at once. */
const HEADERS_PER_BATCH = 10;
const HEADER_BATCHES_IN_FLIGHT = 6;
/** Two differing tips are read again this many times, `settleMs` apart, before they count as a disagreement. */
const TIP_REREADS = 2;

/** The codes that mean a chain source was caught (not merely unreachable). */
export const CHAIN_CHECK_CODES: ReadonlySet<ChainErrorCode> = new Set([
  'BAD_PROOF_OF_WORK',
  'BAD_DIFFICULTY',
  'BROKEN_HEADER_CHAIN',
  'BAD_MERKLE_PROOF',
  'SOURCES_DISAGREE',
  'CHAIN_ROLLBACK',
]);

export const isChainCheckFailure = (e: unknown): e is ChainError =>
  isChainError(e) && CHAIN_CHECK_CODES.has(e.code);

export interface CheckedSourceOptions {
  primary: EsploraSource;
  /** Another Esplora, ideally run by someone else than the primary's operator. */
  second?: EsploraSource;
  network: BitcoinNetwork;
  /** Overrides the network's checkpoint (tests); regtest without one starts at the source's genesis. */
  checkpoint?: Checkpoint;
  /** Headers kept across starts (default KEPT_HEADERS, one difficulty period): the deepest reorg followed after a restart. */
  keptHeaders?: number;
  /** How long to wait before reading two differing tips again (default 2 s; a block reaches servers seconds apart). */
  settleMs?: number;
  log?: ChainLog;
}

/**
 * @example
 * const source = checkedSource({
 *   primary: esploraSource({ url: lspEsplora }),
 *   second: esploraSource({ url: 'https://mempool.space/api' }),
 *   network: 'mainnet',
 * });
 */
export function checkedSource(opts: CheckedSourceOptions): CheckedChainSource {
  return new CheckedChainSource(opts);
}

export class CheckedChainSource implements ChainSource {
  readonly kind = 'esplora' as const;
  private readonly primary: EsploraSource;
  private readonly second: EsploraSource | undefined;
  private readonly log: ChainLog;
  private chain: HeaderChain | undefined;
  /** Txids whose confirmation was proven, with the block it was proven in. */
  private proven = new Map<string, string>();
  /** The headers of the blocks in `proven` (kept across starts, below the kept window too). */
  private provenBlocks = new Map<string, BlockHeader>();
  private following: Promise<BlockRef> | undefined;
  /** Where the chain is kept across starts (keepHeaders), and what was kept last time. */
  private keep: { record: Uint8Array | undefined; save: (record: Uint8Array) => unknown } | undefined;
  /** The checkpoint, or the regtest genesis, the chain descends from. */
  private anchorHash = '';
  /** The chain's base is the oldest kept header, not the anchor: below it is a reorg too deep to follow. */
  private baseIsKept = false;
  private saving: Promise<void> = Promise.resolve();
  private saveQueued = false;

  constructor(private readonly opts: CheckedSourceOptions) {
    this.primary = opts.primary;
    this.second = opts.second;
    this.log = opts.log ?? silentLog;
  }

  /**
   * Keep the checked header chain across starts: `record` is what `save` received last time (or
   * undefined); it is checked again before use. Call before the first read.
   */
  keepHeaders(record: Uint8Array | undefined, save: (record: Uint8Array) => unknown): void {
    this.keep = { record, save };
  }

  /** Whether a second source is compared. */
  get compared(): boolean {
    return this.second !== undefined;
  }

  /** The checked header chain's tip, once a tip was read. */
  get checkedTip(): BlockRef | undefined {
    const tip = this.chain?.tip;
    return tip && { hash: tip.hash, height: tip.height };
  }

  async network(): Promise<BitcoinNetwork> {
    const network = await this.primary.network();
    if (this.second) {
      const other = await this.second.network();
      if (other !== network)
        throw new ChainError(
          'WRONG_NETWORK',
          `the first chain source serves ${network}, the second ${other}`,
        );
    }
    return network;
  }

  /** The tip both sources agree on, its header chain checked back to what we hold. */
  tip(): Promise<BlockRef> {
    // one follower at a time: concurrent callers share the headers fetched
    this.following ??= this.follow().finally(() => {
      this.following = undefined;
    });
    return this.following;
  }

  private async follow(): Promise<BlockRef> {
    const chain = await this.headerChain();
    for (let attempt = 1; ; attempt++) {
      const tip = await this.agreedTip();
      if (tip.hash === chain.tip.hash) return tip;
      if (tip.height < chain.tip.height && chain.holds(tip.hash, tip.height)) {
        // a source behind us (lagging, or holding the tip back) cannot take back checked blocks
        this.log('warn', 'the chain source is behind the checked tip; keeping the checked tip', {
          served: tip.height,
          checked: chain.tip.height,
        });
        return { hash: chain.tip.hash, height: chain.tip.height };
      }
      try {
        chain.connect(await this.headersUpTo(chain, tip));
        this.persist();
        return tip;
      } catch (e) {
        // the chain moved between the tip and the headers (a new block, a reorg): read once more
        if (attempt >= 2 || !isChainError(e, 'BAD_RESPONSE')) throw e;
      }
    }
  }

  private headerChain(): Promise<HeaderChain> {
    if (this.chain) return Promise.resolve(this.chain);
    // concurrent first callers share one read of the anchor and of the kept record
    this.loadingChain ??= this.loadHeaderChain().finally(() => {
      this.loadingChain = undefined;
    });
    return this.loadingChain;
  }

  private loadingChain: Promise<HeaderChain> | undefined;

  private async loadHeaderChain(): Promise<HeaderChain> {
    const rules = NETWORK_RULES[this.opts.network];
    const checkpoint = this.opts.checkpoint ?? rules.checkpoint;
    let anchor: { hash: string; height: number };
    if (checkpoint) {
      anchor = checkpoint;
    } else {
      // regtest: every chain has its own genesis; the one served is the start (both must agree on it)
      const [genesis, other] = await Promise.all([
        this.mustHash(this.primary, 0),
        this.second && this.mustHash(this.second, 0),
      ]);
      if (other !== undefined && other !== genesis)
        throw new ChainError('SOURCES_DISAGREE', 'the two chain sources serve different genesis blocks');
      anchor = { hash: genesis, height: 0 };
    }
    this.anchorHash = anchor.hash;
    const kept = this.readKept(rules);
    if (kept) {
      this.baseIsKept = kept.chain.base.hash !== anchor.hash;
      this.proven = kept.proven;
      this.provenBlocks = kept.provenBlocks;
      this.chain = kept.chain;
    } else {
      const base = decodeHeader(await this.primary.header(anchor.hash), anchor.height);
      this.chain = new HeaderChain(base, rules);
    }
    return this.chain;
  }

  /** The kept chain, checked again; a record that fails is dropped (the chain is fetched again). */
  private readKept(rules: (typeof NETWORK_RULES)[BitcoinNetwork]) {
    const record = this.keep?.record;
    if (!record) return undefined;
    try {
      return decodeKept(record, this.anchorHash, rules);
    } catch (error) {
      this.log('warn', 'the kept header chain fails its checks; fetching it again', { error: String(error) });
      return undefined;
    }
  }

  /** Saves the chain (one save at a time; a later change rides with the next). A failed save only costs a refetch. */
  private persist(): void {
    const keep = this.keep;
    if (!keep || this.saveQueued) return;
    this.saveQueued = true;
    this.saving = this.saving
      .then(async () => {
        this.saveQueued = false;
        const chain = this.chain;
        if (chain)
          await keep.save(
            encodeKept(
              this.anchorHash,
              { chain, proven: this.proven, provenBlocks: this.provenBlocks },
              this.opts.keptHeaders,
            ),
          );
      })
      .catch((error: unknown) =>
        this.log('warn', 'could not keep the header chain', { error: String(error) }),
      );
  }

  private async mustHash(source: EsploraSource, height: number): Promise<string> {
    const hash = await source.blockHash(height);
    if (hash === null) throw new ChainError('NOT_FOUND', `block at height ${height}`);
    return hash;
  }

  private async agreedTip(): Promise<BlockRef> {
    if (!this.second) return this.primary.tip();
    let [first, second] = await Promise.all([this.primary.tip(), this.second.tip()]);
    // a new block reaches two servers seconds apart (electrs indexes it after its bitcoind has it)
    for (let reread = 0; reread < TIP_REREADS && first.hash !== second.hash; reread++) {
      await new Promise((resolve) => setTimeout(resolve, this.opts.settleMs ?? 2_000));
      [first, second] = await Promise.all([this.primary.tip(), this.second.tip()]);
    }
    if (first.hash !== second.hash)
      throw new ChainError(
        'SOURCES_DISAGREE',
        `the first chain source's tip is block ${first.height} (${first.hash}), the second's block ${second.height} (${second.hash})`,
      );
    return first;
  }

  /**
   * Headers from `tip` down to the first one whose parent we hold (ascending), fetched ten at a
   * time; each must be the parent of the one above it. BAD_RESPONSE when the source's answers
   * do not fit together (it moved meanwhile); BROKEN_HEADER_CHAIN when they lead below the base.
   */
  private async headersUpTo(chain: HeaderChain, tip: BlockRef): Promise<BlockHeader[]> {
    const fetched: BlockHeader[] = [];
    let height = tip.height;
    let expected = tip.hash;
    // batches down to our tip are fetched a few at a time (a first start from a checkpoint needs
    // thousands of headers); below it, a reorg, they are fetched one after another
    const batches = new Map<number, Promise<BlockHeader[]>>();
    const batchAt = (h: number) => {
      let batch = batches.get(h);
      if (!batch) {
        batch = this.primary.headersDown(h);
        batch.catch(() => {}); // a prefetched batch may never be awaited
        batches.set(h, batch);
      }
      return batch;
    };
    for (;;) {
      if (height <= chain.base.height && this.baseIsKept)
        throw new ChainError(
          'CHAIN_ROLLBACK',
          `the chain served leaves ours at or below block ${chain.base.height}: a reorganisation deeper than the ${this.opts.keptHeaders ?? KEPT_HEADERS} blocks this wallet keeps is not followed`,
        );
      if (height <= chain.base.height)
        throw new ChainError(
          'BROKEN_HEADER_CHAIN',
          `the chain served does not descend from block ${chain.base.height} (${chain.base.hash})`,
        );
      for (let ahead = 1; ahead < HEADER_BATCHES_IN_FLIGHT; ahead++) {
        const next = height - ahead * HEADERS_PER_BATCH;
        if (next > chain.tip.height) void batchAt(next);
      }
      const batch = await batchAt(height);
      if (batch.length === 0) throw new ChainError('BAD_RESPONSE', `no blocks at height ${height}`);
      for (const header of batch) {
        if (header.height !== height || header.hash !== expected)
          throw new ChainError('BAD_RESPONSE', `block at height ${height} is not ${expected}`);
        fetched.push(header);
        if (chain.at(height - 1)?.hash === header.prevHash) return fetched.reverse();
        expected = header.prevHash;
        height--;
        if (height <= chain.base.height) break;
      }
    }
  }

  async blockHash(height: number): Promise<string | null> {
    const chain = await this.headerChain();
    if (height > chain.tip.height) return null;
    if (height >= chain.base.height) return chain.at(height)?.hash ?? null;
    // below a checkpoint is history the checkpoint vouches for; below the kept window, a block one
    // of our transactions was proven in is known, the rest is history we checked on an earlier start
    for (const block of this.provenBlocks.values()) if (block.height === height) return block.hash;
    return this.primary.blockHash(height);
  }

  /** A header of the checked chain, or of a block one of our transactions was proven in. */
  private held(chain: HeaderChain, hash: string): BlockHeader | undefined {
    return chain.find(hash) ?? this.provenBlocks.get(hash);
  }

  async header(hash: string): Promise<Uint8Array> {
    const held = this.held(await this.headerChain(), hash);
    if (!held) throw new ChainError('NOT_FOUND', `block ${hash} is not in the checked header chain`);
    return held.raw;
  }

  async block(hash: string): Promise<Uint8Array> {
    const held = this.held(await this.headerChain(), hash);
    if (!held) throw new ChainError('NOT_FOUND', `block ${hash} is not in the checked header chain`);
    const raw = await this.primary.block(hash);
    const root = merkleRootOfTxids(parseBlock(raw).txs.map(txidOf));
    if (!root.every((b, i) => b === held.merkleRoot[i]))
      throw new ChainError('BAD_MERKLE_PROOF', `block ${hash}: its transactions do not match its header`);
    return raw;
  }

  /**
   * Where a transaction confirmed, proven by its merkle branch against a header we hold, and
   * (with a second source) the same there. Null when unconfirmed, or confirmed above the checked
   * tip (the next sync reads that block).
   */
  async txConfirmation(txid: string): Promise<TxConfirmation | null> {
    const chain = await this.headerChain();
    const tipHeight = chain.tip.height;
    const below = (c: TxConfirmation | null) => (c && c.height <= tipHeight ? c : null);
    const conf = below(await this.primary.txConfirmation(txid));
    if (conf) this.prove(chain, txid, conf);
    if (this.second) {
      const other = below(await this.second.txConfirmation(txid));
      if (describeConf(conf) !== describeConf(other))
        throw new ChainError(
          'SOURCES_DISAGREE',
          `tx ${txid}: the first chain source says ${describeConf(conf)}, the second ${describeConf(other)}`,
        );
    }
    return conf;
  }

  private prove(chain: HeaderChain, txid: string, conf: TxConfirmation): void {
    // proven before: in the chain we hold, or (below it) in the block we kept for it
    const block =
      conf.height >= chain.base.height
        ? chain.holds(conf.blockHash, conf.height)
        : this.provenBlocks.get(conf.blockHash);
    if (this.proven.get(txid) === conf.blockHash && block?.height === conf.height) return;
    const header = chain.holds(conf.blockHash, conf.height);
    if (!header)
      throw new ChainError(
        'BAD_MERKLE_PROOF',
        `tx ${txid}: block ${conf.height} (${conf.blockHash}) is not in the checked header chain`,
      );
    if (!conf.merkle || !merkleProofHolds(txid, conf.merkle, conf.position, header.merkleRoot))
      throw new ChainError(
        'BAD_MERKLE_PROOF',
        `tx ${txid}: the merkle proof does not lead to the root of block ${conf.height} (${conf.blockHash})`,
      );
    this.proven.set(txid, conf.blockHash);
    this.provenBlocks.set(header.hash, header);
    this.persist();
  }

  /** A confirmed status only with a proof (the broadcaster stops resending what it believes confirmed). */
  async txStatus(txid: string): Promise<TxStatus | null> {
    const conf = await this.txConfirmation(txid);
    if (conf) return { confirmed: true, blockHash: conf.blockHash, height: conf.height };
    const status = await this.primary.txStatus(txid);
    return status && { confirmed: false };
  }

  async rawTx(txid: string): Promise<Uint8Array | null> {
    // both clients check the txid of what they return: either one's copy is as good
    return (await this.primary.rawTx(txid)) ?? (this.second ? this.second.rawTx(txid) : null);
  }

  /** Spends as the first source reports them; a confirmed spend (or its absence) must match the second. */
  async outspend(txid: string, vout: number): Promise<Outspend> {
    const first = await settle(this.primary.outspend(txid, vout));
    if (this.second) {
      const tipHeight = (await this.headerChain()).tip.height;
      const second = await settle(this.second.outspend(txid, vout));
      const a = describeSpend(first, tipHeight);
      const b = describeSpend(second, tipHeight);
      if (a !== b)
        throw new ChainError(
          'SOURCES_DISAGREE',
          `output ${txid}:${vout}: the first chain source says ${a}, the second ${b}`,
        );
    }
    if ('error' in first) throw first.error;
    return first.value;
  }

  /** Sent through both sources: one that drops our transactions cannot keep them off the network. */
  async broadcast(rawTx: Uint8Array): Promise<string> {
    const [first, second] = await Promise.all([
      settle(this.primary.broadcast(rawTx)),
      this.second ? settle(this.second.broadcast(rawTx)) : undefined,
    ]);
    if ('value' in first) return first.value;
    if (second && 'value' in second) {
      this.log('warn', 'the first chain source refused a transaction the second accepted', {
        txid: second.value,
        error: String(first.error),
      });
      return second.value;
    }
    throw first.error;
  }

  feeRates(): Promise<FeeRates> {
    return this.primary.feeRates();
  }

  /** The wallet's script history, every confirmed entry proven (and compared) like txConfirmation. */
  async scriptHistory(scriptHashHex: string): Promise<EsploraTx[]> {
    const txs = await this.primary.scriptHistory(scriptHashHex);
    const out: EsploraTx[] = [];
    for (const tx of txs) {
      if (!tx.status.confirmed || this.proven.get(tx.txid) === tx.status.blockHash) {
        out.push(tx);
        continue;
      }
      const conf = await this.txConfirmation(tx.txid);
      out.push({
        ...tx,
        status: conf
          ? { confirmed: true, blockHash: conf.blockHash, height: conf.height }
          : { confirmed: false },
      });
    }
    return out;
  }
}

function describeConf(conf: TxConfirmation | null): string {
  return conf ? `confirmed in block ${conf.height} (${conf.blockHash}) at ${conf.position}` : 'not confirmed';
}

type Settled<T> = { value: T } | { error: unknown };

async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

/** What two honest sources must agree on: a spend confirmed at or below the checked tip (mempools differ). */
function describeSpend(spend: Settled<Outspend>, tipHeight: number): string {
  if ('error' in spend) {
    if (isChainError(spend.error, 'NOT_FOUND')) return 'not spent in a block'; // tx unknown there
    throw spend.error;
  }
  const s = spend.value;
  if (!s.spent || !s.status.confirmed || s.status.height > tipHeight) return 'not spent in a block';
  return `spent by ${s.txid} in block ${s.status.height}`;
}
