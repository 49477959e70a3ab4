// The streams of one wallet around one node: input checked before anything is stored, payment
// outcomes from the node's events into the ledger and the running stream, periods a crash left
// reserved resolved against LDK's own record, and streams picked up (or stopped) after a restart.
// The CLI and the wallet PWA's worker both run streams through this.
import type { LightningNode } from '@lpw/node';
import { StreamError } from './errors.ts';
import type { KeysendRoute } from './keysend.ts';
import type { OnRestart, StreamLedger, StreamRecord } from './ledger.ts';
import { checkPeriodAmounts, type LnurlAccess, LnurlPayee, parseRecipient } from './lnurl.ts';
import { maxPeriodAmountMsat } from './periods.ts';
import { DEFAULT_PERIOD_MS, type StreamOptions, type StreamProgress, StreamRunner } from './runner.ts';

export interface StreamRequest {
  /**
   * The payee: a node id (33 bytes, hex) paid by keysend, or a Lightning Address / LNURL-pay asked
   * for an invoice each period. Kept as given, to show.
   */
  to: string;
  satsPerMinute: bigint;
  /** Payment period (default 60 s; 1 s = per-second payments). */
  periodMs?: number;
  /** The most the stream may spend, amounts and fees together. */
  budgetMsat: bigint;
  /** End: an absolute time (ms since epoch). */
  untilMs: number;
  /** Fee limit per payment (default 5 sat). */
  maxFeeMsatPerPayment?: bigint;
  /** After a restart, continue ('resume', default) or end the stream ('stop'). */
  onRestart?: OnRestart;
}

export const DEFAULT_MAX_FEE_MSAT_PER_PAYMENT = 5_000n;

export interface StreamHandle {
  id: string;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): void;
  /** Resolves with the final record once the stream ended and its payments have outcomes. */
  done: Promise<StreamRecord>;
}

export interface EngineDeps {
  ledger: StreamLedger;
  node: LightningNode;
  findRoute: (payee: string, maxAmountMsat: bigint, finalCltvExpiryDelta: number) => Promise<KeysendRoute>;
  streamKey: Uint8Array;
  /** How LNURL-pay recipients are reached; without it a stream pays node ids only. */
  lnurl?: LnurlAccess;
  /** Whether a payment can leave now (see RunnerDeps.canSend). */
  canSend?: () => boolean;
  log: (message: string) => void;
  /** Every stream's progress (settled and failed periods, state changes). */
  onProgress?: (p: StreamProgress) => void;
  now?: () => number;
}

/**
 * The stream `request` describes, or a StreamError naming what is wrong with it. `lnurl`: the
 * wallet's LNURL access (its minimum period); without it only node ids are accepted. What the
 * LNURL recipient itself takes is checked by StreamEngine.start.
 */
export function checkStreamRequest(
  request: StreamRequest,
  now: number,
  lnurl?: Pick<LnurlAccess, 'minPeriodMs'>,
) {
  const recipient = parseRecipient(request.to, Math.floor(now / 1000));
  if (recipient.kind === 'lnurl' && !lnurl)
    throw new StreamError('INVALID_RECIPIENT', 'This wallet streams to node ids only.');
  if (request.satsPerMinute <= 0n)
    throw new StreamError('INVALID_RATE', 'The rate must be at least 1 sat per minute.');
  const periodMs = request.periodMs ?? DEFAULT_PERIOD_MS;
  if (!Number.isInteger(periodMs) || periodMs < 10 || periodMs > 3_600_000)
    throw new StreamError('INVALID_PERIOD', 'The payment period must be 10 ms … 1 h.');
  if (recipient.kind === 'lnurl' && lnurl && periodMs < lnurl.minPeriodMs)
    throw new StreamError(
      'INVALID_PERIOD',
      `A Lightning Address is paid at most once every ${lnurl.minPeriodMs / 1000} s: each payment first asks the recipient for an invoice.`,
    );
  const maxFeeMsat = request.maxFeeMsatPerPayment ?? DEFAULT_MAX_FEE_MSAT_PER_PAYMENT;
  if (maxFeeMsat < 0n) throw new StreamError('INVALID_FEE_LIMIT', 'The fee limit cannot be negative.');
  if (!(request.untilMs > now)) throw new StreamError('END_IN_PAST', 'The end time is in the past.');
  const onePeriodMsat = maxPeriodAmountMsat({ satsPerMinute: request.satsPerMinute, periodMs }) + maxFeeMsat;
  if (request.budgetMsat < onePeriodMsat)
    throw new StreamError(
      'BUDGET_BELOW_ONE_PERIOD',
      `The budget must cover at least one payment and its fee limit: ${(onePeriodMsat + 999n) / 1000n} sats.`,
    );
  return {
    payee: recipient.kind === 'node' ? recipient.nodeId : request.to.trim(),
    satsPerMinute: request.satsPerMinute,
    periodMs,
    budgetMsat: request.budgetMsat,
    maxFeeMsat,
    startMs: now,
    endMs: request.untilMs,
    onRestart: request.onRestart ?? 'resume',
  };
}

/** Per stream: its own progress listener besides the engine's. */
export type RunOptions = StreamOptions & { onProgress?: (p: StreamProgress) => void };

