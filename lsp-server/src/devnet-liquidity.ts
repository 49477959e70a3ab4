// Liquidity for an LSP on the devnet, as `npm start`, the browser journeys and the CLI tests need it:
// on-chain coins from the faucet, then an announced channel to the devnet router and one from it,
// both confirmed, so wallets behind the LSP can pay out and receive. Devnet only.
import type { Devnet } from '@lpw/devnet';
import type { PublicNetwork } from '@lpw/devnet/network';
import type { LightningNode } from '@lpw/node';

export const DEVNET_CHANNEL_SAT = 5_000_000n;

export async function provideDevnetLiquidity(
  devnet: Devnet,
  net: PublicNetwork,
  node: LightningNode,
): Promise<void> {
  for (let i = 0; i < 5; i++) devnet.fund(await node.newAddress(), 10_000_000n, { confirmations: 1 });
  await node.syncChain();
  const routerId = net.router.nodeId;
  await waitUntil(() => node.isConnected(routerId), 'the LSP to connect to the router');
  const out = node.waitFor('channel-pending', (e) => e.peerId === routerId, 30_000);
  node.openChannel({ peerId: routerId, capacitySat: DEVNET_CHANNEL_SAT, announce: true });
  await out;
  const inbound = node.waitFor('channel-pending', (e) => e.peerId === routerId, 30_000);
  net.router.node.openChannel({ peerId: node.nodeId, capacitySat: DEVNET_CHANNEL_SAT, announce: true });
  await inbound;
  await new Promise((r) => setTimeout(r, 500)); // both funding transactions into the mempool
  devnet.mine(6);
  await waitUntil(
    () => node.listChannels().filter((c) => c.peerId === routerId && c.isUsable).length === 2,
    'LSP ↔ router channels',
  );
}

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`devnet liquidity: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
