// Who gets the LSP's one thread next when it is behind: requests then wait per client address, and
// each turn of the event loop starts the oldest request of the address that used the LSP least
// lately, so a flood waits behind itself and an occasional wallet waits only for the work already
// started. When the loop keeps up, requests start at once and this costs one map update each.

/** A request waiting for its address's turn. */
export interface Held {
  /** Hands it to the app. */
  admit(): void;
  /** Answers it with a refusal: the queue is full and its address is the heaviest waiting. */
  evict(): void;
}

export interface FairQueueOptions {
  /** Event-loop lag (ms) past which requests wait for their turn; 0: they always do. */
  lagMs: number;
  /** Requests one address may have waiting. */
  perAddress: number;
  /** Requests waiting, all addresses together. */
  max: number;
  /** The clock recent use decays by (the app's, so tests can hold it still). */
  clock: () => number;
}

/** Recent use halves in this time: an address that stopped is light again within a minute. */
const USE_HALF_LIFE_MS = 10_000;
/** The lag probe's period; it runs only while requests arrive. */
const PROBE_MS = 10;
/** Once lag is seen, requests take turns for this long: going back to arrival order costs a lag. */
const FAIR_FOR_MS = 1_000;
/** The probe stops after this long without a request. */
const PROBE_IDLE_MS = 2_000;
/** Addresses whose use is remembered; past it the lightest are forgotten (as if new). */
const MAX_ADDRESSES = 100_000;

export type FairVerdict = 'ok' | 'address-full' | 'full';

export class FairQueue {
  /** Waiting requests by address, oldest first; the Map's order breaks ties between addresses. */
  private readonly waiting = new Map<string, Held[]>();
  private waitingCount = 0;
  /** Calls admitted per address, decayed, as of `atMs`. */
  private readonly use = new Map<string, { calls: number; atMs: number }>();
  private laggingUntil = 0;
  private probe: NodeJS.Timeout | undefined;
  private lastArrival = 0;
  private turnScheduled = false;

  constructor(private readonly o: FairQueueOptions) {}

  /** Whether requests now wait for their turn: the loop lagged lately, or some already wait. */
  get taking(): boolean {
    return this.o.lagMs === 0 || this.waitingCount > 0 || performance.now() < this.laggingUntil;
  }

  /** Requests waiting now, all addresses, or one address's. */
  held(address?: string): number {
    return address === undefined ? this.waitingCount : (this.waiting.get(address)?.length ?? 0);
  }

  /**
   * Whether `address` may have one more request wait: not if it has `perAddress` waiting, nor if
   * the queue is full and no waiting address has used more lately (else that one's newest goes).
   */
  check(address: string): FairVerdict {
    this.watchLag();
    if (!this.taking) return 'ok';
    if (this.held(address) >= this.o.perAddress) return 'address-full';
    if (this.waitingCount < this.o.max) return 'ok';
    const heaviest = this.heaviestWaiting();
    return heaviest !== undefined && this.recentUse(heaviest) > this.recentUse(address) ? 'ok' : 'full';
  }

  /**
   * Admits `held` now (the loop keeps up: returns undefined) or in its address's turn (returns the
   * cancel for a request that goes away while waiting); `calls` are charged to the address either
   * way. Call `check` first: past the bound, the heaviest address's newest waiting one is evicted.
   */
  enter(address: string, calls: number, held: Held): (() => void) | undefined {
    const now = this.o.clock();
    this.charge(address, calls, now);
    if (!this.taking) {
      held.admit();
      return undefined;
    }
    if (this.waitingCount >= this.o.max) {
      const heaviest = this.heaviestWaiting();
      if (heaviest !== undefined) this.remove(heaviest, this.waiting.get(heaviest)!.at(-1)!)?.evict();
    }
    const mine = this.waiting.get(address);
    if (mine) mine.push(held);
    else this.waiting.set(address, [held]);
    this.waitingCount++;
    this.scheduleTurn();
    return () => void this.remove(address, held);
  }

  /** One request per event-loop turn: the turn's new arrivals are queued before the next is picked. */
  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => {
      this.turnScheduled = false;
      const address = this.lightestWaiting();
      if (address === undefined) return;
      const mine = this.waiting.get(address)!;
      const next = mine.shift()!;
      this.waitingCount--;
      // to the back of the line: among equally light addresses, each takes its turn
      this.waiting.delete(address);
      if (mine.length > 0) this.waiting.set(address, mine);
      if (this.waitingCount > 0) this.scheduleTurn();
      next.admit();
    });
  }

  private remove(address: string, held: Held): Held | undefined {
    const mine = this.waiting.get(address);
    const i = mine?.indexOf(held) ?? -1;
    if (!mine || i === -1) return undefined;
    mine.splice(i, 1);
    if (mine.length === 0) this.waiting.delete(address);
    this.waitingCount--;
    return held;
  }

  private charge(address: string, calls: number, now: number): void {
    if (!this.use.has(address) && this.use.size >= MAX_ADDRESSES) this.forgetLightest(now);
    this.use.set(address, { calls: this.recentUse(address, now) + calls, atMs: now });
  }

  private recentUse(address: string, now = this.o.clock()): number {
    const u = this.use.get(address);
    return u ? u.calls * 2 ** (-Math.max(0, now - u.atMs) / USE_HALF_LIFE_MS) : 0;
  }

  private lightestWaiting(): string | undefined {
    return this.extremeWaiting((use, best) => use < best);
  }

  private heaviestWaiting(): string | undefined {
    return this.extremeWaiting((use, best) => use > best);
  }

  /** The waiting address whose use beats every other's by `better` (the first in line on a tie). */
  private extremeWaiting(better: (use: number, best: number) => boolean): string | undefined {
    const now = this.o.clock();
    let found: string | undefined;
    let foundUse = 0;
    for (const address of this.waiting.keys()) {
      const use = this.recentUse(address, now);
      if (found === undefined || better(use, foundUse)) {
        found = address;
        foundUse = use;
      }
    }
    return found;
  }

  /** Drops the addresses that have used under one call lately (and, if none has, the oldest). */
  private forgetLightest(now: number): void {
    for (const address of this.use.keys()) {
      if (!this.waiting.has(address) && this.recentUse(address, now) < 1) this.use.delete(address);
    }
    if (this.use.size >= MAX_ADDRESSES) {
      const oldest = this.use.keys().next().value;
      if (oldest !== undefined) this.use.delete(oldest);
    }
  }

  /**
   * Measures the loop's lag with a timer that runs only while requests arrive (a quiet LSP wakes for
   * nothing): how late it fires is how long a request arriving then would have waited.
   */
  private watchLag(): void {
    this.lastArrival = performance.now();
    if (this.probe || this.o.lagMs === 0) return;
    const tick = (due: number) => {
      const now = performance.now();
      if (now - due > this.o.lagMs) this.laggingUntil = now + FAIR_FOR_MS;
      if (now - this.lastArrival > PROBE_IDLE_MS) {
        this.probe = undefined;
        return;
      }
      this.probe = setTimeout(tick, PROBE_MS, now + PROBE_MS);
      this.probe.unref();
    };
    this.probe = setTimeout(tick, PROBE_MS, this.lastArrival + PROBE_MS);
    this.probe.unref();
  }
}
