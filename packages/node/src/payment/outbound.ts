// What the BOLT 11 and spontaneous payment handles share: the record made durable before the send
// returns, the wait for an outcome, LDK's refusals as NodeErrors, and LDK's memory of a payment id.
import * as ldk from 'lightningdevkit';
import { NodeError } from '../errors.ts';
import type { EventBus, EventOf } from '../events.ts';
import { withLdk } from '../ldk/free.ts';
import { bool, describeLdkError, errorOf, fromHex, toHex } from '../ldk/values.ts';
import type { PaymentRecord, PaymentStore } from '../payments.ts';
import type { CommitQueue } from '../persist/commit-queue.ts';
import type { Scheduler } from '../scheduler.ts';
import { assertBigint, defaultMaxFeeMsat, type RouteHintHop } from './route.ts';

/** LDK retries a failed path this many times within one payment. */
export const PAYMENT_RETRIES = 3;
const DEFAULT_OUTCOME_TIMEOUT_MS = 120_000;

export interface SentPayment {
  paymentId: string;
  paymentHash: string;
  preimage: string;
  amountMsat: bigint;
  feeMsat: bigint;
}

/** Options every send takes. */
export interface SendOptions {
  /** The most routing may cost; default LDK's own (1% of the amount plus 50 sat). */
  maxFeeMsat?: bigint;
  /** Private routes to the payee beside its own (the route an LSP found, from the LSP on). */
  routeHints?: RouteHintHop[][];
  /** 32 bytes hex; default: a BOLT 11 payment's hash, a random id for a spontaneous one. */
  paymentId?: string;
  /**
   * false: the caller keeps its own durable record and follows the outcome in `payment-sent` /
   * `payment-failed` events (a stream's ledger: a payment a second stays out of the channel-state
   * store and its backups); `outcome()` knows nothing of such a payment. Default true.
   */
  record?: boolean;
}

/** What LDK remembers of an outbound payment id (it forgets resolved ones after a few timer ticks). */
export type RecentPaymentState = 'pending' | 'fulfilled' | 'abandoned' | undefined;

export interface OutboundContext {
  channelManager: ldk.ChannelManager;
  payments: PaymentStore;
  queue: CommitQueue;
  bus: EventBus;
  scheduler: Scheduler;
  now: () => number;
  random: (length: number) => Uint8Array;
  /** Wakes the event pump (it hands the payment to the peer and flushes the commit queue). */
  wake: () => void;
  assertRunning: () => void;
  /** Enough in usable channels for amount plus fee limit (else INSUFFICIENT_BALANCE). */
  assertCanSend: (totalMsat: bigint) => void;
  /** Not a dust HTLC while fees are high (else FEES_TOO_HIGH; wallets only). */
  assertFeesAllow: (amountMsat: bigint) => void;
}

export abstract class OutboundPayments {
  constructor(protected readonly ctx: OutboundContext) {}

  /**
   * Waits for the payment's outcome: resolves when it succeeded, rejects with a NodeError
   * (ROUTE_NOT_FOUND, PAYMENT_FAILED; TIMEOUT when none came in `timeoutMs`, though it may still
   * complete). A payment already resolved answers from its durable record, also after a restart.
   */
  outcome(paymentId: string, timeoutMs = DEFAULT_OUTCOME_TIMEOUT_MS): Promise<SentPayment> {
    const id = typeof paymentId === 'string' ? paymentId.toLowerCase() : '';
    const known = this.ctx.payments.get(id);
    if (known?.direction !== 'outbound')
      return Promise.reject(new NodeError('INVALID_INPUT', `no outbound payment ${id.slice(0, 64)}`));
    const settled = settledOutcome(known);
    if (settled) return settled;
    const { bus, scheduler } = this.ctx;
    return new Promise<SentPayment>((resolve, reject) => {
      const done = () => {
        scheduler.clearTimeout(timer);
        offSent();
        offFailed();
      };
      const timer = scheduler.setTimeout(() => {
        done();
        reject(
          new NodeError('TIMEOUT', `payment ${id} unresolved after ${timeoutMs} ms (it may still complete)`),
        );
      }, timeoutMs);
      const offSent = bus.on('payment-sent', (e: EventOf<'payment-sent'>) => {
        if (e.paymentId !== id) return;
        done();
        resolve({
          paymentId: id,
          paymentHash: e.paymentHash,
          preimage: e.preimage,
          amountMsat: known.amountMsat ?? 0n,
          feeMsat: e.feeMsat ?? 0n,
        });
      });
      const offFailed = bus.on('payment-failed', (e: EventOf<'payment-failed'>) => {
        if (e.paymentId !== id) return;
        done();
        reject(failureError(e.reason));
      });
    });
  }

