// Who gets the LSP's one thread next when it is behind: requests then wait per client address, and
// each turn of the event loop starts one, in order of arrival counted late by the address's recent
// use (USE_DELAY_MS a call, and HEAVY_DELAY_MS more past HEAVY_USE calls or LIGHT_OPEN requests
// open at once), so a flood waits behind itself and behind every wallet, an occasional wallet waits
// only for the work already started, and wallets of equal use are served first come. When the loop
// keeps up, requests start at once and this costs one map update each; a heavy address's still take
// turns, so its burst cannot hold the loop for the wallets that come next, and run one at a time
// (HEAVY_RUNNING), so what they have started cannot either.

/** A request waiting for its address's turn. */
export interface Held {
  /**
   * Hands it to the app; `done` says it no longer runs (answered, or held for a refusal's wait), so
   * the next heavy request may start.
   */
  admit(done: () => void): void;
  /** Answers it with a refusal: the line is full and it was last in it. */
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
  /** The clock turns are timed by (TURN_SLICE_MS): performance.now() unless a test or a simulation holds it. */
  turnClock?: () => number;
}

/**
 * Recent use halves in this time: an address that stopped is light again within seconds, and one
 * that starts a flood is heavy within seconds. With 10 s (and 10 ms a call) a flood starting took
 * ~10 s to weigh what it weighs later, and meanwhile its requests, due only 10–100 ms late, went
 * ahead of wallets arriving that much after them: simulated (bench/src/fair-queue-sim.ts), wallets
 * arriving as 50 abusers start had p99 info / auth / routes.find 20 / 26 / 37 ms, 3.3 / 15 / 6.5 now.
 */
const USE_HALF_LIFE_MS = 2_000;
/**
 * How much later a request counts as arriving per call of recent use: a wallet's few calls move it
 * 50–200 ms (wallets are served first come, give or take that), a flood's 10 a second (~29 calls of
 * use) over 1.4 s, and nothing waits forever (by arrival, a flood's request goes first once it has
 * waited that long).
 */
const USE_DELAY_MS = 50;
/**
 * Recent use (calls) past which an address is heavy: a wallet's session is 3–5 calls (info, login,
 * a route or a quote). A heavy address's requests count HEAVY_DELAY_MS later still, so while the loop
 * lags they wait behind every light address's, not only behind those that came within its use's
 * 50 ms a call; after that long they go first, so nothing waits forever. Simulated at half the
 * speed (a machine shared with other work), with 50 abusers sending 7–10 a second: wallets' p99
 * info / auth / routes.find 5.6 / 13 / 10.4 ms with the attack under way, 481 / 1,111 / 659 ms without
 * this class (alone 1.6 / 8 / 4).
 */
const HEAVY_USE = 8;
/**
 * Requests open at once past which an address is heavy from its first call: a wallet waits for each
 * answer (through the journey and screen tests the PWA never had two /trpc requests open at once),
 * a flood keeps several open. Without it a flood starting weighed as little as a wallet for its
 * first few calls: under the hostile bench 50 abusers' ~150 requests went ahead of wallets already
 * logged in, in the attack's first second.
 */
const LIGHT_OPEN = 2;
const HEAVY_DELAY_MS = 10_000;
/**
 * A turn starts one light request per this many ms the last turn took (at most MAX_LIGHT_PER_TURN).
 * One a turn keeps the order exact but serves one request per turn: when turns grow long (an attack's
 * sockets, its requests' steps), wallets' requests arrive faster than turns come and the line grows
 * as long as the turns stay long (under the hostile bench: 10–15 waiting, turns of 10–16 ms, waits
 * of 100–170 ms). A wallet's request takes 1–2 ms in the turn it starts in.
 */
const TURN_SLICE_MS = 2;
const MAX_LIGHT_PER_TURN = 8;
/**
 * Heavy requests running at once. The queue starts requests turn by turn, but a request runs over
 * several turns (its body, its checks, its commit, the expensive gate), and every turn runs a step
 * of each one started: with the heavy ones starting whenever no light one waited, a wallet's request
 * arriving then waited a turn as long as all their steps. Under the hostile bench the slowest 1% of
 * the wallets' requests waited 5–13 turns of 10–16 ms with only wallets' requests ahead of them.
 * One at a time serves a heavy address as fast as a request takes, more than any limit lets it send.
 */
