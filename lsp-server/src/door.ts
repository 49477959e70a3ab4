// The front door of /trpc, in node:http's 'request' listener: every refusal is decided on the URL, the
// headers and the client's address before Hono, web streams or tRPC build anything, because abusers
// that never back off send again as soon as they are answered and what a refusal costs is then what
// the whole LSP costs. A client that comes back before the Retry-After it was given gets its next
// refusal late (held for its wait: sockets are cheap, CPU is not), so its pace is its open requests
// over the wait, not the LSP's speed; one that keeps doing it is banned for a while. What it lets in
// starts at once while the event loop keeps up (a heavy address's in turns), and by address,
// lightest first, when it lags (fair-queue.ts): clients within every limit can still ask more than
// one thread serves.
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import { ApiError } from '@lpw/api';
import type { TrustedProxies } from './client-ip.ts';
import type { Config } from './config.ts';
import { walletCorsHeaders } from './cors.ts';
import { FairQueue } from './fair-queue.ts';
import type { Metrics } from './metrics.ts';
import { RateLimiter } from './rate-limit.ts';

/** A refusal in tRPC's error shape (our code and details in `data.app`), which backoffLink reads. */
function trpcErrorBody(e: ApiError, jsonRpcCode: number, trpcCode: string, httpStatus: number): string {
  return JSON.stringify({
    error: {
      message: e.message,
      code: jsonRpcCode,
      data: { code: trpcCode, httpStatus, app: { code: e.code, details: e.details } },
    },
  });
}

const BODY_TOO_LARGE = JSON.stringify({
  error: {
    message: 'request body too large',
    code: -32600,
    data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 },
  },
});

/** Map keys past which expired entries are swept (else the oldest dropped): one process's memory bound. */
const MAX_KEYS = 100_000;

/** Why a request was refused; the 429s are counted in `lsp_rate_limited_total{scope}`. */
type Scope = 'batch' | 'length' | 'body' | 'banned' | 'repeat' | 'in_flight' | 'held' | 'ip';

interface Refusal {
  scope: Scope;
  status: 411 | 413 | 429;
  body: string;
  /** The wait the client is told (Retry-After); refusals without one count as a second's. */
  retryAfterSec?: number;
  /** The wait is the whole address's (not this request's alone). */
  address: boolean;
}

/** What the door remembers of an address it has refused. */
interface Offender {
  /** Until when the whole address was told to stay away (a per-address limit's Retry-After; a second after a 411/413). */
  quietUntil: number;
  bannedUntil: number;
  /** Its refusals held right now (sockets open, no answer yet). */
  held: number;
}

export interface DoorOptions {
  limits: Config['limits'];
  walletOrigins: readonly string[];
  proxies: TrustedProxies;
  /** The per-IP bucket (shared with the backup and Lightning Address routes). */
  requestsPerIp: RateLimiter;
  metrics: Pick<Metrics, 'rateLimited' | 'httpRequests' | 'tarpit' | 'fairHeld'>;
  clock: () => number;
  /** Answers carry Server-Timing: the wait for its turn, the run, and the CPU spent meanwhile, in ms (SERVER_TIMING). */
  serverTiming?: boolean;
}

export class Door {
  private readonly inFlight = new Map<string, number>();
  private readonly offenders = new Map<string, Offender>();
  /**
   * Requests refused inside (a procedure's quota, the busy gate), by address, method, URL (a
   * mutation: its path) and credentials, with the end of the wait they were given: the same request
   * before then came early, and the same query is refused here, before anything parses.
   */
  private readonly refusedInside = new Map<string, number>();
  /** Early returns per address; an empty bucket bans it. */
  private readonly earlyReturns: RateLimiter;
  /** What the door saw of a request it let in, for `refusedLater`. */
  private readonly admitted = new WeakMap<
    IncomingMessage,
    { ip: string; request: string; early: boolean; done: () => void }
  >();
  /** Who goes next when the loop lags. */
  readonly fair: FairQueue;

  constructor(private readonly o: DoorOptions) {
    this.earlyReturns = new RateLimiter(o.limits.banAfterEarlyRetries, o.clock, MAX_KEYS);
    this.fair = new FairQueue({
      lagMs: o.limits.fairLagMs,
      perAddress: o.limits.fairHeldPerIp,
      max: o.limits.fairHeldMax,
      clock: o.clock,
    });
  }

  /** The client address of a request (TRUSTED_PROXIES decides whether X-Forwarded-For counts). */
  clientIp(req: IncomingMessage): string {
    const socket = req.socket.remoteAddress;
    if (!socket) return 'unknown';
    const forwarded = req.headers['x-forwarded-for'];
    return this.o.proxies.clientAddress(socket, Array.isArray(forwarded) ? forwarded.join(',') : forwarded);
  }

