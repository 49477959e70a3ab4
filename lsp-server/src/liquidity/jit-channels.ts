// LSPS2 service side from the HTLC on: an HTLC to a bought intercept SCID is held (with the other
// parts of its payment) until the purchase's payment size is reached, then one zero-conf channel
// is opened to the wallet and every part forwarded minus its share of the opening fee. Everything
// is decided from the store and the node's channel list, so replayed LDK events (after a restart)
// land on the same decisions.
import { formatScid, openingFeeMsat } from '@lpw/api';
import { type EventOf, isNodeError, type LightningNode } from '@lpw/node';
import type { Deps } from '../deps.ts';
import type { InterceptRecord, JitChannelRecord, JitPurchaseRecord } from '../store/types.ts';

/** The node surface JIT needs (LightningNode has it). */
export type JitNode = Pick<
  LightningNode,
  | 'nodeId'
  | 'on'
  | 'openChannel'
  | 'forwardInterceptedHtlc'
  | 'failInterceptedHtlc'
  | 'listChannels'
  | 'isConnected'
  | 'balances'
>;

/** Why parts were failed back (logs and the failure metric's label). */
export type JitFailReason =
  | 'unknown_scid'
  | 'purchase_closed'
  | 'expired'
  | 'other_payment'
  | 'payment_size'
  | 'fee_exceeds_payment'
  | 'no_liquidity'
  | 'open_failed'
  | 'channel_closed'
  | 'hold_timeout';

/** How often held parts are looked at again (a channel usable again after a reconnection). */
const RETRY_EVERY_MS = 1_000;
/** Each part keeps at least this much: an HTLC of 0 msat cannot be forwarded. */
const MIN_PART_MSAT = 1n;
/** Capacity margin over the payment for the wallet's reserve (1 %) and the commitment fee. */
const CAPACITY_MARGIN_SAT = 5_000n;

export interface JitChannelsOptions {
  deps: Pick<Deps, 'store' | 'clock' | 'config' | 'metrics' | 'log'>;
  node: JitNode;
  /** Told before HTLCs go out over a JIT channel, with when the first of them arrived (latency). */
  onForwarding?: (channelId: string, startedAtMs: number) => void;
}

/**
 * @example
 * const jit = new JitChannels({ deps, node });
 * await jit.start(); // subscribes to the node's events and finishes what a restart interrupted
 */
export class JitChannels {
  private readonly deps: JitChannelsOptions['deps'];
  private readonly node: JitNode;
  private readonly onForwarding: JitChannelsOptions['onForwarding'];
  private tail: Promise<unknown> = Promise.resolve();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly offs: Array<() => void> = [];
  private stopped = false;
  private busy = false;
  private retry: ReturnType<typeof setInterval> | undefined;

  constructor(options: JitChannelsOptions) {
    this.deps = options.deps;
    this.node = options.node;
    this.onForwarding = options.onForwarding;
  }

  async start(): Promise<void> {
    const n = this.node;
    this.offs.push(
      n.on('htlc-intercepted', (e) => void this.serial('intercepted', () => this.onIntercepted(e))),
      n.on('channel-pending', (e) => void this.serial('channel-pending', () => this.onChannelPending(e))),
      n.on(
        'channel-ready',
        (e) => void this.serial('channel-ready', () => this.onChannelEvent(e.userChannelId)),
      ),
      n.on(
        'channel-closed',
        (e) => void this.serial('channel-closed', () => this.onChannelEvent(e.userChannelId)),
      ),
      n.on('peer-connected', (e) => void this.serial('peer-connected', () => this.onPeerConnected(e.peerId))),
    );
    // what a restart interrupted: held parts and opening channels (LDK also replays intercepts)
    await this.serial('recover', () => this.advanceAllHeld());
    // LDK has no event for a channel that becomes usable again after a reconnection: look again
    this.retry = setInterval(() => {
      if (!this.busy) void this.serial('retry', () => this.advanceAllHeld());
    }, RETRY_EVERY_MS);
    this.retry.unref?.();
  }

