// The cap on what the LSP has in zero-conf channels not yet confirmed (JIT_MAX_ZEROCONF_EXPOSURE_SAT):
// a wallet could spend a zero-conf channel's funds before its funding confirms, so the LSP risks at
// most this much at once. JIT channels are sized down to fit under it, a payment that does not fit
// is failed back (no_liquidity, no channel opened), and a block that confirms the others frees it.
import { waitUntil } from '@lpw/devnet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './lightning.ts';
import { backends } from './stores.ts';

const CAP_SAT = 1_500_000n;
const PAYMENT_MSAT = 400_000_000n; // 400,000 sat: by policy a channel of twice that

for (const backend of backends()) {
  describe(`the zero-conf exposure cap (${backend.name})`, () => {
    let s: Stack;
    beforeAll(async () => {
      s = await startStack(
        backend,
        { JIT_MAX_ZEROCONF_EXPOSURE_SAT: String(CAP_SAT) },
        `jit-exposure-${backend.name}`,
      );
    }, 120_000);
    afterAll(() => s?.stop(), 60_000);

    /** A new wallet receives PAYMENT_MSAT from the router over a JIT channel; its channels after. */
    async function receive(seedByte: number) {
      const { node: wallet, client } = await s.wallet(seedByte);
      const jit = await client.receiveJit(wallet, { amountMsat: PAYMENT_MSAT, description: 'exposure' });
      const paid = s.net.router.node.payInvoice(jit.bolt11, { timeoutMs: 60_000 });
      return { wallet, client, jit, paid };
    }
    const unconfirmedSat = () =>
      s.lsp
        .listChannels()
        .filter((c) => c.isOutbound && (c.confirmations ?? 0) === 0)
        .reduce((a, c) => a + c.capacityMsat / 1000n, 0n);

    it('sizes channels down to the cap, refuses what does not fit, and a block frees it', async () => {
      const a = await receive(0x61);
      await a.paid;
      expect(a.wallet.listChannels()[0]?.capacityMsat).toBe(2n * PAYMENT_MSAT); // 800,000 sat

      const b = await receive(0x62);
      await b.paid;
      // 700,000 sat left under the cap: less than policy's 800,000, enough for the payment
      expect(b.wallet.listChannels()[0]?.capacityMsat).toBe((CAP_SAT - 800_000n) * 1000n);
      expect(unconfirmedSat()).toBe(CAP_SAT);

      const c = await receive(0x63);
      await expect(c.paid).rejects.toThrow();
      await waitUntil(
        'no_liquidity counted',
        () => s.metrics.jitHtlcsFailed.get({ reason: 'no_liquidity' }) >= 1n,
      );
      expect(c.wallet.listChannels()).toEqual([]);
      expect(unconfirmedSat()).toBe(CAP_SAT);

      await s.mine(1); // the two channels' fundings confirm
      await waitUntil('exposure freed', () => unconfirmedSat() === 0n, 30_000);
      const again = await c.client.receiveJit(c.wallet, { amountMsat: PAYMENT_MSAT, description: 'again' });
      await s.net.router.node.payInvoice(again.bolt11, { timeoutMs: 60_000 });
      expect(c.wallet.listChannels()[0]?.capacityMsat).toBe(2n * PAYMENT_MSAT);
    }, 180_000);
  });
}