export class StreamEngine {
  private readonly runners = new Map<string, StreamRunner>();
  private readonly loading = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly deps: EngineDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Payment outcomes into the ledger, then to the running stream. Call right after the node is
   * created: LDK replays outcomes after a restart, and a replayed one settles nothing twice.
   */
  listen(): () => void {
    const { node, ledger, log } = this.deps;
    const offs = [
      node.on('payment-sent', (e) => {
        void (async () => {
          const period = await ledger.settle(e.paymentId, e.feeMsat);
          if (period) await this.runners.get(period.streamId)?.settled(e.paymentId, period);
        })().catch((err: unknown) => log(`stream ledger: settling ${e.paymentId} failed: ${String(err)}`));
      }),
      node.on('payment-failed', (e) => {
        void (async () => {
          const period = await ledger.fail(e.paymentId, e.reason);
          if (period) await this.runners.get(period.streamId)?.failed(e.paymentId, period);
        })().catch((err: unknown) => log(`stream ledger: failing ${e.paymentId} failed: ${String(err)}`));
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  /**
   * Periods reserved before a crash whose outcome we never saw: LDK's record decides. Known to LDK
   * (pending, abandoned): its event will come. Fulfilled: settled (at the route's fee when LDK no
   * longer reports it). Unknown to LDK: it never left (LDK persists a payment together with the
   * channel update that sends it), so it failed and may be retried.
   */
  async reconcile(): Promise<void> {
    const { ledger, node } = this.deps;
    for (const p of await ledger.openPeriods()) {
      if (p.state !== 'reserved') continue;
      const state = node.spontaneousPayment.recentState(p.paymentId);
      if (state === 'fulfilled') await ledger.settle(p.paymentId, undefined);
      else if (state === undefined) await ledger.fail(p.paymentId, 'not handed to LDK before a crash');
    }
  }

  /**
   * Checks the request (for an LNURL recipient: its service is asked what it takes, and a period
   * amount outside that is refused), stores the stream, starts paying. Bad input stores nothing.
   */
  async start(request: StreamRequest, options: RunOptions = {}): Promise<StreamHandle> {
    const { lnurl, node } = this.deps;
    const params = checkStreamRequest(request, this.now(), lnurl);
    const recipient = parseRecipient(params.payee, Math.floor(this.now() / 1000));
    let payee: LnurlPayee | undefined;
    if (recipient.kind === 'lnurl' && lnurl) {
      payee = new LnurlPayee(recipient.url, lnurl.fetch, node.network);
      checkPeriodAmounts(await payee.resolve(), params);
    }
    const record = await this.deps.ledger.create(params);
    return this.run(record.id, options, payee);
  }

  /**
   * Picks a stream up after a restart (open periods resolved by reconcile() first). A stream
   * configured `onRestart: 'stop'` is ended instead, once its payments in flight have outcomes.
   */
  async resume(id: string, options: RunOptions = {}): Promise<StreamHandle> {
    const { ledger } = this.deps;
    const record = await ledger.get(id);
    if (record.state !== 'running' && record.state !== 'paused')
      throw new StreamError(
        'STREAM_FINISHED',
        `stream ${id} is ${record.state}${record.stopReason ? ` (${record.stopReason})` : ''}`,
      );
    if (record.onRestart !== 'stop') return this.run(id, options);
    await ledger.setState(id, 'stopped', 'stopped after a restart (on-restart: stop)');
    const stopped = await ledger.get(id);
    this.deps.onProgress?.({ kind: 'state', stream: stopped });
    options.onProgress?.({ kind: 'state', stream: stopped });
    const done = (async () => {
      const deadline = Date.now() + 60_000;
      const reserved = async () => (await ledger.openPeriods(id)).some((p) => p.state === 'reserved');
      while ((await reserved()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const p of await ledger.openPeriods(id))
        if (p.state === 'failed') await ledger.abandon(id, p.period);
      return ledger.get(id);
    })();
    return { id, pause: async () => {}, resume: async () => {}, stop() {}, done };
  }

  /** Every stream that was running or paused when the wallet last stopped, resumed or stopped. */
  async resumeAll(options: RunOptions = {}): Promise<StreamHandle[]> {
    const handles: StreamHandle[] = [];
    for (const s of await this.deps.ledger.list())
      if ((s.state === 'running' || s.state === 'paused') && !this.runners.has(s.id))
        handles.push(await this.resume(s.id, options));
    return handles;
  }

  /** The runner of stream `id` when it runs here now. */
  running(id: string): StreamRunner | undefined {
    return this.runners.get(id);
  }

  /**
   * Stops every stream and waits until their payments have outcomes (or 60 s passed). `halt`:
   * they stay running in the ledger and the next start resumes them (the wallet PWA locking).
   */
  async close(reason = 'wallet closed', how: 'stop' | 'halt' = 'stop'): Promise<void> {
    const running = [...this.runners.values()];
    for (const r of running)
      if (how === 'halt') r.halt();
      else r.stop(reason);
    while (running.some((r) => this.runners.has(r.id))) await new Promise((r) => setTimeout(r, 50));
  }

  private async run(id: string, options: RunOptions, lnurl?: LnurlPayee): Promise<StreamHandle> {
    if (this.runners.has(id) || this.loading.has(id))
      throw new StreamError('STREAM_RUNNING', `stream ${id} is already running`);
    const { onProgress, ...runOptions } = options;
    const global = this.deps.onProgress;
    const both =
      onProgress && global
        ? (p: StreamProgress) => {
            global(p);
            onProgress(p);
          }
        : (onProgress ?? global);
    this.loading.add(id);
    let runner: StreamRunner;
    try {
      runner = await StreamRunner.load(
        { ...this.deps, ...(both ? { onProgress: both } : {}) },
        id,
        runOptions,
        lnurl,
      );
    } finally {
      this.loading.delete(id);
    }
    this.runners.set(id, runner);
    const done = runner.run().finally(() => this.runners.delete(id));
    return {
      id,
      pause: () => runner.pause(),
      resume: () => runner.resume(),
      stop: () => runner.stop(),
      done,
    };
  }
}
