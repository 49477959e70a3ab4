// LDK's BroadcasterInterface: hands transactions to the chain source without ever blocking or
// throwing inside LDK, remembers them, and sends them again on every sync until they are buried
// (a reorg can drop a confirmed tx back out of the chain; a restarted source forgets its mempool).
import * as ldk from 'lightningdevkit';
import { parseTxIo, type TxIo, txidOf } from './bytes.ts';
import { isChainError } from './errors.ts';
import { type ChainLog, type ChainSource, silentLog } from './source.ts';
import type { Spend } from './sync.ts';

/** A tx this deep is forgotten: a deeper reorg is out of scope for every Lightning node. */
const BURIED_DEPTH = 6;
/** A tx the network keeps refusing for this many blocks is given up (it was replaced or conflicted). */
const GIVE_UP_AFTER_BLOCKS = 1008;

/**
 * LDK hands an unconfirmed outbound channel's funding tx over again on every completed monitor
 * update (channel.rs `monitor_updating_restored`): an LSP with fresh 0-conf JIT channels would post
 * it to the chain source for every payment. A tx the source accepted this recently is not sent again
 * from there; `rebroadcast()` (every sync) still resends whatever the source no longer has.
 */
const RESEND_AFTER_MS = 60_000;

/** bitcoind's words (also relayed by Esplora) for "already have it", which is success for us. */
const ALREADY_IN_MEMPOOL = /txn-already-in-mempool|txn-already-known|already in mempool/i;
const ALREADY_IN_CHAIN = /already in (the )?block ?chain|outputs already in utxo set|already-in-chain/i;

interface Remembered {
  raw: Uint8Array;
  /** Tip height when a broadcast answered "already in the chain" (a source that cannot look it up). */
  inChainSince: number | undefined;
  /** Tip height when the network first refused it, cleared when it is accepted again. */
  rejectedSince: number | undefined;
  lastReason: string | undefined;
  /** When the source last accepted it (or said it already had it in its mempool). */
  acceptedAtMs: number | undefined;
  /** Its inputs and outputs, parsed when first asked for (null: not a transaction). */
  io?: TxIo | null;
}

export interface BroadcasterOptions {
  source: ChainSource;
  log?: ChainLog;
  now?: () => number;
}

export interface RebroadcastReport {
  sent: string[];
  forgotten: string[];
}

/**
 * @example
 * const broadcaster = new ChainBroadcaster({ source, log });
 * ChainMonitor.constructor_new(filter, broadcaster.ldk, logger, fees.ldk, persist);
 * // on each sync: await broadcaster.rebroadcast();
 */
export class ChainBroadcaster {
  /** Pass this to ChainMonitor, ChannelManager and OutputSweeper. Held here for the node's life. */
  readonly ldk: ldk.BroadcasterInterface;
  private readonly txs = new Map<string, Remembered>();
  private readonly log: ChainLog;
  private lastTipHeight = 0;
  private readonly vetoes: Array<(inputs: { txid: string; vout: number }[]) => string | undefined> = [];

  constructor(private readonly opts: BroadcasterOptions) {
    this.log = opts.log ?? silentLog;
    this.ldk = ldk.BroadcasterInterface.new_impl({
      // inside LDK: remember synchronously, send in the background, never throw
      broadcast_transactions: (txs: Uint8Array[]): void => {
        try {
          const raws = txs.map((t) => Uint8Array.from(t)).filter((raw) => !this.vetoed(raw));
          if (raws.length === 0) return;
          if (raws.every((raw) => this.recentlyAccepted(txidOf(raw)))) return;
          void this.sendPackage(raws);
        } catch (e) {
          this.log('error', 'broadcast_transactions failed', { error: String(e) });
        }
      },
    });
  }

  /**
   * Never send a transaction `veto` objects to (it names why, from the tx's inputs): the node vetoes
   * commitments of channels restored from a backup, which may be revoked states (recovery.ts).
   */
  addVeto(veto: (inputs: { txid: string; vout: number }[]) => string | undefined): void {
    this.vetoes.push(veto);
  }

  private vetoed(raw: Uint8Array): boolean {
    if (this.vetoes.length === 0) return false;
    let inputs: { txid: string; vout: number }[];
    try {
      inputs = parseTxIo(raw).inputs;
    } catch {
      return false; // not a transaction: the source refuses it, and says why
    }
    for (const veto of this.vetoes) {
      const reason = veto(inputs);
      if (reason === undefined) continue;
      this.log('error', 'refused to broadcast', { txid: txidOf(raw), reason });
      return true;
    }
    return false;
  }

  private recentlyAccepted(txid: string): boolean {
    const at = this.txs.get(txid)?.acceptedAtMs;
    return at !== undefined && (this.opts.now ?? Date.now)() - at < RESEND_AFTER_MS;
  }

  /** Send in order (a package's parents first); each outcome is logged, nothing thrown. */
  private async sendPackage(raws: Uint8Array[]): Promise<void> {
    for (const raw of raws) {
      try {
        await this.broadcast(raw);
      } catch (e) {
        // already logged with the reject string by send(); kept for rebroadcast
        if (!isChainError(e)) this.log('error', 'broadcast failed', { error: String(e) });
      }
    }
  }

