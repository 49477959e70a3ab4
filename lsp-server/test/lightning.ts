// The whole picture for Lightning tests: a devnet chain, its public network (router + merchant on
// TCP), an LSP (real store backend, real node, startLsp: HTTP + WebSocket peers + JIT) connected to
// the router with channels both ways, and wallets that talk to it through the client module.
import { type Devnet, fundingBroadcast, startDevnet, waitUntil } from '@lpw/devnet';
import { type PublicNetwork, spreadChannelGossip, startPublicNetwork } from '@lpw/devnet/network';
import type { LightningNode, WebSocketConstructor } from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import pino from 'pino';
import WebSocket from 'ws';
import { createLspClient, type LspClient } from '../src/client/index.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { createLsp } from '../src/lsp.ts';
import type { Metrics } from '../src/metrics.ts';
import type { RunningLsp } from '../src/server.ts';
import type { LspStore } from '../src/store/types.ts';
import { type WalletKind, walletOf } from './prepared-lsp.ts';
import type { Backend } from './stores.ts';

export interface Stack {
  devnet: Devnet;
  net: PublicNetwork;
  lsp: LightningNode;
  server: RunningLsp;
  store: LspStore;
  config: Config;
  metrics: Metrics;
  /** Added to Date.now() for the LSP's clock (moves valid_until into the past). */
  clockOffsetMs: { value: number };
  /** A fresh wallet node (role wallet, trusting the LSP) and its logged-in, connected client. */
  wallet(seedByte: number, kind?: WalletKind): Promise<{ node: LightningNode; client: LspClient }>;
  mine(n: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(
  backend: Backend,
  env: Record<string, string> = {},
  seed = 'lsp-lightning-tests',
): Promise<Stack> {
  await initLdkNode();
  const devnet = await startDevnet({ seed });
  const net = await startPublicNetwork(devnet, { routerFundsSat: 20_000_000n });
  const store = await backend.open();
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    ESPLORA_URL: devnet.esploraUrl,
    PUBLIC_PEERS: net.router.uri,
    RATE_BUY_PER_MIN: '1000',
    RATE_AUTH_PER_MIN: '1000',
    SESSION_TTL_SEC: '86400',
    ...env,
  });
  const clockOffsetMs = { value: 0 };
  const running = await createLsp(config, {
    store,
    seed: new Uint8Array(32).fill(7),
    node: { chainSyncIntervalMs: 0, logLevel: 'error', alias: 'test-lsp' },
    log: pino({ level: process.env.LSP_TEST_LOG ?? 'silent' }),
    clock: () => Date.now() + clockOffsetMs.value,
  });
  const { node: lsp, server, metrics } = running;
  const wallets: LightningNode[] = [];
  const nodes = () => [lsp, net.router.node, net.merchant.node, ...wallets];
  const syncAll = () => Promise.all(nodes().map((n) => n.syncChain().catch(() => {})));
  const unsubscribe = devnet.chain.onBlock(() => void syncAll());

  // on-chain funds in several coins, so every JIT open has a confirmed one to spend
  for (let i = 0; i < 6; i++) devnet.fund(await lsp.newAddress(), 5_000_000n, { confirmations: 1 });
  await lsp.syncChain();

  await waitUntil('LSP connected to the router', () => lsp.isConnected(net.router.nodeId), 30_000);

  // router → LSP: two public channels (inbound for wallets, and room for a payment split in two)
  const mine = async (n: number) => {
    devnet.mine(n);
    await syncAll();
  };
  for (let i = 0; i < 2; i++) {
    const pending = lsp.waitFor('channel-pending', (e) => e.peerId === net.router.nodeId, 15_000);
    net.router.node.openChannel({ peerId: lsp.nodeId, capacitySat: 2_500_000n, announce: true });
    const { fundingTxo } = await pending;
    await fundingBroadcast(devnet.chain, fundingTxo);
    await mine(1);
  }
  await mine(6);
  const routerChannels = () => lsp.listChannels().filter((c) => c.isUsable && c.peerId === net.router.nodeId);
  await waitUntil('router → LSP channels usable', () => routerChannels().length === 2, 30_000);
  await spreadChannelGossip(
    devnet,
    [lsp, net.router.node, net.merchant.node],
    [net.channelScid, ...routerChannels().map((c) => c.shortChannelId!)],
  );

  return {
    devnet,
    net,
    lsp,
    server,
    store,
    config,
    metrics,
    clockOffsetMs,
    mine,
    async wallet(seedByte, kind) {
      const node = await walletOf(devnet, lsp.nodeId, seedByte, kind);
      wallets.push(node);
      const client = createLspClient({
        url: server.url,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
      });
      await client.login(node);
      await client.connect(node);
      return { node, client };
    },
    async stop() {
      unsubscribe();
      for (const w of wallets) await w.stop();
      await running.stop();
      await net.stop();
      await devnet.stop();
    },
  };
}
