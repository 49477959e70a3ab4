// A bound on work that holds the event loop (pathfinding, invoice signing): at most `concurrency`
// jobs run at once, each started on a fresh event-loop turn so requests already waiting (an `info`,
// a login, the Lightning pump) get their turn between them; at most `queue` wait, and past that the
// caller is told to come back, instead of one client's batch stalling everyone.
import { ApiError } from '@lpw/api';

export class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  /** Runs `job` when a slot is free; RATE_LIMITED (retry in 1 s) when the queue is full. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) {
        throw new ApiError('RATE_LIMITED', 'the LSP is busy with slow requests; retry in 1 s', {
          retryAfterSec: 1,
        });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return await job();
    } finally {
      // hand the slot straight to the next waiter (running stays counted), else free it
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}