const HEAVY_RUNNING = 1;
/** A heavy request counts as running for at most this long: one that waits (on the network, on a commit) lets the next start. */
const HEAVY_LEASE_MS = 100;
/** The lag probe's period; it runs only while requests arrive. */
const PROBE_MS = 10;
/** Once lag is seen, requests take turns for this long: going back to arrival order costs a lag. */
const FAIR_FOR_MS = 1_000;
/** The probe stops after this long without a request. */
const PROBE_IDLE_MS = 2_000;
/** Addresses whose use is remembered; past it the lightest are forgotten (as if new). */
const MAX_ADDRESSES = 100_000;

export type FairVerdict = 'ok' | 'address-full' | 'full';

/** A waiting request and its place in line: arrival plus its address's use, then arrival order. */
interface Place {
  held: Held;
  dueMs: number;
  seq: number;
  /** Its address was heavy when it came (HEAVY_USE, LIGHT_OPEN). */
  heavy: boolean;
}

export class FairQueue {
  /** Waiting requests by address, oldest first. */
  private readonly waiting = new Map<string, Place[]>();
  private waitingCount = 0;
  private arrivals = 0;
  /** Calls admitted per address, decayed, as of `atMs`. */
  private readonly use = new Map<string, { calls: number; atMs: number }>();
  private laggingUntil = 0;
  private probe: NodeJS.Timeout | undefined;
  private lastArrival = 0;
  private turnScheduled = false;
  /** Heavy requests started and not done (HEAVY_RUNNING). */
  private heavyRunning = 0;
  /** When the last turn began, if it scheduled the next (a turn's length is measured between consecutive ones). */
  private lastTurnAt: number | undefined;

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
   * the line is full and this one would come last in it (else the last one in line goes).
   */
  check(address: string, calls: number, open: number): FairVerdict {
    this.watchLag();
    const place = this.rank(address, calls, open);
    if (!this.taking && !place.heavy) return 'ok';
    if (this.held(address) >= this.o.perAddress) return 'address-full';
    if (this.waitingCount < this.o.max) return 'ok';
    const last = this.lastInLine();
    return last && last.place.dueMs > place.dueMs ? 'ok' : 'full';
  }

  /**
   * Admits `held` now (the loop keeps up and its address is light: returns undefined) or in its
   * address's turn (returns the cancel for a request that goes away while waiting); `calls` are
   * charged to the address either way. Call `check` first: past the bound, the heaviest address's
   * newest waiting one is evicted.
   */
  enter(address: string, calls: number, held: Held, open: number): (() => void) | undefined {
    const { dueMs, heavy } = this.rank(address, calls, open);
    const place = { held, dueMs, seq: this.arrivals++, heavy };
    this.charge(address, calls);
    if (!this.taking && !heavy) {
      held.admit(noop);
      return undefined;
    }
    if (this.waitingCount >= this.o.max) {
      const last = this.lastInLine();
      if (last) this.remove(last.address, last.place)?.held.evict();
    }
    const mine = this.waiting.get(address);
    if (mine) mine.push(place);
    else this.waiting.set(address, [place]);
    this.waitingCount++;
    this.scheduleTurn();
    return () => void this.remove(address, place);
  }

  /**
   * When a request of `calls` from `address` counts as arriving (now, later by the address's use),
   * and whether its address is heavy.
   */
  private rank(address: string, calls: number, open: number): { dueMs: number; heavy: boolean } {
    const now = this.o.clock();
    const use = this.recentUse(address, now) + calls;
    const heavy = use > HEAVY_USE || open > LIGHT_OPEN;
    return { dueMs: now + use * USE_DELAY_MS + (heavy ? HEAVY_DELAY_MS : 0), heavy };
  }

