// A bound on work that holds the event loop (pathfinding, invoice signing): at most `concurrency`
// jobs run at once, each started on a fresh event-loop turn so requests already waiting (an `info`,
// a login, the Lightning pump) get their turn between them; at most `queue` wait, and past that the
// caller is told to come back, instead of one client's batch stalling everyone. Waiting jobs are
// served one client at a time in turn, and one client may hold at most `queuePerClient` places: a
// flood from one address waits behind itself, not in front of everyone else.
import { ApiError } from '@lpw/api';

const busy = () =>
  new ApiError('RATE_LIMITED', 'the LSP is busy with slow requests; retry in 1 s', { retryAfterSec: 1 });

export class Gate {
  private running = 0;
  private waitingCount = 0;
  /** Waiters by client, in the order clients take their turns (a Map keeps insertion order). */
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
    private readonly queuePerClient = queue,
  ) {}

  /** Runs `job` when a slot is free; RATE_LIMITED (retry in 1 s) when the queue, or `client`'s share of it, is full. */
  async run<T>(job: () => Promise<T>, client = ''): Promise<T> {
    if (this.running >= this.concurrency) {
      const mine = this.waiting.get(client);
      if (this.waitingCount >= this.queue || (mine?.length ?? 0) >= this.queuePerClient) throw busy();
      await new Promise<void>((resolve) => {
        if (mine) mine.push(resolve);
        else this.waiting.set(client, [resolve]);
        this.waitingCount++;
      });
    } else {
      this.running++;
    }
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return await job();
    } finally {
      // hand the slot straight to the next waiter (running stays counted), else free it
      const next = this.nextWaiter();
      if (next) next();
      else this.running--;
    }
  }

  /** The first waiter of the client whose turn it is; that client goes to the back of the line. */
  private nextWaiter(): (() => void) | undefined {
    const first = this.waiting.entries().next();
    if (first.done) return undefined;
    const [client, waiters] = first.value;
    const next = waiters.shift()!;
    this.waiting.delete(client);
    if (waiters.length > 0) this.waiting.set(client, waiters);
    this.waitingCount--;
    return next;
  }

  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waitingCount };
  }
}