  /**
   * Wraps the app's listener: /trpc requests pass only if no limit refuses them.
   * @example createServer(door.guard(getRequestListener(app.fetch)))
   */
  guard(next: RequestListener): RequestListener {
    return (req, res) => {
      const url = req.url ?? '/';
      // a preflight carries no token and is answered by the CORS middleware, before any limit
      if (!url.startsWith('/trpc/') || req.method === 'OPTIONS') return next(req, res);
      const arrived = {
        ms: performance.now(),
        cpu: this.o.serverTiming ? process.cpuUsage() : { user: 0, system: 0 },
      };
      const ip = this.clientIp(req);
      const search = url.indexOf('?');
      const path = url.slice('/trpc/'.length, search === -1 ? undefined : search);
      // a query is its URL; a mutation's body is not read here, so its path stands for it
      const request = `${ip} ${req.method} ${req.method === 'GET' ? url : path} ${req.headers.authorization ?? ''}`;
      const early = this.cameEarly(ip, request);
      const refusal = this.decide(req, ip, path, request);
      if (refusal) return this.refuse(req, res, { ip, path, request, early, arrived }, refusal, next);
      this.admit(req, res, { ip, path, request, early, arrived }, next);
    };
  }

  /**
   * The app refused `req` inside with this wait (a 429 with Retry-After). Returns how long to hold the
   * answer: its wait (at most TARPIT_MAX_SEC) when the same request came back before the wait it was
   * last told, else 0. Until the wait is over a query is answered by the door itself.
   */
  refusedLater(req: IncomingMessage, retryAfterSec: number): number {
    const seen = this.admitted.get(req);
    if (!seen) return 0;
    // held for its wait, it no longer runs
    seen.done();
    const waitSec = retryAfterSec > 0 ? retryAfterSec : 1;
    const now = this.o.clock();
    if (this.refusedInside.size >= MAX_KEYS) sweep(this.refusedInside, now, (until) => until);
    this.refusedInside.set(
      seen.request,
      Math.max(this.refusedInside.get(seen.request) ?? 0, now + waitSec * 1000),
    );
    return this.holdMs(seen.ip, seen.early, waitSec);
  }

  /** Whether the address, or this very request, was told to wait and that wait is not over. */
  private cameEarly(ip: string, request: string): boolean {
    const now = this.o.clock();
    return (this.offenders.get(ip)?.quietUntil ?? 0) > now || (this.refusedInside.get(request) ?? 0) > now;
  }

  /**
   * Lets the request in: to the app at once, or in its address's turn while the loop lags. A waiting
   * request counts as open (MAX_IN_FLIGHT_PER_IP) and its body is not read until its turn: Node stops
   * reading the socket of a request nobody reads after one read (64 KiB), so waiting pins no more.
   */
  private admit(req: IncomingMessage, res: ServerResponse, seen: Seen, next: RequestListener): void {
    const { ip, request, early } = seen;
    const { metrics } = this.o;
    this.inFlight.set(ip, (this.inFlight.get(ip) ?? 0) + 1);
    const admitted = { ip, request, early, done: () => {} };
    this.admitted.set(req, admitted);
    let cancel: (() => void) | undefined;
    res.once('close', () => {
      admitted.done();
      if (cancel) {
        cancel();
        metrics.fairHeld.inc(1, { outcome: 'gone' });
      }
      const left = this.inFlight.get(ip)! - 1;
      if (left === 0) this.inFlight.delete(ip);
      else this.inFlight.set(ip, left);
    });
    cancel = this.fair.enter(
      ip,
      callsIn(seen.path),
      {
        admit: (done) => {
          admitted.done = done;
          if (cancel) metrics.fairHeld.inc(1, { outcome: 'served' });
          cancel = undefined;
          if (this.o.serverTiming) timeServer(res, seen.arrived);
          next(req, res);
        },
        evict: () => {
          cancel = undefined;
          metrics.fairHeld.inc(1, { outcome: 'evicted' });
          // last in line (its address the heaviest): coming back within its wait is early, as for in_flight
          const refusal = waitingFull();
          this.offender(ip).quietUntil = this.o.clock() + refusal.retryAfterSec! * 1000;
          metrics.rateLimited.inc(1, { scope: refusal.scope });
          this.answer(req, res, refusal, false);
        },
      },
      this.openWithHeld(ip),
    );
  }

  /** Requests from `ip` open now: let in (waiting or running) and refusals held unanswered. */
  private openWithHeld(ip: string): number {
    return (this.inFlight.get(ip) ?? 0) + (this.offenders.get(ip)?.held ?? 0);
  }

