// The traffic of the `hostile` bench group: honest wallets doing what a wallet does over tRPC (info,
// login with a signed challenge, routes.find) through the shared client, which backs off on
// RATE_LIMITED; and abusers that ignore every refusal: oversized batches, floods, a new identity per
// request, oversized bodies. Every client comes over loopback as through the operator's reverse
// proxy: the LSP trusts 127.0.0.1 (TRUSTED_PROXIES) and each client's X-Forwarded-For is its own
// address, so the per-IP limits see a thousand clients, as in production, not one.
import { setMaxListeners } from 'node:events';
import { request } from 'node:http';
import { loginMessage, signNodeMessage } from '@lpw/api';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { createLspClient } from '../../lsp-server/src/client/index.ts';
import { sleep } from './product.ts';

/** Every HTTP answer any client saw, by status, and the requests that got none. */
export interface Tally {
  requests: number;
  statuses: Record<number, number>;
  networkErrors: number;
  /** Answers the LSP timed (SERVER_TIMING): the client's wait for the head, and the LSP's parts of it. */
  timed: ServerTimed[];
}

/**
 * One answer's time: at the client, in the LSP's line (`queue`), running in the LSP (`app`), and the
 * LSP's CPU (all requests') from its arrival to its answer (`cpuMs`), in ms.
 */
export interface ServerTimed {
  /** The tRPC path (`routes.find`; a batch's paths joined by commas). */
  procedure: string;
  totalMs: number;
  queueMs: number;
  appMs: number;
  cpuMs: number;
}

/**
 * An abort shared by every request of many clients. Node's fetch lets go of its listener on the
 * signal only when the request is collected, so thousands pile up on one signal; past 1,500 each
 * new one printed a warning (3,600 lines a run, written by the measured process itself).
 */
export function sharedAbort(): AbortController {
  const abort = new AbortController();
  setMaxListeners(0, abort.signal);
  return abort;
}

export const newTally = (): Tally => ({ requests: 0, statuses: {}, networkErrors: 0, timed: [] });

/** The LSP's Server-Timing header, `queue;dur=1.20, app;dur=3.40`, as durations by name. */
function serverTiming(header: string | null): Omit<ServerTimed, 'totalMs' | 'procedure'> | undefined {
  if (!header) return undefined;
  const dur = (name: string) => Number(new RegExp(`${name};dur=([\\d.]+)`).exec(header)?.[1]);
  const queueMs = dur('queue');
  const appMs = dur('app');
  const cpuMs = dur('cpu');
  return [queueMs, appMs, cpuMs].every(Number.isFinite) ? { queueMs, appMs, cpuMs } : undefined;
}

const procedureOf = (input: string | URL | Request) => {
  const url = new URL(input instanceof Request ? input.url : input);
  return url.pathname.slice(url.pathname.indexOf('/trpc/') + '/trpc/'.length);
};

const see = (tally: Tally, status: number) => {
  tally.statuses[status] = (tally.statuses[status] ?? 0) + 1;
};

export const errorsOver500 = (tally: Tally) =>
  Object.entries(tally.statuses)
    .filter(([status]) => Number(status) >= 500)
    .reduce((n, [, count]) => n + count, 0);

/** fetch as the reverse proxy passes it on: the client's address appended, its session if it has one. */
function viaProxy(ip: string, tally: Tally, session: { token?: string }, signal: AbortSignal): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('x-forwarded-for', ip);
    // kept connections, as the proxy of docs/operating.md keeps its own to the LSP (keep-alive.ts)
    if (session.token) headers.set('authorization', `Bearer ${session.token}`);
    tally.requests++;
    const t0 = performance.now();
    try {
      const res = await fetch(input, { ...init, headers, signal });
      const lsp = serverTiming(res.headers.get('server-timing'));
      if (lsp) tally.timed.push({ procedure: procedureOf(input), totalMs: performance.now() - t0, ...lsp });
      see(tally, res.status);
      return res;
    } catch (error) {
      // requests cut at the end of a run are not the LSP's failures
      if (!signal.aborted) tally.networkErrors++;
      throw error;
    }
  };
}

/**
 * A wallet as the LSP sees it: the shared client (createLspClient, backing off on RATE_LIMITED)
 * behind the proxy with the wallet's address, and a login by signing the LSP's challenge.
 */