  private async advanceAllHeld(): Promise<void> {
    this.busy = true;
    try {
      const scids = new Set((await this.deps.store.listIntercepts({ state: 'held' })).map((i) => i.scid));
      for (const scid of scids) await this.advance(scid);
    } finally {
      this.busy = false;
    }
  }

  /** Stop reacting; held parts stay in the store and in LDK for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.retry);
    for (const off of this.offs.splice(0)) off();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.tail.catch(() => {});
  }

  /** Resolves when everything queued so far has been handled (tests). */
  idle(): Promise<void> {
    return this.tail.then(() => {});
  }

  // ---------------------------------------------------------------- events

  private async onIntercepted(e: EventOf<'htlc-intercepted'>): Promise<void> {
    const { store, clock, log } = this.deps;
    const purchase = await store.getJitPurchase(e.requestedScid);
    if (!purchase) {
      this.failPart(e.interceptId, 'unknown_scid', { scid: formatScid(e.requestedScid) });
      return;
    }
    const now = clock();
    const record = await store.recordIntercept({
      interceptId: e.interceptId,
      scid: e.requestedScid,
      paymentHash: e.paymentHash,
      inboundMsat: e.inboundAmountMsat,
      expectedOutboundMsat: e.expectedOutboundAmountMsat,
      state: 'held',
      forwardedMsat: null,
      createdAtMs: now,
      updatedAtMs: now,
    });
    if (record.state === 'failed') {
      // replayed after a restart: we had decided to fail it
      this.failPart(record.interceptId, 'purchase_closed', { replay: true });
      return;
    }
    if (record.state === 'forwarded') {
      // replayed: the forward did not reach LDK's persisted state before the restart
      const channel = await store.getJitChannel(record.scid);
      const live = channel && this.liveChannel(channel, purchase.nodeId);
      if (live?.isUsable && record.forwardedMsat !== null) {
        this.forwardPart(record, live.channelId, purchase.nodeId, record.forwardedMsat);
      } else {
        await this.markHeld(record);
        await this.advance(record.scid);
      }
      return;
    }
    log.info(
      {
        scid: formatScid(e.requestedScid),
        paymentHash: e.paymentHash,
        expectedOutboundMsat: e.expectedOutboundAmountMsat.toString(),
      },
      'jit: htlc intercepted',
    );
    await this.advance(purchase.scid);
  }

  private async onChannelPending(e: EventOf<'channel-pending'>): Promise<void> {
    const channel = await this.deps.store.getJitChannelByUserChannelId(e.userChannelId);
    if (!channel || channel.channelId === e.channelId) return;
    await this.deps.store.putJitChannel({
      ...channel,
      channelId: e.channelId,
      updatedAtMs: this.deps.clock(),
    });
  }

  private async onChannelEvent(userChannelId: bigint): Promise<void> {
    const channel = await this.deps.store.getJitChannelByUserChannelId(userChannelId);
    if (channel) await this.advance(channel.scid);
  }

  private async onPeerConnected(peerId: string): Promise<void> {
    // payments waiting for their wallet to connect
    const held = await this.deps.store.listIntercepts({ state: 'held' });
    for (const scid of new Set(held.map((i) => i.scid))) {
      const purchase = await this.deps.store.getJitPurchase(scid);
      if (purchase?.nodeId === peerId) await this.advance(scid);
    }
  }

  // ---------------------------------------------------------------- the state machine

  /** Moves one purchase as far as the store and the node allow. Idempotent. */
  private async advance(scid: bigint): Promise<void> {
    if (this.stopped) return;
    const { store } = this.deps;
    const purchase = await store.getJitPurchase(scid);
    const held = await store.listIntercepts({ scid, state: 'held' });
    if (!purchase || held.length === 0) return this.clearTimer(scid);
    const channel = await store.getJitChannel(scid);
    if (channel) return this.advanceOpening(purchase, channel, held);
    return this.advancePending(purchase, held);
  }

