// A payment stream: `satsPerMinute` paid one period at a time (down to per-second and below) —
// keysends to a node, or invoices fetched per period from a Lightning Address / LNURL-pay — within
// a budget (amounts + fees) and until an end time. Each period is reserved in the
// ledger (durably) before its payment goes out and settled or failed from the node's events, so a
// crash never pays a period twice. Time the stream is paused or down, or waits out high network
// fees, is not billed (those periods are skipped); a short lag (a slow payment) is caught up.

import { isNodeError, type LightningNode } from '@lpw/node';
import { StreamError } from './errors.ts';
import { sendInvoice } from './invoice.ts';
import { KEYSEND_FINAL_CLTV, type KeysendRoute, periodSecrets, sendKeysend } from './keysend.ts';
import type { PeriodRecord, PeriodReservation, StreamLedger, StreamRecord } from './ledger.ts';
import { type LnurlAccess, LnurlPayee, type PeriodInvoice, parseRecipient } from './lnurl.ts';
import { maxPeriodAmountMsat, periodAmountMsat, periodCount } from './periods.ts';

/**
 * What one payment adds to the wallet's ChannelMonitor (measured: bench `monitor_bytes_per_1000_payments`
 * ≈ 293,000 on LDK 0.1 — each commitment keeps the payment's HTLC and route until the channel closes).
 */
export const MONITOR_BYTES_PER_PAYMENT = 300;

/** The LSP keeps at most this much per backup blob (packages/api MAX_BACKUP_BLOB_BYTES). */
export const BACKUP_BLOB_LIMIT_BYTES = 4 * 1024 * 1024;

/** How long a stream waits before asking the LSP for a route again after it gave none. */
const ROUTE_RETRY_MS = 2_000;

/** The longest a period waits for room in a full channel before looking again. */
const CHANNEL_FULL_WAIT_MS = 100;

/**
 * How often a stream waiting out high network fees looks again. Fees fall when the LSP's update_fee
 * lowers the channel's feerate (at its minute tick), so a few seconds loses nothing.
 */
const FEES_HIGH_RETRY_MS = 2_000;

/** The default settlement period: one payment a minute keeps channel-state growth small. */
export const DEFAULT_PERIOD_MS = 60_000;

/** Monitor growth a stream of `periodMs` until `untilMs` will cause, in bytes. */
export function expectedMonitorGrowth(periodMs: number, fromMs: number, untilMs: number): number {
  return Math.ceil(Math.max(0, untilMs - fromMs) / periodMs) * MONITOR_BYTES_PER_PAYMENT;
}

export interface StreamOptions {
  /**
   * Payments in flight at once (default 48, under the 50 HTLCs LDK lets a peer have pending by
   * default). The channel's own limit is checked before each period is reserved; more in flight
   * lets the hops batch HTLCs into one commitment round (bench: 8 capped a 3-hop stream near 35/s,
   * 48 sustained 100/s).
   */
  maxInFlight?: number;
  /** Attempts per period before it is given up (default 3). */
  maxAttempts?: number;
  /** Periods of lag caught up; older due periods are skipped (default: 10 s worth, at least 1). */
  catchUpPeriods?: number;
  /** Stop as failed after this many periods in a row were given up (default 3). */
  maxConsecutiveGivenUp?: number;
  /**
   * Stop as failed when the LSP gave no route (or the LNURL recipient no invoice) for this long
   * (default 60 s); shorter outages wait.
   */
  routeOutageMs?: number;
}

export interface StreamProgress {
  /**
   * 'waiting': payments wait and nothing is reserved (`code` says why: FEES_TOO_HIGH, the node's
   * refusal of a payment that would be a dust HTLC under high network fees; `reason` its sentence);
   * the periods meanwhile are skipped, not billed. 'going': paying goes on after such a wait.
   */
  kind: 'settled' | 'failed' | 'state' | 'waiting' | 'going';
  stream: StreamRecord;
  period?: number;
  reason?: string;
  code?: 'FEES_TOO_HIGH';
}

