import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Devnet, startDevnet, waitUntil } from '@lpw/devnet-chain';
import { createNode, type LightningNode, MemoryStore } from '@lpw/node';
import { tcp } from '@lpw/node/tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphCount, startGossipHub } from './gossip-graph.ts';

// small here (the bench's `gossip` group runs mainnet's size): every message is signed and checked
// by LDK all the same
const shape = { seed: 'gossip-graph-test', nodes: 60, channels: 200 };

describe('the devnet gossip hub', () => {
  let devnet: Devnet;
  const cacheDir = mkdtempSync(join(tmpdir(), 'lpw-graph-test-'));
  const started: Array<{ stop(): Promise<void> }> = [];

  beforeAll(async () => {
    devnet = await startDevnet({ seed: 'gossip-graph-test' });
  }, 60_000);
  afterAll(async () => {
    for (const s of started.reverse()) await s.stop();
    await devnet?.stop();
  }, 60_000);

  it('makes the graph once (LDK takes every signature), then starts from the cache with the same graph', async () => {
    const made = await startGossipHub(devnet, shape, { cacheDir });
    expect(made).toMatchObject({ fromCache: false, channels: 200, nodes: 60 });
    await made.stop();
    const hub = await startGossipHub(devnet, shape, { cacheDir });
    started.push(hub);
    expect(hub).toMatchObject({ fromCache: true, channels: 200, nodes: 60, nodeId: made.nodeId });
    // every node announced (the hub's own comes with its first real channel), both directions usable
    const summary = hub.node.graphSummary();
    expect(summary.nodes.filter((n) => n.announced)).toHaveLength(59);
    expect(summary.channels.every((c) => c.oneToTwo && c.twoToOne)).toBe(true);
  }, 120_000);

  it('a node that connects syncs the whole graph over BOLT 7 and routes into it through the hub', async () => {
    const hub = await startGossipHub(devnet, shape, { cacheDir });
    started.push(hub);
    const newcomer: LightningNode = await createNode({
      seed: new Uint8Array(32).fill(9),
      network: 'regtest',
      role: 'router',
      store: new MemoryStore(),
      chain: { esploraUrl: devnet.esploraUrl },
      logLevel: 'error',
    });
    started.push(newcomer);
    await newcomer.connect(hub.nodeId, tcp(hub.host, hub.port));
    await waitUntil(
      'the whole graph',
      () => graphCount(newcomer).channels === 200 && graphCount(newcomer).nodes === 60,
      60_000,
    );
    expect(newcomer.gossipReceived(hub.nodeId)).toMatchObject({
      channelAnnouncements: 200,
      channelUpdates: 400,
    });

    devnet.fund(await newcomer.newAddress(), 2_000_000n, { confirmations: 1 });
    await newcomer.syncChain();
    const pending = newcomer.waitFor('channel-pending', (e) => e.peerId === hub.nodeId, 15_000);
    newcomer.openChannel({ peerId: hub.nodeId, capacitySat: 1_000_000n, announce: false });
    const { fundingTxo } = await pending;
    await waitUntil(
      'funding broadcast',
      () => devnet.chain.mempool.get(fundingTxo.split(':')[0]!) !== undefined,
      30_000,
    );
    devnet.mine(6);
    await Promise.all([newcomer.syncChain(), hub.node.syncChain()]);
    await waitUntil('channel usable', () => newcomer.listChannels()[0]?.isUsable === true, 30_000);
    const far = hub.node
      .graphSummary()
      .nodes.map((n) => n.nodeId)
      .find((id) => id !== hub.nodeId)!;
    const [path] = newcomer.findRoute({
      payeeNodeId: far,
      amountMsat: 10_000_000n,
      finalCltvExpiryDelta: 18,
    });
    expect(path!.hops[0]!.nodeId).toBe(hub.nodeId);
    expect(path!.hops.at(-1)!.nodeId).toBe(far);
  }, 180_000);
});
