// The LSP's fair queue (lsp-server/src/fair-queue.ts) under the hostile bench's traffic, in virtual
// time: the real class, its clock the simulation's; each event-loop turn runs one step of every
// request started (a request is a few steps of CPU with a turn between them: body read, signature
// check, commit), then starts what the queue admits. No machine in it, so the figures are the
// admission order's and the interleaving's alone, which a shared machine's wall time cannot show.
// `node --import tsx src/fair-queue-sim.ts [path of a fair-queue.ts to compare]`.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { percentile } from './stats.ts';

/** The CPU (ms) of each step of a request, a turn apart: a wallet's session, and an abuser's request. */
const STEPS_MS = {
  info: [0.8],
  challenge: [0.5, 0.5],
  login: [0.5, 1.5, 1.0],
  route: [0.5, 1.5],
  abuse: [0.5, 0.5, 0.5],
} as const;
const COST_MS = Object.fromEntries(
  Object.entries(STEPS_MS).map(([k, steps]) => [k, steps.reduce((a, b) => a + b, 0)]),
) as Record<keyof typeof STEPS_MS, number>;
type Kind = keyof typeof STEPS_MS;

interface FairQueueLike {
  check(address: string, calls: number, open: number): 'ok' | 'address-full' | 'full';
  enter(
    address: string,
    calls: number,
    held: { admit(done: () => void): void; evict(): void },
    open: number,
  ): (() => void) | undefined;
}

interface Request {
  address: string;
  kind: Kind;
  arrivedMs: number;
  /** What the client does once answered (or refused). */
  answered: (endMs: number, refused: boolean) => void;
  /** Tells the queue it no longer runs (set when started). */
  done?: () => void;
}

async function simulate(
  FairQueue: new (o: object) => FairQueueLike,
  o: {
    wallets: number;
    windowMs: number;
    abusers: number;
    abuserRatePerSec: number;
    lanes: number;
    /** How long the abusers run before the first wallet comes (the bench starts both together). */
    warmupMs: number;
    /** Each step's CPU times this: a machine shared with other work (the bench at load 4). */
    slowdown: number;
  },
) {
  const clock = { ms: 0 };
  const q = new FairQueue({
    lagMs: 0,
    perAddress: 4,
    max: 500,
    clock: () => clock.ms,
    turnClock: () => clock.ms,
  });
  const arrivals: Request[] = [];
  /** Requests each address has open (at the door, waiting or running), as the door counts them. */
  const open = new Map<string, number>();
  const send = (r: Request) => {
    arrivals.push(r);
    const answered = r.answered;
    r.answered = (endMs, refused) => {
      open.set(r.address, open.get(r.address)! - 1);
      answered(endMs, refused);
    };
  };
  const latency: Record<string, number[]> = { info: [], auth: [], route: [] };
  let abuseServed = 0;

  // a wallet: info, then a login (challenge, login), then after 500 ms a route query
  for (let i = 0; i < o.wallets; i++) {
    const address = `wallet ${i}`;
    const startMs = o.warmupMs + (i * o.windowMs) / o.wallets;
    const ask = (kind: Kind, atMs: number, done: (endMs: number) => void) =>
      send({ address, kind, arrivedMs: atMs, answered: (endMs) => done(endMs) });
    ask('info', startMs, (infoEnd) => {
      latency.info!.push(infoEnd - startMs);
      ask('challenge', infoEnd, (challengeEnd) =>
        ask('login', challengeEnd, (loginEnd) => {
          latency.auth!.push(loginEnd - infoEnd);
          ask('route', loginEnd + 500, (routeEnd) => latency.route!.push(routeEnd - loginEnd - 500));
        }),
      );
    });
  }
  // an abuser: `lanes` requests always open, at most `abuserRatePerSec` sent a second (the per-IP
  // limit), a refusal retried after its second
  for (let a = 0; a < o.abusers; a++) {
    const address = `abuser ${a}`;
    let nextSendMs = 0;
    const lane = (atMs: number) => {
      const sendMs = Math.max(atMs, nextSendMs);
      nextSendMs = sendMs + 1000 / o.abuserRatePerSec;
      if (sendMs > o.warmupMs + o.windowMs + 5_000) return;
      send({
        address,
        kind: 'abuse',
        arrivedMs: sendMs,
        answered: (endMs, refused) => {
          if (!refused) abuseServed++;
          lane(refused ? endMs + 1000 : endMs);
        },
      });
    };
    for (let l = 0; l < o.lanes; l++) lane(0);
  }

  let waiting = 0;
  const started: Request[] = [];
  /** Requests started, with their next step. */
  let running: { r: Request; step: number }[] = [];
  while (arrivals.length > 0 || waiting > 0 || running.length > 0) {
    arrivals.sort((x, y) => x.arrivedMs - y.arrivedMs);
    if (waiting === 0 && running.length === 0 && arrivals[0]!.arrivedMs > clock.ms) {
      clock.ms = arrivals[0]!.arrivedMs;
    }
    // what arrived by now reaches the door, as Node parses every readable request before the turn
    while (arrivals.length > 0 && arrivals[0]!.arrivedMs <= clock.ms) {
      const r = arrivals.shift()!;
      const opened = (open.get(r.address) ?? 0) + 1;
      open.set(r.address, opened);
      if (q.check(r.address, 1, opened) !== 'ok') {
        r.answered(clock.ms, true);
        continue;
      }
      waiting++;
      q.enter(
        r.address,
        1,
        {
          admit: (done) => {
            waiting--;
            r.done = done;
            started.push(r);
          },
          evict: () => {
            waiting--;
            r.answered(clock.ms, true);
          },
        },
        opened,
      );
    }
    // this turn: the next step of each request already running, then the queue's turn (scheduled
    // before this one's end) starts what it admits, which runs its first step
    const stepping = running;
    running = [];
    const step = (x: { r: Request; step: number }) => {
      clock.ms += STEPS_MS[x.r.kind][x.step]! * o.slowdown;
      if (x.step + 1 < STEPS_MS[x.r.kind].length) running.push({ r: x.r, step: x.step + 1 });
      else {
        x.r.done?.();
        x.r.answered(clock.ms, false);
      }
    };
    for (const x of stepping) step(x);
    await nextTurn();
    for (const r of started.splice(0)) step({ r, step: 0 });
  }
  const p = (xs: number[], n: number) => Number(percentile(xs, n).toFixed(1));
  return {
    ...Object.fromEntries(Object.entries(latency).map(([k, xs]) => [`${k}_p99_ms`, p(xs, 99)])),
    ...Object.fromEntries(Object.entries(latency).map(([k, xs]) => [`${k}_p50_ms`, p(xs, 50)])),
    abuse_served_per_s: Math.round(abuseServed / ((o.warmupMs + o.windowMs + 5_000) / 1000)),
    lsp_busy_share: Number(((cpuMs(abuseServed, o.wallets) * o.slowdown) / Math.max(1, clock.ms)).toFixed(2)),
  };
}

