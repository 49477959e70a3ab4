// The wallet's snapshot: what the screens show, recomputed from the node at most once per task,
// published to the page and saved on the device (an offline start shows it at once).
import type { UploaderStatus } from '@lpw/backup';
import { defaultScheduler, type LightningNode, type PaymentRecord } from '@lpw/node';
import { set as idbSet } from 'idb-keyval';
import type { ChannelView, PaymentView, StreamView, WalletSnapshot } from './protocol.ts';

const nextTask = defaultScheduler().defer;

export const snapshotKey = (walletId: string) => `lpw-snapshot-${walletId}`;

/** Math.max does not take bigints. */
export const maxMsat = (a: bigint, b: bigint): bigint => (a > b ? a : b);

export function emptySnapshot(lspUrl: string): WalletSnapshot {
  return {
    status: 'idle',
    statusReason: undefined,
    nodeId: undefined,
    network: undefined,
    balanceMsat: 0n,
    totalMsat: 0n,
    spendableMsat: 0n,
    receivableMsat: 0n,
    channels: [],
    payments: [],
    streams: [],
    lsp: {
      url: lspUrl,
      nodeId: undefined,
      network: undefined,
      reachable: false,
      problem: undefined,
      lastSeenMs: undefined,
    },
    onchain: { confirmedMsat: 0n, unconfirmedMsat: 0n, closingMsat: 0n },
    closing: [],
    sweeps: [],
    recovery: [],
    chainWatch: undefined,
    chainSource: undefined,
    fees: undefined,
    backup: {
      version: undefined,
      savedAt: undefined,
      problem: undefined,
      behindBy: 0,
      behindSince: undefined,
      warning: undefined,
    },
    updatedAt: Date.now(),
  };
}

