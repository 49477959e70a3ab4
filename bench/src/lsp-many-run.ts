// The LSP holding thousands of channels (issue 11 item 4: 10,000): restart time, RSS, what a commit
// writes of the manager, and forwards through it. The LSP's side is real (its own LDK node on durable
// SQLite, a confirmed funding tx per channel on the devnet); the wallet side is light: a hundred or so
// LDK nodes in this process, each holding many channels.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Devnet, startDevnet, waitUntil } from '@lpw/devnet';
import { inMemory, type LightningNode, type RouteHintHop } from '@lpw/node';
import { tcp } from '@lpw/node/tcp';
import {
  cpuMsOf,
  type LspProcess,
  lspErrorLines,
  openLspForPrep,
  payAllAtOnce,
  rssOf,
  spawnLsp,
  walletNode,
} from './lsp.ts';
import { keepChannelStore } from './lsp-restart-run.ts';
import { managerCommitFigures } from './lsp-run.ts';
import { CountingStore, initWasm, sleep, wasmMemoryBytes } from './product.ts';
import { percentile } from './stats.ts';

/**
 * Opens in flight across all wallets. 200–400 at once (four per wallet, LDK's limit on a peer's
 * unfunded inbound channels) made the shared process's event loop stall for tens of seconds under
 * load: pings went unanswered, peers dropped, and their unfunded channels with them.
 */
const OPENS_IN_FLIGHT = 50;

/**
 * The devnet's height before any node starts. LDK draws each channel's outbound SCID alias from the
 * block heights more than a month (4,320 blocks) below its tip, and 2,500 tx indexes at each: on a
 * younger chain every alias has the same height, so one manager holds at most 2,500 channels, and the
 * LSP's panicked at ~2,350 ("ran out of possible outbound SCID aliases"). 100 heights more hold 250,000.
 * Mainnet's height leaves that space ~200 times larger still.
 */
const ALIAS_HEIGHT = 4_320 + 100;

const DEVNET_SEED = 'bench-lsp-many';

const mb = (bytes: number | undefined) => Math.round((bytes ?? 0) / 1048576);

function progress(what: string) {
  const m = process.memoryUsage();
  process.stderr.write(
    `bench lsp-many: ${what} (rss ${mb(m.rss)} MB, heap ${mb(m.heapUsed)} MB, wasm ${mb(wasmMemoryBytes())} MB)\n`,
  );
}

/**
 * `perWallet` channels from `lsp` to every wallet, `OPENS_IN_FLIGHT` at a time round-robin over the
 * wallets, so the LSP's commits group several opens under one manager snapshot. Counts the LSP's
 * channel-ready events (listing 10,000 channels costs seconds a call, so no polling).
 */