  /**
   * Each event-loop turn starts the first in line, so the turn's new arrivals are ranked before the
   * next is picked; and with it every request already past due, since those rank before anyone who
   * could still arrive (due at least USE_DELAY_MS after now): the same order, in fewer turns, and
   * logins started together share a commit (group-commit.ts). When turns are long, more light ones
   * start in one (TURN_SLICE_MS). A heavy request starts only while fewer than HEAVY_RUNNING run;
   * until then the light ones behind it go. With only heavy ones waiting and none allowed, no turn
   * is taken: the running one's end schedules the next.
   */
  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => {
      this.turnScheduled = false;
      const now = this.o.clock();
      const turnAt = this.o.turnClock?.() ?? performance.now();
      const lights =
        this.lastTurnAt === undefined
          ? 1
          : Math.min(MAX_LIGHT_PER_TURN, Math.max(1, Math.floor((turnAt - this.lastTurnAt) / TURN_SLICE_MS)));
      const starting: Place[] = [];
      let lightsStarting = 0;
      for (
        let first = this.firstInLine(this.heavyRunning < HEAVY_RUNNING);
        first;
        first = this.firstInLine(this.heavyRunning < HEAVY_RUNNING)
      ) {
        const another = first.place.dueMs <= now || (!first.place.heavy && lightsStarting < lights);
        if (starting.length > 0 && !another) break;
        if (!first.place.heavy) lightsStarting++;
        this.remove(first.address, first.place);
        if (first.place.heavy) this.heavyRunning++;
        starting.push(first.place);
      }
      this.lastTurnAt = undefined;
      if (this.waitingCount > 0 && starting.length > 0) {
        this.scheduleTurn();
        this.lastTurnAt = turnAt;
      }
      for (const place of starting) place.held.admit(place.heavy ? this.running() : noop);
    });
  }

  /** A started heavy request's `done`: once, when it says so or after HEAVY_LEASE_MS. */
  private running(): () => void {
    let lease: NodeJS.Timeout | undefined;
    const done = () => {
      if (!lease) return;
      clearTimeout(lease);
      lease = undefined;
      this.heavyRunning--;
      if (this.waitingCount > 0) this.scheduleTurn();
    };
    lease = setTimeout(done, HEAVY_LEASE_MS);
    lease.unref();
    return done;
  }

  private remove(address: string, place: Place): Place | undefined {
    const mine = this.waiting.get(address);
    const i = mine?.indexOf(place) ?? -1;
    if (!mine || i === -1) return undefined;
    mine.splice(i, 1);
    if (mine.length === 0) this.waiting.delete(address);
    this.waitingCount--;
    return place;
  }

  /**
   * The next to start: the earliest due of the addresses' oldest (each address's own go in order),
   * of the light ones only unless `heavyToo`.
   */
  private firstInLine(heavyToo: boolean): { address: string; place: Place } | undefined {
    let first: { address: string; place: Place } | undefined;
    for (const [address, mine] of this.waiting) {
      const place = mine[0]!;
      if (place.heavy && !heavyToo) continue;
      if (!first || before(place, first.place)) first = { address, place };
    }
    return first;
  }

  /** The last in line: the latest due of the addresses' newest. */
  private lastInLine(): { address: string; place: Place } | undefined {
    let last: { address: string; place: Place } | undefined;
    for (const [address, mine] of this.waiting) {
      const place = mine.at(-1)!;
      if (!last || before(last.place, place)) last = { address, place };
    }
    return last;
  }

  private charge(address: string, calls: number): void {
    const now = this.o.clock();
    if (!this.use.has(address) && this.use.size >= MAX_ADDRESSES) this.forgetLightest(now);
    this.use.set(address, { calls: this.recentUse(address, now) + calls, atMs: now });
  }

  private recentUse(address: string, now = this.o.clock()): number {
    const u = this.use.get(address);
    return u ? u.calls * 2 ** (-Math.max(0, now - u.atMs) / USE_HALF_LIFE_MS) : 0;
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

const noop = () => {};
const before = (a: Place, b: Place) => a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
