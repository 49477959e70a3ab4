// The single ordered path from the node to its Store. Writes queued between two flushes become one
// atomic commit; batches commit strictly in order, one at a time; callbacks registered with
// `onDurable` run only after the batch holding everything queued before them is durable. A failed
// commit is kept (not dropped), reported, and retried with backoff: nothing is acknowledged to LDK
// until it is on disk.
import { NodeError } from '../errors.ts';
import type { Store, StoreWrite } from './store.ts';

export interface CommitQueueOptions {
  store: Store;
  /** Persistence failures (the batch stays queued and is retried). */
  onError: (error: NodeError) => void;
  /** Called after each durable batch, e.g. to wake the event pump. */
  onCommitted?: () => void;
  setTimer: (fn: () => void, ms: number) => unknown;
  retryDelayMs?: (attempt: number) => number;
}

type Hook = () => void;

export class CommitQueue {
  private pending = new Map<string, Uint8Array | null>();
  private callbacks: Array<() => void> = [];
  private readonly hooks: Hook[] = [];
  private committing = false;
  private failures = 0;
  private retryTimer = false;
  private drainWaiters: Array<() => void> = [];
  private readonly options: CommitQueueOptions;
  /** Number of durable batches, for tests and metrics. */
  batches = 0;

  constructor(options: CommitQueueOptions) {
    this.options = options;
  }

  write(key: string, value: Uint8Array | null): void {
    // re-inserting moves nothing: Map keeps first-insertion order, the batch is atomic anyway
    this.pending.set(key, value);
  }

  /** Runs `fn` once everything queued so far (and the hooks' additions) is durable. */
  onDurable(fn: () => void): void {
    this.callbacks.push(fn);
  }

  /** Hooks run right before a batch is cut; they may add writes (the manager snapshot). */
  beforeCommit(hook: Hook): void {
    this.hooks.push(hook);
  }

  /** Writes are queued for the next batch. */
  get hasWrites(): boolean {
    return this.pending.size > 0;
  }

  get busy(): boolean {
    return this.committing || this.pending.size > 0 || this.callbacks.length > 0;
  }

  /** Starts a commit of everything queued, unless one is in flight (it re-flushes when done). */
  flush(): void {
    if (this.committing || this.retryTimer) return;
    for (const hook of this.hooks) hook();
    if (this.pending.size === 0 && this.callbacks.length === 0) {
      this.resolveDrainWaiters();
      return;
    }
    const batch: StoreWrite[] = [...this.pending].map(([key, value]) => ({ key, value }));
    const callbacks = this.callbacks;
    this.pending = new Map();
    this.callbacks = [];
    this.committing = true;
    let result: void | Promise<void>;
    try {
      result = batch.length > 0 ? this.options.store.commit(batch) : undefined;
    } catch (error) {
      this.failed(batch, callbacks, error);
      return;
    }
    if (result && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(
        () => this.durable(callbacks),
        (error: unknown) => this.failed(batch, callbacks, error),
      );
    } else {
      this.durable(callbacks);
    }
  }

  /** Resolves when nothing is queued or in flight (flushing as needed). */
  drain(): Promise<void> {
    return new Promise((resolve) => {
      this.drainWaiters.push(resolve);
      this.flush();
    });
  }

  private durable(callbacks: Array<() => void>): void {
    this.committing = false;
    this.failures = 0;
    this.batches++;
    for (const fn of callbacks) {
      try {
        fn();
      } catch (error) {
        this.options.onError(
          new NodeError('PERSISTENCE_FAILED', 'after-commit callback failed', { cause: error }),
        );
      }
    }
    this.options.onCommitted?.();
    if (this.pending.size > 0 || this.callbacks.length > 0 || this.drainWaiters.length > 0) this.flush();
  }

  private failed(batch: StoreWrite[], callbacks: Array<() => void>, error: unknown): void {
    this.committing = false;
    // put the batch back in front of anything queued since; newer values of a key win
    const merged = new Map<string, Uint8Array | null>();
    for (const w of batch) merged.set(w.key, w.value);
    for (const [k, v] of this.pending) merged.set(k, v);
    this.pending = merged;
    this.callbacks = [...callbacks, ...this.callbacks];
    this.failures++;
    this.options.onError(
      new NodeError(
        'PERSISTENCE_FAILED',
        `commit of ${batch.length} writes failed (attempt ${this.failures})`,
        {
          cause: error,
        },
      ),
    );
    const delay = this.options.retryDelayMs?.(this.failures) ?? Math.min(30_000, 100 * 2 ** this.failures);
    this.retryTimer = true;
    this.options.setTimer(() => {
      this.retryTimer = false;
      this.flush();
    }, delay);
  }

  private resolveDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}
