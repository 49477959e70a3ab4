// Restore = recovery mode. Channel state that did not come from the node's own live store (a backup,
// whose copy the LSP controls) can never be proven current, and LDK 0.1 panics for good ("We have
// fallen behind") when it reconnects with state older than the peer's. So a restored node closes
// every channel WITHOUT broadcasting, before any peer connects: its monitors keep watching the
// funding outputs, and when the peer reestablishes a channel we no longer have, LDK answers with a
// channel_reestablish that makes the peer force-close with its latest commitment, whose to_remote
// output pays our static payment key (ldk/signer-provider.ts), i.e. a plain coin of our on-chain
// wallet. This file closes the channels, remembers them, and tells how far their money has come.
import * as ldk from 'lightningdevkit';
import type { ChainSource } from './chain/source.ts';
import { NodeError } from './errors.ts';
import { bool, channelIdHex, isNullPointer, outpointKey, toHex } from './ldk/values.ts';
import type { WalletTx } from './wallet/onchain.ts';

/** Store key of the channels closed for recovery (JSON). */
export const RECOVERY_KEY = 'recovery/channels';

export interface RecoveryRecord {
  channelId: string;
  peerId: string;
  fundingTxo: string;
  /** When we closed it (ms since the epoch): since then we wait for the peer's closing transaction. */
  closedAtMs: number;
  /** Our balance in the restored state. The peer's latest state may differ: only its close tells. */
  backupBalanceMsat: bigint;
}

/**
 * - `awaiting-peer-close`: nothing spent the funding output yet; the peer publishes its latest
 *   commitment when we reconnect (usually within a minute).
 * - `close-unconfirmed`: the closing transaction is in the mempool.
 * - `close-confirmed`: mined; `recoveredMsat` is in the on-chain wallet (1 confirmation counts).
 */
export type RecoveryStage = 'awaiting-peer-close' | 'close-unconfirmed' | 'close-confirmed';

export interface RecoveryChannel {
  /** Undefined for a close found by a words-only restore (no channel state at all). */
  channelId: string | undefined;
  peerId: string | undefined;
  fundingTxo: string;
  /** When we closed the channel for recovery; undefined for a words-only find. */
  closedAtMs: number | undefined;
  stage: RecoveryStage;
  closingTxid: string | undefined;
  /** Of the closing transaction; 0 until it is mined. */
  confirmations: number;
  /** What the closing transaction pays our on-chain wallet (0 until it is seen). */
  recoveredMsat: bigint;
  /** Our balance in the restored backup (undefined for a words-only find); the truth is `recoveredMsat`. */
  backupBalanceMsat: bigint | undefined;
}

/**
 * Close every channel without broadcasting anything (call after restore, before any peer connects).
 * Returns the records to persist with the close.
 */
export function closeChannelsForRecovery(cm: ldk.ChannelManager, nowMs: number): RecoveryRecord[] {
  const records: RecoveryRecord[] = [];
  for (const channel of cm.list_channels()) {
    const txo = channel.get_funding_txo();
    const peer = channel.get_counterparty().get_node_id();
    const result = cm.force_close_without_broadcasting_txn(
      channel.get_channel_id(),
      peer,
      'restored from a backup: the peer closes with its latest state',
    );
    if (!bool(result.is_ok()))
      throw new NodeError(
        'CHANNEL_CLOSING_FAILED',
        `recovery close of ${channelIdHex(channel.get_channel_id())}`,
      );
    // a channel never funded holds no money and has no output to watch
    if (isNullPointer(txo)) continue;
    records.push({
      channelId: channelIdHex(channel.get_channel_id()),
      peerId: toHex(peer),
      fundingTxo: outpointKey(txo),
      closedAtMs: nowMs,
      backupBalanceMsat: channel.get_outbound_capacity_msat() + reserveMsat(channel),
    });
  }
  return records;
}

function reserveMsat(channel: ldk.ChannelDetails): bigint {
  const reserve = channel.get_unspendable_punishment_reserve();
  return reserve instanceof ldk.Option_u64Z_Some && channel.get_outbound_capacity_msat() > 0n
    ? reserve.some * 1000n
    : 0n;
}

export function encodeRecords(records: RecoveryRecord[]): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify(records.map((r) => ({ ...r, backupBalanceMsat: r.backupBalanceMsat.toString() }))),
  );
}

export function decodeRecords(bytes: Uint8Array | undefined): RecoveryRecord[] {
  if (!bytes) return [];
  try {
    const list = JSON.parse(new TextDecoder().decode(bytes)) as Array<Record<string, unknown>>;
    return list.map((r) => ({
      channelId: String(r.channelId),
      peerId: String(r.peerId),
      fundingTxo: String(r.fundingTxo),
      closedAtMs: Number(r.closedAtMs),
      backupBalanceMsat: BigInt(String(r.backupBalanceMsat)),
    }));
  } catch (error) {
    throw new NodeError('RESTORE_FAILED', 'stored recovery records unreadable', { cause: error });
  }
}

