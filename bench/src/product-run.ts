// Our node: A pays C through B (createNode, SQLite stores, in-memory links), then a cold restore of A
// from its SQLite file in fresh processes. The floor (floor-run.ts) runs the same payments on memory.
import { runChild } from './child.ts';
import { BenchNet, type BenchNode, initWasm, type StoreCounters, sleep } from './product.ts';
import { cpuMsSince, percentile, windowed } from './stats.ts';

export interface StartSample {
  importMs: number;
  wasmInitMs: number;
  restoreMs: number;
  chainRequests: number;
  chainRequestMs: number;
  channels: number;
  sinceProcessStartMs: number;
  wasmMemoryBytes: number;
  rssBytes: number;
}

/** What one payment costs in the store, per node (averages over a phase). */
function perPayment(counters: StoreCounters, payments: number) {
  const r = (x: number) => Math.round((x / payments) * 100) / 100;
  return {
    commits: r(counters.commits),
    manager_only_commits: r(counters.managerOnlyCommits),
    bytes: Math.round(counters.bytes / payments),
    manager_writes: r(counters.managerWrites),
    manager_bytes: Math.round(counters.managerBytes / payments),
    monitor_update_writes: r(counters.monitorUpdateWrites),
    monitor_full_writes: r(counters.monitorFullWrites),
    monitor_full_bytes: Math.round(counters.monitorFullBytes / payments),
    payment_record_writes: r(counters.paymentWrites),
    commit_ms: Math.round((counters.commitMs / payments) * 1000) / 1000,
  };
}

function costs(nodes: BenchNode[], payments: number) {
  return Object.fromEntries(nodes.map((n) => [n.name, perPayment(n.store.take(), payments)]));
}

/** Cold restores of one node's store, each in a fresh process; median by restore time. */
export async function measureStart(
  node: { path: string; seed: Uint8Array; role: string },
  esploraUrl: string,
  runs: number,
): Promise<{ samples: StartSample[]; median: StartSample }> {
  const samples: StartSample[] = [];
  for (let i = 0; i < runs; i++) {
    samples.push(
      await runChild<StartSample>('start-child.ts', [node.path, String(node.seed[0]), node.role, esploraUrl]),
    );
  }
  const sorted = [...samples].sort((a, b) => a.wasmInitMs + a.restoreMs - (b.wasmInitMs + b.restoreMs));
  if (samples.some((s) => s.channels !== 1)) throw new Error('restore: the channel did not come back');
  return { samples, median: sorted[Math.floor(sorted.length / 2)]! };
}

/**
 * A pays C through B, 10-sat invoices made inside the timed call: `payments` one after another for
 * latency, then `throughputPayments` with 50 in flight. Shared by the product and the floor, so the
 * two differ only in where the nodes commit.
 */
export async function measurePayments(net: BenchNet, payments: number, throughputPayments: number) {
  const a = await net.node('a', 1, 'router');
  const b = await net.node('b', 2, 'lsp');
  const c = await net.node('c', 3, 'router');
  await net.channel(a, b, 5_000_000n);
  await net.channel(b, c, 5_000_000n);
  await sleep(200); // LDK needs the counterparty's channel_update for C's route hint
  const pay = async () => {
    const invoice = c.node.createInvoice({ amountMsat: 10_000n, description: 'bench', expirySecs: 3600 });
    await a.node.payInvoice(invoice.bolt11);
    return true;
  };
  for (let i = 0; i < 20; i++) await pay();
  costs(net.nodes, 1); // reset the counters after set-up and warm-up

  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < payments; i++) {
    const t0 = performance.now();
    await pay();
    latencies.push(performance.now() - t0);
  }
  const latencyCpuMs = cpuMsSince(cpu0);
  const sequentialCosts = costs(net.nodes, payments);

  const cpu1 = process.cpuUsage();
  const throughput = await windowed(throughputPayments, 50, pay);
  const throughputCpuMs = cpuMsSince(cpu1);
  return {
    a,
    latencies,
    latencyCpuMs,
    sequentialCosts,
    throughput,
    throughputCpuMs,
    windowedCosts: costs(net.nodes, throughputPayments),
  };
}

export async function measureProduct(payments: number, throughputPayments: number, startRuns: number) {
  const inProcessWasmInitMs = await initWasm();
  const net = await BenchNet.start('product');
  try {
    const { a, latencies, latencyCpuMs, sequentialCosts, throughput, throughputCpuMs, windowedCosts } =
      await measurePayments(net, payments, throughputPayments);
    const errors = net.errors.slice(0, 10);

    // cold start: A's store holds its channel to B and every payment above
    const aStore = { path: a.path, seed: a.seed, role: a.role };
    await net.stopNodes();
    const start = await measureStart(aStore, net.devnet.esploraUrl, startRuns);

    return {
      pay_latency_ms_p50: percentile(latencies, 50),
      pay_latency_ms_p90: percentile(latencies, 90),
      pay_latency_ms_p99: percentile(latencies, 99),
      latency_payments: payments,
      pay_cpu_ms_per_payment: latencyCpuMs / payments,
      forward_cpu_ms_per_payment: throughputCpuMs / throughputPayments,
      forwards_per_s: throughput.perSecond,
      forwards_succeeded: throughput.succeeded,
      forwards_failed: throughput.failed,
      forwards_failures: throughput.failures,
      node_start_ms: start.median.wasmInitMs + start.median.restoreMs,
      node_start_wasm_init_ms: start.median.wasmInitMs,
      node_start_restore_ms: start.median.restoreMs,
      node_start_import_ms: start.median.importMs,
      node_start_chain_requests: start.median.chainRequests,
      node_start_chain_request_ms: start.median.chainRequestMs,
      node_start_since_process_start_ms: start.median.sinceProcessStartMs,
      node_start_runs: start.samples.length,
      node_start_rss_bytes: start.median.rssBytes,
      in_process_wasm_init_ms: inProcessWasmInitMs,
      store_cost_per_payment_sequential: sequentialCosts,
      store_cost_per_payment_windowed: windowedCosts,
      node_errors: errors,
    };
  } finally {
    await net.close();
  }
}
