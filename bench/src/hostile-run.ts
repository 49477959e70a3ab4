// The LSP under hostile load (issue 12): lsp-server's main.ts in its own process with the limits it
// ships with, a router and a merchant on the devnet so routes.find has a graph to search. The same
// honest wallets (95%) run their sessions twice: alone, then with the other 5% misbehaving
// (hostile.ts). Reported: the honest p99 of info, auth and routes.find in both runs and their ratio
// (goal ≤ 2), every 5xx any client saw (goal 0), the LSP's CPU per operation, its event loop (busy
// share, delay) and refusals per second, and the load average. The abusers run in a process of their
// own (hostile-abusers.ts): in the honest wallets' event loop they would delay the honest wallets' own
// clocks, and the bench would book that to the LSP. It keeps the LSP's priority: niced, on a busy
// machine it got almost no CPU and the abuse all but stopped (44 requests in 56 s at nice 10, load 22).
// BENCH_HOSTILE_ABUSERS=inline runs them in the bench's own process instead, =N at nice N (default: abusersNice).
// The LSP runs on a CPU of its own (taskset), the bench and the abusers on the others (`placement`).
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fundingBroadcast, startDevnet, waitUntil } from '@lpw/devnet';
import { type PublicNetwork, startPublicNetwork } from '@lpw/devnet/network';
import { tcp } from '@lpw/node/tcp';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import {
  ABUSE_KINDS,
  type AbuseKind,
  abuseAll,
  errorsOver500,
  type HonestSamples,
  honestWallet,
  newSamples,
  newTally,
  proxiedWallet,
  type ServerTimed,
  sharedAbort,
  type Tally,
} from './hostile.ts';
import { cpuMsOf, isLspErrorLine, type LspProcess, openLspForPrep, rssOf, spawnLsp } from './lsp.ts';
import { allowedCpus, pin } from './pin.ts';
import { initWasm, sleep } from './product.ts';
import { percentile } from './stats.ts';

/** Each honest wallet's own address, as the reverse proxy reports it (abusers: 10.66.x.y). */
const honestIp = (i: number) => `10.1.${i >> 8}.${i & 255}`;

/** Where the abusers run: their own process at this nice value, or 'inline'; unset: `abusersNice`. */
const abusersWhere = process.env.BENCH_HOSTILE_ABUSERS;

/**
 * The abusers' nice value. Pinned, they share the clients' CPU with the honest wallets, which on
 * their own phones would not wait for an attacker's CPU: at nice 0 the bench booked that wait to the
 * LSP (honest p99 936 ms against 172 at nice 10, the LSP using 0.42 and 0.57 of its CPU, quiet
 * machine). At nice 10 the honest wallets' few requests go first and the abusers take the rest of
 * that CPU (340 requests a second). Unpinned, on a busy machine, nice 10 all but stopped the abuse.
 */
const abusersNice = (pinned: boolean) =>
  abusersWhere !== undefined ? Number(abusersWhere) : pinned ? 10 : 0;

/**
 * Which CPUs the LSP gets, and which the bench's own process (honest wallets, devnet, public nodes)
 * and the abusers' process share. In a deployment neither wallets nor attackers run on the LSP's
 * machine, so the LSP gets a CPU to itself and every client goes on the others: the attackers' CPU
 * is theirs, not taken from the LSP. The honest wallets go with the abusers, not with the LSP,
 * because sharing the LSP's CPU would make the LSP pay for its clients; they are placed the same in
 * both runs, so the run without abusers is the same machine less the abusers. Without taskset or a
 * second CPU nothing is pinned and the report says so.
 */
function placement(): { lsp: number[]; clients: number[] } | { unpinned: string } {
  const cpus = allowedCpus();
  if (cpus.length < 2) return { unpinned: `${cpus.length} CPU allowed: nothing pinned` };
  const lsp = cpus.slice(0, 1);
  const clients = cpus.slice(1);
  const why = pin(process.pid, clients);
  return why ? { unpinned: `${why}: nothing pinned` } : { lsp, clients };
}

