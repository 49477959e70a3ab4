// Soak: many small payments over one channel (A pays B, createNode + SQLite), watching whether the
// rate decays as the payment count grows (LDK's WASM build was seen to slow 25-fold within 2,000
// payments on one channel). The node's 60 s ChannelManager timer is compressed to TICK_MS so LDK
// prunes completed payments within the run, as it would in a long-lived node.
import { existsSync, statSync } from 'node:fs';
import { SqliteStore } from '@lpw/node/sqlite';
import { readStoredManager } from '../../packages/node/src/persist/manager-chunks.ts';
import { BenchNet, initWasm, sleep, wasmMemoryBytes } from './product.ts';
import { measureStart } from './product-run.ts';
import { cpuMsSince, rateOver, windowed } from './stats.ts';

const TICK_MS = 1_000;
const WINDOW = 25;
const STEP = 1_000;

export async function measureSoak(payments: number, deadlineMs: number) {
  await initWasm();
  const net = await BenchNet.start('soak');
  try {
    const a = await net.node('a', 1, 'router');
    const b = await net.node('b', 2, 'router');
    await net.channel(a, b, 5_000_000n);
    await sleep(200);
    let ticks = 0;
    const ticker = setInterval(() => {
      ticks++;
      for (const n of [a, b]) n.node.ldk.channelManager.timer_tick_occurred();
    }, TICK_MS);

    // a snapshot every STEP successes: rate, store sizes, memory
    const progress: Array<Record<string, number>> = [];
    let done = 0;
    let stepStart = performance.now();
    let stepCpu = process.cpuUsage();
    const snapshot = () => {
      const now = performance.now();
      const m = process.memoryUsage();
      progress.push({
        payments: done,
        per_s: Math.round(STEP / ((now - stepStart) / 1000)),
        cpu_ms_per_payment: Math.round((cpuMsSince(stepCpu) / STEP) * 100) / 100,
        manager_bytes_a: a.store.counters.lastManagerBytes,
        monitor_full_bytes_a: a.store.counters.lastMonitorFullBytes,
        wasm_mb: Math.round((wasmMemoryBytes() ?? 0) / 1048576),
        rss_mb: Math.round(m.rss / 1048576),
        heap_mb: Math.round(m.heapUsed / 1048576),
      });
      stepStart = now;
      stepCpu = process.cpuUsage();
    };
    const pay = async () => {
      const invoice = b.node.createInvoice({ amountMsat: 10_000n, description: 'soak', expirySecs: 3600 });
      await a.node.payInvoice(invoice.bolt11);
      if (++done % STEP === 0) snapshot();
      return true;
    };
    const t0 = performance.now();
    const run = await windowed(payments, WINDOW, pay, { deadlineMs });
    clearInterval(ticker);
    const n = run.successTimes.length;
    const span = Math.min(STEP, Math.floor(n / 2));
    const first = rateOver(run.successTimes, 0, span, t0);
    const last = rateOver(run.successTimes, n - span, span, t0);
    const m = process.memoryUsage();
    const endCounters = {
      manager: a.store.counters.lastManagerBytes,
      monitor: a.store.counters.lastMonitorFullBytes,
    };
    const channel = a.node.listChannels()[0]!;
    const errors = net.errors.slice(0, 10);

    const aStore = { path: a.path, seed: a.seed, role: a.role };
    await net.stopNodes();
    const stored = await storedSizes(aStore.path);
    const start = await measureStart(aStore, net.devnet.esploraUrl, 1);
    return {
      soak_payments: n,
      soak_payments_asked: payments,
      soak_failed: run.failed,
      soak_failures: run.failures,
      soak_truncated_by_deadline: run.started < payments,
      soak_seconds: run.seconds,
      soak_per_s: run.perSecond,
      soak_window: WINDOW,
      soak_first_per_s: first,
      soak_last_per_s: last,
      soak_rate_span: span,
      soak_last_vs_first: last / first,
      /** CPU per payment, first 1,000 / last 1,000 (1 = no decay): less sensitive to a busy machine. */
      soak_cpu_first_vs_last:
        progress.length >= 2
          ? progress[0]!.cpu_ms_per_payment! / progress[progress.length - 1]!.cpu_ms_per_payment!
          : Number.NaN,
      soak_timer_ticks: ticks,
      soak_monitor_bytes: stored.monitorBytes,
      soak_monitor_update_bytes: stored.monitorUpdateBytes,
      soak_manager_bytes: stored.managerBytes,
      soak_last_manager_write_bytes: endCounters.manager,
      soak_last_monitor_write_bytes: endCounters.monitor,
      soak_store_file_bytes: stored.fileBytes,
      soak_wasm_memory_bytes: wasmMemoryBytes(),
      soak_rss_bytes: m.rss,
      soak_heap_used_bytes: m.heapUsed,
      soak_channel_outbound_msat: String(channel.outboundMsat),
      soak_restart_ms: start.median.wasmInitMs + start.median.restoreMs,
      soak_restart_restore_ms: start.median.restoreMs,
      soak_progress: progress,
      node_errors: errors,
    };
  } finally {
    await net.close();
  }
}

/** Sizes in A's store after the soak (the node stopped, so the store is final). */
async function storedSizes(path: string) {
  const store = new SqliteStore(path);
  const data = await store.load();
  await store.close();
  let monitorBytes = 0;
  let monitorUpdateBytes = 0;
  for (const [key, value] of data) {
    if (key.startsWith('ldk/monitor/')) monitorBytes += value.length;
    if (key.startsWith('ldk/monitor-update/')) monitorUpdateBytes += value.length;
  }
  const fileBytes = [path, `${path}-wal`].filter(existsSync).reduce((s, p) => s + statSync(p).size, 0);
  return { monitorBytes, monitorUpdateBytes, managerBytes: readStoredManager(data)?.length ?? 0, fileBytes };
}
