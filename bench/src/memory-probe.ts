// Memory probe: N payments A → B → C (three createNode nodes on SQLite, one process), sampling LDK's
// WASM linear memory and RSS. Run once plainly and once with `--expose-gc --gc-every=N` (a forced GC
// every N payments): what the forced GC removes is garbage waiting for finalizers; what remains is
// live Rust state that grows.
//   cd bench && node [--expose-gc] --import tsx src/memory-probe.ts [--payments=3000] [--gc-every=100]

import { BenchNet, initWasm, sleep, wasmMemoryBytes } from './product.ts';
import { windowed } from './stats.ts';

const arg = (name: string, fallback: number) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.slice(name.length + 3)) : fallback;
};
const payments = arg('payments', 3_000);
const gcEvery = arg('gc-every', 0);
const sampleEvery = arg('sample-every', 500);
const forceGc = (globalThis as { gc?: () => void }).gc;
if (gcEvery > 0 && !forceGc) throw new Error('--gc-every needs node --expose-gc');

const MB = 1048576;
await initWasm();
const net = await BenchNet.start('memory-probe');
try {
  const a = await net.node('a', 1, 'router');
  const b = await net.node('b', 2, 'router');
  const c = await net.node('c', 3, 'router');
  await net.channel(a, b, 5_000_000n);
  await net.channel(b, c, 5_000_000n);
  await sleep(300);
  // as a long-lived node would: LDK forgets completed payments only on timer ticks
  const ticker = setInterval(() => {
    for (const n of [a, b, c]) n.node.ldk.channelManager.timer_tick_occurred();
  }, 1_000);
  const samples: Array<Record<string, number>> = [];
  const sample = (done: number) => {
    const m = process.memoryUsage();
    samples.push({
      payments: done,
      wasm_mb: Math.round(((wasmMemoryBytes() ?? 0) / MB) * 10) / 10,
      rss_mb: Math.round(m.rss / MB),
      heap_mb: Math.round(m.heapUsed / MB),
      // serialized LDK state: what grows here is live state, not garbage
      manager_kb_b: Math.round(b.node.ldk.channelManager.write().length / 1024),
      monitor_full_kb_a: Math.round(a.store.counters.lastMonitorFullBytes / 1024),
    });
  };
  sample(0);
  let done = 0;
  const t0 = performance.now();
  const run = await windowed(payments, 10, async () => {
    const invoice = c.node.createInvoice({ amountMsat: 10_000n, description: 'probe', expirySecs: 3600 });
    await a.node.payInvoice(invoice.bolt11);
    done++;
    if (gcEvery > 0 && done % gcEvery === 0) forceGc!();
    if (done % sampleEvery === 0) sample(done);
    return true;
  });
  clearInterval(ticker);
  const first = samples[1] ?? samples[0]!;
  const last = samples[samples.length - 1]!;
  const kbPerPayment =
    ((last.wasm_mb! - first.wasm_mb!) * 1024) / Math.max(1, last.payments! - first.payments!);
  console.log(
    JSON.stringify(
      {
        payments,
        gc_every: gcEvery,
        failed: run.failed,
        failures: run.failures,
        seconds: Math.round((performance.now() - t0) / 100) / 10,
        per_s: Math.round(run.perSecond),
        wasm_kb_per_payment_after_first_sample: Math.round(kbPerPayment * 10) / 10,
        samples,
        node_errors: net.errors.slice(0, 5),
      },
      null,
      1,
    ),
  );
} finally {
  await net.close();
}
process.exit(0);
