// In-process token buckets keyed by IP or wallet. Enough for one process; several LSP processes
// would each enforce their own share.

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  /** `perMinute` requests per key, bursting up to the same number. */
  constructor(
    private readonly perMinute: number,
    private readonly clock: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes one token; returns 0 when allowed, else the seconds until one is available. */
  take(key: string): number {
    const now = this.clock();
    const ratePerMs = this.perMinute / 60_000;
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.evictFull(now, ratePerMs);
      b = { tokens: this.perMinute, atMs: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.perMinute, b.tokens + Math.max(0, now - b.atMs) * ratePerMs);
      b.atMs = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / ratePerMs / 1000);
  }

  /** Buckets that have refilled completely hold no information; drop them (else drop the oldest). */
  private evictFull(now: number, ratePerMs: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.atMs) * ratePerMs >= this.perMinute) this.buckets.delete(key);
    }
    if (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }
}
