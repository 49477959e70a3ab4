// Admin login backoff per client IP: after `after` wrong passwords an IP waits 1 s, then each
// further wrong one doubles the wait up to `maxSec`. The wait always ends, and only that IP waits,
// so a guesser elsewhere can slow the operator down at most from their own address; a right password
// after the wait clears the count.

export class LoginLockout {
  private readonly failures = new Map<string, { count: number; untilMs: number }>();

  constructor(
    private readonly after: number,
    private readonly maxSec: number,
    private readonly clock: () => number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Seconds this IP must still wait before a password is even checked; 0 when it may try. */
  waitSec(ip: string): number {
    const f = this.failures.get(ip);
    const left = f ? f.untilMs - this.clock() : 0;
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  failed(ip: string): void {
    const f = this.failures.get(ip) ?? { count: 0, untilMs: 0 };
    f.count++;
    if (f.count >= this.after) {
      const waitSec = Math.min(this.maxSec, 2 ** Math.min(30, f.count - this.after));
      f.untilMs = this.clock() + waitSec * 1000;
    }
    this.failures.delete(ip); // re-insert: the map stays ordered by last failure
    this.failures.set(ip, f);
    if (this.failures.size > this.maxKeys) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }

  succeeded(ip: string): void {
    this.failures.delete(ip);
  }
}