  /** No channel yet: wait for the whole payment, check it, open. */
  private async advancePending(purchase: JitPurchaseRecord, held: InterceptRecord[]): Promise<void> {
    const { store, clock, log } = this.deps;
    const now = clock();
    if (purchase.state !== 'PENDING') return this.failParts(purchase, held, 'purchase_closed');
    if (Date.parse(purchase.params.valid_until) <= now) {
      await store.setJitPurchaseState(purchase.scid, 'EXPIRED', now);
      return this.failParts(purchase, held, 'expired');
    }
    // one payment per purchase: the first payment hash seen is the one; others fail at once
    const paymentHash = held[0]!.paymentHash;
    const others = held.filter((i) => i.paymentHash !== paymentHash);
    if (others.length) await this.failParts(purchase, others, 'other_payment');
    const parts = held.filter((i) => i.paymentHash === paymentHash);
    const totalMsat = parts.reduce((a, i) => a + i.expectedOutboundMsat, 0n);

    let feeMsat: bigint;
    let paymentMsat: bigint;
    if (purchase.paymentSizeMsat !== null && purchase.openingFeeMsat !== null) {
      // MPP + fixed invoice: hold until the parts add up to the bought size
      if (totalMsat < purchase.paymentSizeMsat) return this.armHoldTimer(purchase, parts);
      paymentMsat = totalMsat;
      feeMsat = purchase.openingFeeMsat;
    } else {
      // no-MPP + variable invoice: the one part is the payment; size it against the menu now
      paymentMsat = totalMsat;
      const p = purchase.params;
      if (paymentMsat < p.min_payment_size_msat || paymentMsat > p.max_payment_size_msat) {
        return this.failParts(purchase, parts, 'payment_size', { paymentMsat: paymentMsat.toString() });
      }
      try {
        feeMsat = openingFeeMsat(paymentMsat, p);
      } catch {
        return this.failParts(purchase, parts, 'payment_size');
      }
    }
    if (feeMsat + MIN_PART_MSAT * BigInt(parts.length) > paymentMsat) {
      return this.failParts(purchase, parts, 'fee_exceeds_payment', { feeMsat: feeMsat.toString() });
    }
    if (!this.node.isConnected(purchase.nodeId)) {
      log.info({ scid: formatScid(purchase.scid), nodeId: purchase.nodeId }, 'jit: waiting for the wallet');
      return this.armHoldTimer(purchase, parts);
    }
    const capacitySat = this.channelSize(paymentMsat);
    if (capacitySat === null) {
      return this.failParts(purchase, parts, 'no_liquidity', { paymentMsat: paymentMsat.toString() });
    }
    let opened: { userChannelId: bigint; temporaryChannelId: string };
    try {
      opened = this.node.openChannel({
        peerId: purchase.nodeId,
        capacitySat,
        announce: false,
        zeroConf: true,
      });
    } catch (error) {
      log.error({ err: error, scid: formatScid(purchase.scid) }, 'jit: opening the channel failed');
      return this.failParts(purchase, parts, 'open_failed');
    }
    await store.putJitChannel({
      scid: purchase.scid,
      paymentHash,
      userChannelId: opened.userChannelId,
      channelId: null,
      capacitySat,
      openingFeeMsat: feeMsat,
      createdAtMs: now,
      updatedAtMs: now,
    });
    await store.setJitPurchaseState(purchase.scid, 'OPENING', now);
    this.clearTimer(purchase.scid);
    log.info(
      {
        scid: formatScid(purchase.scid),
        nodeId: purchase.nodeId,
        capacitySat: capacitySat.toString(),
        paymentMsat: paymentMsat.toString(),
        feeMsat: feeMsat.toString(),
        parts: parts.length,
      },
      'jit: opening zero-conf channel',
    );
  }

