import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Devnet, fundingBroadcast, startDevnet, waitUntil } from '@lpw/devnet-chain';
import { createNode, type LightningNode, MemoryStore } from '@lpw/node';
import { tcp } from '@lpw/node/tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  announceUncheckedChannel,
  FUNDING_BASE_HEIGHT,
  fundGossipGraph,
  graphCount,
  startGossipHub,
} from './gossip-graph.ts';

// small here (the bench's `gossip` group runs mainnet's size): every message is signed and checked
// by LDK all the same
const shape = { seed: 'gossip-graph-test', nodes: 60, channels: 200 };

describe('the devnet gossip hub', () => {
  let devnet: Devnet;
  const cacheDir = mkdtempSync(join(tmpdir(), 'lpw-graph-test-'));
  const started: Array<{ stop(): Promise<void> }> = [];
  /** A routing node (it keeps a graph, so it checks announcements) on the devnet's chain, stopped at the end. */
  const graphNode = async (seedByte: number): Promise<LightningNode> => {
    const node = await createNode({
      seed: new Uint8Array(32).fill(seedByte),
      network: 'regtest',
      role: 'router',
      store: new MemoryStore(),
      chain: { esploraUrl: devnet.esploraUrl },
      logLevel: 'error',
    });
    started.push(node);
    return node;
  };

  beforeAll(async () => {
    devnet = await startDevnet({ seed: 'gossip-graph-test' });
    // the 200 channels' funding outputs: block 1,000, transaction 1, outputs 0–199
    fundGossipGraph(devnet, shape);
  }, 60_000);
  afterAll(async () => {
    for (const s of started.reverse()) await s.stop();
    await devnet?.stop();
    rmSync(cacheDir, { recursive: true, force: true });
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
    const newcomer = await graphNode(9);
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
    await fundingBroadcast(devnet.chain, fundingTxo);
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

  it('a node takes a channel only where its funding output is on the chain: none there, or the wrong script, is refused', async () => {
    const hub = await startGossipHub(devnet, shape, { cacheDir });
    started.push(hub);
    const at = (height: number, txIndex: number, vout: number) =>
      (BigInt(height) << 40n) | (BigInt(txIndex) << 16n) | BigInt(vout);
    const lies = [
      at(FUNDING_BASE_HEIGHT, 1, 200), // past the transaction's last output
      at(FUNDING_BASE_HEIGHT, 2, 0), // a transaction the block does not have
      at(FUNDING_BASE_HEIGHT + 500, 1, 0), // a block not mined yet
      at(FUNDING_BASE_HEIGHT - 1, 1, 0), // a real output, but the P2WPKH that funded the graph, not a 2-of-2
    ];
    for (const [i, scid] of lies.entries()) announceUncheckedChannel(hub, shape, 1 + i, 10 + i, scid);
    expect(graphCount(hub.node).channels).toBe(204); // the hub serves them all, signed like the rest

    const checker = await graphNode(10);
    await checker.connect(hub.nodeId, tcp(hub.host, hub.port));
    await waitUntil(
      'every announcement received and checked',
      () =>
        checker.gossipReceived(hub.nodeId).channelAnnouncements === 204 &&
        checker.fundingChecks()?.pending === 0,
      60_000,
    );
    expect(checker.fundingChecks()).toMatchObject({ found: 201, missing: 3, failed: 0, blocksFetched: 2 });
    expect(graphCount(checker).channels).toBe(200);
    const scids = new Set(checker.graphSummary().channels.map((c) => c.shortChannelId));
    for (const scid of lies) expect(scids.has(scid)).toBe(false);
    // each one taken has its funding output's value as its capacity
    const outputs = devnet.chain.getBlock(FUNDING_BASE_HEIGHT)!.txs[1]!.outputs;
    for (const channel of checker.graphSummary().channels)
      expect(channel.capacitySat).toBe(outputs[Number(channel.shortChannelId & 0xffffn)]!.value);
  }, 180_000);
});
