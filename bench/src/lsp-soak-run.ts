// The long soak (`npm run bench -- --soak-long[=N]`, default 100,000 payments): wallets → LSP → router →
// merchant, the LSP in its own process (lsp-server's main.ts, SQLite), sampling the LSP's WASM memory
// (its /metrics) and RSS as the payment count grows. The question is whether LDK's WASM memory stays
// bounded: `soak_wasm_growth_last_half` is its growth over the last half of the run, as a fraction.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Devnet, fundingBroadcast, startDevnet, waitUntil } from '@lpw/devnet';
import { type PublicNetwork, startPublicNetwork } from '@lpw/devnet/network';
import type { LightningNode, RouteHintHop } from '@lpw/node';
import { tcp } from '@lpw/node/tcp';
import { createLspClient, routeHintFromPath } from '../../lsp-server/src/client/index.ts';
import {
  cpuMsOf,
  type LspProcess,
  lspErrorLines,
  openLspForPrep,
  rssOf,
  spawnLsp,
  walletNode,
} from './lsp.ts';
import { initWasm, sleep, wasmMemoryBytes } from './product.ts';

const MB = 1048576;
const WALLETS = 8;
/** Each wallet receives this over its JIT channel: the liquidity it then spends in 1-sat payments. */
const JIT_MSAT = 100_000_000n;
const PAYMENT_MSAT = 1_000n;

async function fundCoins(devnet: Devnet, node: LightningNode, count: number, sats: bigint) {
  const address = await node.newAddress();
  for (let i = 0; i < count; i++) devnet.fund(address, sats);
  devnet.mine(1);
  await node.syncChain();
}

