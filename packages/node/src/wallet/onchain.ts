// The node's on-chain wallet: BIP 84 (P2WPKH) keys from the node's BIP 39 seed, receive and change
// addresses with a gap limit, a UTXO set kept from the chain source, and the transactions the node
// needs — channel funding (segwit inputs only: LDK requires witnesses), payments, fee bumps.
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import { HDKey } from '@scure/bip32';
import * as btc from '@scure/btc-signer';
import { inBatches, LOOKUPS_AT_ONCE } from '../chain/batches.ts';
import type { ChainBroadcaster } from '../chain/broadcaster.ts';
import { parseBlock, parseTxIo, txidOf } from '../chain/bytes.ts';
import { isChainError } from '../chain/errors.ts';
import type { EsploraSource, EsploraTx } from '../chain/esplora.ts';
import { FEERATE_FLOOR_SAT_PER_KW } from '../chain/fees.ts';
import {
  type BitcoinNetwork,
  type ChainLog,
  type ChainSource,
  silentLog,
  type TxStatus,
} from '../chain/source.ts';
import type { Store, StoreWrite } from '../persist/store.ts';
import { WalletError } from './errors.ts';

type ScriptHistorySource = Pick<EsploraSource, 'scriptHistory'>;

const STATE_KEY = 'wallet/onchain/state';
/**
 * One record per transaction of the history (`${TX_PREFIX}${txid}`) and per own transaction's kind
 * (`${KIND_PREFIX}${txid}`), beside the state: an LSP's wallet holds a funding tx per channel, and a
 * state that held them all was rewritten whole with each new one (N² bytes over N channel opens). A
 * save writes the records that changed since the last one and deletes those gone.
 */
const TX_PREFIX = 'wallet/onchain/tx/';
const KIND_PREFIX = 'wallet/onchain/kind/';
/**
 * Derived scripts, `${SCRIPTS_PREFIX}${chain}/${n}` for positions n·SCRIPTS_PER_RECORD onwards: a
 * BIP 32 derivation costs ~1.5 ms in JS, and an LSP reveals a change script or two per channel open,
 * so deriving them again took seconds of every restart. Each record is the chain key's fingerprint,
 * the 20-byte key hashes, and a checksum; a record rewritten holds at most SCRIPTS_PER_RECORD.
 */
const SCRIPTS_PREFIX = 'wallet/onchain/scripts/';
const SCRIPTS_PER_RECORD = 1024;
/** 2: history and kinds in records of their own; 1 (read, then rewritten): all in the state. */
const STATE_VERSION = 2;
const EXTERNAL = 0;
const INTERNAL = 1;
/**
 * Change-chain index reserved for the static payment key of every channel (ldk/signer-provider.ts):
 * the counterparty's commitment pays our balance to this key's P2WPKH script. It is on a standard
 * BIP 84 path that every sync scans first, so a words-only restore (this wallet or any BIP 84
 * wallet) finds that money; it is never handed out as change.
 */
const STATIC_PAYMENT_INDEX = 0;
/** nSequence that signals BIP 125 replaceability (and enables nothing else). */
const RBF_SEQUENCE = 0xfffffffd;
/**
 * Scripts past the handed-out ones that a process's first (quick) Esplora scan also asks about: change
 * scripts LDK took just before a crash, whose save had not landed yet (`newChangeScriptSync`).
 */
const QUICK_LOOKAHEAD = 2;
/**
 * Block hashes remembered by the block scan, to find a fork point after a reorg; and over Esplora the
 * most blocks one sync reads (further behind, asking about each script costs less).
 */
const SCAN_HISTORY = 144;

export const REGTEST_NETWORK = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef } as const;

export function addressNetwork(network: BitcoinNetwork): typeof btc.NETWORK {
  if (network === 'mainnet') return btc.NETWORK;
  if (network === 'regtest') return REGTEST_NETWORK;
  return btc.TEST_NETWORK;
}

/** BIP 84 account path: coin type 0' on mainnet, 1' on every test network. */
export function bip84AccountPath(network: BitcoinNetwork): string {
  return `m/84'/${network === 'mainnet' ? 0 : 1}'/0'`;
}

export type WalletTxKind = 'funding' | 'send' | 'bump' | 'sweep' | 'external';

export interface WalletTx {
  txid: string;
  inputs: { txid: string; vout: number }[];
  outputs: { scriptHex: string; valueSat: bigint }[];
  status: TxStatus;
}

/** A transaction this wallet made and that the chain source has not shown yet. */
interface LocalTx extends WalletTx {
  raw: Uint8Array;
  kind: WalletTxKind;
  createdAtMs: number;
}

export interface Utxo {
  txid: string;
  vout: number;
  valueSat: bigint;
  script: Uint8Array;
  confirmed: boolean;
  /** BIP 84 chain (0 receive, 1 change) and index of the key that spends it. */
  chain: number;
  index: number;
}

export interface WalletBalance {
  /** In confirmed outputs: what coin selection spends. */
  confirmedSat: bigint;
  /** In outputs of unconfirmed transactions (incoming payments, our own change). */
  unconfirmedSat: bigint;
  totalSat: bigint;
}

export interface BuiltTx {
  raw: Uint8Array;
  txid: string;
  feeSat: bigint;
  /** Index of the change output, if any. */
  changeVout: number | undefined;
}

/** A transaction chosen but not signed: its coins, outputs and fee (`planSend`, then `sendPlanned`). */
export interface TxPlan {
  recipients: { script: Uint8Array; valueSat: bigint }[];
  inputs: Utxo[];
  /** Change to the internal chain at `index`; none when it would be dust (it goes to the fee). */
  change: { index: number; valueSat: bigint } | undefined;
  feeSat: bigint;
  feerateSatPerKw: number;
}