  /** LDK's memory of `paymentId` (pending, fulfilled, abandoned), or undefined when it has none. */
  recentState(paymentId: string): RecentPaymentState {
    const id = paymentId.toLowerCase();
    return withLdk((own) => {
      for (const p of own(this.ctx.channelManager.list_recent_payments())) {
        const pid =
          p instanceof ldk.RecentPaymentDetails_Pending ||
          p instanceof ldk.RecentPaymentDetails_Fulfilled ||
          p instanceof ldk.RecentPaymentDetails_Abandoned ||
          p instanceof ldk.RecentPaymentDetails_AwaitingInvoice
            ? p.payment_id
            : undefined;
        if (!pid || toHex(pid) !== id) continue;
        if (p instanceof ldk.RecentPaymentDetails_Pending) return 'pending';
        if (p instanceof ldk.RecentPaymentDetails_Fulfilled) return 'fulfilled';
        return 'abandoned';
      }
      return undefined;
    });
  }

  /** Checks what every send checks before LDK sees it; returns the fee limit to send with. */
  protected checkSend(amountMsat: bigint, options: SendOptions): bigint {
    if (options.maxFeeMsat !== undefined) assertBigint(options.maxFeeMsat, 'maxFeeMsat');
    if (options.record !== undefined && typeof options.record !== 'boolean')
      throw new NodeError('INVALID_INPUT', '"record" expected a boolean');
    const maxFeeMsat = options.maxFeeMsat ?? defaultMaxFeeMsat(amountMsat);
    this.ctx.assertCanSend(amountMsat + maxFeeMsat);
    this.ctx.assertFeesAllow(amountMsat);
    return maxFeeMsat;
  }

  /** A caller's payment id as bytes (32, hex), refused while a record of it is pending or succeeded. */
  protected paymentIdBytes(paymentId: string, what = 'paymentId'): Uint8Array {
    const bytes = fromHex(paymentId, what);
    if (bytes.length !== 32) throw new NodeError('INVALID_INPUT', `"${what}" expected 32 bytes`);
    return bytes;
  }

  /** LDK forgets a payment some ticks after it resolved: our record keeps refusing to pay it twice. */
  protected assertNotPaid(id: string): void {
    const existing = this.ctx.payments.get(id);
    if (existing && existing.direction === 'outbound' && existing.status !== 'failed')
      throw new NodeError('DUPLICATE_PAYMENT', `payment ${id} is ${existing.status}`);
  }

  /** Throws LDK's refusal (nothing left us) as a NodeError. */
  protected throwIfRefused(
    sent: ldk.Result_NoneRetryableSendFailureZ | ldk.Result_ThirtyTwoBytesRetryableSendFailureZ,
  ): void {
    if (bool(sent.is_ok())) return;
    throw refusalError(errorOf(sent) as ldk.RetryableSendFailure);
  }

  /** Keeps the record (unless the caller keeps its own) and returns once it is durable. */
  protected async recorded(
    record: Omit<PaymentRecord, 'createdAt' | 'updatedAt'>,
    keep: boolean | undefined,
  ): Promise<string> {
    if (keep === false) {
      this.ctx.wake();
      return record.id;
    }
    this.ctx.payments.create(record);
    await new Promise<void>((resolve) => {
      this.ctx.queue.onDurable(resolve);
      this.ctx.wake();
    });
    return record.id;
  }
}

function failureError(reason: string | undefined): NodeError {
  return new NodeError(reason === 'RouteNotFound' ? 'ROUTE_NOT_FOUND' : 'PAYMENT_FAILED', reason);
}

function settledOutcome(record: PaymentRecord): Promise<SentPayment> | undefined {
  if (record.status === 'failed') return Promise.reject(failureError(record.failureReason));
  if (record.status !== 'succeeded') return undefined;
  return Promise.resolve({
    paymentId: record.id,
    paymentHash: record.paymentHash,
    preimage: record.preimage ?? '',
    amountMsat: record.amountMsat ?? 0n,
    feeMsat: record.feeMsat ?? 0n,
  });
}

/** LDK's immediate refusal of a send as the node's error. */
export function refusalError(failure: ldk.RetryableSendFailure): NodeError {
  switch (failure) {
    case ldk.RetryableSendFailure.LDKRetryableSendFailure_RouteNotFound:
      return new NodeError('ROUTE_NOT_FOUND', 'no route within the fee limit and channel limits');
    case ldk.RetryableSendFailure.LDKRetryableSendFailure_PaymentExpired:
      return new NodeError('INVOICE_EXPIRED');
    case ldk.RetryableSendFailure.LDKRetryableSendFailure_DuplicatePayment:
      return new NodeError('DUPLICATE_PAYMENT', 'this payment was already attempted');
    default:
      return new NodeError(
        'PAYMENT_FAILED',
        describeLdkError(failure, ldk.RetryableSendFailure as unknown as Record<number, string>),
      );
  }
}
