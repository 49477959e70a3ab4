// Channel funding from the node's own wallet when the wallet cannot pay: a typed error up front
// when the confirmed balance is short of the capacity, a FUNDING_FAILED event (channel dropped,
// nothing broadcast, no coin left reserved) when only the fee is missing.

import { fundingBroadcast, waitUntil } from '@lpw/devnet-chain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightningNode } from '../src/node.ts';
import { inMemory } from '../src/transport/memory.ts';
import { type TestNet, testNet } from './harness.ts';

describe('funding from the on-chain wallet', () => {
  let net: TestNet;
  let f: LightningNode;
  let g: LightningNode;

  beforeAll(async () => {
    net = await testNet('funding-tests');
    f = (await net.make('f', 0xf6)).node;
    g = (await net.make('g', 0x67)).node;
    await net.fund(f, 100_000n);
    await f.connect(g.nodeId, inMemory(g));
  }, 30_000);

  afterAll(async () => {
    await f?.stop();
    await g?.stop();
    await net?.stop();
  });

  it('refuses a channel larger than the confirmed balance, and drops one whose fee it cannot pay', async () => {
    expect(() => f.openChannel({ peerId: g.nodeId, capacitySat: 100_001n })).toThrow(/INSUFFICIENT_BALANCE/);
    expect(f.listChannels()).toEqual([]);

    // exactly the balance: the channel passes the check, the funding tx cannot pay its fee
    const failed = f.waitFor('error', (e) => e.code === 'FUNDING_FAILED', 15_000);
    f.openChannel({ peerId: g.nodeId, capacitySat: 100_000n });
    expect((await failed).message).toMatch(/INSUFFICIENT_FUNDS/);
    await waitUntil('channel dropped', () => f.listChannels().length === 0 && g.listChannels().length === 0);
    expect(net.devnet.chain.mempool.ordered()).toEqual([]);

    // the coin was not left reserved: a smaller channel is funded from it
    const pending = f.waitFor('channel-pending', undefined, 15_000);
    f.openChannel({ peerId: g.nodeId, capacitySat: 60_000n });
    const txid = await fundingBroadcast(net.devnet.chain, (await pending).fundingTxo);
    expect(net.devnet.chain.getTransaction(txid)!.spent.map((o) => o.value)).toEqual([100_000n]);
  }, 30_000);
});
