// A bound on work that holds the event loop (pathfinding, invoice signing): at most `concurrency`
// jobs run at once, each started on a fresh event-loop turn so requests already waiting (an `info`,
// a login, the Lightning pump) get their turn between them; at most `queue` wait, and past that the
// caller is told to come back, instead of one client's batch stalling everyone. Waiting jobs are
// served one client at a time in turn, and one client may hold at most `queuePerClient` places: a
// flood from one address waits behind itself, not in front of everyone else. A full queue refuses
// the client with the most places, not the newcomer: else a few floods, each within its share, keep
// the queue full and every wallet that comes along is told to come back.
import { ApiError } from '@lpw/api';

const busy = () =>
  new ApiError('RATE_LIMITED', 'the LSP is busy with slow requests; retry in 1 s', { retryAfterSec: 1 });

interface Waiter {
  admit: () => void;
  refuse: (error: ApiError) => void;
}

export class Gate {
  private running = 0;
  private waitingCount = 0;
  /** Waiters by client, in the order clients take their turns (a Map keeps insertion order). */
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
    private readonly queuePerClient = queue,
  ) {}

  /**
   * Runs `job` when a slot is free; RATE_LIMITED (retry in 1 s) when `client`'s share of the queue
   * is full, or the queue is and no client holds two places more than `client`. Past the bound the
   * newest waiter of the client with the most places is refused instead.
   */
  async run<T>(job: () => Promise<T>, client = ''): Promise<T> {
    if (this.running >= this.concurrency) {
      const mine = this.waiting.get(client);
      const places = mine?.length ?? 0;
      if (places >= this.queuePerClient) throw busy();
      if (this.waitingCount >= this.queue) {
        const heaviest = this.heaviest();
        // two more: after the swap it still holds more than `client`, so two floods do not take turns refusing each other
        if (!heaviest || heaviest[1].length < places + 2) throw busy();
        this.removeNewest(heaviest[0], heaviest[1]).refuse(busy());
      }
      await new Promise<void>((admit, refuse) => {
        const waiter = { admit, refuse };
        const now = this.waiting.get(client);
        if (now) now.push(waiter);
        else this.waiting.set(client, [waiter]);
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
    return next.admit;
  }

  /** The client holding the most places (the first in turn among equals). */
  private heaviest(): [string, Waiter[]] | undefined {
    let heaviest: [string, Waiter[]] | undefined;
    for (const entry of this.waiting) if (!heaviest || entry[1].length > heaviest[1].length) heaviest = entry;
    return heaviest;
  }

  private removeNewest(client: string, waiters: Waiter[]): Waiter {
    const newest = waiters.pop()!;
    if (waiters.length === 0) this.waiting.delete(client);
    this.waitingCount--;
    return newest;
  }

  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waitingCount };
  }
}
