// The payment handles on real LDK nodes: a wallet that keeps no graph pays a merchant behind its
// LSP along route hints, with ids and preimages of its choosing; a send returns once the payment's
// record is durable, `outcome(id)` waits for the result, and nothing is paid twice.
import { sha256 } from '@noble/hashes/sha2.js';
import * as ldk from 'lightningdevkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../src/ldk/values.ts';
import type { LightningNode } from '../src/node.ts';
import { pathHints } from '../src/payment/route.ts';
import type { Store } from '../src/persist/store.ts';
import { type TestNet, testNet, zeroConf } from './harness.ts';

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: { code?: string }) => e.code,
  );

describe('payment handles: wallet → LSP → merchant', () => {
  let net: TestNet;
  let lsp: LightningNode;
  let wallet: LightningNode;
  let walletStore: Store;
  let merchant: LightningNode;
  /** The LSP's path to the merchant as routes.find reports it (our channel to the LSP first). */
  let pathToMerchant: Parameters<typeof pathHints>[0];

  beforeAll(async () => {
    net = await testNet('payment-handles');
    lsp = (await net.make('lsp', 11, { role: 'lsp' })).node;
    await net.fund(lsp, 1_500_000n);
    await net.fund(lsp, 1_500_000n);
    const w = await net.make('wallet', 12, { role: 'wallet', trustedPeers: [lsp.nodeId] });
    wallet = w.node;
    walletStore = w.store;
    merchant = (await net.make('merchant', 13, { role: 'wallet', trustedPeers: [lsp.nodeId] })).node;
    await zeroConf(lsp, wallet, 300_000_000n);
    await zeroConf(lsp, merchant);
    const toMerchant = lsp.listChannels().find((c) => c.peerId === merchant.nodeId)!;
    pathToMerchant = [
      // generous: the LSP takes its own forwarding fee and CLTV delta from what we offer
      { nodeId: lsp.nodeId, shortChannelId: 1n, feeMsat: 5_000n, cltvExpiryDelta: 144 },
      {
        nodeId: merchant.nodeId,
        shortChannelId: toMerchant.outboundScidAlias!,
        feeMsat: 0n,
        cltvExpiryDelta: 0,
      },
    ];
  }, 60_000);

  afterAll(async () => {
    await merchant?.stop();
    await wallet?.stop();
    await lsp?.stop();
    await net?.stop();
  });

  it('a path becomes one route hint from the LSP on, with its fee', () => {
    const { payee, hints, feeMsat } = pathHints(pathToMerchant);
    expect(payee).toBe(merchant.nodeId);
    expect(feeMsat).toBe(5_000n);
    expect(hints).toEqual([
      {
        srcNodeId: lsp.nodeId,
        shortChannelId: pathToMerchant[1]!.shortChannelId,
        feeBaseMsat: 5_000,
        feeProportionalMillionths: 0,
        cltvExpiryDelta: 144,
      },
    ]);
  });

  it('keysend: refused without the route (no graph), paid along its hints with our id and preimage', async () => {
    const pay = wallet.spontaneousPayment;
    expect(await codeOf(pay.send(merchant.nodeId, 10_000_000n, { maxFeeMsat: 10_000n }))).toBe(
      'ROUTE_NOT_FOUND',
    );
    expect(wallet.listPayments()).toEqual([]);

    const preimage = new Uint8Array(32).fill(7);
    const paymentId = 'ab'.repeat(32);
    const received = merchant.waitFor('payment-received');
    const id = await pay.send(merchant.nodeId, 10_000_000n, {
      maxFeeMsat: 10_000n,
      routeHints: [pathHints(pathToMerchant).hints],
      paymentId,
      preimage,
    });
    expect(id).toBe(paymentId);
    // durable when send returns: the store already holds the pending record
    expect((await walletStore.load()).has(`payment/${id}`)).toBe(true);
    const sent = await pay.outcome(id, 60_000);
    expect(sent).toMatchObject({ paymentId, amountMsat: 10_000_000n, paymentHash: toHex(sha256(preimage)) });
    expect(sent.preimage).toBe(toHex(preimage));
    expect(sent.feeMsat).toBe(5_000n);
    expect((await received).amountMsat).toBe(10_000_000n);
    // asked again: the record answers; sent again with the same id: refused, nothing leaves
    expect(await pay.outcome(id)).toEqual(sent);
    expect(
      await codeOf(
        pay.send(merchant.nodeId, 10_000_000n, {
          routeHints: [pathHints(pathToMerchant).hints],
          paymentId,
        }),
      ),
    ).toBe('DUPLICATE_PAYMENT');
  });

  it('BOLT 11: the id (the payment hash) once the record is durable, the outcome, no second payment', async () => {
    const invoice = merchant.createInvoice({ amountMsat: 20_000_000n, description: 'tea', expirySecs: 600 });
    const pay = wallet.bolt11Payment;
    const id = await pay.send(invoice.bolt11, {
      maxFeeMsat: 10_000n,
      routeHints: [pathHints(pathToMerchant).hints],
    });
    expect(id).toBe(invoice.paymentHash);
    expect((await walletStore.load()).has(`payment/${id}`)).toBe(true);
    expect(wallet.payment(id)).toMatchObject({
      status: 'pending',
      kind: 'bolt11',
      amountMsat: 20_000_000n,
      description: 'tea',
    });
    const sent = await pay.outcome(id, 60_000);
    expect(sent.amountMsat).toBe(20_000_000n);
    expect(wallet.payment(id)?.status).toBe('succeeded');
    expect(merchant.payment(invoice.paymentHash)?.status).toBe('succeeded');
    expect(await codeOf(pay.send(invoice.bolt11, { maxFeeMsat: 10_000n }))).toBe('DUPLICATE_PAYMENT');
  });

  it('BOLT 11 longer than LDK 0.1 parses: a 600-byte description (over 1,300 characters) is paid', async () => {
    const description = 'tea and a long story '.repeat(30).slice(0, 600);
    const invoice = merchant.createInvoice({ amountMsat: 3_000_000n, description, expirySecs: 600 });
    expect(invoice.bolt11.length).toBeGreaterThan(1_300);
    // LDK's own parser refuses what its encoder wrote: the reason the node reads invoices itself
    expect(ldk.Bolt11Invoice.constructor_from_str(invoice.bolt11).is_ok()).toBeFalsy();
    const id = await wallet.bolt11Payment.send(invoice.bolt11, {
      maxFeeMsat: 10_000n,
      routeHints: [pathHints(pathToMerchant).hints],
    });
    expect(wallet.payment(id)).toMatchObject({ kind: 'bolt11', amountMsat: 3_000_000n, description });
    expect((await wallet.bolt11Payment.outcome(id, 60_000)).amountMsat).toBe(3_000_000n);
    expect(merchant.payment(invoice.paymentHash)?.status).toBe('succeeded');
  });

  it('record: false leaves the record to the caller (events only); outcome() knows nothing of it', async () => {
    const paymentId = 'cd'.repeat(32);
    const sentEvent = wallet.waitFor('payment-sent');
    const id = await wallet.spontaneousPayment.send(merchant.nodeId, 1_000_000n, {
      maxFeeMsat: 10_000n,
      routeHints: [pathHints(pathToMerchant).hints],
      paymentId,
      record: false,
    });
    expect((await sentEvent).paymentId).toBe(id);
    expect(wallet.payment(id)).toBeUndefined();
    expect(await codeOf(wallet.spontaneousPayment.outcome(id))).toBe('INVALID_INPUT');
  });

  it('bad input: a typed error, nothing recorded or sent', async () => {
    const before = wallet.listPayments().length;
    const balance = wallet.balances().lightningOutboundMsat;
    const hints = [pathHints(pathToMerchant).hints];
    const keysend = (options: object) =>
      codeOf(wallet.spontaneousPayment.send(merchant.nodeId, 1_000n, { routeHints: hints, ...options }));
    expect(await keysend({ paymentId: 'ab' })).toBe('INVALID_INPUT');
    expect(await keysend({ preimage: new Uint8Array(31) })).toBe('INVALID_INPUT');
    expect(await keysend({ maxFeeMsat: -1n })).toBe('INVALID_INPUT');
    expect(await keysend({ routeHints: [[{ ...hints[0]![0]!, srcNodeId: '02'.padEnd(66, '1') }]] })).toBe(
      'INVALID_INPUT',
    );
    expect(await keysend({ record: 'yes' })).toBe('INVALID_INPUT');
    expect(await codeOf(wallet.bolt11Payment.send('lnbcrt1garbage'))).toBe('INVALID_INVOICE');
    expect(await codeOf(wallet.bolt11Payment.outcome('00'.repeat(32)))).toBe('INVALID_INPUT');
    expect(() => pathHints([])).toThrow(/ROUTE_NOT_FOUND/);
    expect(wallet.listPayments().length).toBe(before);
    expect(wallet.balances().lightningOutboundMsat).toBe(balance);
  });
});
