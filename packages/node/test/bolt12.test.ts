// BOLT 12 offers on real LDK nodes: two wallets behind one LSP. Each wallet's offer has a blinded
// path whose introduction node is the LSP, which forwards the invoice request and the invoice as
// onion messages; the payer pays the invoice's blinded path through the LSP. Bad offers are refused
// with typed errors before anything is recorded or sent.
import { waitUntil } from '@lpw/devnet-chain';
import { decodeOffer } from '@lpw/payment-request';
import * as ldk from 'lightningdevkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightningNode } from '../src/node.ts';
import { type TestNet, testNet, zeroConf } from './harness.ts';

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: { code?: string }) => e.code,
  );
const syncCode = (fn: () => unknown) => {
  try {
    fn();
    return 'returned';
  } catch (e) {
    return (e as { code?: string }).code;
  }
};
/** The BOLT 12 spec's first offer vector: valid, for bitcoin (mainnet). */
const MAINNET_OFFER = 'lno1pgx9getnwss8vetrw3hhyuckyypwa3eyt44h6txtxquqh7lz5djge4afgfjn7k4rgrkuag0jsd5xvxg';

describe('BOLT 12: offers between two wallets of one LSP', () => {
  let net: TestNet;
  let lsp: LightningNode;
  let alice: LightningNode;
  let bob: LightningNode;

  beforeAll(async () => {
    net = await testNet('bolt12-offers');
    lsp = (await net.make('lsp', 21, { role: 'lsp' })).node;
    await net.fund(lsp, 1_500_000n);
    await net.fund(lsp, 1_500_000n);
    alice = (await net.make('alice', 22, { role: 'wallet', trustedPeers: [lsp.nodeId] })).node;
    bob = (await net.make('bob', 23, { role: 'wallet', trustedPeers: [lsp.nodeId] })).node;
    await zeroConf(lsp, alice, 300_000_000n);
    await zeroConf(lsp, bob, 300_000_000n);
  }, 90_000);

  afterAll(async () => {
    await bob?.stop();
    await alice?.stop();
    await lsp?.stop();
    await net?.stop();
  });

  it("a wallet's offer: any amount, no expiry, for regtest, entering the network at its LSP", () => {
    const offer = bob.bolt12Payment.offer();
    expect(offer.startsWith('lno1')).toBe(true);
    expect(alice.bolt12Payment.decodeOffer(offer)).toEqual({
      offer,
      description: undefined,
      amountMsat: undefined,
      issuer: undefined,
      expiresAt: undefined,
      introductionNodeIds: [lsp.nodeId],
    });
    expect(decodeOffer(offer).networks).toEqual(['regtest']);
  });

  it("pays a reusable offer twice through the LSP; the payee's history says bolt12", async () => {
    const offer = bob.bolt12Payment.offer();
    const received: bigint[] = [];
    const off = bob.on('payment-received', (e) => received.push(e.amountMsat));
    try {
      for (const amountMsat of [15_000_000n, 7_000_000n]) {
        const id = await alice.bolt12Payment.payOffer(offer, amountMsat);
        expect(alice.payment(id)).toMatchObject({ kind: 'bolt12', status: 'pending', amountMsat });
        const sent = await alice.bolt12Payment.outcome(id, 60_000);
        expect(sent.amountMsat).toBe(amountMsat);
        expect(sent.preimage).toMatch(/^[0-9a-f]{64}$/);
        expect(alice.payment(id)).toMatchObject({ status: 'succeeded', paymentHash: sent.paymentHash });
        await waitUntil('bob got it', () => received.includes(amountMsat), 30_000);
        expect(bob.payment(sent.paymentHash)).toMatchObject({ kind: 'bolt12', direction: 'inbound' });
      }
    } finally {
      off();
    }
  });

  it('the other way: bob pays alice’s offer', async () => {
    const id = await bob.bolt12Payment.payOffer(alice.bolt12Payment.offer(), 9_000_000n);
    expect((await bob.bolt12Payment.outcome(id, 60_000)).amountMsat).toBe(9_000_000n);
  });

  it('bad offers: a typed error, nothing recorded or sent', async () => {
    const before = alice.listPayments().length;
    expect(syncCode(() => alice.bolt12Payment.decodeOffer('lno1qqqq'))).toBe('INVALID_OFFER');
    expect(syncCode(() => alice.bolt12Payment.decodeOffer(MAINNET_OFFER))).toBe('INVALID_OFFER');
    expect(await codeOf(alice.bolt12Payment.payOffer('not an offer', 1_000n))).toBe('INVALID_OFFER');
    expect(await codeOf(alice.bolt12Payment.payOffer(MAINNET_OFFER, 1_000n))).toBe('INVALID_OFFER');
    // an offer without an amount needs one from the payer
    expect(await codeOf(alice.bolt12Payment.payOffer(bob.bolt12Payment.offer()))).toBe('INVALID_INPUT');
    expect(await codeOf(alice.bolt12Payment.payOffer(bob.bolt12Payment.offer(), -5n))).toBe('INVALID_INPUT');
    // more than the channels hold
    expect(await codeOf(alice.bolt12Payment.payOffer(bob.bolt12Payment.offer(), 10n ** 12n))).toBe(
      'INSUFFICIENT_BALANCE',
    );
    // an offer that expired (made by LDK itself, with an expiry in 1970)
    const builder = (
      bob.ldk.channelManager.create_offer_builder(
        ldk.Option_u64Z.constructor_some(1n),
      ) as ldk.Result_OfferWithDerivedMetadataBuilderBolt12SemanticErrorZ_OK
    ).res;
    const expired = (builder.build() as ldk.Result_OfferBolt12SemanticErrorZ_OK).res.to_str();
    expect(syncCode(() => alice.bolt12Payment.decodeOffer(expired))).toBe('OFFER_EXPIRED');
    expect(await codeOf(alice.bolt12Payment.payOffer(expired, 1_000n))).toBe('OFFER_EXPIRED');
    expect(alice.listPayments().length).toBe(before);
  });
});