export interface OnchainWalletOptions {
  /** The BIP 39 seed (64 bytes from mnemonicToSeed), the same the node's keys come from. */
  seed: Uint8Array;
  network: BitcoinNetwork;
  source: ChainSource;
  /** When given, own transactions are sent through it (and rebroadcast until confirmed). */
  broadcaster?: ChainBroadcaster;
  /** Durable wallet state; without it the wallet lives in memory (tests). */
  store?: Store;
  /** What `store.load()` returned at node start (the node loads everything once). */
  stored?: Map<string, Uint8Array>;
  /** Unused addresses looked ahead on each chain; default 20 (BIP 44). */
  gapLimit?: number;
  /** bitcoind only: height to start scanning blocks from on first use (wallet birthday). */
  birthHeight?: number;
  /**
   * Esplora: read each new block instead of asking about every revealed script each sync (an LSP
   * reveals one or two per channel). Costs per block; unconfirmed payments to us are seen once
   * mined. The first sync of a store, and one further than SCAN_HISTORY behind, ask per script.
   */
  blockScan?: boolean;
  /**
   * The first sync scans the whole gap even when the state says it was done before: the store may
   * be behind another device that ran the same words (a restore into recovery mode).
   */
  fullFirstScan?: boolean;
  log?: ChainLog;
}

interface ScanState {
  height: number;
  hashes: [number, string][];
}

/**
 * @example
 * const wallet = await OnchainWallet.open({ seed, network: 'regtest', source, broadcaster, store, stored });
 * const address = await wallet.newAddress();
 * await wallet.sync();
 * const funding = await wallet.buildFundingTx(outputScript, 100_000n, fees.satPerKw('NonAnchorChannelFee'));
 */
export class OnchainWallet {
  readonly network: BitcoinNetwork;
  private readonly account: HDKey;
  private readonly chains: [HDKey, HDKey];
  private readonly btcNetwork: typeof btc.NETWORK;
  private readonly gap: number;
  private readonly log: ChainLog;
  /** Next unused index per chain (receive, change). */
  private next: [number, number] = [0, 0];
  /** scriptHex → key position, for every revealed script plus the look-ahead. */
  private readonly scripts = new WatchedMap<string, { chain: number; index: number }>(() => this.changed());
  private readonly derived: [number, number] = [0, 0];
  /**
   * Script per key position, per chain: a BIP 32 derivation is two point multiplications in JS, and
   * every Esplora sync (each 10 s on an LSP) asks about every revealed script plus the gap again.
   */
  private readonly scriptCache: [Map<number, Uint8Array>, Map<number, Uint8Array>] = [new Map(), new Map()];
  /** Positions per chain whose scripts are in the store (SCRIPTS_PREFIX), from 0 up. */
  private readonly storedScripts: [number, number] = [0, 0];
  /** Transactions touching our scripts, as the chain source last reported them. */
  private history = new WatchedMap<string, WalletTx>(() => this.changed());
  /** Own transactions not (yet) reported by the source. */
  private local = new WatchedMap<string, LocalTx>(() => this.changed());
  /** What each own transaction was for (kept after it shows up in history; decides RBF eligibility). */
  private kinds = new Map<string, WalletTxKind>();
  /**
   * The coin set, derived from the history, the local txs and the scripts, and dropped whenever one
   * of them changes: an LSP's history holds a funding tx per channel, and each open asks for its
   * coins several times (the balance checks, coin selection).
   */
  private coins: Utxo[] | undefined;
  private scan: ScanState | undefined;
  /** History entries a block scan took from the node's unconfirmed broadcasts (renewed each sync). */
  private readonly unmined = new Set<string>();
  /**
   * A full gap-rule scan has completed into this state (persisted): every script with history is
   * then below `next`, so a process's first Esplora sync may ask only the handed-out scripts.
   */
  private scannedFully = false;
  /** The static payment key (`staticPaymentKey`), once derived. */
  private staticKey: { privateKey: Uint8Array; publicKey: Uint8Array; script: Uint8Array } | undefined;
  /** This process's first sync is still to come (only it may be a quick one). */
  private firstSync = true;
  /** Per tx and kind record the store holds (by key), what it was written from: a save writes the difference. */
  private readonly savedRecords = new Map<string, string>();
  private saving: Promise<void> = Promise.resolve();
  private syncing: Promise<void> | undefined;

  private constructor(private readonly opts: OnchainWalletOptions) {
    if (opts.seed.length < 16 || opts.seed.length > 64)
      throw new WalletError('INVALID_INPUT', `"seed" expected 16..64 bytes, got ${opts.seed.length}`);
    this.network = opts.network;
    this.btcNetwork = addressNetwork(opts.network);
    this.account = HDKey.fromMasterSeed(opts.seed).derive(bip84AccountPath(opts.network));
    this.chains = [this.account.deriveChild(EXTERNAL), this.account.deriveChild(INTERNAL)];
    this.gap = opts.gapLimit ?? 20;
    this.log = opts.log ?? silentLog;
  }

  /** Open the wallet, restoring its state from `stored` when present. */
  static async open(opts: OnchainWalletOptions): Promise<OnchainWallet> {
    const wallet = new OnchainWallet(opts);
    const bytes = opts.stored?.get(STATE_KEY);
    if (bytes) wallet.restore(bytes, opts.stored!);
    if (opts.stored) wallet.restoreScripts(opts.stored);
    // reserved before any change script is handed out (a wallet state from before the reservation
    // may have used it as change once: harmless, it is ours either way)
    wallet.markUsed(INTERNAL, STATIC_PAYMENT_INDEX);
    wallet.extendLookahead();
    return wallet;
  }

  /**
   * The key every channel's counterparty pays our balance to when it closes (static_remote_key):
   * a P2WPKH output this wallet counts and spends like any other.
   */
  staticPaymentKey(): { privateKey: Uint8Array; publicKey: Uint8Array; script: Uint8Array } {
    // derived once per process: LDK asks for it with every channel signer, one per channel on a
    // restart (two BIP 32 derivations in JS each: seconds at 1,000 channels); the chain key that
    // derives it stays in memory anyway. Callers get copies (the signer provider wipes its copy).
    if (!this.staticKey) {
      const key = this.chains[INTERNAL].deriveChild(STATIC_PAYMENT_INDEX);
      this.staticKey = {
        privateKey: Uint8Array.from(key.privateKey!),
        publicKey: Uint8Array.from(key.publicKey!),
        script: this.ownScript(INTERNAL, STATIC_PAYMENT_INDEX),
      };
    }
    const { privateKey, publicKey, script } = this.staticKey;
    return { privateKey: privateKey.slice(), publicKey: publicKey.slice(), script: script.slice() };
  }

  // --- addresses ---------------------------------------------------------------------------