/** `deadlineMs`: no payment starts after that much time paying (a busy machine); the report says so. */
export async function measureLspSoak(payments: number, samples: number, deadlineMs: number) {
  await initWasm();
  const devnet = await startDevnet({ seed: 'bench-lsp-soak' });
  const dir = mkdtempSync(join(tmpdir(), 'lpw-bench-soak-'));
  const databasePath = join(dir, 'lsp.sqlite');
  let net: PublicNetwork | undefined;
  let lsp: LspProcess | undefined;
  const wallets: LightningNode[] = [];
  try {
    net = await startPublicNetwork(devnet, { routerFundsSat: 40_000_000n, channelSat: 10_000_000n });
    const { router, merchant } = net;
    const syncAll = () => Promise.all([router.node, merchant.node, ...wallets].map((n) => n.syncChain()));

    // the LSP's node before its start: a coin per JIT open and a router → LSP channel
    const prep = await openLspForPrep(databasePath, devnet.esploraUrl);
    const lspNodeId = prep.node.nodeId;
    await fundCoins(devnet, prep.node, WALLETS + 2, 500_000n);
    await prep.node.connect(router.nodeId, tcp(router.host, router.port));
    const pending = prep.node.waitFor('channel-pending', (e) => e.peerId === router.nodeId, 30_000);
    router.node.openChannel({ peerId: lspNodeId, capacitySat: 8_000_000n, announce: true });
    const { fundingTxo } = await pending;
    await fundingBroadcast(devnet.chain, fundingTxo);
    devnet.mine(7);
    await Promise.all([prep.node.syncChain(), router.node.syncChain(), merchant.node.syncChain()]);
    await waitUntil('router → LSP usable', () => prep.node.listChannels().some((c) => c.isUsable), 20_000);
    await prep.close();

    lsp = await spawnLsp({
      databasePath,
      dataDir: dir,
      esploraUrl: devnet.esploraUrl,
      publicPeers: router.uri,
    });
    const lspUrl = lsp.url;
    await waitUntil(
      'router → LSP usable after the start',
      () => router.node.listChannels().some((c) => c.peerId === lspNodeId && c.isUsable),
      60_000,
    );
    const unsubscribe = devnet.chain.onBlock(() => void syncAll().catch(() => {}));

    // wallets get their channel just in time, paid by the router: the LSP then has outbound liquidity
    // towards the router for what the wallets spend
    const hints = new Map<LightningNode, RouteHintHop[]>();
    for (let i = 0; i < WALLETS; i++) {
      const node = await walletNode(i, lspNodeId, devnet.esploraUrl);
      wallets.push(node);
      const client = createLspClient({ url: lspUrl });
      await client.login(node);
      await node.connect(lspNodeId, tcp('127.0.0.1', lsp.peerPort));
      const jit = await client.receiveJit(node, { amountMsat: JIT_MSAT, description: `soak ${i}` });
      const received = node.waitFor('payment-received', (e) => e.paymentHash === jit.paymentHash, 60_000);
      await Promise.all([router.node.payInvoice(jit.bolt11, { timeoutMs: 60_000 }), received]);
      const deadline = Date.now() + 60_000;
      while (!hints.has(node)) {
        const { paths } = await client
          .findRoute(merchant.nodeId, PAYMENT_MSAT, 144)
          .catch(() => ({ paths: [] }));
        if (paths[0] && paths[0].hops.length >= 2) hints.set(node, routeHintFromPath(paths[0].hops));
        else if (Date.now() > deadline) throw new Error('bench: no route from the LSP to the merchant');
        else await sleep(100);
      }
    }

    const lspPid = lsp.child.pid!;
    const lspGauges = async () => {
      const text = await (await fetch(`${lspUrl}/metrics`)).text();
      const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
      return { wasm: gauge('lsp_wasm_memory_bytes'), monitorMax: gauge('lsp_channel_monitor_bytes_max') };
    };
    const progress: Array<{
      payments: number;
      lsp_wasm_mb: number;
      /** The LSP's largest channel monitor: the router channel's, which carries every payment. */
      lsp_monitor_max_mb: number;
      lsp_rss_mb: number;
      bench_wasm_mb: number;
      per_s: number;
    }> = [];
    const every = Math.max(1, Math.floor(payments / samples));
    let sampling = Promise.resolve();
    let lastSample = { at: performance.now(), done: 0 };
    const sample = (done: number) => {
      const now = performance.now();
      const perS = ((done - lastSample.done) * 1000) / Math.max(1, now - lastSample.at);
      lastSample = { at: now, done };
      sampling = sampling.then(async () => {
        const { wasm, monitorMax } = await lspGauges();
        progress.push({
          payments: done,
          lsp_wasm_mb: Math.round((wasm / MB) * 10) / 10,
          lsp_monitor_max_mb: Math.round((monitorMax / MB) * 100) / 100,
          lsp_rss_mb: Math.round(rssOf(lspPid) / MB),
          bench_wasm_mb: Math.round(((wasmMemoryBytes() ?? 0) / MB) * 10) / 10,
          per_s: Math.round(perS),
        });
      });
    };
    sample(0);

    let started = 0;
    let succeeded = 0;
    const failures: string[] = [];
    let failed = 0;
    const lspCpu0 = cpuMsOf(lspPid);
    const t0 = performance.now();
    const deadline = t0 + deadlineMs;
    await Promise.all(
      wallets.map(async (node) => {
        while (started < payments && performance.now() < deadline) {
          started++;
          try {
            const invoice = merchant.node.createInvoice({
              amountMsat: PAYMENT_MSAT,
              description: 'soak',
              expirySecs: 3600,
            });
            await node.payInvoice(invoice.bolt11, { routeHints: [hints.get(node)!], timeoutMs: 60_000 });
            if (++succeeded % every === 0) sample(succeeded);
          } catch (error) {
            failed++;
            if (failures.length < 5) failures.push(error instanceof Error ? error.message : String(error));
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const lspCpuMs = cpuMsOf(lspPid) - lspCpu0;
    if (lastSample.done !== succeeded) sample(succeeded); // (samples still being taken are not in progress yet)
    await sampling;
    unsubscribe();

    const start = progress[0]!;
    const end = progress.at(-1)!;
    // the sample nearest to half the payments made
    const half = progress.reduce((best, p) =>
      Math.abs(p.payments - succeeded / 2) < Math.abs(best.payments - succeeded / 2) ? p : best,
    );
    return {
      soak_long_payments: succeeded,
      soak_long_payments_asked: payments,
      soak_long_truncated_by_deadline: started < payments,
      soak_long_failed: failed,
      soak_long_failures: failures,
      soak_long_wallets: wallets.length,
      soak_long_seconds: seconds,
      soak_long_per_s: succeeded / seconds,
      soak_long_lsp_cpu_ms_per_forward: lspCpuMs / Math.max(1, succeeded),
      soak_wasm_mb_start: start.lsp_wasm_mb,
      soak_wasm_mb_half: half.lsp_wasm_mb,
      soak_wasm_mb_end: end.lsp_wasm_mb,
      /** (end − half) / half of the LSP's WASM memory; goal ≤ 0.05. */
      soak_wasm_growth_last_half: (end.lsp_wasm_mb - half.lsp_wasm_mb) / half.lsp_wasm_mb,
      /**
       * LDK 0.1 keeps each revoked state's HTLC data in the channel's monitor, so monitors grow with
       * every payment (and the WASM memory with them): docs/architecture.md, "Monitors grow".
       */
      soak_monitor_max_mb_end: end.lsp_monitor_max_mb,
      /** Payments per second over the first and the last sampled stretch: per-payment work grows with the monitor. */
      soak_per_s_first: progress[1]?.per_s ?? 0,
      soak_per_s_last: end.per_s,
      soak_lsp_rss_mb_start: start.lsp_rss_mb,
      soak_lsp_rss_mb_end: end.lsp_rss_mb,
      /** This process's WASM (wallets, router, merchant share one instance). */
      soak_bench_wasm_mb_end: end.bench_wasm_mb,
      soak_long_progress: progress,
    };
  } catch (error) {
    // the LSP's side of a failure (a 500 says only "internal error") is in its own log, flushed on exit
    if (lsp) {
      await lsp.stop();
      process.stderr.write(`the LSP's errors:\n${lspErrorLines(lsp).join('\n')}\n`);
    }
    throw error;
  } finally {
    await lsp?.stop();
    for (const n of wallets) await n.stop().catch(() => {});
    await net?.stop();
    await devnet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
