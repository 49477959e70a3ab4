import { type Devnet, startDevnet, waitUntil } from '@lpw/devnet-chain';
import { createNode, MemoryStore } from '@lpw/node';
import { tcp } from '@lpw/node/tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PublicNetwork, startPublicNetwork } from './network.ts';

describe('the devnet public network', () => {
  let devnet: Devnet;
  let network: PublicNetwork;

  beforeAll(async () => {
    devnet = await startDevnet({ seed: 'network-test' });
    network = await startPublicNetwork(devnet);
  }, 60_000);

  afterAll(async () => {
    await network?.stop();
    await devnet?.stop();
  });

  it('has an announced, confirmed router–merchant channel the merchant can receive on', () => {
    const channel = network.merchant.node.listChannels().find((ch) => ch.peerId === network.router.nodeId);
    expect(channel?.isUsable).toBe(true);
    expect(channel?.isAnnounced).toBe(true);
    expect(channel?.confirmations).toBeGreaterThanOrEqual(6);
    expect(channel?.inboundMsat).toBeGreaterThan(1_000_000_000n);
    expect(network.channelScid).toBe(channel?.shortChannelId);
  });

  it('gossips the channel (both directions) and both nodes to a newcomer that connects over TCP', async () => {
    const newcomer = await createNode({
      seed: new Uint8Array(32).fill(7),
      network: 'regtest',
      role: 'router',
      store: new MemoryStore(),
      chain: { esploraUrl: devnet.esploraUrl },
      logLevel: 'error',
    });
    try {
      await newcomer.connect(network.router.nodeId, tcp(network.router.host, network.router.port));
      const known = () => {
        const graph = newcomer.graphSummary();
        const aliases = graph.nodes.filter((n) => n.announced).map((n) => n.alias);
        return (
          // initial sync carries both directions' channel_update, so the newcomer can route both ways
          graph.channels.some(
            (ch) => ch.shortChannelId === network.channelScid && ch.oneToTwo && ch.twoToOne,
          ) &&
          aliases.includes('devnet-router') &&
          aliases.includes('devnet-merchant')
        );
      };
      await waitUntil("the channel and both nodes in the newcomer's graph", known, 20_000);
    } finally {
      await newcomer.stop();
    }
  }, 30_000);
});
