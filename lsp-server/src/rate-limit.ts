// In-process token buckets keyed by IP or wallet. Enough for one process; several LSP processes
// would each enforce their own share.

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();
  private readonly ratePerMs: number;

  /** `perWindow` tokens per `windowMs` (a minute by default) per key, bursting up to `size`. */
  constructor(
    perWindow: number,
    private readonly clock: () => number = Date.now,
    private readonly maxKeys = 100_000,
    windowMs = 60_000,
    private readonly size = perWindow,
  ) {
    this.ratePerMs = perWindow / windowMs;
  }

  /**
   * Takes `count` tokens (a batch's calls, a backup's bytes) or none; returns 0 when allowed, else
   * the whole seconds until `count` are available.
   */
  take(key: string, count = 1): number {
    const wait = this.wait(key, count);
    if (wait === 0) this.buckets.get(key)!.tokens -= count;
    return wait;
  }

  /** What `take` would answer, taking nothing. */
  wait(key: string, count = 1): number {
    const now = this.clock();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.evictFull(now);
      b = { tokens: this.size, atMs: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.size, b.tokens + Math.max(0, now - b.atMs) * this.ratePerMs);
      b.atMs = now;
    }
    if (b.tokens >= count) return 0;
    return Math.max(1, Math.ceil((count - b.tokens) / this.ratePerMs / 1000));
  }

  /** Buckets that have refilled completely hold no information; drop them (else drop the oldest). */
  private evictFull(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.atMs) * this.ratePerMs >= this.size) this.buckets.delete(key);
    }
    if (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }
}
