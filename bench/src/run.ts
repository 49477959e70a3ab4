// `npm run bench [-- --quick] [--profile] [--groups=floor,product,soak,l402,stream,lsp,lsp-pg,lsp-channels,wallet,fees,backup,chainview,hostile,failover,gossip]`
// (failover, hot standby's takeover on PostgreSQL, and gossip, a mainnet-sized graph: minutes to make the first
// time, minutes to sync, only in a full run or when named: failover-run.ts, gossip-run.ts)
// (or the long modes, flags of their own: `-- --channels[=N]`, the LSP holding N channels, see lsp-many-run.ts;
// `-- --soak-long[=N]`, the LSP's WASM memory over N payments, see
// lsp-soak-run.ts; `-- --crash[=N]`, the crash test with N SIGKILLs, see crash-run.ts; `-- --pwa-stream[=MINUTES]`, a
// per-second stream from the PWA in Chromium, watching the worker's WASM memory, see pwa-stream-run.ts): the floor (our nodes with no I/O), our
// node (createNode + SQLite), the soak and the L402 overhead, each group in its own process, one after another (two
// cores: running them side by side would measure the contention). Prints a table, writes
// bench/results/latest.json. A MISS against a goal is reported, never an exit code: benchmarks are not
// tests.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from './child.ts';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', 'results');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profile = args.includes('--profile');
// --soak-long[=N]: N payments (100,000 by default) wallets → LSP → merchant, the LSP in its own
// process, watching its WASM memory; a flag of its own, never part of a default or quick run
const soakLong = args.find((a) => a === '--soak-long' || a.startsWith('--soak-long='));
const soakLongPayments = soakLong?.includes('=') ? Number(soakLong.split('=')[1]) : 100_000;
// --crash[=N]: the crash test with N SIGKILLs (1,000 by default; CI runs 50), also a flag of its own
const crash = args.find((a) => a === '--crash' || a.startsWith('--crash='));
const crashKills = crash?.includes('=') ? Number(crash.split('=')[1]) : 1_000;
// --crash-minutes=M: stop the crash run after M minutes with the kills done by then (each kill gets
// slower as the one channel's monitor grows: docs/architecture.md)
const crashMinutes = Number(args.find((a) => a.startsWith('--crash-minutes='))?.split('=')[1] ?? 0);
// --pwa-stream[=MINUTES]: the PWA streams every second for MINUTES (30 by default), its worker's memory sampled
const pwaStream = args.find((a) => a === '--pwa-stream' || a.startsWith('--pwa-stream='));
const pwaStreamMinutes = pwaStream?.includes('=') ? Number(pwaStream.split('=')[1]) : 30;
// --channels[=N]: the LSP holding N channels (10,000 by default; 25 wallets, N/25 channels each):
// restart, RSS, manager bytes per commit and forwards at that size (lsp-many-run.ts); a flag of its own
const manyChannels = args.find((a) => a === '--channels' || a.startsWith('--channels='));
const manyChannelsCount = manyChannels?.includes('=') ? Number(manyChannels.split('=')[1]) : 10_000;
if (!Number.isInteger(manyChannelsCount / 25) || manyChannelsCount < 25)
  throw new Error(`--channels expected a multiple of 25, got ${manyChannelsCount}`);
const longModes = [
  soakLong && 'soak-long',
  crash && 'crash',
  pwaStream && 'pwa-stream',
  manyChannels && 'lsp-many-channels',
]
  .filter(Boolean)
  .join(',');
const groups = (
  args.find((a) => a.startsWith('--groups='))?.slice('--groups='.length) ||
  longModes ||
  `floor,product,soak,l402,stream,lsp,lsp-channels,wallet,fees,backup,chainview,hostile${quick ? '' : ',lsp-pg,failover,gossip'}`
)
  .split(',')
  .filter(Boolean);

