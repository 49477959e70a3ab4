// Where a stream's time goes, one rung at a time on one stack (the stream group's): paid/failed/
// skipped per rung, CPU ms per payment of the stack's process (LSP + router + merchant) and of the
// CLI wallet child, node commits and pump steps per payment of each node in the stack, the wallet's
// ChannelManager and ChannelMonitor sizes (as stored) and the stack's WASM memory before and after, and LDK's refusal reasons.
// `node --import tsx src/stream-probe.ts <rates per s, e.g. 50,100> <seconds per rung>`; with
// LPW_CLI_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR" (and --cpu-prof here) both processes are profiled.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LightningNode } from '@lpw/node';
import { cli, cliDone, startStack } from '../../apps/cli/test/stack.ts';
import { initWasm, wasmMemoryBytes } from './wasm.ts';

const [ratesArg = '50', secondsArg = '15'] = process.argv.slice(2);
const rates = ratesArg.split(',').map(Number);
const seconds = Number(secondsArg);
const MB = 1048576;

/** utime + stime of a live process, in ms (Linux: /proc/<pid>/stat, 100 clock ticks a second). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The node's commit count and its pump's step count (internals, read for this probe only). */
function counters(node: LightningNode): [number, number] {
  const n = node as unknown as { commits: number; pump?: { steps: number } };
  return [n.commits, n.pump?.steps ?? 0];
}

await initWasm();
const s = await startStack('lpw-bench-streams');
try {
  const dir = join(s.tmp, 'wallet');
  const init = await cliDone(s, dir, ['init']);
  if (init.code !== 0) throw new Error(init.stderr);
  const receive = cli(s, dir, ['receive', '2000000']);
  const invoice = await receive.next('invoice');
  await s.net.router.node.payInvoice(invoice.bolt11 as string, { timeoutMs: 60_000 });
  await receive.exit;
  const state = async () => {
    const r = await cliDone(s, dir, ['balance']);
    const { managerBytes, monitorBytes } = r.lines[0]!.channelState as {
      managerBytes: number;
      monitorBytes: number;
    };
    return {
      walletManagerBytes: managerBytes,
      walletMonitorBytes: monitorBytes,
      stackWasmMb: Math.round((wasmMemoryBytes() ?? 0) / MB),
    };
  };
  const nodes = { lsp: s.lspNode, router: s.net.router.node, merchant: s.net.merchant.node };
  for (const rate of rates) {
    const before = await state();
    const k0 = Object.fromEntries(Object.entries(nodes).map(([k, n]) => [k, counters(n)]));
    const c0 = process.cpuUsage();
    const run = cli(s, dir, [
      'stream',
      '--to',
      s.net.merchant.nodeId,
      '--sats-per-minute',
      String(rate * 60),
      '--period-ms',
      String(Math.round(1000 / rate)),
      '--budget-sats',
      '1000000',
      '--minutes',
      String(seconds / 60),
    ]);
    const done = await run.next('done', seconds * 1000 + 120_000);
    const walletCpuMs = processCpuMs(run.child.pid!); // includes the wallet's start-up
    const c = process.cpuUsage(c0);
    await run.exit;
    const paid = Number(done.paidCount);
    const perPayment = Object.fromEntries(
      Object.entries(nodes).map(([k, n]) => {
        const [commits, steps] = counters(n);
        return [
          k,
          {
            commits: +((commits - k0[k]![0]) / paid).toFixed(2),
            steps: +((steps - k0[k]![1]) / paid).toFixed(2),
          },
        ];
      }),
    );
    const refusals: Record<string, number> = {};
    for (const l of run.lines)
      if (l.event === 'period-failed') refusals[String(l.reason)] = (refusals[String(l.reason)] ?? 0) + 1;
    console.error(
      JSON.stringify({
        rate,
        seconds,
        paid,
        failed: done.failedAttempts,
        skipped: done.skippedPeriods,
        stackCpuMsPerPayment: +((c.user + c.system) / 1000 / paid).toFixed(2),
        walletCpuMsPerPayment: +(walletCpuMs / paid).toFixed(2),
        perPayment,
        refusals,
        before,
        after: await state(),
      }),
    );
  }
} finally {
  await s.stop();
}
process.exit(0);
