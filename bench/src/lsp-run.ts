// The LSP under load (lsp-server's main.ts in its own process, durable SQLite, real devnet + public
// network): JIT receive latency over fresh wallets, forwards/s from concurrent wallets paying the
// merchant through it, and its memory and restart time with many wallet channels. Wallets are real
// LDK nodes sharing this process (a phone runs one each); they reach the LSP over TCP.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Devnet, fundingBroadcast, startDevnet, waitUntil } from '@lpw/devnet';
import { type PublicNetwork, startPublicNetwork } from '@lpw/devnet/network';
import { inMemory, type LightningNode, type RouteHintHop } from '@lpw/node';
import { tcp } from '@lpw/node/tcp';
import { createLspClient, type LspClient, routeHintFromPath } from '../../lsp-server/src/client/index.ts';
import { openPostgres } from '../../lsp-server/src/store/postgres.ts';
import { ManagerChunker } from '../../packages/node/src/persist/manager-chunks.ts';
import {
  cpuMsOf,
  type LspProcess,
  lspErrorLines,
  lspServerDir,
  openLspForPrep,
  payAllAtOnce,
  rssOf,
  spawnLsp,
  walletNode,
} from './lsp.ts';
import { keepChannelStore } from './lsp-restart-run.ts';
import { CountingStore, initWasm, sleep } from './product.ts';
import { percentile } from './stats.ts';

/** Coins for the LSP's wallet: `count` outputs of `sats`, a block every 20 (the faucet chains change). */
export async function fundCoins(devnet: Devnet, node: LightningNode, count: number, sats: bigint) {
  let address = await node.newAddress();
  for (let i = 0; i < count; i++) {
    if (i % 50 === 49) address = await node.newAddress();
    devnet.fund(address, sats);
    if (i % 20 === 19) devnet.mine(1);
  }
  devnet.mine(1);
  await node.syncChain();
}

// ------------------------------------------------------------------ JIT latency and forwards/s

/**
 * `backend` 'postgres': the LSP on a fresh database of the PostgreSQL the tests use (TEST_DATABASE_URL,
 * else lsp-server/scripts/ensure-postgres.sh starts one), every figure's name ending in `_pg`.
 */