export interface RunnerDeps {
  ledger: StreamLedger;
  node: LightningNode;
  /** The LSP's route to the payee node for amounts up to `maxAmountMsat` (routes.find). */
  findRoute: (payee: string, maxAmountMsat: bigint, finalCltvExpiryDelta: number) => Promise<KeysendRoute>;
  /** Needed for streams to Lightning Addresses / LNURL-pay. */
  lnurl?: LnurlAccess;
  streamKey: Uint8Array;
  /**
   * Whether a payment can leave now (peer link up, a channel usable). While it cannot, nothing is
   * reserved and the time is not billed, instead of periods failing one after another.
   */
  canSend?: () => boolean;
  onProgress?: (p: StreamProgress) => void;
  log: (message: string) => void;
}

/** How long a period that could not leave waits before it is tried again. */
const WAIT_MS = {
  'no-route': ROUTE_RETRY_MS,
  'channel-full': CHANNEL_FULL_WAIT_MS,
  'fees-high': FEES_HIGH_RETRY_MS,
} as const;

export class StreamRunner {
  private readonly inFlight = new Map<string, PeriodRecord>();
  private readonly retries: PeriodRecord[] = [];
  private route: KeysendRoute | undefined;
  /** The payee node and final CLTV delta `route` was found for. */
  private routeFor = '';
  /** An LNURL-pay recipient; undefined for a node (keysend). */
  private readonly lnurl: LnurlPayee | undefined;
  private wake: (() => void) | undefined;
  private stopReason: string | undefined;
  private stopState: 'stopped' | 'failed' = 'stopped';
  private paused = false;
  /** Halted, not ended: the ledger keeps the stream running or paused for the next start. */
  private halted = false;
  private consecutiveGivenUp = 0;
  /** Since when no route (or no invoice) could be had. */
  private outageSince: number | undefined;
  /** Why payments wait now (network fees), as last told to onProgress. */
  private waitingFor: string | undefined;
  private readonly options: Required<StreamOptions>;

  /** Use StreamRunner.load: the periods an earlier run left open are read first. */
  private constructor(
    private readonly deps: RunnerDeps,
    readonly id: string,
    stream: StreamRecord,
    open: PeriodRecord[],
    options: StreamOptions,
    lnurl: LnurlPayee | undefined,
  ) {
    this.lnurl = lnurl;
    this.options = {
      maxInFlight: options.maxInFlight ?? 48,
      maxAttempts: options.maxAttempts ?? 3,
      catchUpPeriods: options.catchUpPeriods ?? Math.max(1, Math.ceil(10_000 / stream.periodMs)),
      maxConsecutiveGivenUp: options.maxConsecutiveGivenUp ?? 3,
      routeOutageMs: options.routeOutageMs ?? 60_000,
    };
    // periods left open by an earlier run: reserved ones are in flight, failed ones get retried
    for (const p of open) {
      if (p.state === 'reserved') this.inFlight.set(p.paymentId, p);
      else this.retries.push(p);
    }
  }

  /** `lnurl`: the recipient's service already resolved (by the engine's start), else resolved here. */
  static async load(
    deps: RunnerDeps,
    id: string,
    options: StreamOptions = {},
    lnurl?: LnurlPayee,
  ): Promise<StreamRunner> {
    const stream = await deps.ledger.get(id);
    const recipient = parseRecipient(stream.payee, Math.floor(Date.now() / 1000));
    if (recipient.kind === 'lnurl' && !lnurl) {
      if (!deps.lnurl)
        throw new StreamError('INVALID_RECIPIENT', 'This wallet cannot reach Lightning Address recipients.');
      lnurl = new LnurlPayee(recipient.url, deps.lnurl.fetch, deps.node.network);
    }
    return new StreamRunner(deps, id, stream, await deps.ledger.openPeriods(id), options, lnurl);
  }

  async pause(): Promise<void> {
    if (this.paused || this.stopReason) return;
    this.paused = true;
    await this.deps.ledger.setState(this.id, 'paused');
    await this.emitState();
    this.wake?.();
  }

  async resume(): Promise<void> {
    if (!this.paused || this.stopReason) return;
    this.paused = false;
    await this.deps.ledger.setState(this.id, 'running');
    await this.emitState();
    this.wake?.();
  }