  /** A channel was asked for: forward once it is usable; reopen if a crash lost it unfunded. */
  private async advanceOpening(
    purchase: JitPurchaseRecord,
    channel: JitChannelRecord,
    held: InterceptRecord[],
  ): Promise<void> {
    const { store, clock, metrics, log } = this.deps;
    const others = held.filter((i) => i.paymentHash !== channel.paymentHash);
    if (others.length) await this.failParts(purchase, others, 'other_payment');
    const parts = held.filter((i) => i.paymentHash === channel.paymentHash);
    if (parts.length === 0) return;
    const live = this.liveChannel(channel, purchase.nodeId);
    if (!live) {
      if (channel.channelId === null && purchase.state === 'OPENING') {
        // peer-connected brings us back; LDK fails the HTLCs itself if that comes too late
        if (!this.node.isConnected(purchase.nodeId)) return;
        // LDK never persisted an unfunded channel: the restart forgot it. Ask again.
        log.warn({ scid: formatScid(purchase.scid) }, 'jit: channel lost before funding; reopening');
        const capacitySat = channel.capacitySat;
        try {
          const opened = this.node.openChannel({ peerId: purchase.nodeId, capacitySat, announce: false });
          await store.putJitChannel({
            ...channel,
            userChannelId: opened.userChannelId,
            updatedAtMs: clock(),
          });
          return;
        } catch (error) {
          log.error({ err: error, scid: formatScid(purchase.scid) }, 'jit: reopening failed');
        }
      }
      await store.setJitPurchaseState(purchase.scid, 'FAILED', clock());
      return this.failParts(purchase, parts, 'channel_closed');
    }
    if (!live.isUsable) return; // channel-ready (or the wallet's reconnection) brings us back
    if (purchase.state === 'OPENING') {
      await store.setJitPurchaseState(purchase.scid, 'OPENED', clock());
      metrics.jitChannelsOpened.inc();
    }
    // the fee is taken across the parts, each keeping at least 1 msat; parts forwarded before a
    // restart already took their share
    const forwarded = (await store.listIntercepts({ scid: purchase.scid, state: 'forwarded' })).filter(
      (i) => i.paymentHash === channel.paymentHash,
    );
    let feeLeft =
      channel.openingFeeMsat -
      forwarded.reduce(
        (a, i) => a + (i.expectedOutboundMsat - (i.forwardedMsat ?? i.expectedOutboundMsat)),
        0n,
      );
    this.onForwarding?.(live.channelId, Math.min(...parts.map((p) => p.createdAtMs)));
    for (const part of parts) {
      const skim = min(feeLeft, part.expectedOutboundMsat - MIN_PART_MSAT);
      const amountMsat = part.expectedOutboundMsat - (skim > 0n ? skim : 0n);
      feeLeft -= skim > 0n ? skim : 0n;
      // durable first: a replay after a crash forwards the same amount again
      await store.setInterceptState(part.interceptId, 'forwarded', amountMsat, clock());
      this.forwardPart(part, live.channelId, purchase.nodeId, amountMsat);
    }
    await store.setJitPurchaseState(purchase.scid, 'FORWARDED', clock());
    this.clearTimer(purchase.scid);
    log.info(
      { scid: formatScid(purchase.scid), channelId: live.channelId, parts: parts.length },
      'jit: forwarded over the new channel',
    );
  }

  // ---------------------------------------------------------------- helpers

  /** Channel size by policy, or null when the LSP cannot fund a channel large enough. */
  channelSize(paymentMsat: bigint): bigint | null {
    const jit = this.deps.config.jit;
    const paymentSat = (paymentMsat + 999n) / 1000n;
    const needed = paymentSat + paymentSat / 100n + CAPACITY_MARGIN_SAT;
    let size = max(paymentSat * BigInt(jit.channelMultiplier), BigInt(jit.minChannelSat));
    size = min(size, BigInt(jit.maxChannelSat));
    const onchainSat = this.node.balances().onchainConfirmedMsat / 1000n - BigInt(jit.onchainReserveSat);
    size = min(size, onchainSat);
    size = min(size, BigInt(jit.maxZeroConfExposureSat) - this.zeroConfExposureSat());
    return size >= needed ? size : null;
  }