export function proxiedWallet(
  url: string,
  ip: string,
  secretKey: Uint8Array,
  tally: Tally,
  cut: AbortSignal = new AbortController().signal,
) {
  const session: { token?: string } = {};
  // a hung LSP must not hang the bench: a wallet gives up on one request after 30 s, and on all of
  // them when the run's time is up (`cut`)
  const client = createLspClient({
    url,
    fetch: (input, init) =>
      viaProxy(ip, tally, session, AbortSignal.any([AbortSignal.timeout(30_000), cut]))(input, init),
  });
  const nodeId = bytesToHex(secp256k1.getPublicKey(secretKey, true));
  return {
    client,
    async login(): Promise<void> {
      const { challenge } = await client.trpc.auth.challenge.mutate();
      const signature = signNodeMessage(loginMessage(challenge), secretKey);
      session.token = (await client.trpc.auth.login.mutate({ nodeId, challenge, signature })).token;
    },
    /** routes.find with this wallet's own session (the client's `findRoute` logs in with an LDK node). */
    findRoute: (payeeNodeId: string, amountMsat: bigint, finalCltvExpiryDelta: number) =>
      client.trpc.routes.find.query({
        payee_node_id: payeeNodeId,
        amount_msat: amountMsat.toString(),
        final_cltv_expiry_delta: finalCltvExpiryDelta,
      }),
  };
}

export interface HonestSamples {
  info: number[];
  auth: number[];
  routesFind: number[];
  /** Operations that ended in an error (the first few messages in `failures`). */
  failed: number;
  failures: string[];
  /** Operations cut, or never started, when the run's time was up. */
  unfinished: number;
}

export const newSamples = (): HonestSamples => ({
  info: [],
  auth: [],
  routesFind: [],
  failed: 0,
  failures: [],
  unfinished: 0,
});

/** An error's message with the network cause fetch hides behind "fetch failed". */
function why(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  let cause = error instanceof Error ? error.cause : undefined;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  const code = (cause as { code?: string } | undefined)?.code;
  return cause instanceof Error ? `${message} (${code ?? cause.message})` : message;
}

/**
 * One wallet's session: `info`, then a login (challenge, signed with its own node key, login), then
 * `routes` route queries `thinkMs` apart, as a wallet asks for a route per payment. Each operation is
 * timed as the person waits for it, back-off included.
 */
export async function honestWallet(o: {
  url: string;
  ip: string;
  secretKey: Uint8Array;
  payeeNodeId: string;
  routes: number;
  thinkMs: number;
  tally: Tally;
  samples: HonestSamples;
  /** The run's time is up: what is not done is unfinished. */
  cut: AbortSignal;
}): Promise<void> {
  const wallet = proxiedWallet(o.url, o.ip, o.secretKey, o.tally, o.cut);
  // an operation that failed or got no answer in the run's time is a person still waiting: it
  // enters the percentiles as Infinity, so a p99 is finite only if 99% were answered
  const timed = async (into: number[], op: () => Promise<unknown>) => {
    if (o.cut.aborted) {
      o.samples.unfinished++;
      into.push(Number.POSITIVE_INFINITY);
      return false;
    }
    const t = performance.now();
    try {
      await op();
      into.push(performance.now() - t);
      return true;
    } catch (error) {
      into.push(Number.POSITIVE_INFINITY);
      if (o.cut.aborted) {
        o.samples.unfinished++;
      } else {
        o.samples.failed++;
        if (o.samples.failures.length < 8) o.samples.failures.push(why(error));
      }
      return false;
    }
  };
  await timed(o.samples.info, () => wallet.client.trpc.info.get.query());
  if (!(await timed(o.samples.auth, () => wallet.login()))) return;
  for (let r = 0; r < o.routes; r++) {
    await sleep(o.thinkMs);
    await timed(o.samples.routesFind, () => wallet.findRoute(o.payeeNodeId, 1_000_000n, 144));
  }
}

export const ABUSE_KINDS = ['batch', 'flood', 'identities', 'oversized'] as const;

/**
 * `count` abusers, `kinds` in turn (all by default), each from its own address (10.`net`.x.y; 66 by
 * default), until `signal` aborts.
 */
export function abuseAll(o: {
  url: string;
  payeeNodeId: string;
  count: number;
  kinds?: readonly AbuseKind[];
  net?: number;
  tally: Tally;
  signal: AbortSignal;
}): Promise<void> {
  const kinds = o.kinds ?? ABUSE_KINDS;
  return Promise.all(
    Array.from({ length: o.count }, (_, k) =>
      abuser(kinds[k % kinds.length]!, { ...o, ip: `10.${o.net ?? 66}.${k >> 8}.${k & 255}` }),
    ),
  ).then(() => {});
}
export type AbuseKind = (typeof ABUSE_KINDS)[number];