  /** Stops sending; run() resolves once payments in flight have an outcome. */
  stop(reason = 'stopped', state: 'stopped' | 'failed' = 'stopped'): void {
    if (this.stopReason === undefined) {
      this.stopReason = reason;
      this.stopState = state;
    }
    this.wake?.();
  }

  /** Stops sending but leaves the stream running (or paused) in the ledger, to be resumed at the next start. */
  halt(): void {
    this.halted = true;
    this.stop('halted');
  }

  /** The wallet saw a payment of ours succeed (the ledger already settled it). */
  async settled(paymentId: string, period: PeriodRecord): Promise<void> {
    if (!this.inFlight.delete(paymentId)) return;
    this.consecutiveGivenUp = 0;
    this.deps.onProgress?.({
      kind: 'settled',
      stream: await this.deps.ledger.get(this.id),
      period: period.period,
    });
    this.wake?.();
  }

  /** The wallet saw a payment of ours fail for good (the ledger already marked it failed). */
  async failed(paymentId: string, period: PeriodRecord): Promise<void> {
    if (!this.inFlight.delete(paymentId)) return;
    await this.afterFailure(period);
    this.wake?.();
  }

  async run(): Promise<StreamRecord> {
    const { ledger } = this.deps;
    let stream = await ledger.get(this.id);
    if (stream.state !== 'running' && stream.state !== 'paused')
      throw new StreamError('STREAM_FINISHED', `stream ${this.id} is ${stream.state}`);
    this.paused = stream.state === 'paused';
    // down time is not billed: continue from the period due now
    await ledger.skipTo(this.id, Math.min(this.duePeriod(stream, Date.now()), periodCount(stream)));
    let endState: 'stopped' | 'finished' | 'failed' = 'stopped';
    let reason = 'stopped';
    try {
      for (;;) {
        stream = await ledger.get(this.id);
        const now = Date.now();
        if (this.stopReason) {
          reason = this.stopReason;
          endState = this.stopState;
          break;
        }
        // the periods that start before the end time are owed; ones still lagging at the end are
        // paid within the catch-up window after it, then the stream finishes
        const lastPeriod = periodCount(stream) - 1;
        const graceMs = this.options.catchUpPeriods * stream.periodMs;
        if (
          now >= stream.endMs &&
          ((stream.nextPeriod > lastPeriod && this.retries.length === 0) || now >= stream.endMs + graceMs)
        ) {
          if (stream.nextPeriod <= lastPeriod) await ledger.skipTo(this.id, lastPeriod + 1);
          endState = 'finished';
          reason = 'end time reached';
          break;
        }
        const due = Math.min(this.duePeriod(stream, now), lastPeriod);
        if (this.paused) {
          await ledger.skipTo(this.id, due + 1);
          await this.sleep(stream.periodMs);
          continue;
        }
        if (this.deps.canSend && !this.deps.canSend()) {
          await this.sleep(Math.min(stream.periodMs, 1000));
          continue;
        }
        if (this.inFlight.size < this.options.maxInFlight) {
          const retry = this.retries.shift();
          if (retry) {
            const outcome = await this.send(stream, retry.period, retry.attempt + 1);
            if (outcome === 'no-route' || outcome === 'channel-full' || outcome === 'fees-high') {
              this.retries.unshift(retry);
              await this.sleep(WAIT_MS[outcome]);
              continue;
            }
            if (outcome === 'over-budget') {
              await ledger.abandon(this.id, retry.period);
              endState = 'finished';
              reason = 'budget exhausted';
              break;
            }
            continue;
          }
          if (stream.nextPeriod <= due) {
            if (due - stream.nextPeriod >= this.options.catchUpPeriods)
              await ledger.skipTo(this.id, due - this.options.catchUpPeriods + 1);
            const k = (await ledger.get(this.id)).nextPeriod;
            const outcome = await this.send(stream, k, 0);
            if (outcome === 'no-route' || outcome === 'channel-full' || outcome === 'fees-high') {
              // nothing reserved: the period lags, then is caught up or skipped (an outcome of ours
              // wakes a full channel's wait early)
              await this.sleep(WAIT_MS[outcome]);
              continue;
            }
            if (outcome === 'over-budget') {
              endState = 'finished';
              reason = 'budget exhausted';
              break;
            }
            continue;
          }
        }
        const nextDueMs = stream.startMs + (due + 1) * stream.periodMs;
        await this.sleep(Math.max(1, Math.min(nextDueMs, stream.endMs) - now));
        if (now >= stream.endMs) await this.sleep(stream.periodMs); // only in-flight outcomes left to wait for
      }
    } catch (e) {
      endState = 'failed';
      reason = e instanceof Error ? e.message : String(e);
      this.deps.log(`stream ${this.id} failed: ${reason}`);
    }
    await this.drain(60_000);
    // a halted stream's failed periods stay open: the next start retries them
    if (!this.halted) for (const p of this.retries.splice(0)) await ledger.abandon(this.id, p.period);
    const final = await ledger.get(this.id);
    if (!this.halted && (final.state === 'running' || final.state === 'paused'))
      await ledger.setState(this.id, endState, reason);
    await this.emitState();
    return ledger.get(this.id);
  }