/** Pins a process where `place` says (no-op when unpinned); a failure is the bench's. */
function pinTo(pid: number, cpus: number[] | undefined): void {
  if (!cpus) return;
  const why = pin(pid, cpus);
  if (why) throw new Error(`bench: pinning process ${pid}: ${why}`);
}

/** What the LSP's own /metrics (open on regtest) says; the event-loop delay is since the last scrape. */
async function lspFigures(url: string) {
  // once more on a fresh socket: the LSP may close an idle keep-alive socket just as it is reused
  const res = await fetch(`${url}/metrics`).catch(() =>
    fetch(`${url}/metrics`, { headers: { connection: 'close' } }),
  );
  const text = await res.text();
  const sum = (pattern: RegExp) => [...text.matchAll(pattern)].reduce((n, m) => n + Number(m[1]), 0);
  return {
    http5xx: sum(/^lsp_http_requests_total\{status="5xx"\} (\d+)$/gm),
    http4xx: sum(/^lsp_http_requests_total\{status="4xx"\} (\d+)$/gm),
    rateLimited: sum(/^lsp_rate_limited_total(?:\{.*\})? (\d+)$/gm),
    held: sum(/^lsp_tarpit_total\{outcome="held"\} (\d+)$/gm),
    /** Requests that waited for their address's turn, and those of the heaviest refused from the line. */
    fairServed: sum(/^lsp_fair_held_total\{outcome="served"\} (\d+)$/gm),
    fairEvicted: sum(/^lsp_fair_held_total\{outcome="evicted"\} (\d+)$/gm),
    busySec: sum(/^lsp_event_loop_busy_seconds_total ([\d.e+-]+)$/gm),
    delayP99Ms: sum(/^lsp_event_loop_delay_p99_seconds ([\d.e+-]+)$/gm) * 1000,
    delayMaxMs: sum(/^lsp_event_loop_delay_max_seconds ([\d.e+-]+)$/gm) * 1000,
  };
}

/** The abusers until the returned stop(), which answers with what they saw and the CPU they used. */
async function startAbusers(o: {
  url: string;
  payeeNodeId: string;
  count: number;
  kinds?: readonly AbuseKind[];
  net?: number;
  cpus?: number[];
}) {
  if (abusersWhere === 'inline') {
    const tally = newTally();
    const stop = sharedAbort();
    const abusing = abuseAll({ ...o, tally, signal: stop.signal });
    return {
      async stop() {
        stop.abort();
        await abusing;
        return { tally, cpuMs: Number.NaN }; // inside the bench's own figure
      },
    };
  }
  const child = fork(
    new URL('./hostile-abusers.ts', import.meta.url),
    [o.url, o.payeeNodeId, String(o.count), (o.kinds ?? ABUSE_KINDS).join(','), String(o.net ?? 66)],
    {
      execArgv: ['--import', 'tsx'],
    },
  );
  setPriority(child.pid!, abusersNice(o.cpus !== undefined));
  pinTo(child.pid!, o.cpus);
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`bench: the abusers' process exited (${code})`)));
  });
  return {
    async stop(): Promise<{ tally: Tally; cpuMs: number }> {
      const result = new Promise<{ tally: Tally; cpuMs: number }>((resolve) =>
        child.once('message', resolve),
      );
      child.send('stop');
      return result;
    },
  };
}

interface RunResult {
  samples: HonestSamples;
  /** What the honest wallets' requests got, and the abusers'. */
  tally: Tally;
  abuseTally: Tally;
  seconds: number;
  lspCpuMs: number;
  benchCpuMs: number;
  /** The abusers' process (NaN when inline: then in benchCpuMs). */
  abusersCpuMs: number;
  /** The LSP's /metrics at the end of the run less at its start (the delay: over the run). */
  lsp: Awaited<ReturnType<typeof lspFigures>>;
  lspRssMb: number;
  /** The bench's own event loop (the honest wallets' side of "outside"): delay p99 and max, ms. */
  benchLoopDelayMs: { p99: number; max: number };
  load: [number, number];
}