export async function measureLspForwards(
  wallets: number,
  forwardPayments: number,
  backend: 'sqlite' | 'postgres' = 'sqlite',
) {
  await initWasm();
  const dir = mkdtempSync(join(tmpdir(), 'lpw-bench-lsp-'));
  const pg = backend === 'postgres' ? await freshPostgresDatabase() : undefined;
  const databasePath = pg?.url ?? join(dir, 'lsp.sqlite');
  const devnet = await startDevnet({ seed: 'bench-lsp-forwards' });
  let net: PublicNetwork | undefined;
  let lsp: LspProcess | undefined;
  const nodes: LightningNode[] = [];
  /** When the forwards ran (performance.now()): their slice of the LSP's CPU profile. */
  let forwardsWindow: [number, number] | undefined;
  try {
    net = await startPublicNetwork(devnet, { routerFundsSat: 40_000_000n, channelSat: 10_000_000n });
    const router = net.router;
    const syncPublic = () => Promise.all([router.node.syncChain(), net!.merchant.node.syncChain()]);

    // the LSP's node before its start: a coin per JIT open, two router → LSP channels
    const prep = await openLspForPrep(databasePath, devnet.esploraUrl);
    const lspNodeId = prep.node.nodeId;
    await fundCoins(devnet, prep.node, wallets + 10, 500_000n);
    await prep.node.connect(router.nodeId, tcp(router.host, router.port));
    for (let i = 0; i < 2; i++) {
      const pending = prep.node.waitFor('channel-pending', (e) => e.peerId === router.nodeId, 30_000);
      router.node.openChannel({ peerId: lspNodeId, capacitySat: 8_000_000n, announce: true });
      const { fundingTxo } = await pending;
      await fundingBroadcast(devnet.chain, fundingTxo);
      devnet.mine(1);
      await Promise.all([prep.node.syncChain(), syncPublic()]);
    }
    devnet.mine(6);
    await Promise.all([prep.node.syncChain(), syncPublic()]);
    await waitUntil(
      'router → LSP usable',
      () => prep.node.listChannels().filter((c) => c.isUsable).length === 2,
      20_000,
    );
    await prep.close();

    lsp = await spawnLsp({
      databasePath,
      dataDir: dir,
      esploraUrl: devnet.esploraUrl,
      publicPeers: router.uri,
    });
    await waitUntil('LSP connected to the router', () => router.node.isConnected(lspNodeId), 60_000);
    await waitUntil(
      'router → LSP usable after the start',
      () => router.node.listChannels().filter((c) => c.peerId === lspNodeId && c.isUsable).length === 2,
      60_000,
    );
    const unsubscribe = devnet.chain.onBlock(() => {
      for (const n of [router.node, net!.merchant.node, ...nodes]) n.syncChain().catch(() => {});
    });

    // JIT: a fresh wallet (no channel) asks for an invoice; the router pays it; timed from the
    // payer's send to the wallet's payment-received (the HTLC is claimable)
    const clients: LspClient[] = [];
    const jitMs: number[] = [];
    const jitFailures: string[] = [];
    const amountMsat = 100_000_000n; // 100k sat: a 200k sat channel; the 2,000 sat minimum fee applies
    for (let i = 0; i < wallets; i++) {
      const node = await walletNode(i, lspNodeId, devnet.esploraUrl);
      nodes.push(node);
      const client = createLspClient({ url: lsp.url });
      clients.push(client);
      await client.login(node);
      await node.connect(lspNodeId, tcp('127.0.0.1', lsp.peerPort));
      const jit = await client.receiveJit(node, { amountMsat, description: `bench ${i}` });
      const received = node.waitFor('payment-received', (e) => e.paymentHash === jit.paymentHash, 60_000);
      const t0 = performance.now();
      try {
        await Promise.all([router.node.payInvoice(jit.bolt11, { timeoutMs: 60_000 }), received]);
        jitMs.push(performance.now() - t0);
      } catch (error) {
        received.catch(() => {});
        jitFailures.push(error instanceof Error ? error.message : String(error));
      }
    }
    const funded = nodes.filter((n) => n.listChannels().some((c) => c.isUsable));

    // forwards: every funded wallet pays the merchant through the LSP and the router, all at once;
    // the route comes from the LSP once per wallet (routes.find), then the node pays along it
    const merchant = net.merchant;
    const hints = new Map<LightningNode, RouteHintHop[]>();
    for (const node of funded) {
      const client = clients[nodes.indexOf(node)]!;
      await waitUntil(
        'a route to the merchant',
        async () => {
          try {
            const { paths } = await client.findRoute(merchant.nodeId, 1_000_000n, 144);
            if (!paths[0] || paths[0].hops.length < 2) return false;
            hints.set(node, routeHintFromPath(paths[0].hops));
            return true;
          } catch {
            return false;
          }
        },
        60_000,
        50,
      );
    }
    const latencies: number[] = [];
    const pay = async (node: LightningNode) => {
      const t = performance.now();
      const invoice = merchant.node.createInvoice({
        amountMsat: 1_000_000n,
        description: 'fwd',
        expirySecs: 3600,
      });
      await node.payInvoice(invoice.bolt11, { routeHints: [hints.get(node)!], timeoutMs: 60_000 });
      latencies.push(performance.now() - t);
    };
    for (const node of funded) await pay(node); // warm-up, one at a time: the unloaded latency
    const sequentialMs = percentile(latencies, 50);
    latencies.length = 0;
    const lspCpu0 = cpuMsOf(lsp.child.pid!);
    const benchCpu0 = process.cpuUsage();
    const { succeeded, failed, failures, startedAt, seconds } = await payAllAtOnce(
      funded,
      forwardPayments,
      pay,
    );
    forwardsWindow = [startedAt, startedAt + seconds * 1000];
    // CPU per forward on each side: on two cores both processes are busy, so forwards/s is bounded
    // by their sum (and by whatever else runs on the machine, see the load average in the report)
    const lspCpuMs = cpuMsOf(lsp.child.pid!) - lspCpu0;
    const benchCpu = process.cpuUsage(benchCpu0);
    const benchCpuMs = (benchCpu.user + benchCpu.system) / 1000;
    const lspRssAfterForwards = rssOf(lsp.child.pid!);
    const metricsText = await (await fetch(`${lsp.url}/metrics`)).text();
    const metric = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(metricsText)?.[1]);
    const lspForwardLatencyMs =
      (metric('lsp_forward_latency_seconds_sum') / metric('lsp_forward_latency_seconds_count')) * 1000;
    unsubscribe();
    const figures = {
      jit_receive_ms_p50: percentile(jitMs, 50),
      jit_receive_ms_p90: percentile(jitMs, 90),
      jit_receives: jitMs.length,
      jit_failed: jitFailures.length,
      jit_failures: jitFailures.slice(0, 5),
      lsp_forwards_per_s: succeeded / seconds,
      lsp_forwards_succeeded: succeeded,
      lsp_forwards_failed: failed,
      lsp_forwards_failures: failures,
      lsp_forwards_wallets: funded.length,
      lsp_forwards_seconds: seconds,
      lsp_forward_ms_p50_alone: sequentialMs,
      lsp_forward_ms_p50_loaded: percentile(latencies, 50),
      /** CPU of the LSP process per forward under load (its event loop also blocks in fsync). */
      lsp_cpu_ms_per_forward: lspCpuMs / Math.max(1, succeeded),
      /** CPU of this process (wallets, router, merchant, devnet) per payment under load. */
      lsp_bench_cpu_ms_per_forward: benchCpuMs / Math.max(1, succeeded),
      lsp_rss_bytes_after_forwards: lspRssAfterForwards,
      /** Inside the LSP: HTLC in to forwarded, mean (its own /metrics). */
      lsp_forward_latency_ms_mean_inside: lspForwardLatencyMs,
    };
    return pg ? Object.fromEntries(Object.entries(figures).map(([k, v]) => [`${k}_pg`, v])) : figures;
  } catch (error) {
    // a client sees only "internal error": the LSP's own error lines (kept by spawnLsp) say why,
    // once it has stopped (its log is written asynchronously, flushed on exit)
    if (lsp) {
      await lsp.stop();
      console.error(`the LSP's error lines:\n${lspErrorLines(lsp).slice(-10).join('\n')}`);
    }
    throw error;
  } finally {
    await lsp?.stop();
    if (
      lsp?.exitedAt !== undefined &&
      forwardsWindow &&
      process.env.BENCH_LSP_NODE_FLAGS?.includes('--cpu-prof')
    ) {
      // the profile spans the process's life: where the forwards sit in it, for profile-summary.ts
      const life = lsp.exitedAt - lsp.spawnedAt;
      const [from, to] = forwardsWindow.map((t) => ((t - lsp!.spawnedAt) / life).toFixed(3));
      process.stderr.write(
        `bench: the LSP's profile, forwards only: profile-summary.ts --from=${from} --to=${to}\n`,
      );
    }
    for (const n of nodes) await n.stop().catch(() => {});
    await net?.stop();
    await devnet.stop();
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A new, empty database on the tests' PostgreSQL, and its removal. */
async function freshPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl =
    process.env.TEST_DATABASE_URL ??
    execFileSync('bash', [join(lspServerDir, 'scripts', 'ensure-postgres.sh')], { encoding: 'utf8' }).trim();
  const name = `lpw_bench_${randomBytes(6).toString('hex')}`;
  const admin = await openPostgres(serverUrl, { poolSize: 1 });
  await admin.run(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.run(`DROP DATABASE IF EXISTS ${name}`);
      await admin.close();
    },
  };
}

