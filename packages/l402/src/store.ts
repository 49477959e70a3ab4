// Counting uses per token id. A macaroon cannot count its own uses (it is a bearer string the client
// can replay), so the count lives server-side behind this interface; memory by default.

export interface UsageStore {
  /**
   * Atomically counts one use of `tokenId` unless `maxUses` were already counted; false when the
   * token is used up. After `expiresAtSec` (unix seconds) the token is refused anyway, so the store
   * may forget its counter.
   */
  consume(tokenId: string, maxUses: number, expiresAtSec: number | undefined): boolean | Promise<boolean>;
}

/** Counters in a Map; expired ones are swept as new tokens arrive, so memory follows live tokens. */
export class MemoryUsageStore implements UsageStore {
  private readonly counters = new Map<string, { used: number; expiresAtSec: number | undefined }>();
  private nextSweepSec = 0;

  constructor(private readonly nowSec: () => number = () => Math.floor(Date.now() / 1000)) {}

  consume(tokenId: string, maxUses: number, expiresAtSec: number | undefined): boolean {
    this.sweep();
    const counter = this.counters.get(tokenId) ?? { used: 0, expiresAtSec };
    if (counter.used >= maxUses) return false;
    counter.used++;
    this.counters.set(tokenId, counter);
    return true;
  }

  /** Uses counted so far for `tokenId`. */
  used(tokenId: string): number {
    return this.counters.get(tokenId)?.used ?? 0;
  }

  get size(): number {
    return this.counters.size;
  }

  private sweep(): void {
    const now = this.nowSec();
    if (now < this.nextSweepSec) return;
    this.nextSweepSec = now + 60;
    for (const [tokenId, { expiresAtSec }] of this.counters) {
      if (expiresAtSec !== undefined && expiresAtSec <= now) this.counters.delete(tokenId);
    }
  }
}