  /**
   * Reserve period k (durably), then hand its payment to LDK: a keysend, or the invoice the LNURL
   * recipient gave for exactly this period's amount (fetched and checked before the reservation).
   */
  private async send(
    stream: StreamRecord,
    k: number,
    attempt: number,
  ): Promise<'sent' | 'over-budget' | 'skipped' | 'no-route' | 'channel-full' | 'fees-high'> {
    const { ledger, node, streamKey } = this.deps;
    const amountMsat = periodAmountMsat(stream, k);
    if (amountMsat === 0n) {
      await ledger.skipTo(this.id, k + 1); // rate below 1 msat per period: this period owes nothing
      return 'skipped';
    }
    let invoice: PeriodInvoice | undefined;
    let route: KeysendRoute;
    try {
      invoice = await this.lnurl?.invoice(amountMsat, Math.floor(Date.now() / 1000));
      if (invoice?.payeeNodeId === node.nodeId)
        throw new StreamError('INVOICE_REFUSED', 'This Lightning Address is paid to this wallet itself.');
      route = await this.routeTo(
        invoice?.payeeNodeId ?? stream.payee,
        invoice?.minFinalCltvExpiryDelta ?? KEYSEND_FINAL_CLTV,
        stream,
      );
      this.outageSince = undefined;
    } catch (e) {
      // a recipient whose invoice broke a rule is not paid again; an LSP or payee outage is waited
      // out for a while, then fails the stream with its reason
      if (e instanceof StreamError && (e.code === 'INVOICE_REFUSED' || e.code === 'AMOUNT_OUT_OF_RANGE'))
        throw e;
      this.outageSince ??= Date.now();
      if (Date.now() - this.outageSince >= this.options.routeOutageMs) throw e;
      this.deps.log(`stream ${this.id}: cannot pay yet (${e instanceof Error ? e.message : String(e)})`);
      return 'no-route';
    }
    if (route.feeMsat > stream.maxFeeMsat)
      throw new StreamError(
        'FEE_TOO_HIGH',
        `route fee ${route.feeMsat} msat per payment exceeds the limit of ${stream.maxFeeMsat} msat`,
      );
    // the channel to the first hop takes only so many HTLCs at once (the LSP's max_accepted_htlcs,
    // and a settled payment's HTLC stays until both commitments drop it): while it is full, LDK
    // would refuse the keysend at once (RouteNotFound), so the period waits for an outcome of ours
    // instead of being reserved and failed. With nothing of ours in flight, it is sent and LDK's
    // refusal is the honest answer.
    if (this.inFlight.size > 0 && !this.channelHasRoom(route, amountMsat)) return 'channel-full';
    // under high network fees a small payment's HTLC would be dust, burnt as fees if the channel
    // ever closed with it in flight: the node refuses it (FEES_TOO_HIGH) and the stream waits,
    // reserving nothing, until the LSP's update_fee brings the channel's feerate down
    try {
      node.assertFeesAllow(amountMsat + route.feeMsat);
    } catch (e) {
      if (!isNodeError(e, 'FEES_TOO_HIGH')) throw e;
      const sentence = e.message.replace(/^FEES_TOO_HIGH: /, '');
      if (this.waitingFor !== sentence) {
        this.waitingFor = sentence;
        this.deps.log(`stream ${this.id}: waiting, ${sentence}`);
        this.deps.onProgress?.({ kind: 'waiting', stream, code: 'FEES_TOO_HIGH', reason: sentence });
      }
      return 'fees-high';
    }
    if (this.waitingFor !== undefined) {
      this.waitingFor = undefined;
      this.deps.onProgress?.({ kind: 'going', stream });
    }
    const secrets = periodSecrets(streamKey, this.id, k, attempt);
    const record: PeriodReservation = {
      streamId: this.id,
      period: k,
      attempt,
      paymentId: secrets.paymentId,
      // an invoice's hash is the recipient's: recorded so the period can be told apart and looked up
      paymentHash: invoice?.paymentHash ?? secrets.paymentHash,
      amountMsat,
      plannedFeeMsat: route.feeMsat,
      maxFeeMsat: stream.maxFeeMsat,
    };
    if ((await ledger.reserve(record)) === 'over-budget') return 'over-budget';
    this.inFlight.set(secrets.paymentId, {
      ...record,
      state: 'reserved',
      reservedMs: Date.now(),
      failureReason: null,
    });
    try {
      if (invoice) await sendInvoice(node, route, invoice, amountMsat, secrets.paymentId, stream.maxFeeMsat);
      else await sendKeysend(node, route, amountMsat, secrets, stream.maxFeeMsat);
    } catch (e) {
      // refused before anything left: a definite failure
      this.inFlight.delete(secrets.paymentId);
      const why = e instanceof Error ? e.message : String(e);
      const failed = await ledger.fail(secrets.paymentId, why);
      if (isNodeError(e, 'ROUTE_NOT_FOUND')) this.route = undefined;
      if (failed) await this.afterFailure(failed);
    }
    return 'sent';
  }

