// Liquidity for an LSP on the devnet, as `npm start`, the browser journeys and the CLI tests need it:
// on-chain coins from the faucet, then an announced channel to the devnet router and one from it,
// both confirmed and known both ways to every node's graph, so wallets behind the LSP can pay out and
// the merchant can pay them. Devnet only.
import { type Devnet, fundingBroadcast, waitUntil } from '@lpw/devnet';
import { type PublicNetwork, spreadChannelGossip } from '@lpw/devnet/network';
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
  await waitUntil('the LSP to connect to the router', () => node.isConnected(routerId), 60_000);
  const out = node.waitFor('channel-pending', (e) => e.peerId === routerId, 30_000);
  node.openChannel({ peerId: routerId, capacitySat: DEVNET_CHANNEL_SAT, announce: true });
  const outbound = await out;
  const inbound = node.waitFor('channel-pending', (e) => e.peerId === routerId, 30_000);
  net.router.node.openChannel({ peerId: node.nodeId, capacitySat: DEVNET_CHANNEL_SAT, announce: true });
  for (const pending of [outbound, await inbound]) await fundingBroadcast(devnet.chain, pending.fundingTxo);
  devnet.mine(6);
  const routerChannels = () => node.listChannels(routerId).filter((c) => c.isUsable);
  await waitUntil('LSP ↔ router channels', () => routerChannels().length === 2, 60_000);
  // the merchant routes to wallets behind the LSP over the LSP → router direction: wait for it
  await spreadChannelGossip(
    devnet,
    [node, net.router.node, net.merchant.node],
    [net.channelScid, ...routerChannels().map((c) => c.shortChannelId!)],
  );
}
