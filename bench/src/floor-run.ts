// Measures the floor: A pays C through B with bare LDK nodes (see floor.ts).
import { startDevnet, waitUntil } from '@lpw/devnet';
import { FloorNode, initFloorWasm, linkFloor } from './floor.ts';
import { cpuMsSince, percentile, windowed } from './stats.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureFloor(payments: number, throughputPayments: number) {
  await initFloorWasm();
  const devnet = await startDevnet({ servers: false, seed: 'floor' });
  const a = new FloorNode(devnet, false);
  const b = new FloorNode(devnet, true);
  const c = new FloorNode(devnet, false);
  linkFloor(a, b);
  linkFloor(b, c);
  await waitUntil('peers', () => a.pm.list_peers().length === 1 && c.pm.list_peers().length === 1, 20_000);
  for (const [from, to] of [
    [a, b],
    [b, c],
  ] as const) {
    const r = from.cm.create_channel(to.nodeId, 5_000_000n, 2_000_000_000n, 1n, null, null);
    if (!r.is_ok()) throw new Error('floor: create_channel failed');
  }
  // Two faucet payments and two funding transactions.
  await waitUntil('funding broadcast', () => devnet.chain.mempool.ordered().length >= 4, 20_000);
  devnet.mine(6);
  await waitUntil(
    'channels usable',
    () => a.cm.list_usable_channels().length === 1 && c.cm.list_usable_channels().length === 1,
    20_000,
  );
  // LDK needs the counterparty's channel_update for the hint; a few rounds settle it.
  await sleep(200);
  // 10-sat payments: small enough that 50 in flight stay under LDK's dust-exposure cap.
  const pay = () => a.pay(c.invoice(10_000n));
  for (let i = 0; i < 20; i++) if (!(await pay())) throw new Error('floor: warm-up payment failed');
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < payments; i++) {
    const t0 = performance.now();
    if (!(await pay())) throw new Error('floor: payment failed');
    latencies.push(performance.now() - t0);
  }
  const latencyCpuMs = cpuMsSince(cpu0);
  const cpu1 = process.cpuUsage();
  const throughput = await windowed(throughputPayments, 50, pay);
  const throughputCpuMs = cpuMsSince(cpu1);
  await devnet.stop();
  return {
    floor_latency_ms_p50: percentile(latencies, 50),
    floor_latency_ms_p90: percentile(latencies, 90),
    floor_latency_ms_p99: percentile(latencies, 99),
    /** CPU of the three nodes (one process) per sequential payment: less sensitive to a busy machine. */
    floor_cpu_ms_per_payment: latencyCpuMs / payments,
    floor_cpu_ms_per_forward: throughputCpuMs / throughputPayments,
    floor_forwards_per_s: throughput.perSecond,
    floor_failed: throughput.failed,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await measureFloor(200, 1000));
  process.exit(0);
}
