// Bench group `gossip` (not in quick mode): the LSP as createLsp assembles it syncs a mainnet-sized
// public graph from the devnet's gossip hub (packages/devnet/src/gossip-graph.ts, in a process of its
// own so this process's WASM memory is the LSP's), then answers routes.find into it over its real
// tRPC API, one real channel to the hub being its way in.
// graph_sync_ms: createLsp called → the LSP's graph holds every channel and node of the hub's (the
// LSP's start, its connection to PUBLIC_PEERS and BOLT 7's backfill with LDK checking every
// signature and every channel's funding output on the devnet chain). graph_wasm_mb: LDK's WASM
// memory in use then. route_find_ms_p50: routes.find to random nodes of the graph, one at a time.
// graph_funding_ms: putting the graph's funding outputs on the chain (fundGossipGraph).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fundingBroadcast, startDevnet, waitUntil } from '@lpw/devnet';
import { fundGossipGraph, graphCount } from '@lpw/devnet/gossip-graph';
import { createNode, MemoryStore } from '@lpw/node';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { createLspClient } from '../../lsp-server/src/client/index.ts';
import { loadConfig } from '../../lsp-server/src/config.ts';
import { createLsp } from '../../lsp-server/src/lsp.ts';
import { openStore } from '../../lsp-server/src/store/index.ts';
import { percentile } from './stats.ts';
import { initWasm, wasmMemoryBytes } from './wasm.ts';

const here = dirname(fileURLToPath(import.meta.url));
const SEED = 'bench-gossip';
const MB = 1024 * 1024;

interface HubReady {
  nodeId: string;
  uri: string;
  channels: number;
  nodes: number;
  fromCache: boolean;
  buildMs: number;
}

export async function measureGossip(nodes: number, channels: number, routeQueries: number) {
  await initWasm();
  const devnet = await startDevnet({ seed: SEED });
  // the channels' funding outputs on this chain: the LSP takes none without its output
  const fundingStarted = performance.now();
  fundGossipGraph(devnet, { seed: SEED, nodes, channels });
  const graphFundingMs = performance.now() - fundingStarted;
  const dir = mkdtempSync(join(tmpdir(), 'lpw-bench-gossip-'));
  const hub = await spawnHub({ esploraUrl: devnet.esploraUrl!, seed: SEED, nodes, channels });
  const stops: Array<() => Promise<unknown>> = [async () => hub.child.kill('SIGTERM'), () => devnet.stop()];
  try {
    const wasmBeforeBytes = wasmMemoryBytes() ?? 0;
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      PORT: '0',
      HOST: '127.0.0.1',
      ESPLORA_URL: devnet.esploraUrl!,
      PUBLIC_PEERS: hub.ready.uri,
      RATE_ROUTES_PER_MIN: '1000000',
      RATE_AUTH_PER_MIN: '1000',
      SESSION_TTL_SEC: '86400',
    });
    const t0 = performance.now();
    const running = await createLsp(config, {
      store: await openStore(join(dir, 'lsp.sqlite')),
      seed: sha256(utf8ToBytes(`${SEED}/lsp`)),
      devnet,
      node: { chainSyncIntervalMs: 0, logLevel: 'error' },
    });
    stops.unshift(() => running.stop());
    const lsp = running.node;
    await waitUntil(
      () =>
        `the LSP to hold the hub's graph (${JSON.stringify(graphCount(lsp))} of ${hub.ready.channels} channels)`,
      () => {
        const held = graphCount(lsp);
        return held.channels >= hub.ready.channels && held.nodes >= hub.ready.nodes;
      },
      3_600_000,
      500,
    );
    const graphSyncMs = performance.now() - t0;
    const wasmBytes = wasmMemoryBytes() ?? 0;
    const synced = lsp.gossipReceived(hub.ready.nodeId);
    const checks = lsp.fundingChecks();

    // the LSP's way into the graph: one channel of its own to the hub
    devnet.fund(await lsp.newAddress(), 5_000_000n, { confirmations: 1 });
    await lsp.syncChain();
    const pending = lsp.waitFor('channel-pending', (e) => e.peerId === hub.ready.nodeId, 30_000);
    lsp.openChannel({ peerId: hub.ready.nodeId, capacitySat: 4_000_000n });
    const { fundingTxo } = await pending;
    await fundingBroadcast(devnet.chain, fundingTxo);
    devnet.mine(6);
    await lsp.syncChain();
    await waitUntil('LSP → hub usable', () => lsp.listChannels().some((c) => c.isUsable), 120_000, 100);

    // a wallet's session, and routes.find to nodes across the graph
    const wallet = await createNode({
      seed: sha256(utf8ToBytes(`${SEED}/wallet`)),
      network: 'regtest',
      role: 'wallet',
      store: new MemoryStore(),
      chain: { esploraUrl: devnet.esploraUrl! },
      chainSyncIntervalMs: 0,
      logLevel: 'error',
    });
    stops.unshift(() => wallet.stop());
    const client = createLspClient({ url: running.server.url });
    await client.login(wallet);
    const view = lsp.ldk.networkGraph.read_only();
    const ids = view.list_nodes().map((id) => Buffer.from(id.as_slice()).toString('hex'));
    view.free();
    const payees = ids.filter((id) => id !== hub.ready.nodeId && id !== lsp.nodeId);
    const samples: number[] = [];
    let failures = 0;
    let lastFailure = '';
    for (let i = 0; i < routeQueries; i++) {
      const payee = payees[Math.floor((i * 7919) % payees.length)]!;
      const t = performance.now();
      try {
        const found = await client.findRoute(payee, 1_000_000n, 144);
        if (found.paths.length === 0) throw new Error('no paths');
        samples.push(performance.now() - t);
      } catch (error) {
        failures++;
        lastFailure = error instanceof Error ? error.message : String(error);
      }
    }
    return {
      graph_channels: hub.ready.channels,
      graph_nodes: hub.ready.nodes,
      graph_build_ms: hub.ready.buildMs,
      graph_from_cache: hub.ready.fromCache,
      graph_sync_ms: Math.round(graphSyncMs),
      graph_sync_mb: +(synced.bytes / MB).toFixed(1),
      graph_funding_ms: Math.round(graphFundingMs),
      graph_funding_outputs_found: checks?.found ?? 0,
      graph_funding_blocks_read: checks?.blocksFetched ?? 0,
      graph_wasm_mb: +(wasmBytes / MB).toFixed(1),
      graph_wasm_growth_mb: +((wasmBytes - wasmBeforeBytes) / MB).toFixed(1),
      route_find_ms_p50: +percentile(samples, 50).toFixed(1),
      route_find_ms_p90: +percentile(samples, 90).toFixed(1),
      route_find_queries: routeQueries,
      route_find_failures: failures,
      ...(failures ? { route_find_last_failure: lastFailure } : {}),
    };
  } finally {
    for (const stop of stops) await stop().catch(() => {});
  }
}

/** The hub's process; resolves on its HUB_READY line (a first run signs and checks for minutes). */
function spawnHub(params: {
  esploraUrl: string;
  seed: string;
  nodes: number;
  channels: number;
}): Promise<{ child: ChildProcess; ready: HubReady }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'gossip-hub-child.ts'), JSON.stringify(params)],
    { cwd: join(here, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('HUB_READY '));
      if (line) resolve({ child, ready: JSON.parse(line.slice('HUB_READY '.length)) as HubReady });
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      reject(new Error(`the gossip hub exited (${code}) before it was ready:\n${out.slice(-2000)}`)),
    );
  });
}