/** Over the default 6 MiB body limit. */
const OVERSIZED_BYTES = 7 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/**
 * A body of OVERSIZED_BYTES, declared (`Content-Length`) or not (chunked: the LSP must count while
 * it reads), written 64 KiB at a time until the LSP answers or closes, as a client on a real link
 * would be cut off. fetch with the whole body took the abusers' process ~20 ms of CPU a request
 * (the honest wallets' CPU in this bench) for bytes the LSP never reads.
 */
function oversizedUpload(
  url: string,
  ip: string,
  declared: boolean,
  tally: Tally,
  signal: AbortSignal,
): Promise<void> {
  tally.requests++;
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-forwarded-for': ip };
    if (declared) headers['content-length'] = String(OVERSIZED_BYTES);
    const req = request(url, { method: 'POST', headers, signal }, (res) => {
      see(tally, res.statusCode ?? 0);
      res.resume();
      res.on('end', resolve);
      res.on('error', () => resolve());
    });
    req.on('error', () => {
      // the LSP may close the socket mid-upload once it has refused: that is its answer
      resolve();
    });
    let sent = 0;
    const pump = () => {
      while (sent < OVERSIZED_BYTES && !req.destroyed) {
        sent += CHUNK.length;
        if (!req.write(CHUNK)) return void req.once('drain', pump);
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

/**
 * One misbehaving client until `signal` aborts, from its one address, never backing off:
 * - batch: 400 calls in one request (over MAX_BATCH_CALLS), then full batches of routes.find
 * - flood: four requests always in flight (info, challenges, routes.find), whatever the answer
 * - identities: a fresh node key for every login, then a route query with it
 * - oversized: 7 MiB bodies, with a Content-Length and without one
 */
export async function abuser(
  kind: AbuseKind,
  o: { url: string; ip: string; payeeNodeId: string; tally: Tally; signal: AbortSignal },
): Promise<void> {
  const session: { token?: string } = {};
  const send = viaProxy(o.ip, o.tally, session, o.signal);
  const call = async (path: string, init?: RequestInit): Promise<unknown> => {
    try {
      const res = await send(`${o.url}/trpc/${path}`, init);
      return await res.json();
    } catch {
      return undefined;
    }
  };
  const post = (path: string, body: unknown) =>
    call(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const login = async () => {
    const secretKey = secp256k1.utils.randomSecretKey();
    const c = (await post('auth.challenge', {})) as { result?: { data: { challenge: string } } } | undefined;
    const challenge = c?.result?.data.challenge;
    if (!challenge) return undefined;
    const l = (await post('auth.login', {
      nodeId: bytesToHex(secp256k1.getPublicKey(secretKey, true)),
      challenge,
      signature: signNodeMessage(loginMessage(challenge), secretKey),
    })) as { result?: { data: { token: string } } } | undefined;
    return l?.result?.data.token;
  };
  const route = { payee_node_id: o.payeeNodeId, amount_msat: '1000000', final_cltv_expiry_delta: 144 };
  const routeQuery = `routes.find?input=${encodeURIComponent(JSON.stringify(route))}`;
  const batchOf = (n: number) => Array(n).fill('routes.find').join(',');
  const fullBatch = `${batchOf(10)}?batch=1&input=${encodeURIComponent(
    JSON.stringify(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [i, route]))),
  )}`;
  const running = () => !o.signal.aborted;

  switch (kind) {
    case 'batch':
      session.token = await login();
      while (running()) {
        await call(`${batchOf(400)}?batch=1`);
        await call(fullBatch);
      }
      return;
    case 'flood':
      session.token = await login();
      await Promise.all(
        [0, 1, 2, 3].map(async (lane) => {
          while (running()) {
            if (lane === 0) await call('info.get');
            else if (lane === 1) await post('auth.challenge', {});
            else await call(routeQuery);
          }
        }),
      );
      return;
    case 'identities':
      while (running()) {
        session.token = await login();
        if (session.token) await call(routeQuery);
      }
      return;
    case 'oversized':
      while (running()) {
        await oversizedUpload(`${o.url}/trpc/auth.login`, o.ip, true, o.tally, o.signal);
        if (running()) await oversizedUpload(`${o.url}/trpc/auth.login`, o.ip, false, o.tally, o.signal);
      }
      return;
  }
}
