// LSPS1 (bLIP 51) orders on the devnet: a wallet that already has a channel to the LSP buys a second
// channel of a chosen size, pays the order invoice over the first, and gets the channel (COMPLETED);
// an unpaid order stays CREATED until its invoice expires (then FAILED); a paid order the LSP
// cannot fund is FAILED. On both stores.

import { waitUntil } from '@lpw/devnet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './lightning.ts';
import { backends } from './stores.ts';

const order = (lspBalanceSat: bigint) => ({
  lsp_balance_sat: lspBalanceSat.toString(),
  client_balance_sat: '0',
  required_channel_confirmations: 0,
  funding_confirms_within_blocks: 6,
  channel_expiry_blocks: 4320,
  announce_channel: false,
});

for (const backend of backends()) {
  describe(`LSPS1 orders on the devnet (${backend.name})`, () => {
    let s: Stack;
    beforeAll(async () => {
      // orders up to 100M sat are quoted, more than the LSP's on-chain funds (6 × 5M sat)
      s = await startStack(backend, { ORDER_MAX_LSP_BALANCE_SAT: '100000000' }, `orders-${backend.name}`);
    }, 120_000);
    afterAll(() => s?.stop(), 60_000);

    /** A wallet with a JIT channel from the LSP holding ~996k sat it can spend. */
    const walletWithChannel = async (seedByte: number) => {
      const w = await s.wallet(seedByte);
      const jit = await w.client.receiveJit(w.node, { amountMsat: 1_000_000_000n, description: 'funds' });
      const received = w.node.waitFor('payment-received', (e) => e.paymentHash === jit.paymentHash, 60_000);
      await s.net.router.node.payInvoice(jit.bolt11, { timeoutMs: 60_000 });
      await received;
      expect(w.node.listChannels()).toHaveLength(1);
      return w;
    };

    it('a paid order gets a channel of the ordered size (COMPLETED)', async () => {
      const { node: wallet, client } = await walletWithChannel(0x41);
      const created = await client.trpc.orders.create.mutate(order(1_500_000n));
      expect(created.order_state).toBe('CREATED');
      const bolt11 = created.payment.bolt11!;
      // 1000 base + ceil(1,500,000 × 5000 / 1e6) = 8500 sat
      expect(bolt11).toMatchObject({ state: 'EXPECT_PAYMENT', order_total_sat: '8500' });

      const pending = wallet.waitFor('channel-pending', (e) => e.peerId === s.lsp.nodeId, 60_000);
      const paid = await wallet.payInvoice(bolt11.invoice, { timeoutMs: 60_000 });
      expect(paid.amountMsat).toBe(8_500_000n);
      expect(paid.feeMsat).toBe(0n); // paid to the LSP itself over the first channel
      await pending;
      await waitUntil(
        'order COMPLETED',
        async () =>
          (await client.trpc.orders.get.query({ order_id: created.order_id })).order_state === 'COMPLETED',
        30_000,
      );
      const done = await client.trpc.orders.get.query({ order_id: created.order_id });
      expect(done.payment.bolt11?.state).toBe('PAID');
      expect(done.channel?.funding_outpoint).toMatch(/^[0-9a-f]{64}:\d+$/);

      // the ordered channel: 1.5M sat from the LSP, all on its side, zero-conf so usable at once
      await waitUntil(
        'ordered channel usable',
        () => wallet.listChannels().filter((c) => c.isUsable).length === 2,
        30_000,
      );
      const ordered = wallet.listChannels().find((c) => c.fundingTxo === done.channel?.funding_outpoint);
      expect(ordered).toMatchObject({
        peerId: s.lsp.nodeId,
        isOutbound: false,
        capacityMsat: 1_500_000_000n,
      });
      expect(ordered!.outboundMsat).toBe(0n);
      // the wallet can now receive over it beyond the first channel's room
      const invoice = wallet.createInvoice({ amountMsat: 100_000_000n, description: 'in', expirySecs: 600 });
      await s.net.router.node.payInvoice(invoice.bolt11, { timeoutMs: 60_000 });
      expect(wallet.payment(invoice.paymentHash)?.status).toBe('succeeded');
    }, 180_000);

    it('an unpaid order stays CREATED, then FAILED once its invoice has expired', async () => {
      const { node: wallet, client } = await walletWithChannel(0x42);
      const created = await client.trpc.orders.create.mutate(order(1_000_000n));
      await new Promise((r) => setTimeout(r, 3_000)); // more than one expiry sweep
      const waiting = await client.trpc.orders.get.query({ order_id: created.order_id });
      expect(waiting).toMatchObject({ order_state: 'CREATED', channel: null });
      expect(waiting.payment.bolt11?.state).toBe('EXPECT_PAYMENT');

      s.clockOffsetMs.value = 2 * 3600_000; // past the invoice's expiry (1 h)
      try {
        await waitUntil(
          'unpaid order FAILED',
          async () =>
            (await client.trpc.orders.get.query({ order_id: created.order_id })).order_state === 'FAILED',
          30_000,
        );
      } finally {
        s.clockOffsetMs.value = 0;
      }
      const failed = await client.trpc.orders.get.query({ order_id: created.order_id });
      expect(failed).toMatchObject({ order_state: 'FAILED', channel: null });
      expect(failed.payment.bolt11?.state).toBe('EXPECT_PAYMENT');
      expect(wallet.listChannels()).toHaveLength(1);
    }, 180_000);

    it('a paid order the LSP cannot fund is FAILED, the payment kept on record for a refund', async () => {
      const { node: wallet, client } = await walletWithChannel(0x43);
      const lspOnchainSat = s.lsp.balances().onchainConfirmedMsat / 1000n;
      const ask = 50_000_000n;
      expect(ask).toBeGreaterThan(lspOnchainSat);
      const created = await client.trpc.orders.create.mutate(order(ask));
      const paid = await wallet.payInvoice(created.payment.bolt11!.invoice, { timeoutMs: 60_000 });
      expect(paid.amountMsat).toBe(BigInt(created.payment.bolt11!.order_total_sat) * 1000n);
      await waitUntil(
        'order FAILED',
        async () =>
          (await client.trpc.orders.get.query({ order_id: created.order_id })).order_state === 'FAILED',
        30_000,
      );
      const failed = await client.trpc.orders.get.query({ order_id: created.order_id });
      expect(failed.payment.bolt11?.state).toBe('PAID');
      expect(failed.channel).toBeNull();
      expect(wallet.listChannels()).toHaveLength(1);
      // the order stays FAILED: a reconnect does not retry it
      await s.server.lightning.idle();
      expect((await s.store.getOrder(created.order_id))?.state).toBe('FAILED');
    }, 180_000);
  });
}