// a day at most: the deadline is for a busy machine, the count is the measurement
const soakLongPlan = { payments: soakLongPayments, samples: 40, deadlineMs: 24 * 3_600_000 };
// 25 wallets, N/25 channels each (lsp-many-run.ts keeps 50 opens in flight across them)
const manyChannelsPlan = { wallets: 25, channelsPerWallet: manyChannelsCount / 25, forwardPayments: 2_000 };
const plan = quick
  ? {
      floor: { payments: 200, throughputPayments: 500 },
      product: { payments: 200, throughputPayments: 500, startRuns: 3 },
      soak: { payments: 5_000, deadlineMs: 150_000 },
      l402: { requests: 200, purchases: 10 },
      // quick: 20 JIT wallets paying, 100 channels (20 wallets × 5) instead of 1,000
      lsp: { wallets: 20, forwardPayments: 200 },
      // the same on PostgreSQL; not in a quick run's groups (this size when named with --groups=lsp-pg)
      'lsp-pg': { wallets: 20, forwardPayments: 200 },
      'lsp-channels': { wallets: 20, channelsPerWallet: 5 },
      stream: { seconds: 15, monitorPayments: 300 },
      // the PWA in Chromium: cold starts to ready, payments from the browser and from a Node wallet
      wallet: { readyRuns: 3, payments: 5 },
      // every fee-weather scenario once, payments both ways (packages/node/test/fee-stack.ts)
      fees: { rounds: 1 },
      // one channel: latency with the backup gate off and on, then the backup's size after the payments
      backup: { latencyPayments: 25, payments: 1_000 },
      // the checked chain view: wallet starts and per-block syncs plain / checked / compared, headers alone
      chainview: { startRuns: 3, blocks: 10, headerSpan: 1_000 },
      // the LSP as shipped under 200 wallets' sessions over 10 s, alone and with 5% of them abusing it
      hostile: { wallets: 200, windowSec: 10, routesPerWallet: 1 },
      'soak-long': soakLongPlan,
      'lsp-many-channels': manyChannelsPlan,
      crash: { kills: crashKills, minutes: crashMinutes },
      'pwa-stream': { minutes: pwaStreamMinutes },
      // not in a quick run's groups; this size when named with --groups=failover
      failover: { rounds: 3 },
    }
  : {
      floor: { payments: 1_000, throughputPayments: 2_000 },
      product: { payments: 1_000, throughputPayments: 2_000, startRuns: 5 },
      soak: { payments: 20_000, deadlineMs: 900_000 },
      l402: { requests: 1_000, purchases: 50 },
      lsp: { wallets: 50, forwardPayments: 2_000 },
      'lsp-pg': { wallets: 50, forwardPayments: 2_000 },
      'lsp-channels': { wallets: 100, channelsPerWallet: 10 },
      stream: { seconds: 60, monitorPayments: 1_000 },
      wallet: { readyRuns: 5, payments: 10 },
      fees: { rounds: 2 },
      backup: { latencyPayments: 100, payments: 10_000 },
      chainview: { startRuns: 7, blocks: 30, headerSpan: 2_016 },
      hostile: { wallets: 1_000, windowSec: 25, routesPerWallet: 1 },
      // mainnet's public graph (packages/devnet/src/gossip-graph.ts), synced by the LSP, then routes.find
      gossip: { nodes: 15_000, channels: 50_000, routeQueries: 200 },
      'soak-long': soakLongPlan,
      'lsp-many-channels': manyChannelsPlan,
      crash: { kills: crashKills, minutes: crashMinutes },
      'pwa-stream': { minutes: pwaStreamMinutes },
      // SIGKILLs of the active LSP, each taken over by the standby and followed by a payment
      failover: { rounds: 10 },
    };

type Results = Record<string, unknown>;
const results: Results = {};
const timings: Record<string, number> = {};
/** 1-minute load average before and after each group: other work on the machine skews wall time. */
const load: Record<string, [number, number]> = {};
const failures: Record<string, string> = {};
for (const group of groups) {
  if (!(group in plan)) throw new Error(`unknown group ${group} (${Object.keys(plan).join(', ')})`);
  const flags = profile ? ['--cpu-prof', `--cpu-prof-dir=${join(resultsDir, 'prof')}`] : [];
  // the CLI wallet children of the stream group too (apps/cli/test/stack.ts reads this)
  if (profile) process.env.LPW_CLI_NODE_FLAGS = flags.join(' ');
  // and the LSP's own process in the LSP groups (lsp.ts reads this)
  if (profile) process.env.BENCH_LSP_NODE_FLAGS = flags.join(' ');
  process.stderr.write(`bench: ${group} ${JSON.stringify(plan[group as keyof typeof plan])}…\n`);
  const loadBefore = loadavg()[0]!;
  const t0 = performance.now();
  try {
    Object.assign(
      results,
      await runChild<Results>('group.ts', [group, JSON.stringify(plan[group as keyof typeof plan])], flags),
    );
  } catch (error) {
    // one group failing leaves the others' figures standing; the failure is in the report
    failures[group] = error instanceof Error ? error.message : String(error);
    process.stderr.write(`bench: ${group} failed: ${failures[group]}\n`);
  }
  timings[group] = Math.round((performance.now() - t0) / 1000);
  load[group] = [loadBefore, loadavg()[0]!];
}

