// Typed events the node emits, and how to listen: `on(kind, fn)`, an async iterator, `waitFor`.
// Listeners run after the LDK call that produced the event has returned (never inside WASM), each
// isolated: a listener that throws is reported as an `error` event and harms nothing else.
import type { ChainErrorCode } from './chain/errors.ts';
import { NodeError, type NodeErrorCode } from './errors.ts';
import type { RecoveryChannel } from './recovery.ts';

export type NodeEvent =
  | {
      kind: 'payment-received';
      paymentHash: string;
      amountMsat: bigint;
      /** Fee an LSP took from the forwarded HTLC (JIT channel opening fee). */
      skimmedFeeMsat: bigint;
      paymentId?: string;
    }
  | {
      kind: 'payment-sent';
      paymentId: string;
      paymentHash: string;
      preimage: string;
      feeMsat: bigint | undefined;
      amountMsat: bigint | undefined;
    }
  | { kind: 'payment-failed'; paymentId: string; paymentHash: string | undefined; reason: string }
  | {
      kind: 'payment-forwarded';
      prevChannelId: string;
      nextChannelId: string;
      feeEarnedMsat: bigint | undefined;
      skimmedFeeMsat: bigint | undefined;
      outboundAmountMsat: bigint | undefined;
    }
  | {
      kind: 'channel-pending';
      channelId: string;
      userChannelId: bigint;
      peerId: string;
      fundingTxo: string;
      formerTemporaryChannelId: string;
    }
  | { kind: 'channel-ready'; channelId: string; userChannelId: bigint; peerId: string }
  | {
      kind: 'channel-closed';
      channelId: string;
      userChannelId: bigint;
      peerId: string;
      reason: string;
      capacitySat: bigint | undefined;
      lastLocalBalanceMsat: bigint | undefined;
    }
  | {
      /** Informational: the on-chain wallet builds and signs the funding transaction itself. */
      kind: 'funding-needed';
      temporaryChannelId: string;
      peerId: string;
      userChannelId: bigint;
      valueSat: bigint;
      outputScript: Uint8Array;
    }
  | {
      kind: 'htlc-intercepted';
      interceptId: string;
      requestedScid: bigint;
      paymentHash: string;
      inboundAmountMsat: bigint;
      expectedOutboundAmountMsat: bigint;
    }
  | { kind: 'htlc-handling-failed'; prevChannelId: string; destination: string }
  | { kind: 'spendable-outputs'; channelId: string | undefined; descriptors: Uint8Array[] }
  | {
      kind: 'open-channel-request';
      temporaryChannelId: string;
      peerId: string;
      fundingSat: bigint;
      pushMsat: bigint;
      announced: boolean;
    }
  | {
      /** A recovery moved on (recoveryStatus()): the peer's close seen, confirmed, money in the wallet. */
      kind: 'recovery-changed';
      channels: RecoveryChannel[];
    }
  /** A peer's handshake completed (its Init arrived): from now on `isConnected(peerId)`. */
  | { kind: 'peer-connected'; peerId: string }
  /** A peer that had connected is gone (either side closed, or the transport dropped). */
  | { kind: 'peer-disconnected'; peerId: string }
  | {
      /**
       * What a view shows may have changed without an event of its own: a peer sent messages (a
       * channel usable again after reestablish, the peer's update_fee) or a chain sync ended
       * (blocks, on-chain coins, sweeps, fee estimates). At most one per 250 ms: read the state again.
       */
      kind: 'changed';
    }
  | {
      /**
       * LDK's WASM memory (shared by every node in this process) passed 70% of its limit, or a further
       * 5% after that. It never shrinks and the instance dies at the limit: drain and restart.
       */
      kind: 'wasm-memory-high';
      usedBytes: number;
      limitBytes: number;
    }
  | {
      /**
       * The checked chain view (chain/checked.ts) failed a check, or recovered: while `ok` is false
       * the node feeds LDK nothing from the chain. `code` names what was caught.
       */
      kind: 'chain-view-changed';
      ok: boolean;
      code?: ChainErrorCode;
      message?: string;
    }
  | { kind: 'error'; code: NodeErrorCode; message: string; cause?: unknown };

export type NodeEventKind = NodeEvent['kind'];
export type EventOf<K extends NodeEventKind> = Extract<NodeEvent, { kind: K }>;
export type Listener<K extends NodeEventKind> = (event: EventOf<K>) => void;

export class EventBus {
  private readonly listeners = new Map<NodeEventKind | '*', Set<(e: NodeEvent) => void>>();

  on<K extends NodeEventKind>(kind: K, fn: Listener<K>): () => void {
    return this.add(kind, fn as (e: NodeEvent) => void);
  }

  onAny(fn: (event: NodeEvent) => void): () => void {
    return this.add('*', fn);
  }

  /**
   * Queued delivery: listeners run once the current (LDK) call stack has unwound, as a microtask.
   * Not a later task: the pump step that handles an event starts its commit before it returns, and
   * in a browser the commit's backup encoding then held the thread before the next task, so a payer
   * saw PaymentSent 8-35 ms late. Microtasks run only on an empty stack, so LDK is never re-entered.
   */
  emit(event: NodeEvent): void {
    queueMicrotask(() => this.deliver(event));
  }

  /** Resolves with the first event of `kind` matching `match`; NodeError('TIMEOUT') otherwise. */
  waitFor<K extends NodeEventKind>(
    kind: K,
    match: (event: EventOf<K>) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<EventOf<K>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new NodeError('TIMEOUT', `no ${kind} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(kind, (event) => {
        if (!match(event)) return;
        clearTimeout(timer);
        off();
        resolve(event);
      });
    });
  }

  /** Every event from now on, in order, until the consumer stops (`break`) iterating. */
  iterate(): AsyncIterableIterator<NodeEvent> {
    const buffer: NodeEvent[] = [];
    let wake: (() => void) | null = null;
    const off = this.onAny((event) => {
      buffer.push(event);
      wake?.();
    });
    const iterator: AsyncIterableIterator<NodeEvent> = {
      async next() {
        while (buffer.length === 0) await new Promise<void>((r) => (wake = r));
        wake = null;
        return { value: buffer.shift()!, done: false };
      },
      async return() {
        off();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  private add(kind: NodeEventKind | '*', fn: (e: NodeEvent) => void): () => void {
    let set = this.listeners.get(kind);
    if (!set) {
      set = new Set();
      this.listeners.set(kind, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  private deliver(event: NodeEvent): void {
    for (const fn of [...(this.listeners.get(event.kind) ?? []), ...(this.listeners.get('*') ?? [])]) {
      try {
        fn(event);
      } catch (error) {
        if (event.kind === 'error') continue; // an error listener that throws: nowhere left to report
        this.emit({
          kind: 'error',
          code: 'CALLBACK_FAILED',
          message: `listener for ${event.kind} threw: ${error instanceof Error ? error.message : String(error)}`,
          cause: error,
        });
      }
    }
  }
}

/** Debounce of `changed`: one event this long after the first cause, whatever follows meanwhile. */
export const CHANGED_EVERY_MS = 250;

/** A `changed` notice: call it on each cause; one event follows, at most one per CHANGED_EVERY_MS. */
export function changedNotice(
  bus: EventBus,
  setTimer: (fn: () => void, ms: number) => unknown,
  stopped: () => boolean,
): () => void {
  let pending = false;
  return () => {
    if (pending || stopped()) return;
    pending = true;
    setTimer(() => {
      pending = false;
      if (!stopped()) bus.emit({ kind: 'changed' });
    }, CHANGED_EVERY_MS);
  };
}
