// BOLT 12 offers across the devnet: the public merchant pays a wallet's offer (twice: it is
// reusable) and the wallet pays the merchant's. The wallet's offer enters the network at the LSP,
// which forwards the invoice request to the wallet and its invoice back; the wallet's messages to
// the public network go through the LSP too (it keeps no graph and has no other peer).
import { waitUntil } from '@lpw/devnet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LspClient } from '../src/client/index.ts';
import { type Stack, startStack } from './lightning.ts';
import { backends } from './stores.ts';

describe('BOLT 12 offers: the merchant and a wallet behind the LSP', () => {
  let s: Stack;
  let wallet: Awaited<ReturnType<Stack['wallet']>>['node'];
  let client: LspClient;

  beforeAll(async () => {
    s = await startStack(backends()[0]!, {}, 'bolt12-offers');
    ({ node: wallet, client } = await s.wallet(0x61));
    // a channel with money both ways: a JIT receive of 1M sat from the router
    const jit = await client.receiveJit(wallet, { amountMsat: 1_000_000_000n, description: 'first' });
    const received = wallet.waitFor('payment-received', (e) => e.paymentHash === jit.paymentHash, 60_000);
    await s.net.router.node.payInvoice(jit.bolt11, { timeoutMs: 60_000 });
    await received;
    // the LSP's side of the router's payment settles upstream after the wallet's claim
    await waitUntil(
      'the LSP holds the router’s payment',
      () => s.lsp.listChannels().some((c) => c.peerId === s.net.router.nodeId && c.outboundMsat > 0n),
      30_000,
    );
  }, 180_000);
  afterAll(() => s?.stop(), 60_000);

  it("the wallet pays the merchant's offer (its messages and payment go through the LSP)", async () => {
    const offer = s.net.merchant.node.bolt12Payment.offer();
    // enough that the merchant can pay the wallet back above its channel reserve
    const amountMsat = 300_000_000n;
    const id = await client.sendOffer(wallet, offer, { amountMsat, maxFeeMsat: 5_000_000n });
    expect(wallet.payment(id)).toMatchObject({ kind: 'bolt12', status: 'pending', amountMsat });
    const sent = await wallet.bolt12Payment.outcome(id, 60_000);
    expect(sent.amountMsat).toBe(amountMsat);
    expect(sent.feeMsat).toBeLessThanOrEqual(5_000_000n);
    expect(s.net.merchant.node.payment(sent.paymentHash)).toMatchObject({
      kind: 'bolt12',
      direction: 'inbound',
      amountMsat,
    });
  });
  it("the merchant pays the wallet's offer twice, through the LSP (its introduction node)", async () => {
    const offer = wallet.bolt12Payment.offer();
    expect(s.net.merchant.node.bolt12Payment.decodeOffer(offer).introductionNodeIds).toEqual([s.lsp.nodeId]);
    const received: bigint[] = [];
    const off = wallet.on('payment-received', (e) => received.push(e.amountMsat));
    const forwardedBefore = s.lsp.listPayments().length;
    try {
      for (const amountMsat of [21_000_000n, 34_000_000n]) {
        const merchant = s.net.merchant.node.bolt12Payment;
        const id = await merchant.payOffer(offer, amountMsat);
        const sent = await merchant.outcome(id, 60_000);
        expect(sent.amountMsat).toBe(amountMsat);
        await waitUntil(`wallet got ${amountMsat}`, () => received.includes(amountMsat), 30_000);
        expect(wallet.payment(sent.paymentHash)).toMatchObject({ kind: 'bolt12', status: 'succeeded' });
      }
    } finally {
      off();
    }
    // the LSP only forwarded: nothing of its own was paid or received
    expect(s.lsp.listPayments().length).toBe(forwardedBefore);
  });
});
