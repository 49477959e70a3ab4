// The LSP's fair queue (lsp-server/src/fair-queue.ts) under the hostile bench's traffic, in virtual
// time: the real class, its clock the simulation's, each event-loop turn starting what the queue
// admits and running it to the end (a request's CPU, then the next turn). No machine in it, so the
// figures are the admission order's alone, which a shared machine's wall time cannot show.
// `node --import tsx src/fair-queue-sim.ts [path of a fair-queue.ts to compare]`.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { percentile } from './stats.ts';

/** The CPU (ms) each request costs the LSP's thread: a wallet's session, and an abuser's request. */
const COST_MS = { info: 0.8, challenge: 1.0, login: 3.0, route: 2.0, abuse: 1.5 } as const;
type Kind = keyof typeof COST_MS;
const WARMUP_MS = 5_000;

interface FairQueueLike {
  check(address: string, calls: number): 'ok' | 'address-full' | 'full';
  enter(address: string, calls: number, held: { admit(): void; evict(): void }): (() => void) | undefined;
}

interface Request {
  address: string;
  kind: Kind;
  arrivedMs: number;
  /** What the client does once answered (or refused). */
  then: (endMs: number, refused: boolean) => void;
}

async function simulate(
  FairQueue: new (o: object) => FairQueueLike,
  o: { wallets: number; windowMs: number; abusers: number; abuserRatePerSec: number; lanes: number },
) {
  const clock = { ms: 0 };
  const q = new FairQueue({ lagMs: 0, perAddress: 4, max: 500, clock: () => clock.ms });
  const arrivals: Request[] = [];
  const send = (r: Request) => arrivals.push(r);
  const latency: Record<string, number[]> = { info: [], auth: [], route: [] };
  let abuseServed = 0;

  // a wallet: info, then a login (challenge, login), then after 500 ms a route query
  for (let i = 0; i < o.wallets; i++) {
    const address = `wallet ${i}`;
    // the abusers have been at it for a while when wallets come, as in the bench (their process starts first)
    const startMs = WARMUP_MS + (i * o.windowMs) / o.wallets;
    const ask = (kind: Kind, atMs: number, done: (endMs: number) => void) =>
      send({ address, kind, arrivedMs: atMs, then: (endMs) => done(endMs) });
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
      if (sendMs > WARMUP_MS + o.windowMs + 5_000) return;
      send({
        address,
        kind: 'abuse',
        arrivedMs: sendMs,
        then: (endMs, refused) => {
          if (!refused) abuseServed++;
          lane(refused ? endMs + 1000 : endMs);
        },
      });
    };
    for (let l = 0; l < o.lanes; l++) lane(0);
  }

  let waiting = 0;
  const started: Request[] = [];
  while (arrivals.length > 0 || waiting > 0) {
    arrivals.sort((x, y) => x.arrivedMs - y.arrivedMs);
    if (waiting === 0 && arrivals[0]!.arrivedMs > clock.ms) clock.ms = arrivals[0]!.arrivedMs;
    // what arrived by now reaches the door, as Node parses every readable request before the turn
    while (arrivals.length > 0 && arrivals[0]!.arrivedMs <= clock.ms) {
      const r = arrivals.shift()!;
      if (q.check(r.address, 1) !== 'ok') {
        r.then(clock.ms, true);
        continue;
      }
      waiting++;
      q.enter(r.address, 1, {
        admit: () => {
          waiting--;
          started.push(r);
        },
        evict: () => {
          waiting--;
          r.then(clock.ms, true);
        },
      });
    }
    await nextTurn(); // the queue's turn runs first: it was scheduled before this one
    for (const r of started.splice(0)) {
      clock.ms += COST_MS[r.kind];
      r.then(clock.ms, false);
    }
  }
  const p = (xs: number[], n: number) => Number(percentile(xs, n).toFixed(1));
  return {
    ...Object.fromEntries(Object.entries(latency).map(([k, xs]) => [`${k}_p99_ms`, p(xs, 99)])),
    ...Object.fromEntries(Object.entries(latency).map(([k, xs]) => [`${k}_p50_ms`, p(xs, 50)])),
    abuse_served_per_s: Math.round(abuseServed / ((WARMUP_MS + o.windowMs + 5_000) / 1000)),
    lsp_busy_share: Number((clock.ms > 0 ? busy(latency, abuseServed, o.wallets) / clock.ms : 0).toFixed(2)),
  };
}

/** The CPU the simulated LSP spent (ms). */
const busy = (_l: unknown, abuseServed: number, wallets: number) =>
  abuseServed * COST_MS.abuse + wallets * (COST_MS.info + COST_MS.challenge + COST_MS.login + COST_MS.route);

const path = process.argv[2] ?? new URL('../../lsp-server/src/fair-queue.ts', import.meta.url).pathname;
const { FairQueue } = (await import(path)) as { FairQueue: new (o: object) => FairQueueLike };
const plan = { wallets: 950, windowMs: 25_000, lanes: 4 };
for (const abuserRatePerSec of [0, 4, 7, 10]) {
  const abusers = abuserRatePerSec === 0 ? 0 : 50;
  const r = await simulate(FairQueue, { ...plan, abusers, abuserRatePerSec: abuserRatePerSec || 1 });
  console.log(JSON.stringify({ abusers, abuserRatePerSec, ...r }));
}
