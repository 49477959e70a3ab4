// The forwards log and its metrics: every HTLC the node forwarded (fees earned, JIT skims) or failed
// to forward, in the store and in /metrics.
import type { EventOf, LightningNode } from '@lpw/node';
import type { Deps } from '../deps.ts';
import type { ForwardRecord } from '../store/types.ts';

export type ForwardNode = Pick<LightningNode, 'on' | 'listChannels'>;

/**
 * @example
 * const forwards = new ForwardLog({ deps, node }); forwards.start();
 */
export class ForwardLog {
  private readonly deps: Pick<Deps, 'store' | 'clock' | 'metrics' | 'log'>;
  private readonly node: ForwardNode;
  /** JIT channel id → when its first HTLC was intercepted (latency includes the channel open). */
  private readonly jitStarted = new Map<string, number>();
  private readonly offs: Array<() => void> = [];
  /**
   * Private channels' wallet peers by channel id: all channels listed once, at the first need, then
   * kept by channel events. Listing an LSP's thousands of channels costs seconds, so not per batch.
   */
  private walletChannels: Map<string, string> | undefined;
  /** Records not yet written, with the channels whose wallet peer they name. */
  private pending: Array<{ record: ForwardRecord; channelIds: string[] }> = [];
  private flushing: Promise<void> | undefined;

  constructor(options: { deps: ForwardLog['deps']; node: ForwardNode }) {
    this.deps = options.deps;
    this.node = options.node;
  }

  start(): void {
    this.offs.push(
      this.node.on('payment-forwarded', (e) => this.add(this.forwarded(e))),
      this.node.on('htlc-handling-failed', (e) => this.add(this.failed(e))),
      this.node.on('channel-pending', (e) => {
        if (!this.walletChannels) return;
        const channel = this.node.listChannels(e.peerId).find((c) => c.channelId === e.channelId);
        if (channel && !channel.isAnnounced) this.walletChannels.set(e.channelId, e.peerId);
      }),
      this.node.on('channel-closed', (e) => void this.walletChannels?.delete(e.channelId)),
    );
  }

  stop(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    return this.idle();
  }

  /** The JIT engine says: HTLCs over `channelId` waited since `startedAtMs`. */
  expectJit(channelId: string, startedAtMs: number): void {
    if (!this.jitStarted.has(channelId)) this.jitStarted.set(channelId, startedAtMs);
  }

  /** Resolves once every record so far is written (or its write failed and was logged). */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private add(entry: { record: ForwardRecord; channelIds: string[] }): void {
    this.pending.push(entry);
    this.flushing ??= this.flush();
  }

  /**
   * Writes what is pending in batches, one transaction each: a forward is a log line, not channel
   * state, and one fsync per forward (SQLite autocommit) cost the LSP as much as a node commit.
   * Records arriving while a batch is written form the next one.
   */
  private async flush(): Promise<void> {
    try {
      // the events of the current pump step join this batch
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0);
        const records = batch.map(({ record, channelIds }) => ({
          ...record,
          nodeId: this.walletOf(channelIds),
        }));
        try {
          await this.deps.store.insertForwards(records);
        } catch (err) {
          this.deps.log.error({ err, forwards: records.length }, 'forward log failed');
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** The wallet a forward served: the peer of the private channel on either side. */
  private walletOf(channelIds: string[]): string | null {
    this.walletChannels ??= new Map(
      this.node
        .listChannels()
        .filter((c) => !c.isAnnounced)
        .map((c) => [c.channelId, c.peerId]),
    );
    for (const id of channelIds) {
      const peerId = this.walletChannels.get(id);
      if (peerId !== undefined) return peerId;
    }
    return null;
  }

  private forwarded(e: EventOf<'payment-forwarded'>): { record: ForwardRecord; channelIds: string[] } {
    const { metrics, clock } = this.deps;
    const now = clock();
    const skimmed = e.skimmedFeeMsat ?? 0n;
    const earned = e.feeEarnedMsat ?? 0n;
    // LDK's total_fee_earned_msat already includes the skimmed fee
    const feeMsat = earned > skimmed ? earned : skimmed;
    const outboundMsat = e.outboundAmountMsat ?? 0n;
    const started = this.jitStarted.get(e.nextChannelId);
    const latencyMs = started === undefined ? null : Math.max(0, now - started);
    if (latencyMs !== null) metrics.forwardLatency.observe(latencyMs / 1000);
    metrics.paymentsForwarded.inc(1, { kind: skimmed > 0n ? 'jit' : 'routed' });
    metrics.feesEarnedMsat.inc(feeMsat, { kind: skimmed > 0n ? 'jit_opening' : 'routing' });
    return {
      channelIds: [e.nextChannelId, e.prevChannelId],
      record: {
        nodeId: null,
        inboundChannel: e.prevChannelId,
        outboundChannel: e.nextChannelId,
        inboundMsat: outboundMsat + feeMsat,
        outboundMsat,
        feeMsat,
        outcome: 'forwarded',
        latencyMs,
        createdAtMs: now,
      },
    };
  }

  private failed(e: EventOf<'htlc-handling-failed'>): { record: ForwardRecord; channelIds: string[] } {
    const { metrics, clock } = this.deps;
    metrics.paymentsFailed.inc(1, { reason: e.destination });
    return {
      channelIds: [e.prevChannelId],
      record: {
        nodeId: null,
        inboundChannel: e.prevChannelId,
        outboundChannel: null,
        inboundMsat: 0n,
        outboundMsat: 0n,
        feeMsat: 0n,
        outcome: 'failed',
        latencyMs: null,
        createdAtMs: clock(),
      },
    };
  }
}