  /** Whether a usable channel to the route's first hop can take an HTLC of `amountMsat` + fees now. */
  private channelHasRoom(route: KeysendRoute, amountMsat: bigint): boolean {
    const firstHop = route.hints[0]?.srcNodeId ?? route.payee;
    const needMsat = amountMsat + route.feeMsat;
    return this.deps.node
      .listChannels()
      .some((c) => c.isUsable && c.peerId === firstHop && c.nextOutboundHtlcLimitMsat >= needMsat);
  }

  /** The LSP's route to `payee` (kept until a payment fails or the payee or CLTV delta changes). */
  private async routeTo(payee: string, finalCltv: number, stream: StreamRecord): Promise<KeysendRoute> {
    const key = `${payee}/${finalCltv}`;
    if (!this.route || this.routeFor !== key) {
      this.route = await this.deps.findRoute(payee, maxPeriodAmountMsat(stream), finalCltv);
      this.routeFor = key;
    }
    return this.route;
  }

  private async afterFailure(period: PeriodRecord): Promise<void> {
    this.deps.onProgress?.({
      kind: 'failed',
      stream: await this.deps.ledger.get(this.id),
      period: period.period,
      reason: period.failureReason ?? 'failed',
    });
    this.route = undefined; // ask the LSP again: the failure may be a stale route
    if (period.attempt + 1 < this.options.maxAttempts && !this.stopReason) {
      this.retries.push(period);
      return;
    }
    await this.deps.ledger.abandon(this.id, period.period);
    this.consecutiveGivenUp++;
    if (this.consecutiveGivenUp >= this.options.maxConsecutiveGivenUp)
      this.stop(
        `${this.consecutiveGivenUp} periods in a row failed (${period.failureReason ?? 'payment failed'})`,
        'failed',
      );
  }

  private duePeriod(stream: StreamRecord, now: number): number {
    return Math.max(-1, Math.floor((now - stream.startMs) / stream.periodMs));
  }

  private async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) await this.sleep(deadline - Date.now());
    if (this.inFlight.size > 0)
      this.deps.log(
        `stream ${this.id}: ${this.inFlight.size} payment(s) still unresolved; they stay reserved and are resolved at the next start`,
      );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private async emitState(): Promise<void> {
    this.deps.onProgress?.({ kind: 'state', stream: await this.deps.ledger.get(this.id) });
  }
}