async function runLoad(o: {
  lsp: LspProcess;
  run: string;
  honest: number;
  abusers: number;
  windowMs: number;
  /** After the window, how long sessions may still finish before the run is cut. */
  graceMs: number;
  routes: number;
  payeeNodeId: string;
  /** Where the abusers' process runs (unpinned: undefined). */
  clientCpus?: number[];
}): Promise<RunResult> {
  const samples = newSamples();
  const tally = newTally();
  // abusers first, so the honest sessions meet them from the start; the run's figures start after
  // their process has loaded (under load that took tens of seconds, which diluted every share)
  const abusing =
    o.abusers > 0
      ? await startAbusers({
          url: o.lsp.url,
          payeeNodeId: o.payeeNodeId,
          count: o.abusers,
          cpus: o.clientCpus,
        })
      : undefined;
  const load0 = loadavg()[0]!;
  const lsp0 = await lspFigures(o.lsp.url);
  const lspCpu0 = cpuMsOf(o.lsp.child.pid!);
  const benchCpu0 = process.cpuUsage();
  const benchLoop = monitorEventLoopDelay({ resolution: 5 });
  benchLoop.enable();
  const t0 = performance.now();
  // the bound on the run's time (from the honest wallets' start: the abusers' process takes a moment
  // to load): an LSP that falls behind leaves sessions unfinished, not a hung bench
  const cut = sharedAbort();
  const deadline = setTimeout(() => cut.abort(), o.windowMs + o.graceMs);
  // open loop: wallet i arrives at i/honest of the window, whatever the LSP's pace
  await Promise.all(
    Array.from({ length: o.honest }, async (_, i) => {
      await sleep((i * o.windowMs) / o.honest);
      await honestWallet({
        url: o.lsp.url,
        ip: honestIp(i),
        // a new wallet each run: both runs take the new-identity path at login
        secretKey: sha256(utf8ToBytes(`bench-hostile/${o.run}/${i}`)),
        payeeNodeId: o.payeeNodeId,
        routes: o.routes,
        thinkMs: 500,
        tally,
        samples,
        cut: cut.signal,
      });
    }),
  );
  clearTimeout(deadline);
  benchLoop.disable();
  const seconds = (performance.now() - t0) / 1000;
  const lspCpuMs = cpuMsOf(o.lsp.child.pid!) - lspCpu0;
  const lsp1 = await lspFigures(o.lsp.url);
  const abused = (await abusing?.stop()) ?? { tally: newTally(), cpuMs: 0 };
  const benchCpu = process.cpuUsage(benchCpu0);
  return {
    samples,
    tally,
    abuseTally: abused.tally,
    seconds,
    lspCpuMs,
    benchCpuMs: (benchCpu.user + benchCpu.system) / 1000,
    abusersCpuMs: abused.cpuMs,
    lsp: {
      ...Object.fromEntries(Object.entries(lsp1).map(([k, v]) => [k, v - lsp0[k as keyof typeof lsp0]])),
      delayP99Ms: lsp1.delayP99Ms,
      delayMaxMs: lsp1.delayMaxMs,
    } as RunResult['lsp'],
    lspRssMb: rssOf(o.lsp.child.pid!) / 1048576,
    benchLoopDelayMs: { p99: benchLoop.percentile(99) / 1e6, max: benchLoop.max / 1e6 },
    load: [load0, loadavg()[0]!],
  };
}

/**
 * Each abuse kind alone for `seconds` against the otherwise idle LSP (fresh addresses: 10.70.x.y
 * onwards): the LSP's CPU per abusive request of that kind, its share of a core, and the answers.
 */