async function openInBulk(
  lsp: LightningNode,
  wallets: LightningNode[],
  perWallet: number,
  channel: { capacitySat: bigint; pushMsat: bigint },
): Promise<void> {
  const total = wallets.length * perWallet;
  const peers = new Set(wallets.map((w) => w.nodeId));
  const queue = Array.from({ length: perWallet }, () => wallets.map((w) => w.nodeId)).flat();
  let next = 0;
  let ready = 0;
  let lastProgressAt = performance.now();
  let failure: Error | undefined;
  const openNext = () => {
    const peerId = queue[next++];
    if (peerId === undefined) return;
    try {
      lsp.openChannel({
        peerId,
        capacitySat: channel.capacitySat,
        pushMsat: channel.pushMsat,
        zeroConf: true,
      });
    } catch (error) {
      failure ??= new Error(`open to ${peerId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const offs = [
    lsp.on('channel-ready', (e) => {
      if (!peers.has(e.peerId)) return;
      ready++;
      lastProgressAt = performance.now();
      openNext();
    }),
    lsp.on('error', (e) => {
      failure ??= new Error(`${e.code}: ${e.message}`);
    }),
    lsp.on('channel-closed', (e) => {
      failure ??= new Error(`channel ${e.channelId} closed while opening: ${e.reason}`);
    }),
    lsp.on('peer-disconnected', (e) => {
      // its unfunded channels went with it: the run cannot finish
      if (peers.has(e.peerId)) failure ??= new Error(`wallet ${e.peerId} disconnected while opening`);
    }),
  ];
  try {
    for (let k = 0; k < OPENS_IN_FLIGHT; k++) openNext();
    const t0 = performance.now();
    let reported = t0;
    while (ready < total) {
      if (failure) throw failure;
      if (performance.now() - lastProgressAt > 300_000) {
        const listed = lsp.listChannels();
        const coins = lsp.onchain.utxos().filter((u) => u.confirmed).length;
        throw new Error(
          `bench: no channel became ready for 5 minutes (${ready} of ${total}; the LSP lists ${listed.length}, ${listed.filter((c) => c.isReady).length} ready, ${listed.filter((c) => c.fundingTxo === undefined).length} unfunded; ${coins} confirmed coins)`,
        );
      }
      if (performance.now() - reported > 15_000) {
        reported = performance.now();
        const s = (reported - t0) / 1000;
        progress(`${ready} of ${total} channels ready in ${s.toFixed(0)} s (${(ready / s).toFixed(1)}/s)`);
      }
      await sleep(100);
    }
  } finally {
    for (const off of offs) off();
  }
}

/**
 * `count` coins of `sats` for the LSP's wallet, 200 to a faucet tx: its on-chain wallet rewrites its
 * whole history with every funding tx it builds, so 10,000 one-coin receipts would cost every open.
 */
async function fundCoinsInBulk(devnet: Devnet, node: LightningNode, count: number, sats: bigint) {
  for (let funded = 0; funded < count; funded += 200) {
    devnet.fund(await node.newAddress(), sats, { outputs: Math.min(200, count - funded) });
    if (funded % 4_000 === 3_800) devnet.mine(1);
  }
  devnet.mine(1);
  await node.syncChain();
}

/** Every wallet's channels usable again (after the LSP's start): polled per wallet, a few seconds apart. */
async function allUsable(wallets: LightningNode[], perWallet: number, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  let pending = wallets;
  while (pending.length > 0) {
    pending = pending.filter((w) => w.listChannels().filter((c) => c.isUsable).length < perWallet);
    if (pending.length === 0) return;
    if (performance.now() > deadline)
      throw new Error(`bench: ${pending.length} wallets still lack usable channels after the start`);
    await sleep(2_000);
  }
}

/**
 * `walletCount` × `perWallet` zero-conf channels from the LSP (half of each pushed to the wallet, so
 * wallets can pay), confirmed; a merchant behind the LSP on a channel of its own. Then the LSP process
 * started from its store: RSS with every wallet connected, `forwardPayments` wallet → LSP → merchant
 * payments from up to 50 wallets at once (as the `lsp` group's full size), and a restart.
 * Figures are named for the channel count (`lsp_restart_ms_10000_channels`).
 */
export async function measureLspManyChannels(
  walletCount: number,
  perWallet: number,
  forwardPayments: number,
) {
  await initWasm();
  const devnet = await startDevnet({ seed: DEVNET_SEED });
  devnet.mine(ALIAS_HEIGHT - devnet.chain.tipHeight);
  const dir = mkdtempSync(join(tmpdir(), 'lpw-bench-lsp-many-'));
  const databasePath = join(dir, 'lsp.sqlite');
  const total = walletCount * perWallet;
  const channel = { capacitySat: 100_000n, pushMsat: 50_000_000n };
  const merchantCapacitySat = 10_000_000n;
  const wallets: LightningNode[] = [];
  let merchant: LightningNode | undefined;
  let lsp: LspProcess | undefined;
  try {
    let counter: CountingStore | undefined;
    const prep = await openLspForPrep(databasePath, devnet.esploraUrl, (store) => {
      counter = new CountingStore(store);
      return counter;
    });
    const lspNodeId = prep.node.nodeId;
    const tFund = performance.now();
    devnet.fund(await prep.node.newAddress(), merchantCapacitySat + 100_000n);
    await fundCoinsInBulk(devnet, prep.node, total + 5, channel.capacitySat + 20_000n);
    const fundSeconds = (performance.now() - tFund) / 1000;
    progress(`funded ${total + 5} coins in ${fundSeconds.toFixed(0)} s`);

    merchant = await walletNode(-1, lspNodeId, devnet.esploraUrl);
    await prep.node.connect(merchant.nodeId, inMemory(merchant));
    for (let i = 0; i < walletCount; i++) {
      const node = await walletNode(i, lspNodeId, devnet.esploraUrl);
      wallets.push(node);
      await prep.node.connect(node.nodeId, inMemory(node));
    }
    await openInBulk(prep.node, [merchant], 1, { capacitySat: merchantCapacitySat, pushMsat: 0n });
    const tOpen = performance.now();
    await openInBulk(prep.node, wallets, perWallet, channel);
    const openSeconds = (performance.now() - tOpen) / 1000;
    progress(`${total} channels open in ${openSeconds.toFixed(0)} s`);

    const tConfirm = performance.now();
    // every funding tx in the mempool first: a broadcast that timed out against the busy devnet (it
    // shares this process) is sent again only by a sync, and the prep node syncs only when asked
    const fundingTxids = new Set(prep.node.listChannels().map((c) => c.fundingTxo!.split(':')[0]!));
    await waitUntil(
      `${fundingTxids.size} funding txs broadcast`,
      async () => {
        if ([...fundingTxids].every((txid) => devnet.chain.getTransaction(txid) !== undefined)) return true;
        await prep.node.syncChain().catch(() => {});
        return false;
      },
      300_000,
      2_000,
    );
    devnet.mine(6);
    await prep.node.syncChain();
    await merchant.syncChain();
    const confirmSeconds = (performance.now() - tConfirm) / 1000;
    const lspChannels = prep.node.listChannels();
    const confirmed = lspChannels.filter((c) => (c.confirmations ?? 0) >= 1).length;
    const merchantScid = lspChannels.find((c) => c.peerId === merchant!.nodeId)?.shortChannelId;
    if (merchantScid === undefined) throw new Error('bench: the merchant channel has no short channel id');
    progress(`${confirmed} of ${lspChannels.length} channels confirmed in ${confirmSeconds.toFixed(0)} s`);

    const managerFigures = await managerCommitFigures(prep.node, wallets, counter!);
    progress(`manager figures ${JSON.stringify(managerFigures)}`);
    for (const node of [merchant, ...wallets]) prep.node.disconnect(node.nodeId);
    await prep.close();

    // the first start: every wallet and the merchant reconnect over TCP, then the forwards
    lsp = await spawnLsp({ databasePath, dataDir: dir, esploraUrl: devnet.esploraUrl, timeoutMs: 900_000 });
    const first = { restoreMs: lsp.restoreMs, spawnMs: lsp.spawnToListeningMs, channels: lsp.channels };
    progress(`LSP started with ${first.channels} channels in ${first.restoreMs} ms`);
    const rssAtReady = rssOf(lsp.child.pid!);
    const tReconnect = performance.now();
    for (const node of [merchant, ...wallets]) await node.connect(lspNodeId, tcp('127.0.0.1', lsp.peerPort));
    await allUsable([merchant], 1, 600_000);
    await allUsable(wallets, perWallet, 900_000);
    const reconnectSeconds = (performance.now() - tReconnect) / 1000;
    await sleep(2_000); // the reestablish writes settle before reading the size
    const rssConnected = rssOf(lsp.child.pid!);
    progress(`every channel usable again in ${reconnectSeconds.toFixed(0)} s`);

    const forwards = await forwardThroughLsp(
      lsp,
      wallets.slice(0, 50),
      merchant,
      {
        srcNodeId: lspNodeId,
        shortChannelId: merchantScid,
        // at least what the LSP asks: LDK forwards an overpaid HTLC, and an underpaid one fails
        feeBaseMsat: 10_000,
        feeProportionalMillionths: 10_000,
        cltvExpiryDelta: 144,
      },
      forwardPayments,
    );
    const rssAfterForwards = rssOf(lsp.child.pid!);
    progress(`forwards ${JSON.stringify(forwards)}`);
    await lsp.stop();

    // the restart: from the store the first run left
    lsp = await spawnLsp({ databasePath, dataDir: dir, esploraUrl: devnet.esploraUrl, timeoutMs: 900_000 });
    const second = { restoreMs: lsp.restoreMs, spawnMs: lsp.spawnToListeningMs, channels: lsp.channels };
    const rssRestarted = rssOf(lsp.child.pid!);
    await lsp.stop();
    // BENCH_LSP_CHANNELS_KEEP=DIR: keep this store and chain for restarts alone (lsp-restart-run.ts)
    const keepDir = process.env.BENCH_LSP_CHANNELS_KEEP;
    if (keepDir) keepChannelStore(keepDir, dir, devnet, DEVNET_SEED);
    if (first.channels !== total + 1 || second.channels !== total + 1) {
      throw new Error(`bench: restored ${first.channels}/${second.channels} channels, expected ${total + 1}`);
    }
    const at = (name: string) => `${name}_${total}_channels`;
    return {
      lsp_many_channels: total,
      lsp_many_wallets: walletCount,
      lsp_many_channels_per_wallet: perWallet,
      lsp_many_channels_confirmed: confirmed,
      [at('lsp_restart_ms')]: second.restoreMs,
      [at('lsp_restart_spawn_to_listening_ms')]: second.spawnMs,
      [at('lsp_first_start_ms')]: first.restoreMs,
      // with every wallet connected, the larger of before and after the forwards
      [at('lsp_rss_mb')]: Math.max(rssConnected, rssAfterForwards) / 1048576,
      [at('lsp_rss_mb_at_ready')]: rssAtReady / 1048576,
      [at('lsp_rss_mb_after_restart')]: rssRestarted / 1048576,
      [at('lsp_forwards_per_s')]: forwards.forwardsPerS,
      [at('lsp_forwards_failed')]: forwards.failed,
      [at('lsp_forwards_failures')]: forwards.failures,
      [at('lsp_cpu_ms_per_forward')]: forwards.lspCpuMsPerForward,
      [at('lsp_forward_ms_p50')]: forwards.latencyMsP50,
      [at('manager_bytes_per_commit')]: managerFigures.manager_bytes_per_commit,
      [at('manager_snapshot_bytes')]: managerFigures.manager_snapshot_bytes,
      [at('manager_write_ms_p50')]: managerFigures.manager_write_ms_p50,
      [at('manager_commits_measured')]: managerFigures.manager_commits_measured,
      lsp_many_fund_s: fundSeconds,
      lsp_many_open_s: openSeconds,
      lsp_many_confirm_s: confirmSeconds,
      lsp_many_reconnect_s: reconnectSeconds,
    };
  } catch (error) {
    // the LSP's own error lines say why, once it has stopped (its log is flushed on exit)
    if (lsp) {
      await lsp.stop();
      console.error(`the LSP's error lines:\n${lspErrorLines(lsp).slice(-10).join('\n')}`);
    }
    throw error;
  } finally {
    await lsp?.stop();
    for (const n of [...wallets, ...(merchant ? [merchant] : [])]) await n.stop().catch(() => {});
    await devnet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every payer pays the merchant through the LSP in a loop until `payments` started; as the `lsp` group. */
async function forwardThroughLsp(
  lsp: LspProcess,
  payers: LightningNode[],
  merchant: LightningNode,
  hint: RouteHintHop,
  payments: number,
) {
  const latencies: number[] = [];
  const pay = async (node: LightningNode) => {
    const t = performance.now();
    const invoice = merchant.createInvoice({ amountMsat: 1_000_000n, description: 'fwd', expirySecs: 3600 });
    await node.payInvoice(invoice.bolt11, { routeHints: [[hint]], timeoutMs: 60_000 });
    latencies.push(performance.now() - t);
  };
  await pay(payers[0]!); // the route works before the clock starts
  latencies.length = 0;
  const lspCpu0 = cpuMsOf(lsp.child.pid!);
  const { succeeded, failed, failures, seconds } = await payAllAtOnce(payers, payments, pay);
  return {
    forwardsPerS: succeeded / seconds,
    failed,
    failures,
    lspCpuMsPerForward: (cpuMsOf(lsp.child.pid!) - lspCpu0) / Math.max(1, succeeded),
    latencyMsP50: percentile(latencies, 50),
  };
}