  private scriptAt(chain: number, index: number): Uint8Array {
    const cache = this.scriptCache[chain]!;
    let script = cache.get(index);
    if (!script) {
      const key = this.chains[chain]!.deriveChild(index);
      script = btc.p2wpkh(key.publicKey!, this.btcNetwork).script;
      cache.set(index, script);
    }
    return script.slice(); // callers (LDK, tx builders) own what they get
  }

  /**
   * The script at a position, derived now: for scripts that leave the wallet (addresses, change,
   * LDK's scripts), which must never come from a damaged store. A cached script that differs drops
   * the stored ones of its chain: they are derived again.
   */
  private ownScript(chain: number, index: number): Uint8Array {
    const script = btc.p2wpkh(this.chains[chain]!.deriveChild(index).publicKey!, this.btcNetwork).script;
    const cached = this.scriptCache[chain]!.get(index);
    if (cached && hex.encode(cached) !== hex.encode(script)) {
      this.log('error', 'stored wallet scripts differ from the derived ones; deriving them again', { chain });
      const positions = [...this.scriptCache[chain]!.keys()];
      this.scriptCache[chain]!.clear();
      for (const [scriptHex, pos] of this.scripts) if (pos.chain === chain) this.scripts.delete(scriptHex);
      for (const i of positions) this.scripts.set(hex.encode(this.scriptAt(chain, i)), { chain, index: i });
      this.storedScripts[chain] = 0;
    }
    this.scriptCache[chain]!.set(index, script);
    return script.slice();
  }

  private extendLookahead(): void {
    for (const chain of [EXTERNAL, INTERNAL]) {
      const want = this.next[chain]! + this.gap;
      for (let i = this.derived[chain]!; i < want; i++)
        this.scripts.set(hex.encode(this.scriptAt(chain, i)), { chain, index: i });
      this.derived[chain] = Math.max(this.derived[chain]!, want);
    }
  }

  private markUsed(chain: number, index: number): void {
    if (index >= this.next[chain]!) {
      this.next[chain] = index + 1;
      this.extendLookahead();
    }
  }

  /** A fresh receive address (BIP 84, chain 0). Persisted so it is never handed out twice. */
  async newAddress(): Promise<string> {
    const index = this.next[EXTERNAL];
    this.markUsed(EXTERNAL, index);
    await this.save();
    return this.addressOf(this.ownScript(EXTERNAL, index));
  }

  /** A fresh change script (chain 1): LDK's ChangeDestinationSource and shutdown scripts use it. */
  async newChangeScript(): Promise<Uint8Array> {
    const index = this.next[INTERNAL];
    this.markUsed(INTERNAL, index);
    await this.save();
    return this.ownScript(INTERNAL, index);
  }

  /** Synchronous variant for LDK callbacks: reveals the script now, persists in the background. */
  newChangeScriptSync(): Uint8Array {
    const index = this.next[INTERNAL];
    this.markUsed(INTERNAL, index);
    void this.save().catch((e) => this.log('error', 'wallet state not saved', { error: String(e) }));
    return this.ownScript(INTERNAL, index);
  }

  isMine(script: Uint8Array): boolean {
    return this.scripts.has(hex.encode(script));
  }

  private addressOf(script: Uint8Array): string {
    return btc.Address(this.btcNetwork).encode(btc.OutScript.decode(script));
  }

  private scriptOf(address: string): Uint8Array {
    try {
      return btc.OutScript.encode(btc.Address(this.btcNetwork).decode(address));
    } catch (e) {
      throw new WalletError('INVALID_INPUT', `"address" is not a ${this.network} address: ${address}`, {
        cause: e,
      });
    }
  }

  // --- state -------------------------------------------------------------------------------

  /** Every transaction the wallet counts: the source's view plus our own not yet shown by it. */
  private allTxs(): WalletTx[] {
    return [...this.history.values(), ...this.local.values()];
  }

  private changed(): void {
    this.coins = undefined;
  }

  /** Unspent outputs paying to our scripts (spent = an input of any counted transaction). */
  utxos(): Utxo[] {
    return this.coinSet().map((u) => ({ ...u, script: u.script.slice() }));
  }

  private coinSet(): Utxo[] {
    if (this.coins) return this.coins;
    const txs = this.allTxs();
    const spent = new Set<string>();
    for (const tx of txs) for (const i of tx.inputs) spent.add(`${i.txid}:${i.vout}`);
    const out: Utxo[] = [];
    for (const tx of txs)
      tx.outputs.forEach((o, vout) => {
        const pos = this.scripts.get(o.scriptHex);
        if (!pos || spent.has(`${tx.txid}:${vout}`)) return;
        out.push({
          txid: tx.txid,
          vout,
          valueSat: o.valueSat,
          script: hex.decode(o.scriptHex),
          confirmed: tx.status.confirmed,
          ...pos,
        });
      });
    this.coins = out;
    return out;
  }

  balance(): WalletBalance {
    let confirmedSat = 0n;
    let unconfirmedSat = 0n;
    for (const u of this.coinSet()) {
      if (u.confirmed) confirmedSat += u.valueSat;
      else unconfirmedSat += u.valueSat;
    }
    return { confirmedSat, unconfirmedSat, totalSat: confirmedSat + unconfirmedSat };
  }

  /** Transactions touching the wallet, newest unconfirmed first. */
  transactions(): (WalletTx & { kind: WalletTxKind })[] {
    return this.allTxs()
      .map((t) => ({ ...t, kind: this.kinds.get(t.txid) ?? ('external' as const) }))
      .sort(
        (a, b) =>
          (a.status.confirmed ? a.status.height : Infinity) -
          (b.status.confirmed ? b.status.height : Infinity),
      )
      .reverse();
  }

  // --- sync --------------------------------------------------------------------------------