async function abuseCost(o: {
  lsp: LspProcess;
  payeeNodeId: string;
  count: number;
  seconds: number;
  clientCpus?: number[];
}) {
  const byKind: Record<string, unknown> = {};
  for (const [i, kind] of ABUSE_KINDS.entries()) {
    const abusing = await startAbusers({
      url: o.lsp.url,
      payeeNodeId: o.payeeNodeId,
      count: o.count,
      kinds: [kind],
      net: 70 + i,
      cpus: o.clientCpus,
    });
    const cpu0 = cpuMsOf(o.lsp.child.pid!);
    const t0 = performance.now();
    await sleep(o.seconds * 1000);
    const { tally } = await abusing.stop();
    const cpuMs = cpuMsOf(o.lsp.child.pid!) - cpu0;
    const seconds = (performance.now() - t0) / 1000;
    byKind[`hostile_cost_${kind}_requests_per_s`] = tally.requests / seconds;
    byKind[`hostile_cost_${kind}_statuses`] = tally.statuses;
    byKind[`hostile_cost_${kind}_lsp_cpu_ms_per_request`] = cpuMs / Math.max(1, tally.requests);
    byKind[`hostile_cost_${kind}_lsp_cpu_share`] = cpuMs / 1000 / seconds;
  }
  return byKind;
}

/**
 * Where the time of answered requests went, from the LSP's Server-Timing: waiting in the LSP's line
 * (`queue`: the fair queue, the tarpit), running in it (`app`), and the rest (`outside`: the socket,
 * the LSP's loop before the door saw it, the client's own loop); p50 and p99 of each, and their means
 * over the slowest 1% by the client's time, which is where a p99 comes from. `cpu` is the LSP's CPU
 * from a request's arrival to its answer, whoever it went to: the wait in the LSP's own terms, which
 * a machine busy with other work stretches far less than wall time.
 */
function whereTimeWent(prefix: string, timed: ServerTimed[]): Record<string, number> {
  const outside = (t: ServerTimed) => t.totalMs - t.queueMs - t.appMs;
  const parts = {
    total: (t: ServerTimed) => t.totalMs,
    queue: (t: ServerTimed) => t.queueMs,
    app: (t: ServerTimed) => t.appMs,
    outside,
    cpu: (t: ServerTimed) => t.cpuMs,
  };
  const slowest = [...timed]
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, Math.max(1, Math.ceil(timed.length / 100)));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const figures: Record<string, number> = { [`${prefix}_timed`]: timed.length };
  for (const [name, of] of Object.entries(parts)) {
    const all = timed.map(of);
    figures[`${prefix}_${name}_ms_p50`] = percentile(all, 50);
    figures[`${prefix}_${name}_ms_p99`] = percentile(all, 99);
    figures[`${prefix}_slowest_1pct_${name}_ms_mean`] = mean(slowest.map(of));
  }
  return figures;
}

/** Requests the LSP let in (they carry Server-Timing), by tRPC path: how many, and their summed app time. */
function admittedByProcedure(timed: ServerTimed[]): Record<string, { count: number; appMs: number }> {
  const by: Record<string, { count: number; appMs: number }> = {};
  for (const t of timed) {
    const p = by[t.procedure] ?? { count: 0, appMs: 0 };
    p.count++;
    p.appMs += t.appMs;
    by[t.procedure] = p;
  }
  return by;
}

