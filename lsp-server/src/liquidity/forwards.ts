// The forwards log and its metrics: every HTLC the node forwarded (fees earned, JIT skims) or failed
// to forward, in the store and in /metrics.
import type { EventOf, LightningNode } from '@lpw/node';
import type { Deps } from '../deps.ts';

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
  private tail: Promise<unknown> = Promise.resolve();

  constructor(options: { deps: ForwardLog['deps']; node: ForwardNode }) {
    this.deps = options.deps;
    this.node = options.node;
  }

  start(): void {
    this.offs.push(
      this.node.on('payment-forwarded', (e) => this.queue(() => this.forwarded(e))),
      this.node.on('htlc-handling-failed', (e) => this.queue(() => this.failed(e))),
    );
  }

  stop(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    return this.tail.then(() => {});
  }

  /** The JIT engine says: HTLCs over `channelId` waited since `startedAtMs`. */
  expectJit(channelId: string, startedAtMs: number): void {
    if (!this.jitStarted.has(channelId)) this.jitStarted.set(channelId, startedAtMs);
  }

  idle(): Promise<void> {
    return this.tail.then(() => {});
  }

  private queue(work: () => Promise<void>): void {
    this.tail = this.tail
      .then(work)
      .catch((err: unknown) => this.deps.log.error({ err }, 'forward log failed'));
  }

  /** The wallet a forward served: the peer of the private channel on either side. */
  private walletOf(...channelIds: string[]): string | null {
    const channels = this.node.listChannels();
    for (const id of channelIds) {
      const c = channels.find((x) => x.channelId === id);
      if (c && !c.isAnnounced) return c.peerId;
    }
    return null;
  }

  private async forwarded(e: EventOf<'payment-forwarded'>): Promise<void> {
    const { store, metrics, clock } = this.deps;
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
    await store.insertForward({
      nodeId: this.walletOf(e.nextChannelId, e.prevChannelId),
      inboundChannel: e.prevChannelId,
      outboundChannel: e.nextChannelId,
      inboundMsat: outboundMsat + feeMsat,
      outboundMsat,
      feeMsat,
      outcome: 'forwarded',
      latencyMs,
      createdAtMs: now,
    });
  }

  private async failed(e: EventOf<'htlc-handling-failed'>): Promise<void> {
    const { store, metrics, clock } = this.deps;
    metrics.paymentsFailed.inc(1, { reason: e.destination });
    await store.insertForward({
      nodeId: this.walletOf(e.prevChannelId),
      inboundChannel: e.prevChannelId,
      outboundChannel: null,
      inboundMsat: 0n,
      outboundMsat: 0n,
      feeMsat: 0n,
      outcome: 'failed',
      latencyMs: null,
      createdAtMs: clock(),
    });
  }
}