  /** How long to hold a refusal (0: answer now); an early one counts towards a ban. */
  private holdMs(ip: string, early: boolean, waitSec: number, banned = false): number {
    const { limits, metrics } = this.o;
    if (!early) return 0;
    const offender = this.offender(ip);
    if (!banned && this.earlyReturns.take(ip) > 0) {
      offender.bannedUntil = this.o.clock() + limits.banSec * 1000;
    }
    const holdMs = Math.min(waitSec, limits.tarpitMaxSec) * 1000;
    if (holdMs > 0) metrics.tarpit.inc(1, { outcome: 'held' });
    return holdMs;
  }

  private decide(req: IncomingMessage, ip: string, path: string, request: string): Refusal | undefined {
    const { limits } = this.o;
    const now = this.o.clock();
    const offender = this.offenders.get(ip);
    if (offender && offender.bannedUntil > now) {
      const wait = Math.ceil((offender.bannedUntil - now) / 1000);
      return rateLimited('banned', `this address is refused for ${wait} s`, wait);
    }
    const calls = callsIn(path);
    if (calls > limits.maxBatchCalls) {
      const e = new ApiError(
        'BATCH_TOO_LARGE',
        `${calls} calls in one request; the limit is ${limits.maxBatchCalls}`,
        { limit: limits.maxBatchCalls },
      );
      const body = trpcErrorBody(e, -32600, 'PAYLOAD_TOO_LARGE', 413);
      return { scope: 'batch', status: 413, body, address: true };
    }
    // a body of unknown length would have to be read to be refused: our clients, and nginx in front,
    // always send a Content-Length, and Node's parser reads no more than it says
    if (req.headers['transfer-encoding'] !== undefined) {
      const e = new ApiError('LENGTH_REQUIRED', 'send the body with a Content-Length');
      const body = trpcErrorBody(e, -32600, 'BAD_REQUEST', 411);
      return { scope: 'length', status: 411, body, address: true };
    }
    if (Number(req.headers['content-length'] ?? 0) > limits.bodyLimitBytes) {
      return { scope: 'body', status: 413, body: BODY_TOO_LARGE, address: true };
    }
    // a query refused inside would be refused again (its input is in its URL); a mutation's body may
    // decide (a known wallet's login passes where a new identity is refused), so it goes in
    const refusedUntil = this.refusedInside.get(request);
    if (refusedUntil !== undefined && refusedUntil <= now) this.refusedInside.delete(request);
    else if (refusedUntil !== undefined && req.method === 'GET') {
      const wait = Math.ceil((refusedUntil - now) / 1000);
      return rateLimited('repeat', `this request was refused; retry in ${wait} s`, wait, false);
    }
    const open = this.inFlight.get(ip) ?? 0;
    if (open >= limits.inFlightPerIp) {
      return rateLimited('in_flight', `${open} requests of yours are open; retry in 1 s`, 1);
    }
    // while the loop lags requests wait for their address's turn, so many at once: bounded here
    const turn = this.fair.check(ip, calls, this.openWithHeld(ip) + 1);
    if (turn === 'address-full') {
      const held = this.fair.held(ip);
      return rateLimited('held', `${held} requests of yours wait for the LSP; retry in 1 s`, 1);
    }
    if (turn === 'full') return waitingFull();
    const wait = this.o.requestsPerIp.take(ip, calls);
    if (wait > 0) return rateLimited('ip', `too many requests; retry in ${wait} s`, wait);
    return undefined;
  }

  /**
   * Answers a refusal at once, unless the client came back before the wait it was told: then the
   * request is held for its wait (at most TARPIT_MAX_SEC) and decided again, so an early request
   * that fits by then is served, late, and one that does not is refused. Past
   * BAN_AFTER_EARLY_RETRIES early returns in a minute the address is banned for BAN_SEC. A body
   * still coming is never read: the connection closes after the answer (else Node would read and
   * discard it, megabytes for an oversized upload).
   */
  private refuse(
    req: IncomingMessage,
    res: ServerResponse,
    seen: Seen,
    refusal: Refusal,
    next: RequestListener,
  ): void {
    const { limits, metrics } = this.o;
    const offender = this.offender(seen.ip);
    const waitSec = refusal.retryAfterSec ?? 1;
    // a wait for the whole address (a per-address limit, a bad request) makes any request from it early
    if (refusal.address) {
      offender.quietUntil = Math.max(offender.quietUntil, this.o.clock() + waitSec * 1000);
    }
    const holdMs = this.holdMs(seen.ip, seen.early, waitSec, refusal.scope === 'banned');
    if (refusal.status === 429) metrics.rateLimited.inc(1, { scope: refusal.scope });
    if (holdMs === 0) {
      this.answer(req, res, refusal, false);
      return;
    }
    // a client keeping this many requests held reads none of them: its sockets close unanswered
    if (offender.held >= limits.inFlightPerIp * 8) {
      metrics.tarpit.inc(1, { outcome: 'dropped' });
      req.socket.destroy();
      return;
    }
    offender.held++;
    const timer = setTimeout(() => {
      offender.held--;
      res.off('close', gone);
      if (res.destroyed) return;
      const again = this.decide(req, seen.ip, seen.path, seen.request);
      if (again) this.answer(req, res, again, true);
      else this.admit(req, res, { ...seen, early: false }, next);
    }, holdMs);
    const gone = () => {
      clearTimeout(timer);
      offender.held--;
    };
    res.once('close', gone);
  }

