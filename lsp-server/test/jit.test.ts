// LSPS2 end to end on the devnet: a payer on the public network (the devnet router or merchant) pays a
// brand-new wallet that has no channel; the LSP intercepts, opens a zero-conf channel and forwards minus the
// opening fee. Refusals, unknown SCIDs, MPP parts and held parts timing out, on both stores.
import { feeParamsToWire, formatScid, openingFeeMsat, openingFeeParamsInput, parseScid } from '@lpw/api';
import { waitUntil } from '@lpw/devnet';
import { createJitInvoice, isNodeError } from '@lpw/node';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_FINAL_CLTV_EXPIRY_DELTA } from '../src/client/index.ts';
import { type Stack, startStack } from './lightning.ts';
import { backends } from './stores.ts';

const appCode = (e: unknown) =>
  e instanceof TRPCClientError ? (e.data as { app?: { code: string } }).app?.code : String(e);

for (const backend of backends()) {
  describe(`JIT channels on the devnet (${backend.name})`, () => {
    let s: Stack;
    beforeAll(async () => {
      s = await startStack(
        backend,
        { JIT_HOLD_TIMEOUT_SEC: '10', ALERT_MONITOR_KB: '1' },
        `jit-${backend.name}`,
      );
    }, 120_000);
    afterAll(() => s?.stop(), 60_000);

    it('a wallet with no channel receives exactly amount − fee through a new zero-conf channel', async () => {
      const { node: wallet, client } = await s.wallet(0x31);
      expect(wallet.listChannels()).toEqual([]);
      const amountMsat = 1_000_000_000n; // 1M sat: the proportional fee (0.4 %) beats the minimum
      const jit = await client.receiveJit(wallet, { amountMsat, description: 'first payment' });
      const params = openingFeeParamsInput.parse(
        (await client.trpc.jit.getInfo.query({})).opening_fee_params_menu[0],
      );
      const expectedFee = openingFeeMsat(amountMsat, params);
      expect(expectedFee).toBe(4_000_000n);
      expect(jit.openingFeeMsat).toBe(expectedFee);

      const received = wallet.waitFor('payment-received', (e) => e.paymentHash === jit.paymentHash, 60_000);
      const sent = await s.net.router.node.payInvoice(jit.bolt11, { timeoutMs: 60_000 });
      const got = await received;
      expect(got.amountMsat).toBe(amountMsat - expectedFee);
      expect(got.skimmedFeeMsat).toBe(expectedFee);
      expect(sent.amountMsat).toBe(amountMsat);

      // the channel: sized by policy (2 × payment), zero-conf, from the LSP
      const [channel] = wallet.listChannels();
      expect(channel).toMatchObject({ peerId: s.lsp.nodeId, isOutbound: false, isUsable: true });
      expect(channel!.capacityMsat).toBe(2n * amountMsat);
      expect(channel!.confirmations ?? 0).toBe(0);

      // the LSP's records: purchase FORWARDED, forward logged with the fee, metrics
      await s.server.lightning.idle();
      await waitUntil(
        'forward',
        async () => (await s.store.listForwards(10)).some((f) => f.feeMsat === expectedFee),
        30_000,
      );
      const purchase = await s.store.getJitPurchase(parseScid(jit.jitChannelScid));
      expect(purchase?.state).toBe('FORWARDED');
      expect(s.metrics.jitChannelsOpened.total()).toBe(1n);
      expect(s.metrics.feesEarnedMsat.get({ kind: 'jit_opening' })).toBe(expectedFee);
      const forward = (await s.store.listForwards(10)).find((f) => f.feeMsat === expectedFee)!;
      expect(forward).toMatchObject({
        nodeId: wallet.nodeId,
        outcome: 'forwarded',
        outboundMsat: amountMsat - expectedFee,
      });
      const text = await (await fetch(`${s.server.url}/metrics`)).text();
      expect(text).toMatch(/lsp_jit_channels_opened_total 1/);
      expect(text).toMatch(/lsp_forward_latency_seconds_count 1/);

      // and the wallet can pay back out over its new channel, through the LSP, to the public network
      const invoice = s.net.merchant.node.createInvoice({
        amountMsat: 10_000_000n,
        description: 'back',
        expirySecs: 600,
      });
      await waitUntil(
        'LSP graph has the public channels',
        () => s.lsp.graphSummary().channels.length >= 3,
        30_000,
      );
      const sentEvents: bigint[] = [];
      const off = wallet.on('payment-sent', (e) => {
        if (e.paymentHash === invoice.paymentHash) sentEvents.push(e.feeMsat ?? 0n);
      });
      // a fee limit one msat below the route's fees: refused before anything is sent
      const route = await client.findRoute(s.net.merchant.nodeId, 10_000_000n, 18);
      // the last hop's fee_msat is the amount itself (LDK's convention): the fees are the others'
      const routeFeeMsat = route.paths[0]!.hops.slice(0, -1).reduce((a, h) => a + BigInt(h.fee_msat), 0n);
      expect(routeFeeMsat).toBeGreaterThan(0n);
      await expect(
        client.payWithRoute(wallet, invoice.bolt11, { maxFeeMsat: routeFeeMsat - 1n }),
      ).rejects.toSatisfy((e) => isNodeError(e) && e.code === 'ROUTE_FEE_TOO_HIGH');
      expect(wallet.payment(invoice.paymentHash)).toBeUndefined();

      const paid = await client.payWithRoute(wallet, invoice.bolt11, { maxFeeMsat: routeFeeMsat });
      off();
      expect(paid.amountMsat).toBe(10_000_000n);
      expect(paid.feeMsat).toBe(routeFeeMsat);
      expect(s.net.merchant.node.payment(invoice.paymentHash)?.status).toBe('succeeded');
      // the payment went through the node's payment path: in its history with its fee, and an event
      const record = wallet.listPayments().find((p) => p.paymentHash === invoice.paymentHash);
      expect(record).toMatchObject({
        direction: 'outbound',
        kind: 'bolt11',
        status: 'succeeded',
        amountMsat: 10_000_000n,
        feeMsat: paid.feeMsat,
        preimage: paid.preimage,
        invoice: invoice.bolt11,
      });
      expect(sentEvents).toEqual([paid.feeMsat]);

      // the operator sees each channel's monitor, which grows with every payment; this suite's
      // ALERT_MONITOR_KB of 1 makes the alert fire and name the largest channel
      const after = await (await fetch(`${s.server.url}/metrics`)).text();
      const monitors = s.lsp.monitorBytes();
      const largest = Math.max(...monitors.values());
      expect(largest).toBeGreaterThan(1024);
      expect(after).toContain(`lsp_channel_monitor_bytes_max ${largest}`);
      expect(after).toContain(
        `lsp_channel_monitor_bytes_total ${[...monitors.values()].reduce((a, b) => a + b)}`,
      );
      expect(after).toContain('lsp_alert{kind="channel_monitor"} 1');
      const largestTxo = [...monitors].find(([, bytes]) => bytes === largest)![0];
      expect(s.lsp.listChannels().map((c) => c.fundingTxo)).toContain(largestTxo);
    }, 120_000);

    it('the merchant, two hops away on the public network, pays a wallet behind the LSP', async () => {
      // the merchant's channel starts all on the router's side: give it something to pay with
      const float = s.net.merchant.node.createInvoice({
        amountMsat: 100_000_000n,
        description: 'float',
        expirySecs: 600,
      });
      await s.net.router.node.payInvoice(float.bolt11, { timeoutMs: 60_000 });

      const { node: wallet, client } = await s.wallet(0x36);
      const amountMsat = 20_000_000n;
      const jit = await client.receiveJit(wallet, { amountMsat, description: 'from the merchant' });
      const received = wallet.waitFor('payment-received', (e) => e.paymentHash === jit.paymentHash, 60_000);
      // merchant → router → LSP (its public channels, known by gossip) → wallet (the invoice's hint)
      const sent = await s.net.merchant.node.payInvoice(jit.bolt11, { timeoutMs: 60_000 });
      expect(sent.amountMsat).toBe(amountMsat);
      expect(sent.feeMsat).toBeGreaterThan(0n); // the router's forwarding fee: it went through the router
      expect((await received).amountMsat).toBe(amountMsat - jit.openingFeeMsat);
    }, 120_000);

    it('a 600-byte description (an invoice LDK 0.1 cannot parse) is paid; a 640-byte one is refused before buy', async () => {
      const { node: wallet, client } = await s.wallet(0x37);
      const tooLong = 'x'.repeat(640);
      await expect(
        client.receiveJit(wallet, { amountMsat: 20_000_000n, description: tooLong }),
      ).rejects.toSatisfy((e) => isNodeError(e, 'INVALID_INPUT'));
      expect(await s.store.listJitPurchases(wallet.nodeId)).toEqual([]); // no channel sold

      const description = 'a long note '.repeat(50);
      const jit = await client.receiveJit(wallet, { amountMsat: 20_000_000n, description });
      expect(jit.bolt11.length).toBeGreaterThan(1_300);
      const received = wallet.waitFor('payment-received', (e) => e.paymentHash === jit.paymentHash, 60_000);
      await s.net.router.node.payInvoice(jit.bolt11, { timeoutMs: 60_000 });
      expect((await received).amountMsat).toBe(20_000_000n - jit.openingFeeMsat);
      expect(await s.store.listJitPurchases(wallet.nodeId)).toHaveLength(1);
    }, 120_000);

    it('refuses a forged promise, an expired offer, too small and too large payments at buy', async () => {
      const { client } = await s.wallet(0x32);
      const menu = (await client.trpc.jit.getInfo.query({})).opening_fee_params_menu[0]!;
      const forged = { ...menu, min_fee_msat: '1' };
      await expect(
        client.trpc.jit.buy.mutate({ opening_fee_params: forged, payment_size_msat: '50000000' }),
      ).rejects.toSatisfy((e) => appCode(e) === 'INVALID_OPENING_FEE_PARAMS');
      await expect(
        client.trpc.jit.buy.mutate({ opening_fee_params: menu, payment_size_msat: '1000' }),
      ).rejects.toSatisfy((e) => appCode(e) === 'PAYMENT_SIZE_TOO_SMALL');
      await expect(
        client.trpc.jit.buy.mutate({ opening_fee_params: menu, payment_size_msat: '99000000000000' }),
      ).rejects.toSatisfy((e) => appCode(e) === 'PAYMENT_SIZE_TOO_LARGE');
      s.clockOffsetMs.value = 2 * 3600_000;
      try {
        await expect(
          client.trpc.jit.buy.mutate({ opening_fee_params: menu, payment_size_msat: '50000000' }),
        ).rejects.toSatisfy((e) => appCode(e) === 'INVALID_OPENING_FEE_PARAMS');
      } finally {
        s.clockOffsetMs.value = 0;
      }
    });

    it('fails back an HTLC that arrives after valid_until, and one to an unknown SCID', async () => {
      const { node: wallet, client } = await s.wallet(0x33);
      const jit = await client.receiveJit(wallet, { amountMsat: 50_000_000n, description: 'late' });
      s.clockOffsetMs.value = 2 * 3600_000; // past valid_until (1 h)
      try {
        await expect(s.net.router.node.payInvoice(jit.bolt11, { timeoutMs: 30_000 })).rejects.toSatisfy(
          isNodeError,
        );
      } finally {
        s.clockOffsetMs.value = 0;
      }
      await s.server.lightning.idle();
      expect((await s.store.getJitPurchase(parseScid(jit.jitChannelScid)))?.state).toBe('EXPIRED');
      expect(s.metrics.jitHtlcsFailed.get({ reason: 'expired' })).toBe(1n);
      expect(wallet.listChannels()).toEqual([]);

      // an invoice over an intercept SCID nobody bought
      const info = await client.info();
      const inbound = wallet.createInboundPayment({
        amountMsat: 50_000_000n,
        expirySecs: 600,
        maxLspFeeMsat: 2_000_000n,
      });
      const bolt11 = createJitInvoice({
        amountMsat: 50_000_000n,
        description: 'unknown scid',
        expirySecs: 600,
        ...inbound,
        minFinalCltvExpiryDelta: MIN_FINAL_CLTV_EXPIRY_DELTA,
        payeeNodeId: wallet.nodeId,
        lspNodeId: info.nodeId,
        interceptScid: s.lsp.newInterceptScid(),
        lspCltvExpiryDelta: 72,
        network: 'regtest',
        sign: (h) => {
          const r = wallet.signInvoice(h);
          return { signature64: r.signature, recovery: r.recoveryId };
        },
      });
      await expect(s.net.router.node.payInvoice(bolt11, { timeoutMs: 30_000 })).rejects.toSatisfy(
        isNodeError,
      );
      await s.server.lightning.idle();
      expect(s.metrics.jitHtlcsFailed.get({ reason: 'unknown_scid' })).toBe(1n);
      expect(wallet.listChannels()).toEqual([]);
    }, 120_000);

    it('MPP: parts over two channels are held until the payment size, then one channel, fee across parts', async () => {
      const { node: wallet, client } = await s.wallet(0x34);
      // 3M sat does not fit one 2.5M sat router → LSP channel: the router must split it
      const amountMsat = 3_000_000_000n;
      const jit = await client.receiveJit(wallet, { amountMsat, description: 'split' });
      const received = wallet.waitFor('payment-received', (e) => e.paymentHash === jit.paymentHash, 60_000);
      await s.net.router.node.payInvoice(jit.bolt11, { timeoutMs: 60_000 });
      const got = await received;
      expect(got.amountMsat).toBe(amountMsat - jit.openingFeeMsat);
      expect(got.skimmedFeeMsat).toBe(jit.openingFeeMsat);
      await s.server.lightning.idle();
      const parts = await s.store.listIntercepts({ scid: parseScid(jit.jitChannelScid) });
      expect(parts.length).toBeGreaterThanOrEqual(2);
      expect(parts.every((p) => p.state === 'forwarded')).toBe(true);
      const skimmed = parts.reduce((a, p) => a + (p.expectedOutboundMsat - p.forwardedMsat!), 0n);
      expect(skimmed).toBe(jit.openingFeeMsat);
      expect(wallet.listChannels()).toHaveLength(1);
    }, 120_000);

    it('held parts that never reach the payment size are failed back at the hold timeout', async () => {
      const { node: wallet, client } = await s.wallet(0x35);
      const info = await client.info();
      const wire = (await client.trpc.jit.getInfo.query({})).opening_fee_params_menu[0]!;
      const params = openingFeeParamsInput.parse(wire);
      // bought for 400k sat, but the invoice asks for 200k: the parts never add up
      const bought = await client.trpc.jit.buy.mutate({
        opening_fee_params: feeParamsToWire(params),
        payment_size_msat: '400000000',
      });
      const inbound = wallet.createInboundPayment({
        amountMsat: 200_000_000n,
        expirySecs: 600,
        maxLspFeeMsat: 2_000_000n,
      });
      const bolt11 = createJitInvoice({
        amountMsat: 200_000_000n,
        description: 'short',
        expirySecs: 600,
        ...inbound,
        minFinalCltvExpiryDelta: MIN_FINAL_CLTV_EXPIRY_DELTA,
        payeeNodeId: wallet.nodeId,
        lspNodeId: info.nodeId,
        interceptScid: parseScid(bought.jit_channel_scid),
        lspCltvExpiryDelta: bought.lsp_cltv_expiry_delta,
        network: 'regtest',
        sign: (h) => {
          const r = wallet.signInvoice(h);
          return { signature64: r.signature, recovery: r.recoveryId };
        },
      });
      const started = Date.now();
      await expect(s.net.router.node.payInvoice(bolt11, { timeoutMs: 60_000 })).rejects.toSatisfy(
        isNodeError,
      );
      const heldMs = Date.now() - started;
      expect(heldMs).toBeGreaterThanOrEqual(9_000); // held for the (test) 10 s timeout, not refused at once
      await s.server.lightning.idle();
      const parts = await s.store.listIntercepts({ scid: parseScid(bought.jit_channel_scid) });
      expect(parts.length).toBeGreaterThanOrEqual(1);
      expect(parts.every((p) => p.state === 'failed')).toBe(true);
      expect((await s.store.getJitPurchase(parseScid(bought.jit_channel_scid)))?.state).toBe('PENDING');
      expect(s.metrics.jitHtlcsFailed.get({ reason: 'hold_timeout' })).toBeGreaterThanOrEqual(1n);
      expect(wallet.listChannels()).toEqual([]);
      expect(formatScid(parseScid(bought.jit_channel_scid))).toBe(bought.jit_channel_scid);
    }, 120_000);

    it('no channel was force-closed', () => {
      const closing = s.lsp.listChannels().filter((c) => !c.isReady && c.confirmations !== undefined);
      expect(closing).toEqual([]);
    });
  });
}