/** `wallets` simulated wallets, 5% of them abusers in the second run; arrivals spread over `windowSec`. */
export async function measureHostile(wallets: number, windowSec: number, routesPerWallet: number) {
  const place = placement();
  if ('unpinned' in place) process.stderr.write(`bench: hostile: ${place.unpinned}\n`);
  await initWasm();
  const devnet = await startDevnet({ seed: 'bench-hostile' });
  const dir = mkdtempSync(join(tmpdir(), 'lpw-bench-hostile-'));
  let net: PublicNetwork | undefined;
  let lsp: LspProcess | undefined;
  try {
    const tSetup = performance.now();
    net = await startPublicNetwork(devnet, { routerFundsSat: 10_000_000n, channelSat: 5_000_000n });
    const router = net.router;
    // the LSP's node before its start: a channel of its own to the router, so routes leave through it
    const prep = await openLspForPrep(join(dir, 'lsp.sqlite'), devnet.esploraUrl);
    const lspNodeId = prep.node.nodeId;
    devnet.fund(await prep.node.newAddress(), 5_000_000n);
    devnet.mine(1);
    await prep.node.syncChain();
    await prep.node.connect(router.nodeId, tcp(router.host, router.port));
    const pending = router.node.waitFor('channel-pending', (e) => e.peerId === lspNodeId, 30_000);
    prep.node.openChannel({ peerId: router.nodeId, capacitySat: 4_000_000n });
    const { fundingTxo } = await pending;
    await fundingBroadcast(devnet.chain, fundingTxo);
    devnet.mine(6);
    await Promise.all([prep.node.syncChain(), router.node.syncChain(), net.merchant.node.syncChain()]);
    await waitUntil('LSP → router usable', () => prep.node.listChannels().some((c) => c.isUsable), 20_000);
    await prep.close();

    lsp = await spawnLsp({
      databasePath: join(dir, 'lsp.sqlite'),
      dataDir: dir,
      esploraUrl: devnet.esploraUrl,
      publicPeers: router.uri,
      // the limits as shipped (spawnLsp lifts them for the other groups); the bench is the proxy
      env: {
        RATE_BUY_PER_MIN: '',
        RATE_AUTH_PER_MIN: '',
        RATE_REQUESTS_PER_MIN: '',
        RATE_NEW_WALLETS_PER_HOUR: '',
        RATE_ORDERS_PER_MIN: '',
        RATE_ROUTES_PER_MIN: '',
        BACKUP_BYTES_PER_HOUR_PER_IP: '',
        TRUSTED_PROXIES: '127.0.0.1',
        // answers say how long they waited in the LSP's line and ran in it (whereTimeWent)
        SERVER_TIMING: '1',
        // to weigh the door's parts: TARPIT_MAX_SEC=0 answers every refusal at once
        TARPIT_MAX_SEC: process.env.TARPIT_MAX_SEC ?? '',
        // FAIR_LAG_MS=10000 admits in arrival order (the loop never lags that much): the door without
        // its fair queue, for a before/after on one machine
        FAIR_LAG_MS: process.env.FAIR_LAG_MS ?? '',
      },
    });
    if ('lsp' in place) pinTo(lsp.child.pid!, place.lsp);
    const url = lsp.url;
    const payeeNodeId = net.merchant.nodeId;
    // a route to the merchant once the LSP has the router's gossip
    const probe = proxiedWallet(url, '10.200.0.1', sha256(utf8ToBytes('bench-hostile/probe')), newTally());
    await probe.login();
    let lastAnswer = 'none yet';
    await waitUntil(
      'a route from the LSP to the merchant',
      () =>
        probe
          .findRoute(payeeNodeId, 1_000_000n, 144)
          .then((r) => {
            lastAnswer = `${r.paths.length} paths`;
            return (r.paths[0]?.hops.length ?? 0) >= 2;
          })
          .catch((error: Error) => {
            lastAnswer = error.message;
            return false;
          }),
      60_000,
      500,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; the LSP's last answer: ${lastAnswer}`);
    });
    const setupSeconds = (performance.now() - tSetup) / 1000;

    const abusers = Math.round(wallets * 0.05);
    const honest = wallets - abusers;
    const common = {
      lsp,
      honest,
      windowMs: windowSec * 1000,
      graceMs: 10_000,
      routes: routesPerWallet,
      payeeNodeId,
      clientCpus: 'clients' in place ? place.clients : undefined,
    };
    const before5xx = (await lspFigures(url)).http5xx;
    // BENCH_HOSTILE_COST_ONLY=1 skips the two timed runs: the abuse kinds' cost alone, to try a change
    const timed = process.env.BENCH_HOSTILE_COST_ONLY === '1' ? 0 : 1;
    // unmeasured: the first sessions meet a cold LSP (V8 and the WASM still compiling its paths),
    // which put the quiet run's own slowest 1% in its first second and flattered the ratios
    await runLoad({ ...common, honest: 50 * timed, windowMs: 2_000, run: 'warm-up', abusers: 0 });
    const quiet = await runLoad({ ...common, honest: honest * timed, run: 'quiet', abusers: 0 });
    await sleep(1_000); // let the first run's last writes settle
    const hostile = await runLoad({
      ...common,
      honest: honest * timed,
      run: 'hostile',
      abusers: abusers * timed,
    });
    if (lsp.child.exitCode !== null) {
      throw new Error(
        `the LSP exited (${lsp.child.exitCode}) under load:\n${lsp.logs.slice(-20).join('\n')}`,
      );
    }
    // a dozen of each kind, as in the abused run (50 abusers, four kinds)
    const cost = await abuseCost({
      lsp,
      payeeNodeId,
      count: Math.ceil(abusers / ABUSE_KINDS.length),
      seconds: 6,
      clientCpus: common.clientCpus,
    });
    const lsp5xx = (await lspFigures(url)).http5xx - before5xx;

    const p99 = (r: RunResult, op: keyof Pick<HonestSamples, 'info' | 'auth' | 'routesFind'>) =>
      percentile(r.samples[op], 99);
    /** Operations answered (the others are Infinity in the samples). */
    const ops = (r: RunResult) =>
      [...r.samples.info, ...r.samples.auth, ...r.samples.routesFind].filter(Number.isFinite).length;
    // a run whose honest p99 is unbounded alone had more load than the LSP could serve on this
    // machine: no ratio then (JSON null), the report says the baseline saturated
    const saturated = !Number.isFinite(
      Math.max(p99(quiet, 'info'), p99(quiet, 'auth'), p99(quiet, 'routesFind')),
    );
    const ratios = {
      info: p99(hostile, 'info') / p99(quiet, 'info'),
      auth: p99(hostile, 'auth') / p99(quiet, 'auth'),
      routes_find: p99(hostile, 'routesFind') / p99(quiet, 'routesFind'),
    };
    const perRun = (name: string, r: RunResult) => ({
      [`hostile_${name}_honest_p50_ms_info`]: percentile(r.samples.info, 50),
      [`hostile_${name}_honest_p50_ms_auth`]: percentile(r.samples.auth, 50),
      [`hostile_${name}_honest_p50_ms_routes_find`]: percentile(r.samples.routesFind, 50),
      [`hostile_${name}_honest_ops`]: ops(r),
      [`hostile_${name}_honest_failed`]: r.samples.failed,
      [`hostile_${name}_honest_failures`]: r.samples.failures,
      [`hostile_${name}_honest_unfinished`]: r.samples.unfinished,
      [`hostile_${name}_honest_requests`]: r.tally.requests,
      [`hostile_${name}_honest_statuses`]: r.tally.statuses,
      [`hostile_${name}_abuser_requests`]: r.abuseTally.requests,
      [`hostile_${name}_abuser_statuses`]: r.abuseTally.statuses,
      [`hostile_${name}_network_errors`]: r.tally.networkErrors + r.abuseTally.networkErrors,
      [`hostile_${name}_seconds`]: r.seconds,
      /** CPU of the LSP process over the run, per honest operation (an auth is two calls). */
      [`hostile_${name}_lsp_cpu_ms_per_honest_op`]: r.lspCpuMs / Math.max(1, ops(r)),
      /** ... and per HTTP request any client made. */
      [`hostile_${name}_lsp_cpu_ms_per_request`]:
        r.lspCpuMs / Math.max(1, r.tally.requests + r.abuseTally.requests),
      [`hostile_${name}_lsp_cpu_share`]: r.lspCpuMs / 1000 / r.seconds,
      [`hostile_${name}_bench_cpu_share`]: r.benchCpuMs / 1000 / r.seconds,
      /** The abusers' own process (null when they ran inside the bench's). */
      [`hostile_${name}_abusers_cpu_share`]: Number.isNaN(r.abusersCpuMs)
        ? null
        : r.abusersCpuMs / 1000 / r.seconds,
      /** The LSP's thread: busy share of the run, its event-loop delay, its refusals per second. */
      [`hostile_${name}_lsp_loop_busy_share`]: r.lsp.busySec / r.seconds,
      [`hostile_${name}_lsp_loop_delay_p99_ms`]: r.lsp.delayP99Ms,
      [`hostile_${name}_lsp_loop_delay_max_ms`]: r.lsp.delayMaxMs,
      [`hostile_${name}_lsp_refusals_per_s`]: r.lsp.http4xx / r.seconds,
      [`hostile_${name}_lsp_rate_limited_per_s`]: r.lsp.rateLimited / r.seconds,
      [`hostile_${name}_lsp_held`]: r.lsp.held,
      [`hostile_${name}_lsp_fair_served`]: r.lsp.fairServed,
      [`hostile_${name}_lsp_fair_evicted`]: r.lsp.fairEvicted,
      [`hostile_${name}_lsp_rss_mb`]: r.lspRssMb,
      [`hostile_${name}_bench_loop_delay_p99_ms`]: r.benchLoopDelayMs.p99,
      [`hostile_${name}_bench_loop_delay_max_ms`]: r.benchLoopDelayMs.max,
      [`hostile_${name}_load_average`]: r.load,
      ...whereTimeWent(`hostile_${name}_honest`, r.tally.timed),
      // by procedure: an operation's p99 comes from its own slowest requests
      ...whereTimeWent(
        `hostile_${name}_honest_routes_find`,
        r.tally.timed.filter((t) => t.procedure === 'routes.find'),
      ),
      ...whereTimeWent(
        `hostile_${name}_honest_info`,
        r.tally.timed.filter((t) => t.procedure === 'info.get'),
      ),
      ...whereTimeWent(`hostile_${name}_abuser`, r.abuseTally.timed),
      /** What the abusers got the LSP to run (answers with Server-Timing), by procedure: count and app ms. */
      [`hostile_${name}_abuser_admitted`]: admittedByProcedure(r.abuseTally.timed),
    });
    return {
      hostile_abusers_where:
        abusersWhere === 'inline' ? 'inline' : `own process, nice ${abusersNice(!('unpinned' in place))}`,
      hostile_placement:
        'unpinned' in place
          ? place.unpinned
          : `LSP on CPU ${place.lsp.join(',')}; honest wallets (the bench) and abusers on CPU ${place.clients.join(',')}`,
      hostile_wallets: wallets,
      hostile_abusers: abusers,
      hostile_setup_s: setupSeconds,
      honest_p99_ms_info_quiet: p99(quiet, 'info'),
      honest_p99_ms_auth_quiet: p99(quiet, 'auth'),
      honest_p99_ms_routes_find_quiet: p99(quiet, 'routesFind'),
      honest_p99_ms_info: p99(hostile, 'info'),
      honest_p99_ms_auth: p99(hostile, 'auth'),
      honest_p99_ms_routes_find: p99(hostile, 'routesFind'),
      honest_p99_ratio_info: ratios.info,
      honest_p99_ratio_auth: ratios.auth,
      honest_p99_ratio_routes_find: ratios.routes_find,
      /** The honest requests' LSP CPU from arrival to answer, p99 with abusers over alone. */
      honest_lsp_cpu_p99_ratio:
        percentile(
          hostile.tally.timed.map((t) => t.cpuMs),
          99,
        ) /
        percentile(
          quiet.tally.timed.map((t) => t.cpuMs),
          99,
        ),
      honest_p99_ratio_worst: saturated ? null : Math.max(ratios.info, ratios.auth, ratios.routes_find),
      /** The honest load alone left over 1% of some operation unanswered: the ratio means nothing. */
      hostile_baseline_saturated: saturated,
      /** Every 5xx answer any client (honest or not) saw in both runs. */
      lsp_errors_5xx: [quiet.tally, hostile.tally, hostile.abuseTally].reduce(
        (n, t) => n + errorsOver500(t),
        0,
      ),
      /** The LSP's own count of 5xx answers over both runs (its /metrics), and its error logs. */
      lsp_errors_5xx_counted_by_lsp: lsp5xx,
      hostile_lsp_error_logs: lsp.logs
        .filter(isLspErrorLine)
        .slice(-8)
        .map((line) => line.slice(0, 400)),
      ...perRun('quiet', quiet),
      ...perRun('abused', hostile),
      ...cost,
    };
  } finally {
    await lsp?.stop();
    await net?.stop();
    await devnet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