// the 1,000-channel keys only when 1,000 channels were measured (a quick run measures 100)
if (results.lsp_channels === 1000) {
  results.lsp_rss_mb_1000_channels = results.lsp_rss_mb;
  results.lsp_restart_ms_1000_channels = results.lsp_restart_ms;
}
const fmtCount = (v: unknown) => (typeof v === 'number' ? v.toLocaleString('en-US') : '?');
const num = (k: string) => (typeof results[k] === 'number' ? (results[k] as number) : Number.NaN);
const goals = [
  {
    name: 'latency p50 vs floor',
    ratio: num('pay_latency_ms_p50') / num('floor_latency_ms_p50'),
    goal: '≤ 1.3',
    pass: (r: number) => r <= 1.3,
  },
  {
    name: 'throughput vs floor',
    ratio: num('forwards_per_s') / num('floor_forwards_per_s'),
    // above 1 the product beats the floor: then the floor is wrong, not the product fast
    goal: '0.7–1.0',
    pass: (r: number) => r >= 0.7 && r <= 1,
  },
  {
    name: 'l402 overhead p50 (ms)',
    ratio: num('l402_overhead_ms_p50'),
    goal: '< 100',
    pass: (r: number) => r < 100,
  },
  {
    name: 'LSP JIT receive p50 (ms)',
    ratio: num('jit_receive_ms_p50'),
    goal: '< 1000',
    pass: (r: number) => r < 1000,
  },
  {
    name: 'LSP forwards/s (wallets → merchant)',
    ratio: num('lsp_forwards_per_s'),
    goal: '≥ 100',
    pass: (r: number) => r >= 100,
  },
  {
    name: 'LSP forwards/s on PostgreSQL',
    ratio: num('lsp_forwards_per_s_pg'),
    goal: '≥ 100',
    pass: (r: number) => r >= 100,
  },
  {
    name: 'LSP CPU per forward (ms; wallets in another process)',
    ratio: num('lsp_cpu_ms_per_forward'),
    goal: '≤ 10',
    pass: (r: number) => r <= 10,
  },
  {
    name: `LSP restart, ${fmtCount(results.lsp_channels)} channels (ms)`,
    ratio: num('lsp_restart_ms'),
    goal: '< 10000',
    pass: (r: number) => r < 10_000,
  },
  ...(results.lsp_many_channels === undefined
    ? []
    : (['lsp_restart_ms', 'lsp_forwards_per_s', 'lsp_rss_mb'] as const)
  ).map((figure) => {
    // the goals are for 10,000 channels; a smaller --channels run is shown against them, named for its size
    const at = `${figure}_${results.lsp_many_channels}_channels`;
    const goal = { lsp_restart_ms: 15_000, lsp_forwards_per_s: 50, lsp_rss_mb: 2_048 }[figure];
    return {
      name: `${at}${results.lsp_many_channels === 10_000 ? '' : ' (goal for 10,000)'}`,
      ratio: num(at),
      goal: figure === 'lsp_forwards_per_s' ? `≥ ${goal}` : `< ${goal}`,
      pass: (r: number) => (figure === 'lsp_forwards_per_s' ? r >= goal : r < goal),
    };
  }),
  {
    name: 'PWA JS gzip (KB)',
    ratio: num('pwa_js_gzip_kb'),
    goal: '< 250',
    pass: (r: number) => r < 250,
  },
  {
    name: 'PWA cold start to ready p50 (ms)',
    ratio: num('pwa_ready_ms_p50'),
    goal: '< 2500',
    pass: (r: number) => r < 2500,
  },
  {
    name: 'PWA pay p50 vs Node wallet',
    ratio: num('pwa_pay_latency_ms_p50') / num('node_pay_latency_ms_p50'),
    goal: '≤ 1.5',
    pass: (r: number) => r <= 1.5,
  },
  {
    name: 'fee spikes: force-closes',
    ratio: num('fee_spike_force_closes'),
    goal: '0',
    pass: (r: number) => r === 0,
  },
  {
    name: 'fee spikes: msat mismatch',
    ratio: num('fee_spike_msat_mismatch'),
    goal: '0',
    pass: (r: number) => r === 0,
  },
  {
    name: 'backup bytes after 10,000 payments (KB)',
    ratio: num('backup_bytes_after_10000_payments') / 1024,
    goal: '≤ 256',
    pass: (r: number) => r <= 256,
  },
  {
    name: 'soak-long WASM growth, last half',
    ratio: num('soak_wasm_growth_last_half'),
    goal: '≤ 0.05',
    pass: (r: number) => r <= 0.05,
  },
  {
    name: 'soak-long failed payments',
    ratio: num('soak_long_failed'),
    goal: '0',
    pass: (r: number) => r === 0,
  },
  {
    name: 'PWA stream WASM growth, last half',
    ratio: num('pwa_stream_wasm_growth'),
    goal: '≤ 0.05',
    pass: (r: number) => r <= 0.05,
  },
  {
    name: 'crash: force closes',
    ratio: num('crash_force_closes'),
    goal: '0',
    pass: (r: number) => r === 0,
  },
  {
    name: 'crash: msat mismatches',
    ratio: num('crash_msat_mismatch'),
    goal: '0',
    pass: (r: number) => r === 0,
  },
  {
    name: 'LSP failover, worst round (ms)',
    ratio: num('lsp_failover_ms'),
    goal: '< 30000',
    pass: (r: number) => r < 30_000,
  },
  {
    name: 'failover: two active at once',
    ratio: num('failover_both_active'),
    goal: '0',
    pass: (r: number) => r === 0,
  },
  {
    name: 'hostile honest p99 vs alone',
    // null: an operation was left unanswered (Infinity) under abuse, a MISS; n/a if it was so alone
    ratio:
      results.honest_p99_ratio_worst === null && results.hostile_baseline_saturated === false
        ? Number.POSITIVE_INFINITY
        : num('honest_p99_ratio_worst'),
    goal: '≤ 2',
    pass: (r: number) => r <= 2,
  },
  {
    name: 'hostile 5xx (any client)',
    ratio: num('lsp_errors_5xx'),
    goal: '0',
    pass: (r: number) => r === 0,
  },
  {
    name: 'soak last/first 1,000',
    ratio: num('soak_last_vs_first'),
    goal: '≥ 0.8',
    pass: (r: number) => r >= 0.8,
  },
].map((g) => ({
  name: g.name,
  ratio: g.ratio,
  goal: g.goal,
  verdict: Number.isNaN(g.ratio) ? 'n/a' : g.pass(g.ratio) ? 'PASS' : 'MISS',
}));