function paymentView(p: PaymentRecord): PaymentView {
  return {
    id: p.id,
    paymentHash: p.paymentHash,
    direction: p.direction,
    status: p.status,
    amountMsat: p.amountMsat,
    feeMsat: p.direction === 'outbound' ? p.feeMsat : p.skimmedFeeMsat,
    description: p.description,
    preimage: p.preimage,
    failureReason: p.failureReason,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

/** History shows money that moved or tried to: inbound invoices nobody paid are not history. */
export function historyOf(records: PaymentRecord[]): PaymentView[] {
  return records
    .filter((p) => !(p.direction === 'inbound' && p.status !== 'succeeded'))
    .map(paymentView)
    .sort((a, b) => b.createdAt - a.createdAt);
}

/** What the snapshot reads besides the node, each from the part that owns it. */
export interface SnapshotSources {
  node(): LightningNode | undefined;
  peerConnected(): boolean;
  backupStatus(): UploaderStatus | undefined;
  streams(): StreamView[];
  /** The open wallet's id (where the snapshot is saved), if one is open. */
  walletId(): string | undefined;
  /** Runs after each refresh (the exit watch reads the new state). */
  refreshed(): void;
}

export class Snapshot {
  /** The snapshot as the parts last wrote it; published by `changed()`. */
  snap: WalletSnapshot = emptySnapshot('');
  private emitQueued = false;

  constructor(
    private readonly sources: SnapshotSources,
    private readonly publish: (snapshot: WalletSnapshot) => void,
    private readonly log: (level: string, message: string) => void,
  ) {}

  /** What an earlier run saved on this device, shown until the node says otherwise. */
  applyCached(cached: WalletSnapshot, lspUrl: string): void {
    Object.assign(this.snap, {
      balanceMsat: cached.balanceMsat,
      totalMsat: cached.totalMsat ?? cached.balanceMsat,
      spendableMsat: 0n,
      receivableMsat: 0n,
      channels: cached.channels.map((c) => ({ ...c, isUsable: false, balanceMsat: c.balanceMsat ?? 0n })),
      network: cached.network,
      backup: { ...this.snap.backup, ...cached.backup },
      onchain: { ...this.snap.onchain, ...cached.onchain },
      closing: cached.closing ?? [],
      sweeps: cached.sweeps ?? [],
      recovery: cached.recovery ?? [],
      chainWatch: cached.chainWatch,
      chainSource: cached.chainSource,
      lightningAddress: cached.lightningAddress,
    });
    this.snap.lsp = { ...cached.lsp, url: lspUrl, reachable: false, problem: undefined };
  }

  setStatus(status: WalletSnapshot['status'], reason: string | undefined): void {
    this.snap.status = status;
    this.snap.statusReason = reason;
    this.changed();
  }

  /**
   * Recompute from the node and publish, at most once per task. A task, not a microtask: the
   * recompute (channels, balances, the whole history) and the post take milliseconds, and a payment
   * calls this as its send returns, when the node's pump step that lets the HTLC leave is already
   * queued: that step goes first.
   */
  changed(): void {
    if (this.emitQueued) return;
    this.emitQueued = true;
    nextTask(() => {
      this.emitQueued = false;
      this.refresh();
    });
  }

  backupView(status: UploaderStatus): WalletSnapshot['backup'] {
    const was = this.snap.backup;
    return {
      ...was,
      version: status.lastGoodAt ? status.version : was.version,
      savedAt: status.lastGoodAt ?? was.savedAt,
      problem: status.problem?.message,
      behindBy: status.behindBy,
      behindSince: status.behindBy === 0 ? undefined : (was.behindSince ?? Date.now()),
    };
  }

  private refresh(): void {
    const node = this.sources.node();
    const peerConnected = this.sources.peerConnected();
    if (node) {
      try {
        const channels: ChannelView[] = node.listChannels().map((c) => ({
          channelId: c.channelId,
          capacityMsat: c.capacityMsat,
          outboundMsat: c.outboundMsat,
          inboundMsat: c.inboundMsat,
          isUsable: c.isUsable,
          toSelfDelay: c.toSelfDelay,
          balanceMsat: c.outboundMsat === 0n ? 0n : c.outboundMsat + (c.ourReserveMsat ?? 0n),
        }));
        const balances = node.balances();
        this.snap.channels = channels;
        // one definition of every balance: the node's buckets (packages/node balances.ts)
        this.snap.balanceMsat =
          balances.lightningOutboundMsat + balances.lightningReserveMsat + balances.inFlightMsat;
        this.snap.totalMsat = balances.totalMsat;
        this.snap.spendableMsat = peerConnected ? balances.spendableNowMsat : 0n;
        this.snap.receivableMsat = peerConnected
          ? channels.filter((c) => c.isUsable).reduce((m, c) => maxMsat(m, c.inboundMsat), 0n)
          : 0n;
        this.snap.payments = historyOf(node.listPayments());
        const { notice, smallPaymentMinMsat, closeCostMsat } = node.feeWeather();
        this.snap.fees = { notice, smallPaymentMinMsat, closeCostMsat };
        this.snap.onchain = {
          confirmedMsat: balances.onchainConfirmedMsat,
          unconfirmedMsat: balances.onchainUnconfirmedMsat,
          closingMsat: balances.closingMsat,
        };
        this.snap.closing = node.onchainPayment.closingChannels().map((c) => ({
          channelId: c.channelId,
          claimableMsat: c.claimableMsat,
          blocksLeft: c.blocksLeft,
          hoursLeft: c.hoursLeft,
        }));
        this.snap.sweeps = node.onchainPayment
          .pendingSweeps()
          .map((w) => ({ outpoint: w.outpoint, amountMsat: w.amountMsat, status: w.status }));
        this.snap.recovery = node.recoveryStatus();
        const { lastSyncAtMs, warnAtMs, failure } = node.chainWatch();
        this.snap.chainWatch = { lastSyncAtMs, warnAtMs, failure };
      } catch (error) {
        this.log('error', `refresh failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const backup = this.sources.backupStatus();
    if (backup) this.snap.backup = this.backupView(backup);
    this.snap.streams = this.sources.streams();
    this.snap.updatedAt = Date.now();
    const copy = structuredClone(this.snap);
    this.publish(copy);
    const walletId = this.sources.walletId();
    if (walletId && (node || this.snap.status === 'running')) {
      void idbSet(snapshotKey(walletId), copy).catch(() => {});
    }
    this.sources.refreshed();
  }
}