  /**
   * Remember and send one transaction; resolves with its txid once the source accepted it (or
   * already had it). Throws `REJECTED` with the reject string, `UNREACHABLE` when the source is
   * down; either way the tx stays remembered and is sent again by `rebroadcast()`.
   */
  async broadcast(raw: Uint8Array): Promise<string> {
    const txid = txidOf(raw);
    if (!this.txs.has(txid))
      this.txs.set(txid, {
        raw,
        inChainSince: undefined,
        rejectedSince: undefined,
        lastReason: undefined,
        acceptedAtMs: undefined,
      });
    await this.send(txid);
    return txid;
  }

  /** Stop rebroadcasting a tx (the wallet replaced it by a fee bump). */
  forget(txid: string): void {
    this.txs.delete(txid);
  }

  /**
   * The transaction of ours spending `outpoint` (`txid:vout`) that was handed over last (a
   * replacement comes after what it replaces), while it is remembered: known from the moment LDK
   * broadcasts it, before any chain source reports it (balances.ts).
   */
  spenderOf(outpoint: string): Spend | undefined {
    let found: Spend | undefined;
    for (const [txid, entry] of this.txs) {
      if (entry.io === undefined) entry.io = parsedOrNull(entry.raw);
      const io = entry.io;
      if (io?.inputs.some((i) => `${i.txid}:${i.vout}` === outpoint)) found = { txid, outputs: io.outputs };
    }
    return found;
  }

  /** The transactions still being watched, raw. */
  pendingTxs(): { txid: string; raw: Uint8Array }[] {
    return [...this.txs].map(([txid, entry]) => ({ txid, raw: entry.raw }));
  }

  /** Txids still being watched. */
  pending(): string[] {
    return [...this.txs.keys()];
  }

  private async send(txid: string): Promise<void> {
    const entry = this.txs.get(txid);
    if (!entry) return;
    try {
      await this.opts.source.broadcast(entry.raw);
      entry.inChainSince = undefined; // accepted into the mempool: it is not in the chain
      entry.rejectedSince = undefined;
      entry.lastReason = undefined;
      entry.acceptedAtMs = (this.opts.now ?? Date.now)();
      this.log('info', 'broadcast accepted', { txid });
    } catch (e) {
      if (!isChainError(e, 'REJECTED')) {
        entry.acceptedAtMs = undefined;
        this.log('warn', 'broadcast could not reach the chain source; will retry', {
          txid,
          error: String(e),
        });
        throw e;
      }
      const reason = e.rejectReason ?? e.message;
      entry.acceptedAtMs = undefined;
      if (ALREADY_IN_MEMPOOL.test(reason)) {
        entry.acceptedAtMs = (this.opts.now ?? Date.now)();
        return;
      }
      if (ALREADY_IN_CHAIN.test(reason)) {
        entry.inChainSince ??= this.lastTipHeight;
        return;
      }
      entry.rejectedSince ??= this.lastTipHeight;
      if (entry.lastReason !== reason) this.log('warn', 'broadcast rejected', { txid, reason });
      entry.lastReason = reason;
      throw e;
    }
  }

  /**
   * Call on every sync: forgets buried txs, sends again those that are neither confirmed nor in
   * the source's mempool (dropped by a reorg, evicted, or never delivered). Never throws.
   */
  async rebroadcast(tipHeight?: number): Promise<RebroadcastReport> {
    const report: RebroadcastReport = { sent: [], forgotten: [] };
    try {
      this.lastTipHeight = tipHeight ?? (await this.opts.source.tip()).height;
    } catch (e) {
      this.log('warn', 'rebroadcast skipped: chain source unreachable', { error: String(e) });
      return report;
    }
    const tip = this.lastTipHeight;
    for (const [txid, entry] of [...this.txs]) {
      try {
        const status = await this.opts.source.txStatus(txid);
        if (status?.confirmed) {
          if (tip - status.height + 1 >= BURIED_DEPTH) {
            this.txs.delete(txid);
            report.forgotten.push(txid);
          }
          continue;
        }
        if (status !== null) continue; // in the mempool
        // unknown to the source: dropped (reorg, eviction) or in a block it cannot look up; send again
        if (entry.inChainSince !== undefined && tip - entry.inChainSince + 1 >= BURIED_DEPTH) {
          this.txs.delete(txid);
          report.forgotten.push(txid);
          continue;
        }
        await this.send(txid).then(
          () => report.sent.push(txid),
          () => {},
        );
        if (entry.rejectedSince !== undefined && tip - entry.rejectedSince >= GIVE_UP_AFTER_BLOCKS) {
          this.log('warn', 'giving up a tx the network refuses', { txid, reason: entry.lastReason });
          this.txs.delete(txid);
          report.forgotten.push(txid);
        }
      } catch (e) {
        this.log('warn', 'rebroadcast check failed', { txid, error: String(e) });
      }
    }
    return report;
  }
}

function parsedOrNull(raw: Uint8Array): TxIo | null {
  try {
    return parseTxIo(raw);
  } catch {
    return null; // not a transaction: the source refuses it, and says why
  }
}