const fmt = (v: unknown) =>
  typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1)) : String(v);
const MB = 1048576;
const rows: Array<[string, unknown, string?]> = [
  ['node_start_ms (WASM init + restore, fresh process)', num('node_start_ms')],
  [
    '  wasm init / restore / import (ms)',
    `${fmt(num('node_start_wasm_init_ms'))} / ${fmt(num('node_start_restore_ms'))} / ${fmt(num('node_start_import_ms'))}`,
  ],
  [
    'pay_latency_ms_p50 / p99 (A→B→C, SQLite)',
    `${fmt(num('pay_latency_ms_p50'))} / ${fmt(num('pay_latency_ms_p99'))}`,
  ],
  [
    'floor_latency_ms_p50 / p99 (same nodes, memory store)',
    `${fmt(num('floor_latency_ms_p50'))} / ${fmt(num('floor_latency_ms_p99'))}`,
  ],
  [
    'forwards_per_s (50 in flight, successes)',
    num('forwards_per_s'),
    `failed ${fmt(results.forwards_failed)}`,
  ],
  ['floor_forwards_per_s', num('floor_forwards_per_s'), `failed ${fmt(results.floor_failed)}`],
  [
    'CPU ms per payment, ours / floor (sequential)',
    `${fmt(num('pay_cpu_ms_per_payment'))} / ${fmt(num('floor_cpu_ms_per_payment'))}`,
  ],
  [
    'CPU ms per payment, ours / floor (50 in flight)',
    `${fmt(num('forward_cpu_ms_per_payment'))} / ${fmt(num('floor_cpu_ms_per_forward'))}`,
  ],
  [
    'l402_overhead_ms_p50 (paid token − unprotected twin)',
    num('l402_overhead_ms_p50'),
    `paid ${fmt(num('l402_paid_ms_p50'))} / free ${fmt(num('l402_unprotected_ms_p50'))} ms`,
  ],
  ['l402_purchase_ms_p50 (402 → pay → 200)', num('l402_purchase_ms_p50')],
  [
    'stream_payments_per_s (CLI wallet → LSP → router → merchant)',
    num('stream_payments_per_s'),
    `best rung paid ${fmt(num('stream_achieved_per_s'))}/s`,
  ],
  [
    `backup_bytes after ${fmtCount(results.backup_payments)} payments (one channel, signed + deflated)`,
    num('backup_bytes_after_payments'),
    `plain ${fmt(num('backup_plain_bytes'))}: monitor ${fmt(num('backup_monitor_bytes'))}, updates ${fmt(num('backup_monitor_update_bytes'))}, manager ${fmt(num('backup_manager_bytes'))}`,
  ],
  [
    'pay_latency_ms_p50 backup gate off / on (A→B, LSP over HTTP)',
    `${fmt(num('pay_latency_ms_p50_gate_off'))} / ${fmt(num('pay_latency_ms_p50_gate_on'))}`,
    `backup_put_ms_p50 ${fmt(num('backup_put_ms_p50'))}`,
  ],
  [
    'monitor_bytes_per_1000_payments (wallet, sequential)',
    num('monitor_bytes_per_1000_payments'),
    `${fmt(num('monitor_bytes_per_hour_per_second_stream') / MB)} MB per hour of 1/s`,
  ],
  [
    `jit_receive_ms_p50 / p90 (${fmt(results.jit_receives)} fresh wallets)`,
    `${fmt(num('jit_receive_ms_p50'))} / ${fmt(num('jit_receive_ms_p90'))}`,
    `failed ${fmt(results.jit_failed)}`,
  ],
  [
    `lsp_forwards_per_s (${fmt(results.lsp_forwards_wallets)} wallets at once, LSP on SQLite)`,
    num('lsp_forwards_per_s'),
    `failed ${fmt(results.lsp_forwards_failed)}; alone ${fmt(num('lsp_forward_ms_p50_alone'))} ms; CPU per forward: LSP ${fmt(num('lsp_cpu_ms_per_forward'))} ms, wallets and network ${fmt(num('lsp_bench_cpu_ms_per_forward'))} ms`,
  ],
  [
    `lsp_forwards_per_s_pg (${fmt(results.lsp_forwards_wallets_pg)} wallets at once, LSP on PostgreSQL)`,
    num('lsp_forwards_per_s_pg'),
    `failed ${fmt(results.lsp_forwards_failed_pg)}; CPU per forward: LSP ${fmt(num('lsp_cpu_ms_per_forward_pg'))} ms, wallets and network ${fmt(num('lsp_bench_cpu_ms_per_forward_pg'))} ms`,
  ],
  [
    `lsp_rss_mb, ${fmtCount(results.lsp_channels)} channels${results.lsp_channels === 1000 ? '' : ' (not 1,000)'}`,
    num('lsp_rss_mb'),
    `after restart ${fmt(num('lsp_rss_mb_after_restart'))} MB`,
  ],
  [
    `lsp_restart_ms, ${fmtCount(results.lsp_channels)} channels (createNode restore + ready)`,
    num('lsp_restart_ms'),
    `spawn → listening ${fmt(num('lsp_restart_spawn_to_listening_ms'))} ms`,
  ],
  ...(results.lsp_many_channels === undefined
    ? []
    : [
        <[string, unknown, string]>[
          `manager_bytes_per_commit_${results.lsp_many_channels}_channels (--channels)`,
          num(`manager_bytes_per_commit_${results.lsp_many_channels}_channels`),
          `snapshot ${fmt(num(`manager_snapshot_bytes_${results.lsp_many_channels}_channels`))} B; setup: open ${fmt(num('lsp_many_open_s'))} s, reconnect ${fmt(num('lsp_many_reconnect_s'))} s`,
        ],
      ]),
  [
    'pwa_js_gzip_kb / pwa_wasm_gzip_kb (built wallet)',
    `${fmt(num('pwa_js_gzip_kb'))} / ${fmt(num('pwa_wasm_gzip_kb'))}`,
    Object.entries((results.pwa_js_gzip_kb_files as Record<string, number> | undefined) ?? {})
      .sort(([, a], [, b]) => b - a)
      .slice(0, 3)
      .map(([name, kb]) => `${name} ${fmt(kb)}`)
      .join(', '),
  ],
  [
    `pwa_ready_ms_p50 (cold Chromium, unlock → LSP link; ${fmt(results.pwa_ready_runs)} runs)`,
    num('pwa_ready_ms_p50'),
    `lock screen ${fmt(num('pwa_lock_screen_ms_p50'))} ms; max ${fmt(num('pwa_ready_ms_max'))} ms`,
  ],
  [
    'pwa start steps, ms from navigation (p50)',
    '',
    Object.entries((results.pwa_ready_steps_ms_p50 as Record<string, number> | undefined) ?? {})
      .map(([step, ms]) => `${step} ${fmt(ms)}`)
      .join(', '),
  ],
  [
    'pay_latency_ms_p50, PWA / Node wallet (via LSP → merchant)',
    `${fmt(num('pwa_pay_latency_ms_p50'))} / ${fmt(num('node_pay_latency_ms_p50'))}`,
    `p90 ${fmt(num('pwa_pay_latency_ms_p90'))} / ${fmt(num('node_pay_latency_ms_p90'))} ms`,
  ],
  [
    'pay_latency_ms_p50, CLI wallet (SQLite + backup gate, as the PWA)',
    num('cli_pay_latency_ms_p50'),
    `PWA / CLI ${fmt(num('pwa_vs_cli_pay_p50'))}; p90 ${fmt(num('cli_pay_latency_ms_p90'))} ms`,
  ],
  [
    `fee_spike_failed_payments (of ${fmt(results.fee_spike_payments)}, ${fmt((results.fee_spike_scenarios as string[] | undefined)?.length)} scenarios)`,
    num('fee_spike_failed_payments'),
    Object.entries((results.fee_spike_failed_reasons as Record<string, number> | undefined) ?? {})
      .map(([reason, n]) => `${n}× ${reason}`)
      .join('; '),
  ],
  ['soak_payments', num('soak_payments'), `failed ${fmt(results.soak_failed)}`],
  [
    'soak first / last 1,000 (payments/s)',
    `${fmt(num('soak_first_per_s'))} / ${fmt(num('soak_last_per_s'))}`,
  ],
  ['soak_last_vs_first', num('soak_last_vs_first')],
  ['soak CPU per payment, first/last 1,000', num('soak_cpu_first_vs_last'), '(1 = no decay)'],
  [
    'soak monitor / manager bytes (stored)',
    `${fmt(num('soak_monitor_bytes'))} / ${fmt(num('soak_manager_bytes'))}`,
  ],
  [
    `soak-long: ${fmtCount(results.soak_long_payments)} payments via the LSP, its WASM MB start / half / end`,
    `${fmt(num('soak_wasm_mb_start'))} / ${fmt(num('soak_wasm_mb_half'))} / ${fmt(num('soak_wasm_mb_end'))}`,
    `growth last half ${fmt(num('soak_wasm_growth_last_half'))}; LSP RSS ${fmt(num('soak_lsp_rss_mb_start'))} → ${fmt(num('soak_lsp_rss_mb_end'))} MB; failed ${fmt(results.soak_long_failed)}`,
  ],
  [
    `pwa-stream: ${fmt(results.pwa_stream_minutes)} min at 1/s from the PWA, worker WASM MB start / half / end`,
    `${fmt(num('pwa_stream_wasm_mb_start'))} / ${fmt(num('pwa_stream_wasm_mb_half'))} / ${fmt(num('pwa_stream_wasm_mb_end'))}`,
    `growth last half ${fmt(num('pwa_stream_wasm_growth'))}; worker heap ${fmt(num('pwa_stream_heap_mb_start'))} → ${fmt(num('pwa_stream_heap_mb_end'))} MB; ${fmt(results.pwa_stream_payments)} payments, ${fmt(results.pwa_stream_failures)} failed, ${fmt(results.pwa_stream_missed_periods)} periods missed`,
  ],
  [
    'chainview start ms p50, plain / checked / compared (wallet)',
    `${fmt(num('chainview_start_ms_p50_plain'))} / ${fmt(num('chainview_start_ms_p50_checked'))} / ${fmt(num('chainview_start_ms_p50_compared'))}`,
    `CPU ${fmt(num('chainview_start_cpu_ms_p50_plain'))} / ${fmt(num('chainview_start_cpu_ms_p50_checked'))} / ${fmt(num('chainview_start_cpu_ms_p50_compared'))} ms at height ${fmt(results.chainview_start_height)}`,
  ],
  [
    'chainview per block ms p50, plain / checked / compared',
    `${fmt(num('chainview_block_ms_p50_plain'))} / ${fmt(num('chainview_block_ms_p50_checked'))} / ${fmt(num('chainview_block_ms_p50_compared'))}`,
    `CPU ${fmt(num('chainview_block_cpu_ms_p50_plain'))} / ${fmt(num('chainview_block_cpu_ms_p50_checked'))} / ${fmt(num('chainview_block_cpu_ms_p50_compared'))} ms`,
  ],
  [
    `chainview µs per header (${fmtCount(results.chainview_headers)} from genesis)`,
    num('chainview_header_us'),
    `CPU ${fmt(num('chainview_header_cpu_us'))} µs`,
  ],
  [
    'chain_check_ms_per_block (CPU: header link + proof of work + one merkle proof)',
    num('chain_check_ms_per_block'),
    `with a 12-deep merkle branch (mainnet); devnet blocks (depth ≤ ${fmt(results.chain_check_merkle_depth)}) ${fmt(num('chain_check_ms_per_block_devnet'))} ms`,
  ],
  [
    `hostile honest p99 ms info / auth / routes.find, alone (${fmtCount(results.hostile_wallets)} wallets${results.hostile_baseline_saturated ? ', SATURATED' : ''})`,
    `${fmt(num('honest_p99_ms_info_quiet'))} / ${fmt(num('honest_p99_ms_auth_quiet'))} / ${fmt(num('honest_p99_ms_routes_find_quiet'))}`,
    `LSP CPU ${fmt(num('hostile_quiet_lsp_cpu_ms_per_honest_op'))} ms per op; failed ${fmt(results.hostile_quiet_honest_failed)}, unfinished ${fmt(results.hostile_quiet_honest_unfinished)}`,
  ],
  [
    `  same with ${fmt(results.hostile_abusers)} abusers (batches, floods, identities, bodies)`,
    `${fmt(num('honest_p99_ms_info'))} / ${fmt(num('honest_p99_ms_auth'))} / ${fmt(num('honest_p99_ms_routes_find'))}`,
    `ratio ${fmt(num('honest_p99_ratio_info'))} / ${fmt(num('honest_p99_ratio_auth'))} / ${fmt(num('honest_p99_ratio_routes_find'))}; LSP CPU ${fmt(num('hostile_abused_lsp_cpu_ms_per_honest_op'))} ms per honest op, ${fmt(num('hostile_abused_lsp_cpu_ms_per_request'))} per request; failed ${fmt(results.hostile_abused_honest_failed)}, unfinished ${fmt(results.hostile_abused_honest_unfinished)}; 5xx ${fmt(results.lsp_errors_5xx)}`,
  ],
  [
    "  honest requests ms, slowest 1%: in the LSP's line / running / outside, alone",
    `${fmt(num('hostile_quiet_honest_slowest_1pct_queue_ms_mean'))} / ${fmt(num('hostile_quiet_honest_slowest_1pct_app_ms_mean'))} / ${fmt(num('hostile_quiet_honest_slowest_1pct_outside_ms_mean'))}`,
    `with abusers ${fmt(num('hostile_abused_honest_slowest_1pct_queue_ms_mean'))} / ${fmt(num('hostile_abused_honest_slowest_1pct_app_ms_mean'))} / ${fmt(num('hostile_abused_honest_slowest_1pct_outside_ms_mean'))}; abusers' p99 in line ${fmt(num('hostile_abused_abuser_queue_ms_p99'))}, running ${fmt(num('hostile_abused_abuser_app_ms_p99'))}`,
  ],
  [
    "  honest requests' LSP CPU ms from arrival to answer, p99 alone / with abusers",
    `${fmt(num('hostile_quiet_honest_cpu_ms_p99'))} / ${fmt(num('hostile_abused_honest_cpu_ms_p99'))}`,
    `ratio ${fmt(num('honest_lsp_cpu_p99_ratio'))} (wall time less stretched by other work on the machine)`,
  ],
  [
    '  CPU share (cores) LSP / honest wallets / abusers, with abusers',
    `${fmt(num('hostile_abused_lsp_cpu_share'))} / ${fmt(num('hostile_abused_bench_cpu_share'))} / ${fmt(num('hostile_abused_abusers_cpu_share'))}`,
    `alone ${fmt(num('hostile_quiet_lsp_cpu_share'))} / ${fmt(num('hostile_quiet_bench_cpu_share'))}; ${results.hostile_placement ?? '?'}`,
  ],
  [
    "  event-loop delay p99 / max ms, the LSP's and the honest wallets' (the bench's), with abusers",
    `${fmt(num('hostile_abused_lsp_loop_delay_p99_ms'))} / ${fmt(num('hostile_abused_lsp_loop_delay_max_ms'))}, ${fmt(num('hostile_abused_bench_loop_delay_p99_ms'))} / ${fmt(num('hostile_abused_bench_loop_delay_max_ms'))}`,
    `alone ${fmt(num('hostile_quiet_lsp_loop_delay_p99_ms'))} / ${fmt(num('hostile_quiet_lsp_loop_delay_max_ms'))}, ${fmt(num('hostile_quiet_bench_loop_delay_p99_ms'))} / ${fmt(num('hostile_quiet_bench_loop_delay_max_ms'))}`,
  ],
  [
    `crash: ${fmtCount(results.crash_kills)} SIGKILLs mid-payment (+${fmtCount(results.crash_startup_kills)} during restarts)`,
    `${fmt(num('crash_force_closes'))} / ${fmt(num('crash_msat_mismatch'))}`,
    `force closes / msat mismatches; other problems ${fmt(results.crash_other_problems)}; slowest restart ${fmt(results.crash_restart_ms_max)} ms; ${fmt(results.crash_elapsed_s)} s; seed ${results.crash_seed ?? '?'}`,
  ],
  [
    `lsp_failover_ms, worst of ${fmt(results.failover_rounds)} SIGKILLs (→ standby's /health 200)`,
    num('lsp_failover_ms'),
    `p50 ${fmt(num('lsp_failover_ms_p50'))} ms; to the next payment settled p50 ${fmt(num('lsp_failover_pay_ms_p50'))} / worst ${fmt(num('lsp_failover_pay_ms'))} ms; two active ${fmt(results.failover_both_active)}, force closes ${fmt(results.failover_force_closes)}`,
  ],
  [
    'soak WASM memory / RSS (MB)',
    `${fmt(num('soak_wasm_memory_bytes') / MB)} / ${fmt(num('soak_rss_bytes') / MB)}`,
  ],
];
console.log(`\nbench (${quick ? 'quick' : 'full'}; ${cpus().length} cores, Node ${process.version})`);
for (const [name, value, note] of rows)
  console.log(`  ${name.padEnd(52)} ${fmt(value).padStart(16)}  ${note ?? ''}`);
