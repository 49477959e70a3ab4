// A bound on work that holds the event loop (pathfinding, invoice signing): at most `concurrency`
// jobs run at once. A job that finds a slot free starts at once; one that waited starts on a fresh
// event-loop turn, so requests already waiting (an `info`, a login, the Lightning pump) get their
// turn between the jobs of a line (a batch's route queries). Every job used to wait for a turn: under
// the hostile bench a wallet's one route query then waited a whole turn of 10-20 ms with the gate
// free. At most `queue` wait, and past that the
// caller is told to come back, instead of one client's batch stalling everyone. Waiting jobs are
// served one client at a time in turn, and one client may hold at most `queuePerClient` places: a
// flood from one address waits behind itself, not in front of everyone else. A client with nothing
// running or waiting goes ahead of the clients already in line (FQ-CoDel's "new flows"): a wallet's
// one route query waits for the jobs running, not for a turn of every flood that holds places
// (under the hostile bench, honest routes.find spent most of its p99 waiting for those turns). A
// full queue refuses the client with the most places, not the newcomer: else a few floods, each
// within its share, keep the queue full and every wallet that comes along is told to come back.
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
  /**
   * Waiters by client, in the order clients take their turns (a Map keeps insertion order): first
   * the clients that had nothing running or waiting when they came, then the rest. A client whose
   * turn came and who still waits goes to the back of `old`.
   */
  private readonly fresh = new Map<string, Waiter[]>();
  private readonly old = new Map<string, Waiter[]>();
  /** Jobs running per client. */
  private readonly runningBy = new Map<string, number>();

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
    const waited = this.running >= this.concurrency;
    if (waited) {
      const mine = this.waitersOf(client);
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
        const now = this.waitersOf(client);
        if (now) now.push(waiter);
        else (this.runningBy.has(client) ? this.old : this.fresh).set(client, [waiter]);
        this.waitingCount++;
      });
    } else {
      this.running++;
    }
    this.runningBy.set(client, (this.runningBy.get(client) ?? 0) + 1);
    try {
      // handed its slot as the job before ended: its turn to start is the next
      if (waited) await new Promise<void>((resolve) => setImmediate(resolve));
      return await job();
    } finally {
      const left = this.runningBy.get(client)! - 1;
      if (left === 0) this.runningBy.delete(client);
      else this.runningBy.set(client, left);
      // hand the slot straight to the next waiter (running stays counted), else free it
      const next = this.nextWaiter();
      if (next) next();
      else this.running--;
    }
  }

  private waitersOf(client: string): Waiter[] | undefined {
    return this.fresh.get(client) ?? this.old.get(client);
  }

  /** The first waiter of the client whose turn it is; that client goes to the back of the old line. */
  private nextWaiter(): (() => void) | undefined {
    const line = this.fresh.size > 0 ? this.fresh : this.old;
    const first = line.entries().next();
    if (first.done) return undefined;
    const [client, waiters] = first.value;
    const next = waiters.shift()!;
    line.delete(client);
    if (waiters.length > 0) this.old.set(client, waiters);
    this.waitingCount--;
    return next.admit;
  }

  /** The client holding the most places (the first in turn among equals). */
  private heaviest(): [string, Waiter[]] | undefined {
    let heaviest: [string, Waiter[]] | undefined;
    for (const line of [this.fresh, this.old]) {
      for (const entry of line) if (!heaviest || entry[1].length > heaviest[1].length) heaviest = entry;
    }
    return heaviest;
  }

  private removeNewest(client: string, waiters: Waiter[]): Waiter {
    const newest = waiters.pop()!;
    if (waiters.length === 0) {
      this.fresh.delete(client);
      this.old.delete(client);
    }
    this.waitingCount--;
    return newest;
  }

  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waitingCount };
  }
}