  private answer(req: IncomingMessage, res: ServerResponse, refusal: Refusal, held: boolean): void {
    this.o.metrics.httpRequests.inc(1, { status: '4xx' });
    const bodyComing =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...walletCorsHeaders(this.o.walletOrigins, req.headers.origin),
    };
    if (refusal.retryAfterSec !== undefined) headers['retry-after'] = String(refusal.retryAfterSec);
    if (bodyComing || held) headers.connection = 'close';
    res.writeHead(refusal.status, headers).end(refusal.body);
  }

  private offender(ip: string): Offender {
    let o = this.offenders.get(ip);
    if (!o) {
      if (this.offenders.size >= MAX_KEYS) {
        sweep(this.offenders, this.o.clock(), (x) =>
          x.held > 0 ? Infinity : Math.max(x.quietUntil, x.bannedUntil),
        );
      }
      o = { quietUntil: 0, bannedUntil: 0, held: 0 };
      this.offenders.set(ip, o);
    }
    return o;
  }
}

/** What the door saw of a request: its address, what it asks, whether it came early, when it came. */
interface Seen {
  ip: string;
  path: string;
  request: string;
  early: boolean;
  /** When the door saw it: performance.now(), and the process's CPU use if SERVER_TIMING. */
  arrived: { ms: number; cpu: NodeJS.CpuUsage };
}

/**
 * Adds Server-Timing to the answer: `queue`, the door's arrival to the app's start (held in line or
 * in the tarpit); `app`, the start to the answer's head (Hono writes it once the body is made); and
 * `cpu`, the CPU the whole process spent from arrival to head, on this request and on whatever ran
 * meanwhile — what the request waited for in CPU terms, so unlike wall time it does not grow when
 * the machine gives the LSP less of a core.
 */
function timeServer(res: ServerResponse, arrived: { ms: number; cpu: NodeJS.CpuUsage }): void {
  const startedMs = performance.now();
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<typeof writeHead>) {
    const cpu = process.cpuUsage(arrived.cpu);
    const ms = (x: number) => x.toFixed(2);
    const timing = [
      `queue;dur=${ms(startedMs - arrived.ms)}`,
      `app;dur=${ms(performance.now() - startedMs)}`,
      `cpu;dur=${ms((cpu.user + cpu.system) / 1000)}`,
    ].join(', ');
    if (!this.headersSent) this.setHeader('server-timing', timing);
    return writeHead.apply(this, args);
  } as typeof writeHead;
}

/** The tRPC calls a request makes: its path lists them, comma-separated (a batch). */
function callsIn(path: string): number {
  return path.split(',').length;
}

/** The waiting line is full and this request would come last in it (its address used the LSP most lately). */
function waitingFull(): Refusal {
  return rateLimited('held', 'the LSP is busy; retry in 1 s', 1);
}

function rateLimited(scope: Scope, why: string, retryAfterSec: number, address = true): Refusal {
  const e = new ApiError('RATE_LIMITED', why, { retryAfterSec });
  return {
    scope,
    status: 429,
    body: trpcErrorBody(e, -32029, 'TOO_MANY_REQUESTS', 429),
    retryAfterSec,
    address,
  };
}

/** Drops entries that have expired by `now`; if none had, the oldest. */
function sweep<V>(map: Map<string, V>, now: number, expiresAt: (v: V) => number): void {
  for (const [key, v] of map) if (expiresAt(v) <= now) map.delete(key);
  if (map.size >= MAX_KEYS) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}

/**
 * node:http's createServer with `door` in front of the app's listener, for @hono/node-server.
 * @example serve({ fetch: app.fetch, port, createServer: behind(services.door) })
 */
export function behind(door: Door): typeof createServer {
  return ((options: ServerOptions, listener: RequestListener) =>
    createServer(options, door.guard(listener))) as typeof createServer;
}