  /** Capacity of the channels we funded that have no confirmation yet. */
  zeroConfExposureSat(): bigint {
    return this.node
      .listChannels()
      .filter((c) => c.isOutbound && (c.confirmations ?? 0) === 0)
      .reduce((a, c) => a + c.capacityMsat / 1000n, 0n);
  }

  private liveChannel(channel: JitChannelRecord, peerId: string) {
    return this.node.listChannels(peerId).find((c) => c.userChannelId === channel.userChannelId);
  }

  private forwardPart(part: InterceptRecord, channelId: string, peerId: string, amountMsat: bigint): void {
    try {
      this.node.forwardInterceptedHtlc(part.interceptId, channelId, peerId, amountMsat);
    } catch (error) {
      // LDK no longer holds it (failed back at its expiry, or already forwarded before a restart)
      if (isNodeError(error) && error.code === 'HTLC_NOT_FOUND') {
        this.deps.log.warn({ interceptId: part.interceptId }, 'jit: intercepted HTLC no longer pending');
        return;
      }
      throw error;
    }
  }

  private async markHeld(part: InterceptRecord): Promise<void> {
    await this.deps.store.setInterceptState(part.interceptId, 'held', null, this.deps.clock());
  }

  private async failParts(
    purchase: JitPurchaseRecord,
    parts: InterceptRecord[],
    reason: JitFailReason,
    fields: Record<string, unknown> = {},
  ): Promise<void> {
    for (const part of parts) {
      // durable first: a replayed intercept we decided to fail is failed again
      await this.deps.store.setInterceptState(part.interceptId, 'failed', null, this.deps.clock());
      this.failPart(part.interceptId, reason, { scid: formatScid(purchase.scid), ...fields });
    }
    const stillHeld = await this.deps.store.listIntercepts({ scid: purchase.scid, state: 'held' });
    if (stillHeld.length === 0) this.clearTimer(purchase.scid);
  }

  private failPart(interceptId: string, reason: JitFailReason, fields: Record<string, unknown>): void {
    this.deps.metrics.jitHtlcsFailed.inc(1, { reason });
    this.deps.log.info({ interceptId, reason, ...fields }, 'jit: failing intercepted HTLC back');
    try {
      this.node.failInterceptedHtlc(interceptId);
    } catch (error) {
      if (isNodeError(error) && error.code === 'HTLC_NOT_FOUND') return;
      throw error;
    }
  }

  /** Parts wait at most holdTimeoutSec from the first one's arrival (across restarts). */
  private armHoldTimer(purchase: JitPurchaseRecord, parts: InterceptRecord[]): void {
    const key = purchase.scid.toString();
    if (this.timers.has(key)) return;
    const first = Math.min(...parts.map((p) => p.createdAtMs));
    const deadline = first + this.deps.config.jit.holdTimeoutSec * 1000;
    const delay = Math.max(0, deadline - this.deps.clock());
    const timer = setTimeout(() => {
      this.timers.delete(key);
      void this.serial('hold-timeout', async () => {
        const p = await this.deps.store.getJitPurchase(purchase.scid);
        if (!p || (await this.deps.store.getJitChannel(purchase.scid))) return;
        const held = await this.deps.store.listIntercepts({ scid: purchase.scid, state: 'held' });
        if (held.length) await this.failParts(p, held, 'hold_timeout');
      });
    }, delay);
    timer.unref?.();
    this.timers.set(key, timer);
  }

  private clearTimer(scid: bigint): void {
    const key = scid.toString();
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.delete(key);
  }

  /** One decision at a time: every handler reads and writes the store in turn. */
  private serial(what: string, work: () => Promise<void>): Promise<void> {
    const run = this.tail.then(async () => {
      if (this.stopped) return;
      try {
        await work();
      } catch (error) {
        this.deps.log.error({ err: error, what }, 'jit: handler failed');
      }
    });
    this.tail = run;
    return run;
  }
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);
