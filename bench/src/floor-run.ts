// The floor: the best this engine does on this machine. The product's own nodes (createNode: the same
// pump, batching and concurrency, A pays C through B over in-memory links) committing to memory, so
// no I/O at all; the product's figures differ from these only by what durable storage costs. A
// product faster than its floor means the floor is wrong (run.ts says so).
import { BenchNet, initWasm } from './product.ts';
import { measurePayments } from './product-run.ts';
import { percentile } from './stats.ts';

export async function measureFloor(payments: number, throughputPayments: number) {
  await initWasm();
  const net = await BenchNet.start('floor', 'memory');
  try {
    const { latencies, latencyCpuMs, throughput, throughputCpuMs } = await measurePayments(
      net,
      payments,
      throughputPayments,
    );
    return {
      floor_latency_ms_p50: percentile(latencies, 50),
      floor_latency_ms_p90: percentile(latencies, 90),
      floor_latency_ms_p99: percentile(latencies, 99),
      /** CPU of the three nodes (one process) per sequential payment: less sensitive to a busy machine. */
      floor_cpu_ms_per_payment: latencyCpuMs / payments,
      floor_cpu_ms_per_forward: throughputCpuMs / throughputPayments,
      floor_forwards_per_s: throughput.perSecond,
      floor_failed: throughput.failed,
      floor_errors: net.errors.slice(0, 10),
    };
  } finally {
    await net.close();
  }
}
