import { waitUntil } from '@lpw/devnet-chain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestNet, testNet } from '../test/harness.ts';
import { NodeError } from './errors.ts';
import type { LightningNode } from './node.ts';
import { inMemory } from './transport/memory.ts';

describe('two nodes in memory, zero-conf channel funded by a real transaction', () => {
  let net: TestNet;
  let lsp: LightningNode;
  let wallet: LightningNode;

  beforeAll(async () => {
    net = await testNet();
    const a = await net.make('lsp', 1, { role: 'lsp' });
    lsp = a.node;
    await net.fund(lsp, 2_000_000n);
    const b = await net.make('wallet', 2, { role: 'wallet', trustedPeers: [lsp.nodeId] });
    wallet = b.node;
    await wallet.connect(lsp.nodeId, inMemory(lsp));
    await waitUntil('lsp sees wallet', () => lsp.isConnected(wallet.nodeId));
    const readyL = lsp.waitFor('channel-ready');
    const readyW = wallet.waitFor('channel-ready');
    lsp.openChannel({ peerId: wallet.nodeId, capacitySat: 1_000_000n, zeroConf: true });
    await Promise.all([readyL, readyW]);
    await waitUntil(
      'usable',
      () => wallet.listChannels()[0]?.isUsable === true && lsp.listChannels()[0]?.isUsable === true,
    );
  }, 30_000);

  afterAll(async () => {
    await wallet?.stop();
    await lsp?.stop();
    await net?.stop();
  });

  it('the funding transaction is real, from the on-chain wallet, and reached the chain', async () => {
    const ch = lsp.listChannels()[0]!;
    expect(ch.confirmations ?? 0).toBe(0);
    const txid = ch.fundingTxo!.split(':')[0]!;
    expect(net.devnet.chain.getTransaction(txid)).toBeDefined();
    // the wallet spent its 2,000,000 sat coin: 1,000,000 into the channel, a fee, change back
    await lsp.syncChain();
    const b = lsp.balances();
    expect(b.onchainConfirmedMsat).toBe(0n);
    expect(b.onchainUnconfirmedMsat).toBeGreaterThan(990_000_000n);
    expect(b.onchainUnconfirmedMsat).toBeLessThan(1_000_000_000n);
  });

  it('pays invoices both ways with exact msat accounting', async () => {
    const before = lsp.listChannels()[0]!.outboundMsat;
    const invoice = wallet.createInvoice({ amountMsat: 50_000_000n, description: 'coffee', expirySecs: 600 });
    const received = wallet.waitFor('payment-received');
    const sent = await lsp.payInvoice(invoice.bolt11, { maxFeeMsat: 10_000n });
    expect(sent.amountMsat).toBe(50_000_000n);
    expect(sent.feeMsat).toBe(0n);
    expect((await received).amountMsat).toBe(50_000_000n);
    await waitUntil('lsp balance', () => lsp.listChannels()[0]!.outboundMsat === before - 50_000_000n);
    expect(wallet.payment(invoice.paymentHash)?.status).toBe('succeeded');

    // the wallet can spend what it received once the commitment dance has settled
    await waitUntil('wallet balance settled', () => wallet.balances().spendableNowMsat >= 7_000_123n);
    const back = lsp.createInvoice({ amountMsat: 7_000_123n, description: 'change', expirySecs: 600 });
    const got = lsp.waitFor('payment-received');
    const paid = await wallet.payInvoice(back.bolt11);
    expect(paid.preimage).toMatch(/^[0-9a-f]{64}$/);
    expect((await got).amountMsat).toBe(7_000_123n);
    expect(wallet.payment(paid.paymentId)?.status).toBe('succeeded');
  });

  it('keysend', async () => {
    const got = wallet.waitFor('payment-received');
    const sent = await lsp.keysend(wallet.nodeId, 1_234_567n);
    expect((await got).amountMsat).toBe(1_234_567n);
    expect(lsp.payment(sent.paymentId)?.status).toBe('succeeded');
  });

  it('bad input gives typed errors and changes nothing', async () => {
    const before = lsp.listPayments().length;
    const bal = lsp.balances();
    await expect(lsp.payInvoice('lnbcrt1garbage')).rejects.toMatchObject({ code: 'INVALID_INVOICE' });
    await expect(lsp.payInvoice('')).rejects.toBeInstanceOf(NodeError);
    const big = wallet.createInvoice({
      amountMsat: 5_000_000_000n,
      description: 'too much',
      expirySecs: 600,
    });
    await expect(lsp.payInvoice(big.bolt11)).rejects.toMatchObject({ code: 'INSUFFICIENT_BALANCE' });
    await expect(lsp.keysend('02'.padEnd(66, '1'), 1n)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(() => lsp.openChannel({ peerId: `03${'ab'.repeat(32)}`, capacitySat: 100_000n })).toThrow(
      /PEER_NOT_CONNECTED/,
    );
    expect(() => lsp.closeChannel('00'.repeat(32))).toThrow(/CHANNEL_NOT_FOUND/);
    expect(lsp.listPayments().length).toBe(before);
    expect(lsp.balances()).toEqual(bal);
  });

  it('a chain sync asked for while one runs reads the tip after the ask (no block is skipped)', async () => {
    const best = () => lsp.ldk.channelManager.current_best_block().get_height();
    // a few rounds, each with a block mined at a different point of a running sync
    for (const delayMs of [0, 1, 2, 4, 8]) {
      net.devnet.mine(1);
      const running = lsp.syncChain();
      // the running sync has handed LDK its tip: a block from now on may be one it does not see
      while (best() < net.devnet.chain.tipHeight) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, delayMs));
      net.devnet.mine(1);
      const asked = await lsp.syncChain();
      expect(asked.tip.height).toBe(net.devnet.chain.tipHeight);
      expect(best()).toBe(net.devnet.chain.tipHeight);
      await running;
    }
  });

  it('an exception in an event listener does not kill the node', async () => {
    const off = wallet.on('payment-received', () => {
      throw new Error('listener bug');
    });
    const err = wallet.waitFor('error', (e) => e.code === 'CALLBACK_FAILED');
    const inv = wallet.createInvoice({ amountMsat: 1_000n, description: 'x', expirySecs: 600 });
    await lsp.payInvoice(inv.bolt11);
    await err;
    off();
    const inv2 = wallet.createInvoice({ amountMsat: 2_000n, description: 'y', expirySecs: 600 });
    await lsp.payInvoice(inv2.bolt11);
  });
});