export interface RecoveryWallet {
  transactions(): WalletTx[];
  staticPaymentKey(): { script: Uint8Array };
}

/** Where each recovery stands, recomputed after every chain sync. */
export class RecoveryTracker {
  private current: RecoveryChannel[] = [];
  private readonly staticScriptHex: string;

  constructor(
    private readonly records: RecoveryRecord[],
    private readonly wallet: RecoveryWallet,
    private readonly source: Pick<ChainSource, 'outspend'>,
    /** Funding outpoints of the channels our monitors know (a peer closing one is no words-only find). */
    private readonly monitoredFunding: () => Set<string>,
  ) {
    this.staticScriptHex = toHex(wallet.staticPaymentKey().script);
  }

  status(): RecoveryChannel[] {
    return this.current.map((c) => ({ ...c }));
  }

  /**
   * Funding outpoints (`txid:vout`) of channels whose closing transaction is known: what it pays
   * us is the wallet's to count, not LDK's. `awaiting`: recovery channels not closed yet, whose
   * restored balances nobody can vouch for.
   */
  settlement(): { closedByPeer: Set<string>; awaiting: Set<string> } {
    const closedByPeer = new Set<string>();
    const awaiting = new Set<string>();
    for (const c of this.current) (c.closingTxid ? closedByPeer : awaiting).add(c.fundingTxo);
    // any counterparty commitment paying our static key, recovery or not (a regular peer close)
    for (const tx of this.wallet.transactions())
      if (this.paysStaticKey(tx)) for (const i of tx.inputs) closedByPeer.add(`${i.txid}:${i.vout}`);
    return { closedByPeer, awaiting };
  }

  /** Recompute from the wallet's view and the chain; true when anything changed. */
  async refresh(tipHeight: number): Promise<boolean> {
    const walletTxs = this.wallet.transactions();
    const spenderOf = new Map<string, WalletTx>();
    for (const tx of walletTxs) for (const i of tx.inputs) spenderOf.set(`${i.txid}:${i.vout}`, tx);
    const next: RecoveryChannel[] = [];
    for (const record of this.records) {
      let closing: { txid: string; height: number | undefined; recoveredMsat: bigint } | undefined;
      const walletTx = spenderOf.get(record.fundingTxo);
      if (walletTx) closing = this.closingOf(walletTx);
      else {
        // nothing paid to us (our balance was nil or dust): ask the chain who spent the funding
        const [txid, vout] = record.fundingTxo.split(':');
        const spend = await this.source.outspend(txid!, Number(vout));
        if (spend.spent)
          closing = {
            txid: spend.txid,
            height: spend.status.confirmed ? spend.status.height : undefined,
            recoveredMsat: 0n,
          };
      }
      next.push(this.entry(record, closing, tipHeight));
    }
    // a words-only restore knows no channel: the peer's commitment paying our static key is the news
    const monitored = this.monitoredFunding();
    for (const tx of walletTxs) {
      if (!this.paysStaticKey(tx) || tx.inputs.length !== 1) continue;
      const fundingTxo = `${tx.inputs[0]!.txid}:${tx.inputs[0]!.vout}`;
      if (monitored.has(fundingTxo) || this.records.some((r) => r.fundingTxo === fundingTxo)) continue;
      next.push(this.entry(undefined, this.closingOf(tx), tipHeight, fundingTxo));
    }
    const changed = JSON.stringify(next, bigints) !== JSON.stringify(this.current, bigints);
    this.current = next;
    return changed;
  }

  private paysStaticKey(tx: WalletTx): boolean {
    return tx.outputs.some((o) => o.scriptHex === this.staticScriptHex);
  }

  private closingOf(tx: WalletTx) {
    let recoveredSat = 0n;
    for (const o of tx.outputs) if (o.scriptHex === this.staticScriptHex) recoveredSat += o.valueSat;
    return {
      txid: tx.txid,
      height: tx.status.confirmed ? tx.status.height : undefined,
      recoveredMsat: recoveredSat * 1000n,
    };
  }

  private entry(
    record: RecoveryRecord | undefined,
    closing: { txid: string; height: number | undefined; recoveredMsat: bigint } | undefined,
    tipHeight: number,
    fundingTxo = record?.fundingTxo ?? '',
  ): RecoveryChannel {
    const confirmations = closing?.height === undefined ? 0 : Math.max(0, tipHeight - closing.height + 1);
    return {
      channelId: record?.channelId,
      peerId: record?.peerId,
      fundingTxo,
      closedAtMs: record?.closedAtMs,
      stage: !closing ? 'awaiting-peer-close' : confirmations > 0 ? 'close-confirmed' : 'close-unconfirmed',
      closingTxid: closing?.txid,
      confirmations,
      recoveredMsat: closing?.recoveredMsat ?? 0n,
      backupBalanceMsat: record?.backupBalanceMsat,
    };
  }
}

const bigints = (_key: string, value: unknown) => (typeof value === 'bigint' ? value.toString() : value);