// ------------------------------------------------------------------ many channels: memory, restart

/**
 * What a commit writes of the manager at this channel count: payments from the LSP to its wallets,
 * one at a time, each commit's manager bytes counted; beside it the whole snapshot (what every
 * such commit wrote before the chunks) and the CPU of `ChannelManager.write` and of chunking it.
 */
export async function managerCommitFigures(
  lsp: LightningNode,
  wallets: LightningNode[],
  counter: CountingStore,
) {
  const cm = lsp.ldk.channelManager;
  const writeMs: number[] = [];
  let snapshot: Uint8Array = new Uint8Array();
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    snapshot = cm.write();
    writeMs.push(performance.now() - t);
  }
  const chunker = new ManagerChunker();
  let t = performance.now();
  chunker.chunk(snapshot);
  const chunkColdMs = performance.now() - t;
  const next = cm.write();
  t = performance.now();
  chunker.chunk(next);
  const chunkWarmMs = performance.now() - t;
  const payments = Math.min(20, wallets.length * 2);
  await sleep(1_500); // the deferred snapshot of the opens lands first
  counter.take(); // from here: the payments' commits
  for (let i = 0; i < payments; i++) {
    const wallet = wallets[i % wallets.length]!;
    // the wallet dates its invoice by the devnet's block time, years behind the clock that checks it
    const invoice = wallet.createInvoice({
      amountMsat: 1_000_000n + BigInt(i),
      description: 'm',
      expirySecs: 315_360_000,
    });
    await lsp.payInvoice(invoice.bolt11, { timeoutMs: 60_000 });
  }
  await sleep(1_500); // the last acknowledgements' snapshot
  const { managerWrites, managerBytes } = counter.take();
  return {
    manager_bytes_per_commit: managerBytes / Math.max(1, managerWrites),
    manager_commits_measured: managerWrites,
    manager_payments_measured: payments,
    manager_snapshot_bytes: snapshot.length,
    manager_write_ms_p50: percentile(writeMs, 50),
    manager_chunk_ms_cold: chunkColdMs,
    manager_chunk_ms_warm: chunkWarmMs,
  };
}

