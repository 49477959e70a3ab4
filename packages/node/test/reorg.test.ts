// A reorg takes a channel's funding transaction out of the chain before it reached the channel's
// 6 confirmations: both sides must see it unconfirmed (channel back to pending), keep the channel,
// and complete it once the transaction is mined again. D reads the chain over Esplora (block scans,
// as every node but a wallet does; its first sync asks per item), E over bitcoind RPC; per-item
// syncs meeting a reorg are in chain/sync.test.ts.

import { waitUntil } from '@lpw/devnet-chain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bitcoindSource } from '../src/chain/bitcoind.ts';
import type { ChannelSummary, LightningNode } from '../src/node.ts';
import { inMemory } from '../src/transport/memory.ts';
import { type TestNet, testNet } from './harness.ts';

describe('reorg of an unconfirmed-enough funding transaction', () => {
  let net: TestNet;
  let d: LightningNode;
  let e: LightningNode;
  const closes: string[] = [];

  beforeAll(async () => {
    net = await testNet('reorg-tests');
    d = (await net.make('d', 0xd4)).node;
    e = (await net.make('e', 0xe5, { chain: bitcoindSource({ url: net.devnet.rpcUrl }) })).node;
    for (const node of [d, e]) node.on('channel-closed', (ev) => closes.push(ev.reason));
  }, 30_000);

  afterAll(async () => {
    await d?.stop();
    await e?.stop();
    await net?.stop();
  });

  const channel = (node: LightningNode): ChannelSummary => {
    const ch = node.listChannels()[0];
    if (!ch) throw new Error('no channel');
    return ch;
  };

  it('unconfirms the funding tx, keeps the channel pending, confirms it again, no force close', async () => {
    await net.fund(d, 1_000_000n);
    await d.connect(e.nodeId, inMemory(e));
    const pending = d.waitFor('channel-pending', undefined, 15_000);
    d.openChannel({ peerId: e.nodeId, capacitySat: 500_000n });
    const [txid, vout] = (await pending).fundingTxo.split(':') as [string, string];
    await waitUntil('funding broadcast', () => net.devnet.chain.getTransaction(txid) !== undefined);

    await net.mine(3, [d, e]);
    const firstBlock = net.devnet.chain.getTransaction(txid)!.location!;
    for (const node of [d, e]) {
      expect(channel(node).confirmations).toBe(3);
      expect(channel(node).isUsable).toBe(false);
    }

    // the block holding the funding tx leaves the best chain; the tx goes back to the mempool
    net.devnet.chain.invalidateBlock(firstBlock.blockHash);
    expect(net.devnet.chain.tipHeight).toBe(firstBlock.height - 1);
    expect(net.devnet.chain.getTransaction(txid)?.location).toBeUndefined();
    const reports = [await d.syncChain(), await e.syncChain()];
    for (const report of reports) expect(report.unconfirmed).toContain(txid);
    for (const node of [d, e]) {
      expect(channel(node).confirmations ?? 0).toBe(0);
      expect(channel(node).isReady).toBe(false);
      expect(channel(node).isUsable).toBe(false);
    }
    expect(closes).toEqual([]);

    // mined again, in another block (a coinbase to another address makes it differ)
    net.devnet.mine(1, await e.newAddress());
    await d.syncChain();
    await e.syncChain();
    const secondBlock = net.devnet.chain.getTransaction(txid)!.location!;
    expect(secondBlock.blockHash).not.toBe(firstBlock.blockHash);
    for (const node of [d, e]) expect(channel(node).confirmations).toBe(1);

    await net.mine(5, [d, e]);
    await waitUntil('usable after 6 confirmations', () => channel(d).isUsable && channel(e).isUsable, 20_000);
    expect(channel(d).confirmations).toBe(6);

    const invoice = e.createInvoice({ amountMsat: 42_000_000n, description: 'after reorg', expirySecs: 600 });
    const sent = await d.payInvoice(invoice.bolt11);
    expect(sent.feeMsat).toBe(0n);
    expect(e.payment(invoice.paymentHash)?.status).toBe('succeeded');
    expect(closes).toEqual([]);
    expect(net.devnet.chain.outspend(txid, Number(vout))).toBeUndefined();
  }, 60_000);
});