/** The CPU the simulated LSP spent (ms). */
const cpuMs = (abuseServed: number, wallets: number) =>
  abuseServed * COST_MS.abuse + wallets * (COST_MS.info + COST_MS.challenge + COST_MS.login + COST_MS.route);

const path = process.argv[2] ?? new URL('../../lsp-server/src/fair-queue.ts', import.meta.url).pathname;
const { FairQueue } = (await import(path)) as { FairQueue: new (o: object) => FairQueueLike };
// [abusers' rate a second each (0: none), how long they run before wallets come, the wallets'
// arrival window]: the bench's runs, an attack starting as wallets come (as the bench starts it) and
// one under way, and wallets alone arriving faster than one thread serves them; then the same on a
// machine that gives the LSP half the speed (the bench's run at load 4)
const scenarios = [
  [0, 0, 25_000, 1],
  [7, 0, 25_000, 1],
  [10, 0, 25_000, 1],
  [7, 5_000, 25_000, 1],
  [10, 5_000, 25_000, 1],
  [0, 0, 4_000, 1],
  [0, 0, 25_000, 2],
  [7, 0, 25_000, 2],
  [10, 5_000, 25_000, 2],
] as const;
for (const [abuserRatePerSec, warmupMs, windowMs, slowdown] of scenarios) {
  const abusers = abuserRatePerSec === 0 ? 0 : 50;
  const r = await simulate(FairQueue, {
    wallets: 950,
    lanes: 4,
    windowMs,
    abusers,
    abuserRatePerSec: abuserRatePerSec || 1,
    warmupMs,
    slowdown,
  });
  console.log(JSON.stringify({ abusers, abuserRatePerSec, warmupMs, windowMs, slowdown, ...r }));
}