/**
 * `walletCount` wallet nodes with `perWallet` zero-conf channels each from the LSP (confirmed
 * afterwards), then the LSP process started twice from its store: RSS with every wallet
 * reconnected and the restart time (createNode restore + ready, and spawn to listening).
 */
export async function measureLspChannels(walletCount: number, perWallet: number) {
  await initWasm();
  const seed = 'bench-lsp-channels';
  const devnet = await startDevnet({ seed });
  const dir = mkdtempSync(join(tmpdir(), 'lpw-bench-lsp-'));
  const databasePath = join(dir, 'lsp.sqlite');
  const total = walletCount * perWallet;
  const capacitySat = 100_000n;
  const wallets: LightningNode[] = [];
  let lsp: LspProcess | undefined;
  try {
    let counter: CountingStore | undefined;
    const prep = await openLspForPrep(databasePath, devnet.esploraUrl, (store) => {
      counter = new CountingStore(store);
      return counter;
    });
    const lspNodeId = prep.node.nodeId;
    const problems: string[] = [];
    prep.node.on('error', (e) => problems.push(`${e.code}: ${e.message}`));
    prep.node.on('channel-closed', (e) => problems.push(`closed: ${e.reason}`));
    const tFund = performance.now();
    await fundCoins(devnet, prep.node, total + 5, capacitySat + 20_000n);
    const fundSeconds = (performance.now() - tFund) / 1000;

    const tOpen = performance.now();
    for (let i = 0; i < walletCount; i++) {
      const node = await walletNode(i, lspNodeId, devnet.esploraUrl);
      wallets.push(node);
      await prep.node.connect(node.nodeId, inMemory(node));
    }
    // five opens at a time, round-robin over the wallets, each batch usable before the next: LDK
    // refuses a fifth channel from a peer while four are still being negotiated
    const usableOnLsp = () => prep.node.listChannels().filter((c) => c.isUsable).length;
    const opens = Array.from({ length: perWallet }, () => wallets.map((w) => w.nodeId)).flat();
    const openErrors: string[] = [];
    for (let b = 0; b < opens.length; b += 5) {
      for (const peerId of opens.slice(b, b + 5)) {
        try {
          prep.node.openChannel({ peerId, capacitySat, zeroConf: true });
        } catch (error) {
          openErrors.push(error instanceof Error ? error.message : String(error));
        }
      }
      const want = Math.min(b + 5, opens.length) - openErrors.length;
      await waitUntil(`${want} channels usable`, () => usableOnLsp() >= want, 60_000).catch(
        (error: Error) => {
          throw new Error(
            `${error.message} (have ${usableOnLsp()}; ${[...openErrors, ...problems].slice(0, 3).join('; ')})`,
          );
        },
      );
    }
    const openSeconds = (performance.now() - tOpen) / 1000;
    devnet.mine(6);
    await prep.node.syncChain();
    for (const node of wallets) await node.syncChain();
    const inProcessChannels = prep.node.listChannels().length;
    const confirmedChannels = prep.node.listChannels().filter((c) => (c.confirmations ?? 0) >= 1).length;
    const managerFigures = await managerCommitFigures(prep.node, wallets, counter!);
    process.stderr.write(`bench lsp-channels: ${total} channels, ${JSON.stringify(managerFigures)}\n`);
    for (const node of wallets) prep.node.disconnect(node.nodeId);
    await prep.close();

    // first start from the store, wallets reconnect over TCP: the LSP's size at work
    lsp = await spawnLsp({ databasePath, dataDir: dir, esploraUrl: devnet.esploraUrl });
    const first = { restoreMs: lsp.restoreMs, spawnMs: lsp.spawnToListeningMs, channels: lsp.channels };
    const rssAtReady = rssOf(lsp.child.pid!);
    const tReconnect = performance.now();
    for (const node of wallets) await node.connect(lspNodeId, tcp('127.0.0.1', lsp.peerPort));
    await waitUntil(
      'every channel usable again',
      () => wallets.every((w) => w.listChannels().filter((c) => c.isUsable).length === perWallet),
      300_000,
    );
    const reconnectSeconds = (performance.now() - tReconnect) / 1000;
    await sleep(2_000); // let the reestablish writes settle before reading the size
    const rssConnected = rssOf(lsp.child.pid!);
    await lsp.stop();

    // the restart: from the store the first run left
    lsp = await spawnLsp({ databasePath, dataDir: dir, esploraUrl: devnet.esploraUrl });
    const second = {
      restoreMs: lsp.restoreMs,
      restoreCpuMs: lsp.restoreCpuMs,
      spawnMs: lsp.spawnToListeningMs,
      channels: lsp.channels,
    };
    const rssRestarted = rssOf(lsp.child.pid!);
    await lsp.stop();
    // BENCH_LSP_CHANNELS_KEEP=DIR: keep this store and chain for restarts alone (lsp-restart-run.ts)
    const keepDir = process.env.BENCH_LSP_CHANNELS_KEEP;
    if (keepDir) keepChannelStore(keepDir, dir, devnet, seed);
    if (first.channels !== total || second.channels !== total) {
      throw new Error(`bench: restored ${first.channels}/${second.channels} channels, expected ${total}`);
    }
    return {
      lsp_channels: total,
      lsp_channel_wallets: walletCount,
      lsp_channels_per_wallet: perWallet,
      lsp_channels_in_process: inProcessChannels,
      lsp_channels_confirmed_before_restart: confirmedChannels,
      lsp_rss_mb: rssConnected / 1048576,
      lsp_rss_mb_at_ready: rssAtReady / 1048576,
      lsp_rss_mb_after_restart: rssRestarted / 1048576,
      lsp_restart_ms: second.restoreMs,
      lsp_restart_cpu_ms: second.restoreCpuMs,
      lsp_restart_spawn_to_listening_ms: second.spawnMs,
      lsp_first_start_ms: first.restoreMs,
      lsp_first_start_spawn_to_listening_ms: first.spawnMs,
      lsp_channels_fund_s: fundSeconds,
      lsp_channels_open_s: openSeconds,
      lsp_channels_reconnect_s: reconnectSeconds,
      ...managerFigures,
    };
  } finally {
    await lsp?.stop();
    for (const n of wallets) await n.stop().catch(() => {});
    await devnet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