console.log('\ngoals');
for (const g of goals)
  console.log(`  ${g.name.padEnd(30)} ${fmt(g.ratio).padStart(8)}  goal ${g.goal}  ${g.verdict}`);
console.log(`\ngroup wall time (s): ${JSON.stringify(timings)}`);
console.log(`load average before/after: ${JSON.stringify(load)}`);
// the floor is the same nodes with no I/O: a product that beats it measured noise or a broken floor
if (
  num('forwards_per_s') > num('floor_forwards_per_s') ||
  num('pay_latency_ms_p50') < num('floor_latency_ms_p50')
)
  console.log('note: the product beat its floor, so the floor is wrong (or the run was too noisy to read)');
for (const [group, message] of Object.entries(failures))
  console.log(`FAILED ${group}: ${message.split('\n')[0]}`);
if (Object.values(load).some(([before]) => before > cpus().length * 0.5)) {
  console.log(
    'note: the machine was busy with other work; wall-clock figures are pessimistic (see the CPU rows)',
  );
}

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
} catch {
  // not a git checkout: the figures stand without it
}
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, 'latest.json');
writeFileSync(
  file,
  `${JSON.stringify(
    {
      mode: quick ? 'quick' : 'full',
      date: new Date().toISOString(),
      commit,
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version },
      plan,
      timings_s: timings,
      load_average: load,
      failures,
      goals,
      results,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${file}`);