  /** Refresh history and UTXOs from the chain source. Concurrent calls share one run. */
  sync(): Promise<void> {
    this.syncing ??= this.syncNow().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncNow(): Promise<void> {
    const source = this.opts.source;
    // Esplora, plain or checked (chain/checked.ts): both list a script's history
    if (source.kind === 'esplora' && 'scriptHistory' in source) {
      if (!(this.opts.blockScan && (await this.syncBlocks(SCAN_HISTORY)))) {
        const tip = await source.tip();
        await this.syncEsplora(source as ChainSource & ScriptHistorySource);
        // every script asked about up to this tip: a block scan goes on from here
        if (this.opts.blockScan) this.scan = { height: tip.height, hashes: [[tip.height, tip.hash]] };
      }
    } else await this.syncBlocks();
    this.settleLocal();
    await this.save();
  }

  /**
   * Esplora. A process's first sync, when a full scan completed before (`scannedFully`), asks only
   * about the scripts handed out (to the person, to LDK, as change: each index saved before the script
   * leaves the wallet, `newChangeScriptSync` excepted, which QUICK_LOOKAHEAD covers) — one round trip
   * for most wallets instead of ~6; every script with history is among them. Every other sync scans
   * the gap: coins paid to addresses this device never handed out (the same words used on another
   * device) are found there. Why this loses no coin: docs/architecture.md.
   */
  private async syncEsplora(source: ScriptHistorySource): Promise<void> {
    const quick = this.firstSync && this.scannedFully && this.opts.fullFirstScan !== true;
    this.firstSync = false;
    if (quick) await this.quickScan(source);
    else await this.fullScan(source);
  }

  private async quickScan(source: ScriptHistorySource): Promise<void> {
    const positions = [EXTERNAL, INTERNAL].flatMap((chain) =>
      Array.from({ length: this.next[chain]! + QUICK_LOOKAHEAD }, (_, index) => ({ chain, index })),
    );
    const answers = new Array<EsploraTx[]>(positions.length);
    await inBatches([...positions.keys()], LOOKUPS_AT_ONCE, async (i) => {
      const { chain, index } = positions[i]!;
      answers[i] = await source.scriptHistory(hex.encode(sha256(this.scriptAt(chain, index))));
    });
    const history = new WatchedMap<string, WalletTx>(() => this.changed());
    positions.forEach(({ chain, index }, i) => {
      if (answers[i]!.length === 0) return;
      this.markUsed(chain, index);
      for (const t of answers[i]!) history.set(t.txid, fromEsploraTx(t));
    });
    this.history = history;
    this.changed();
  }

  /**
   * The history of every revealed script plus `gap` unused ones per chain. Scripts are asked about a
   * batch at a time and the answers read in order, so the gap rule decides as if one by one (a batch
   * may ask a few scripts past the end: their answers are not read).
   */
  private async fullScan(source: ScriptHistorySource): Promise<void> {
    const history = new WatchedMap<string, WalletTx>(() => this.changed());
    for (const chain of [EXTERNAL, INTERNAL]) {
      let unusedRun = 0;
      let index = 0;
      const wanted = () => index < this.next[chain]! || unusedRun < this.gap;
      while (wanted()) {
        const batch = Array.from({ length: LOOKUPS_AT_ONCE }, (_, k) =>
          source.scriptHistory(hex.encode(sha256(this.scriptAt(chain, index + k)))),
        );
        for (const txs of await Promise.all(batch)) {
          if (!wanted()) break;
          if (txs.length === 0) unusedRun++;
          else {
            unusedRun = 0;
            this.markUsed(chain, index);
            for (const t of txs) history.set(t.txid, fromEsploraTx(t));
          }
          index++;
        }
      }
    }
    this.history = history;
    this.changed();
    this.scannedFully = true;
  }

  /**
   * Scan blocks from the last scanned height for outputs to our scripts and spends of our coins.
   * Limitation: unconfirmed incoming payments are not seen (bitcoind offers no address index); our
   * own unconfirmed transactions are, as local transactions. With `limit` (Esplora), scans only from
   * a remembered block still in the best chain at most `limit` blocks back, else returns false
   * having changed nothing: asking per script is then right (and cheaper).
   */
  private async syncBlocks(limit?: number): Promise<boolean> {
    const source = this.opts.source;
    const tip = await source.tip();
    if (limit !== undefined && (!this.scan || tip.height - this.scan.height > limit)) return false;
    this.scan ??= { height: this.opts.birthHeight ?? tip.height, hashes: [] };
    const scan = this.scan;
    // reorg: rewind to the highest remembered block still in the best chain
    let forkIndex = scan.hashes.length - 1;
    for (; forkIndex >= 0; forkIndex--) {
      const [height, hash] = scan.hashes[forkIndex]!;
      if ((await source.blockHash(height)) === hash) break;
    }
    if (limit !== undefined && forkIndex < 0) return false;
    for (const [height] of scan.hashes.splice(forkIndex + 1)) scan.height = Math.min(scan.height, height - 1);
    for (const tx of this.history.values())
      if (tx.status.confirmed && tx.status.height > scan.height) {
        tx.status = { confirmed: false };
        this.changed();
      }

    for (let height = scan.height + 1; height <= tip.height; height++) {
      const hash = await source.blockHash(height);
      if (hash === null) break;
      const block = parseBlock(await source.block(hash));
      for (const raw of block.txs) {
        const io = parseTxIo(raw);
        const ours =
          io.outputs.some((o) => this.noteScript(hex.encode(o.script))) ||
          io.inputs.some((i) => this.isOurOutpoint(i.txid, i.vout));
        if (!ours) continue;
        const txid = txidOf(raw);
        this.history.set(txid, {
          txid,
          inputs: io.inputs,
          outputs: io.outputs.map((o) => ({ scriptHex: hex.encode(o.script), valueSat: o.valueSat })),
          status: { confirmed: true, blockHash: hash, height },
        });
      }
      scan.height = height;
      scan.hashes.push([height, hash]);
      if (scan.hashes.length > SCAN_HISTORY) scan.hashes.shift();
    }
    await this.noteUnminedBroadcasts();
    return true;
  }

  /**
   * A block scan sees no mempool: the node's own broadcasts that pay or spend ours (LDK's sweeps
   * and closes; the wallet's own sends are local txs already) are asked about by txid, so they count
   * from the moment the source holds them, as a per-script sync would show them. Few: only what the
   * broadcaster still watches.
   */
  private async noteUnminedBroadcasts(): Promise<void> {
    for (const txid of this.unmined)
      if (this.history.get(txid)?.status.confirmed === false) this.history.delete(txid);
    this.unmined.clear();
    for (const { txid, raw } of this.opts.broadcaster?.pendingTxs() ?? []) {
      if (this.history.has(txid) || this.local.has(txid)) continue;
      const io = parseTxIo(raw);
      const outputs = io.outputs.map((o) => ({ scriptHex: hex.encode(o.script), valueSat: o.valueSat }));
      const ours =
        outputs.some((o) => this.scripts.has(o.scriptHex)) ||
        io.inputs.some((i) => this.isOurOutpoint(i.txid, i.vout));
      if (!ours) continue;
      const status = await this.opts.source.txStatus(txid);
      if (status === null || status.confirmed) continue; // not held, or in a block the next scan reads
      this.history.set(txid, { txid, inputs: io.inputs, outputs, status });
      this.unmined.add(txid);
    }
  }

  private noteScript(scriptHex: string): boolean {
    const pos = this.scripts.get(scriptHex);
    if (pos) this.markUsed(pos.chain, pos.index);
    return pos !== undefined;
  }

  private isOurOutpoint(txid: string, vout: number): boolean {
    const tx = this.history.get(txid) ?? this.local.get(txid);
    const out = tx?.outputs[vout];
    return out !== undefined && this.scripts.has(out.scriptHex);
  }

  /** Local txs the source now reports move to history; those conflicting with it are dropped. */
  private settleLocal(): void {
    const spentBy = new Map<string, string>();
    for (const tx of this.history.values())
      for (const i of tx.inputs) spentBy.set(`${i.txid}:${i.vout}`, tx.txid);
    for (const [txid, tx] of this.local) {
      if (this.history.has(txid)) {
        this.local.delete(txid);
        continue;
      }
      const conflict = tx.inputs.map((i) => spentBy.get(`${i.txid}:${i.vout}`)).find((s) => s && s !== txid);
      if (conflict) {
        this.log('info', 'own transaction replaced or double-spent', { txid, by: conflict });
        this.local.delete(txid);
        this.opts.broadcaster?.forget(txid);
      }
    }
  }

  // --- building transactions ---------------------------------------------------------------

  /**
   * A signed transaction paying `valueSat` to `outputScript` (the channel's P2WSH), spending only
   * confirmed P2WPKH coins, with change back to us. Not broadcast: LDK does that once the peer
   * signed. The coins stay reserved until the tx confirms, conflicts, or `releaseTx(txid)` (call it
   * on LDK's DiscardFunding event).
   */
  async buildFundingTx(
    outputScript: Uint8Array,
    valueSat: bigint,
    feerateSatPerKw: number,
  ): Promise<BuiltTx> {
    const built = this.build([{ script: outputScript, valueSat }], feerateSatPerKw);
    await this.record(built, 'funding');
    return built;
  }

  /** Pay `amountSat` to `address`; broadcasts and returns the txid. */
  async send(address: string, amountSat: bigint, feerateSatPerKw: number): Promise<string> {
    return this.sendPlanned(this.planSend(this.scriptOf(address), amountSat, feerateSatPerKw));
  }

  /**
   * What paying `amountSat` (or 'all': every confirmed coin, no change) to `script` would spend and
   * cost, without signing anything: the fee can be shown before the person agrees.
   */
  planSend(script: Uint8Array, amountSat: bigint | 'all', feerateSatPerKw: number): TxPlan {
    if (amountSat !== 'all') return this.plan([{ script, valueSat: amountSat }], feerateSatPerKw);
    const coins = this.utxos().filter((u) => u.confirmed);
    const totalSat = coins.reduce((n, u) => n + u.valueSat, 0n);
    const feeSat =
      (BigInt(txWeight(coins.length, outputWeight(script))) * BigInt(feerateSatPerKw) + 999n) / 1000n;
    if (coins.length === 0 || totalSat - feeSat < dustLimit(script))
      throw new WalletError(
        'INSUFFICIENT_FUNDS',
        `have ${totalSat} sat confirmed, the fee alone is ${feeSat} sat`,
        {
          neededSat: feeSat + dustLimit(script),
          availableSat: totalSat,
        },
      );
    return this.plan([{ script, valueSat: totalSat - feeSat }], feerateSatPerKw, { mustSpend: coins });
  }

  /** Sign, record and broadcast a plan from `planSend`, if its coins are still unspent and ours. */
  async sendPlanned(plan: TxPlan): Promise<string> {
    const unspent = new Set(this.utxos().map((u) => `${u.txid}:${u.vout}`));
    if (plan.inputs.some((u) => !unspent.has(`${u.txid}:${u.vout}`)))
      throw new WalletError('STALE_PLAN', 'coins of this send were spent since it was prepared');
    const built = this.sign(plan);
    await this.record(built, 'send');
    await this.publish(built);
    return built.txid;
  }

  /**
   * Replace an unconfirmed own transaction (not a channel funding) by one paying
   * `feerateSatPerKw`, same recipients, same inputs plus more if needed (BIP 125). Returns the new txid.
   */
  async bumpFee(txid: string, feerateSatPerKw: number): Promise<string> {
    const original = this.local.get(txid) ?? this.history.get(txid);
    const kind = this.kinds.get(txid);
    if (!original || !kind || original.status.confirmed)
      throw new WalletError('NOT_REPLACEABLE', `${txid} is not an unconfirmed transaction of this wallet`);
    if (kind === 'funding')
      throw new WalletError(
        'NOT_REPLACEABLE',
        `${txid} funds a channel: a replacement would change its txid`,
      );
    const coins = new Map<string, Utxo>();
    for (const tx of this.allTxs())
      tx.outputs.forEach((o, vout) => {
        const pos = this.scripts.get(o.scriptHex);
        if (pos)
          coins.set(`${tx.txid}:${vout}`, {
            txid: tx.txid,
            vout,
            valueSat: o.valueSat,
            script: hex.decode(o.scriptHex),
            confirmed: tx.status.confirmed,
            ...pos,
          });
      });
    const inputs = original.inputs.map((i) => coins.get(`${i.txid}:${i.vout}`));
    if (inputs.some((i) => i === undefined))
      throw new WalletError('NOT_REPLACEABLE', `${txid} spends coins that are not ours`);
    const ownInputs = inputs as Utxo[];
    const recipients = original.outputs
      .filter((o) => this.scripts.get(o.scriptHex)?.chain !== INTERNAL)
      .map((o) => ({ script: hex.decode(o.scriptHex), valueSat: o.valueSat }));
    const oldFee =
      ownInputs.reduce((n, u) => n + u.valueSat, 0n) - original.outputs.reduce((n, o) => n + o.valueSat, 0n);
    // free the original's coins for the rebuild, but restore it if the replacement fails
    const local = this.local.get(txid);
    this.local.delete(txid);
    this.history.delete(txid);
    let built: BuiltTx;
    try {
      // BIP 125 rule 4: pay at least the old fee plus the relay fee (1 sat/vB) of the new tx
      built = this.build(recipients, feerateSatPerKw, {
        mustSpend: ownInputs,
        minFeeSat: oldFee,
        perVbyteExtra: 1n,
      });
    } catch (e) {
      if (local) this.local.set(txid, local);
      else this.history.set(txid, original);
      throw e;
    }
    await this.record(built, 'bump');
    try {
      await this.publish(built);
    } catch (e) {
      this.local.delete(built.txid);
      if (local) this.local.set(txid, local);
      else this.history.set(txid, original);
      await this.save();
      throw e;
    }
    this.opts.broadcaster?.forget(txid);
    return built.txid;
  }

  /** Give back the coins of a transaction that will never be broadcast (LDK DiscardFunding). */
  async releaseTx(txid: string): Promise<void> {
    if (!this.local.delete(txid)) return;
    this.kinds.delete(txid);
    this.opts.broadcaster?.forget(txid);
    await this.save();
  }

  private async record(built: BuiltTx, kind: WalletTxKind): Promise<void> {
    const io = parseTxIo(built.raw);
    this.local.set(built.txid, {
      txid: built.txid,
      raw: built.raw,
      kind,
      createdAtMs: Date.now(),
      inputs: io.inputs,
      outputs: io.outputs.map((o) => ({ scriptHex: hex.encode(o.script), valueSat: o.valueSat })),
      status: { confirmed: false },
    });
    this.kinds.set(built.txid, kind);
    await this.save();
  }

  /** Broadcast an own tx; a definite refusal undoes it, an unreachable source leaves it for rebroadcast. */
  private async publish(built: BuiltTx): Promise<void> {
    try {
      if (this.opts.broadcaster) await this.opts.broadcaster.broadcast(built.raw);
      else await this.opts.source.broadcast(built.raw);
    } catch (e) {
      if (!isChainError(e, 'REJECTED')) {
        this.log('warn', 'broadcast not confirmed by the source; will retry', {
          txid: built.txid,
          error: String(e),
        });
        return;
      }
      this.local.delete(built.txid);
      this.kinds.delete(built.txid);
      this.opts.broadcaster?.forget(built.txid);
      await this.save();
      throw new WalletError('BROADCAST_REJECTED', `${built.txid}: ${e.rejectReason}`, {
        rejectReason: e.rejectReason,
        cause: e,
      });
    }
  }

  /** Re-send own transactions the source has not shown (call on each sync). */
  async rebroadcastLocal(): Promise<void> {
    for (const tx of this.local.values()) {
      if (tx.kind === 'funding') continue; // LDK broadcasts funding itself, after the peer signed
      try {
        if (this.opts.broadcaster) await this.opts.broadcaster.broadcast(tx.raw);
        else await this.opts.source.broadcast(tx.raw);
      } catch (e) {
        this.log('warn', 'rebroadcast of own transaction failed', { txid: tx.txid, error: String(e) });
      }
    }
  }

  /**
   * Coin selection (largest confirmed coins first, after any that must be spent), change to a
   * fresh internal address unless it would be dust, P2WPKH signatures.
   */
  private build(
    recipients: { script: Uint8Array; valueSat: bigint }[],
    feerateSatPerKw: number,
    opts: { mustSpend?: Utxo[]; minFeeSat?: bigint; perVbyteExtra?: bigint } = {},
  ): BuiltTx {
    return this.sign(this.plan(recipients, feerateSatPerKw, opts));
  }

  private plan(
    recipients: { script: Uint8Array; valueSat: bigint }[],
    feerateSatPerKw: number,
    opts: { mustSpend?: Utxo[]; minFeeSat?: bigint; perVbyteExtra?: bigint } = {},
  ): TxPlan {
    if (!Number.isSafeInteger(feerateSatPerKw) || feerateSatPerKw < FEERATE_FLOOR_SAT_PER_KW)
      throw new WalletError(
        'INVALID_INPUT',
        `"feerateSatPerKw" expected an integer ≥ 253, got ${feerateSatPerKw}`,
      );
    if (recipients.length === 0) throw new WalletError('INVALID_INPUT', 'no recipients');
    for (const r of recipients) {
      if (typeof r.valueSat !== 'bigint' || r.valueSat < dustLimit(r.script))
        throw new WalletError(
          'INVALID_INPUT',
          `"valueSat" ${r.valueSat} is below the dust limit ${dustLimit(r.script)}`,
        );
      if (r.script.length === 0 || r.script.length > 10_000)
        throw new WalletError('INVALID_INPUT', 'bad output script');
    }
    const rate = BigInt(feerateSatPerKw);
    const changeIndex = this.next[INTERNAL];
    const changeScript = this.scriptAt(INTERNAL, changeIndex);
    const sendSat = recipients.reduce((n, r) => n + r.valueSat, 0n);
    const outputsWeight = recipients.reduce((w, r) => w + outputWeight(r.script), 0);

    const must = opts.mustSpend ?? [];
    const mustKeys = new Set(must.map((u) => `${u.txid}:${u.vout}`));
    const candidates = this.utxos()
      .filter((u) => u.confirmed && !mustKeys.has(`${u.txid}:${u.vout}`))
      .sort((a, b) => (b.valueSat > a.valueSat ? 1 : b.valueSat < a.valueSat ? -1 : 0));
    const available = [...must, ...candidates].reduce((n, u) => n + u.valueSat, 0n);

    const feeFor = (nInputs: number, withChange: boolean): bigint => {
      const weight = txWeight(nInputs, outputsWeight + (withChange ? outputWeight(changeScript) : 0));
      let fee = (BigInt(weight) * rate + 999n) / 1000n;
      if (opts.minFeeSat !== undefined) {
        const floor = opts.minFeeSat + (opts.perVbyteExtra ?? 0n) * BigInt(Math.ceil(weight / 4));
        if (fee < floor) fee = floor;
      }
      return fee;
    };

    const selected: Utxo[] = [...must];
    let total = selected.reduce((n, u) => n + u.valueSat, 0n);
    let i = 0;
    for (;;) {
      if (selected.length > 0) {
        const feeNoChange = feeFor(selected.length, false);
        if (total >= sendSat + feeNoChange) break;
      }
      const next = candidates[i++];
      if (!next) {
        const needed = sendSat + feeFor(Math.max(1, selected.length), false);
        throw new WalletError('INSUFFICIENT_FUNDS', `need ${needed} sat, have ${available} sat confirmed`, {
          neededSat: needed,
          availableSat: available,
        });
      }
      selected.push(next);
      total += next.valueSat;
    }

    const feeWithChange = feeFor(selected.length, true);
    const change = total - sendSat - feeWithChange;
    const withChange = change >= dustLimit(changeScript);
    const feeSat = withChange ? feeWithChange : total - sendSat;
    return {
      recipients,
      inputs: selected,
      change: withChange ? { index: changeIndex, valueSat: change } : undefined,
      feeSat,
      feerateSatPerKw,
    };
  }

  /** Sign a plan with the keys of its coins (P2WPKH, RBF-signalling inputs). */
  private sign(plan: TxPlan): BuiltTx {
    const { recipients, inputs: selected, change, feeSat } = plan;
    const tx = new btc.Transaction({ allowUnknownOutputs: true });
    for (const u of selected)
      tx.addInput({
        txid: u.txid,
        index: u.vout,
        witnessUtxo: { script: u.script, amount: u.valueSat },
        sequence: RBF_SEQUENCE,
      });
    for (const r of recipients) tx.addOutput({ script: r.script, amount: r.valueSat });
    let changeVout: number | undefined;
    if (change)
      changeVout = tx.addOutput({ script: this.ownScript(INTERNAL, change.index), amount: change.valueSat });
    selected.forEach((u, idx) => {
      tx.signIdx(this.chains[u.chain]!.deriveChild(u.index).privateKey!, idx);
    });
    tx.finalize();
    const raw = tx.extract();
    if (change) this.markUsed(INTERNAL, change.index);
    return { raw, txid: tx.id, feeSat, changeVout };
  }

  // --- persistence -------------------------------------------------------------------------

  private serialize(): Uint8Array {
    const state = {
      v: STATE_VERSION,
      network: this.network,
      next: this.next,
      local: [...this.local.values()].map((t) => ({
        raw: hex.encode(t.raw),
        kind: t.kind,
        at: t.createdAtMs,
      })),
      scan: this.scan,
      full: this.scannedFully,
    };
    return new TextEncoder().encode(JSON.stringify(state));
  }

  /**
   * The history and kind records that differ from what the store holds, and what to note once they
   * are durable (a failed commit leaves the notes as they were: the next save writes them again).
   * Inputs and outputs are fixed by the txid, so a tx record changes only with its block.
   */
  private recordChanges(): { writes: StoreWrite[]; saved: () => void } {
    // key → what tells the stored record from another, and the record
    const wanted = new Map<string, [string, () => string]>();
    // unmined broadcasts are asked about again after a restart, not kept (they may be replaced)
    for (const tx of this.history.values())
      if (!this.unmined.has(tx.txid))
        wanted.set(`${TX_PREFIX}${tx.txid}`, [statusMark(tx.status), () => JSON.stringify(txRecord(tx))]);
    for (const [txid, kind] of this.kinds) wanted.set(`${KIND_PREFIX}${txid}`, [kind, () => kind]);
    const writes: StoreWrite[] = [];
    const changes: [string, string | null][] = [];
    for (const [key, [mark, record]] of wanted)
      if (this.savedRecords.get(key) !== mark) {
        writes.push({ key, value: new TextEncoder().encode(record()) });
        changes.push([key, mark]);
      }
    for (const key of this.savedRecords.keys())
      if (!wanted.has(key)) {
        writes.push({ key, value: null });
        changes.push([key, null]);
      }
    const saved = () => {
      for (const [key, mark] of changes)
        if (mark === null) this.savedRecords.delete(key);
        else this.savedRecords.set(key, mark);
    };
    return { writes, saved };
  }

  private restore(bytes: Uint8Array, stored: ReadonlyMap<string, Uint8Array>): void {
    try {
      const s = JSON.parse(new TextDecoder().decode(bytes));
      if (s.v !== 1 && s.v !== STATE_VERSION) throw new Error(`unknown version ${s.v}`);
      if (s.network !== this.network) throw new Error(`state is for ${s.network}, wallet is ${this.network}`);
      this.next = [Number(s.next[0]), Number(s.next[1])];
      const txFromJson = (
        txid: string,
        t: { inputs: WalletTx['inputs']; outputs: { s: string; v: string }[]; status: TxStatus },
      ) =>
        this.history.set(txid, {
          txid,
          inputs: t.inputs.map((i) => ({ txid: i.txid, vout: i.vout })),
          outputs: t.outputs.map((o) => ({ scriptHex: o.s, valueSat: BigInt(o.v) })),
          status: t.status,
        });
      if (s.v === 1) {
        // the whole history and the kinds in the state: the first save writes them as records
        for (const t of s.history) txFromJson(t.txid, t);
        this.kinds = new Map(s.kinds);
      } else {
        const decoder = new TextDecoder();
        for (const [key, value] of stored) {
          const txid = key.slice(key.lastIndexOf('/') + 1);
          if (key.startsWith(TX_PREFIX)) {
            const t = JSON.parse(decoder.decode(value));
            txFromJson(txid, t);
            this.savedRecords.set(key, statusMark(t.status));
          } else if (key.startsWith(KIND_PREFIX)) {
            const kind = decoder.decode(value) as WalletTxKind;
            this.kinds.set(txid, kind);
            this.savedRecords.set(key, kind);
          }
        }
      }
      for (const l of s.local) {
        const raw = hex.decode(l.raw);
        const io = parseTxIo(raw);
        const txid = txidOf(raw);
        this.local.set(txid, {
          txid,
          raw,
          kind: l.kind,
          createdAtMs: l.at,
          inputs: io.inputs,
          outputs: io.outputs.map((o) => ({ scriptHex: hex.encode(o.script), valueSat: o.valueSat })),
          status: { confirmed: false },
        });
      }
      this.scan = s.scan ?? undefined;
      // states saved before this field: their next sync scans fully once
      this.scannedFully = s.full === true;
    } catch (e) {
      throw new WalletError('CORRUPT_STATE', `stored on-chain wallet state unreadable: ${String(e)}`, {
        cause: e,
      });
    }
  }

  /** Resolves once every state write started so far is durable (or failed and was logged). */
  flushed(): Promise<void> {
    return this.saving;
  }

  /** Records of the derived scripts not yet stored (the last record rewritten as it fills). */
  private newScriptRecords(): { key: string; value: Uint8Array }[] {
    const writes: { key: string; value: Uint8Array }[] = [];
    for (const chain of [EXTERNAL, INTERNAL]) {
      const cache = this.scriptCache[chain]!;
      let count = this.storedScripts[chain]!;
      while (cache.has(count)) count++;
      if (count === this.storedScripts[chain]) continue;
      for (
        let n = Math.floor(this.storedScripts[chain]! / SCRIPTS_PER_RECORD);
        n * SCRIPTS_PER_RECORD < count;
        n++
      ) {
        const first = n * SCRIPTS_PER_RECORD;
        const hashes = Array.from({ length: Math.min(count - first, SCRIPTS_PER_RECORD) }, (_, i) =>
          cache.get(first + i)!.subarray(2),
        );
        writes.push({ key: `${SCRIPTS_PREFIX}${chain}/${n}`, value: this.scriptRecord(chain, hashes) });
      }
      this.storedScripts[chain] = count;
    }
    return writes;
  }

  private scriptRecord(chain: number, hashes: Uint8Array[]): Uint8Array {
    const body = new Uint8Array(4 + hashes.length * 20);
    new DataView(body.buffer).setUint32(0, this.chains[chain]!.fingerprint);
    for (const [i, h] of hashes.entries()) body.set(h, 4 + i * 20);
    const record = new Uint8Array(body.length + 4);
    record.set(body);
    record.set(sha256(body).subarray(0, 4), body.length);
    return record;
  }

  /** The stored scripts of each chain, from position 0 up to the first missing or unreadable record. */
  private restoreScripts(stored: Map<string, Uint8Array>): void {
    for (const chain of [EXTERNAL, INTERNAL]) {
      for (let n = 0; ; n++) {
        const record = stored.get(`${SCRIPTS_PREFIX}${chain}/${n}`);
        if (!record || record.length < 8 || (record.length - 8) % 20 !== 0) break;
        const body = record.subarray(0, record.length - 4);
        const sum = sha256(body).subarray(0, 4);
        if (!sum.every((b, i) => b === record[body.length + i])) break;
        if (new DataView(body.buffer, body.byteOffset).getUint32(0) !== this.chains[chain]!.fingerprint)
          break;
        const count = (body.length - 4) / 20;
        for (let i = 0; i < count; i++) {
          const script = new Uint8Array(22);
          script[1] = 0x14; // P2WPKH: OP_0 PUSH20 <key hash>
          script.set(body.subarray(4 + i * 20, 24 + i * 20), 2);
          this.scriptCache[chain]!.set(n * SCRIPTS_PER_RECORD + i, script);
        }
        this.storedScripts[chain] = n * SCRIPTS_PER_RECORD + count;
        if (count < SCRIPTS_PER_RECORD) break;
      }
    }
  }

  /**
   * Persist the state, with the records that changed, in one atomic write; writes are serialized in
   * call order.
   */
  private save(): Promise<void> {
    const store = this.opts.store;
    if (!store) return Promise.resolve();
    const records = this.recordChanges();
    const writes = [
      { key: STATE_KEY, value: this.serialize() },
      ...records.writes,
      ...this.newScriptRecords(),
    ];
    const run = this.saving.then(() => store.commit(writes)).then(records.saved);
    this.saving = run.catch(() => {});
    return run;
  }
}

/** A Map that reports each set, delete and clear: the wallet's coin set is derived from three of them. */
class WatchedMap<K, V> extends Map<K, V> {
  constructor(private readonly onChange: () => void) {
    super();
  }
  override set(key: K, value: V): this {
    this.onChange();
    return super.set(key, value);
  }
  override delete(key: K): boolean {
    this.onChange();
    return super.delete(key);
  }
  override clear(): void {
    this.onChange();
    super.clear();
  }
}

/** A history tx as stored (`restore` reads it back). */
function txRecord(tx: WalletTx) {
  return {
    inputs: tx.inputs.map((i) => ({ txid: i.txid, vout: i.vout })),
    outputs: tx.outputs.map((o) => ({ s: o.scriptHex, v: o.valueSat.toString() })),
    status: tx.status,
  };
}

/** What a tx record is written from besides its txid: its block, or none. */
const statusMark = (status: TxStatus) => (status.confirmed ? status.blockHash : '');

function fromEsploraTx(t: EsploraTx): WalletTx {
  return {
    txid: t.txid,
    inputs: t.inputs.map((i) => ({ txid: i.txid, vout: i.vout })),
    outputs: t.outputs.map((o) => ({ scriptHex: o.scriptHex, valueSat: o.valueSat })),
    status: t.status,
  };
}

/** Weight of one output: 8-byte value, script length, script; × 4 (non-witness). */
function outputWeight(script: Uint8Array): number {
  const len = script.length;
  return 4 * (8 + (len < 0xfd ? 1 : 3) + len);
}

/**
 * Weight of a segwit tx spending `nInputs` P2WPKH coins: version, counts and locktime (4 × 10),
 * marker and flag (2), per input outpoint + empty scriptSig + sequence (4 × 41) and a witness of
 * at most 1 + 73 + 34 = 108 bytes (72-byte DER signature + sighash byte, 33-byte key).
 */
function txWeight(nInputs: number, outputsWeight: number): number {
  return 4 * 10 + 2 + nInputs * (4 * 41 + 108) + outputsWeight;
}

/** bitcoind's dust thresholds at the default 3 sat/vB dust relay fee. */
export function dustLimit(script: Uint8Array): bigint {
  if (script.length === 22 && script[0] === 0x00 && script[1] === 0x14) return 294n; // P2WPKH
  if (script.length === 34 && (script[0] === 0x00 || script[0] === 0x51) && script[1] === 0x20) return 330n; // P2WSH, P2TR
  return 546n;
}
